"""force_condition.png: a continuous condition forced on encoded test images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import sources, train
from latentplay.models.condition import ConditionPart, ConditionSpec
from latentplay.train.forcing import (
    continuous_values,
    first_continuous,
    force_condition,
    force_condition_captions,
    save_force_condition,
)


class _Echo(torch.nn.Module):
    """Encodes to the image mean; decodes to an image whose every pixel is
    ``(cond[:, 1] + 1) / 2`` and whose first channel adds ``z`` and ``cond[:, 0]``."""

    def encode(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, None]:
        return x.mean((1, 2, 3))[:, None], None

    def decode(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        img = ((cond[:, 1] + 1) / 2)[:, None, None, None].expand(-1, 3, 4, 4).clone()
        img[:, 0] += 0.0 * z[:, 0, None, None] + cond[:, 0, None, None]
        return img


def test_force_condition_sets_only_the_chosen_column() -> None:
    x = torch.rand(3, 3, 4, 4)
    cond = torch.tensor([[0.0, 0.3], [0.1, -0.5], [0.2, 0.9]])
    values = [-1.0, 0.0, 1.0]
    grid = force_condition(_Echo(), x, cond, column=1, values=values)
    assert grid.shape == (3, 5, 4, 4, 3)  # (images, original + own value + 3 values, S, S, C)
    expected_original = (x.permute(0, 2, 3, 1) * 255).round().byte().numpy()
    assert np.array_equal(grid[:, 0], expected_original)
    for k, v in enumerate(values, start=2):
        gray = round((v + 1) / 2 * 255)
        assert np.all(grid[:, k, :, :, 1:] == gray)  # the forced value, for every image
        # the other condition entry keeps each image's own value
        red = np.clip(np.round(((v + 1) / 2 + cond[:, 0].numpy()) * 255), 0, 255)
        assert np.array_equal(grid[:, k, 0, 0, 0], red.astype(np.uint8))
    assert not np.array_equal(grid[:, 2], grid[:, 4])


def test_force_condition_shifts_each_images_own_value() -> None:
    """With ``shift`` a value is added to each image's own condition (SmileCVAE's +0.5)."""
    x = torch.rand(3, 3, 4, 4)
    cond = torch.tensor([[0.0, 0.3], [0.1, -0.5], [0.2, 0.9]])
    grid = force_condition(_Echo(), x, cond, column=1, values=[-0.2, 0.1], shift=True)
    for k, v in enumerate([-0.2, 0.1], start=2):
        gray = np.round(((cond[:, 1].numpy() + v) + 1) / 2 * 255).astype(np.uint8)
        assert np.array_equal(grid[:, k, 0, 0, 1], gray)


def test_first_continuous_column_and_values() -> None:
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=["f", "m"]),
                          ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))])
    part, column = first_continuous(spec)  # type: ignore[misc]
    assert (part.name, column) == ("smile", 2)
    assert continuous_values(part) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert continuous_values(ConditionPart("tilt", "continuous", 1, range=(0.0, 2.0)), 3) == [0.0, 1.0, 2.0]
    assert continuous_values(ConditionPart("tilt", "continuous", 1), 3) == [-1.0, 0.0, 1.0]  # no range
    assert first_continuous(ConditionSpec(spec.parts[:1])) is None
    captions = force_condition_captions(np.array([0.25, -0.7]), "smile", [-1.0, 1.0])
    assert captions == [["original\n(smile=0.25)", "own value", "smile=-1", "smile=1"],
                        ["original\n(smile=-0.7)", "own value", "smile=-1", "smile=1"]]


def test_cvae_run_writes_force_condition_png(tiny: list[str], tmp_path: Path) -> None:
    faces = sources.make("synthfaces", tmp_path / "faces", n=48, seed=0).path
    run = train.train("cvae", faces, tmp_path / "run", epochs=1, max_steps=2, batch_size=16,
                      overrides=[*tiny, "model.condition=[gender,smile]"], progress=False)
    png = run / "force_condition.png"
    assert png.is_file() and png.stat().st_size > 10_000


def test_samples_by_condition_keep_other_conditions_inside_their_range(
        tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``samples.png`` of a model conditioned on gender and a measure whose values lie in
    [2, 4]: the gender rows are decoded with the measure at 3, not at 0 (outside the data)."""
    from latentplay.train import engine as engine_module
    from latentplay.train.config import build_config
    from latentplay.train.engine import Engine

    faces = sources.make("synthfaces", tmp_path / "faces", n=48, seed=0).path
    config = build_config("cvae", [f"data.store={faces}", *tiny, "model.condition=[gender,smile]",
                                   "trainer.batch_size=16"])
    engine = Engine(config, tmp_path, progress=False)
    gender, smile = engine.data.spec.parts
    engine.data.spec = ConditionSpec([gender, ConditionPart("smile", "continuous", 1, range=(2.0, 4.0))])
    seen = []
    decode = engine.model.decode

    def recording(z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        seen.append(cond.clone())
        return decode(z, cond)

    monkeypatch.setattr(engine.model, "decode", recording)
    titles = []
    monkeypatch.setattr(engine_module, "save_image_rows",
                        lambda rows, labels, path, title: titles.append(title))
    with torch.no_grad():
        engine._sample_grid(None)
    assert len(titles) == 1  # the held value is named
    assert titles[0].startswith("samples by gender (the same codes and smile=3 in every row); change: ")
    assert len(seen) == 2  # one row per gender
    conditions = torch.cat(seen)
    assert torch.equal(conditions[:, :2].argmax(1), torch.tensor([0] * 8 + [1] * 8))
    assert torch.all(conditions[:, 2] == 3.0)


def test_force_condition_own_value_column(tmp_path: Path) -> None:
    """The column after the original is each image decoded at its own condition (SmileCVAE's
    layout); the forced columns follow, and the PNG captions it."""
    x = torch.rand(2, 3, 4, 4)
    cond = torch.tensor([[0.1, 0.4], [0.2, -0.6]])
    values = [-1.0, 1.0]
    grid = force_condition(_Echo(), x, cond, column=1, values=values)
    assert grid.shape == (2, 4, 4, 4, 3)  # original, own value, 2 forced values
    own = np.round((cond[:, 1].numpy() + 1) / 2 * 255).astype(np.uint8)
    assert np.array_equal(grid[:, 1, 0, 0, 1], own)
    save_force_condition(grid, np.array([0.4, -0.6]), "smile", values, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1_000
