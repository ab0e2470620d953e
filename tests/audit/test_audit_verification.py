"""`latentplay audit verify`: pairs from a store's table or its identities, per-group measures
with a known answer, flagged rows, outputs, report and CLI errors."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.verification import (
    _comparison_figure,
    identity_pairs,
    read_pairs,
    verify_columns,
    verify_store,
)
from latentplay.errors import UserError
from latentplay.metrics.verification import kfold_accuracy, pair_distances
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.io import store_digest

PEOPLE, PHOTOS = 60, 6  # per group


def _store(path: Path, noise: tuple[float, float] = (0.6, 1.2), flagged: list[int] = (),
           extra: dict[str, str] | None = None) -> st.Store:
    """Two groups of 60 people with 6 photos each; a photo's embedding is its person's unit
    vector plus noise whose size depends on the group (B's is twice A's)."""
    rng = np.random.default_rng(0)
    n = 2 * PEOPLE * PHOTOS
    person = np.repeat(np.arange(2 * PEOPLE), PHOTOS)
    group = (person >= PEOPLE).astype(np.int64)
    centre = rng.normal(size=(2 * PEOPLE, 16))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    z = centre[person] + rng.normal(size=(n, 16)) * np.array(noise)[group, None] / 4
    schema = Schema(
        attributes=[Attribute("race", "categorical", names=["A", "B"]),
                    Attribute("identity", "categorical",
                              names=[f"p{i}" for i in range(2 * PEOPLE)]),
                    Attribute("score", "continuous", range=(0, 1)),
                    Attribute("gender", "categorical", names=["f", "m"])],
        provenance=Provenance(source="test", converter="unit", arguments={}, counts={}),
        history=[{"op": "embed", "column": "z", "not_found": list(flagged)}])
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    batch = {"image": [image] * n, "race": group, "identity": person,
             "score": np.zeros(n, np.float32), "gender": person % 2}
    store = st.build([batch], schema, path)
    store = st.add_column(store, "z", z.astype(np.float32))
    return st.save(store, path, extra_files=extra)


def test_identity_pairs_are_what_they_claim() -> None:
    rng = np.random.default_rng(1)
    identity = rng.integers(0, 40, 500)
    groups = identity % 3  # a person stays in one group
    identity[:5] = -1  # unlabelled rows are skipped
    pairs = identity_pairs(identity, groups, 200, seed=3)
    ga, gb = groups[pairs.a], groups[pairs.b]
    assert (ga == gb).all() and (pairs.a < pairs.b).all()
    assert (identity[pairs.a][pairs.same] == identity[pairs.b][pairs.same]).all()
    assert (identity[pairs.a][~pairs.same] != identity[pairs.b][~pairs.same]).all()
    assert (identity[pairs.a] >= 0).all() and (identity[pairs.b] >= 0).all()
    keys = set(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))
    assert len(keys) == len(pairs)  # no pair twice
    for g in range(3):
        mine = ga == g
        assert pairs.same[mine].sum() == 200 and (~pairs.same[mine]).sum() == 200
    again = identity_pairs(identity, groups, 200, seed=3)
    assert np.array_equal(again.a, pairs.a) and np.array_equal(again.b, pairs.b)
    # fewer possible pairs than asked: 3 people x 2 photos have 3 genuine pairs (and 12
    # impostor pairs), so 3 of each are drawn
    few = identity_pairs(np.repeat(np.arange(3), 2), np.zeros(6, np.int64), 100)
    assert few.same.sum() == 3 and (~few.same).sum() == 3


def test_a_group_with_few_genuine_pairs_gets_as_many_impostors() -> None:
    # group 0: 30 people with 4 photos (180 genuine pairs); group 1: 40 people with one photo
    # and 2 with two (2 genuine pairs, hundreds of impostor pairs); group 2: one person (3
    # genuine pairs, no impostor pair): no pair of either kind, it cannot be verified; group 3:
    # one person on 30 photos and one on 1, so 30 impostor pairs, not all of which the draws
    # find: as many genuine pairs as the impostors found
    identity = np.r_[np.repeat(np.arange(30), 4), np.arange(30, 70), [70, 70, 71, 71],
                     [72, 72, 72], np.full(30, 73), [74]]
    groups = np.repeat(np.arange(4), [120, 44, 3, 31])
    pairs = identity_pairs(identity, groups, 100, seed=0)
    ga = groups[pairs.a]
    counts = [(int(pairs.same[ga == g].sum()), int((~pairs.same[ga == g]).sum())) for g in range(4)]
    assert counts[:3] == [(100, 100), (2, 2), (0, 0)]
    assert counts[3][0] == counts[3][1] and 20 <= counts[3][1] <= 30


def test_known_answer_noisier_group_verifies_worse(tmp_path: Path) -> None:
    s = verify_store(str(_store(tmp_path / "s").path), "z", tmp_path / "v", by="race", n_pairs=400,
                     fmr=0.01)                  # the store given by its path
    a, b = s["groups"]
    assert (a["group"], b["group"]) == ("A", "B")
    assert a["genuine"] == b["genuine"] == 400 and a["impostor"] == b["impostor"] == 400
    assert s["pairs"] == {"identity": "identity", "per_group": 400, "used": 1600,
                          "unconverted": 0, "flagged_dropped": 0, "cross_group": 0}
    assert a["accuracy"] > 0.97 and b["accuracy"] < a["accuracy"] - 0.05
    assert a["auc"] > b["auc"] and a["eer"] < b["eer"]
    # one threshold for both: the noisy group misses far more genuine pairs
    assert b["fnmr"] > a["fnmr"] + 0.1
    assert b["fnmr_low"] <= b["fnmr"] <= b["fnmr_high"]
    assert s["intervals"].startswith("Wilson at the effective number of pairs")
    # the threshold holds the pooled FMR at the target
    assert s["overall"]["fmr"] <= 0.01
    diff = s["differentials"]
    assert diff["skewed_error_ratio"] == pytest.approx((1 - b["accuracy"]) / (1 - a["accuracy"]))
    assert 1 < diff["fnmr_ratio_low"] < diff["fnmr_ratio"] < diff["fnmr_ratio_high"]
    assert json.loads((tmp_path / "v" / "verification.json").read_text())["differentials"][
        "fnmr_ratio_low"] == pytest.approx(diff["fnmr_ratio_low"])
    out = tmp_path / "v"
    for name in ("verification.json", "verification.csv", "scores.csv", "det.png",
                 "scores.png", "rates.png", "hardest.png"):
        assert (out / name).is_file(), name
    with open(out / "scores.csv", newline="") as fh:
        scored = list(csv.DictReader(fh))
    assert len(scored) == 1600 and {r["group"] for r in scored} == {"A", "B"}
    with open(out / "verification.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["group"] for r in table] == ["A", "B", "all pairs"]
    assert float(table[1]["fnmr"]) == pytest.approx(b["fnmr"], rel=1e-5)
    # same noise in both groups: no differential worth the name
    even = verify_store(_store(tmp_path / "e", noise=(0.9, 0.9)), "z", tmp_path / "ve",
                        by="race", n_pairs=400, fmr=0.01)
    ea, eb = even["groups"]
    assert abs(ea["accuracy"] - eb["accuracy"]) < 0.04


def test_intersections_of_two_attributes(tmp_path: Path) -> None:
    s = verify_store(_store(tmp_path / "s"), "z", tmp_path / "v", by="race, gender",
                     n_pairs=200, fmr=0.01)
    assert [g["group"] for g in s["groups"]] == ["A / f", "A / m", "B / f", "B / m"]
    assert all(g["genuine"] == 200 and g["faces"] == 180 for g in s["groups"])
    a_f, _, b_f, _ = s["groups"]
    assert a_f["accuracy"] > b_f["accuracy"] + 0.05  # the noisier race stays worse


def test_pairs_table_of_the_store_and_flagged_rows(tmp_path: Path) -> None:
    # row 0 and row 6 are persons 0 and 1; row 1 another photo of person 0
    lines = ["race,row_a,row_b,same", "A,0,1,1", "A,0,6,0", "A,2,-1,1", "B,360,361,1",
             "B,360,366,0", "A,0,400,0"]
    store = _store(tmp_path / "s", flagged=[1], extra={"pairs.csv": "\n".join(lines) + "\n"})
    pairs, unconverted = read_pairs(store.path / "pairs.csv", len(store))
    assert unconverted == 1 and len(pairs) == 5
    s = verify_store(store, "z", tmp_path / "v", by="race", threshold=0.5, folds=2)
    assert s["pairs"]["file"].endswith("pairs.csv") and s["pairs"]["unconverted"] == 1
    assert s["pairs"]["flagged_dropped"] == 1 and s["pairs"]["cross_group"] == 1
    a, b = s["groups"]
    assert (a["genuine"], a["impostor"], a["flagged_dropped"]) == (0, 1, 1)
    assert (a["faces"], b["faces"]) == (360, 360)
    assert a["no_face_share"] == pytest.approx(1 / 360) and b["no_face_share"] == 0.0
    assert (b["genuine"], b["impostor"]) == (1, 1)
    assert a["accuracy"] is None  # too few pairs for two folds: not invented
    assert s["threshold"] == 0.5 and s["threshold_from"] == {"given": 0.5}
    kept = verify_store(store, "z", tmp_path / "k", by="race", threshold=0.5, folds=2,
                        keep_flagged=True)
    assert kept["groups"][0]["genuine"] == 1
    # a column latentplay embed did not make: nothing is known of faces not found
    plain = st.save(st.add_column(store, "w", st.vectors(store, "z")), store.path)
    w = verify_store(plain, "w", tmp_path / "w", by="race", threshold=0.5, folds=2)
    assert w["groups"][0]["no_face_share"] is None and w["pairs"]["flagged_dropped"] == 0
    in_order = verify_store(store, "z", tmp_path / "f", by="race", threshold=0.5, folds=2,
                            file_folds=True)
    assert in_order["fold_order"] == "file" and s["fold_order"] == "random"
    with pytest.raises(UserError, match="file-folds needs pairs from a file"):
        verify_store(store, "z", tmp_path / "x", identity="identity", threshold=0.5,
                     file_folds=True)
    # the same table given by path, and a table of another store
    other = tmp_path / "other.csv"
    other.write_text("row_a,row_b,same\n0,9999,1\n")
    with pytest.raises(UserError, match="another store"):
        verify_store(store, "z", tmp_path / "x", pairs=other, threshold=0.5)
    other.write_text("row_a,row_b,same\n1,2,1\n-1,3,0\n")  # 1 has no face, 3 no image
    with pytest.raises(UserError, match=r"no pairs left to verify \(1 name an unconverted "
                                        r"image, 1 a face"):
        verify_store(store, "z", tmp_path / "x", pairs=other, threshold=0.5)
    other.write_text("row_a,row_b,same\n0,2,1\n6,7,1\n")  # no threshold by FMR without impostors
    with pytest.raises(UserError, match="no impostor pairs .* give --threshold"):
        verify_store(store, "z", tmp_path / "x", pairs=other)
    other.write_text("a,b\n0,1\n")
    with pytest.raises(UserError, match="missing row_a, row_b, same"):
        verify_store(store, "z", tmp_path / "x", pairs=other, threshold=0.5)


def _pairs_file(path: Path, impostor_copies: int) -> Path:
    """Per race 100 genuine pairs (two photos of a person) and 100 impostor pairs (a person's
    photo with the next person's), each impostor line written ``impostor_copies`` times."""
    lines = ["row_a,row_b,same"]
    for first in (0, PEOPLE):
        people = range(first, first + PEOPLE)
        lines += [f"{PHOTOS * p + k},{PHOTOS * p + k + 1},1" for p in people for k in (0, 2)][:100]
        impostors = [f"{PHOTOS * p + k},{PHOTOS * (p + 1) + k},0" for p in people[:-1]
                     for k in (0, 3)][:100]
        lines += [line for line in impostors for _ in range(impostor_copies)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_file_folds_follow_the_fold_column_whatever_pairs_are_left_out(tmp_path: Path) -> None:
    """Per race 5 folds of 20 genuine and 20 impostor pairs, in a fold column. Race A loses all
    of fold 0, race B three genuine and three impostor pairs of it (unconverted images): every
    other pair stays in its fold, and each accuracy is that of the file's folds over the pairs
    left (not of consecutive runs, which the same file without the column gets)."""
    store = _store(tmp_path / "s")
    lines = _pairs_file(tmp_path / "p.csv", 1).read_text().splitlines()[1:]
    fold = [(k % 100) // 20 for k in range(len(lines))]  # race, kind, then fold by position
    dropped = [k for k, f in enumerate(fold) if f == 0 and (k < 200 or k % 20 < 3)]
    kept = [line if k not in dropped else "-1," + line.split(",", 1)[1]
            for k, line in enumerate(lines)]
    with_folds = tmp_path / "folds.csv"
    with_folds.write_text("fold,row_a,row_b,same\n"
                          + "".join(f"{f},{line}\n" for f, line in zip(fold, kept, strict=True)))
    plain = tmp_path / "plain.csv"
    plain.write_text("row_a,row_b,same\n" + "".join(f"{line}\n" for line in kept))
    s = verify_store(store, "z", tmp_path / "v", by="race", threshold=1.5, folds=5,
                     file_folds=True, pairs=with_folds)
    runs = verify_store(store, "z", tmp_path / "r", by="race", threshold=1.5, folds=5,
                        file_folds=True, pairs=plain)
    assert s["fold_order"] == "fold column" and runs["fold_order"] == "file"
    assert s["pairs"]["unconverted"] == len(dropped) == 46
    table = np.array([[int(v) for v in line.split(",")] for line in lines])
    left = np.ones(len(lines), bool)
    left[dropped] = False
    z = st.vectors(store, "z")
    d = pair_distances(z, table[left, 0], table[left, 1], "euclidean")
    same, folds = table[left, 2] == 1, np.array(fold)[left]
    race = np.arange(len(lines))[left] >= 200  # B
    for g, row, run in zip((False, True), s["groups"], runs["groups"], strict=True):
        mine = race == g
        mean, _, per_fold = kfold_accuracy(d[mine], same[mine], fold=folds[mine])
        assert row["accuracy"] == pytest.approx(mean) and len(per_fold) == 4 + g
        assert run["accuracy"] != pytest.approx(mean)
    assert s["overall"]["accuracy"] == pytest.approx(kfold_accuracy(d, same, fold=folds)[0])
    with pytest.raises(UserError, match="names 5 folds; give --folds 5"):
        verify_store(store, "z", tmp_path / "x", threshold=1.5, file_folds=True, pairs=with_folds)
    with_folds.write_text("fold,row_a,row_b,same\n" + "".join(   # folds named by text read alike
        f"split_{f},{line}\n" for f, line in zip(fold, kept, strict=True)))
    named = verify_store(store, "z", tmp_path / "named", by="race", threshold=1.5, folds=5,
                         file_folds=True, pairs=with_folds)
    assert named["overall"]["accuracy"] == pytest.approx(s["overall"]["accuracy"])
    with_folds.write_text("fold,row_a,row_b,same\n,0,1,1\n")
    with pytest.raises(UserError, match="1 pairs have a blank cell in the pairs file's fold"):
        verify_store(store, "z", tmp_path / "x", threshold=1.5, file_folds=True, pairs=with_folds)


def test_accuracy_of_a_pairs_file_does_not_follow_its_mix(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Accuracy is balanced: each impostor pair three times over leaves every group's accuracy
    where it was (file-order folds: the same folds), and the outputs say the groups are
    unbalanced."""
    store = _store(tmp_path / "s")
    once, thrice = (verify_store(store, "z", tmp_path / f"v{k}", by="race", threshold=1.5,
                                 file_folds=True, pairs=_pairs_file(tmp_path / f"{k}.csv", k))
                    for k in (1, 3))
    assert [g["impostor"] for g in thrice["groups"]] == [300, 300]
    b = once["groups"][1]
    assert 0.55 < b["accuracy"] < 0.95  # the noisy group errs: the mix could move it
    for g1, g3 in zip([*once["groups"], once["overall"]], [*thrice["groups"], thrice["overall"]],
                      strict=True):
        assert g3["accuracy"] == pytest.approx(g1["accuracy"])
    assert once["unbalanced"] == [] and thrice["unbalanced"] == ["A", "B"]
    assert thrice["accuracy_measure"].startswith("balanced")
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "race", "--threshold", "1.5",
            "--pairs", tmp_path / "3.csv", "--out", tmp_path / "c")
    assert r.code == 0 and "accuracy is balanced" in r.out and "A, B hold unequal" in r.out
    assert "unequal numbers in A, B" in build_report(tmp_path / "c").read_text()
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "race", "--threshold", "1.5",
            "--pairs", tmp_path / "1.csv", "--out", tmp_path / "d")
    assert r.code == 0 and "accuracy is balanced" not in r.out


def test_report_and_cli(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    store = _store(tmp_path / "s")
    out = tmp_path / "v"
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "race", "--n-pairs", "300",
            "--fmr", "0.01", "--metric", "cosine", "--out", out)
    assert r.code == 0, r.err
    assert "A: accuracy" in r.out and "skewed error ratio" in r.out
    saved = json.loads((out / "verification.json").read_text())
    assert saved["metric"] == "cosine"
    assert saved["made_by"]["command"] == (f"latentplay audit verify {store.path} --column z --by race "
                                           f"--n-pairs 300 --fmr 0.01 --metric cosine --out {out}")
    html = build_report(out).read_text()
    assert "Verification with z" in html and "skewed error ratio" in html
    assert html.count("data:image/png") == 4
    # an FMR the pairs cannot measure, a continuous --by, no identity: one line, exit 2
    for args, message in ((["--fmr", "0.0001"], "needs at least 10000 impostor"),
                          (["--by", "score"], "continuous"),
                          (["--persons", "race", "--by", "race"], "no pairs to draw"),
                          (["--by", "identity"], "--by groups the persons"),
                          (["--persons", "nobody"], "no attribute 'nobody'")):
        r = cli("audit", "verify", store.path, "--column", "z", "--out", tmp_path / "e",
                "--overwrite", *args)
        assert r.code == 2 and message in r.err, (args, r.err)


def test_columns_compared_on_the_same_pairs(tmp_path: Path, cli) -> None:  # noqa: ANN001
    store = _store(tmp_path / "s", flagged=[0, 1, 2])  # z's embedder missed three faces
    noisy = st.vectors(store, "z") + np.random.default_rng(5).normal(size=(720, 16)) * 0.3
    store = st.save(st.add_column(store, "w", noisy.astype(np.float32)), store.path)
    entry = {"op": "embed", "column": "w", "not_found": [400]}  # w's missed another
    store = st.save(st.Store(store.dataset, dataclasses.replace(
        store.schema, history=[*store.schema.history, entry]), store.path), store.path)
    r = cli("audit", "verify", store.path, "--column", "z,w", "--by", "race", "--fmr", "0.01",
            "--n-pairs", "300", "--out", tmp_path / "c")  # verify_columns, then its printout
    assert r.code == 0 and "the same for every column" in r.out and "  w: accuracy" in r.out
    c = json.loads((tmp_path / "c" / "verification_comparison.json").read_text())
    z_run = json.loads((tmp_path / "c" / "z" / "verification.json").read_text())
    w_run = json.loads((tmp_path / "c" / "w" / "verification.json").read_text())
    assert z_run["pairs"]["used"] == w_run["pairs"]["used"] == c["pairs_used"]
    assert z_run["pairs"]["flagged_dropped"] == w_run["pairs"]["flagged_dropped"] > 0
    assert c["pairs"] == z_run["pairs"] and c["groups_without_pairs"] == []
    assert c["made_by"]["command"] == w_run["made_by"]["command"] == (
        f"latentplay audit verify {store.path} --column z,w --by race --fmr 0.01 --n-pairs 300 "
        f"--out {tmp_path / 'c'}")
    assert c["data_digest"] == z_run["data_digest"] == store_digest(st.load(store.path))
    assert f"{c['pairs']['flagged_dropped']} with a face an embedder did not find" in r.out
    used = np.loadtxt(tmp_path / "c" / "z" / "scores.csv", delimiter=",", skiprows=1,
                      usecols=(0, 1), dtype=int)
    assert not np.isin(used, [0, 1, 2, 400]).any()  # no face either embedder missed
    z_acc, w_acc = (c["per_column"][k]["overall"]["accuracy"] for k in ("z", "w"))
    assert z_acc > w_acc  # the extra noise costs accuracy
    assert (tmp_path / "c" / "comparison.png").is_file()
    with pytest.raises(UserError, match="no column 'v'"):
        verify_columns(store.path, ["z", "v"], tmp_path / "d")      # by its path alike
    assert not (tmp_path / "d").exists()  # refused before anything is written
    with pytest.raises(UserError, match="common --fmr"):
        verify_columns(store, ["z", "w"], tmp_path / "d", threshold=0.5)
    html = build_report(tmp_path / "c").read_text()
    assert "Columns compared" in html and 'id="verification-w"' in html


def test_comparison_figure_is_told_the_fold_count(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``comparison.png`` names the accuracy's fold count: the runs' own, not a fixed 10."""
    import latentplay.viz.verification as viz

    seen = {}
    real = viz.column_bars

    def spy(*args: object) -> object:
        seen["folds"] = args[-1]
        return real(*args)

    monkeypatch.setattr(viz, "column_bars", spy)
    row = {"group": "a", "accuracy": 0.9, "accuracy_std": 0.01, "fmr": 0.01, "fnmr": 0.1}
    comparison = {"columns": ["z", "w"], "groups": ["a"], "fmr": 0.01,
                  "per_column": {c: {"groups": [row]} for c in ("z", "w")}}
    _comparison_figure(tmp_path, comparison, 4)
    assert seen["folds"] == 4 and (tmp_path / "comparison.png").is_file()


def _turned_store(path: Path) -> st.Store:
    """Two groups of 80 people, 6 photos each; a photo's noise grows with its head turn
    (``turn`` in [0, 1]) and with nothing else, but B's photos are more often turned (75 %
    of A's turns are below 0.5, 75 % of B's above). Any FNMR gap is the photos'."""
    rng = np.random.default_rng(4)
    people = 80
    person = np.repeat(np.arange(2 * people), PHOTOS)
    group = (person >= people).astype(np.int64)
    high = rng.random(len(person)) < np.where(group == 1, 0.75, 0.25)
    turn = np.where(high, rng.uniform(0.5, 1.0, len(person)), rng.uniform(0, 0.5, len(person)))
    centre = rng.normal(size=(2 * people, 16))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    z = centre[person] + rng.normal(size=(len(person), 16)) * (0.05 + 0.4 * turn[:, None])
    schema = Schema(
        attributes=[Attribute("race", "categorical", names=["A", "B"]),
                    Attribute("identity", "categorical", names=[f"p{i}" for i in range(2 * people)]),
                    Attribute("turn", "continuous", range=(0, 1))],
        provenance=Provenance(source="test", converter="unit", arguments={}, counts={}))
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(person),
             "race": group, "identity": person, "turn": turn.astype(np.float32)}
    store = st.build([batch], schema, path)
    return st.save(st.add_column(store, "z", z.astype(np.float32)), path)


def test_a_pairs_value_of_a_covariate_by_hand(tmp_path: Path) -> None:
    """A pair's value from its two photos' (``--adjust ATTR:how``), the worse (lower) one by
    default; ``diff`` how far apart they are, whichever photo is first."""
    from latentplay.audit.verification import PAIR_VALUES, _covariate

    a, b = np.array([1.0, 5.0]), np.array([4.0, 2.0])
    assert [PAIR_VALUES[k](a, b).tolist() for k in ("min", "max", "mean", "diff")] == [
        [1, 2], [4, 5], [2.5, 3.5], [3, 3]]
    assert _covariate(_turned_store(tmp_path / "s"), "turn")[:2] == ("turn", "min")


def test_standardizing_over_the_turn_removes_the_gap_it_caused(tmp_path: Path, cli) -> None:
    store = _turned_store(tmp_path / "s")
    s = verify_store(store, "z", tmp_path / "v", by="race", n_pairs=600, fmr=0.01,
                     adjust=["turn:max"], strata=4)
    adjusted = s["adjusted"]
    assert adjusted["covariates"] == ["turn:max"] and adjusted["cells"] == 4
    assert adjusted["pairs"] == s["overall"]["genuine"] and adjusted["left_out"] == 0
    a, b = adjusted["groups"]
    assert [a["fnmr"], b["fnmr"]] == [g["fnmr"] for g in s["groups"]]  # the same pairs, threshold
    assert adjusted["fnmr_ratio"] > 2  # B's photos are more turned
    assert adjusted["standardized_ratio"] < 1.4  # among comparable pairs the gap is gone
    for g in (a, b):
        assert g["interval"][0] <= g["standardized"] <= g["interval"][1]
    rows = list(csv.DictReader((tmp_path / "v" / "adjusted.csv").read_text().splitlines()))
    assert [r["group"] for r in rows] == ["A", "B"]
    assert [float(r["sparse_weight"]) for r in rows] == [pytest.approx(g["sparse_weight"], rel=1e-5)
                                                         for g in (a, b)]
    text = build_report(tmp_path / "v").read_text(encoding="utf-8")
    assert "standardized FNMR" in text
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "race", "--n-pairs", "600",
            "--fmr", "0.01", "--adjust", "turn:max", "--out", tmp_path / "c")
    assert r.code == 0, r.err
    assert "FNMR standardized over 4 quantile strata of turn:max (4 cells, " in r.out
    assert "FNMR ratio" in r.out
    for bad, message in ((["--adjust", "race"], "categorical"),
                         (["--adjust", "turn:worst"], "one of min, max, mean, diff"),
                         (["--adjust", "turn", "--strata", "1"], "--strata must be")):
        r = cli("audit", "verify", store.path, "--column", "z", "--by", "race",
                "--out", tmp_path / "bad", *bad)
        assert r.code == 2 and message in r.err, r.err


def test_rate_trend_is_the_least_squares_slope() -> None:
    from latentplay.metrics.verification import rate_trend

    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 4000)
    errors = rng.random(4000) < 0.05 + 0.03 * x
    found = rate_trend(errors, x, units=rng.integers(0, 400, 4000))
    assert found["slope"] == pytest.approx(np.polyfit(x, errors.astype(float), 1)[0])
    assert found["low"] < 0.03 < found["high"] and found["high"] - found["low"] < 0.02
    flat = rate_trend(rng.random(4000) < 0.1, x)
    assert flat["low"] < 0 < flat["high"]
    assert np.isnan(rate_trend(errors, np.zeros(4000))["slope"])  # one position: no slope


def test_a_dyadic_slope_interval_is_never_narrower_than_independent_pairs() -> None:
    """Five pairs of five persons, errors 1, 0, 0, 1, 0 at group places 1, 1, 1, 0, 1: the
    slope is 1/4 - 1 = -0.75, the residuals 0.75, -0.25, -0.25, 0, -0.25 at x = 0.2, 0.2,
    0.2, -0.8, 0.2 (sum of squares 0.8), so the independent pairs' (HC1) variance is
    0.04 x 0.75 / 0.64 x 5 / 3 = 0.078125. The products of pairs that share a person sum
    to less than nothing here (-0.02): the interval is the independent pairs', where it was
    none (the square root of a negative variance)."""
    from latentplay.metrics.verification import slope_interval

    found = slope_interval(np.array([1.0, 0, 0, 1, 0]), np.array([1, 1, 1, 0, 1]),
                           np.array([[2, 4], [3, 4], [4, 0], [1, 4], [1, 2]]))
    assert found["slope"] == pytest.approx(-0.75)
    assert found["high"] - found["slope"] == pytest.approx(1.959964 * np.sqrt(0.078125), rel=1e-4)
    assert found["slope"] - found["low"] == pytest.approx(found["high"] - found["slope"])


def test_rate_trend_over_few_persons_holds_the_slope() -> None:
    """300 sets of 8 persons of 10 photos, each person in one of 4 ordered groups, a value
    0.1 x the group's place plus the person's own and the photo's (normal, sd 1 each): the
    interval over persons holds the slope 0.1 in at least 92 % of the sets (97 %); the plain
    2.5 and 97.5 percentiles of the persons' bootstrap held it in 89 %
    (bench/coverage_means.py's ``slope``)."""
    from latentplay.metrics.verification import rate_trend

    rng = np.random.default_rng(2)
    persons = np.repeat(np.arange(8), 10)
    held = 0
    for seed in range(300):
        group = rng.integers(0, 4, 8)[persons].astype(float)
        value = 0.1 * group + rng.normal(size=8)[persons] + rng.normal(size=80)
        found = rate_trend(value, group, persons, n_boot=400, seed=seed)
        held += found["low"] <= 0.1 <= found["high"]
    assert held / 300 >= 0.92


def test_errors_along_ordered_groups(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    """Four ordered tones whose photos get noisier tone by tone: FNMR rises along the order,
    with an interval over persons that leaves out 0; unordered groups get no trend."""
    rng = np.random.default_rng(2)
    people, photos, tones = 40, 5, 4
    person = np.repeat(np.arange(tones * people), photos)
    tone = person // people
    centre = rng.normal(size=(tones * people, 16))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    z = centre[person] + rng.normal(size=(len(person), 16)) * (0.15 + 0.08 * tone)[:, None]
    schema = Schema(
        attributes=[Attribute("tone", "categorical", names=[f"t{k}" for k in range(tones)],
                              ordered=True),
                    Attribute("site", "categorical", names=[f"s{k}" for k in range(tones)]),
                    Attribute("identity", "categorical",
                              names=[f"p{i}" for i in range(tones * people)])],
        provenance=Provenance(source="test", converter="unit"))
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    path = tmp_path / "s"
    store = st.build([{"image": [image] * len(person), "tone": tone, "site": tone,
                       "identity": person}], schema, path)
    st.save(st.add_column(store, "z", z.astype(np.float32)), path)
    out = tmp_path / "v"
    r = cli("audit", "verify", path, "--column", "z", "--by", "tone", "--n-pairs", "300",
            "--fmr", "0.01", "--out", out)
    assert r.code == 0, r.err
    summary = json.loads((out / "verification.json").read_text())
    fnmr = summary["trend"]["fnmr"]
    rates = [g["fnmr"] for g in summary["groups"]]
    assert rates == sorted(rates) and fnmr["slope"] > 0.02 and fnmr["low"] > 0
    assert summary["trend"]["intervals"] == "dyadic-robust normal (persons of both faces)"
    assert "along t0 .. t3: FMR" in r.out and "FNMR +0." in r.out
    assert "change per step" in build_report(out).read_text()
    unordered = verify_store(st.load(path), "z", tmp_path / "u", by="site", n_pairs=300, fmr=0.01)
    assert "trend" not in unordered


def test_pairs_of_a_store_without_identities_count_the_found_persons(tmp_path: Path) -> None:
    """No identity attribute, but the persons `data persons` found: the intervals are over
    them."""
    from latentplay import sources
    from latentplay.store.persons import persons_store

    path = tmp_path / "anonymous"
    store = sources.make("synthfaces", path, n=80, seed=0)
    person = np.arange(80) % 20
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((20, 8))[person] * 3 + 0.05 * rng.standard_normal((80, 8)))
    st.save(st.add_column(store, "z", z.astype(np.float32)), path)
    persons_store(path, "z", threshold=0.6)
    lines = ["row_a,row_b,same"] + [f"{i},{i + 20},1" for i in range(20)] + [
        f"{i},{(i + 1) % 20 + 20},0" for i in range(20)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    s = verify_store(st.load(path), "z", tmp_path / "v", pairs=pairs, threshold=0.6, folds=2)
    assert "over the person of both faces" in s["intervals"]


def test_pair_cells_no_group_fills_are_not_missing_strata() -> None:
    """Two covariates that move together fill only the diagonal of their 2 x 2 cells: the
    empty corners weigh nothing, so no group lacks a stratum; a group that lacks a filled
    cell still counts it."""
    from latentplay.audit.verification import Pairs, _adjusted

    x = np.linspace(0, 1, 40)                    # one value per photo; pair i is photos 2i, 2i+1
    pairs = Pairs(np.arange(0, 40, 2), np.arange(1, 40, 2), np.ones(20, bool))
    covariates = [("c1", "min", x), ("c2", "min", x + 0.001)]
    nonmatch = x[::2] > 0.7
    found = _adjusted(covariates, 2, pairs, np.arange(20) % 2, ["a", "b"], nonmatch, None, 0)
    assert found["cells"] == 4
    for g in found["groups"]:
        assert g["standardized"] is not None and g["strata_without_pairs"] == 0
    low = _adjusted(covariates, 2, pairs, (x[::2] > 0.5).astype(int), ["a", "b"], nonmatch,
                    None, 0)
    assert [g["strata_without_pairs"] for g in low["groups"]] == [1, 1]


def test_no_standardized_ratio_over_part_of_the_groups() -> None:
    """A group photographed only one way (c: pairs of the lower stratum alone) cannot be
    standardized; the ratio over the others would hide it, so there is none (as audit
    accuracy's), while the raw FNMR ratio covers every group."""
    from latentplay.audit.verification import Pairs, _adjusted

    i = np.arange(60)
    group = np.where(i < 30, i % 3, i % 2)  # c (2) only among the 30 lower pairs
    pairs = Pairs(np.arange(0, 120, 2), np.arange(1, 120, 2), np.ones(60, bool))
    found = _adjusted([("c", "min", np.repeat(np.linspace(0, 1, 60), 2))], 2, pairs, group,
                      ["a", "b", "c"], i % 4 == 0, None, 0)
    a, b, c = found["groups"]
    assert a["standardized"] is not None and b["standardized"] is not None
    assert c["standardized"] is None and c["strata_without_pairs"] == 1
    assert found["standardized_ratio"] is None and found["fnmr_ratio"] is not None


def test_tied_pair_values_and_sparse_groups_are_recorded_and_printed(capsys) -> None:  # noqa: ANN001
    """A 0/1 covariate (0 on 40 of 63 genuine pairs) asked for 4 strata gives 2, 2 of 4 cells
    filled; b has 3 pairs in the upper stratum (23 of 63 pairs), so 37 % of its standardized
    FNMR's weight rests on 3 pairs. Both are recorded and printed as audit accuracy does."""
    from latentplay.audit.cli import _print_verification
    from latentplay.audit.verification import Pairs, _adjusted

    value = np.r_[np.zeros(20), np.ones(20), np.zeros(20), np.ones(3)]  # one per pair
    group = np.r_[np.zeros(40, int), np.ones(23, int)]
    pairs = Pairs(np.arange(0, 126, 2), np.arange(1, 126, 2), np.ones(63, bool))
    found = _adjusted([("c", "min", np.repeat(value, 2))], 4, pairs, group, ["a", "b"],
                      np.arange(63) % 3 == 0, None, 0)
    assert (found["strata_used"], found["cells"], found["cells_filled"]) == ([2], 4, 2)
    a, b = found["groups"]
    assert a["sparse_weight"] == 0 and b["sparse_weight"] == pytest.approx(23 / 63)
    overall = {"group": "all", "no_face_share": None, "accuracy": 0.9, "auc": 0.95, "fmr": 0.01,
               "fnmr": 0.3, "genuine": 63, "impostor": 63}
    _print_verification({"pairs": {"used": 126, "unconverted": 0, "flagged_dropped": 0},
                         "overall": overall, "column": "z", "metric": "cosine", "threshold": 0.5,
                         "by": None, "differentials": None, "adjusted": found})
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("FNMR standardized"))
    assert lines[start] == ("FNMR standardized over 4 quantile strata of c:min (ties leave 2 "
                            "strata of c:min; 2 of 4 cells filled, 63 genuine pairs):")
    assert "under 5 pairs" not in lines[start + 1]
    assert "37% of the weight on strata where it has under 5 pairs" in lines[start + 2]


def test_an_interrupted_verification_leaves_its_out_as_it_was(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while drawing its figures, a verification left its tables in --out without the
    figures (running it again was refused as not empty), or beside an earlier run's figures
    with --overwrite; now --out is as it was, and running it again works."""
    from latentplay.viz import grid

    store = _store(tmp_path / "s")
    out = tmp_path / "v"
    verify_store(store, "z", out, by="race", threshold=0.5, folds=2)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    save = grid.save_figure

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(grid, "save_figure", killed)
    with pytest.raises(KeyboardInterrupt):
        verify_store(store, "z", out, by="race", threshold=0.7, folds=2, overwrite=True)
    with pytest.raises(KeyboardInterrupt):
        verify_store(store, "z", tmp_path / "new", by="race", threshold=0.5, folds=2)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "s", "v"]   # no scratch left
    monkeypatch.setattr(grid, "save_figure", save)
    verify_store(store, "z", tmp_path / "new", by="race", threshold=0.5, folds=2)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(before)


def test_an_fmr_needs_one_over_it_impostor_pairs() -> None:
    """An FMR of 0.01 is measured on 100 impostor pairs (the threshold: the second smallest
    distance, below which 1 of 100 lies) and refused on 50 (half a pair)."""
    from latentplay.audit.verification import _common_threshold

    assert _common_threshold(np.arange(100.0), None, 0.01) == (1.0, {"fmr": 0.01})
    with pytest.raises(UserError, match="needs at least 100 impostor pairs, there are 50"):
        _common_threshold(np.arange(50.0), None, 0.01)


def test_a_pair_at_the_threshold_does_not_match_in_the_interval_over_persons() -> None:
    """Impostor distances 0.1 to 0.4 at threshold 0.3 (an impostor distance, as a threshold
    set by --fmr is): 2 false matches (d < t), in the rate and in its interval over persons."""
    from latentplay.audit.verification import _group
    from latentplay.clustered import pair_rate_interval

    d = np.array([0.1, 0.2, 0.3, 0.4, 0.05, 0.5])
    same = np.array([False] * 4 + [True] * 2)
    persons = np.arange(12).reshape(6, 2)
    row = _group("g", d, same, 0.3, 10, 0, persons)
    assert row["false_matches"] == 2 and row["fmr"] == pytest.approx(0.5)
    low, high, _ = pair_rate_interval(np.array([True, True, False, False]), persons[:4])
    assert (row["fmr_low"], row["fmr_high"]) == pytest.approx((low, high))


def _groups_of_pairs(rates: tuple[float, ...], seed: int, persons: int = 40, each: int = 5
                     ) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group with error ``rates[g]``: ``persons`` persons, each in ``each`` genuine pairs
    and first in ``each`` impostor pairs with the next ``each`` of the group, each pair an error with
    that chance (distance 1 for a genuine pair not matched, 0 for an impostor matched, at
    threshold 0.5); the group rows as verify_store writes them, and the pairs' group codes,
    ``same``, ``matched`` and ``(P, 2)`` persons."""
    from latentplay.audit.verification import _group

    rng = np.random.default_rng(seed)
    groups, group_of, same, error, two = [], [], [], [], []
    for g, rate in enumerate(rates):
        person = np.repeat(g * 1000 + np.arange(persons), each)
        other = g * 1000 + (person % 1000 + 1 + np.tile(np.arange(each), persons)) % persons
        pair_persons = np.r_[np.c_[person, person], np.c_[person, other]]
        kind = np.r_[np.ones(len(person), bool), np.zeros(len(person), bool)]
        wrong = rng.random(len(kind)) < rate
        d = np.where(kind == wrong, 1.0, 0.0)
        groups.append(_group(f"g{g}", d, kind, 0.5, 2, 0, pair_persons))
        group_of.append(np.full(len(kind), g))
        same.append(kind)
        error.append(wrong)
        two.append(pair_persons)
    same_, error_ = np.concatenate(same), np.concatenate(error)
    return groups, np.concatenate(group_of), same_, same_ != error_, np.concatenate(two)


def test_the_ratio_intervals_hold_one_at_parity_and_exclude_it_far_from_it() -> None:
    """FMR and FNMR of three groups, 40 persons each in 200 genuine and 200 impostor pairs, 20
    seeds: with every rate 0.1 the true ratio 1 lies in the interval (its low end is 1) in
    most seeds; with rates 0.05, 0.1 and 0.3 (true ratio 6) the interval excludes 1 in every
    seed and holds 6 in most."""
    from latentplay.audit.verification import ratio_intervals

    def found(rates: tuple[float, ...], seed: int) -> dict:
        groups, group_of, same, matched, persons = _groups_of_pairs(rates, seed)
        return ratio_intervals(groups, group_of, same, matched, persons, seed, n_boot=500)

    equal = [found((0.1, 0.1, 0.1), seed) for seed in range(20)]
    apart = [found((0.05, 0.1, 0.3), seed) for seed in range(20)]
    for key in ("fmr", "fnmr"):
        assert sum(r[f"{key}_ratio_low"] == 1 for r in equal) >= 17, key
        assert all(r[f"{key}_ratio_low"] > 1 for r in apart), key
        assert sum(r[f"{key}_ratio_low"] <= 6 <= r[f"{key}_ratio_high"] for r in apart) >= 17, key


def test_a_ratio_without_a_value_has_no_interval() -> None:
    """A group without a false match or non-match: the ratios (highest over lowest) are None,
    and so are their intervals."""
    from latentplay.audit.verification import across_groups, ratio_intervals

    groups, group_of, same, matched, persons = _groups_of_pairs((0.0, 0.2), 0)
    found = across_groups(groups, ratio_intervals(groups, group_of, same, matched, persons, 0))
    assert groups[0]["fnmr"] == 0 and groups[0]["fmr"] == 0
    assert found["fnmr_ratio"] is None and found["fnmr_ratio_low"] is None
    assert found["fnmr_ratio_high"] is None and found["fmr_ratio_low"] is None


def test_a_ratio_interval_is_as_wide_as_the_groups_own_intervals_allow() -> None:
    """One person in 20 genuine pairs, 10 missed (FNMR 0.5), against 40 persons in 200 pairs,
    50 missed (0.25): drawing persons never moves the one person's rate, yet the ratio 2 is no
    surer than the two rates are. On the log scale each rate's SD is its interval's width over
    2 x 1.96; the ratio's interval reaches at least 1.96 x their root sum of squares either
    side of log 2."""
    from latentplay.audit.verification import _group, ratio_intervals

    lone = np.zeros((20, 2), np.int64)
    many = np.repeat(np.arange(1, 41), 5)[:, None].repeat(2, axis=1)
    missed = np.r_[np.arange(20) < 10, np.arange(200) < 50]
    d = missed.astype(float)                      # genuine: distance 1 is missed at t = 0.5
    group_of = np.r_[np.zeros(20, np.int64), np.ones(200, np.int64)]
    persons = np.r_[lone, many]
    same = np.ones(220, bool)
    groups = [_group(f"g{g}", d[group_of == g], same[group_of == g], 0.5, 2, 0,
                     persons[group_of == g]) for g in (0, 1)]
    assert [g["fnmr"] for g in groups] == [0.5, 0.25]
    sd = [(np.log(g["fnmr_high"]) - np.log(g["fnmr_low"])) / (2 * 1.96) for g in groups]
    reach = 1.96 * np.hypot(*sd)
    found = ratio_intervals(groups, group_of, same, d < 0.5, persons, 0)
    assert found["fnmr_ratio_low"] <= max(1.0, 2 * np.exp(-reach)) + 1e-9
    assert found["fnmr_ratio_high"] >= 2 * np.exp(reach) - 1e-9
