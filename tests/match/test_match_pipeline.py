"""Reading a store for matching: the treatment's groups, exact blocks, outcomes and covariates
when labels are missing (a code outside the classes) or in the class ``unknown``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from match_reference import read_rows

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.match.pipeline import (
    MatchConfig,
    exact_codes,
    features,
    outcome_values,
    parse_treatment,
    run,
)
from latentplay.store.io import Store, build, store_digest
from latentplay.store.schema import Attribute, Provenance, Schema


def _store(path: Path, columns: dict[str, np.ndarray], attributes: list[Attribute]) -> Store:
    schema = Schema(attributes=attributes, provenance=Provenance(source="test", converter="test"),
                    image_column=None)
    return build([columns], schema, path)


def test_bare_treatment_leaves_out_rows_without_a_value(tmp_path: Path) -> None:
    """``--treatment g``: rows missing g or in class ``unknown`` join neither group, the second
    known class is treated; a store with one known class is refused, not compared with the rows
    that have none."""
    codes = np.array([0, 1, 2, -1, 1, 0, 2, 1])
    s = _store(tmp_path / "s", {"g": codes},
               [Attribute("g", "categorical", names=["a", "b", "unknown"])])
    t = parse_treatment(s, "g")
    assert t.names == ("b", "a")
    np.testing.assert_array_equal(t.rows, np.flatnonzero((codes == 0) | (codes == 1)))
    np.testing.assert_array_equal(t.treated, codes[t.rows] == 1)
    one = _store(tmp_path / "one", {"g": np.array([1, -1, 1, -1, 1])},
                 [Attribute("g", "categorical", names=["a", "b"])])
    with pytest.raises(UserError, match="1 value"):
        parse_treatment(one, "g")
    # named, unknown was matched as a group of its own
    with pytest.raises(UserError, match=r"the rows without a value are in neither group; values: a, b$"):
        parse_treatment(s, "g=unknown,b")


@pytest.mark.parametrize("spec", ["g=", "g= ", "g=a", "g=a,a", "g=a,", "g=,b"])
def test_a_treatment_with_an_equals_sign_needs_two_different_values(tmp_path: Path, spec: str) -> None:
    """``g=`` with no values was read as a bare ``g`` (its second class treated)."""
    s = _store(tmp_path / "s", {"g": np.array([0, 1, 0, 1])},
               [Attribute("g", "categorical", names=["a", "b"])])
    with pytest.raises(UserError, match="give two different values, treated first"):
        parse_treatment(s, spec)
    assert parse_treatment(s, "g=a,b").names == ("a", "b")


def test_treatment_classes_may_hold_commas(tmp_path: Path) -> None:
    """``data bin``'s classes hold a comma (``[0.1, 0.2)``), and a CSV's may (``say "hi", ok``):
    ``--treatment age=[0.1, 0.2),[0.2, 0.3)`` was refused as not two values, as ``--where``
    and ``data regroup`` take them."""
    names = ["[0.1, 0.2)", "[0.2, 0.3)", 'say "hi", ok']
    s = _store(tmp_path / "s", {"g": np.array([0, 1, 2, 0, 1, 2])},
               [Attribute("g", "categorical", names=names)])
    assert parse_treatment(s, "g=[0.2, 0.3),[0.1, 0.2)").names == ("[0.2, 0.3)", "[0.1, 0.2)")
    t = parse_treatment(s, 'g=say "hi",ok , [0.1,0.2)')   # spaces around the commas as --where
    assert t.names == ('say "hi", ok', "[0.1, 0.2)")
    np.testing.assert_array_equal(t.rows, [0, 2, 3, 5])
    np.testing.assert_array_equal(t.treated, [False, True, False, True])


def test_exact_blocks_refuse_rows_without_a_value(tmp_path: Path) -> None:
    """A missing code (-1) would mix blocks: (a=1, b=missing) and (a=0, b=2) got one code."""
    s = _store(tmp_path / "s", {"a": np.array([1, 0, 1, 0]), "b": np.array([-1, 2, 0, 1])},
               [Attribute("a", "categorical", names=["n", "y"]),
                Attribute("b", "categorical", names=["x", "y", "z"])])
    with pytest.raises(UserError, match="'b' has no value in 1 row"):
        exact_codes(s, ["a", "b"], np.arange(4))
    codes = exact_codes(s, ["a", "b"], np.arange(1, 4))
    assert len(np.unique(codes)) == 3


def test_outcome_values_follow_the_attribute_kind(tmp_path: Path) -> None:
    """A factor's outcome is its level values, an ordered or two-class attribute its class
    place (``unknown`` not counted); an unordered one of 3 classes is refused; a row without a
    value (``unknown``, a missing code) is NaN, left out of matching by ``run``."""
    s = _store(tmp_path / "s", {
        "factor_f": np.array([0, 2, 1, 2]), "f": np.array([10.0, 40.0, 20.0, 40.0]),
        "tone": np.array([2, 0, 1, 2]), "colour": np.array([2, 0, 1, 2]),
        "yes": np.array([2, 0, 1, 2])}, [
        Attribute("f", "factor", values=[10.0, 20.0, 40.0]),
        Attribute("tone", "categorical", names=["light", "mid", "dark"], ordered=True),
        Attribute("colour", "categorical", names=["red", "green", "blue"]),
        Attribute("yes", "categorical", names=["no", "unknown", "yes"])])
    rows = np.arange(4)
    np.testing.assert_array_equal(outcome_values(s, "f", rows), [10.0, 40.0, 20.0, 40.0])
    np.testing.assert_array_equal(outcome_values(s, "tone", rows), [2.0, 0.0, 1.0, 2.0])
    with pytest.raises(UserError, match="unordered"):
        outcome_values(s, "colour", rows)
    np.testing.assert_array_equal(outcome_values(s, "yes", np.array([0, 1, 3])), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(outcome_values(s, "yes", rows), [1.0, 0.0, np.nan, 1.0])
    missing = _store(tmp_path / "m", {"factor_f": np.array([0, -1, 1])},
                     [Attribute("f", "factor", values=[10.0, 20.0])])
    np.testing.assert_array_equal(outcome_values(missing, "f", np.arange(3)), [10.0, np.nan, 20.0])


def test_a_missing_class_is_no_indicator_value(tmp_path: Path) -> None:
    """A categorical or factor covariate's row without a value is refused, not taken as the
    first class (categorical) or the last level (factor, code -1); in the reported (balance)
    columns it is NaN."""
    s = _store(tmp_path / "s", {"g": np.array([1, -1, 0, 1]), "factor_f": np.array([0, 1, -1, 1]),
                                "f": np.array([1.0, 2.0, np.nan, 2.0])},
               [Attribute("g", "categorical", names=["a", "b"]),
                Attribute("f", "factor", values=[1.0, 2.0])])
    for name in ("g", "f"):
        with pytest.raises(UserError, match="missing values in 1 row"):
            features(s, [name], np.arange(4))
    x, names = features(s, ["g", "f"], np.arange(4), missing_ok=True)
    assert names == ["g=b", "f"]
    np.testing.assert_array_equal(x[:, 0], [1.0, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(x[:, 1], [1.0, 2.0, np.nan, 2.0])
    outside = _store(tmp_path / "o", {"factor_f": np.array([0, 2, 1])},
                     [Attribute("f", "factor", values=[1.0, 2.0])])  # code 2: no level
    x, _ = features(outside, ["f"], np.arange(3), missing_ok=True)
    np.testing.assert_array_equal(x[:, 0], [1.0, np.nan, 2.0])


def test_an_attribute_of_too_many_indicators_is_refused(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Three classes over 4 rows are 12 indicator values: refused above INDICATOR_CELLS (by
    identity 16,000 persons' 80,000 photos would take 10 GB), made at it."""
    from latentplay.match import pipeline

    s = _store(tmp_path / "s", {"colour": np.array([0, 1, 2, 1])},
               [Attribute("colour", "categorical", names=["red", "green", "blue"])])
    monkeypatch.setattr(pipeline, "INDICATOR_CELLS", 11)
    with pytest.raises(UserError, match=r"^'colour' has 3 classes, too many .* over 4 rows; "
                                        r"match exactly on it \(--exact colour\)"):
        features(s, ["colour"], np.arange(4), missing_ok=True)
    monkeypatch.setattr(pipeline, "INDICATOR_CELLS", 12)
    assert features(s, ["colour"], np.arange(4))[0].shape == (4, 3)


