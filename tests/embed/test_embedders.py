"""The embedder registry and the optional embedders: vae:RUN, clip:PATH."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from latentplay import sources, train
from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.base import available, make_embedder
from latentplay.errors import UserError


def test_registry_names_and_errors():
    assert available() == ["pixels-pca", "dlib", "vae", "invert", "clip", "fisher", "onnx",
                           "concepts"]
    emb = make_embedder("pixels-pca", ["dim=3", "size=8"])
    assert emb.name == "pixels-pca" and emb.dim == 3 and emb.image_size == 8
    with pytest.raises(UserError, match="unknown embedder 'resnet'; choose from"):
        make_embedder("resnet")
    with pytest.raises(UserError, match="dim must be in"):
        make_embedder("pixels-pca", ["dim=1000", "size=8"])
    with pytest.raises(UserError, match="fallback must be"):
        make_embedder("dlib", ["fallback=skip"])


def test_pixels_pca_embeds_arrays_and_lists_alike():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 20, 20, 3), dtype=np.uint8)
    emb = make_embedder("pixels-pca", ["dim=5", "size=10"]).fit(images)
    z = emb.embed(images)
    assert z.shape == (40, 5) and z.dtype == np.float32
    np.testing.assert_allclose(emb.embed(list(images)), z, rtol=1e-6)
    np.testing.assert_allclose(np.concatenate([emb.embed(images[i:i + 7]) for i in range(0, 40, 7)]),
                               z, rtol=1e-6)                        # batches embed as the whole
    # 5 centred images span 4 directions: a fifth component was a column of zeros
    with pytest.raises(UserError, match=r"at least 6 images.*pass dim=4 or less \(-o dim=N\)"):
        make_embedder("pixels-pca", ["dim=5"]).fit(images[:5])
    make_embedder("pixels-pca", ["dim=4"]).fit(images[:5])   # as the refusal says
    make_embedder("pixels-pca", ["dim=5"]).fit(images[:6])
    # all alike (black frames) and copies of two images: refused, not all-zero columns
    with pytest.raises(UserError, match="the 40 images fitted on are all alike"):
        make_embedder("pixels-pca", ["dim=5"]).fit(np.zeros_like(images))
    with pytest.raises(UserError, match="vary in 1 direction only"):
        make_embedder("pixels-pca", ["dim=5"]).fit(np.concatenate([images[:2]] * 20))


def test_images_of_floats_are_refused_not_read_as_black() -> None:
    """The same images as floats in [0, 1]: pixels-pca divided them by 255 again and embedded
    near-black images without a word; the store's PNG encoder and the embedders' resizing
    raised PIL's TypeError. All three refuse them in one line now."""
    from latentplay.embed.base import embed_images

    images = np.random.default_rng(0).integers(0, 256, (12, 8, 8, 3), dtype=np.uint8)
    emb = make_embedder("pixels-pca", ["dim=3", "size=8"]).fit(images)
    floats = images / 255.0
    for call in (lambda: emb.embed(floats), lambda: embed_images(emb, floats),
                 lambda: st.encode_png(floats[0])):
        with pytest.raises(UserError, match=r"images must be uint8 \(0..255\), got float64"):
            call()
    assert embed_images(emb, images)[0] == pytest.approx(emb.embed(images))


def test_pixels_pca_residual_is_the_distance_from_the_components():
    """With ``residual`` the last coordinate is what the components leave unexplained: by
    Pythagoras, its square and the components' add up to the squared distance from the mean."""
    images = np.random.default_rng(3).integers(0, 256, (30, 4, 4, 3), dtype=np.uint8)
    emb = make_embedder("pixels-pca", ["size=4", "dim=5", "residual=true"]).fit(images)
    z = emb.embed(images).astype(np.float64)
    x = images.reshape(30, -1) / 255.0
    assert z.shape == (30, 6) and emb.dim == 6
    np.testing.assert_allclose((z ** 2).sum(1), ((x - x.mean(0)) ** 2).sum(1), rtol=1e-4)
    assert (z[:, 5] > 0).all()


def test_a_weights_file_rewritten_at_its_size_has_another_digest(tmp_path):
    """Weights retrained to a file of the same size are other weights: a partial embedding
    made with the old ones must not be continued."""
    import os

    from latentplay.embed.base import file_digest

    weights = tmp_path / "model.bin"
    weights.write_bytes(b"old weights")
    before = file_digest(weights)
    weights.write_bytes(b"new weights")
    os.utime(weights, ns=(10**18, 10**18))  # written later, whatever the clock's resolution
    assert file_digest(weights) != before and file_digest(tmp_path / "none") == ""


def test_clip_needs_a_path_and_open_clip(tmp_path):
    with pytest.raises(UserError, match="needs a local weights file: --with clip:PATH"):
        make_embedder("clip")
    with pytest.raises(UserError, match="does not exist"):
        make_embedder(f"clip:{tmp_path / 'missing.bin'}")
    with pytest.raises(UserError, match=f"^clip weights file {tmp_path} is a folder, not a file: give"):
        make_embedder(f"clip:{tmp_path}")
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0")
    try:
        import open_clip  # noqa: F401
    except ImportError:
        with pytest.raises(UserError, match="needs open_clip, which is not installed"):
            make_embedder(f"clip:{weights}")
    else:  # installed: the bogus weights file is refused with a clear message
        with pytest.raises((UserError, RuntimeError)):
            make_embedder(f"clip:{weights}")


