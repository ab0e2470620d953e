"""Fidelity and coverage of a model's samples, tracked while it trains (``log.fidelity_every``).

Every ``log.fidelity_every`` epochs, and after the last, the engine decodes ``log.fidelity_n``
prior samples (a conditional model: under the conditions of the training rows compared) and
compares them with that many training images in pixel-PCA features fitted once on those images,
so that the numbers of different epochs are comparable: precision, recall, density, coverage
(``k = log.fidelity_k``), Fréchet and kernel distances (:mod:`latentplay.metrics.fidelity`).
Each evaluation is one row of ``fidelity.csv``; ``fidelity.png`` draws them over the epochs.
Mode collapse shows as coverage and recall falling while precision holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay.embed.base import embed_images, fit_embedder, make_embedder
from latentplay.metrics.fidelity import frechet_distance, kernel_distance, prdc
from latentplay.train.csvlog import upsert_row

FIDELITY_FILE = "fidelity.csv"
FIDELITY_FIGURE = "fidelity.png"
SHARES = ("precision", "recall", "density", "coverage")


class FidelityTracker:
    """The training images' features, computed once, and the measures of samples against them.

    Args:
        images: ``(N, S, S, C)`` uint8 training images, as the model sees them.
        k: neighbourhood size of precision, recall, density and coverage.
        seed: seed of the PCA fit and of the kernel distance's subsets.
        dim: PCA components (at most ``N - 1``).
    """

    def __init__(self, images: np.ndarray, k: int = 5, seed: int = 0, dim: int = 64) -> None:
        dim = max(1, min(dim, len(images) - 1))
        options = [f"dim={dim}", f"seed={seed}", f"fit_samples={max(len(images), 2)}"]
        self.embedder = fit_embedder(make_embedder("pixels-pca", options), images)
        self.real, _ = embed_images(self.embedder, images)
        self.k, self.seed = k, seed

    def measure(self, samples: np.ndarray) -> dict[str, float]:
        """Precision, recall, density, coverage, ``frechet_distance``, ``kernel_distance`` and
        ``kernel_distance_std`` of ``(M, S, S, C)`` uint8 ``samples``."""
        fake, _ = embed_images(self.embedder, samples)
        shares = prdc(self.real, fake, k=self.k)
        kid, kid_std = kernel_distance(self.real, fake, seed=self.seed)
        return {**{name: getattr(shares, name) for name in SHARES},
                "frechet_distance": frechet_distance(self.real, fake),
                "kernel_distance": kid, "kernel_distance_std": kid_std}


def record(run_dir: Path, values: dict[str, float], epoch: int, step: int) -> None:
    """Write one evaluation into ``run_dir/fidelity.csv`` (replacing a row of the same step, left
    by an interrupted run) and redraw ``fidelity.png``."""
    path = upsert_row(run_dir / FIDELITY_FILE, {"epoch": epoch, "step": step, **values})
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=float, ndmin=1)
    save_fidelity_curves(table, run_dir / FIDELITY_FIGURE)


def save_fidelity_curves(table: np.ndarray, path: Path) -> None:
    """Two panels over epochs: the four shares, and the Fréchet distance (log scale).

    Args:
        table: structured array with fields ``epoch``, the four shares and
            ``frechet_distance`` (the rows of ``fidelity.csv``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

    from latentplay.viz.grid import save_figure

    table = np.sort(table, order="epoch")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for name in SHARES:
        left.plot(table["epoch"], table[name], marker="o", ms=3, label=name)
    left.axhline(1.0, color="0.7", lw=0.8, ls="--")
    left.set_xlabel("epoch")
    left.set_title("samples vs training images (pixel-PCA features)", fontsize=9)
    left.legend(fontsize=8)
    right.plot(table["epoch"], table["frechet_distance"], marker="o", ms=3, color="C4")
    right.set_yscale("log")
    right.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 2, 5, 10, 20, 50 ...
    right.yaxis.set_major_formatter(ScalarFormatter())
    right.yaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("epoch")
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_title("Fréchet distance", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
