"""`latentplay audit verify`'s printout of the differentials across groups names the groups
left out of each (and prints ``-`` for accuracy figures no two groups have)."""

from __future__ import annotations

from latentplay.audit.cli import _print_verification


def test_across_groups_line_names_the_groups_left_out(capsys) -> None:  # noqa: ANN001
    overall = {"group": "all pairs", "no_face_share": None, "accuracy": 0.9, "auc": 0.95,
               "fmr": 0.01, "fnmr": 0.3, "genuine": 63, "impostor": 63}
    summary = {"pairs": {"used": 126, "unconverted": 0, "flagged_dropped": 0},
               "overall": overall, "column": "z", "metric": "cosine", "threshold": 0.5,
               "by": None}
    diff = {"accuracy_mean": 0.8, "accuracy_std": 0.05, "skewed_error_ratio": 1.5,
            "fmr_ratio": None, "fnmr_ratio": 6.0,
            "left_out": {"accuracy": ["t2"], "fmr": [], "fnmr": []}}
    _print_verification({**summary, "differentials": diff})
    assert ("  across groups (t2 left out of the accuracy figures: too few pairs for the "
            "folds): accuracy sd 0.0500, skewed error ratio 1.50, FMR ratio -, FNMR ratio "
            "6.00") in capsys.readouterr().out.splitlines()
    one = {**diff, "accuracy_mean": None, "accuracy_std": None, "skewed_error_ratio": None,
           "left_out": {"accuracy": ["t1", "t2"], "fmr": [], "fnmr": ["t2"]}}
    _print_verification({**summary, "differentials": one})
    assert ("  across groups (t1, t2 left out of the accuracy figures: too few pairs for the "
            "folds; t2 left out of the FNMR ratio: no genuine pairs): accuracy sd -, skewed "
            "error ratio -, FMR ratio -, FNMR ratio 6.00") in capsys.readouterr().out.splitlines()
    _print_verification({**summary, "differentials": {**diff, "left_out": {
        "accuracy": [], "fmr": [], "fnmr": []}}})
    assert "  across groups: accuracy sd 0.0500" in capsys.readouterr().out
    _print_verification({**summary, "differentials": {
        **diff, "fmr_ratio": 1.5, "fmr_ratio_low": 1.0, "fmr_ratio_high": 2.7,
        "fnmr_ratio_low": 3.1, "fnmr_ratio_high": 11.6}})
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        "FMR ratio 1.50 [1.00, 2.70], FNMR ratio 6.00 [3.10, 11.60]")


def test_each_groups_error_rates_are_printed_with_their_intervals(capsys) -> None:  # noqa: ANN001
    """The rates a reader quotes stand with their intervals, as verification.json holds them:
    3 false matches of 300 impostor pairs is 0.0100, Wilson's 95 % interval 0.0034 to 0.0290
    (by hand: centre (0.01 + 1.92 / 300) / (1 + 3.84 / 300), half-width 1.96 sqrt(0.01 x 0.99 /
    300 + 3.84 / 360000) / (1 + 3.84 / 300))."""
    centre = (0.01 + 1.96 ** 2 / 600) / (1 + 1.96 ** 2 / 300)
    half = 1.96 * (0.01 * 0.99 / 300 + 1.96 ** 2 / 360000) ** 0.5 / (1 + 1.96 ** 2 / 300)
    row = {"group": "a", "no_face_share": None, "accuracy": 0.66, "auc": 0.7, "fmr": 0.01,
           "fmr_low": centre - half, "fmr_high": centre + half, "fnmr": 0.8, "fnmr_low": None,
           "fnmr_high": None, "genuine": 300, "impostor": 300}
    summary = {"pairs": {"used": 600, "unconverted": 0, "flagged_dropped": 0}, "overall": row,
               "column": "z", "metric": "cosine", "threshold": 0.5, "by": None,
               "differentials": None, "intervals": "Wilson"}
    _print_verification(summary)
    out = capsys.readouterr().out.splitlines()
    assert "  (FMR and FNMR with 95 % intervals: Wilson)" in out
    assert "  a: accuracy 0.6600, AUC 0.7000, FMR 0.0100 [0.0034, 0.0290], FNMR 0.8000 (300 + 300 "\
           "pairs)" in out
