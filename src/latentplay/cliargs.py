"""Parsing of the small list arguments that several commands share, their help, the check
of a number option's least value and that of a figure's ``--out``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.jsontext import parsed_json

DETECTOR_HELP = ("hog\\[@T] (fast), cnn\\[@T] (dlib's CNN, run by PyTorch: finds more faces; T: a "
                 "score threshold, 0 as dlib's) or scrfd:PATH\\[@SIDE] "
                 "(an SCRFD .onnx network, e.g. InsightFace's det_10g.onnx; SIDE: its input, "
                 "640).")
"""``--detector``'s help, wherever faces are found."""
DETECTOR_DEVICE_HELP = "Where dlib's CNN detector (--detector cnn) runs: cpu, cuda or auto."
UPSAMPLE_HELP = "Detector upsampling: doublings of the image side, 0 to 4 (-1: by image size)."
"""``--upsample``'s help, wherever dlib's detector finds faces."""


MAX_COLUMNS = 200
"""Columns of images one figure shows at most (values, steps or faces drawn per row)."""
COLUMNS_WHY = f"a figure shows at most {MAX_COLUMNS} columns of faces"
"""Why an option is refused above :data:`MAX_COLUMNS` (:func:`at_most`'s ``why``)."""


def at_least(value: float, low: float, option: str) -> None:
    """Refuse an option value below ``low`` with a message naming the option."""
    if value < low:
        raise UserError(f"{option} must be at least {low:g}, got {value:g}")


def at_most(value: float, high: float, option: str, why: str) -> None:
    """Refuse an option value above ``high`` with a message naming the option and ``why``
    (what the limit protects, e.g. "a figure shows at most 200 columns")."""
    if value > high:
        shown = f"{value:g}" if isinstance(value, float) else str(value)  # 100000000, not 1e+08
        raise UserError(f"{option} must be at most {high:g} ({why}), got {shown}")


