"""A plain autoencoder has no prior: ``data generate``, ``train.sample``, ``latent sample`` and
``audit compare RUN`` drew its codes from N(0, I), far from its codes (blank grey faces). They
now draw as the playground's Sample tab does, from the mean and SD of each dimension of its
encoded training set (``latent.traverse.axis_frame``); other models keep N(0, I)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.latent.traverse import run_latents
from latentplay.sources.generated import generate_store


def _framed(run: Path, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
    """``(n, D)`` float32: the app's draws, ``mean + temperature * z * SD`` of the run's encoded
    training set."""
    mu = run_latents(run)
    z = np.random.default_rng(seed).standard_normal((n, mu.shape[1]))
    return (mu.mean(0).astype(np.float32)
            + temperature * z * mu.std(0).astype(np.float32)).astype(np.float32)


def test_generated_autoencoder_samples_are_the_apps(ae_run: Path, tmp_path: Path) -> None:
    from latentplay.app.generate import sample as app_sample
    from latentplay.app.state import Playground
    from latentplay.audit.run import generate

    gen = generate_store(ae_run, tmp_path / "gen", 6, seed=2)
    codes = st.vectors(gen, "z")
    np.testing.assert_array_equal(codes, _framed(ae_run, 6, 2))   # the codes decoded
    app = app_sample(Playground.open(run=ae_run), 6, 2, {})
    np.testing.assert_array_equal(st.load_images(gen, range(6)), app)
    np.testing.assert_array_equal(train.decode(ae_run, codes), app)
    np.testing.assert_array_equal(train.sample(ae_run, 6, seed=2), app)
    np.testing.assert_array_equal(generate(ae_run, 6, seed=2), app)    # audit compare RUN
    spread = np.abs(app.astype(np.int16) - app[:1]).mean(axis=(1, 2, 3))
    assert (spread[1:] > 1).all(), spread    # different codes decode to different faces (grey levels)
    assert "N(mean, SD) of the training codes" in gen.schema.provenance.arguments["draws"]
    assert "training codes" in gen.schema.vectors[0].description
    np.testing.assert_array_equal(train.sample(ae_run, 3, seed=2, temperature=0.5),
                                  train.decode(ae_run, _framed(ae_run, 3, 2, 0.5)))


def test_latent_sample_of_an_autoencoder_decodes_the_framed_draws(
        cli, ae_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[np.ndarray] = []
    decode = train.decode
    monkeypatch.setattr(train, "decode", lambda model, z, **k: seen.append(z) or decode(model, z, **k))
    r = cli("latent", "sample", ae_run, "--n", "4", "--seed", "5", "--out", tmp_path / "s.png")
    assert r.code == 0, r.err
    np.testing.assert_array_equal(seen[0], _framed(ae_run, 4, 5))


def test_models_with_a_prior_keep_standard_normal_draws(dcgan_run: Path, tmp_path: Path) -> None:
    gen = generate_store(dcgan_run, tmp_path / "gen", 4, seed=2)
    z = np.random.default_rng(2).standard_normal((4, 16)).astype(np.float32)
    np.testing.assert_array_equal(st.vectors(gen, "z"), z)
    assert "draws" not in gen.schema.provenance.arguments
    np.testing.assert_array_equal(train.sample(dcgan_run, 4, seed=2, temperature=0.5),
                                  train.decode(dcgan_run, z * np.float32(0.5)))
