"""Fidelity and coverage of a model's samples, tracked while it trains (``log.fidelity_every``).

Every ``log.fidelity_every`` epochs, and after the last, the engine decodes ``log.fidelity_n``
prior samples (a conditional model: under the conditions of the training rows compared) and
compares them with that many training images in pixel-PCA features fitted once on those images
(with the distance from the components' subspace as one more coordinate, so that an early
epoch's noise is far from every face rather than near their mean), so that the numbers of
different epochs are comparable: precision, recall, density, coverage
(``k = log.fidelity_k``), authenticity (samples that copy a training image), Fréchet and
kernel distances (:mod:`latentplay.metrics.fidelity`). Each evaluation is one row of
``fidelity.csv``, with the counts it measured (``n_samples``, ``n_real``) and the share of
``flat`` samples, of a lower pixel contrast than 99 % of the training images compared (blank
or faint images, which the k-nearest-neighbour measures count near the faces' mean and the
distance from the subspace does not catch: :func:`flat_caution`); ``fidelity.png``
draws them over the epochs (the flat share too, where any) and names those counts. When the run holds out test
rows, as many of them are measured once the same way (``fidelity_reference.json``, dashed lines
in the figure): what new faces from the data itself score. Mode collapse shows as coverage and
recall falling while precision holds; memorisation as authenticity falling below the reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from latentplay.embed.base import embed_images, fit_embedder, make_embedder
from latentplay.metrics.fidelity import frechet_distance, kernel_distance, prdc
from latentplay.outputs import read_json, warn, write_atomic
from latentplay.train.csvlog import upsert_row
from latentplay.viz.plain import drawn_as_written

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIDELITY_FILE = "fidelity.csv"
FIDELITY_FIGURE = "fidelity.png"
REFERENCE_FILE = "fidelity_reference.json"
SHARES = ("precision", "recall", "density", "coverage", "authenticity")
MARKERS = ("o", "s", "^", "D", "v")
"""The shares' markers in :func:`fidelity_figure`, in the order of :data:`SHARES`."""
COUNTS = ("n_samples", "n_real")
"""The columns of ``fidelity.csv`` that count the samples and training images measured."""
FEW_POINTS = 200
"""Below this many samples the k-nearest-neighbour measures say little (30 noise samples
against 30 training images scored precision 1 and density 1.8 at every epoch): the figure's
title and the engine's first line say so (:func:`few_points_text`)."""
FLAT_QUANTILE = 0.01
"""An image with a lower pixel contrast (:func:`pixel_contrast`) than this share of the real
images compared is ``flat``."""
CONTRAST_CHUNK = 1024  # images whose pixel contrast is computed at once
FLAT_LABEL = "flat samples"
FLAT_COLOR = "0.35"
"""The legend entry and colour of the share of flat samples in :func:`fidelity_figure`."""
FLAT_CAUTION = 0.10
"""A share of flat samples at or above this gets a caution (:func:`flat_caution`): ten times
what the real images show by construction."""


def pixel_contrast(images: np.ndarray) -> np.ndarray:
    """``(M,)`` standard deviation of each of ``(M, S, S, C)`` uint8 ``images``' pixel values
    (every pixel and channel, 0-255): 0 for a blank image, about 3 for grey with faint noise,
    25 and more for synthfaces. Computed a chunk of images at a time (float32 copies of all
    of them took 1.5 GB, and their deviations as much again, at 30,000 of 64 px)."""
    images = np.asarray(images)
    out = np.empty(len(images))
    for start in range(0, len(images), CONTRAST_CHUNK):
        chunk = images[start:start + CONTRAST_CHUNK]
        flat = chunk.reshape(len(chunk), -1).astype(np.float32)
        out[start:start + CONTRAST_CHUNK] = flat.std(axis=1)
    return out


def flat_threshold(real: np.ndarray) -> float:
    """The pixel contrast below which an image is flat: the :data:`FLAT_QUANTILE` quantile of
    the ``(N, S, S, C)`` uint8 ``real`` images' (:func:`pixel_contrast`)."""
    return float(np.quantile(pixel_contrast(real), FLAT_QUANTILE))


