"""`latentplay audit verify`: no group drops out of a figure or a summary unsaid (hardest.png's
groups, the differentials across groups), and a pairs file is checked against the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.verification import HARDEST_NAMED, hardest_choice, hardest_notes, verify_store
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema

GROUPS, PEOPLE, PHOTOS = 30, 4, 3  # per group


def _store(path: Path, groups: int = GROUPS, noise: tuple[float, float] = (0.05, 0.6),
           empty: int = 0) -> st.Store:
    """``groups`` groups ``t0``.. of ``PEOPLE`` people with ``PHOTOS`` photos each; a photo's
    embedding is its person's unit vector plus noise that grows group by group, so the last
    groups verify worst. ``empty`` more classes of ``tone`` hold no photo."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(groups * PEOPLE), PHOTOS)
    group = person // PEOPLE
    centre = rng.normal(size=(groups * PEOPLE, 16))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    spread = np.linspace(*noise, groups)[group, None]
    z = centre[person] + rng.normal(size=(len(person), 16)) * spread
    schema = Schema(
        attributes=[Attribute("tone", "categorical", names=[f"t{g}" for g in range(groups + empty)]),
                    Attribute("identity", "categorical",
                              names=[f"p{i}" for i in range(groups * PEOPLE)])],
        provenance=Provenance(source="test", converter="unit", arguments={}, counts={}))
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    batch = {"image": [image] * len(person), "tone": group, "identity": person}
    store = st.build([batch], schema, path)
    store = st.add_column(store, "z", z.astype(np.float32))
    return st.save(store, path)


def test_hardest_shows_the_groups_with_the_most_errors_and_names_the_rest(tmp_path: Path) -> None:
    """30 groups, more than hardest.png's 24 rows: the 24 with the highest (FMR + FNMR) / 2
    are shown (the noisiest, last groups among them; the first 12 used to be shown, whatever
    their errors), and verification.json, the figure and the report name the 6 left out."""
    s = verify_store(_store(tmp_path / "s"), "z", tmp_path / "v", by="tone", n_pairs=12,
                     threshold=0.9, folds=2)
    choice = s["hardest"]
    error = {g["group"]: (g["fmr"] + g["fnmr"]) / 2 for g in s["groups"]}
    assert len(choice["shown"]) == 24 and len(choice["left_out"]) == 6
    assert max(error[g] for g in choice["left_out"]) <= min(error[g] for g in choice["shown"])
    assert "t29" in choice["shown"] and choice["shown"][-1] == "t29"  # in the groups' order
    assert json.loads((tmp_path / "v" / "verification.json").read_text())["hardest"] == choice
    assert (tmp_path / "v" / "hardest.png").is_file()
    html = build_report(tmp_path / "v").read_text()
    assert "24 of 30 groups shown, the 24 groups with the highest (FMR + FNMR) / 2" in html
    assert f"left out: {', '.join(choice['left_out'])}." in html
    few = verify_store(_store(tmp_path / "f", groups=3), "z", tmp_path / "vf", by="tone",
                       n_pairs=12, threshold=0.9, folds=2)
    assert few["hardest"]["left_out"] == [] and few["hardest"]["shown"] == ["t0", "t1", "t2"]
    assert "groups shown" not in build_report(tmp_path / "vf").read_text()


def test_the_figure_names_the_first_groups_left_out_and_counts_the_rest() -> None:
    left = [f"g{i}" for i in range(HARDEST_NAMED + 3)]
    choice = {"shown": ["a", "b"], "left_out": left, "no_pairs": ["e"], "chosen_by": "by error"}
    figure, report = hardest_notes(choice), hardest_notes(choice, None)
    assert figure[0] == (f"2 of {len(left) + 2} groups shown, by error; left out: "
                         f"{', '.join(left[:HARDEST_NAMED])} and 3 more (verification.json: hardest)")
    assert report[0].endswith(f"left out: {', '.join(left)}") and figure[1] == report[1] == "no pairs: e"
    assert hardest_notes({"shown": ["a"], "left_out": [], "chosen_by": "all"}) == []


