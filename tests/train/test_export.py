"""``latentplay export``: a run's networks as ONNX files that give PyTorch's numbers."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest

from latentplay import __version__, train
from latentplay import store as st
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
    assert info["made_by"]["command"] == f"latentplay export {vae_run} --out {out}"
    # trained from Python: the version that wrote the weights, and no command
    assert json.loads((vae_run / "model.json").read_text())["made_by"] == {"latentplay": __version__}
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


def test_export_json_says_what_a_stylegan_generator_takes(dcgan_run, tmp_path):
    """An imported StyleGAN2's export.json names its code space, the truncation built into the
    graph and the prior, as model.json does, with a sentence on how to sample codes."""
    import torch

    from latentplay.models.stylegan2 import Generator, StyleGAN2Config
    from latentplay.train.pretrained import import_generator

    torch.manual_seed(0)
    config = StyleGAN2Config(resolution=8, style_dim=8, n_mlp=1, channel_max=16)
    torch.save({"g_ema": Generator(config).state_dict()}, tmp_path / "g.pt")
    run = import_generator(tmp_path / "g.pt", tmp_path / "sg", truncation=0.7, truncation_cutoff=2,
                           w_samples=50, samples=0)
    code = export_run(run, tmp_path / "onnx")["z"]
    assert json.loads((tmp_path / "onnx" / "export.json").read_text())["z"] == code
    assert {k: code[k] for k in ("space", "prior", "truncation", "truncation_cutoff", "w_mean")} == {
        "space": "w", "prior": "N(0, I)", "truncation": 0.7, "truncation_cutoff": 2, "w_mean": "draws"}
    assert "w = w_mean + c @ w_basis" in code["description"] and "psi 0.7" in code["description"]
    assert export_run(dcgan_run, tmp_path / "gan")["z"]["prior"] == "N(0, I)"


def test_readme_says_when_the_exported_encoder_embeds_as_vae_does():
    """The README's onnx: encoder command names the crop a data.crop run needs, and that a
    conditional run's encoder (a second input) cannot be embedded this way."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("`onnx:RUN/onnx/encoder.onnx")
    paragraph = readme[start:readme.index("\n\n", start)]
    assert "-o crop=" in paragraph and "data.crop" in paragraph
    assert "conditional run" in paragraph and "cannot" in paragraph


def test_overwrite_replaces_a_previous_export_whole(vae_run, dcgan_run, tmp_path, cli, monkeypatch):
    """--overwrite leaves no file of the previous export; an interrupted export leaves the
    previous one as it was; a directory holding other files is refused in one line."""
    from latentplay.train import export as export_module

    out = tmp_path / "onnx"
    export_run(vae_run, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_write = export_module._write

    def interrupted(graph, inputs, names, outputs, path):  # stopped once generator.onnx is written
        real_write(graph, inputs, names, outputs, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_run(dcgan_run, out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["onnx"]  # no temporary folder left
    monkeypatch.undo()
    r = cli("export", dcgan_run, "--out", out, "--overwrite")
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "generator.onnx"]
    (out / "notes.txt").write_text("mine")
    r = cli("export", dcgan_run, "--out", out, "--overwrite")
    assert r.code == 2 and r.err.count("\n") == 1 and "notes.txt" in r.err, r.err
    assert (out / "notes.txt").read_text() == "mine" and (out / "generator.onnx").exists()


def test_exported_outputs_declare_their_sizes(vae_run, tmp_path):
    """Runtimes see the outputs as (n, latent) and (n, C, S, S), not generated size names."""
    export_run(vae_run, tmp_path / "onnx")
    shapes = {}
    for name in ("encoder.onnx", "decoder.onnx"):
        session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / name),
                                               providers=["CPUExecutionProvider"])
        shapes.update({o.name: o.shape for o in session.get_outputs()})
    assert shapes == {"mu": ["n", 8], "logvar": ["n", 8], "image": ["n", 3, 32, 32]}


