"""``audit compare --psi``: the figure of shares against psi (the sweep itself runs on a
trained DCGAN in ``test_audit_cli.py``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.audit.truncation import share_figure, truncation_sweep
from latentplay.errors import UserError


def test_shares_drawn_in_order_of_psi_whatever_the_order_given() -> None:
    """psi given as 0.5, 1, 0.2, 0.8: each line and band runs 1, 0.8, 0.5, 0.2, with the
    shares that belong to each value (unsorted, the lines would zig-zag between them)."""
    psi = [0.5, 1.0, 0.2, 0.8]
    shares = np.array([[0.3, 0.7], [0.25, 0.75], [0.1, 0.9], [0.27, 0.73]])
    entry = {"psi": psi, "classes": ["a", "b"], "generated": shares.tolist(),
             "generated_ci": np.stack([shares - 0.03, shares + 0.03], axis=-1).tolist(),
             "training": [0.25, 0.75]}
    fig = share_figure("tone", entry, 100)
    lines = [line for line in fig.axes[0].lines if line.get_label() in ("a", "b")]
    assert len(lines) == 2
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), [1.0, 0.8, 0.5, 0.2])
        np.testing.assert_allclose(line.get_ydata(), shares[[1, 3, 0, 2], k])
    plt.close(fig)


def test_the_title_names_the_psi_where_the_annotator_is_unsure() -> None:
    """Samples pulled far from the training images can leave what the annotator knows: the
    figure says at which psi its confidence fell (or rose) by CONFIDENCE_DROP or more."""
    shares = np.array([[0.3, 0.7], [0.2, 0.8], [0.1, 0.9]])
    entry = {"psi": [1.0, 0.5, 0.1], "classes": ["a", "b"], "generated": shares.tolist(),
             "generated_ci": np.stack([shares - 0.03, shares + 0.03], axis=-1).tolist(),
             "training": [0.25, 0.75], "confidence": [0.88, 0.75, 0.99],
             "confidence_held_out": 0.86}
    fig = share_figure("tone", entry, 100)
    title = " ".join(t.get_text() for t in fig.findobj(plt.Text)).replace("\n", " ")
    assert "annotator less sure at ψ 0.5 (0.75) than on labelled images (0.86)" in title
    assert "annotator surer at ψ 0.1 (0.99)" in title and "ψ 1 (" not in title
    plt.close(fig)
    entry["confidence"] = [0.88, 0.80, 0.90]
    fig = share_figure("tone", entry, 100)
    assert "sure" not in " ".join(t.get_text() for t in fig.findobj(plt.Text))
    plt.close(fig)


def test_the_console_says_where_the_annotator_is_unsure(monkeypatch, capsys, tmp_path) -> None:  # noqa: ANN001
    """The printout of --psi said the confidence at each psi but not, as a plain audit does,
    that a drop of 0.1 or more makes the shares there uncertain."""
    from types import SimpleNamespace

    from latentplay.audit import cli as audit_cli
    from latentplay.audit import truncation

    entry = {"psi": [1.0, 0.2], "classes": ["a", "b"], "training": [0.5, 0.5],
             "generated": [[0.5, 0.5], [0.2, 0.8]], "tv": [0.0, 0.3],
             "confidence": [0.76, 0.58], "confidence_held_out": 0.76, "faithful_tv": [0.031, 0.029]}
    monkeypatch.setattr(truncation, "truncation_sweep",
                        lambda *a, **k: {"n": 10, "attributes": {"tone": entry}})
    audit_cli._truncation(tmp_path / "run", SimpleNamespace(path=tmp_path / "faces"), [], "1,0.2",
                          tmp_path / "out", 10, 0, None, "cpu", False, [])
    out = capsys.readouterr().out
    assert "annotator less sure at ψ 0.2 (0.58) than on labelled images (0.76)" in out
    assert "tone (faces: a 0.500, b 0.500; 10 samples at each psi)" in out   # what shares rest on
    assert "ψ 1 (" not in out
    # beside each psi's TV, what a generator that follows the data would score
    assert "psi 0.2: a 0.200, b 0.800 (TV 0.300, a faithful generator 0.029, annotator confidence" in out


def test_rings_mark_the_classes_drawn_more_or_less_often_at_each_psi() -> None:
    """The ratios each psi's audit calls off 1 are ringed on the shares figure, where the
    share stands at that psi; the printout's words name the same classes."""
    from latentplay.audit.truncation import off_reference, ratio_basis, ratio_words

    shares = np.array([[0.3, 0.7], [0.6, 0.4], [0.28, 0.72]])
    ratios = {"confidence": 0.95, "classes": 2, "of": ["corrected"] * 3, "pointwise": [0.975] * 3,
              "more": [[], ["a"], []], "less": [[], ["b"], []],
              "ratio": [[1.2, 0.93], [2.4, 0.53], [1.12, 0.96]],
              "interval": [[[0.9, 1.5], [0.8, 1.1]], [[1.9, None], [0.4, 0.7]], [[0.8, 1.4], [0.8, 1.1]]]}
    entry = {"psi": [1.0, 0.2, 0.6], "classes": ["a", "b"], "generated": shares.tolist(),
             "generated_ci": np.stack([shares - 0.03, shares + 0.03], axis=-1).tolist(),
             "training": [0.25, 0.75], "ratios": ratios}
    np.testing.assert_array_equal(off_reference(entry), [[False, False], [True, True], [False, False]])
    assert ratio_words(entry, 0) == ""
    assert ratio_words(entry, 1) == "more often: a x2.40 (1.90-∞); less often: b x0.53 (0.40-0.70)"
    assert ratio_basis(entry) == ("ratios of corrected shares, 95 % intervals for all 2 classes "
                                  "together at each ψ")
    fig = share_figure("tone", entry, 100, "faces")
    ringed = [line for line in fig.axes[0].lines
              if line.get_markerfacecolor() == "none" and len(line.get_xdata())]
    assert sorted((float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ringed) == \
        [(0.2, 0.4), (0.2, 0.6)]
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts()).replace("\n", " ")
    assert "ringed: drawn more or less often than faces (ratios of corrected shares" in legend
    plt.close(fig)
    fig = share_figure("tone", {**entry, "ratios": None}, 100)   # an audit without ratios
    assert not [line for line in fig.axes[0].lines if line.get_markerfacecolor() == "none"]
    plt.close(fig)


