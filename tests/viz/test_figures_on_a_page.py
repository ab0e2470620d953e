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


def test_the_spectrum_of_a_pretrained_model_s_report_is_readable_on_a_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The two panels of W's variance by principal axis were 8.5 inches wide: their 7 pt ticks
    printed at 5.7 pt on a page. Every text is now 6 points or more there."""
    import numpy as np

    from latentplay.report import figures

    drawn: list[Figure] = []
    monkeypatch.setattr(figures, "figure_uri", lambda fig: drawn.append(fig) or "data:,")
    figures.spectrum(np.array([5.0, 3.0, 1.0, 0.5, 0.1]), "W's variance by principal axis")
    assert printed_size(drawn[0], PAGE_WIDTH) >= SMALLEST_TEXT


def test_log_axes_within_a_decade_label_their_minor_ticks_in_numbers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The spectrum's cumulative panel runs over principal axes 1 to 6 on a log axis: its
    labels were raw mathtext (``$\\mathdefault{2\\times10^{0}}$``); within a decade the minor
    ticks are labelled too, as plain numbers (2, 3, 4, 6: those matplotlib labels)."""
    import numpy as np

    from latentplay.report import figures

    drawn: list[Figure] = []
    monkeypatch.setattr(figures, "figure_uri", lambda fig: drawn.append(fig) or "data:,")
    figures.spectrum(np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1]), "spectrum")
    axis = drawn[0].axes[1].xaxis
    drawn[0].canvas.draw()
    labels = [t.get_text() for t in axis.get_ticklabels() + axis.get_ticklabels(minor=True)
              if t.get_text()]
    assert {"1", "2", "3", "4", "6"} <= set(labels)
    assert all(float(t) > 0 for t in labels)
