"""``audit accuracy --adjust``: each group's error standardized over strata of measured
covariates, counted by hand."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.standardize import adjusted_lines, standardized_errors
from latentplay.errors import UserError
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema


def _group(easy: int, hard: int) -> tuple[np.ndarray, np.ndarray]:
    """Wrong in 5 % of easy rows and 40 % of hard ones; the blur of each row (easy: 0..1,
    hard: 2..3)."""
    wrong = np.zeros(easy + hard, bool)
    wrong[: easy // 20] = True
    wrong[easy: easy + int(0.4 * hard)] = True
    blur = np.r_[np.linspace(0, 1, easy), np.linspace(2, 3, hard)]
    return wrong, blur


def _store(path: Path, hard_b: int = 80) -> st.Store:
    """Group a: 80 easy rows and 20 hard; group b: 20 easy and ``hard_b`` hard. Ages read off
    by 1 year on easy rows and 5 on hard ones."""
    (wa, ba), (wb, bb) = _group(80, 20), _group(20, hard_b)
    wrong, blur = np.r_[wa, wb], np.r_[ba, bb]
    n = len(wrong)
    group = np.r_[np.zeros(100, int), np.ones(20 + hard_b, int)]
    gender = np.arange(n) % 2
    age = np.full(n, 40.0, np.float32)
    schema = Schema(attributes=[
        Attribute("group", "categorical", names=["a", "b"]),
        Attribute("gender", "categorical", names=["female", "male"]),
        Attribute("predicted_gender", "categorical", names=["female", "male"]),
        Attribute("blur", "continuous"),
        Attribute("age", "continuous"), Attribute("predicted_age", "continuous")],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * n
    return st.build([{"image": images, "group": group, "gender": gender,
                      "predicted_gender": np.where(wrong, 1 - gender, gender),
                      "blur": blur.astype(np.float32), "age": age,
                      "predicted_age": age + np.where(blur > 1.5, 5.0, 1.0).astype(np.float32)}],
                    schema, path)


def test_errors_standardized_by_hand(tmp_path: Path) -> None:
    """Raw error 0.12 (a) vs 0.33 (b); over the two blur strata, each holding half of all
    rows, both are 0.5 x 0.05 + 0.5 x 0.40 = 0.225."""
    s = group_accuracy(_store(tmp_path / "s"), "predicted_gender", "gender", "group",
                       tmp_path / "a", adjust=["blur"], strata=2)
    adjusted = s["adjusted"]
    a, b = adjusted["groups"]
    assert (a["error"], b["error"]) == (pytest.approx(0.12), pytest.approx(0.33))
    assert a["standardized"] == pytest.approx(0.225) and b["standardized"] == pytest.approx(0.225)
    assert a["low"] <= 0.225 <= a["high"] and b["low"] <= 0.225 <= b["high"]
    assert adjusted["error_ratio"] == pytest.approx(0.33 / 0.12)
    assert adjusted["standardized_ratio"] == pytest.approx(1.0)
    assert (adjusted["cells"], adjusted["rows"], adjusted["left_out"]) == (2, 200, 0)
    assert adjusted["measure"] == "error rate"
    lines = (tmp_path / "a" / "adjusted.csv").read_text().splitlines()
    assert lines[0].startswith("group,n,error,standardized,low,high")
    # mean absolute errors: 1 year on easy rows, 5 on hard ones
    v = group_accuracy(_store(tmp_path / "s2"), "predicted_age", "age", "group", tmp_path / "v",
                       adjust=["blur"], strata=2)["adjusted"]
    assert v["measure"] == "mean absolute error"
    assert [g["error"] for g in v["groups"]] == [pytest.approx(1.8), pytest.approx(4.2)]
    assert [g["standardized"] for g in v["groups"]] == [pytest.approx(3.0)] * 2


def test_a_group_missing_a_stratum_is_not_standardized() -> None:
    """Group b's photos are all sharper than any of a's: b has no row in the upper stratum,
    so its error cannot be standardized, and no ratio over the groups is given."""
    values = np.r_[np.arange(10.0), np.full(4, -5.0)][:, None]
    groups = np.r_[np.zeros(10, int), np.ones(4, int)]
    errors = np.r_[np.arange(10) >= 7, [True, False, False, False]]
    s = standardized_errors(errors, groups, ["a", "b"], values, ["blur"], 2, "error rate")
    a, b = s["groups"]
    assert b["standardized"] is None and b["strata_without_rows"] == 1
    assert a["standardized"] is not None and s["standardized_ratio"] is None
    assert (a["error"], b["error"]) == (0.3, 0.25) and s["error_ratio"] == pytest.approx(1.2)
    with pytest.raises(UserError, match="too few to stratify"):
        standardized_errors(errors[:3], groups[:3], ["a", "b"], values[:3], ["blur"], 2,
                            "error rate")


def test_interval_only_where_every_stratum_is_filled() -> None:
    """All of a's upper-stratum rows are one person's, and b has none there: b gets neither a
    standardized error nor an interval, and a's interval counts only draws holding that person
    (whose errors are a's only ones), so its lower bound is above 0."""
    values = np.r_[np.arange(10.0), np.full(4, -5.0)][:, None]
    groups = np.r_[np.zeros(10, int), np.ones(4, int)]
    errors = np.r_[np.arange(10) >= 7, [True, False, False, False]]
    persons = np.where(values[:, 0] >= 3, 0, np.arange(14) + 1)
    s = standardized_errors(errors, groups, ["a", "b"], values, ["blur"], 2, "error rate",
                            persons=persons)
    a, b = s["groups"]
    assert b["standardized"] is None and (b["low"], b["high"]) == (None, None)
    assert a["low"] > 0 and a["low"] <= a["standardized"] <= a["high"]


def test_no_interval_when_no_draw_fills_every_cell() -> None:
    """Group b has one row in each of 27 cells: it is standardized, but hardly any bootstrap
    draw holds all 27 rows, so it has no interval, and the printed lines say so with a dash."""
    rng = np.random.default_rng(0)
    cube = (np.array(list(itertools.product(range(3), repeat=3))) + 0.5) / 3
    values = np.r_[rng.uniform(size=(300, 3)), cube]
    groups = np.r_[np.zeros(300, int), np.ones(27, int)]
    s = standardized_errors(rng.random(327) < 0.3, groups, ["a", "b"], values, ["x", "y", "z"],
                            3, "error rate")
    b = s["groups"][1]
    assert b["standardized"] is not None and (b["low"], b["high"]) == (None, None)
    assert any(line.startswith("  b: ") and "[-, -]" in line for line in adjusted_lines(s))


def test_cells_no_group_fills_are_not_missing_strata() -> None:
    """Two covariates that move together fill only the diagonal of their 2 x 2 cells: the
    empty corners weigh nothing, so no group lacks a stratum, and all are standardized."""
    x = np.linspace(0, 1, 40)
    values = np.c_[x, x + 0.001]
    groups = np.arange(40) % 2
    s = standardized_errors(x > 0.7, groups, ["a", "b"], values, ["c1", "c2"], 2, "error rate")
    assert s["cells"] == 4
    for g in s["groups"]:
        assert g["standardized"] is not None and g["strata_without_rows"] == 0
    assert "strata without its rows" not in " ".join(adjusted_lines(s))
    # a group that lacks a filled cell still counts it (b only in the lower one)
    low = standardized_errors(x > 0.7, (x > 0.5).astype(int), ["a", "b"], values, ["c1", "c2"],
                              2, "error rate")
    assert [g["strata_without_rows"] for g in low["groups"]] == [1, 1]


def test_tied_covariate_keeps_its_values_apart() -> None:
    """A two-valued covariate (0 on 60 % of rows, where errors are 5 %; 1 on the rest, 40 %):
    its median is 0, and both values must still get their own stratum, so a's error (mostly
    0s) and b's (mostly 1s) both standardize to 0.6 x 0.05 + 0.4 x 0.40 = 0.19. Asking for 4
    strata gives 2, and the first line says so."""
    value = np.r_[np.zeros(80), np.ones(20), np.zeros(40), np.ones(60)]
    groups = np.r_[np.zeros(100, int), np.ones(100, int)]
    errors = np.r_[np.arange(80) < 4, np.arange(20) < 8, np.arange(40) < 2, np.arange(60) < 24]
    s = standardized_errors(errors, groups, ["a", "b"], value[:, None], ["frontal"], 4,
                            "error rate")
    assert [g["standardized"] for g in s["groups"]] == [pytest.approx(0.19)] * 2
    assert s["standardized_ratio"] == pytest.approx(1.0)
    assert (s["strata_used"], s["cells"], s["cells_filled"]) == ([2], 4, 2)
    assert adjusted_lines(s)[0].startswith("standardized over 4 quantile strata of frontal "
                                           "(ties leave 2 strata of frontal; 2 of 4 cells filled")


def test_a_standardized_error_on_few_rows_is_flagged(tmp_path: Path) -> None:
    """Group b has 3 rows in the upper blur stratum (from the median, 41, up: a's 59 rows and
    b's 3, 62 of 123): half of its standardized error rests on 3 rows, which adjusted.csv and
    the printed line say; a, with over 40 rows in each stratum, is not flagged."""
    values = np.r_[np.arange(100.0), np.arange(20.0), np.full(3, 99.5)][:, None]
    groups = np.r_[np.zeros(100, int), np.ones(23, int)]
    errors = np.r_[np.arange(100) % 10 == 0, np.arange(20) % 5 == 0, [True, False, False]]
    s = standardized_errors(errors, groups, ["a", "b"], values, ["blur"], 2, "error rate")
    a, b = s["groups"]
    assert a["sparse_weight"] == 0 and b["sparse_weight"] == pytest.approx(62 / 123)
    lines = adjusted_lines(s)
    assert "50% of the weight on strata where it has under 5 rows" in lines[2]
    assert "under 5 rows" not in lines[1]
    # a column of audit accuracy's adjusted.csv
    group_accuracy(_store(tmp_path / "s"), "predicted_gender", "gender", "group", tmp_path / "a",
                   adjust=["blur"], strata=2)
    assert "sparse_weight" in (tmp_path / "a" / "adjusted.csv").read_text().splitlines()[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"adjust": ["mood"]}, "no attribute 'mood'"),
    ({"adjust": ["group"]}, "--adjust group is categorical"),
    ({"adjust": ["blur"], "strata": 1}, "--strata must be in 2..20"),
])
def test_refusals(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        group_accuracy(_store(tmp_path / "s"), "predicted_gender", "gender", "group",
                       tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_cli_and_report(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    store = _store(tmp_path / "s")
    out = tmp_path / "a"
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "group", "--adjust", "blur", "--strata", "2", "--out", out)
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "standardized over 2 quantile strata of blur (2 cells, 200 rows)" in text
    assert "b: error rate 0.330, standardized 0.225 [" in text  # one format for both
    assert "ratio highest / lowest: 2.75 raw, 1.00 standardized" in text
    html = build_report(out).read_text()
    assert "standardized error rate" in html and "Standardized over 2 quantile strata" in html
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "group", "--adjust", "gender", "--out", tmp_path / "b")
    assert r.code == 2 and "categorical" in r.err


def test_strata_used_read_each_covariates_digit_of_the_cell() -> None:
    """Two covariates of 2 strata each, cell ``2 a + b``: cells 0-3 use both strata of each;
    cells 0 and 2 (a = 0, 1 with b = 0) use 2 strata of the first and 1 of the second."""
    from latentplay.audit.standardize import filled_strata

    assert filled_strata(np.array([0, 1, 2, 3]), 2, 2) == {"strata_used": [2, 2], "cells_filled": 4}
    assert filled_strata(np.array([0, 2, 2]), 2, 2) == {"strata_used": [2, 1], "cells_filled": 2}


def test_left_out_counts_only_scored_units_without_a_value() -> None:
    """Eight units: one scored without a value is left out; one without a value that is not
    scored (in no group) is not."""
    from latentplay.audit.standardize import stratified_rates

    errors = np.array([0, 1, 0, 1, 0, 1, 0, 1], bool)
    scored = np.array([True] * 7 + [False])
    values = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [np.nan], [np.nan]])
    groups = np.array([0, 0, 0, 1, 1, 1, 0, -1])
    found = stratified_rates(errors, scored, groups, 2, values, 2, None, 0, "rows")
    assert (found["units"], found["left_out"]) == (6, 1)