def test_a_separating_propensity_model_is_warned_about(cli, tmp_path: Path, undrawn) -> None:
    """Treatment given away by a covariate: the fitted scores do not overlap, and the run says
    so (stderr and ``summary.json``); overlapping groups get no warning."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    import json

    from latentplay.match import match
    from latentplay.match.synthetic import Confounded, make_store

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 3)).astype(np.float32)
    treated = x[:, 0] > 0.8
    y = treated + x[:, 0].astype(np.float64)
    make_store(tmp_path / "s", Confounded(x=x, treated=treated, y=y, effect=1.0, relevant=1))
    r = cli("match", "run", tmp_path / "s", "--treatment", "group", "--covariates", "z",
            "--method", "propensity", "--propensity-c", "10000", "--out", tmp_path / "m")
    assert r.code == 0, r.err
    assert "warning: the propensity model separates the groups" in r.err
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert len(summary["match"]["warnings"]) == 1
    assert summary["made_by"]["command"] == (f"latentplay match run {tmp_path / 's'} --treatment group "
                                             "--covariates z --method propensity --propensity-c 10000 "
                                             f"--out {tmp_path / 'm'}")
    assert summary["store_digest"] == store_digest(st.load(tmp_path / "s"))  # the store beside its path
    second = match(x, treated, method="mahalanobis", second_on="propensity", second_caliper=0.2,
                   propensity_c=1e4, partial=True)
    assert "second caliper's propensity model separates" in second.info["warnings"][0]
    mixed = rng.random(300) < 0.3
    assert match(x, mixed, method="propensity", propensity_c=1e4).info["warnings"] == []


def _store_with_history(path: Path, copy: bool = False) -> None:
    """60 rows of g, e, age and x (with ``copy``, 1 - g without a history), then g_e from
    ``data combine g,e``, by_e regrouping g_e by e alone and age_group binned from age."""
    from latentplay.store.binning import bin_store
    from latentplay.store.combine import combine_store
    from latentplay.store.regroup import regroup_store

    rng = np.random.default_rng(0)
    g, e = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    columns = {"g": g, "e": e, **({"copy": 1 - g} if copy else {}),
               "age": rng.normal(40.0, 10.0, 60), "x": rng.normal(size=60)}
    attributes = [Attribute("g", "categorical", names=["a", "b"]),
                  Attribute("e", "categorical", names=["no", "yes"]),
                  *([Attribute("copy", "categorical", names=["p", "q"])] if copy else []),
                  Attribute("age", "continuous"), Attribute("x", "continuous")]
    _store(path, columns, attributes)
    combine_store(path, ["g", "e"])
    regroup_store(path, "g_e", {"n": ["a / no", "b / no"], "y": ["a / yes", "b / yes"]}, name="by_e")
    bin_store(path, "age", edges=[40.0])


@pytest.fixture(scope="module")
def history_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`_store_with_history` (no ``copy``), built once: the tests only read it."""
    path = tmp_path_factory.mktemp("history") / "s"
    _store_with_history(path)
    return path


