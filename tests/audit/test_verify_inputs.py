"""`latentplay audit verify`: what it refuses or notes about its inputs (the --persons, the
pairs file, the threshold), and outputs that stay valid JSON and say what they were fitted on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.verification import verify_store
from latentplay.errors import UserError
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema

PEOPLE, PHOTOS, TONES = 12, 4, 4  # people per tone


def _store(path: Path) -> st.Store:
    """``TONES`` ordered tones of ``PEOPLE`` people with ``PHOTOS`` photos each; a photo's
    embedding is its person's vector plus a little noise. ``yaw`` is continuous, ``gender``
    two classes."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(TONES * PEOPLE), PHOTOS)
    n = len(person)
    z = rng.normal(size=(TONES * PEOPLE, 8))[person] + 0.3 * rng.normal(size=(n, 8))
    schema = Schema(
        attributes=[Attribute("tone", "categorical", names=[f"t{k}" for k in range(TONES)],
                              ordered=True),
                    Attribute("identity", "categorical",
                              names=[f"p{i}" for i in range(TONES * PEOPLE)]),
                    Attribute("gender", "categorical", names=["f", "m"]),
                    Attribute("yaw", "continuous", range=(-90, 90))],
        provenance=Provenance(source="test", converter="unit", arguments={}, counts={}),
        image_column=None)  # no hardest.png: the figures are not what is tested here
    batch = {"tone": person // PEOPLE, "identity": person,
             "gender": person % 2, "yaw": rng.uniform(-40, 40, n).astype(np.float32)}
    store = st.build([batch], schema, path)
    return st.save(st.add_column(store, "z", z.astype(np.float32)), path)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> st.Store:
    return _store(tmp_path_factory.mktemp("verify") / "s")


def _strict_json(path: Path) -> dict:
    """The JSON of ``path``, refusing the ``NaN`` / ``Infinity`` tokens JSON does not have."""
    def refuse(token: str) -> None:
        raise ValueError(f"{token} in {path.name}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_a_continuous_identity_is_refused(store: st.Store, tmp_path: Path, cli) -> None:  # noqa: ANN001
    with pytest.raises(UserError, match="--persons yaw is continuous"):
        verify_store(store, "z", tmp_path / "v", by="tone", identity="yaw", fmr=0.05, folds=2)
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--persons", "yaw",
            "--fmr", "0.05", "--out", tmp_path / "c")
    assert r.code == 2 and r.err.count("\n") == 1 and "is continuous" in r.err
    assert not (tmp_path / "c").exists()


def test_an_identity_of_few_classes_is_noted(store: st.Store, tmp_path: Path, cli) -> None:  # noqa: ANN001
    note = ("--persons gender names 2 persons: each of its classes is taken as one person (is it "
            "the persons?)")
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--persons",
            "gender", "--fmr", "0.05", "--folds", "2", "--n-pairs", "50", "--out", tmp_path / "c")
    assert r.code == 0, r.err
    assert [line for line in r.err.splitlines() if line.startswith("note:")] == [f"note: {note}"]
    assert _strict_json(tmp_path / "c" / "verification.json")["notes"] == [note]
    assert "each of its classes is taken as one person" in build_report(tmp_path / "c").read_text()
    from latentplay.audit.verification import identity_note

    ids = np.repeat(np.arange(TONES * PEOPLE), PHOTOS)
    assert identity_note("identity", ids) is None  # 48 persons: no note
    assert identity_note(None, ids % 2) is None  # the default identity attribute: no note


def test_measures_without_a_value_are_written_as_null(store: st.Store, tmp_path: Path,
                                                      cli) -> None:  # noqa: ANN001
    """One impostor pair in each of t0 and t1: the FMR trend has two pairs, too few for its
    slope and interval, which are null in verification.json (not NaN, which JSON has not) and
    ``-`` in the printout."""
    lines = ["row_a,row_b,same", "0,1,1", "4,5,1", "48,49,1", "52,53,1", "0,4,0", "48,52,0"]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    s = verify_store(store, "z", tmp_path / "v", by="tone", pairs=pairs, threshold=1.0, folds=2)
    written = _strict_json(tmp_path / "v" / "verification.json")
    assert written["trend"]["fmr"]["slope"] is None and s["trend"]["fmr"]["slope"] is None
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--pairs", pairs,
            "--threshold", "1", "--folds", "2", "--out", tmp_path / "c")
    assert r.code == 0, r.err
    assert "FMR -;" in r.out
    _strict_json(tmp_path / "c" / "verification.json")


