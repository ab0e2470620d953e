"""Figures are read where they are put: scaled to a two-column paper's full width (or a slide),
every text of the figures a few commands draw is 6 points or more."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size


def test_figures_of_grids_traversals_and_histograms_are_readable_on_a_page(
        cli, faces_store: Path, vae_run: Path, tmp_path: Path,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    saved: dict[str, float] = {}
    real = Figure.savefig

    def measured(self: Figure, fname: object, *args: object, **kwargs: object) -> None:
        name = Path(str(fname)).name  # figures are written whole: .NAME.tmp-... then renamed
        saved[name[1:].split(".tmp-")[0] if name.startswith(".") else name] = printed_size(self, PAGE_WIDTH)
        real(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", measured)
    for args in (("data", "grid", faces_store, "--by", "smile", "--out", tmp_path / "grid.png"),
                 ("data", "grid", faces_store, "--by", "skin_tone", "--out", tmp_path / "tones.png"),
                 ("latent", "traverse", vae_run, "--out", tmp_path / "traverse.png"),
                 ("latent", "histograms", vae_run, "--out", tmp_path / "histograms.png")):
        r = cli(*args)
        assert r.code == 0, r.err
    assert {"grid.png", "tones.png", "traverse.png", "histograms.png"} <= set(saved)
    small = {name: round(size, 1) for name, size in saved.items() if size < SMALLEST_TEXT - 1e-9}
    assert not small, f"smallest text in points on a {PAGE_WIDTH}-inch page: {small}"
