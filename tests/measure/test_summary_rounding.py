"""The measure summary shows a median of 0 as 0, not as the rounding noise -9.55e-15."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.measure.run import summary_lines
from latentplay.store.columns import add_attributes
from latentplay.store.schema import Attribute


def test_rounding_noise_reads_zero(faces_store: Path) -> None:
    faces = st.load(faces_store)
    n = len(faces)
    values = np.linspace(-30, 30, n).astype(np.float32)
    values[n // 2] = -9.55e-15
    values[n // 2 - 1] = -9.55e-15 if n % 2 == 0 else values[n // 2 - 1]
    noisy = add_attributes(faces, {"yaw_test": (Attribute("yaw_test", "continuous"), values)})
    line = summary_lines(noisy, ["yaw_test"])[0]
    assert line.startswith("yaw_test: median 0, 5-95% -27 to 27"), line
    small = add_attributes(faces, {"tiny": (Attribute("tiny", "continuous"),
                                            np.full(n, 3e-12, np.float32))})
    assert summary_lines(small, ["tiny"])[0].startswith("tiny: median 3e-12"), "a small scale stays"
