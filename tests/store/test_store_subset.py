"""`latentplay data subset`: filtered, balanced and random subsets that keep every column."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.subset import parse_where, select_rows, subset


@pytest.fixture
def coded(faces_store: Path, tmp_path: Path) -> st.Store:
    """``faces_store`` with a vector column and an embed history entry flagging rows 3 and 7."""
    data = st.load(faces_store)
    data = st.add_column(data, "row", np.arange(len(data), dtype=np.float32)[:, None])
    entry = {"op": "embed", "column": "row", "rows": len(data), "not_found": [3, 7]}
    data = dataclasses.replace(data, schema=dataclasses.replace(
        data.schema, history=[*data.schema.history, entry]))
    return st.save(data, tmp_path / "coded")


def test_where_is_and_of_conditions(coded: st.Store) -> None:
    gender, glasses = coded.labels("gender"), coded.labels("eyeglasses")
    rows = select_rows(coded, where=parse_where(["gender=female", "eyeglasses=yes"]))
    expected = np.flatnonzero((gender == 0) & (glasses == 1))
    assert np.array_equal(rows, expected) and len(rows) > 0
    smile = coded.labels("smile")
    rows = select_rows(coded, where=parse_where(["smile=0.5:1"]))
    assert np.array_equal(rows, np.flatnonzero((smile >= 0.5) & (smile <= 1)))
    both = select_rows(coded, where=parse_where(["gender=female,male"]))
    assert len(both) == len(coded)
    # a reversed range matched nothing ("no row matches every --where condition"): named
    with pytest.raises(UserError, match=r"^--where smile=1:0.5: the range's low bound is above "
                                        r"its high one; give low:high, e.g. smile=0.5:1$"):
        select_rows(coded, where=parse_where(["smile=1:0.5"]))
    # an open end (it was refused); a NaN bound (it was called a reversed range)
    rows = select_rows(coded, where=parse_where(["smile=0.5:"]))
    assert np.array_equal(rows, np.flatnonzero(smile >= 0.5))
    lowest = float(np.nanmin(smile))          # both ends are inside the range
    rows = select_rows(coded, where=parse_where([f"smile={lowest!r}:{lowest!r}"]))
    assert len(rows) and np.array_equal(rows, np.flatnonzero(smile == lowest))
    with pytest.raises(UserError, match=r"^--where smile=nan:1: a bound is a number, not NaN$"):
        select_rows(coded, where=parse_where(["smile=nan:1"]))


def test_where_reads_class_names_with_commas_and_numbers(coded: st.Store) -> None:
    """``data bin`` names groups ``[0.3, 0.6)``; a class named ``1`` is never read as code 1."""
    from latentplay.store.binning import bin_store
    from latentplay.store.regroup import regroup_store

    binned = bin_store(coded, "smile", edges=[0.3, 0.6])
    group = binned.labels("smile_group")
    rows = select_rows(binned, where=parse_where(["smile_group=[0.3, 0.6), >=0.6"]))
    assert np.array_equal(rows, np.flatnonzero(group >= 1)) and (group == 0).any()
    numbered = regroup_store(binned, "gender", {"1": ["female"], "2": ["male"]}, name="num")
    rows = select_rows(numbered, where=parse_where(["num=1"]))
    assert np.array_equal(rows, np.flatnonzero(numbered.labels("gender") == 0))
    with pytest.raises(UserError, match="no value '0'; values: 1, 2"):
        select_rows(numbered, where=parse_where(["num=0"]))
    assert len(select_rows(coded, where=parse_where(["gender=0"]))) > 0   # codes elsewhere


def test_where_names_an_attribute_once() -> None:
    """Repeated, the values were pooled: "repeat to AND" gave rows of either."""
    with pytest.raises(UserError, match="skin_tone is given twice"):
        parse_where(["skin_tone=monk_1,monk_2", "skin_tone=monk_2,monk_3"])


def test_balanced_and_random(coded: st.Store) -> None:
    tones = coded.labels("skin_tone")
    smallest = min(np.bincount(tones)[np.bincount(tones) > 0])
    rows = select_rows(coded, balance_by="skin_tone", seed=1)
    counts = np.bincount(tones[rows], minlength=10)
    assert set(counts[counts > 0]) == {smallest} and np.all(np.diff(rows) > 0)
    assert not np.array_equal(rows, select_rows(coded, balance_by="skin_tone", seed=2))
    rows = select_rows(coded, balance_by="gender", n=101, seed=0)
    assert np.array_equal(np.bincount(coded.labels("gender")[rows]), [50, 50])
    rows = select_rows(coded, n=37, seed=0)
    assert len(rows) == 37 and len(set(rows)) == 37


def test_balance_draws_each_class_from_its_rows_in_order(coded: st.Store) -> None:
    """One seeded draw per class, class after class, each from that class's matching rows in
    the store's order: the rows a seed gave stay those it gives."""
    tones, glasses = coded.labels("skin_tone"), coded.labels("eyeglasses")
    rows = select_rows(coded, where=parse_where(["eyeglasses=no"]), balance_by="skin_tone",
                       per_class=3, seed=4)
    rng, matching = np.random.default_rng(4), np.flatnonzero(glasses == 0)
    expected = [rng.choice(matching[tones[matching] == c], size=3, replace=False)
                for c in np.unique(tones[matching])]
    assert np.array_equal(rows, np.sort(np.concatenate(expected)))


