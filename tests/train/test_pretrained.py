"""Importing a StyleGAN2 checkpoint as a run directory, and the latent commands on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.latent.invert import invert
from latentplay.models.stylegan2 import Generator, StyleGAN2Config
from latentplay.train import decode, load_model
from latentplay.train.pretrained import architecture, import_generator, read_stylegan2_state

TINY = StyleGAN2Config(resolution=16, style_dim=16, n_mlp=3, channel_max=32)
# inversions of a few faces, quickly: per layer 0.53 of the loss in W at 30 steps (0.42 at 60)
FEW_STEPS = ("--invert-steps", "30", "--restarts", "2")
BRIEF = ("--invert-steps", "5", "--restarts", "1")  # commands that only have to run


def _generator(config: StyleGAN2Config = TINY, seed: int = 0) -> Generator:
    """A randomly initialised generator whose images vary with w (mapping weights at the
    scale of the port's initialisation, N(0, 1) / lr_mlp) and stay mostly within [0, 1] (RGB
    weights scaled down), as a trained generator's do."""
    torch.manual_seed(seed)
    g = Generator(config)
    with torch.no_grad():
        for layer in list(g.style)[1:]:
            layer.weight.normal_().div_(config.lr_mlp)
        for to_rgb in [g.to_rgb1, *g.to_rgbs]:
            to_rgb.conv.weight.mul_(0.1)
    return g


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint as the port's training script saves it: generators, the averaged one,
    and its argument namespace."""
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    g = _generator()
    torch.save({"g": _generator(seed=1).state_dict(), "g_ema": g.state_dict(),
                "args": argparse.Namespace(size=16, latent=16, n_mlp=3)}, path)
    return path


@pytest.fixture(scope="module")
def run(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_generator(checkpoint, tmp_path_factory.mktemp("runs") / "sg", w_samples=4000)


def test_architecture_is_read_from_the_shapes() -> None:
    for config in (TINY, StyleGAN2Config(resolution=128, style_dim=8, n_mlp=2, channel_multiplier=1),
                   StyleGAN2Config(resolution=64, style_dim=8, n_mlp=1, channel_multiplier=2)):
        with torch.device("meta"):
            state = Generator(config).state_dict()
        found = architecture(state)
        assert (found.resolution, found.style_dim, found.n_mlp, found.channel_multiplier,
                found.channel_max) == (config.resolution, config.style_dim, config.n_mlp,
                                       config.channel_multiplier, config.channel_max)


def test_imported_run_decodes_as_the_generator(run: Path, checkpoint: Path) -> None:
    meta = json.loads((run / "model.json").read_text())
    assert meta["family"] == "stylegan2" and meta["size"] == 16
    assert meta["model"]["space"] == "w" and meta["source"]["w_samples"] == 4000
    assert (run / "samples.png").stat().st_size > 0
    model = load_model(run)
    g = _generator()  # the g_ema of the checkpoint, not its g
    codes = np.random.default_rng(0).standard_normal((5, 16)).astype(np.float32)
    with torch.no_grad():
        w = model.w_mean + torch.from_numpy(codes) @ model.w_basis
        expected = (g.synthesis(w[:, None].expand(-1, g.n_latent, -1)) + 1) / 2
    got = decode(run, codes)
    want = expected.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(got.astype(int) - want).max() <= 1


def test_whitened_codes_have_the_statistics_of_w(run: Path) -> None:
    model = load_model(run)
    g = _generator()
    with torch.no_grad():
        ws = g.mapping(torch.randn(20000, 16, generator=torch.Generator().manual_seed(5))).double()
    basis = model.w_basis.double()
    torch.testing.assert_close(model.w_mean.double(), ws.mean(0), atol=0.05 * ws.std(0).mean().item(), rtol=0)
    cov = torch.cov(ws.T)
    assert (basis.T @ basis - cov).abs().max() < 0.1 * cov.diagonal().max()
    variances = basis.square().sum(1)  # the axes' variances, largest first
    assert torch.all(variances[:-1] >= variances[1:] - 1e-6)


def test_inversion_in_w_finds_the_generators_own_images(run: Path) -> None:
    model = load_model(run)
    targets = np.random.default_rng(1).standard_normal((3, 16)).astype(np.float32) * 0.7
    images = decode(model, targets)
    others = decode(model, np.random.default_rng(2).standard_normal((3, 16)).astype(np.float32))
    another = float(np.mean((images / 255.0 - others / 255.0) ** 2))  # another sample's error
    # 60 steps measured: loss 0.06 of the start and of another sample's error; from the mean 0.19
    # of its start (150 steps: 0.06, 0.06, 0.18)
    result = invert(model, images, steps=60, lr=0.05, restarts=2, seed=0)
    assert np.all(result.loss < 0.25 * result.init_loss)
    assert float(result.loss.max()) < 0.2 * another
    recon = np.mean((result.reconstructions / 255.0 - images / 255.0) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(recon, result.loss, atol=0.002)  # the reported loss is the images'
    from_mean = invert(model, images, init="mean", steps=60, lr=0.05)  # the projector's start
    assert np.all(from_mean.init_z == 0) and np.all(from_mean.loss < 0.25 * from_mean.init_loss)


def test_size_and_space_options(checkpoint: Path, tmp_path: Path) -> None:
    run = import_generator(checkpoint, tmp_path / "z8", size=8, space="z", truncation=0.5,
                           w_samples=500, samples=0)
    model = load_model(run)
    assert (model.size, model.config.space, model.config.truncation) == (8, "z", 0.5)
    assert not (run / "samples.png").exists()
    codes = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    g = _generator()
    with torch.no_grad():
        w = g.mapping(torch.from_numpy(codes))
        w = model.w_mean + 0.5 * (w - model.w_mean)
        full = g.synthesis(w[:, None].expand(-1, g.n_latent, -1))
        expected = (torch.nn.functional.avg_pool2d(full, 2) + 1) / 2
    want = expected.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(decode(run, codes).astype(int) - want).max() <= 1


def test_too_few_w_samples_are_refused(checkpoint: Path, tmp_path: Path, cli) -> None:
    """16 draws of a 16-d W span at most 15 directions: the basis would be singular."""
    result = cli("import", "stylegan2", checkpoint, "--out", tmp_path / "few", "--w-samples", "16")
    assert result.code == 2 and "--w-samples must exceed W's 16 dimensions" in result.err
    assert not (tmp_path / "few").exists()
    assert load_model(import_generator(checkpoint, tmp_path / "ok", w_samples=17, samples=0))


def test_truncation_cutoff_import(checkpoint: Path, tmp_path: Path, cli) -> None:
    result = cli("import", "stylegan2", checkpoint, "--out", tmp_path / "cut", "--truncation", "0.5",
                 "--truncation-cutoff", "2", "--w-samples", "300")
    assert result.code == 0 and "truncation 0.5 in the first 2 layers" in result.out
    model = load_model(tmp_path / "cut")
    assert (model.config.truncation, model.config.truncation_cutoff) == (0.5, 2)
    codes = np.random.default_rng(1).standard_normal((2, 16)).astype(np.float32)
    with torch.no_grad():
        w = model.w_mean + torch.from_numpy(codes) @ model.w_basis
        ws = w[:, None].expand(-1, model.n_layers, -1).clone()
        ws[:, :2] = model.w_mean + 0.5 * (ws[:, :2] - model.w_mean)
        expected = (model.generator.synthesis(ws) + 1) / 2
    want = expected.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(decode(tmp_path / "cut", codes).astype(int) - want).max() <= 1
    bad = cli("import", "stylegan2", checkpoint, "--out", tmp_path / "bad", "--truncation-cutoff", "-2")
    assert bad.code == 2 and "--truncation-cutoff must be 0" in bad.err


def test_checkpoint_formats(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = _generator().state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "g.safetensors"))
    torch.save(state, tmp_path / "bare.pt")
    for name in ("g.safetensors", "bare.pt"):
        assert set(read_stylegan2_state(tmp_path / name)[0]) == set(state)


class Payload:
    """Not a tensor: a checkpoint holding it must not be unpickled."""


def test_refusals(tmp_path: Path, checkpoint: Path, cli) -> None:
    torch.save({"g_ema": _generator().state_dict(), "extra": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(UserError, match=r"refusing to load .*evil.pt: it holds objects other .*Payload"):
        read_stylegan2_state(tmp_path / "evil.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="no StyleGAN2 generator"):
        read_stylegan2_state(tmp_path / "other.pt")
    state = _generator().state_dict()
    del state["conv1.noise.weight"]
    torch.save({"g_ema": state}, tmp_path / "broken.pt")
    result = cli("import", "stylegan2", tmp_path / "broken.pt", "--out", tmp_path / "b")
    assert result.code == 2 and "conv1.noise.weight" in result.err
    assert not (tmp_path / "b").exists()
    for args, message in [(["stylegan1", checkpoint], "unknown generator kind"),
                          (["stylegan3", checkpoint], "StyleGAN3 generators are read from NVIDIA's .pkl"),
                          (["stylegan2", checkpoint, "--size", "12"], "power of two"),
                          (["stylegan2", checkpoint, "--space", "w+"], "space"),
                          (["stylegan2", tmp_path / "missing.pt"], "no such checkpoint"),
                          # a folder (the run folder, say) is named as one, not as missing
                          (["stylegan2", tmp_path], f"{tmp_path} is a folder: give the checkpoint "
                                                    "file itself")]:
        result = cli("import", *args, "--out", tmp_path / "r")
        assert result.code == 2 and message in result.err and result.err.count("\n") == 1
    result = cli("train", "vae", "--data", tmp_path, "--out", tmp_path / "t", "family=stylegan2")
    assert result.code == 2 and "imported, not trained" in result.err


def test_latent_commands_on_an_imported_run(run: Path, tmp_path: Path, cli, faces_store: Path) -> None:
    result = cli("import", "stylegan2", run.parent.parent / "missing", "--out", tmp_path / "x")
    assert result.code == 2
    for args in (["sample", run, "--n", "8", "--out", tmp_path / "s.png"],
                 ["traverse", run, "--axes", "0,1", "--out", tmp_path / "t.png"],
                 ["interpolate", run, "--data", faces_store, "--rows", "0,1", "--steps", "3", *BRIEF,
                  "--out", tmp_path / "i.png"]):
        result = cli("latent", *args)
        assert result.code == 0, result.err
        assert Path(args[-1]).stat().st_size > 0
    result = cli("data", "generate", run, "--out", tmp_path / "gen", "--n", "3")
    schema = json.loads((tmp_path / "gen" / "latentplay.json").read_text())
    assert result.code == 0 and "whitened W code" in json.dumps(schema)
    result = cli("report", run, "--out", tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert result.code == 0 and "Imported generator" in html and "StyleGAN2 16 px" in html
    assert json.loads((run / "model.json").read_text())["source"]["sha256"] in html
    assert "a checkpoint of the PyTorch port (g_ema), tensors only" in html


def test_export_to_onnx_at_any_batch(run: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    from latentplay.train.export import export_run

    info = export_run(run, tmp_path / "onnx")
    assert list(info["files"]) == ["generator.onnx"] and info["latent_dim"] == 16
    session = ort.InferenceSession(str(tmp_path / "onnx" / "generator.onnx"))
    codes = np.random.default_rng(3).standard_normal((5, 16)).astype(np.float32)  # not the traced 4
    got = session.run(["image"], {"z": codes})[0]
    with torch.no_grad():
        want = load_model(run).decode(torch.from_numpy(codes)).clamp(0, 1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_playground_opens_an_imported_run(run: Path) -> None:
    from latentplay.app import build_app, generate
    from latentplay.app.state import Playground

    pg = Playground.open(run)
    images = generate.sample(pg, 4, 0, {})
    assert images.shape == (4, 16, 16, 3) and images.std() > 0
    first = generate.decode_sliders(pg, [0], [3.0], {})  # GANSpace's first axis of W, +3 SD
    assert not np.array_equal(first, generate.decode_sliders(pg, [0], [0.0], {}))
    assert build_app(run=run) is not None


def test_sefa_directions_are_the_modulation_weights_singular_vectors(run: Path, checkpoint: Path,
                                                                     tmp_path: Path, cli) -> None:
    from latentplay.latent.traverse import sefa_axes

    model = load_model(run)
    axes = sefa_axes(model)
    state, _ = read_stylegan2_state(checkpoint)
    stacked = np.concatenate([v.numpy() for k, v in state.items()
                              if k.endswith("modulation.weight") and "to_rgb" not in k]).astype(np.float64)
    assert stacked.shape == (32 * (1 + 2 * 2), 16)  # conv1 and two convolutions at 8 and 16 px
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)  # each channel's weights of unit length
    _, singular, vt = np.linalg.svd(stacked)
    np.testing.assert_allclose(np.abs(np.sum(vt * axes.directions, axis=1)), 1, atol=1e-4)
    np.testing.assert_allclose(axes.strength, singular**2 / np.sum(singular**2), rtol=1e-4)
    randoms = np.random.default_rng(0).standard_normal((200, 16))
    randoms /= np.linalg.norm(randoms, axis=1, keepdims=True)
    assert np.linalg.norm(stacked @ axes.directions[0]) >= np.linalg.norm(stacked @ randoms.T, axis=0).max()
    with torch.no_grad():  # one step of codes moves w by one SD of W along the direction
        base = torch.randn(1, 16)
        moved = model.to_w(base + torch.from_numpy(axes.steps[:3])) - model.to_w(base)
        cov = model.w_basis.double().T @ model.w_basis.double()
    directions = torch.from_numpy(axes.directions[:3]).double()
    np.testing.assert_allclose(moved.numpy(), (axes.std[:3, None] * axes.directions[:3]), atol=1e-4)
    np.testing.assert_allclose(axes.std[:3], torch.einsum("kd,de,ke->k", directions, cov, directions).sqrt(),
                               rtol=1e-4)
    result = cli("latent", "traverse", run, "--sefa", "--top", "3", "--out", tmp_path / "sefa.png")
    numbers = json.loads((tmp_path / "sefa.json").read_text())
    assert result.code == 0 and numbers["directions"] == [0, 1, 2]
    np.testing.assert_allclose(numbers["w_directions"], axes.directions[:3], atol=1e-6)
    assert cli("latent", "traverse", run, "--sefa", "--pca", "--out", tmp_path / "x.png").code == 2


def test_sefa_refusals(checkpoint: Path, tmp_path: Path, vae_run: Path) -> None:
    from latentplay.latent.traverse import sefa_axes

    z_run = import_generator(checkpoint, tmp_path / "z", space="z", w_samples=100, samples=0)
    with pytest.raises(UserError, match="--space w"):
        sefa_axes(load_model(z_run))
    with pytest.raises(UserError, match="a StyleGAN's modulation weights; this run is a vae"):
        sefa_axes(load_model(vae_run))


def test_style_mixing(run: Path, tmp_path: Path, cli, vae_run: Path) -> None:
    from latentplay.latent.mixing import layer_range, style_mix

    assert [layer_range(t, 18) for t in ("coarse", "middle", "fine", "2:5", ":3", "16:")] == [
        (0, 4), (4, 8), (8, 18), (2, 5), (0, 3), (16, 18)]
    assert layer_range("fine", 10) == (8, 10)
    for bad in ("fine", "5:5", "0:9", "x"):
        with pytest.raises(UserError):
            layer_range(bad, 8)
    model = load_model(run)
    assert model.n_layers == 6  # 16 px: 4, 8 and 16 px, two styles each
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((5, 16)).astype(np.float32)
    dest, src = codes[:2], codes[2:]
    mixed = style_mix(model, dest, src, (0, 2))
    assert mixed.shape == (2, 3, 16, 16, 3)
    with torch.no_grad():
        codes = torch.from_numpy(np.stack([src[1], src[1], dest[0], dest[0], dest[0], dest[0]]))[None]
        want = model.decode_layers(codes).clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(mixed[0, 1], want[0])
    np.testing.assert_array_equal(style_mix(model, dest, src, (0, 6))[1, 2], decode(model, src[2:3])[0])
    result = cli("latent", "mix", run, "--n", "3", "--layers", "2:4", "--seed", "3",
                 "--out", tmp_path / "mix.png")
    numbers = json.loads((tmp_path / "mix.json").read_text())
    assert result.code == 0 and numbers["layers"] == [2, 4] and len(numbers["sources"]) == 3
    assert numbers["seed"] == 3   # the seed of the prior samples
    result = cli("latent", "mix", vae_run, "--out", tmp_path / "v.png")
    assert result.code == 2 and "StyleGAN2" in result.err
    # per-layer (W+) codes: the sources' own layer codes replace the destinations' at the span
    plus = rng.standard_normal((5, 6 * 16)).astype(np.float32)
    mixed = style_mix(model, plus[:2], plus[2:], (2, 4))
    layered = plus.reshape(5, 6, 16).copy()
    layered[1, 2:4] = layered[4, 2:4]
    np.testing.assert_array_equal(mixed[1, 2], decode(model, layered[1].reshape(1, -1))[0])
    with pytest.raises(UserError, match="16 .W. or 96 .W.."):
        style_mix(model, plus[:2, :20], plus[2:], (2, 4))


def test_interpolate_blend_and_mix_real_faces_per_layer(run: Path, tmp_path: Path, faces_store: Path,
                                                        vae_run: Path, cli) -> None:
    """Faces inverted per layer (W+) reconstruct closer than with one code (W), and the
    interpolation, blend and mixing commands decode those codes."""
    losses = {}
    for flag in ("--no-per-layer", "--per-layer"):
        out = tmp_path / f"between{flag}.png"
        result = cli("latent", "interpolate", run, "--data", faces_store, "--rows", "0,1,2,3",
                     "--steps", "3", "--out", out, flag, *FEW_STEPS)
        assert result.code == 0, result.err
        numbers = json.loads(out.with_suffix(".json").read_text())
        assert numbers["per_layer"] == (flag == "--per-layer")
        losses[flag] = np.mean(numbers["inversion_loss"])
    assert losses["--per-layer"] < losses["--no-per-layer"]
    result = cli("latent", "blend", run, "--data", faces_store, "--rows", "0,1", "--per-layer",
                 "--out", tmp_path / "blend.png", *BRIEF)
    assert result.code == 0 and json.loads((tmp_path / "blend.json").read_text())["per_layer"]
    result = cli("latent", "mix", run, "--data", faces_store, "--rows", "0:2", "--sources", "2:3",
                 "--per-layer", "--out", tmp_path / "mix.png", *BRIEF)
    assert result.code == 0, result.err
    for args in (("interpolate", vae_run, "--data", faces_store, "--rows", "0,1"),
                 ("mix", run, "--n", "2")):
        result = cli("latent", *args, "--per-layer", "--out", tmp_path / "x.png")
        assert result.code == 2 and ("need a StyleGAN2" in result.err or "--per-layer" in result.err)


def test_large_generators_decode_and_invert_in_smaller_batches(run: Path) -> None:
    model = load_model(run)
    assert model.max_batch == 128  # 16 px: 2 x 1024 / 16
    codes = np.random.default_rng(4).standard_normal((5, 16)).astype(np.float32)
    whole = decode(model, codes)
    images = whole[:3]
    first = invert(model, images, steps=5, restarts=2, seed=0)
    model.max_batch = 2  # as a 1024-px generator would be split: 2 codes per decoding
    np.testing.assert_array_equal(decode(model, codes), whole)
    split = invert(model, images, steps=5, restarts=2, seed=0)  # one image (2 codes) a batch
    np.testing.assert_allclose(split.z, first.z, atol=1e-5)


def test_per_layer_codes_w_plus(run: Path, tmp_path: Path, faces_store: Path, vae_run: Path, cli) -> None:
    model = load_model(run)
    codes = np.random.default_rng(5).standard_normal((2, 16)).astype(np.float32)
    per_layer = np.tile(codes, (1, 6))  # the same code at each of the 6 layers
    np.testing.assert_array_equal(decode(model, per_layer), decode(model, codes))
    images = decode(model, codes)
    start = invert(model, images, steps=0, restarts=2, seed=0, per_layer=True)
    plain = invert(model, images, steps=0, restarts=2, seed=0)
    assert start.z.shape == (2, 96)
    np.testing.assert_array_equal(start.z, np.tile(plain.z, (1, 6)))
    result = invert(model, images, steps=40, restarts=2, seed=0, per_layer=True)
    layers = result.z.reshape(2, 6, 16)
    assert np.abs(layers - layers[:, :1]).max() > 1e-3  # the layers moved apart
    assert np.all(result.loss < result.init_loss)
    with pytest.raises(UserError, match="StyleGAN2"):
        invert(load_model(vae_run), images, per_layer=True)
    store = tmp_path / "few"
    assert cli("data", "subset", faces_store, "--out", store, "--n", "3").code == 0
    result = cli("embed", store, "--with", f"invert:{run}", "--column", "wplus",
                 "-o", "steps=2", "-o", "restarts=1", "-o", "per_layer=true")
    assert result.code == 0 and "(3 x 96)" in result.out


def test_raw_w_vectors_imported_as_codes(run: Path, tmp_path: Path, faces_store: Path, vae_run: Path) -> None:
    from latentplay import store as st
    from latentplay.store.vector_files import import_vectors

    store = st.load(faces_store)
    model = load_model(run)
    codes = np.random.default_rng(6).standard_normal((len(store), 16)).astype(np.float32)
    with torch.no_grad():
        raw = model.to_w(torch.from_numpy(codes)).numpy()
    np.save(tmp_path / "w.npy", raw)
    np.save(tmp_path / "wplus.npy", np.repeat(raw[:, None], 6, axis=1))  # (N, 6, 16) W+
    made, _ = import_vectors(store, "w", tmp_path / "w.npy", codes_of=run)
    np.testing.assert_allclose(st.vectors(made, "w"), codes, atol=1e-3)
    made, _ = import_vectors(store, "wplus", tmp_path / "wplus.npy", codes_of=run)
    np.testing.assert_allclose(st.vectors(made, "wplus"), np.tile(codes, (1, 6)), atol=1e-3)
    assert made.schema.history[-1]["codes_of"] == str(run)
    with pytest.raises(UserError, match="not an imported StyleGAN2"):
        import_vectors(store, "w", tmp_path / "w.npy", codes_of=vae_run)
    z_run = import_generator(checkpoint_of(run), tmp_path / "z", space="z", w_samples=100, samples=0)
    with pytest.raises(UserError, match="--space w"):
        import_vectors(store, "w", tmp_path / "w.npy", codes_of=z_run)


def checkpoint_of(run: Path) -> str:
    """The checkpoint an imported run was made from."""
    return json.loads((run / "model.json").read_text())["source"]["checkpoint"]


def test_edit_along_a_direction_fitted_on_w_plus_codes(run: Path, tmp_path: Path,
                                                        faces_store: Path, cli) -> None:
    store = tmp_path / "some"
    assert cli("data", "subset", faces_store, "--out", store, "--n", "60").code == 0
    result = cli("embed", store, "--with", f"invert:{run}", "--column", "wplus",
                 "-o", "steps=3", "-o", "restarts=1", "-o", "per_layer=true")
    assert result.code == 0, result.err
    result = cli("latent", "direction", store, "--column", "wplus", "--attribute", "gender",
                 "--out", tmp_path / "gender.json")
    assert result.code == 0, result.err
    assert len(json.loads((tmp_path / "gender.json").read_text())["vector"]) == 96
    result = cli("latent", "edit", run, "--data", store, "--direction", tmp_path / "gender.json",
                 "--rows", "0,1", "--alphas=-2,2", "--out", tmp_path / "edit.png")
    assert result.code == 0, result.err
    numbers = json.loads((tmp_path / "edit.json").read_text())
    assert numbers["rows"] == [0, 1] and len(numbers["distance_before_sd"]) == 2


def test_a_generated_stores_codes_per_layer(run: Path, tmp_path: Path) -> None:
    from latentplay import store as st
    from latentplay.latent.codes import store_codes
    from latentplay.sources.generated import generate_store

    made = generate_store(run, tmp_path / "gen", 4)
    model = load_model(run)
    codes = store_codes(model, made, [0, 2], per_layer=True)
    np.testing.assert_array_equal(codes.z, np.tile(st.vectors(made, "z")[[0, 2]], (1, 6)))
    np.testing.assert_array_equal(decode(model, codes.z), st.load_images(made, [0, 2]))


def test_an_interrupted_import_leaves_the_previous_run(checkpoint: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import latentplay.train.figures as figures

    run = import_generator(checkpoint, tmp_path / "run", w_samples=100, samples=8)
    before = {p.name: p.read_bytes() for p in run.iterdir()}

    def interrupted(*args, **kwargs) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "save_image_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_generator(checkpoint, run, w_samples=200, seed=3, samples=8, overwrite=True)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no half-written copy left
    monkeypatch.undo()
    import_generator(checkpoint, run, w_samples=200, seed=3, samples=0, overwrite=True)
    assert json.loads((run / "model.json").read_text())["source"]["w_samples"] == 200
    assert not (run / "samples.png").exists()  # the new run replaced the old one whole


def test_edits_kept_to_some_layers(run: Path, tmp_path: Path, faces_store: Path,
                                   cli) -> None:
    from latentplay.latent.mixing import at_layers

    model = load_model(run)
    rng = np.random.default_rng(8)
    z = rng.standard_normal((2, 16)).astype(np.float32)
    direction = rng.standard_normal(16).astype(np.float32)
    alphas = np.array([0.0, 3.0], np.float32)
    moved = z[:, None] + alphas[None, :, None] * direction  # (2, 2, 16)
    full = decode(model, moved.reshape(4, 16))
    every = at_layers(model, z, moved, (0, 6))
    assert every.shape == (2, 2, 96)
    np.testing.assert_array_equal(decode(model, every.reshape(4, 96)), full)
    coarse = decode(model, at_layers(model, z, moved, (0, 4)).reshape(4, 96)).reshape(2, 2, 16, 16, 3)
    own = decode(model, z)
    np.testing.assert_array_equal(coarse[:, 0], own)  # no step: the faces as they were
    assert np.abs(coarse[:, 1].astype(int) - own).max() > 0  # the edit shows
    assert np.abs(coarse[:, 1].astype(int) - full.reshape(2, 2, 16, 16, 3)[:, 1]).max() > 0  # but not fully
    # through the command: a direction fitted on W codes, applied at the coarse layers
    store = tmp_path / "some"
    assert cli("data", "subset", faces_store, "--out", store, "--n", "40").code == 0
    assert cli("embed", store, "--with", f"invert:{run}", "--column", "w", "-o", "steps=3",
               "-o", "restarts=1").code == 0
    assert cli("latent", "direction", store, "--column", "w", "--attribute", "gender",
               "--out", tmp_path / "gender.json").code == 0
    result = cli("latent", "edit", run, "--data", store, "--direction", tmp_path / "gender.json",
                 "--rows", "0,1", "--alphas=-2,2", "--layers", "coarse", "--out", tmp_path / "e.png")
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "e.json").read_text())["layers"] == [0, 4]
    result = cli("latent", "edit", run, "--data", store, "--direction", tmp_path / "gender.json",
                 "--layers", "7:9", "--out", tmp_path / "x.png")
    assert result.code == 2 and "give no layers" in result.err


def test_sefa_directions_of_some_layers(run: Path, checkpoint: Path, tmp_path: Path, cli) -> None:
    """The authors' layer choice: the directions of the styled convolutions those layers drive
    (style 0: the 4-px convolution, style k: the k-th upsampling-or-not convolution after it),
    moved at those layers only."""
    from latentplay.latent.traverse import direction_traversal, sefa_axes

    model = load_model(run)
    state, _ = read_stylegan2_state(checkpoint)
    chosen = ["conv1", "convs.0", "convs.1"]  # styles 0..2
    stacked = np.concatenate([state[f"{k}.conv.modulation.weight"].numpy() for k in chosen])
    stacked = stacked.astype(np.float64)
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
    _, singular, vt = np.linalg.svd(stacked)
    axes = sefa_axes(model, (0, 3))
    np.testing.assert_allclose(np.abs(np.sum(vt * axes.directions, axis=1)), 1, atol=1e-4)
    np.testing.assert_allclose(axes.strength, singular**2 / np.sum(singular**2), rtol=1e-4)
    with pytest.raises(UserError, match="drive no styled convolution"):
        sefa_axes(model, (5, 6))  # the last style only colours the last RGB layer
    result = cli("latent", "traverse", run, "--sefa", "--layers", "0:3", "--top", "2", "--steps", "3",
                 "--out", tmp_path / "s.png")
    numbers = json.loads((tmp_path / "s.json").read_text())
    assert result.code == 0 and numbers["layers"] == [0, 3] and numbers["directions"] == [0, 1]
    # moved at styles 0..2 only: the W+ codes the command decoded
    codes = np.zeros((2, 6, 16), np.float32)
    codes[:, 0:3] = axes.steps[:2, None]
    row = direction_traversal(model, np.zeros(96, np.float32), codes.reshape(2, -1), np.array([-3.0, 0, 3]))
    assert np.array_equal(row[:, 1], np.repeat(decode(model, np.zeros((1, 16), np.float32)), 2, 0))
    assert np.abs(row[0, 0].astype(int) - row[0, 1]).max() > 0
    result = cli("latent", "traverse", run, "--layers", "coarse", "--out", tmp_path / "x.png")
    assert result.code == 2 and "--layers chooses the layers of --sefa" in result.err


def test_report_page_shows_w_principal_axes(run: Path) -> None:
    from latentplay.report.page import Facts, Figure
    from latentplay.report.pretrained import axes_holding, page, w_variances

    model = load_model(run)
    variance = w_variances(run)
    cov = (model.w_basis.double().T @ model.w_basis.double()).numpy()
    np.testing.assert_allclose(variance, np.sort(np.linalg.eigvalsh(cov))[::-1], rtol=1e-4, atol=1e-6)
    ranked = np.array([4.0, 3, 2, 1])  # cumulative shares 0.4, 0.7, 0.9, 1
    assert [axes_holding(ranked, s) for s in (0.5, 0.9, 0.95)] == [2, 3, 4]
    assert axes_holding(np.array([1.0, 1, 1, 1]), 0.5) == 2  # exactly half: two axes
    section = next(s for s in page(run).sections if s.anchor == "w-axes")
    facts = dict(next(b for b in section.blocks if isinstance(b, Facts)).items)
    assert facts["axes holding 90% of W's variance"] == f"{axes_holding(variance, 0.9)} of 16"
    assert any(isinstance(b, Figure) and b.uri.startswith("data:image/png") for b in section.blocks)


def test_files_missing_the_tensors_read_are_refused_in_one_line(tmp_path: Path, cli) -> None:
    """A .safetensors that is no StyleGAN2 (a run's own model.safetensors) and a generator
    lacking ``input.input`` (.pt or .safetensors) get one error line naming file and key."""
    from safetensors.torch import save_file

    save_file({"encoder.weight": torch.zeros(2, 2)}, str(tmp_path / "run.safetensors"))
    state = {k: v.contiguous() for k, v in _generator().state_dict().items() if k != "input.input"}
    save_file(state, str(tmp_path / "noinput.safetensors"))
    torch.save({"g_ema": state}, tmp_path / "noinput.pt")
    for name, key in [("run.safetensors", "style.1.weight"), ("noinput.safetensors", "input.input"),
                      ("noinput.pt", "input.input")]:
        result = cli("import", "stylegan2", tmp_path / name, "--out", tmp_path / "x")
        assert result.code == 2 and result.err.count("\n") == 1, result.err
        assert name in result.err and key in result.err and not (tmp_path / "x").exists()
    with pytest.raises(UserError, match="lack 'input.input'"):
        architecture(state, "g.pt")
