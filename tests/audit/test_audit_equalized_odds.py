"""``audit accuracy --positive``: the equalized odds difference weighs the FPRs as well as the
TPRs (Hardt, Price & Srebro 2016), on a table where the two gaps differ and come from
different pairs of groups, counted by hand."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from latentplay.audit.parity import group_parity, parity_lines
from latentplay.intervals import wilson_interval

# (positives, found, negatives, selected) per group
COUNTS = {"a": (4, 3, 6, 0), "b": (4, 2, 6, 3), "c": (5, 2, 5, 1)}
# by hand: TPR a .75, b .5, c .4 (range .35, a-c); FPR a 0, b .5, c .2 (range .5, a-b);
# selection a .3, b .5, c .3
TPR = {"a": 0.75, "b": 0.5, "c": 0.4}
FPR = {"a": 0.0, "b": 0.5, "c": 0.2}


def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N,)`` truth, prediction and group code of the rows that ``COUNTS`` describes."""
    y, p, g = [], [], []
    for code, (pos, found, neg, selected) in enumerate(COUNTS.values()):
        y += [True] * pos + [False] * neg
        p += [True] * found + [False] * (pos - found) + [True] * selected + [False] * (neg - selected)
        g += [code] * (pos + neg)
    return np.array(y), np.array(p), np.array(g)


def test_equalized_odds_takes_the_larger_of_the_tpr_and_fpr_gaps() -> None:
    y, p, g = _table()
    s = group_parity(y, p, list(COUNTS), g, np.ones(len(y), bool), "smile", n_boot=500)
    for r in s["groups"]:
        pos, found, neg, selected = COUNTS[r["group"]]
        assert (r["tpr"], r["fpr"]) == (pytest.approx(TPR[r["group"]]), pytest.approx(FPR[r["group"]]))
        for key, hits, n in (("tpr", found, pos), ("fpr", selected, neg)):
            low, high = wilson_interval(np.array([hits]), n)[0]
            assert (r[f"{key}_low"], r[f"{key}_high"]) == (pytest.approx(low), pytest.approx(high))
    across = s["across"]
    # the largest over pairs of groups of max(|dTPR|, |dFPR|): a-b .5, a-c .35, b-c .3
    by_pair = max(max(abs(TPR[u] - TPR[v]), abs(FPR[u] - FPR[v])) for u, v in combinations(COUNTS, 2))
    assert by_pair == pytest.approx(0.5)
    assert across["equalized_odds_difference"] == pytest.approx(by_pair)
    assert across["equal_opportunity_difference"] == pytest.approx(0.35)    # TPRs alone
    assert across["demographic_parity_difference"] == pytest.approx(0.2)
    # every draw's equalized odds difference is at least its equal opportunity difference
    for end in ("low", "high"):
        assert across[f"equalized_odds_difference_{end}"] >= across[f"equal_opportunity_difference_{end}"]
    text = " ".join(parity_lines(s, "group"))
    assert "equal opportunity difference 0.350 [" in text
    assert "equalized odds difference 0.500 [" in text