def test_persons_found_from_the_verified_column_are_cautioned(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Persons that `data persons` found from z itself are z's own clustering: verifying z on
    pairs drawn from them measures the clustering, and the outputs say so; verifying another
    column on them does not."""
    from latentplay.store.persons import persons_store

    path = tmp_path / "s"
    store = _store(path)
    w = st.vectors(store, "z") + np.random.default_rng(1).normal(size=(len(store), 8))
    st.save(st.add_column(store, "w", w.astype(np.float32)), path)
    persons_store(path, "z", threshold=2.0)
    r = cli("audit", "verify", path, "--column", "z", "--persons", "person", "--fmr", "0.05",
            "--folds", "2", "--n-pairs", "100", "--out", tmp_path / "v")
    assert r.code == 0, r.err
    caution = [line for line in r.err.splitlines() if line.startswith("caution:")]
    assert len(caution) == 1 and "found by `latentplay data persons` from z itself" in caution[0]
    assert "measure that clustering, not how well the recogniser" in caution[0]
    assert _strict_json(tmp_path / "v" / "verification.json")["caution"] == caution[0][9:]
    assert "from z itself" in build_report(tmp_path / "v").read_text()
    other = verify_store(st.load(path), "w", tmp_path / "w", identity="person", fmr=0.05,
                         folds=2, n_pairs=100)
    assert other["caution"] is None


def test_a_comparison_prints_each_column_caution(capsys: pytest.CaptureFixture[str]) -> None:
    from latentplay.audit.cli import _print_comparison

    overall = {"accuracy": 0.9, "auc": 0.95}
    _print_comparison({"pairs_used": 10, "fmr": 0.1, "notes": [], "cautions": {"z": "from z itself"},
                       "per_column": {c: {"overall": overall, "differentials": None}
                                      for c in ("z", "w")}})
    assert "caution: from z itself" in capsys.readouterr().err.splitlines()


def test_a_comparison_prints_each_columns_ratios_with_their_intervals(
        capsys: pytest.CaptureFixture[str]) -> None:
    from latentplay.audit.cli import _print_comparison

    overall = {"accuracy": 0.9, "auc": 0.95}
    diff = {"skewed_error_ratio": 1.4, "fmr_ratio": 2.5, "fmr_ratio_low": 1.0,
            "fmr_ratio_high": 6.3, "fnmr_ratio": None, "fnmr_ratio_low": None,
            "fnmr_ratio_high": None}
    _print_comparison({"pairs_used": 10, "fmr": 0.1, "notes": [], "cautions": {},
                       "per_column": {"z": {"overall": overall, "differentials": diff}}})
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        "skewed error ratio 1.40, FMR ratio 2.50 [1.00, 6.30], FNMR ratio -")


def test_a_comparison_says_what_pairs_and_groups_were_left_out(capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    """Comparing two columns said nothing of the 2,027 of 2,400 pairs dropped for a face not
    found, nor that five skin tones were left with no pairs; one column's run said both."""
    from latentplay.audit.cli import _print_comparison

    overall = {"accuracy": 0.9, "auc": 0.95}
    _print_comparison({"pairs_used": 373, "fmr": 0.01, "notes": [], "cautions": {},
                       "pairs": {"unconverted": 0, "flagged_dropped": 2027},
                       "groups_without_pairs": ["monk_9", "monk_10"],
                       "per_column": {c: {"overall": overall, "differentials": None}
                                      for c in ("z", "w")}})
    printed = capsys.readouterr()
    assert "left out: 0 pairs with an unconverted image, 2027 with a face an embedder did not find" \
        in printed.out.splitlines()
    assert "caution: no genuine or no impostor pairs left in monk_9, monk_10: they are not compared" \
        in printed.err.splitlines()


def test_a_standardized_fnmr_of_two_persons_is_cautioned(capsys: pytest.CaptureFixture[str]) -> None:
    """b's 40 genuine pairs are two persons', one in each stratum of the covariate: its
    standardized FNMR rests wholly on them, and the printout and report say so."""
    from latentplay.audit.cli import _print_verification
    from latentplay.audit.verification import Pairs, _adjusted
    from latentplay.report.verifying import _adjusted_table

    value = np.r_[np.arange(40) % 2, np.repeat([0, 1], 20)].astype(float)  # one per pair
    group = np.repeat([0, 1], 40)
    person = np.r_[np.arange(40) // 2, np.repeat([40, 41], 20)]
    pairs = Pairs(np.arange(0, 160, 2), np.arange(1, 160, 2), np.ones(80, bool))
    found = _adjusted([("c", "min", np.repeat(value, 2))], 2, pairs, group, ["a", "b"],
                      np.arange(80) % 3 == 0, np.c_[person, person], 0)
    a, b = found["groups"]
    assert a["sparse_weight"] == 0 and b["sparse_weight"] == pytest.approx(1.0)
    overall = {"group": "all", "no_face_share": None, "accuracy": 0.9, "auc": 0.95, "fmr": 0.01,
               "fnmr": 0.3, "genuine": 80, "impostor": 80}
    _print_verification({"pairs": {"used": 160, "unconverted": 0, "flagged_dropped": 0},
                         "overall": overall, "column": "z", "metric": "cosine", "threshold": 0.5,
                         "by": None, "differentials": None, "adjusted": found})
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].startswith("  a: ") and "weight" not in lines[-3]
    assert lines[-2].endswith("; 100% of the weight on strata where it has under 5 pairs or pairs "
                              "of under 3 persons: only a rough guide, its interval too narrow")
    table = _adjusted_table(found)
    assert table.rows[1][-1].flag and not table.rows[0][-1].flag
    assert "or pairs of under 3 persons" in table.caption


def _fold_file(path: Path, hole: tuple[int, str]) -> Path:
    """Per tone, each person's two genuine pairs and two impostor pairs with the next person,
    in folds named 1, 2 and 3 in turn; tone ``hole[0]`` without its genuine pairs of fold
    ``hole[1]``."""
    lines = ["row_a,row_b,same,fold"]
    for tone in range(TONES):
        first = tone * PEOPLE * PHOTOS
        for p in range(PEOPLE):
            photo = first + p * PHOTOS
            other = first + (p + 1) % PEOPLE * PHOTOS
            fold = str(p % 3 + 1)
            if (tone, fold) != hole:
                lines += [f"{photo},{photo + 1},1,{fold}", f"{photo + 2},{photo + 3},1,{fold}"]
            lines += [f"{photo},{other + 1},0,{fold}", f"{photo + 2},{other + 3},0,{fold}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_group_left_out_by_a_fold_of_the_file_is_named_with_that_fold(
        store: st.Store, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """t1 has no genuine pair in the file's fold 2 (its second code): the printout, the JSON
    and the report say so in the file's name of the fold, not "too few pairs"."""
    pairs = _fold_file(tmp_path / "pairs.csv", (1, "2"))
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--pairs", pairs,
            "--file-folds", "--folds", "3", "--threshold", "2", "--out", tmp_path / "v")
    assert r.code == 0, r.err
    assert ("  across groups (t1 left out of the accuracy figures: fold 2 holds no genuine "
            "pair): accuracy sd") in r.out
    diff = _strict_json(tmp_path / "v" / "verification.json")["differentials"]
    assert diff["left_out"]["accuracy"] == ["t1"]
    assert diff["accuracy_why"] == {"t1": "fold 2 holds no genuine pair"}
    assert "fold 2 holds no genuine pair" in build_report(tmp_path / "v").read_text()
    from latentplay.audit.verification import left_out_note

    hole = "fold 2 holds no genuine pair"
    assert left_out_note({"left_out": {"accuracy": ["a", "b", "c"], "fnmr": ["c"]},
                          "accuracy_why": {"a": hole, "c": hole}}) == (
        f"a, c left out of the accuracy figures: {hole}; b left out of the accuracy figures: too "
        "few pairs for the folds; c left out of the FNMR ratio: no genuine pairs")


def test_a_threshold_not_above_0_is_refused(store: st.Store, tmp_path: Path, cli) -> None:  # noqa: ANN001
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(UserError, match="threshold .* must be a distance above 0"):
            verify_store(store, "z", tmp_path / "v", threshold=bad)
    r = cli("audit", "verify", store.path, "--column", "z", "--threshold", "-1", "--out",
            tmp_path / "c")
    assert r.code == 2 and r.err == "error: threshold (--threshold) must be a distance above 0, got -1\n"
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(("cells", "message"), [
    ("1,2,1.5", "line 3: same must be a whole number, got '1.5'"),
    ("1,2,", "line 3: same must be a whole number, got a blank cell"),
    ("1,2,nan", "line 3: same must be a whole number, got 'nan'"),
    ("1.5,2,1", "line 3: row_a must be a whole number, got '1.5'"),
    ("1,2,2", r"line 3: same must be 1 \(one person\) or 0 \(two\), got 2"),
    ("4,-2,0", r"line 3: row_b -2 is not a row \(rows count from 0; -1 marks an image the "
               r"converter rejected\)"),
    ("1,999,1", "rows must be below the store's 192, line 3 has row_b 999; is it the pairs "
                "file of another store"),
    ("192,1,1", "rows must be below the store's 192, line 3 has row_a 192"),
])
def test_a_pairs_file_names_its_offending_line(tmp_path: Path, cells: str, message: str) -> None:
    """Line 2 is a good pair written as pandas writes an integer column with a gap (1.0);
    line 3 is not a pair, and the one line says which line and what is wrong with it."""
    from latentplay.audit.verification import read_pairs

    path = tmp_path / "pairs.csv"
    path.write_text(f"row_a,row_b,same\n0.0,1.0,1.0\n{cells}\n-1,5,0\n")
    with pytest.raises(UserError, match=f"^{path}: {message}"):
        read_pairs(path, 192)
    path.write_text("row_a,row_b,same\n0.0,1.0,1.0\n4,8,0\n-1,5,0\n")
    pairs, unconverted = read_pairs(path, 192)
    assert (pairs.a.tolist(), pairs.b.tolist(), pairs.same.tolist()) == ([0, 4], [1, 8], [True, False])
    assert pairs.line.tolist() == [2, 3] and unconverted == 1


def test_the_trend_names_the_groups_it_was_fitted_on(store: st.Store, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Genuine pairs in t0, t2 and t3, impostor pairs in t0 and t2 only: FMR's trend runs
    along t0 .. t2 and FNMR's along t0 .. t3, both without t1, and the printout, JSON and
    report say so rather than "along t0 .. t3" for both."""
    lines = ["row_a,row_b,same"]
    for tone in (0, 2, 3):
        first = tone * PEOPLE * PHOTOS
        lines += [f"{first + p * PHOTOS},{first + p * PHOTOS + 1},1" for p in range(6)]
        if tone < 3:
            lines += [f"{first + p * PHOTOS},{first + (p + 1) * PHOTOS},0" for p in range(6)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--pairs", pairs,
            "--threshold", "2", "--folds", "2", "--out", tmp_path / "v")
    assert r.code == 0, r.err
    along = [line for line in r.out.splitlines() if " along " in line]
    assert len(along) == 1 and along[0].startswith(
        "  FMR along t0 .. t2 (no pairs in t1): ") and "; FNMR along t0 .. t3 (no pairs in t1): " in along[0]
    trend = _strict_json(tmp_path / "v" / "verification.json")["trend"]
    assert trend["groups"] == ["t0", "t2", "t3"]
    assert (trend["fmr"]["groups"], trend["fmr"]["gaps"]) == (["t0", "t2"], ["t1"])
    assert (trend["fnmr"]["groups"], trend["fnmr"]["gaps"]) == (["t0", "t2", "t3"], ["t1"])
    assert "t0 .. t2 (no pairs in t1)" in build_report(tmp_path / "v").read_text()