def test_attributes_that_determine_the_treatment_are_no_covariates(cli, tmp_path: Path,
                                                                     undrawn) -> None:
    """``data combine g,e`` makes g_e, whose classes contain the treatment g's: its balance is
    the treatment's own, so it is left out of balance.csv (and said so); as is, with the
    treatment binned from ``age``, ``age``. Regrouping g_e by e alone mixes the groups again: a
    covariate. An attribute that splits the groups with no history (``copy``) stays: that the
    groups do not overlap on it is a finding."""
    import csv
    import json

    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    _store_with_history(tmp_path / "s", copy=True)

    def balance(treatment: str, out: str) -> tuple[list[str], dict, str]:
        r = cli("match", "run", tmp_path / "s", "--treatment", treatment, "--covariates", "x",
                "--out", tmp_path / out, "--partial", "--bootstrap", "100")
        assert r.code == 0, r.err
        with open(tmp_path / out / "balance.csv") as fh:
            names = [row["covariate"].split("=")[0] for row in csv.DictReader(fh)]
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        return names, summary["balance"]["left_out"], r.out

    names, left_out, out = balance("g", "m")
    assert left_out == {"g_e": "made from g"}
    assert "g_e" not in names and {"e", "by_e", "age", "age_group", "copy"} <= set(names)
    assert "left out of the balance (their imbalance is the treatment's own): g_e (made from g)" in out
    names, left_out, _ = balance("age_group", "m2")
    assert left_out == {"age": "age_group is made from it"}
    assert "age" not in names and "x" in names