def flat_caution(share: float, store: str, audited: str = "samples") -> str | None:
    """The caution for a share of flat ``audited`` images at or above :data:`FLAT_CAUTION`
    (None below): such images score as if near the data."""
    if not share >= FLAT_CAUTION:
        return None
    return (f"{share:.1%} of the {audited} are flat, of a lower pixel contrast than 99 % of "
            f"{store} (blank or faint images: grey, low noise): precision and density count them "
            "near the data, and the distance from the subspace does not catch them; read them "
            "with that share")


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
        options = [f"dim={dim}", f"seed={seed}", f"fit_samples={max(len(images), 2)}",
                   "residual=true"]  # noise far from the training images, not at their mean
        self.embedder = fit_embedder(make_embedder("pixels-pca", options), images)
        self.real, _ = embed_images(self.embedder, images)
        self.flat_below = flat_threshold(images)
        self.k, self.seed = k, seed

    def measure(self, samples: np.ndarray) -> dict[str, float]:
        """Precision, recall, density, coverage, authenticity, ``frechet_distance``,
        ``kernel_distance`` and ``kernel_distance_std`` of ``(M, S, S, C)`` uint8 ``samples``,
        ``flat`` (the share of them of a lower pixel contrast than 99 % of the training images),
        with the counts they come from: ``n_samples`` (``M``) and ``n_real`` (training images)."""
        fake, _ = embed_images(self.embedder, samples)
        shares = prdc(self.real, fake, k=self.k)
        kid, kid_std = kernel_distance(self.real, fake, seed=self.seed)
        return {**{name: getattr(shares, name) for name in SHARES},
                "frechet_distance": frechet_distance(self.real, fake),
                "kernel_distance": kid, "kernel_distance_std": kid_std,
                "flat": float((pixel_contrast(samples) < self.flat_below).mean()),
                "n_samples": len(samples), "n_real": len(self.real)}


def write_reference(run_dir: Path, values: dict[str, float], n: int, samples: int) -> None:
    """``run_dir/fidelity_reference.json``: the measures of ``n`` held-out images, beside the
    number of ``samples`` (and training images) each evaluation measures."""
    measures = {k: v for k, v in values.items() if k not in COUNTS}  # ``n`` counts them
    write_atomic(run_dir / REFERENCE_FILE, json.dumps({"n": n, "samples": samples, **measures},
                                                      indent=2))


def read_reference(run_dir: Path) -> dict | None:
    """The held-out measures :func:`write_reference` left in ``run_dir``; None before any."""
    path = run_dir / REFERENCE_FILE
    return read_json(path) if path.exists() else None


def fidelity_count(fidelity_n: int, n_train: int, n_held: int, k: int,
                   reference: dict | None) -> int:
    """How many samples (and training images) each evaluation measures: ``fidelity_n``, at
    most the ``n_train`` training rows, and no more than the ``n_held`` held-out rows the
    reference is measured on when there is one (more than ``k``): coverage, recall and the
    Fréchet distance move with the number of points, so the dashed held-out line compares only
    at one count. A run whose ``reference`` (its ``fidelity_reference.json``) predates the
    ``samples`` it records keeps the count it measured at."""
    n = min(fidelity_n, n_train)
    if n_held > k and (reference is None or "samples" in reference):
        n = min(n, n_held)
    return n


def few_points_text(n: float) -> str:
    """The caution for ``n`` samples (and as many training images) below :data:`FEW_POINTS`;
    "" at or above it."""
    if n >= FEW_POINTS:
        return ""
    return (f"too few for the measures to be read closely (k-nearest neighbours among under "
            f"{FEW_POINTS} points: even noise can score a precision of 1)")


def count_note(n: int, fidelity_n: int, n_train: int, reference: dict | None) -> str:
    """The line the engine prints once, before its first evaluation, about the count ``n``
    of :func:`fidelity_count`: that it is below ``log.fidelity_n`` (``fidelity_n``) and the
    ``n_train`` training rows because the held-out reference has only ``n`` rows (a run
    without an earlier ``reference``), and that it is too few (:func:`few_points_text`);
    "" when neither holds."""
    parts = []
    if reference is None and n < min(fidelity_n, n_train):
        parts.append(f"{n} samples against {n} training images, not log.fidelity_n={fidelity_n}: "
                     f"the held-out reference has only {n} rows, and the scores compare only at "
                     "one count")
    few = few_points_text(n)
    if few:
        parts.extend([] if parts else [f"{n} samples against {n} training images"])
        parts.append(few)
    return "fidelity: " + "; ".join(parts) if parts else ""


def record(run_dir: Path, values: dict[str, float], epoch: int, step: int) -> None:
    """Write one evaluation into ``run_dir/fidelity.csv`` (replacing a row of the same step, left
    by an interrupted run) and redraw ``fidelity.png`` (with the reference, when written); a
    ``caution:`` on stderr where many samples are flat (:func:`flat_caution`)."""
    if caution := flat_caution(values.get("flat", 0.0), "the training images"):
        warn(f"caution: fidelity at epoch {epoch}: {caution}")
    path = upsert_row(run_dir / FIDELITY_FILE, {"epoch": epoch, "step": step, **values})
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=float, ndmin=1)
    save_fidelity_curves(table, run_dir / FIDELITY_FIGURE, read_reference(run_dir))


def save_fidelity_curves(table: np.ndarray, path: Path,
                         reference: dict[str, float] | None = None) -> None:
    """Write :func:`fidelity_figure` of ``table`` and ``reference`` to the PNG ``path``."""
    from latentplay.viz.grid import save_figure

    save_figure(fidelity_figure(table, reference), path)