def test_rows_in_no_group_are_not_stratified() -> None:
    """Rows of no group (code -1) neither count among the rows nor move the strata: the
    groups' errors are those of the grouped rows alone; a group without rows (c) takes no
    part in the ratios."""
    from latentplay.audit.standardize import standardized_errors

    errors = np.array([0, 1, 0, 1, 0, 1, 1, 1], bool)
    groups = np.array([0, 0, 1, 1, 0, 1, -1, -1])
    values = np.arange(8, dtype=float)[:, None]
    s = standardized_errors(errors, groups, ["a", "b", "c"], values, ["blur"], 2, "error rate")
    alone = standardized_errors(errors[:6], groups[:6], ["a", "b"], values[:6], ["blur"], 2, "error rate")
    assert (s["rows"], s["left_out"]) == (6, 0)
    assert [g["standardized"] for g in s["groups"][:2]] == [g["standardized"] for g in alone["groups"]]
    assert s["standardized_ratio"] == alone["standardized_ratio"] is not None


def test_adjusted_lines_by_hand() -> None:
    """Mean absolute errors in 3 significant digits; a bound no draw filled reads ``-``; a
    weight on sparse strata under 0.5 % is no caution, and none is given beside no
    standardized error; a group without rows says so; the standardized ratio needs every group."""
    from latentplay.audit.standardize import adjusted_lines, complete_ratio

    def group(name: str, error: float | None, standardized: float | None, missing: int,
              sparse: float) -> dict:
        return {"group": name, "n": 5, "error": error, "standardized": standardized, "low": 2.5,
                "high": None, "strata_without_rows": missing, "sparse_weight": sparse}

    a = {"covariates": ["blur"], "strata": 2, "strata_used": [2], "cells": 2, "cells_filled": 2,
         "rows": 200, "left_out": 0, "measure": "mean absolute error",
         "groups": [group("a", 1.8, 3.0, 0, 0.004), group("b", None, None, 0, 0.0),
                    group("c", 12.345, None, 1, 0.3)],
         "error_ratio": 6.858, "standardized_ratio": None}
    assert adjusted_lines(a) == [
        "standardized over 2 quantile strata of blur (2 cells, 200 rows):",
        "  a: mean absolute error 1.8, standardized 3 [2.5, -]",
        "  b: no rows",
        "  c: mean absolute error 12.3, standardized - (1 strata without its rows)",
        "  ratio highest / lowest: 6.86 raw, - standardized"]
    assert complete_ratio([0.1, None, 0.2]) is None and complete_ratio([0.1, 0.2]) == pytest.approx(2)
