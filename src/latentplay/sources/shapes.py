"""``shapes``: a dSprites-compatible generator of 64x64 binary sprites with known factors.

Factors, sizes and ordering are dSprites' (Matthey et al. 2017): shape (square, ellipse, heart),
scale (6 values in [0.5, 1]), orientation (40 values in [0, 2pi]), pos_x and pos_y (32 values in
[0, 1] each). Image ``i`` of the full grid (737,280 images) has the factors whose mixed-radix
number, with pos_y fastest, is ``i`` -- the row order of ``dsprites_ndarray_*.npz``.
Sprites are drawn from implicit curves, so the pixels are not dSprites' own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import advancing, progress_bar
from latentplay.rngs import integers
from latentplay.store.images import encode_png
from latentplay.store.io import Store, build
from latentplay.store.schema import Attribute, Provenance, Schema

SIZE = 64
FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
FACTOR_VALUES: dict[str, np.ndarray] = {
    "shape": np.array([1.0, 2.0, 3.0]),
    "scale": np.linspace(0.5, 1.0, 6),
    "orientation": np.linspace(0.0, 2 * np.pi, 40),
    "pos_x": np.linspace(0.0, 1.0, 32),
    "pos_y": np.linspace(0.0, 1.0, 32),
}
NUM_IMAGES = int(np.prod(FACTOR_SIZES))

_HALF = 9.0  # half-size in pixels of a sprite at scale 1
_MARGIN = 12.0  # pixel coordinate of position 0; position 1 is SIZE - _MARGIN


DEFAULT_N = 10000
"""Images of ``data make shapes`` without ``--n`` or ``--full``."""


@dataclass
class ShapesConfig:
    """Options of ``latentplay data make shapes``.

    ``n`` random factor combinations (uniform, independent; :data:`DEFAULT_N` when not given),
    or the whole grid when ``full`` (then ``n`` is not given: it would be ignored).
    """

    n: int | None = None
    seed: int = 0
    full: bool = False

    def validate(self) -> None:
        if self.full and self.n is not None:
            raise UserError(f"--full makes the whole {NUM_IMAGES:,}-image grid: drop --n {self.n} "
                            "(n= in Python), or drop --full for that many random images")
        if self.n is not None and self.n < 1:
            raise UserError(f"n (--n) must be at least 1, got {self.n}")

    @property
    def count(self) -> int:
        """The number of images made."""
        return NUM_IMAGES if self.full else DEFAULT_N if self.n is None else self.n


def attributes() -> list[Attribute]:
    """Schema attributes: one factor per dSprites latent, with its continuous level values
    (shape's name its levels, which have no order)."""
    desc = {
        "shape": "1=square, 2=ellipse, 3=heart",
        "scale": "relative sprite size",
        "orientation": "rotation in radians",
        "pos_x": "horizontal position, 0 = left",
        "pos_y": "vertical position, 0 = top",
    }
    return [Attribute(n, "factor", values=FACTOR_VALUES[n].tolist(), description=desc[n],
                      names=list(SHAPE_NAMES) if n == "shape" else None, nominal=n == "shape")
            for n in FACTOR_NAMES]


def factors_of_indices(indices: np.ndarray) -> np.ndarray:
    """Invert :func:`~latentplay.store.groundtruth.mixed_radix_index`: ``(N,)`` grid rows ->
    ``(N, 5)`` factor levels."""
    rest = np.asarray(indices, dtype=np.int64)
    out = np.empty((rest.size, len(FACTOR_SIZES)), dtype=np.int64)
    for k in range(len(FACTOR_SIZES) - 1, -1, -1):
        out[:, k] = rest % FACTOR_SIZES[k]
        rest = rest // FACTOR_SIZES[k]
    return out


def render(factors: np.ndarray) -> np.ndarray:
    """Draw sprites.

    Each sprite is evaluated only in a 32x32 window around its centre (float32), then pasted
    into the 64x64 canvas, which keeps the full grid fast to draw.

    Args:
        factors: ``(N, 5)`` int levels (shape, scale, orientation, pos_x, pos_y).

    Returns:
        ``(N, 64, 64)`` uint8 images with values 0 or 1.
    """
    f = np.asarray(factors, dtype=np.int64).reshape(-1, len(FACTOR_SIZES))
    n = len(f)
    win = 32
    span = SIZE - 2 * _MARGIN
    cx = (_MARGIN + span * FACTOR_VALUES["pos_x"][f[:, 3]]).astype(np.float32)
    cy = (_MARGIN + span * FACTOR_VALUES["pos_y"][f[:, 4]]).astype(np.float32)
    x0 = np.floor(cx).astype(np.int64) - win // 2  # window's first pixel column
    y0 = np.floor(cy).astype(np.int64) - win // 2
    local = np.arange(win, dtype=np.float32) + 0.5
    dx = (x0[:, None] - cx[:, None] + local[None, :])[:, None, :]  # (N, 1, win)
    dy = (y0[:, None] - cy[:, None] + local[None, :])[:, :, None]  # (N, win, 1)
    theta = FACTOR_VALUES["orientation"][f[:, 2]].astype(np.float32)[:, None, None]
    radius = (_HALF * FACTOR_VALUES["scale"][f[:, 1]]).astype(np.float32)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    u = (cos * dx + sin * dy) / radius  # sprite frame, in units of the half-size
    v = (sin * dx - cos * dy) / radius  # y pointing up
    window = np.zeros((n, win, win), dtype=bool)
    for shape, inside in enumerate((_square, _ellipse, _heart)):
        sel = f[:, 0] == shape
        if sel.any():
            window[sel] = inside(u[sel], v[sel])
    canvas = np.zeros((n, SIZE + 2 * win, SIZE + 2 * win), dtype=np.uint8)
    rows = (y0 + win)[:, None, None] + np.arange(win)[None, :, None]
    cols = (x0 + win)[:, None, None] + np.arange(win)[None, None, :]
    canvas[np.arange(n)[:, None, None], rows, cols] = window
    return canvas[:, win : win + SIZE, win : win + SIZE]


def _square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)


