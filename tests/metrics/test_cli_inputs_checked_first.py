"""``latentplay metrics disentanglement``: --json checked before any metric runs, test arrays
checked whatever the metrics, and one note (not a warning per fit) for too few rows."""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest


def _arrays(tmp_path: Path, rows: int = 200, factors: int = 2, levels: int = 4, seed: int = 0
            ) -> tuple[Path, Path]:
    """``f.npy`` (``rows`` x ``factors`` levels) and ``c.npy`` (codes that follow them)."""
    rng = np.random.default_rng(seed)
    f = np.stack([np.arange(rows) % levels, rng.integers(0, 3, rows)][:factors], axis=1)
    f_path, c_path = tmp_path / f"f{seed}.npy", tmp_path / f"c{seed}.npy"
    np.save(f_path, f)
    np.save(c_path, np.concatenate([f, f[:, :1]], axis=1) + 0.01 * rng.normal(size=(rows, factors + 1)))
    return f_path, c_path


@pytest.fixture
def no_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any metric scored fails the test: the error must come first."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a metric ran before the error")

    monkeypatch.setattr(importlib.import_module("latentplay.metrics.evaluate"), "score", refuse)


def test_json_is_checked_before_any_metric(cli, tmp_path: Path, no_scoring: None) -> None:
    """``--json adir`` computed every metric and then said "cannot use adir: Is a directory";
    the --run path did the same after encoding."""
    f, c = _arrays(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    for target, message in ((tmp_path / "adir", "is a directory; name the JSON file"),
                            (tmp_path / "afile" / "s.json", "a file is in the way")):
        for source in (("--factors", f, "--codes", c, "--metrics", "mig"),
                       ("--run", tmp_path / "run", "--data", tmp_path / "nosuch")):
            res = cli("metrics", "disentanglement", *source, "--json", target)
            lines = res.err.strip().splitlines()
            assert res.code == 2 and len(lines) == 1 and message in lines[0], res.err


def test_a_refused_run_leaves_no_folder_of_the_json(cli, tmp_path: Path) -> None:
    """``--json new/deep/s.json`` made new/deep when it was checked, before the inputs were:
    a refused run left the folders behind. They are made when the scores are written."""
    f, c = _arrays(tmp_path)
    target = tmp_path / "new" / "deep" / "s.json"
    res = cli("metrics", "disentanglement", "--run", tmp_path / "run", "--data",
              tmp_path / "nosuch", "--json", target)
    assert res.code == 2 and not (tmp_path / "new").exists(), res.err
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--metrics", "mig",
              "--json", target)
    assert res.code == 0 and target.exists(), res.err


@pytest.mark.parametrize("names", ["mig", "irs", "mig,irs"])
def test_test_arrays_are_checked_when_only_mig_or_irs_is_asked(cli, tmp_path: Path, names: str,
                                                                no_scoring: None) -> None:
    """Test factors of fewer columns than the training ones (4 against 5) passed silently
    with --metrics mig or irs; SAP refused them. Every metric refuses them now, before scoring."""
    f, c = _arrays(tmp_path)
    f_test, c_test = _arrays(tmp_path, rows=50, factors=1, seed=1)
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--factors-test", f_test,
              "--codes-test", c_test, "--metrics", names)
    assert res.code == 2 and "test arrays have 1 factors / 2 dims, train arrays 2 / 3" in res.err, res.err


def test_metrics_of_the_training_rows_only_say_so_once(cli, tmp_path: Path) -> None:
    """Test rows given to MIG/IRS, which score the training rows only: one line says so."""
    f, c = _arrays(tmp_path)
    f_test, c_test = _arrays(tmp_path, rows=50, seed=1)
    given = ("metrics", "disentanglement", "--factors", f, "--codes", c, "--factors-test", f_test,
             "--codes-test", c_test)
    res = cli(*given, "--metrics", "mig,irs")
    assert res.code == 0, res.err
    notes = [line for line in res.err.splitlines() if line.startswith("note:")]
    assert notes == ["note: mig, irs score the --factors/--codes rows only; the "
                     "--factors-test/--codes-test rows are not used"]
    res = cli(*given, "--metrics", "mig,sap")
    assert res.code == 0, res.err
    notes = [line for line in res.err.splitlines() if line.startswith("note:")]
    assert notes == ["note: mig scores the --factors/--codes rows only"]
    res = cli(*given, "--metrics", "sap")
    assert res.code == 0 and "note:" not in res.err, res.err


def test_few_rows_for_many_levels_is_one_note_not_a_warning_per_fit(cli, tmp_path: Path) -> None:
    """50 rows of a 40-level factor printed scikit-learn's "number of unique classes is greater
    than 50%" warning once per SVM and logistic-regression fit; now one note says it."""
    f, c = _arrays(tmp_path, rows=50, levels=40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--metrics",
                  "sap,modularity,mig")
    assert res.code == 0, res.err
    assert not [w for w in caught if "unique classes is greater than 50%" in str(w.message)]
    notes = [line for line in res.err.splitlines() if line.startswith("note:")]
    assert notes == ["note: 45 training rows for factors of up to 40 levels: too few for "
                     "SAP/explicitness to be reliable"]
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--metrics", "mig")
    assert res.code == 0 and "note:" not in res.err, res.err


def test_a_metric_refused_late_keeps_the_scores_done_before_it(cli, tmp_path: Path) -> None:
    """Explicitness refusing test rows of one value threw away MIG's, SAP's and DCI's scores:
    they are printed and written to --json, then the one error line."""
    f, c = _arrays(tmp_path)
    f_test, c_test = _arrays(tmp_path, rows=50, seed=1)
    np.save(f_test, np.zeros_like(np.load(f_test)))    # every test row one level
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--factors-test", f_test,
              "--codes-test", c_test, "--metrics", "mig,modularity", "--json", tmp_path / "s.json")
    assert res.code == 2 and res.err.strip().splitlines()[-1].startswith("error: explicitness:")
    assert "(the scores of mig are printed and written to" in res.err and "discrete_mig" in res.out
    assert list(json.loads((tmp_path / "s.json").read_text())["scores"]) == ["mig.discrete_mig"]


def test_rows_sorted_by_a_factor_are_refused_before_any_metric(cli, tmp_path: Path,
                                                                no_scoring: None) -> None:
    """The split of rows sorted by factor 1 is checked before any metric runs when a metric
    that takes one (SAP) is asked, not after MIG's score is printed."""
    f, c = _arrays(tmp_path)
    order = np.argsort(np.load(f)[:, 1], kind="stable")
    np.save(f, np.load(f)[order])
    np.save(c, np.load(c)[order])
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, "--metrics", "mig,sap")
    assert res.code == 2 and "sorted by factor column(s) 1: the last 20 rows" in res.err
    assert "mig" not in res.out


def test_the_metrics_lines_print_paths_as_written(capsys) -> None:  # noqa: ANN001
    """rich read ``[beta=4]`` in a run's path as markup and left it out of the metrics'
    ``wrote ...`` lines (``runs/vae/dis.json``), and ``[/x]`` ended the command in a MarkupError."""
    from latentplay.metrics import cli as metrics_cli

    for line in ("wrote runs/vae[beta=4]/dis_metrics.json", "wrote runs/a[/x]y/metrics.json"):
        metrics_cli.console.print(line, highlight=False)
        assert capsys.readouterr().err.strip() == line