def test_a_prediction_of_the_treatment_is_left_out_of_the_balance(cli, tmp_path: Path,
                                                                   undrawn) -> None:
    """``data predict`` with an annotator of g writes predicted_g: an estimate of the treatment
    itself, whose |SMD| (the annotator's accuracy) took the checked attributes' headline. It is
    left out and named; its probability column, and a prediction of another attribute, stay."""
    import json

    from latentplay import store as st

    undrawn("love_plot", "attribute_means", "propensity_overlap")
    rng = np.random.default_rng(1)
    g = rng.integers(0, 2, 80)
    s = _store(tmp_path / "s", {"g": g, "e": rng.integers(0, 2, 80), "x": rng.normal(size=80)},
               [Attribute("g", "categorical", names=["a", "b"]),
                Attribute("e", "categorical", names=["no", "yes"]), Attribute("x", "continuous")])
    for name, codes in (("g", g), ("e", rng.integers(0, 2, 80))):   # as annotate_store writes
        column = f"predicted_{name}"
        s = st.add_attributes(s, {
            column: (Attribute(column, "categorical", names=["c0", "c1"]),
                     codes),
            f"{column}_p": (Attribute(f"{column}_p", "continuous"), rng.random(80))})
        s = st.with_history(s, {"op": "predict", "annotator": f"{name}.npz",
                                "heads": [{"name": name}], "attributes": [column, f"{column}_p"]})
    st.save(s, tmp_path / "s")
    r = cli("match", "run", tmp_path / "s", "--treatment", "g", "--covariates", "x",
            "--out", tmp_path / "m", "--partial")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["balance"]["left_out"] == {"predicted_g": "a prediction of g"}
    assert "predicted_g (a prediction of g)" in r.out
    names = (tmp_path / "m" / "balance.csv").read_text()
    assert "predicted_g=" not in names and "predicted_g_p" in names and "predicted_e=" in names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exact", "g_e"], "--exact 'g_e' determines the treatment 'g' in the compared rows "
                             "(made from g"),
        (["--covariates", "x,g_e"], "--covariates 'g_e' determines the treatment 'g'"),
        (["--second-caliper-on", "g_e", "--second-caliper", "1"], "--second-caliper-on 'g_e'"),
        (["--second-caliper-on", "propensity", "--second-caliper", "1",
          "--propensity-covariates", "g_e"], "--propensity-covariates 'g_e'"),
        (["--treatment", "age_group", "--covariates", "age"],
         "--covariates 'age' determines the treatment 'age_group' in the compared rows (age_group "
         "is made from it"),
        (["--exact", "g"], "the treatment 'g' cannot also be an --exact block"),
        (["--outcome", "g_e"], "--outcome 'g_e' determines the treatment 'g' in the compared rows "
                               "(made from g"),
        (["--treatment", "age_group", "--outcome", "age"],
         "--outcome 'age' determines the treatment 'age_group' in the compared rows (age_group is "
         "made from it"),
    ],
)
def test_matching_on_what_determines_the_treatment_is_refused(
        cli, tmp_path: Path, history_store: Path, args: list[str], message: str) -> None:
    """``--treatment g --exact g_e`` (g_e from ``data combine g,e``) left each block one group
    and ended in "no pairs could be formed"; as a covariate it matched on the treatment itself.
    Both are refused before any matching, as the treatment itself is."""
    base = {"--treatment": "g", "--covariates": "x"}
    base.update(zip(args[::2], args[1::2], strict=True))
    flat = [x for kv in base.items() for x in kv]
    r = cli("match", "run", history_store, *flat, "--out", tmp_path / "m", "--partial")
    assert r.code == 2 and r.err.startswith("error: ") and message in r.err, r.err
    assert "Traceback" not in r.err and not (tmp_path / "m").exists()


