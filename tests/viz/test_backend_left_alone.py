"""Importing latentplay's figure modules leaves the caller's matplotlib backend alone (a
notebook's inline plots kept working only until the first import switched it to Agg), and
figures drawn to arrays do not depend on that backend."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import matplotlib
matplotlib.use("svg")
import numpy as np
import latentplay.report.figures, latentplay.report.images, latentplay.train.figures
from latentplay import viz
from latentplay.viz import grid, latent, projection, distribution, bias, balance
from latentplay.viz.grid import figure_array, image_grid
image = figure_array(image_grid([np.zeros((2, 8, 8, 3), np.uint8)], ["row"]))
print(matplotlib.get_backend(), image.shape[2], image.dtype)
"""


def test_the_backend_chosen_before_import_stays() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["svg", "3", "uint8"], done.stdout
