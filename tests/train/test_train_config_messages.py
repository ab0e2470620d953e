"""A trainer setting out of range is named with its value."""

from __future__ import annotations

import pytest

from latentplay.errors import UserError
from latentplay.train.config import build_config


@pytest.mark.parametrize(("item", "message"), [
    ("trainer.epochs=0", "trainer.epochs must be at least 1, got 0"),
    ("trainer.batch_size=0", "trainer.batch_size must be at least 1, got 0"),
    ("trainer.log_every=0", "trainer.log_every must be at least 1, got 0"),
    ("trainer.max_steps=-1", "trainer.max_steps must be at least 0 (0: no limit), got -1"),
    ("trainer.nan_check_every=0", "trainer.nan_check_every must be at least 1, got 0"),
    ("trainer.checkpoint_every=-5", "trainer.checkpoint_every must be at least 0"),
])
def test_the_wrong_trainer_value_is_named(item: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        build_config("vae", [item])
    assert str(err.value).startswith(message)


def test_cli_names_epochs(cli, tmp_path) -> None:
    r = cli("train", "vae", "--data", tmp_path / "none", "--out", tmp_path / "run", "--epochs", "0")
    assert r.code == 2 and "trainer.epochs must be at least 1, got 0" in r.err
