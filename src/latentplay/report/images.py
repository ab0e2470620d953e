"""Images as ``data:`` URIs, so that a report is one self-contained file.

:func:`file_uri` embeds a PNG or GIF file as it is (:func:`file_figure`: with its caption);
:func:`figure_uri` renders a matplotlib figure to PNG in memory (and closes it).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
from PIL import Image

from latentplay.errors import UserError
from latentplay.report.page import Figure
from latentplay.viz.plain import drawn_as_written

WIDE_PX = 1800  # images wider than this are shown at natural size, scrolling sideways
MAX_GIF_FRAMES = 25  # frames of a GIF embedded in a report
MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif", b"GIF89a": "image/gif"}


_REPORTED: ContextVar[Path | None] = ContextVar("reported", default=None)


@contextmanager
def reporting_on(folder: Path) -> Iterator[None]:
    """Within it, :func:`file_figure` embeds only the files inside ``folder``, links resolved."""
    token = _REPORTED.set(folder.resolve())
    try:
        yield
    finally:
        _REPORTED.reset(token)


def bytes_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,...`` of ``data``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def file_uri(path: Path) -> str:
    """The PNG or GIF file ``path`` as a data URI (its type read from its first bytes)."""
    data = path.read_bytes()
    for magic, mime in MAGIC.items():
        if data.startswith(magic):
            return bytes_uri(data, mime)
    raise UserError(f"{path} is not a PNG or GIF image")


@drawn_as_written
def file_figure(path: Path, caption: str) -> Figure:
    """A :class:`Figure` of the PNG/GIF file ``path``, marked wide when it is a PNG over
    :data:`WIDE_PX` pixels across (an animation is shrunk to the page, to be followed whole).
    A GIF of more than :data:`MAX_GIF_FRAMES` frames (one per epoch of a long run) is embedded
    with that many, evenly spaced from first to last. Within :func:`reporting_on`, a file whose
    links lead outside the folder reported on is refused: a shared run's ``samples.png``, or its
    ``recon`` folder, linking to pictures elsewhere on the disk put them in the report."""
    folder, real = _REPORTED.get(), path.resolve()
    if folder is not None and not real.is_relative_to(folder):
        raise UserError(f"{path} leads outside {folder} (to {real}) through a symbolic link: a "
                        "report embeds the images of the folder it reports on, not files a link names")
    try:
        with Image.open(path) as img:
            wide = img.width > WIDE_PX and path.suffix.lower() != ".gif"
            frames = getattr(img, "n_frames", 1)
    except OSError as exc:  # PIL.UnidentifiedImageError too
        raise UserError(f"{path} is not a readable image: {exc}") from None
    if path.suffix.lower() == ".gif" and frames > MAX_GIF_FRAMES:
        uri, kept = thinned_gif_uri(path, MAX_GIF_FRAMES)
        return Figure(uri, f"{caption} ({kept} of its {frames} frames, evenly spaced.)",
                      wide=wide)
    return Figure(file_uri(path), caption, wide=wide)


def thinned_gif_uri(path: Path, max_frames: int) -> tuple[str, int]:
    """The GIF ``path`` with at most ``max_frames`` of its frames (first and last kept, the rest
    evenly spaced), each shown as long as a frame of the original; returns the data URI and
    the number of frames kept."""
    import imageio.v3 as iio
    import numpy as np

    frames = iio.imread(path, index=None)
    keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
    duration = iio.immeta(path).get("duration", 500)
    data = iio.imwrite("<bytes>", frames[keep][..., :3], extension=".gif",
                       duration=duration, loop=0)
    return bytes_uri(data, "image/gif"), len(keep)


def figure_uri(fig: matplotlib.figure.Figure, dpi: int = 100) -> str:
    """Render ``fig`` as a PNG data URI and close it."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return bytes_uri(buffer.getvalue(), "image/png")