def split_names(text: str | None) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (None or empty: ``[]``).

    Raises:
        UserError: an empty item (``"a,,b"``, ``"a,"``): a list typed with one item missing
            was read as the shorter list.
    """
    if not (text or "").strip():
        return []
    items = [p.strip() for p in text.split(",")]   # type: ignore[union-attr]
    if "" in items:
        raise UserError(f"{text!r} has an empty item (two commas together, or one at an end); "
                        "give the items separated by single commas")
    return items


def parse_condition(text: str | None) -> dict[str, Any]:
    """``"smile=0.5,gender=female"`` -> ``{"smile": 0.5, "gender": "female"}``: numbers become
    floats, anything else stays a (class name) string; None or empty gives ``{}``. A piece
    without ``=`` belongs to the class before it (``age=[0, 30)``: ``data bin``'s classes
    hold a comma)."""
    out: dict[str, Any] = {}
    if not split_names(text):   # which refuses an empty item
        return out
    items: list[str] = []
    for piece in str(text).split(","):
        if "=" in piece or not items:
            items.append(piece)
        else:
            items[-1] += "," + piece
    for item in (i.strip() for i in items):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"condition {item!r} is not of the form attribute=value")
        if key.strip() in out:   # the last one silently won
            raise UserError(f"condition {key.strip()!r} is given twice; give each attribute once")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out


COMMAND_LINE: list[str] | None = None
"""The arguments of the ``latentplay`` command running now (set by :func:`latentplay.cli.main`
while it runs), which :func:`latentplay.outputs.made_by` records; None where latentplay is
called from Python."""

STORE_FILE = "latentplay.json"
"""The file that makes a directory a store (``latentplay.store.SCHEMA_FILE``, named here so
that the check below needs no import of the store's libraries)."""
RUN_SIGNATURES: tuple[tuple[str, ...], ...] = (
    ("config.yaml", "metrics.csv"), ("config.yaml", "model.json"), ("config.yaml", "checkpoint.pt"),
    ("model.json", "model.safetensors"), ("checkpoint.pt",))
"""Sets of files that make a directory a run, each set only latentplay's runs hold together:
a training run's resolved ``config.yaml`` beside its ``metrics.csv`` (once it logs a row),
its ``model.json`` or its ``checkpoint.pt``; a model's ``model.json`` + ``model.safetensors``
(a trained run or an imported generator); a resumable ``checkpoint.pt``. A ``config.yaml``
alone (Hydra's and many tools' at a project's root) or a ``model.json`` alone is not a run."""
DIRECTION_KEY = "latentplay_direction"
"""The key every direction file holds (``latentplay.latent.directions``'s format marker, named
here so that the check below needs no import of numpy)."""


RECORDS = frozenset({
    "summary.json", "groups.json", "fidelity.json", "verification.json",
    "verification_comparison.json", "accuracy.json", "counterfactual.json", "profile.json",
    "truncation.json", "detection.json", "versus.json", "probe.json", "metrics.json",
    "export.json", "model.json"})
"""The JSON files audit, match, probe, concept-model and export folders are read back by
(``latentplay report`` and the commands that compare them): a figure's JSON of that name
would replace one (``--out AUDIT/fidelity.png`` wrote over the audit's fidelity.json)."""


def is_run(folder: Path) -> bool:
    """Whether ``folder`` holds one of the :data:`RUN_SIGNATURES` sets of files."""
    return any(all((folder / name).is_file() for name in names) for names in RUN_SIGNATURES)


def refuse_inside(out: Path, writes: str) -> None:
    """A :class:`UserError` when ``out``'s folder is a store (it holds ``latentplay.json``:
    the file would go with the store's next write) or a run (one of the
    :data:`RUN_SIGNATURES` sets of files), ``writes`` saying what would be written there."""
    folder = out.parent
    owner = ("store" if (folder / STORE_FILE).exists()
             else "run" if is_run(folder) else None)
    if owner is not None:
        raise UserError(f"--out {out} is inside {owner} {folder}, beside its own files (it would "
                        f"write {writes} there); write it elsewhere")


def _holds_direction(path: Path) -> bool:
    """Whether the file ``path`` is a JSON object with the :data:`DIRECTION_KEY` marker (a
    latent direction); False for anything unreadable or not such an object."""
    try:
        data = parsed_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and DIRECTION_KEY in data


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
"""What a figure's ``--out`` may be: a PNG, or vector PDF or SVG for a paper."""


def check_file_kind(out: Path, kinds: Sequence[str] = FIGURE_SUFFIXES) -> None:
    """A :class:`UserError` when ``out`` is an existing directory or is not named one of
    ``kinds`` (a figure's suffixes unless told otherwise)."""
    named = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; name a {named} file to write")
    if out.suffix.lower() not in kinds:
        raise UserError(f"--out must name a {named} file, got {out.name}")


def figure_out(out: Path, kind: str = ".png", beside: str = ".json") -> None:
    """Refuse, before any work, the ``--out`` of a command that writes a file ``out`` and
    another of the same name beside it (a figure's PNG and its JSON of numbers; for ``latent
    direction`` the JSON and its PNG), when either could replace a file that is not an earlier
    output of such a command:

    - ``out`` is an existing directory, or is not named ``kind`` (``.png``: any of
      :data:`FIGURE_SUFFIXES`);
    - ``out``'s folder is a store (it holds ``latentplay.json``) or a run (one of the
      :data:`RUN_SIGNATURES` sets of files): the two files would be written among their own
      (``--out RUN/model.png`` replaced the run's ``model.json``) (:func:`refuse_inside`);
    - the JSON beside it would replace one of the :data:`RECORDS` of an audit, match or probe
      folder;
    - a figure's JSON beside it (``OUT.json``) is a latent direction (it holds the
      ``latentplay_direction`` key), even beside a PNG of the same name: ``latent direction
      --out smile.json`` draws ``smile.png`` beside it, and ``latent edit --direction smile.json
      --out smile.png`` replaced the direction with the edit's numbers;
    - the file beside (``OUT.json``) exists without ``out``: it is not the other half of an
      earlier pair. An earlier pair (``OUT.png`` and ``OUT.json``) is replaced, as before (also
      by ``OUT.pdf``: the same figure in another format).

    Raises:
        UserError: in each of these cases, one line naming the path.
    """
    kinds = FIGURE_SUFFIXES if kind == ".png" else (kind,)
    check_file_kind(out, kinds)
    other = out.with_suffix(beside)
    refuse_inside(out, f"{out.name} and {other.name}")
    if other.is_dir():
        raise UserError(f"--out {out} would write {other}, which is a directory; choose another name")
    if beside == ".json" and other.is_file() and _holds_direction(other):
        raise UserError(f"--out {out} would replace {other} beside it, a latent direction (an input "
                        "of latent edit); name the figure otherwise")
    if beside == ".json" and other.name in RECORDS and other.exists():
        raise UserError(f"--out {out} would replace {other} beside it, the record another command "
                        "wrote in that folder (latentplay report reads it); name the figure otherwise")
    if (other.exists() or other.is_symlink()) and not any(out.with_suffix(k).exists() for k in kinds):
        raise UserError(f"--out {out} would replace {other}, which is not an earlier output of "
                        f"this kind (there is no {out.name} beside it); choose another name")