def test_groups_without_pairs_are_named_in_every_figure(tmp_path: Path, monkeypatch) -> None:
    """t3 holds no photo: rates.png gives it a row saying it has no pairs (it had none), the
    DET curves and histograms name it under the axes, hardest.png's note and the report too."""
    import latentplay.viz.verification as figures

    drawn: dict[str, object] = {}
    for name in ("rate_bars", "det_curves", "score_histograms", "hardest_pairs"):
        def spy(*args, _name=name, _draw=getattr(figures, name), **kwargs):  # noqa: ANN002, ANN003, ANN202
            drawn[_name] = (args, kwargs)
            return _draw(*args, **kwargs)
        monkeypatch.setattr(figures, name, spy)
    s = verify_store(_store(tmp_path / "s", groups=3, empty=1), "z", tmp_path / "v", by="tone",
                     n_pairs=12, threshold=0.9, folds=2)
    assert [g["group"] for g in drawn["rate_bars"][0][0]] == ["t0", "t1", "t2", "t3"]
    note = "not drawn, without both genuine and impostor pairs: t3"
    assert drawn["det_curves"][0][2] == note and drawn["score_histograms"][0][3] == note
    assert [name for name, _ in (p[:2] for p in drawn["det_curves"][0][0])] == ["t0", "t1", "t2"]
    assert s["hardest"]["no_pairs"] == ["t3"] and drawn["hardest_pairs"][1]["note"] == "no pairs: t3"
    assert "No pairs: t3." in build_report(tmp_path / "v").read_text()
    for png in ("rates.png", "det.png", "scores.png", "hardest.png"):
        assert (tmp_path / "v" / png).is_file()


def test_hardest_choice_keeps_groups_with_one_kind_of_pair() -> None:
    rows = [{"group": "a", "genuine": 5, "impostor": 5, "fmr": 0.0, "fnmr": 0.1},
            {"group": "none", "genuine": 0, "impostor": 0, "fmr": None, "fnmr": None},
            {"group": "genuine only", "genuine": 3, "impostor": 0, "fmr": None, "fnmr": 0.6},
            {"group": "c", "genuine": 5, "impostor": 5, "fmr": 0.2, "fnmr": 0.2}]
    assert hardest_choice(rows, cap=2) == {
        "shown": ["genuine only", "c"], "left_out": ["a"], "no_pairs": ["none"],
        "chosen_by": "the 2 groups with the highest (FMR + FNMR) / 2 at the common threshold"}
    assert hardest_choice(rows)["shown"] == ["a", "genuine only", "c"]


def test_differentials_take_every_group_that_has_the_measure_and_name_the_rest(
        tmp_path: Path) -> None:
    """Three groups, FNMR 1/6, 5/12 and 1 at the common threshold; t2 keeps only 3 genuine
    pairs, too few for 4 folds, so it has no accuracy. The FNMR ratio is over all three (6,
    its worst group in it; it used to be taken over the groups with an accuracy only: 2.5),
    the accuracy figures over t0 and t1, and verification.json and the report name t2 as left
    out of the accuracy figures."""
    import csv

    from latentplay.metrics.verification import ratio

    store = _store(tmp_path / "s", groups=3, noise=(0.3, 0.45))
    full = verify_store(store, "z", tmp_path / "full", by="tone", n_pairs=12, threshold=2.0,
                        folds=4)
    assert [g["fnmr"] for g in full["groups"]] == pytest.approx([1 / 6, 5 / 12, 11 / 12])
    with open(tmp_path / "full" / "scores.csv", newline="") as fh:
        scored = list(csv.DictReader(fh))

    def pairs_file(name: str, genuine_kept: dict[str, int]) -> Path:
        """The drawn pairs, of each group in ``genuine_kept`` only that many genuine pairs
        (those the threshold misses first)."""
        lines, kept = ["row_a,row_b,same"], dict.fromkeys(genuine_kept, 0)
        for r in sorted(scored, key=lambda r: -float(r["distance"])):
            if r["same"] == "1" and r["group"] in kept:
                if kept[r["group"]] >= genuine_kept[r["group"]]:
                    continue
                kept[r["group"]] += 1
            lines.append(f"{r['row_a']},{r['row_b']},{r['same']}")
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        return tmp_path / name

    s = verify_store(store, "z", tmp_path / "v", by="tone", threshold=2.0, folds=4,
                     pairs=pairs_file("few.csv", {"t2": 3}))
    t0, t1, t2 = s["groups"]
    assert t2["genuine"] == 3 and t2["accuracy"] is None and t2["fnmr"] == 1.0
    diff = s["differentials"]
    assert diff["fnmr_ratio"] == pytest.approx(6.0) == ratio([t0["fnmr"], t1["fnmr"], 1.0])
    assert diff["accuracy_std"] == pytest.approx(np.std([t0["accuracy"], t1["accuracy"]]))
    assert diff["left_out"] == {"accuracy": ["t2"], "fmr": [], "fnmr": []}
    written = json.loads((tmp_path / "v" / "verification.json").read_text())
    assert written["differentials"]["left_out"] == diff["left_out"]
    assert ("Note: t2 left out of the accuracy figures: too few pairs for the folds."
            in build_report(tmp_path / "v").read_text())
    # one group with an accuracy: no accuracy figures across groups, the rate ratios still;
    # t2 without genuine pairs is left out of the FNMR ratio too
    one = verify_store(store, "z", tmp_path / "one", by="tone", threshold=2.0, folds=4,
                       pairs=pairs_file("one.csv", {"t1": 3, "t2": 0}))["differentials"]
    assert one["accuracy_std"] is None and one["skewed_error_ratio"] is None
    assert one["fnmr_ratio"] == pytest.approx(1 / (1 / 6))
    assert one["left_out"] == {"accuracy": ["t1", "t2"], "fmr": [], "fnmr": ["t2"]}
    html = build_report(tmp_path / "one").read_text()
    assert ("t1, t2 left out of the accuracy figures: too few pairs for the folds; t2 left "
            "out of the FNMR ratio: no genuine pairs") in html
    assert full["differentials"]["left_out"] == {"accuracy": [], "fmr": [], "fnmr": []}