def test_an_attribute_regrouped_to_mix_the_groups_is_still_a_covariate(
        cli, tmp_path: Path, history_store: Path, undrawn) -> None:
    """g_e regrouped by e alone (by_e: its classes mix the groups) is a covariate and an exact
    block, not refused as g_e is."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    kept = cli("match", "run", history_store, "--treatment", "g", "--covariates", "x,by_e",
               "--exact", "by_e", "--out", tmp_path / "k", "--partial", "--bootstrap", "100")
    assert kept.code == 0, kept.err


def test_a_simulated_store_records_every_setting_that_drew_it(tmp_path: Path) -> None:
    """The store kept n, relevant and effect only: --irrelevant, --strength and --seed were
    lost, so its provenance could not draw it again."""
    from latentplay.match.synthetic import confounded, make_store
    from latentplay.store import load, vectors

    data = confounded(50, relevant=2, irrelevant=3, effect=0.5, strength=2.0, seed=7)
    arguments = load(make_store(tmp_path / "s", data).path).schema.provenance.arguments
    assert {k: arguments[k] for k in data.settings} == data.settings
    again = confounded(**arguments)
    np.testing.assert_array_equal(again.x, vectors(load(tmp_path / "s"), "z"))


@pytest.mark.parametrize(("args", "used"), [
    (["--exact", "e"], ["e"]),
    (["--second-caliper-on", "age", "--second-caliper", "3"], ["age"]),
    (["--exact", "e", "--second-caliper-on", "propensity", "--second-caliper", "3",
      "--propensity-covariates", "age"], ["e", "age"]),
])
def test_exact_blocks_and_second_caliper_columns_count_as_matched_on(
        cli, tmp_path: Path, history_store: Path, undrawn, args: list[str], used: list[str]
) -> None:
    """An --exact attribute (SMD 0 after matching) or a second caliper's column was reported as
    an attribute "not matched on (checked, not balanced by design)": they are matched on, as
    MatchIt reports exact, mahvars and the distance formula's variables, and as the report's
    matched-on column says."""
    import csv
    import json

    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    r = cli("match", "run", history_store, "--treatment", "g", "--covariates", "x", *args,
            "--out", tmp_path / "m", "--partial")
    assert r.code == 0, r.err
    with open(tmp_path / "m" / "balance.csv") as fh:
        rows = list(csv.DictReader(fh))
    balance = json.loads((tmp_path / "m" / "summary.json").read_text())["balance"]
    on = balance["matched_on"]["covariates"]
    assert [row["covariate"].split("=")[0] for row in rows[:on]] == ["x", *used]
    assert not {row["covariate"].split("=")[0] for row in rows[on:]} & {"x", *used}
    assert balance["not_matched_on"]["covariates"] == len(rows) - on
    assert f"({on} covariates matched on;" in r.out
    if "--exact" in args:
        assert float(rows[1]["smd_after"]) == 0.0


def test_a_propensity_model_that_nearly_separates_the_groups_is_warned_about() -> None:
    """Treated units far out: most score beyond every control and share the few controls at
    the edge. The warning gives their share; groups that overlap get none."""
    from latentplay.match import match
    from latentplay.match.core import NEAR_SEPARATION

    rng = np.random.default_rng(0)
    treated = np.arange(400) < 200
    for shift, warned in ((4.0, True), (0.5, False)):
        x = rng.standard_normal((400, 2)) + shift * treated[:, None]
        r = match(x, treated, method="propensity", replace=True)
        beyond = r.propensity.beyond_controls(treated)
        assert (beyond > NEAR_SEPARATION) == warned
        notes = [w for w in r.info["warnings"] if "nearly separates" in w]
        assert len(notes) == warned
        if warned:
            assert f"{beyond:.0%} of the treated units score beyond every control" in notes[0]
            assert not r.propensity.separates(treated)


def test_groups_that_meet_at_one_score_are_not_separated() -> None:
    """The lowest treated logit equal to the highest control's: that treated unit has a
    control of its score, so the groups are not separated; a step above, they are. Logits
    beyond the controls' on either side count among those with none of their score."""
    from latentplay.match.propensity import Propensity

    treated = np.array([False, False, True, True])
    for logit, apart in (([0.0, 1.0, 1.0, 2.0], False), ([0.0, 1.0, 1.5, 2.0], True)):
        model = Propensity(score=np.full(4, 0.5), logit=np.array(logit))
        assert model.separates(treated) is apart
        assert model.separates(~treated) is apart
    model = Propensity(score=np.full(5, 0.5), logit=np.array([1.0, 2.0, 0.0, 1.5, 3.0]))
    assert model.beyond_controls(np.array([False, False, True, True, True])) == pytest.approx(2 / 3)