def test_classes_take_the_colours_they_have_in_every_other_figure() -> None:
    """Ordered classes run along the ramp of ordered classes, a skin scale in skin colours
    (lightest skin lightest), as in the bias chart and the projections: they took the palette
    of unordered classes (blue, orange, green), whatever their order."""
    from matplotlib.colors import to_rgba

    from latentplay.viz.projection import class_colors
    from latentplay.viz.style import ordered_colors

    shares = np.array([[0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])
    entry = {"psi": [1.0, 0.5], "classes": ["a", "b", "c"], "generated": shares.tolist(),
             "generated_ci": np.stack([shares - 0.03, shares + 0.03], axis=-1).tolist(),
             "training": [0.3, 0.3, 0.4]}
    for name, ordered, expected in (("skin_tone", True, ordered_colors(3, "skin_tone")),
                                    ("age", True, ordered_colors(3)),
                                    ("hair", False, class_colors(3, False))):
        fig = share_figure(name, entry, 100, ordered=ordered)
        lines = [line for line in fig.axes[0].lines if line.get_label() in entry["classes"]]
        np.testing.assert_allclose([to_rgba(line.get_color()) for line in lines], expected)
        plt.close(fig)


def _audit(shares: list[float], corrected: list[float], pinned: list[str]) -> dict:
    """One psi's audit summary of attribute ``sex`` (classes f, m), as :func:`compare` writes it."""
    per_class = [{"class": c, "training": 0.5, "generated": g, "generated_low": g - 0.05,
                  "generated_high": g + 0.05, "corrected": e, "ratio": e / 0.5,
                  "ratio_low": None if c in pinned else e / 0.5 - 0.2, "ratio_high": e / 0.5 + 0.2}
                 for c, g, e in zip("fm", shares, corrected, strict=True)]
    return {"attributes": {"sex": {"classes": ["f", "m"], "per_class": per_class, "tv": 0.1,
                                   "annotator": {"confidence_generated": 0.9,
                                                 "evaluation": {"confidence": 0.9}},
                                   "corrected_tv": 0.1,
                                   "corrected_pinned": pinned,
                                   "ratios": {"confidence": 0.95, "classes": 2, "of": "corrected",
                                              "pointwise": 0.975, "more": ["m"] if pinned else [],
                                              "less": []}}}}


def test_a_psi_where_a_corrected_share_is_unknown_says_so(monkeypatch, capsys, tmp_path) -> None:  # noqa: ANN001
    """At psi 0.5 every sample was read m and f's corrected share was pinned at 0 (the readings
    do not fit the annotator's confusion): neither drawn less often nor left unsaid, but
    unknown, in the words at that psi, the printout and the report, as a plain audit says."""
    from types import SimpleNamespace

    from latentplay.audit import cli as audit_cli
    from latentplay.audit import truncation
    from latentplay.report.auditing import _truncation

    audits = [_audit([0.5, 0.5], [0.5, 0.5], []), _audit([0.0, 1.0], [0.0, 1.0], ["f"])]
    entry = truncation._across("sex", [1.0, 0.5], audits)
    assert entry["pinned"] == [[], ["f"]] and truncation.pinned_classes(entry) == ["f"]
    assert truncation.ratio_words(entry, 0) == ""
    assert truncation.ratio_words(entry, 1).endswith("; unknown: f")
    assert "unknown" not in truncation.ratio_words({**entry, "pinned": None}, 1)  # older summaries
    monkeypatch.setattr(truncation, "truncation_sweep",
                        lambda *a, **k: {"n": 10, "attributes": {"sex": entry}})
    audit_cli._truncation(tmp_path / "run", SimpleNamespace(path=tmp_path / "faces"), [], "1,0.5",
                          tmp_path / "out", 10, 0, None, "cpu", False, [])
    out = capsys.readouterr().out
    assert "  psi 0.5: f 0.000, m 1.000" in out and "; unknown: f\n" in out
    assert "(corrected f: 0 in at least 97.5 % of resamples" in out
    sections = _truncation(tmp_path, {"psi": [1.0, 0.5], "attributes": {"sex": entry}})
    table = sections[1].blocks[0]
    assert table.rows[1][-1].text.endswith("; unknown: f") and table.rows[0][-1].text == "neither"
    assert "unknown: corrected f: 0 in at least 97.5 %" in table.caption


def test_no_class_off_at_any_psi_says_how_far_from_1_the_ratios_may_be(monkeypatch, capsys,  # noqa: ANN001
                                                                      tmp_path) -> None:  # noqa: ANN001
    """Every interval spans 1 at both psi (f and m at x0.80-1.20, then x0.90-1.30 and
    x0.70-1.10): the line says so and names the farthest bounds, 0.70 and 1.30, as not ruled
    out, so that it does not read as "drawn as often"."""
    from types import SimpleNamespace

    from latentplay.audit import cli as audit_cli
    from latentplay.audit import truncation

    audits = [_audit([0.5, 0.5], [0.5, 0.5], []), _audit([0.55, 0.45], [0.55, 0.45], [])]
    entry = truncation._across("sex", [1.0, 0.5], audits)
    monkeypatch.setattr(truncation, "truncation_sweep",
                        lambda *a, **k: {"n": 10, "attributes": {"sex": entry}})
    audit_cli._truncation(tmp_path / "run", SimpleNamespace(path=tmp_path / "faces"), [], "1,0.5",
                          tmp_path / "out", 10, 0, None, "cpu", False, [])
    out = " ".join(capsys.readouterr().out.split())
    assert ("no class drawn more or less often than faces at any psi: every interval spans 1, yet "
            "ratios as low as x0.70 and as high as x1.30 are not ruled out (ratios of corrected "
            "shares, 95 % intervals for all 2 classes together at each ψ)") in out


def test_each_psi_takes_its_own_audits_numbers() -> None:
    """The summary's row at each psi is that psi's audit's: shares, Wilson bands, corrected
    shares, total variations and the annotator's confidence on its samples; corrected shares
    and ratios only where every psi's audit has them."""
    from latentplay.audit.truncation import _across

    def audit(generated: list[float], corrected: list[float] | None, tv: float, corrected_tv: float,
              sure: float, ratios: dict | None = None, faithful: float | None = None) -> dict:
        per_class = [{"training": t, "generated": g, "generated_low": g - 0.1, "generated_high": g + 0.1,
                      **({} if corrected is None else {"corrected": corrected[k]})}
                     for k, (t, g) in enumerate(zip([0.4, 0.6], generated, strict=True))]
        return {"attributes": {"tone": {
            "classes": ["a", "b"], "per_class": per_class, "tv": tv, "corrected_tv": corrected_tv,
            "annotator": {"evaluation": {"confidence": 0.9}, "confidence_generated": sure},
            "ratios": ratios, "faithful": None if faithful is None else {"tv": faithful}}}}

    entry = _across("tone", [1.0, 0.3], [audit([0.5, 0.5], [0.45, 0.55], 0.1, 0.15, 0.88, None, 0.03),
                                         audit([0.8, 0.2], [0.9, 0.1], 0.4, 0.5, 0.7)])
    assert entry["psi"] == [1.0, 0.3] and entry["training"] == [0.4, 0.6]
    assert entry["generated"] == [[0.5, 0.5], [0.8, 0.2]]
    np.testing.assert_allclose(entry["generated_ci"], [[[0.4, 0.6], [0.4, 0.6]], [[0.7, 0.9], [0.1, 0.3]]])
    assert entry["corrected"] == [[0.45, 0.55], [0.9, 0.1]]
    assert entry["tv"] == [0.1, 0.4] and entry["corrected_tv"] == [0.15, 0.5]
    assert entry["faithful_tv"] == [0.03, None]   # what a faithful generator scores, where simulated
    assert entry["confidence"] == [0.88, 0.7] and entry["confidence_held_out"] == 0.9
    ratios = {"confidence": 0.95, "classes": 2, "of": "annotated", "pointwise": 0.975, "more": [],
              "less": []}
    entry = _across("tone", [1.0, 0.3], [audit([0.5, 0.5], [0.45, 0.55], 0.1, 0.15, 0.88, ratios),
                                         audit([0.8, 0.2], None, 0.4, 0.5, 0.7)])
    assert entry["corrected"] is None and entry["ratios"] is None


def test_ratio_basis_names_a_mix_of_corrected_and_annotated_shares() -> None:
    from latentplay.audit.truncation import ratio_basis

    ratios = {"confidence": 0.9, "classes": 3, "of": ["corrected", "annotated"]}
    assert ratio_basis({"ratios": ratios}) == (
        "ratios of corrected shares where the annotator's confusion allowed, annotated ones "
        "elsewhere, 90 % intervals for all 3 classes together at each ψ")
    assert ratio_basis({"ratios": {**ratios, "of": ["annotated"] * 2}}).startswith(
        "ratios of annotated shares, 90 %")


def test_psi_values_and_n_are_checked_before_any_work(tmp_path) -> None:  # noqa: ANN001
    """Two psi alike to 6 digits would share one audit folder; no draws is no audit."""
    for psis, n, message in (([0.5, 0.5], 10, "distinct"), ([0.1234561, 0.1234562], 10, "first 6 digits"),
                             ([1.0, 0.5], 0, "n must be at least 1")):
        with pytest.raises(UserError, match=message):
            truncation_sweep(tmp_path / "run", tmp_path / "data", [], psis, tmp_path / "out", n=n)
    assert not (tmp_path / "out").exists()
