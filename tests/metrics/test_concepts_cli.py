"""``latentplay metrics concepts``: the flag of a model whose task is at chance, the note on too
few training rows, --threads and --size; and the wording of ``metrics disentanglement`` on a
store without factors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TINY = ("--epochs", "1", "--size", "32")


def _at_chance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every concept model score task accuracy 0.25, its chance (as of 4 balanced
    quadrants; the tiny test sets' own share of the majority class moves)."""
    from latentplay.metrics import concepts

    evaluate = concepts.evaluate_outputs
    monkeypatch.setattr(concepts, "evaluate_outputs", lambda *a: {**evaluate(*a), "accuracy": 0.25})
    monkeypatch.setattr(concepts, "task_chance", lambda train, test: 0.25)


def test_a_model_at_task_chance_is_flagged(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GlanceNet at task accuracy 0.25 (4 quadrants) was reported with no word, though
    ``leakage run`` flags such a model: the console warns and metrics.json carries the flag."""
    _at_chance(monkeypatch)
    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", "--n", "40", *TINY)
    assert res.code == 0, res.err
    saved = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert saved["task_chance"] == 0.25 and "task near chance" in saved["flag"]
    text = " ".join(res.err.split())
    assert "warning: cbm: task accuracy 0.250 is near chance (0.250); it has not learned its task" in text


def test_a_model_above_task_chance_is_not_flagged(cli, tmp_path: Path) -> None:
    """The flag is empty, and nothing warned of, for a model that learned its task and a
    concept (the scores measured, not replaced)."""
    from latentplay.metrics.concepts import concepts_not_learned, flag_of

    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", "--n", "40", *TINY)
    assert res.code == 0, res.err
    saved = json.loads((tmp_path / "c" / "metrics.json").read_text())
    scores = saved["concept_scores"]
    expected = flag_of(saved["accuracy"], 0.25, concepts_not_learned(scores), len(scores))
    assert saved["flag"] == expected
    assert ("warning: cbm:" in res.err) == bool(expected)


def test_a_full_disk_is_one_line_and_keeps_the_previous_outputs(cli, tmp_path: Path,
                                                               file_size_limit) -> None:
    """The model's weights (``model.pt``, the largest output) meeting a full disk ended with
    torch's RuntimeError ("unexpected pos 70400 vs 70352") and a traceback; now one line, exit
    status 2, the previous outputs as they were."""
    out = tmp_path / "c"
    assert cli("metrics", "concepts", "cbm", "--out", out, "--n", "10", *TINY).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    file_size_limit(100_000)  # the weights take about 1 MB; every other output fits
    res = cli("metrics", "concepts", "cbm", "--out", out, "--n", "12", *TINY, "--overwrite")
    assert res.code == 2 and res.err.strip().splitlines()[-1].startswith(
        "error: cannot write the outputs: File too large"), res.err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_too_few_training_rows_are_noted(cli, tmp_path: Path) -> None:
    """``--n 2`` fitted DCI alignment and explicitness on 2 rows with no word; the array path
    notes when factors have more levels than half the training rows."""
    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", "--n", "2", *TINY)
    assert res.code == 0, res.err
    text = " ".join(res.err.split())
    assert "note: 2 training rows for factors of up to 2 levels: too few for DCI alignment/" \
           "explicitness to be reliable" in text


def test_threads_default_to_one_and_are_recorded(cli, tmp_path: Path, monkeypatch) -> None:
    """Training used PyTorch's default threads (``threads`` 0 in metrics.json); ``--threads``
    sets them for the training, one by default as in ``leakage run``, and the caller's count
    is put back afterwards."""
    import torch

    before, counts = torch.get_num_threads(), []
    setting = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (counts.append(n), setting(n)))
    setting(3)  # the caller's: neither count asked
    try:
        for args, threads in (((), 1), (("--threads", "2"), 2)):
            out = tmp_path / f"c{threads}"
            counts.clear()
            res = cli("metrics", "concepts", "cbm", "--out", out, "--n", "10", *TINY, *args)
            assert res.code == 0, res.err
            assert json.loads((out / "metrics.json").read_text())["training"]["threads"] == threads
            assert threads in counts and counts[-1] == 3 == torch.get_num_threads()
    finally:
        setting(before)


@pytest.mark.parametrize(("args", "message"), [
    (("--size", "48"), "error: --size must be 64 or 32, got 48"),
    (("--threads", "-1"), "--threads"),
])
def test_concepts_refuses_bad_options_naming_them(cli, tmp_path: Path, args: tuple, message: str) -> None:
    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", "--n", "10", *args)
    lines = res.err.strip().splitlines()
    assert res.code == 2 and len(lines) == 1 and message in lines[0], res.err
    assert not (tmp_path / "c").exists()


def test_disentanglement_names_factor_attributes_as_data_info_shows_them(cli, tmp_path: Path) -> None:
    """A store without factors was said to have no 'factor_<name> columns', which ``data info``
    never shows; the message and the --data help now say what ``metrics track`` says."""
    faces = tmp_path / "faces"
    assert cli("data", "make", "synthfaces", "--out", faces, "--n", "5").code == 0
    res = cli("metrics", "disentanglement", "--run", tmp_path / "r", "--data", faces,
              "--metrics", "mig_fast")
    line = " ".join(res.err.split())
    assert res.code == 2 and "has no factor attributes (`latentplay data info` lists them as " \
                              "'(factor)')" in line and "factor_<name>" not in line
    helps = cli("metrics", "disentanglement", "--help").out + cli("metrics", "track", "--help").out
    assert "factor_<name>" not in helps and "(factor)" in helps


def test_the_headline_names_glancenets_accepted_share() -> None:
    """GlanceNet refuses test images it finds unlike its training ones: the share it accepts
    (0.90 in a faces run, in metrics.json only) is on the printed line; a CBM accepts all."""
    from latentplay.metrics.cli import _scores_line

    scores = {"kind": "glancenet", "accuracy": 0.6625, "task_chance": 0.25, "accepted": 0.9,
              "accuracy_accepted": 0.6728, "alignment": 0.62}
    assert _scores_line(scores) == ("task accuracy 0.662 (chance 0.250), accepted 0.900 of the "
                                    "test images (task accuracy on them 0.673), alignment 0.620")
    assert "accepted" not in _scores_line({**scores, "kind": "cbm"})


def test_the_intervention_line_names_the_concept_that_helps_most() -> None:
    from latentplay.metrics.cli import _intervention_line

    line = _intervention_line({"accuracy": [0.5, 0.75, 0.9], "single": {"scale": 0.6, "pos_x": 0.8},
                               "refit_head": 0.7})
    assert "0.500 as predicted, 0.900 with all 2 concept(s) set right" in line
    assert "alone, pos_x helps most (0.800)" in line
