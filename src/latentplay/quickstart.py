"""``latentplay quickstart``: the main job a new user runs first.

Builds the default dataset (synthfaces), prints its summary and draws labelled grids of it.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from latentplay import sources
from latentplay import store as st
from latentplay.viz.grid import save_store_grid

GRID_ATTRIBUTES = ("gender", "age_group", "skin_tone", "smile", "eyeglasses", "yaw")


def run(out: str | Path = "runs/quickstart", n: int = 2000, seed: int = 0) -> Path:
    """Make ``out/synthfaces`` (replacing an earlier quickstart store) and grids ``out/grid_*.png``.

    Returns the store's path.
    """
    console = Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "synthfaces"
    console.print(f"[bold]1/2[/bold] generating {n} synthetic faces into {path} ...")
    store = sources.make("synthfaces", path, n=n, seed=seed, overwrite=True)
    from latentplay.store.cli import print_summary

    print_summary(st.info(store, crosstab_of=("gender", "smile")))
    console.print("[bold]2/2[/bold] drawing labelled grids ...")
    grids = []
    for attr in GRID_ATTRIBUTES:
        grid = out / f"grid_{attr}.png"
        save_store_grid(store, grid, by=attr, per_row=10, seed=seed)
        grids.append(grid)
    console.print(
        f"\n[green]done[/green]: store {path} ({len(store)} images; open it with "
        f"datasets.load_from_disk('{path}') or latentplay.store.load)\n"
        f"grids: {', '.join(str(g) for g in grids)}"
    )
    return path
