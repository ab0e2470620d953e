"""``audit accuracy --positive``: selection, base rate, TPR and FPR per group and the parity
differences, counted by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.parity import group_parity, parity_lines
from latentplay.errors import UserError
from latentplay.intervals import wilson_interval
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema

# a: 5 positives (4 found), 5 negatives (1 selected); b: 2 positives (1 found), 8 negatives
# (3 selected)
Y = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
P = np.array([1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0], bool)
G = np.repeat([0, 1], 10)


def test_rates_and_differences_by_hand() -> None:
    s = group_parity(Y, P, ["a", "b"], G, np.ones(20, bool), "smile", n_boot=500)
    a, b = s["groups"]
    assert (a["selection"], a["base_rate"], a["tpr"], a["fpr"]) == (0.5, 0.5, 0.8, 0.2)
    assert (b["selection"], b["base_rate"], b["tpr"], b["fpr"]) == (0.4, 0.2, 0.5, 0.375)
    assert (b["positives"], b["negatives"]) == (2, 8)
    low, high = wilson_interval(np.array([3]), 8)[0]
    assert (b["fpr_low"], b["fpr_high"]) == (pytest.approx(low), pytest.approx(high))
    across = s["across"]
    assert across["demographic_parity_difference"] == pytest.approx(0.1)
    assert across["demographic_parity_ratio"] == pytest.approx(0.8)
    assert across["equal_opportunity_difference"] == pytest.approx(0.3)
    assert across["equalized_odds_difference"] == pytest.approx(0.3)     # TPR's 0.3 > FPR's
    for key in ("demographic_parity_difference", "equalized_odds_difference"):
        assert 0 <= across[f"{key}_low"] <= across[f"{key}_high"]
    assert s["overall"]["selection"] == pytest.approx(0.45)


def test_a_group_without_positives_has_no_tpr() -> None:
    y = Y.copy()
    y[10:12] = False
    s = group_parity(y, P, ["a", "b"], G, np.ones(20, bool), "smile", n_boot=200)
    b = s["groups"][1]
    assert b["tpr"] is None and b["positives"] == 0
    # a alone has a TPR: no range to take (not 0, which would read as parity), no interval
    across = s["across"]
    assert across["equal_opportunity_difference"] is None
    assert across["equal_opportunity_difference_low"] is None
    assert "equal opportunity difference -" in " ".join(parity_lines(s, "group"))
    # the equalized odds difference is the FPRs' range alone, and says so
    assert across["equalized_odds_difference"] == pytest.approx(abs(0.2 - 4 / 10))
    assert across["equalized_odds_basis"] == "FPR only"
    assert parity_lines(s, "group")[-1].endswith(
        "(FPR only: under two groups have positives)")


def test_equalized_odds_basis_names_both_rates_when_both_have_a_range() -> None:
    s = group_parity(Y, P, ["a", "b"], G, np.ones(20, bool), "smile", n_boot=50)
    assert s["across"]["equalized_odds_basis"] == "TPR and FPR"
    assert "only" not in parity_lines(s, "group")[-1]
    y = Y.copy()
    y[:5] = False                                        # a: negatives alone; b keeps both
    y[10:20] = True                                      # b: positives alone
    s = group_parity(y, P, ["a", "b"], G, np.ones(20, bool), "smile", n_boot=50)
    assert s["across"]["equalized_odds_basis"] is None
    assert s["across"]["equalized_odds_difference"] is None


def test_one_group_with_rows_has_no_differences() -> None:
    """Group b without rows: a alone is no evidence of parity, so no differences at all; the
    rows over all groups are the kept ones."""
    s = group_parity(Y, P, ["a", "b"], G, G == 0, "smile", n_boot=50)
    assert s["groups"][1]["n"] == 0 and s["across"] is None and s["overall"]["n"] == 10
    lines = parity_lines(s, "group")
    assert "  b: no rows" in lines and not [line for line in lines if line.startswith("  across")]


def test_photos_of_one_person_are_redrawn_together() -> None:
    """Every row twice, each pair one person: the bootstrap draws persons, so the intervals of
    the differences are those of the rows once each (drawing the copies apart would narrow
    them)."""
    once = group_parity(Y, P, ["a", "b"], G, np.ones(20, bool), "smile", n_boot=300)["across"]
    twice = group_parity(Y.repeat(2), P.repeat(2), ["a", "b"], G.repeat(2), np.ones(40, bool), "smile",
                         persons=np.arange(20).repeat(2), n_boot=300)["across"]
    for key in ("demographic_parity_difference", "equalized_odds_difference"):
        assert twice[key] == pytest.approx(once[key])
        assert (twice[f"{key}_low"], twice[f"{key}_high"]) == pytest.approx((once[f"{key}_low"],
                                                                             once[f"{key}_high"]))


def _store(path: Path) -> st.Store:
    predicted = np.where(P, 1, 0)
    predicted[9] = 2                                     # a negative of a without a prediction
    schema = Schema(attributes=[
        Attribute("group", "categorical", names=["a", "b"]),
        Attribute("smile", "categorical", names=["frown", "smile"]),
        Attribute("smile_read", "categorical", names=["frown", "smile", "unknown"])],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 20
    return st.build([{"image": images, "group": G, "smile": Y.astype(int),
                      "smile_read": predicted}], schema, path)


def test_accuracy_with_a_positive_class(tmp_path: Path, cli) -> None:  # noqa: ANN001
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "smile_read", "smile", "group", tmp_path / "a", positive="smile")
    a = s["parity"]["groups"][0]
    assert (a["selection"], a["fpr"]) == (0.5, 0.2)       # no prediction: not selected
    assert (tmp_path / "a" / "parity.csv").exists()
    assert (tmp_path / "a" / "parity.png").stat().st_size > 0
    with pytest.raises(UserError, match="--positive 'grin' is not a class"):
        group_accuracy(store, "smile_read", "smile", "group", tmp_path / "x", positive="grin")
    assert not (tmp_path / "x").exists()
    out = tmp_path / "c"
    r = cli("audit", "accuracy", store.path, "--predicted", "smile_read", "--truth", "smile",
            "--by", "group", "--positive", "smile", "--out", out)
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "b: selection 0.400 [" in text and "equalized odds difference 0.300 [" in text
    html = build_report(out).read_text()
    assert "demographic parity difference" in html and "selection (smile)" in html


def test_report_and_figure_say_when_equalized_odds_is_one_range(tmp_path: Path) -> None:
    y = Y.astype(int)
    y[10:12] = 0                                         # b: no positives
    schema = Schema(attributes=[
        Attribute("group", "categorical", names=["a", "b"]),
        Attribute("smile", "categorical", names=["frown", "smile"]),
        Attribute("smile_read", "categorical", names=["frown", "smile"])],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 20
    store = st.build([{"image": images, "group": G, "smile": y,
                       "smile_read": P.astype(int)}], schema, tmp_path / "s")
    s = group_accuracy(store, "smile_read", "smile", "group", tmp_path / "a", positive="smile")
    assert s["parity"]["across"]["equalized_odds_basis"] == "FPR only"
    html = build_report(tmp_path / "a").read_text()
    assert "(FPR only: under two groups have positives)" in html
    # rates with three decimals, as the printout gives them: a's FPR 1 of 5 (Wilson)
    assert ">0.200<" in html and ">[0.036, 0.624]<" in html


def test_the_parity_interval_is_95_percent_wide() -> None:
    """Two groups of 2,000 rows selected at 0.6 and 0.4: the difference's bootstrap is about
    normal with SD sqrt(2 * 0.24 / 2000), so its 95 % interval is 2 * 1.96 SD wide (a 90 %
    one, 2 * 1.64 SD, is 16 % narrower)."""
    n = 2000
    groups = np.repeat([0, 1], n)
    chosen = np.r_[np.arange(n) < 0.6 * n, np.arange(n) < 0.4 * n]
    s = group_parity(np.ones(2 * n, bool), chosen, ["a", "b"], groups, np.ones(2 * n, bool),
                     "smile", n_boot=4000)
    across = s["across"]
    width = across["demographic_parity_difference_high"] - across["demographic_parity_difference_low"]
    assert width == pytest.approx(2 * 1.959964 * np.sqrt(2 * 0.24 / n), rel=0.05)


def test_groups_at_parity_get_an_interval_from_0() -> None:
    """Four groups of 100 rows, each selected 50 times and with 25 of 50 positives found: no
    gap at all. Every resample's largest gap is above 0, so a percentile interval of the gap
    never held it; each pair's signed difference holds 0, so the gaps' intervals start at 0
    and the ratio's ends at 1."""
    groups = np.repeat(np.arange(4), 100)
    one = np.arange(100)
    y, p = np.tile(one < 50, 4), np.tile((one < 25) | (one >= 75), 4)
    s = group_parity(y, p, list("abcd"), groups, np.ones(400, bool), "smile", n_boot=500)
    across = s["across"]
    for key in ("demographic_parity_difference", "equal_opportunity_difference",
                "equalized_odds_difference"):
        assert across[key] == 0 and across[f"{key}_low"] == 0 < across[f"{key}_high"] < 0.5
    assert across["demographic_parity_ratio"] == 1 == across["demographic_parity_ratio_high"]
    assert 0.5 < across["demographic_parity_ratio_low"] < 1