def test_balance_leaves_unknown_rows_out(coded: st.Store) -> None:
    """``unknown`` is no class: balanced as one, it made a third of the rows and its count
    set every class's."""
    from latentplay.store.regroup import regroup_store

    tone = regroup_store(coded, "skin_tone", {"light": ["monk_1", "monk_2", "monk_3"],
                                              "dark": ["monk_8", "monk_9", "monk_10"]}, name="tone")
    codes, names = tone.labels("tone"), tone.schema.attribute("tone").level_names
    assert names[-1] == "unknown" and (codes == 2).any()
    rows = select_rows(tone, balance_by="tone", seed=0)
    counts = np.bincount(codes[rows], minlength=3)
    assert counts[2] == 0 and counts[0] == counts[1] == min(np.bincount(codes)[:2])
    with pytest.raises(UserError, match="no matching row has a class"):
        select_rows(tone, where={"tone": ["unknown"]}, balance_by="tone")


def test_subset_keeps_columns_and_renumbers_history(coded: st.Store, tmp_path: Path) -> None:
    rows = np.array([0, 3, 5, 8, 9])
    new = subset(coded, tmp_path / "small", rows, selection={"n": 5})
    assert len(new) == 5
    assert np.array_equal(st.vectors(new, "row")[:, 0], rows)
    assert np.array_equal(new.labels("smile"), coded.labels("smile")[rows])
    assert st.load_images(new, [1])[0].tobytes() == st.load_images(coded, [3])[0].tobytes()
    embed = [h for h in new.schema.history if h.get("op") == "embed"][-1]
    assert embed["not_found"] == [1] and embed["rows"] == 5  # source row 3; row 7 left out
    assert new.schema.history[-1]["op"] == "subset"
    assert new.schema.provenance.converter == "subset"
    assert new.schema.provenance.counts == {"rows": 5, "source_rows": len(coded)}
    with pytest.raises(UserError, match="somewhere else"):
        subset(coded, coded.path, rows)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"where": {"gender": ["other"]}}, "no value 'other'"),
    ({"where": {"gender": ["2"]}}, "no value '2'"),            # codes 0 and 1 only
    ({"where": {"smile": ["high"]}}, "continuous"),
    ({"balance_by": "smile"}, "continuous"),
    ({"balance_by": "gender", "per_class": 10_000}, "too few"),
    ({"n": 0}, "--n 0"),
    ({"per_class": 3}, "needs --balance-by"),
])
def test_bad_selections(coded: st.Store, kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        select_rows(coded, **kwargs)


def test_command(cli, coded: st.Store, tmp_path: Path) -> None:
    out = tmp_path / "balanced"
    r = cli("data", "subset", coded.path, "--out", out, "--where", "eyeglasses=no",
            "--balance-by", "gender", "--seed", "3")
    assert r.code == 0, r.err
    new = st.load(out)
    counts = np.bincount(new.labels("gender"))
    assert counts[0] == counts[1] > 0 and set(new.labels("eyeglasses")) == {0}
    assert "kept" in r.out
    assert cli("data", "subset", coded.path, "--out", out, "--n", "5").code == 2  # exists
    r = cli("data", "subset", coded.path, "--out", tmp_path / "x", "--where", "gender")
    assert r.code == 2 and r.err.startswith("error: --where 'gender'")


def test_command_says_why_it_kept_fewer_or_balanced_one_class(cli, coded: st.Store,
                                                              tmp_path: Path) -> None:
    """``--n 7`` over two classes wrote 6 rows without a word; a --where leaving one class
    wrote a "balanced" subset of it alone."""
    r = cli("data", "subset", coded.path, "--out", tmp_path / "a", "--balance-by", "gender",
            "--n", "7")
    assert r.code == 0, r.err
    assert "kept 6 of" in r.out and "(--n 7 over 2 classes: 3 each)" in r.out
    r = cli("data", "subset", coded.path, "--out", tmp_path / "six", "--balance-by", "gender",
            "--n", "6")
    assert r.code == 0 and "kept 6 of" in r.out and "(--n" not in r.out   # as many as asked
    female = coded.schema.attribute("gender").names[0]
    r = cli("data", "subset", coded.path, "--out", tmp_path / "b", "--where",
            f"gender={female}", "--balance-by", "gender")
    assert r.code == 0, r.err
    assert "warning: only one class of gender has matching rows" in r.err


def test_command_summarises_a_balance_over_many_classes(cli, tmp_path: Path) -> None:
    """Balancing over 40 persons prints how many classes were kept and their rows, not each one."""
    from latentplay.store import Attribute, Provenance, Schema
    from latentplay.store.summary import MAX_LISTED

    persons = 40
    assert persons > MAX_LISTED
    person = np.repeat(np.arange(persons), 3)
    person[:3] = -1                                     # the first person's rows have no value
    schema = Schema(attributes=[Attribute("identity", "categorical",
                                          names=[f"p{i}" for i in range(persons)])],
                    provenance=Provenance(source="test", converter="unit"))
    cells = [st.encode_png(np.zeros((4, 4, 3), np.uint8)) for _ in person]
    st.build([{"image": cells, "identity": person}], schema, tmp_path / "s")
    r = cli("data", "subset", tmp_path / "s", "--out", tmp_path / "one", "--balance-by", "identity",
            "--per-class", "2")
    assert r.code == 0, r.err
    assert len(st.load(tmp_path / "one")) == 2 * (persons - 1)
    assert f"identity: {persons - 1} classes kept, 2 rows each" in r.out
    lines = r.out.strip().splitlines()  # "wrote PATH" whole, however long the path
    assert "p1 2" not in r.out and len(lines) == 2 and lines[1] == f"wrote {tmp_path / 'one'}"


def test_subset_renumbers_the_pairs_table(coded: st.Store, tmp_path: Path) -> None:
    """RFW's protocol pairs come along, renumbered; pairs with a face left out are dropped."""
    table = "fold,row_a,row_b,same\n1,0,3,1\n1,3,4,0\n2,5,8,0\n2,-1,5,1\n"
    source = st.save(coded, tmp_path / "paired", extra_files={st.PAIRS_FILE: table})
    new = subset(source, tmp_path / "small", np.array([0, 3, 5, 8, 9]))
    with open(new.path / st.PAIRS_FILE, newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines == [["fold", "row_a", "row_b", "same"], ["1", "0", "1", "1"],
                     ["2", "2", "3", "0"], ["2", "-1", "2", "1"]]
    assert new.schema.history[-1]["pairs"] == {"kept": 2, "left_out": 1}


def test_the_source_reached_by_a_link_is_not_replaced(coded: st.Store, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(coded.path)
    with pytest.raises(UserError, match="--out is the source store"):
        subset(coded, link, np.arange(3), overwrite=True)
    assert len(st.load(coded.path)) == len(coded)


def test_a_class_without_matching_rows_is_named(cli, tmp_path: Path) -> None:
    """--where gender=m leaves tone c without a row: the "balanced" subset has none of it, and
    the command says so (its summary lists only the classes it kept)."""
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("tone", "categorical", names=["a", "b", "c"]),
                                Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="unit"))
    tone, gender = np.array([0, 0, 1, 1, 2, 2, 0, 1]), np.array([0, 1, 0, 1, 0, 0, 1, 1])
    cells = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(tone)
    st.build([{"image": cells, "tone": tone, "gender": gender}], schema, tmp_path / "s")
    r = cli("data", "subset", tmp_path / "s", "--out", tmp_path / "m", "--where", "gender=m",
            "--balance-by", "tone")
    assert r.code == 0, r.err
    assert ("warning: no row matching --where is of tone c: the subset balances the other 2 "
            "classes and has none of it") in r.err
    r = cli("data", "subset", tmp_path / "s", "--out", tmp_path / "all", "--balance-by", "tone")
    assert r.code == 0 and "warning" not in r.err


def test_provenance_names_the_source_from_anywhere(coded: st.Store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A source given relative to the working folder is recorded whole: the record points to
    it from any other folder."""
    monkeypatch.chdir(Path(coded.path).parent)
    new = subset(st.load(Path(coded.path).name), tmp_path / "small", np.arange(3))
    assert new.schema.provenance.source == str(Path(coded.path).resolve())
    assert new.schema.history[-1]["source"] == str(Path(coded.path).resolve())
