"""The final-metrics table of a training run stopped between an epoch's training batches and
its test evaluation: both columns come from one epoch (it put the last epoch's training values
beside the previous epoch's test values under the test epoch's number)."""

from __future__ import annotations

from latentplay.report.training import _final


def _row(epoch: int, loss: float) -> dict[str, str]:
    return {"scope": "epoch", "epoch": str(epoch), "step": str(4 * epoch), "loss": str(loss),
            "recon": str(loss)}


def test_train_and_test_columns_are_of_one_epoch() -> None:
    epochs = [_row(1, 2097.0), _row(2, 2095.0)]
    test = [_row(1, 2066.0)]
    table = _final(epochs, test, "").blocks[0]
    loss = next(r for r in table.rows if r[0].text == "loss")
    assert (loss[1].text, loss[2].text) == ("2097", "2066")
    assert table.caption.startswith("Epoch 1:")
    assert "Training ran to epoch 2" in table.caption


def test_a_finished_run_shows_its_last_epoch() -> None:
    epochs = [_row(1, 2097.0), _row(2, 2095.0)]
    table = _final(epochs, [_row(1, 2066.0), _row(2, 2065.0)], "").blocks[0]
    loss = next(r for r in table.rows if r[0].text == "loss")
    assert (loss[1].text, loss[2].text) == ("2095", "2065")
    assert table.caption.startswith("Epoch 2:") and "ran to" not in table.caption
    only_train = _final(epochs, [], "").blocks[0]
    assert only_train.caption.startswith("Epoch 2:")
    assert [r[1].text for r in only_train.rows if r[0].text == "loss"] == ["2095"]