def test_a_gap_at_rates_of_0_and_1_is_not_certain() -> None:
    """a: 1,000 positives all found; b: 5 positives none found. Every resample gives the TPRs
    1 and 0, so the bootstrap alone made the gap 1.000 to 1.000 (and the selection ratio 0 to
    0); it is as uncertain as the two TPRs' own Wilson intervals say: SD (high - low) /
    (2 x 1.96) each, together in quadrature, times 1.96 below the gap of 1."""
    y = np.ones(1005, bool)
    p = np.r_[np.ones(1000, bool), np.zeros(5, bool)]
    groups = np.repeat([0, 1], [1000, 5])
    across = group_parity(y, p, ["a", "b"], groups, np.ones(1005, bool), "smile",
                          n_boot=200)["across"]
    z = 1.959964
    (a_low, a_high), (b_low, b_high) = wilson_interval(np.array([1000]), 1000)[0], \
        wilson_interval(np.array([0]), 5)[0]
    spread = np.hypot((a_high - a_low) / (2 * z), (b_high - b_low) / (2 * z))
    assert across["equal_opportunity_difference"] == 1
    assert across["equal_opportunity_difference_low"] == pytest.approx(1 - z * spread, rel=1e-5)
    assert across["equal_opportunity_difference_high"] == 1               # no gap above 1
    # b is never selected: the ratio 0 reaches up to b's top over a's bottom
    assert across["demographic_parity_ratio"] == 0 == across["demographic_parity_ratio_low"]
    assert across["demographic_parity_ratio_high"] == pytest.approx(b_high / a_low)


def test_the_gap_of_a_small_group_near_0_holds_the_truth() -> None:
    """A group of 1,000 rows selected at 0.5 and one of 10 at 0.1, 200 times: the 95 %
    interval of the gap holds 0.4 in at least 90 % of them (the bootstrap alone, where the
    small group is often never selected in any resample: about 60 %)."""
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1], [1000, 10])
    held = []
    for seed in range(200):
        p = np.r_[rng.random(1000) < 0.5, rng.random(10) < 0.1]
        across = group_parity(np.ones(1010, bool), p, ["a", "b"], groups, np.ones(1010, bool),
                              "smile", n_boot=200, seed=seed)["across"]
        held.append(across["demographic_parity_difference_low"] <= 0.4
                    <= across["demographic_parity_difference_high"])
    assert np.mean(held) >= 0.9
