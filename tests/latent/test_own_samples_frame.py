"""A store of a run's own samples (``data generate``) holds images in the frame the run
decodes to: ``latent force`` starts from the codes they were decoded from and shows them
uncropped, and ``embed --with vae:RUN`` encodes them without cutting its ``data.crop`` again
(a run trained with ``data.crop=0.5`` zoomed into their centres twice)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store, train
from latentplay.embed import embed_store
from latentplay.latent.codes import store_codes
from latentplay.sources.generated import generate_store
from latentplay.train import forcing

SETTINGS = ["data.size=32", "data.crop=0.5", "model.width=16", "model.hidden=64",
            "model.latent_dim=8", "model.condition=[smile]", "trainer.threads=1",
            "log.recon_images=8", "log.samples=16"]


@pytest.fixture(scope="module")
def cropped_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "cvae_crop"
    return train.train("cvae", data=faces_store, out=out, epochs=1, batch_size=64, seed=0,
                       progress=False, overrides=SETTINGS)


def test_force_starts_from_the_samples_codes_uncropped(cli, cropped_run: Path, faces_store: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    gen = generate_store(cropped_run, tmp_path / "gen", 6, seed=1, like=faces_store)
    model = train.load_model(cropped_run)
    codes = store_codes(model, gen, [0, 1, 2])
    assert codes.source == "generated"
    np.testing.assert_array_equal(codes.framed(model), codes.images)   # 32 px, as decoded
    assert not np.array_equal(codes.framed(model), train.model_input(model, codes.images))
    seen: dict[str, np.ndarray] = {}
    real = forcing.force_condition

    def spy(model, x, cond, column, values, shift=False, mu=None):  # type: ignore[no-untyped-def]
        seen["x"], seen["mu"] = x.numpy(), None if mu is None else mu.numpy()
        return real(model, x, cond, column, values, shift, mu)

    monkeypatch.setattr(forcing, "force_condition", spy)
    out = tmp_path / "force.png"
    r = cli("latent", "force", cropped_run, "--data", gen.path, "--attribute", "smile",
            "--shifts=0.5", "--rows", "0:3", "--out", out)
    assert r.code == 0, r.err
    np.testing.assert_array_equal(seen["mu"], store.vectors(gen, "z", [0, 1, 2]))
    np.testing.assert_array_equal(np.rint(seen["x"].transpose(0, 2, 3, 1) * 255), codes.images)
    assert json.loads(out.with_suffix(".json").read_text())["codes"]["source"] == "generated"


def test_the_vae_embedder_does_not_crop_the_runs_own_samples_again(cropped_run: Path,
                                                                   faces_store: Path,
                                                                   tmp_path: Path) -> None:
    gen = generate_store(cropped_run, tmp_path / "gen", 6, seed=1, like=faces_store)
    images = store.load_images(gen, range(6))
    smile = gen.labels("smile")
    gen = embed_store(gen, f"vae:{cropped_run}", "mu", progress=False)
    mu = store.vectors(gen, "mu")
    np.testing.assert_allclose(mu, train.encode(cropped_run, images, condition={"smile": smile},
                                                cropped=True), atol=1e-5)
    twice = train.encode(cropped_run, images, condition={"smile": smile})   # cut again
    assert np.abs(mu - twice).max() > 1e-4
