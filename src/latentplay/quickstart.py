"""``latentplay quickstart``: the main job a new user runs first.

Builds the default dataset (synthfaces), prints its summary, draws labelled grids of it and
its gender x smile bias chart, writes its HTML report, and prints the commands to go further.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.outputs import refuse_inside_store, shell_word
from latentplay.report import build_report
from latentplay.store.bias import association
from latentplay.store.summary import CROSSTAB_BINS
from latentplay.viz.bias import association_bars
from latentplay.viz.grid import save_figure, save_store_grid

GRID_ATTRIBUTES = ("gender", "age_group", "skin_tone", "smile", "eyeglasses", "yaw")


def _refuse_changed(path: Path) -> None:
    """A :class:`UserError` when the store at ``path`` is not one quickstart would remake
    as it is: not made by synthfaces, or with columns added since (``data measure``, ``bin``,
    ``embed`` ...), which remaking it would lose."""
    if not (path / st.SCHEMA_FILE).is_file():
        return                       # no store: made anew (a folder of other files is refused)
    schema = st.load(path).schema
    added = [f"{h.get('column') or ', '.join(h.get('attributes', []))} by {h.get('op')}"
             for h in schema.history if h.get("op") != "subset"]
    if schema.provenance.converter != "synthfaces" or any(
            h.get("op") == "subset" for h in schema.history):
        why = "is not the store quickstart makes"
    elif added:
        why = f"has columns added since quickstart made it ({'; '.join(added)})"
    else:
        return
    raise UserError(f"{path} {why}; remaking it would lose them: give another --out, or "
                    "--overwrite to replace it")


def run(out: str | Path = "runs/quickstart", n: int = 2000, seed: int = 0,
        overwrite: bool = False) -> Path:
    """Make ``out/synthfaces`` (replacing an earlier quickstart store as it made it; one
    with columns added since, or another kind of store, only with ``overwrite``), grids
    ``out/grid_*.png``, the bias chart ``out/bias_gender_smile.png`` and the report
    ``out/synthfaces.report.html``.

    Returns the store's path.
    """
    console = Console()
    out = Path(out)
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    refuse_inside_store(out / "synthfaces")   # before any folder is made
    if not overwrite:
        _refuse_changed(out / "synthfaces")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # the default --out is relative to a folder the user may not own
        raise UserError(f"cannot make {out.absolute()}: {exc.strerror}; choose another "
                        "folder with --out") from None
    path = out / "synthfaces"
    console.print(f"[bold]1/3[/bold] generating {n} synthetic faces into {escape(str(path))} ...")
    store = sources.make("synthfaces", path, n=n, seed=seed, overwrite=True)  # checked above
    from latentplay.store.cli import print_summary

    print_summary(st.info(store, crosstab_of=("gender", "smile")))
    console.print("[bold]2/3[/bold] drawing labelled grids ...")
    grids = []
    for attr in GRID_ATTRIBUTES:
        grid = out / f"grid_{attr}.png"
        save_store_grid(store, grid, by=attr, per_row=10, seed=seed)
        grids.append(grid)
    console.print("[bold]3/3[/bold] bias chart and report ...")
    # as the table printed, and as `data bias STORE --by gender --of smile --bins 4` draws it
    found = association(store, "gender", "smile", bins=CROSSTAB_BINS)
    bias = out / "bias_gender_smile.png"
    save_figure(association_bars(found, "\n".join(found.test_lines)), bias)
    report = build_report(path)
    q = shell_word  # the commands' paths, quoted where a shell would split them
    console.print("\n[green]done[/green]: ", end="")   # then the paths, as written ([red] stays)
    console.print(
        f"store {path} ({len(store)} images; open it with "
        f"datasets.load_from_disk('{path}') or latentplay.store.load)\n"
        f"grids: {', '.join(str(g) for g in grids)}\nbias chart: {bias}\nreport: {report}\n\n"
        f"next: latentplay train cvae --data {q(path)} --out {q(out / 'cvae')} --epochs 100"
        f"{_batch_option(store)} data.size=32 data.crop=0.5\n"
        f"      latentplay latent sweep {q(out / 'cvae')} --attribute smile --out {q(out / 'sweep.png')}\n"
        f"      latentplay app --run {q(out / 'cvae')} --data {q(path)}\n"
        f"      latentplay audit reconstruction {q(out / 'cvae')} --data {q(path)} --by skin_tone "
        f"--out {q(out / 'reconstruction')}\n"
        f"      latentplay data measure {q(path)} --what skin,pose\n"
        f"      latentplay data bias {q(path)} --by skin_tone --of face_found --out {q(out / 'found.png')}\n"
        f"      latentplay audit detection {q(path)} --by skin_tone --out {q(out / 'detection')}",
        soft_wrap=True, markup=False,  # commands stay on one line each, to copy
    )
    if note := path_note():
        console.print(note, soft_wrap=True, markup=False)
    return path


def _batch_option(store: st.Store) -> str:
    """``" --batch-size B"`` when the cvae preset's batch is more than the store's training
    rows (a small ``--n``): B the largest power of two that fits; ``""`` otherwise."""
    from latentplay.train.config import build_config
    from latentplay.train.data import held_out_rows

    config = build_config("cvae", ["data.size=32", "data.crop=0.5"])
    data = config.data
    rows = len(store) - len(held_out_rows(store, len(store), data.test_fraction, data.split_seed,
                                          data.split, data.split_version, warn=False))
    if rows >= config.trainer.batch_size:
        return ""
    return f" --batch-size {1 << (max(rows, 1).bit_length() - 1)}"


def path_note() -> str | None:
    """How to run the printed commands when this environment's ``latentplay`` is not the one a
    new shell finds (``make quickstart`` installs into ``.venv`` without activating it);
    None when it is."""
    here = Path(sys.executable).parent / "latentplay"
    found = shutil.which("latentplay")
    if not here.exists() or (found is not None and Path(found).resolve() == here.resolve()):
        return None
    return (f"(these commands need {here.parent.parent}'s latentplay: run `source "
            f"{here.parent / 'activate'}` first, or write {here})")
