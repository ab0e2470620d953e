"""What the training data hold: channels of stores with alpha, conditions of the used rows,
and a persons split that leaves rows to train on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.models.condition import ConditionSpec
from latentplay.store.images import encode_png, load_images
from latentplay.train.data import TrainingData, check_same_data, held_out_rows, load_training_data


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> st.Store:
    path = tmp_path_factory.mktemp("data") / "faces"
    sources.make("synthfaces", path, n=40, seed=0)
    return st.load(path)


def _with_images(store: st.Store, images: np.ndarray) -> st.Store:
    """``store`` (in memory) with its image column replaced by ``(N, H, W, C)`` ``images``."""
    col = store.schema.image_column
    cells = [encode_png(im) for im in images]
    dataset = store.dataset.remove_columns([col]).add_column(col, cells)
    return st.Store(dataset.cast(store.dataset.features), store.schema, store.path)


@pytest.mark.parametrize(("gray", "channels"), [(False, 3), (True, 1)])
def test_an_alpha_channel_is_dropped(faces: st.Store, gray: bool, channels: int) -> None:
    """``data.channels=0`` on RGBA (or gray + alpha) images gives the RGB (gray) images
    ``train.encode`` can feed, not a 4 (2) channel model."""
    images = load_images(faces, mode="L" if gray else "RGB")
    alpha = np.full(images.shape[:3] + (1,), 200, np.uint8)
    data = load_training_data(_with_images(faces, np.concatenate([images, alpha], axis=3)),
                              32, 0, [], 0.1, 0, 0, progress=False)
    assert data.channels == channels
    plain = load_training_data(_with_images(faces, images), 32, 0, [], 0.1, 0, 0, progress=False)
    np.testing.assert_array_equal(data.images.numpy(), plain.images.numpy())


def test_rows_past_the_limit_need_no_condition(faces: st.Store) -> None:
    """A missing condition value beyond ``data.limit`` is no error; within it, it is one."""
    smile = np.asarray(faces.labels("smile"), np.float32).copy()
    smile[30:] = np.nan
    col = faces.schema.column_of(faces.schema.attribute("smile"))
    dataset = faces.dataset.remove_columns([col]).add_column(col, smile.tolist())
    store = st.Store(dataset.cast(faces.dataset.features), faces.schema, faces.path)
    data = load_training_data(store, 32, 3, ["smile"], 0.1, 30, 0, progress=False)
    np.testing.assert_array_equal(data.cond.numpy()[:, 0], smile[:30])
    with pytest.raises(UserError, match="no value in 10 rows"):
        load_training_data(store, 32, 3, ["smile"], 0.1, 0, 0, progress=False)


def test_a_persons_split_never_holds_out_every_row(tmp_path: Path) -> None:
    """One person only: holding out whole persons leaves nothing to train on, said in a line
    (not as a batch size that is too large)."""
    path = tmp_path / "one"
    sources.make("synthfaces", path, n=20, seed=0, overrides=["identities=1"])
    store = st.load(path)
    for split in ("persons", "auto"):
        with pytest.raises(UserError, match="holds out every row.*data.split=rows"):
            held_out_rows(store, 20, 0.1, 0, split)
    assert len(held_out_rows(store, 20, 0.1, 0, "rows")) == 2


def test_a_measured_condition_spans_the_rows_trained_on(faces: st.Store) -> None:
    """A condition without a documented range spans the values of the rows trained on (the
    first ``data.limit``), not the whole store's: samples "within the training range" and the
    playground's slider read that range."""
    values = np.linspace(0.0, 1.0, len(faces)).astype(np.float32)
    values[30:] += 100.0
    measured = st.Attribute("measured", "continuous")
    store = st.add_attributes(faces, {"measured": (measured, values)})
    data = load_training_data(store, 32, 3, ["measured"], 0.1, 30, 0, progress=False)
    assert data.spec.parts[0].range == pytest.approx((0.0, values[29]))


def _hand_data(n: int = 10) -> TrainingData:
    """``n`` 1-channel 2x2 images, image ``i`` all of value ``10 * i``; rows 0 and 1 held out."""
    images = (10 * torch.arange(n, dtype=torch.uint8)).reshape(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return TrainingData(images=images, cond=torch.zeros((n, 0)), train_idx=np.arange(2, n),
                        test_idx=np.arange(2), rows=np.arange(n), labels={}, spec=ConditionSpec())


def test_the_mean_pixel_and_image_are_those_of_the_first_rows() -> None:
    """The first ``limit`` rows alone make the means: rows 4, 5 and 6 of values 40, 50, 60."""
    data = _hand_data()
    rows = np.array([4, 5, 6, 7, 8])
    np.testing.assert_allclose(data.mean_value(rows, limit=3).numpy(), [50 / 255], rtol=1e-6)
    np.testing.assert_allclose(data.mean_image(rows, limit=3).numpy(), np.full((1, 2, 2), 50 / 255),
                               rtol=1e-6)


def test_every_epoch_visits_the_training_rows_once_in_its_own_order() -> None:
    """An epoch's batches hold each training row at most once (the incomplete batch dropped),
    never a held-out row; another epoch is another order, the same epoch the same one; two
    processes share an epoch's rows without overlap."""
    data = _hand_data(12)                                  # 10 training rows
    first = data.epoch_order(0, 0, 3).numpy()
    assert first.shape == (3, 3) and len(set(first.ravel())) == 9
    assert set(first.ravel()) <= set(range(2, 12))
    np.testing.assert_array_equal(data.epoch_order(0, 0, 3).numpy(), first)
    assert not np.array_equal(data.epoch_order(0, 1, 3).numpy(), first)
    ranks = [data.epoch_order(0, 0, 2, rank, 2).numpy() for rank in (0, 1)]
    assert ranks[0].shape == (2, 2) and not set(ranks[0].ravel()) & set(ranks[1].ravel())


def test_too_few_training_rows_name_the_batch_that_fits_or_the_processes() -> None:
    """10 training rows: a batch of 6 on 2 processes does not fit, 10 // 2 = 5 does; on 16
    processes no batch fits (a batch of 1 needs 16 rows), so no --batch-size is offered."""
    data = _hand_data(12)                                  # 10 training rows
    with pytest.raises(UserError, match=r"give --batch-size 5 or fewer"):
        data.epoch_order(0, 0, 6, 0, 2)
    assert data.epoch_order(0, 0, 5, 0, 2).shape == (1, 5)
    with pytest.raises(UserError, match="fewer than the 16 processes") as refused:
        data.epoch_order(0, 0, 1, 0, 16)
    assert "too small for that many processes" in str(refused.value)
    assert "--batch-size" not in str(refused.value)


def test_a_resume_holding_out_other_rows_is_refused(tmp_path: Path) -> None:
    """Rows, images and conditions alike but other rows held out (the store's persons
    rewritten): the resume is refused, naming the held-out rows."""
    saved = {"rows": 10, "images": "a", "conditions": "b", "held_out": "c"}
    check_same_data(saved, dict(saved), tmp_path, "faces")
    with pytest.raises(UserError, match="rows held out of faces differ"):
        check_same_data(saved, {**saved, "held_out": "d"}, tmp_path, "faces")