@pytest.mark.slow  # trains a (tiny) model: ~10 s alone, more on a busy machine
def test_vae_embedder_matches_train_encode(tmp_path):
    torch.set_num_threads(1)
    data = tmp_path / "shapes"
    sources.make("shapes", data, n=64, seed=0)
    run = train.train("betavae", data, tmp_path / "run", max_steps=2, batch_size=16,
                      progress=False,
                      overrides=["data.size=32", "model.width=8", "model.hidden=32",
                                 "model.latent_dim=3", "trainer.threads=1"])
    with pytest.raises(UserError, match="needs a run directory"):
        make_embedder("vae")
    with pytest.raises(UserError, match="holds no trained model"):
        make_embedder(f"vae:{tmp_path}")
    emb = make_embedder(f"vae:{run}")
    assert emb.dim == 3 and emb.name == f"vae:{run}"
    out = col.embed_store(data, emb, "mu", batch_size=20, progress=False)
    z = st.vectors(out, "mu")
    assert z.shape == (64, 3) and z.dtype == np.float32
    np.testing.assert_allclose(z, train.encode(run, st.load_images(out)), rtol=1e-5, atol=1e-6)


def test_fit_image_crops_the_centre_then_resizes():
    from PIL import Image

    from latentplay.store.images import fit_image

    arr = np.zeros((40, 60, 3), dtype=np.uint8)
    arr[10:30, 20:40] = 255  # the centred 20 x 20 square of a 60 x 40 image
    img = fit_image(Image.fromarray(arr), None, crop=0.5)
    assert img.size == (20, 20) and np.asarray(img).min() == 255
    assert fit_image(Image.fromarray(arr), 8, crop=1.0).size == (8, 8)