def _ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (u / 0.55) ** 2 + v**2 <= 1.0


def _heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    hu, hv = u * 1.15, v * 1.15 + 0.15
    return (hu**2 + hv**2 - 1.0) ** 3 - hu**2 * hv**3 <= 0.0


class ShapesGroundTruth:
    """Render-on-demand ground truth (disentanglement_lib's interface) for metrics."""

    num_factors = len(FACTOR_SIZES)
    factors_num_values = list(FACTOR_SIZES)

    def sample_factors(self, num: int, random_state: np.random.Generator | np.random.RandomState
                       ) -> np.ndarray:
        """``(num, 5)`` independent uniform factor levels."""
        return np.stack([integers(random_state, s, num) for s in FACTOR_SIZES], axis=1)

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.Generator
    ) -> np.ndarray:
        """``(num, 64, 64, 1)`` float32 images in {0, 1}."""
        return render(factors)[..., None].astype(np.float32)


def generate(config: ShapesConfig, chunk: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(factors (B, 5) int64, images (B, 64, 64) uint8 in {0, 255})`` chunks.

    With ``config.full`` the chunks walk the grid in dSprites order; otherwise
    ``config.count`` uniformly sampled combinations, deterministic for ``config.seed``.
    """
    total = config.count
    sampled = np.random.default_rng(config.seed).integers(0, NUM_IMAGES, size=total)
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        idx = np.arange(start, stop) if config.full else sampled[start:stop]
        factors = factors_of_indices(idx)
        yield factors, render(factors) * np.uint8(255)


CONFIG = ShapesConfig


def make_store(config: ShapesConfig, path: str | os.PathLike[str], overwrite: bool = False) -> Store:
    """Write the shapes dataset of ``config`` to a store at ``path``."""
    from latentplay.config import to_dict

    schema = Schema(
        attributes=attributes(),
        provenance=Provenance(
            source="generated",
            converter="shapes",
            arguments=to_dict(config),
            counts={"rows": config.count},
        ),
    )

    def batches() -> Iterator[dict[str, object]]:
        for factors, images in generate(config):
            batch: dict[str, object] = {"image": [encode_png(im) for im in images]}
            for k, name in enumerate(FACTOR_NAMES):
                batch[f"factor_{name}"] = factors[:, k]
                batch[name] = FACTOR_VALUES[name][factors[:, k]].astype(np.float32)
            yield batch

    with progress_bar() as bar:
        task = bar.add_task("generating shapes", total=config.count)
        return build(advancing(batches(), bar, task), schema, path, overwrite=overwrite)
