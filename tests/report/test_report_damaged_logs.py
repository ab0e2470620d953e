"""A training run's damaged tables are refused with one line naming file and line; a last line
cut short is left out with a note only where the run can be writing it; the final-metrics
table shows one epoch's values in both columns; a run without metrics.csv shows its progress
as unknown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.report.page import Facts, Text
from latentplay.report.training import _final, page

KEPT = ("config.yaml", "model.json", "model.safetensors", "metrics.csv", "test_metrics.csv")


@pytest.fixture
def run(vae_run: Path, tmp_path: Path) -> Path:
    """A copy of the run's config, model and tables."""
    out = tmp_path / "run"
    out.mkdir()
    for name in KEPT:
        shutil.copy(vae_run / name, out / name)
    return out


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _facts(run: Path) -> dict[str, str]:
    return dict(next(b for b in page(run).sections[0].blocks if isinstance(b, Facts)).items)


def _notes(run: Path) -> list[str]:
    return [b.text for b in page(run).sections[0].blocks if isinstance(b, Text)]


def test_a_row_short_of_fields_mid_table_is_damage(run: Path, cli) -> None:
    path = run / "test_metrics.csv"
    lines = _lines(path)
    path.write_text(lines[0] + lines[1][: len(lines[1]) // 2] + "\n" + "".join(lines[2:]))
    result = cli("report", run)
    assert result.code == 2
    assert result.err.strip().splitlines() == [f"error: {path}, line 2: fewer fields than the header; "
                                               "the table is damaged"]


def test_a_value_that_is_not_a_number_is_damage(run: Path) -> None:
    path = run / "test_metrics.csv"
    lines = _lines(path)
    header = lines[0].rstrip("\n").split(",")
    fields = lines[-1].rstrip("\n").split(",")
    fields[header.index("loss")] = "abc"
    path.write_text("".join(lines[:-1]) + ",".join(fields) + "\n")
    with pytest.raises(UserError, match=f"line {len(lines)}: loss is 'abc', not a number"):
        page(run)


def test_a_cut_last_line_the_run_went_past_is_damage(run: Path) -> None:
    path = run / "test_metrics.csv"
    lines = _lines(path)
    assert len(lines) == 3  # header and two epochs' evaluations
    path.write_text(lines[0] + lines[1][:30])  # epoch 1's evaluation, though metrics.csv has epoch 2
    with pytest.raises(UserError, match="test_metrics.csv, line 2: cut short, though the run went on"):
        page(run)


def test_a_cut_last_line_the_run_can_be_writing_is_left_out_with_a_note(run: Path) -> None:
    path = run / "test_metrics.csv"
    lines = _lines(path)
    path.write_text("".join(lines[:-1]) + lines[-1][:30])  # the last epoch's evaluation, being written
    notes = _notes(run)
    assert len(notes) == 1 and notes[0].startswith("The last line of test_metrics.csv is cut short")
    path.write_text("".join(lines))
    metrics = run / "metrics.csv"
    kept = _lines(metrics)
    metrics.write_text("".join(kept[:-1]) + kept[-1][:20])  # the last epoch's row, though evaluated
    with pytest.raises(UserError, match=f"metrics.csv, line {len(kept)}: cut short, though test_metrics"):
        page(run)


def test_a_run_without_metrics_shows_its_progress_as_unknown(run: Path) -> None:
    assert _facts(run)["steps"] != "—"
    (run / "metrics.csv").unlink()
    facts = _facts(run)
    assert facts["epochs"].startswith("— of ") and facts["steps"] == "—"


def _row(epoch: int, loss: float) -> dict[str, str]:
    return {"scope": "epoch", "epoch": str(epoch), "step": str(4 * epoch), "loss": str(loss)}


def test_final_metrics_are_of_the_last_epoch_both_tables_have() -> None:
    """metrics.csv behind test_metrics.csv: the test epoch's label was put on the last
    training epoch's values."""
    table = _final([_row(1, 2097.0), _row(2, 2095.0)], [_row(e, 2060.0 + e) for e in (1, 2, 3)],
                   "").blocks[0]
    assert table.caption.startswith("Epoch 2:") and "goes on to epoch 3" in table.caption
    assert [(r[1].text, r[2].text) for r in table.rows if r[0].text == "loss"] == [("2095", "2062")]
    apart = _final([_row(1, 2097.0)], [_row(3, 2063.0)], "").blocks[0]
    assert apart.caption.startswith("Epoch 3:") and "no training row of epoch 3" in apart.caption
    assert [(r[1].text, r[2].text) for r in apart.rows if r[0].text == "loss"] == [("—", "2063")]