def test_vae_run_trained_on_crops_embeds_its_crops(tmp_path):
    torch.set_num_threads(1)
    data = tmp_path / "shapes"
    sources.make("shapes", data, n=48, seed=0)
    tiny = ["data.size=32", "model.width=8", "model.hidden=32", "model.latent_dim=3",
            "trainer.threads=1"]
    with pytest.raises(UserError, match=r"data.crop must be in \(0, 1\]"):
        train.train("vae", data, tmp_path / "bad", max_steps=1, progress=False,
                    overrides=[*tiny, "data.crop=0"])
    run = train.train("vae", data, tmp_path / "run", max_steps=1, batch_size=16, progress=False,
                      overrides=[*tiny, "data.crop=0.5"])
    assert json.loads((run / "model.json").read_text())["crop"] == 0.5
    full = st.load_images(st.load(data))  # (48, 64, 64, 1)
    z = train.encode(run, full)
    np.testing.assert_allclose(z, train.encode(run, full[:, 16:48, 16:48], cropped=True),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(z, train.encode(run, full, cropped=True), atol=1e-3)
    out = col.embed_store(data, make_embedder(f"vae:{run}"), "mu", batch_size=20, progress=False)
    np.testing.assert_allclose(st.vectors(out, "mu"), z, rtol=1e-5, atol=1e-6)


def test_conditional_run_takes_each_rows_condition_from_the_store(tmp_path):
    torch.set_num_threads(1)
    data = tmp_path / "faces"
    sources.make("synthfaces", data, n=40, seed=0)
    run = train.train("cvae", data, tmp_path / "run", max_steps=2, batch_size=16,
                      progress=False,
                      overrides=["data.size=32", "model.width=8", "model.hidden=32",
                                 "model.latent_dim=3", "trainer.threads=1",
                                 "model.condition=[gender]"])
    emb = make_embedder(f"vae:{run}")
    with pytest.raises(UserError, match="conditional model"):
        emb.embed(np.zeros((2, 32, 32, 3), np.uint8))
    out = col.embed_store(data, emb, "mu", batch_size=16, progress=False)
    gender = out.labels("gender")
    images = st.load_images(out)
    z = st.vectors(out, "mu")
    np.testing.assert_allclose(z, train.encode(run, images, condition={"gender": gender}),
                               rtol=1e-5, atol=1e-6)
    flipped = train.encode(run, images, condition={"gender": 1 - gender})
    assert np.abs(z - flipped).max() > 1e-4  # the condition reaches the encoder
    entry = [h for h in out.schema.history if h.get("column") == "mu"][-1]
    assert entry["condition"] == ["gender"]


def test_condition_classes_are_matched_by_name():
    from types import SimpleNamespace

    from latentplay.models.condition import ConditionPart, ConditionSpec
    from latentplay.store.schema import Attribute

    spec = ConditionSpec([ConditionPart("race", "categorical", 3, names=["a", "b", "c"])])

    def store(names: list[str], codes: list[int]) -> SimpleNamespace:
        attr = Attribute("race", "categorical", names=names)
        return SimpleNamespace(labels=lambda _: np.array(codes),
                               schema=SimpleNamespace(attribute=lambda _: attr))

    got = spec.encode_store(store(["c", "a"], [0, 1, 1]))
    np.testing.assert_array_equal(got, np.eye(3, dtype=np.float32)[[2, 0, 0]])
    with pytest.raises(UserError, match=r"does not know class\(es\) \['d'\]"):
        spec.encode_store(store(["a", "d"], [0, 1]))


class _FakeClip:
    """A stand-in for the open_clip module: one architecture whose tokenizer ships with the
    package (``local``) and one whose tokenizer would come from the Hugging Face hub."""

    def __init__(self) -> None:
        self.torch = torch
        self.tokenizers: list[str] = []
        self.created: list[tuple[str, str]] = []

    def create_model_and_transforms(self, name, pretrained, device):  # noqa: ANN001
        torch = self.torch
        self.created.append((name, pretrained))

        class Model(torch.nn.Module):
            visual = type("Visual", (), {"output_dim": 4})()

            def encode_image(self, batch):  # noqa: ANN001
                return batch.flatten(1)[:, :4]

            def encode_text(self, tokens):  # noqa: ANN001
                return tokens.float()

        return Model(), None, lambda img: torch.ones(3, 2, 2)

    def get_model_config(self, name):  # noqa: ANN001
        text = {"hub": {"hf_tokenizer_name": "some/repo"},
                "hubtext": {"hf_model_name": "some/text-model"}}.get(name, {})
        return {"text_cfg": text}

    def get_tokenizer(self, name):  # noqa: ANN001
        self.tokenizers.append(name)
        return lambda texts: self.torch.tensor([[len(t), 1.0, 0.0, 2.0] for t in texts])


def test_clip_never_fetches_from_the_hub(tmp_path, monkeypatch):
    import sys

    fake = _FakeClip()
    monkeypatch.setitem(sys.modules, "open_clip", fake)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0")
    with pytest.raises(UserError, match="Hugging Face hub repository"):
        make_embedder(f"clip:{weights}", ["model=hf-hub:org/model"])
    local = make_embedder(f"clip:{weights}", ["model=local"])
    assert fake.tokenizers == []  # image embeddings need no tokenizer
    text = local.embed_text(["a", "bbb"])
    assert text.shape == (2, 4) and np.allclose(np.linalg.norm(text, axis=1), 1.0)
    local.embed_text(["c"])
    assert fake.tokenizers == ["local"]  # made once
    hub = make_embedder(f"clip:{weights}", ["model=hub"])
    with pytest.raises(UserError, match="fetched from the Hugging Face hub"):
        hub.embed_text(["a"])
    assert fake.tokenizers == ["local"]


def test_clip_refuses_hub_text_towers_and_reads_the_local_file(tmp_path, monkeypatch):
    """An architecture whose text tower is a hub model is refused before the model is built;
    a weights file named like an open_clip pretrained tag is passed as an absolute path."""
    import sys

    fake = _FakeClip()
    monkeypatch.setitem(sys.modules, "open_clip", fake)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "openai").write_bytes(b"\0")
    with pytest.raises(UserError, match="text tower from a Hugging Face hub model"):
        make_embedder("clip:openai", ["model=hubtext"])
    assert fake.created == []
    make_embedder("clip:openai", ["model=local"])
    assert fake.created == [("local", str(tmp_path / "openai"))]


@pytest.mark.parametrize("error", [KeyError(101), RuntimeError("size mismatch for proj\nand more")])
def test_clip_weights_it_cannot_load_are_one_line(tmp_path, monkeypatch, error):
    """A file open_clip cannot read (torch.load's KeyError or UnpicklingError on a file that is
    no checkpoint) or whose tensors are another architecture's is a one-line UserError."""
    import sys

    fake = _FakeClip()

    def fails(name, pretrained, device):  # noqa: ANN001
        raise error

    fake.create_model_and_transforms = fails  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "open_clip", fake)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match=r"could not load .*weights.bin as local: \S") as info:
        make_embedder(f"clip:{weights}", ["model=local"])
    assert "\n" not in str(info.value)


def test_a_vae_column_records_the_weights_it_was_embedded_with(vae_run, tmp_path):
    """The run's training saved its next epoch after ``embed --with vae:RUN`` read model.json
    and before it loaded the weights: the column recorded the earlier weights' SHA-256 beside
    codes of the new ones (a direction fitted on them was then refused for the finished run);
    it records those it embedded with."""
    import shutil

    from latentplay.train import checkpoint as ckpt

    run = tmp_path / "run"
    shutil.copytree(vae_run, run)
    emb = make_embedder(f"vae:{run}")
    before = json.loads((run / "model.json").read_text())
    model = train.load_model(run)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)             # the next epoch's weights
    ckpt.save_model(run, model, {k: before[k] for k in (*ckpt.META_KEYS, "epoch", "step", "crop")})
    now = json.loads((run / "model.json").read_text())["sha256"]
    size, channels = before["size"], before["channels"]
    emb.embed(np.zeros((2, size, size, channels), np.uint8))
    assert emb.run_record()["run_sha256"] == now != before["sha256"]
