"""``run_representation``'s encoder takes float images in [0, 1] and, as they come from
``store.load_images``, uint8 ones (divided by 255); float values outside [0, 1] are refused
rather than encoded as other pixels (at another size they were scaled by 255 and clipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import sources, store, train
from latentplay.errors import UserError
from latentplay.metrics.runs import run_representation

TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=4",
        "trainer.threads=1", "log.recon_images=8", "log.samples=16"]


@pytest.fixture(scope="module")
def vae(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VAE trained for one step on 32 px faces (its store holds 64 px images)."""
    root = tmp_path_factory.mktemp("api_represent")
    sources.make("synthfaces", root / "faces", n=64, seed=0)
    return train.train("vae", data=root / "faces", out=root / "run", max_steps=1, epochs=1,
                       batch_size=32, seed=0, progress=False, overrides=TINY)


@pytest.fixture(scope="module")
def faces(vae: Path) -> np.ndarray:
    return store.load_images(store.load(Path(vae).parent / "faces"), range(6))


def test_uint8_images_encode_as_their_values_over_255(vae: Path, faces: np.ndarray) -> None:
    represent = run_representation(vae)
    model = train.load_model(vae)
    fitted = train.model_input(model, faces)                # (6, 32, 32, 3): the model's size
    for images in (faces, fitted):                          # another size, and the model's
        codes = represent(images)
        assert codes.shape == (6, 4)
        np.testing.assert_allclose(codes, represent(images / 255.0), atol=1e-5)
    # and the codes are the train API's own
    np.testing.assert_allclose(represent(fitted), train.encode(model, fitted), atol=1e-5)


def test_float_images_outside_the_unit_range_are_refused(vae: Path, faces: np.ndarray) -> None:
    represent = run_representation(vae)
    fitted = train.model_input(train.load_model(vae), faces)
    for images in (faces, fitted):
        with pytest.raises(UserError, match=r"float in \[0, 1\] or uint8 0..255, got float64 "
                                            r"values from \d+ to \d+"):
            represent(images.astype(np.float64))            # uint8 values cast to float
        centred = (images / 255.0 - 0.5).astype(np.float32)  # [-0.5, 0.5]: another convention
        centred.flat[0], centred.flat[1] = -0.5, 0.5
        with pytest.raises(UserError, match="float32 values from -0.5 to 0.5"):
            represent(centred)
        nan = images / 255.0
        nan[0, 0, 0, 0] = np.nan
        with pytest.raises(UserError, match="and NaN"):
            represent(nan)
    assert represent(np.zeros((0, 32, 32, 3), np.float32)).shape == (0, 4)
