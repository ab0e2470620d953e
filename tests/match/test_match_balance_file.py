"""balance.csv says which of its rows the run matched on (``matched_on``), and the love plot
draws those apart from the attributes only checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from match_reference import read_rows

from latentplay.errors import UserError
from latentplay.match import balance as bal
from latentplay.match.pipeline import MatchConfig, run


def test_balance_csv_says_which_rows_were_matched_on(sim: Path, tmp_path: Path, undrawn,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """z (``--covariates``) and x0 (``--second-caliper-on``) are matched on, x1, x2 and y only
    checked: balance.csv had no column telling them apart (the report guessed from the config),
    and the love plot ranked them in one list; now each row has ``matched_on`` 1 or 0, the
    split of summary.json's ``balance.matched_on``, and the love plot gets the same split."""
    import latentplay.viz.balance as viz

    calls: list[dict[str, Any]] = []
    real = viz.love_plot

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(viz, "love_plot", spy)
    undrawn("attribute_means", "propensity_overlap")  # not looked at here
    out = tmp_path / "m"
    config = MatchConfig(treatment="group", covariates=["z"], second_caliper_on=["x0"],
                         second_caliper=50.0, bootstrap=100, partial=True)
    summary = run(sim, config, out)
    header = (out / "balance.csv").read_text().splitlines()[0].split(",")
    assert header == list(bal.FILE_COLUMNS)
    assert header[:3] == ["covariate", "type", "matched_on"]
    rows = read_rows(out / "balance.csv")
    flags = {r["covariate"]: r["matched_on"] for r in rows}
    assert flags == {**{f"z[{j}]": "1" for j in range(20)}, "x0": "1", "x1": "0", "x2": "0", "y": "0"}
    assert summary["balance"]["matched_on"]["covariates"] == 21
    assert summary["balance"]["not_matched_on"]["covariates"] == 3
    (call,) = calls
    np.testing.assert_array_equal(call["matched_on"], [r["matched_on"] == "1" for r in rows])


def test_the_python_balance_table_has_the_columns_of_balance_csv() -> None:
    """docs/matching.md says balance_table's rows have "the columns of balance.csv"; they
    lacked ``matched_on``. One bool marks every column, or one per column."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3))
    treated = np.arange(20) % 2 == 0
    rows = bal.balance_table(x, ["a", "b", "c"], treated)
    assert [list(r) for r in rows] == 3 * [list(bal.FILE_COLUMNS)]
    assert [r["matched_on"] for r in rows] == [1, 1, 1]
    rows = bal.balance_table(x, ["a", "b", "c"], treated, matched_on=[True, True, False])
    assert [r["matched_on"] for r in rows] == [1, 1, 0]
    assert [r["matched_on"] for r in bal.balance_table(x, ["a", "b", "c"], treated,
                                                       matched_on=False)] == [0, 0, 0]
    with pytest.raises(UserError, match=r"matched_on must be one bool or \(3,\)"):
        bal.balance_table(x, ["a", "b", "c"], treated, matched_on=[True, False])