@drawn_as_written
def fidelity_figure(table: np.ndarray, reference: dict[str, float] | None = None) -> Figure:
    """Two panels over epochs: the shares, and the Fréchet distance (on a log scale when its
    values, the reference's included, span a decade or more; ticks in plain numbers); the
    held-out ``reference``'s values as dashed lines of the same colours.

    Where any sample was ``flat``, their share is drawn too (grey, dotted): blank or faint
    samples raise precision and density (:func:`flat_caution`).

    Args:
        table: structured array with fields ``epoch``, the shares and ``frechet_distance``
            (the rows of ``fidelity.csv``; a table written before authenticity, or ``flat``,
            was measured lacks it and is drawn without it).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, ScalarFormatter

    from latentplay.viz.style import integer_ticks, tight_layout, wrap_title

    table = np.sort(table, order="epoch")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.9))
    shares = [n for n in SHARES if n in (table.dtype.names or ())]
    for i, name in enumerate(shares):
        # hollow markers of their own shapes, each line and marker a step thinner and smaller
        # than the one drawn before it: a share equal to another (recall 0 under
        # authenticity 0) shows around it instead of hidden beneath it
        left.plot(table["epoch"], table[name], marker=MARKERS[i % len(MARKERS)],
                  ms=9.0 - 1.3 * i, mfc="none", mew=1.2, lw=3.0 - 0.5 * i, label=name,
                  color=f"C{i}", zorder=2 + 0.1 * i)
        if reference and reference.get(name) is not None:
            left.axhline(reference[name], color=f"C{i}", lw=0.9, ls="--")
    if "flat" in (table.dtype.names or ()) and np.nanmax(table["flat"]) > 0:
        # the share the other shares are to be read with (:func:`flat_caution`)
        left.plot(table["epoch"], table["flat"], marker="x", ms=6, lw=1.2, ls=":", color=FLAT_COLOR,
                  label=FLAT_LABEL, zorder=1.9)
    left.set_xlabel("epoch")
    left.set_title(wrap_title(counts_text(table, reference),
                              3.6, 9),  # a panel's width in inches, the font size
                   fontsize=9)
    # below the panel: inside it the legend hid the lines that end high, where they matter
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    distances = table["frechet_distance"]
    right.plot(table["epoch"], distances, marker="o", ms=3, color="C6")
    if reference and reference.get("frechet_distance"):
        right.axhline(reference["frechet_distance"], color="C6", lw=0.9, ls="--")
        distances = np.append(distances, reference["frechet_distance"])
    distances = distances[np.isfinite(distances)]
    log = len(distances) > 0 and distances.min() > 0 and distances.max() >= 10 * distances.min()
    if log:  # ticks at 1, 2 and 5 times the powers of ten, each written out
        right.set_yscale("log")
        right.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        right.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.12g}"))
        right.yaxis.set_minor_formatter(NullFormatter())
        # out to the ticks around the data, so that the highest and lowest points have a tick
        # beyond them (autoscaling stopped at 45 with 20 the top tick)
        right.set_ylim(_tick_below(distances.min()), _tick_above(distances.max()))
    else:  # within a decade a log scale would leave few ticks, if any
        right.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    right.set_xlabel("epoch")
    for ax in (left, right):
        integer_ticks(ax.xaxis)
    right.set_title("Fréchet distance" + (" (log scale)" if log else ""), fontsize=9)
    samples, _ = _counts(table, reference)
    few = "" if samples is None else few_points_text(float(samples))
    if few:   # over both panels: the Fréchet distance of so few points is no steadier
        fig.suptitle(wrap_title(f"these {_count(samples)} samples are {few}", 8.6, 9), fontsize=9)
    tight_layout(fig)
    return fig


def counts_text(table: np.ndarray, reference: dict | None = None) -> str:
    """What the figure's numbers come from: ``"100 samples vs 100 training images (pixel-PCA
    features); dashed: 100 held-out images"``, the counts from the last row of ``table``
    (``n_samples``, ``n_real``) and ``reference["n"]``; without those columns (a table written
    before they were recorded) the count the reference records for the samples, else none."""
    samples, real = _counts(table, reference)
    text = (f"{_count(samples)} samples vs {_count(real)} training images"
            if samples is not None and real is not None else "samples vs training images")
    text += " (pixel-PCA features)"
    if reference:
        held = reference.get("n")
        text += "; dashed: " + (f"{_count(held)} " if held is not None else "") + "held-out images"
    return text


def _counts(table: np.ndarray, reference: dict | None = None) -> tuple[float | None, float | None]:
    """The samples and training images of the last row of ``table`` (:func:`counts_text`)."""
    names = table.dtype.names or ()
    last = table[np.argmax(table["epoch"])] if len(table) else None
    samples = real = reference.get("samples") if reference else None
    if last is not None and "n_samples" in names and np.isfinite(last["n_samples"]):
        samples, real = last["n_samples"], last["n_real"]
    return samples, real


def _count(value: float) -> str:
    """``value`` as an integer with thousands separators."""
    return f"{int(value):,}"


def _tick_below(value: float) -> float:
    """The largest of 1, 2, 5 times a power of ten at or below ``value`` (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(max(m * power for m in (1, 2, 5) if m * power <= value))


def _tick_above(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten (or 10) at or above ``value`` (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(min(m * power for m in (1, 2, 5, 10) if m * power >= value))