def test_a_second_run_into_one_out_is_refused(cli, tmp_path: Path) -> None:
    """Two `match run --out R` at once both found R empty and wrote one folder of mixed
    outputs (balance.csv of one, summary.json of the other): while one holds R's lock the
    other is refused in one line."""
    from latentplay.store.io import held_lock

    store = tmp_path / "sim"
    assert cli("match", "simulate", "--out", store, "--n", "200").code == 0
    args = ("match", "run", store, "--treatment", "group=treated,control", "--covariates", "z",
            "--out", tmp_path / "r")
    with held_lock(tmp_path / ".r.match.lock"):
        r = cli(*args)
    assert r.code == 2 and f"another match run is writing {tmp_path / 'r'}" in r.err, r.err
    assert not (tmp_path / "r").exists()
    r = cli(*args)                                         # the lock let go: it runs
    assert r.code == 0 and (tmp_path / "r" / "summary.json").exists(), r.err


def test_each_pairs_distance_is_its_own_and_the_summary_sums_them_up(sim: Path, tmp_path: Path,
                                                                      undrawn) -> None:
    """Unscaled nearest matching on z: each pairs.csv row's distance is the Euclidean distance
    between its two units' z, and summary.json's mean, median and max are those of the rows."""
    undrawn("love_plot", "attribute_means")
    summary = run(sim, MatchConfig(treatment="group", covariates=["z"], scale=False,
                                   bootstrap=100), tmp_path / "m")
    z = st.vectors(st.load(sim), "z").astype(np.float64)
    pairs = read_rows(tmp_path / "m" / "pairs.csv")
    t = np.array([int(p["treated_index"]) for p in pairs])
    c = np.array([int(p["control_index"]) for p in pairs])
    d = np.array([float(p["distance"]) for p in pairs])
    np.testing.assert_allclose(d, np.linalg.norm(z[t] - z[c], axis=1), rtol=1e-5)
    assert summary["distance"] == pytest.approx(
        {"mean": d.mean(), "median": np.median(d), "max": d.max()}, rel=1e-5)
