"""`latentplay audit verify`: no group drops out of a figure or a summary unsaid (hardest.png's
groups, the differentials across groups), and a pairs file is checked against the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.audit.verification import hardest_choice, verify_store
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema

GROUPS, PEOPLE, PHOTOS = 30, 4, 3  # per group


def _store(path: Path, groups: int = GROUPS) -> st.Store:
    """``groups`` groups ``t0``.. of ``PEOPLE`` people with ``PHOTOS`` photos each; a photo's
    embedding is its person's unit vector plus noise that grows group by group, so the last
    groups verify worst."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(groups * PEOPLE), PHOTOS)
    group = person // PEOPLE
    centre = rng.normal(size=(groups * PEOPLE, 16))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    noise = np.linspace(0.05, 0.6, groups)[group, None]
    z = centre[person] + rng.normal(size=(len(person), 16)) * noise
    schema = Schema(
        attributes=[Attribute("tone", "categorical", names=[f"t{g}" for g in range(groups)]),
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


def test_hardest_choice_keeps_groups_with_one_kind_of_pair() -> None:
    rows = [{"group": "a", "genuine": 5, "impostor": 5, "fmr": 0.0, "fnmr": 0.1},
            {"group": "none", "genuine": 0, "impostor": 0, "fmr": None, "fnmr": None},
            {"group": "genuine only", "genuine": 3, "impostor": 0, "fmr": None, "fnmr": 0.6},
            {"group": "c", "genuine": 5, "impostor": 5, "fmr": 0.2, "fnmr": 0.2}]
    assert hardest_choice(rows, cap=2) == {
        "shown": ["genuine only", "c"], "left_out": ["a"],
        "chosen_by": "the 2 groups with the highest (FMR + FNMR) / 2 at the common threshold"}
    assert hardest_choice(rows)["shown"] == ["a", "genuine only", "c"]
