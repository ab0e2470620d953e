"""The Python API of a trained run refuses inputs it would misread, in one sentence each:
one RGB image passed without its batch axis, non-finite codes, an unknown device, a negative
number of samples, a condition with the wrong number of values, and a run directory already
in use (whose message names ``train.resume`` for Python callers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import sources, store, train
from latentplay.errors import UserError

TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=4",
        "trainer.threads=1", "log.recon_images=8", "log.samples=16",
        "model.condition=[smile,gender]"]
CONDITION = {"smile": 0.5, "gender": "female"}


@pytest.fixture(scope="module")
def cvae(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CVAE on smile and gender trained for one step (weights do not matter here)."""
    root = tmp_path_factory.mktemp("api_inputs")
    sources.make("synthfaces", root / "faces", n=64, seed=0)
    return train.train("cvae", data=root / "faces", out=root / "run", max_steps=1, epochs=1,
                       batch_size=32, seed=0, progress=False, overrides=TINY)


@pytest.fixture(scope="module")
def images(cvae: Path) -> np.ndarray:
    """Four (64, 64, 3) uint8 faces of the run's store."""
    data = store.load(Path(cvae).parent / "faces")
    return store.load_images(data, range(4))


def test_one_rgb_image_without_a_batch_axis_is_refused(cvae: Path, images: np.ndarray) -> None:
    """A (64, 64, 3) image was read as 64 grey images 3 pixels wide (64 codes came back)."""
    with pytest.raises(UserError, match=r"\(N, H, W\) grey.*\(64, 64, 3\).*\(N, H, W, C\).*image\[None\]"):
        train.encode(cvae, images[0], condition=CONDITION)
    assert train.encode(cvae, images[0][None], condition=CONDITION).shape == (1, 4)
    with pytest.raises(UserError, match=r"image\[None\]"):   # one grey image (H, W)
        train.encode(cvae, images[0, ..., 0], condition=CONDITION)
    grey = images[..., 0]                                      # (N, H, W) grey: still read
    assert train.encode(cvae, grey, condition=CONDITION).shape == (4, 4)
    assert "``(N, H, W)`` uint8 array of grey images" in " ".join(train.encode.__doc__.split())


def test_non_finite_codes_are_refused(cvae: Path) -> None:
    """NaN codes decoded silently to black images."""
    z = np.zeros((3, 4))
    z[1, 2] = np.nan
    with pytest.raises(UserError, match="z holds 1 NaN or infinite value"):
        train.decode(cvae, z, condition=CONDITION)
    with pytest.raises(UserError, match="z holds 1 NaN or infinite value"):   # beyond float32
        train.decode(cvae, np.where(np.isnan(z), 1e39, z), condition=CONDITION)
    assert train.decode(cvae, np.zeros((3, 4)), condition=CONDITION).shape == (3, 32, 32, 3)


@pytest.mark.parametrize("call", ["encode", "decode", "sample", "load_model"])
def test_an_unknown_device_is_refused_before_torch_sees_it(cvae: Path, images: np.ndarray,
                                                           call: str) -> None:
    """device="gpu" leaked torch's RuntimeError."""
    calls = {"encode": lambda: train.encode(cvae, images, condition=CONDITION, device="gpu"),
             "decode": lambda: train.decode(cvae, np.zeros((1, 4)), condition=CONDITION,
                                            device="gpu"),
             "sample": lambda: train.sample(cvae, 2, condition=CONDITION, device="gpu"),
             "load_model": lambda: train.load_model(cvae, "gpu")}
    with pytest.raises(UserError, match="device must be cpu, cuda or auto, got 'gpu'"):
        calls[call]()


def test_a_torch_device_is_taken_as_its_name_is(cvae: Path, images: np.ndarray) -> None:
    """encode, decode and sample take a :class:`torch.device`, as load_model does (their
    hints said str): the same arrays as with ``"cpu"``."""
    import torch

    cpu = torch.device("cpu")
    np.testing.assert_array_equal(train.encode(cvae, images, condition=CONDITION, device=cpu),
                                  train.encode(cvae, images, condition=CONDITION, device="cpu"))
    z = np.zeros((2, 4))
    np.testing.assert_array_equal(train.decode(cvae, z, condition=CONDITION, device=cpu),
                                  train.decode(cvae, z, condition=CONDITION, device="cpu"))
    np.testing.assert_array_equal(train.sample(cvae, 2, condition=CONDITION, device=cpu),
                                  train.sample(cvae, 2, condition=CONDITION, device="cpu"))


def test_sample_refuses_a_negative_count_and_gives_none_for_zero(cvae: Path) -> None:
    """sample(run, -1) leaked NumPy's "negative dimensions are not allowed"."""
    for n in (-1, 2.5, True):
        with pytest.raises(UserError, match="n must be a whole number of images, 0 or more"):
            train.sample(cvae, n, condition=CONDITION)
    assert train.sample(cvae, 0, condition=CONDITION).shape == (0, 32, 32, 3)
    assert train.sample(cvae, np.int64(2), condition=CONDITION).shape == (2, 32, 32, 3)


def test_a_condition_of_the_wrong_length_names_the_length_expected(cvae: Path) -> None:
    """{"smile": np.zeros(3)} for 5 codes leaked NumPy's broadcast error."""
    z = np.zeros((5, 4))
    with pytest.raises(UserError, match="condition 'smile' holds 3 values for 5 images or codes: "
                                        "give one value .* or 5"):
        train.decode(cvae, z, condition={"smile": np.zeros(3), "gender": "female"})
    with pytest.raises(UserError, match=r"condition 'smile' must be one value or 5 values, got "
                                        r"an array of shape \(5, 2\)"):
        train.decode(cvae, z, condition={"smile": np.zeros((5, 2)), "gender": "female"})
    with pytest.raises(UserError, match="condition 'gender' holds 2 values for 5"):
        train.sample(cvae, 5, condition={"smile": 0.0, "gender": ["female", "male"]})
    both = {"smile": np.linspace(-1, 1, 5), "gender": "male"}
    assert train.decode(cvae, z, condition=both).shape == (5, 32, 32, 3)


def test_training_into_an_existing_run_names_the_python_resume_too(cvae: Path) -> None:
    with pytest.raises(UserError) as caught:
        train.train("cvae", data=Path(cvae).parent / "faces", out=cvae, progress=False)
    message = str(caught.value)
    assert f"`latentplay train --resume {cvae}`" in message     # the CLI's wording is kept
    assert f"`train.resume({str(cvae)!r})`" in message
