"""What every command that writes an output directory shares: refusing to mix new outputs
into a non-empty directory, and JSON that accepts NumPy values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError


def refuse_nonempty(out: Path, overwrite: bool) -> None:
    """A :class:`UserError` when ``out`` exists, holds files and ``overwrite`` is not set."""
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise UserError(f"{out} exists and is not empty; pass --overwrite to write into it")


def output_dir(out: str | Path, overwrite: bool) -> Path:
    """Make the output directory ``out`` (new, empty, or anything with ``overwrite``) inside an
    existing parent and return it; a :class:`UserError` otherwise."""
    out = Path(out)
    refuse_nonempty(out, overwrite)
    if not out.parent.exists():
        raise UserError(f"parent directory {out.parent} does not exist")
    out.mkdir(exist_ok=True)
    return out


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: NumPy scalars and arrays, and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def p_text(p: float, digits: int = 2) -> str:
    """A p-value for text: ``"< 1e-300"`` where it underflowed to 0, else ``digits``
    significant figures."""
    return f"{p:.{digits}g}" if p > 0 else "< 1e-300"
