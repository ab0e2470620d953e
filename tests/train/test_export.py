"""``latentplay export``: a run's networks as ONNX files that give PyTorch's numbers."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.embed import column as col
from latentplay.embed.column import load_rows
from latentplay.errors import UserError
from latentplay.train.export import export_run


def _run(path, feeds):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_vae_encoder_embeds_as_the_vae_embedder(cli, vae_run, faces_store, tmp_path):
    """The exported encoder through ``onnx:`` gives the means ``vae:RUN`` gives; the decoder
    gives ``train.decode``'s images."""
    out = tmp_path / "onnx"
    r = cli("export", vae_run, "--out", out)
    assert r.code == 0, r.err
    assert "encoder.onnx: image -> mu, logvar" in r.out and "decoder.onnx: z -> image" in r.out
    info = json.loads((out / "export.json").read_text())
    assert info["latent_dim"] == 8 and info["image"]["size"] == 32
    assert max(f["max_abs_diff"] for f in info["files"].values()) < 1e-4
    store = st.load(faces_store)
    sub = tmp_path / "sub"
    from latentplay.store.subset import subset

    subset(store, sub, np.arange(24))
    a = col.embed_store(sub, f"onnx:{out / 'encoder.onnx'}", "onnx_mu",
                        options=["align=none", "pixels=unit", "normalize=false"], progress=False)
    want = train.encode(vae_run, load_rows(store, slice(0, 24)))
    np.testing.assert_allclose(st.vectors(a, "onnx_mu"), want, atol=1e-4)
    z = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    (image,) = _run(out / "decoder.onnx", {"z": z})
    assert image.shape == (5, 3, 32, 32)
    decoded = np.round(np.clip(image, 0, 1) * 255).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(decoded, train.decode(vae_run, z), atol=1)


def test_conditional_and_gan_runs(cvae_run, dcgan_run, tmp_path):
    info = export_run(cvae_run, tmp_path / "cvae")
    assert info["files"]["decoder.onnx"]["inputs"] == ["z", "condition"]
    model = train.load_model(cvae_run)
    cond = train.condition_matrix(model.condition_spec, {"smile": [0.5, -0.5],
                                                          "gender": ["female", "male"]}, 2)
    z = np.zeros((2, 8), np.float32)
    (image,) = _run(tmp_path / "cvae" / "decoder.onnx", {"z": z, "condition": cond})
    decoded = np.round(np.clip(image, 0, 1) * 255).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(decoded, train.decode(cvae_run, z, condition=cond), atol=1)
    assert [p["name"] for p in info["condition"]["parts"]] == ["smile", "gender"]
    info = export_run(dcgan_run, tmp_path / "gan")
    assert list(info["files"]) == ["generator.onnx"]
    z = np.random.default_rng(1).standard_normal((3, 16)).astype(np.float32)
    (image,) = _run(tmp_path / "gan" / "generator.onnx", {"z": z})
    decoded = np.round(np.clip(image, 0, 1) * 255).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(decoded, train.decode(dcgan_run, z), atol=1)
    with pytest.raises(UserError, match="is not empty; pass --overwrite"):
        export_run(dcgan_run, tmp_path / "gan")
    assert export_run(dcgan_run, tmp_path / "gan", overwrite=True)["latent_dim"] == 16


def test_export_refuses_what_is_not_a_run(cli, tmp_path):
    r = cli("export", tmp_path / "nowhere")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