def test_a_pairs_file_is_checked_against_the_store(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """A row paired with itself (distance 0: it used to count as a genuine pair verified) and a
    pair whose ``same`` contradicts the store's identity attribute are refused in one line
    naming how many and the first one's line; rows 0-2 are person p0, rows 3-5 p1."""
    store = _store(tmp_path / "s", groups=2)
    pairs = tmp_path / "pairs.csv"

    def refused(text: str, *options: str) -> str:
        pairs.write_text(text)
        r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--pairs", pairs,
                "--threshold", "1", "--folds", "2", "--out", tmp_path / "v", "--overwrite",
                *options)
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
        return r.err

    err = refused("row_a,row_b,same\n0,1,1\n0,3,0\n-1,-1,1\n4,4,1\n5,5,1\n")
    assert "2 pairs of a row with itself (distance 0, not two photos), the first on line 5 " \
           "(row_a = row_b = 4)" in err
    err = refused("row_a,row_b,same\n0,1,1\n0,3,0\n1,2,0\n3,4,1\n2,5,1\n")
    assert ("2 pairs disagree with the store's 'identity' (same 1 for two persons or 0 for one), "
            "the first on line 4: rows 1 and 2 are p0 and p0, same 0") in err
    err = refused("row_a,row_b,same\n0,3,0\n", "--identity", "tone")  # not the persons
    assert "1 pair disagrees with the store's 'tone'" in err and "--persons not the" in err
    pairs.write_text("row_a,row_b,same\n0,1,1\n0,3,0\n3,4,1\n1,4,0\n")  # all agree: verified
    r = cli("audit", "verify", store.path, "--column", "z", "--by", "tone", "--pairs", pairs,
            "--threshold", "1", "--folds", "2", "--out", tmp_path / "v", "--overwrite")
    assert r.code == 0, r.err


def test_hardest_choice_ranks_by_the_mean_of_the_two_rates() -> None:
    """One group wrong on half its genuine pairs only, (0 + 0.5) / 2 = 0.25, the other on 0.3
    of each kind, (0.3 + 0.3) / 2 = 0.3: with room for one, the second is shown."""
    rows = [{"group": "one-sided", "genuine": 5, "impostor": 5, "fmr": 0.0, "fnmr": 0.5},
            {"group": "even", "genuine": 5, "impostor": 5, "fmr": 0.3, "fnmr": 0.3}]
    assert hardest_choice(rows, cap=1)["shown"] == ["even"]