def test_an_export_removes_what_killed_exports_left(vae_run, tmp_path):
    """A SIGKILLed export left its hidden .OUT.export-* folder beside --out for good: the next
    export removes those of writers that are gone, and names its own with its process id."""
    import os
    import subprocess
    import sys

    from latentplay.outputs import machine_tag

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    out = tmp_path / "onnx"
    dead = tmp_path / f".onnx.export-{machine_tag()}-{proc.pid}-0123abcd"
    running = tmp_path / f".onnx.export-{machine_tag()}-{os.getppid()}-0123abcd"
    for folder in (dead, running):
        folder.mkdir()
        (folder / "encoder.onnx").write_bytes(b"half")
    export_run(vae_run, out)
    assert not dead.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["onnx", running.name])


def test_a_resume_says_when_the_runs_export_holds_earlier_weights(cli, shapes_store, tmp_path):
    """After a resume RUN/onnx silently held the earlier weights (embeddings from it differed by
    up to 10 from the run's own): export.json records the weights, and the resume says so."""
    run = tmp_path / "run"
    tiny = ["data.size=32", "model.latent_dim=4"]
    assert cli("train", "ae", "--data", shapes_store, "--out", run, "--max-steps", "1", *tiny).code == 0
    assert cli("export", run).code == 0
    meta = json.loads((run / "model.json").read_text())
    assert json.loads((run / "onnx" / "export.json").read_text())["weights_sha256"] == meta["sha256"]
    res = cli("train", "--resume", run, "--max-steps", "2")
    assert res.code == 0 and f"note: {run / 'onnx'} holds an export of the weights before this " \
        "resume" in " ".join(res.err.split())
    from latentplay.train.export import stale_export

    assert stale_export(run) == run / "onnx"
    assert cli("export", run, "--overwrite").code == 0 and stale_export(run) is None


def test_export_of_a_store_says_it_is_no_run(cli, shapes_store):
    res = cli("export", shapes_store)
    assert res.code == 2 and "is not a run directory" in res.err and "inside the store" not in res.err


def test_a_run_path_that_does_not_exist_is_named_so(cli, tmp_path):
    """"not a run directory (model.json missing)" for a typo'd path: stores say the path does
    not exist, and so do runs now."""
    gone = tmp_path / "nonexist"
    for args in (("latent", "sample", gone, "--out", tmp_path / "a.png"), ("train", "--resume", gone),
                 ("export", gone)):
        res = cli(*args)
        assert res.code == 2 and res.err.strip() == f"error: no run at {gone}: path does not exist", res.err


def test_an_export_while_the_run_saves_its_model_records_the_weights_it_exported(tmp_path, monkeypatch):
    """An export of a run whose training saved the next epoch's model while the ONNX files were
    written recorded that epoch's checksum in export.json beside the earlier weights it had
    exported, so the run's export looked current (no note after a resume); it records the
    checksum of the weights it exported, which the run no longer holds."""
    import torch

    from latentplay.models import build_model, family_config
    from latentplay.models.condition import ConditionSpec
    from latentplay.train import checkpoint as ckpt
    from latentplay.train import export as export_module
    from latentplay.train.export import stale_export

    cfg = family_config("vae")()
    cfg.latent_dim, cfg.width, cfg.hidden = 2, 4, 8
    torch.manual_seed(0)
    models = [build_model("vae", cfg, 1, 28) for _ in range(2)]

    def save(epoch: int) -> str:
        meta = ckpt.model_meta("vae", cfg, 1, 28, ConditionSpec([]), epoch, epoch)
        ckpt.save_model(tmp_path, models[epoch - 1], meta)
        return json.loads((tmp_path / "model.json").read_text())["sha256"]

    exported = save(1)
    real_write, saves = export_module._write, []

    def saved_meanwhile(*args, **kwargs):
        if not saves:
            saves.append(save(2))    # the training's next epoch, while the export writes
        return real_write(*args, **kwargs)

    monkeypatch.setattr(export_module, "_write", saved_meanwhile)
    info = export_run(tmp_path, tmp_path / "onnx")
    assert info["weights_sha256"] == exported != ckpt.read_meta(tmp_path)["sha256"]
    assert stale_export(tmp_path) == tmp_path / "onnx"
