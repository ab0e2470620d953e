"""``concepts:DIR``: a store embedded with a concept model of ``metrics concepts`` gets the
latents (or concept activations) the model gave its own test images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import store
from latentplay.embed import make_embedder
from latentplay.errors import UserError
from latentplay.metrics.store_concepts import store_concept_data

ARGS = ("--concepts", "smile,eyeglasses", "--label", "gender", "--epochs", "1", "--size", "32",
        "--crop", "0.8", "--threads", "1")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> dict[str, Path]:
    """A GlanceNet and a CBM of the faces store's smile and eyeglasses (task: gender)."""
    from latentplay.cli import main

    root = tmp_path_factory.mktemp("concept_models")
    for kind in ("glancenet", "cbm"):
        main(["metrics", "concepts", kind, "--data", str(faces_store), "--out", str(root / kind),
              *ARGS])
    return {"glancenet": root / "glancenet", "cbm": root / "cbm"}


def test_the_embedding_is_what_the_model_gave_its_test_images(cli, tmp_path: Path,
                                                              faces_store: Path,
                                                              trained: dict[str, Path]) -> None:
    """Read at the model's size after its crop, the store's test rows get exactly the
    latents.npy and concepts.npy the model wrote of them; the column's history names the model
    (not as a run to decode with)."""
    path = tmp_path / "faces"
    shutil.copytree(faces_store, path)
    glance = trained["glancenet"]
    for column, part in (("glance", "latents"), ("glance_c", "concepts")):
        res = cli("embed", path, "--with", f"concepts:{glance}", "--column", column,
                  "-o", f"part={part}")
        assert res.code == 0, res.err
    faces = store.load(path)
    test_rows = store_concept_data(faces, ["smile", "eyeglasses"], "gender", size=32,
                                   crop=0.8).rows_test
    latents, concepts = np.load(glance / "latents.npy"), np.load(glance / "concepts.npy")
    assert store.vectors(faces, "glance").shape == (len(faces), latents.shape[1])
    np.testing.assert_allclose(store.vectors(faces, "glance")[test_rows], latents, atol=1e-5)
    np.testing.assert_allclose(store.vectors(faces, "glance_c")[test_rows], concepts, atol=1e-5)
    entry = next(h for h in faces.schema.history if h.get("column") == "glance")
    assert entry["concept_model"] == str(glance.resolve()) and "run" not in entry
    assert entry["model"] == "glancenet" and entry["concepts"] == ["smile", "eyeglasses=yes"]


def test_a_cbm_gives_its_concept_activations(trained: dict[str, Path], faces_store: Path) -> None:
    emb = make_embedder(f"concepts:{trained['cbm']}")
    images = store.load_images(store.load(faces_store), range(4), size=32, crop=0.8)
    assert emb.dim == 2 and emb.image_size == 32 and emb.image_crop == 0.8
    vectors = emb.embed(images)
    assert vectors.shape == (4, 2) and (vectors >= 0).all() and (vectors <= 1).all()


def test_bad_folders_and_options_are_one_line(tmp_path: Path, trained: dict[str, Path]) -> None:
    with pytest.raises(UserError, match="not a concept model's folder"):
        make_embedder(f"concepts:{tmp_path}")
    with pytest.raises(UserError, match="no concept model at .*: the folder does not exist"):
        make_embedder(f"concepts:{tmp_path / 'missing'}")
    with pytest.raises(UserError, match="part must be one of latents, concepts"):
        make_embedder(f"concepts:{trained['cbm']}", ["part=mu"])
    other = tmp_path / "swapped"
    shutil.copytree(trained["glancenet"], other)
    shutil.copy(trained["cbm"] / "model.pt", other / "model.pt")   # another model's weights
    with pytest.raises(UserError, match="does not fit the glancenet its metrics.json records"):
        make_embedder(f"concepts:{other}")
    (other / "model.pt").write_bytes(b"not weights")
    with pytest.raises(UserError, match="cannot be read as saved weights"):
        make_embedder(f"concepts:{other}")
    record = json.loads((other / "metrics.json").read_text())
    del record["model"]
    (other / "metrics.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="does not record the model"):
        make_embedder(f"concepts:{other}")


def test_a_model_of_shapes_at_32_px_reads_64_px_sprites_as_it_was_trained(cli,
                                                                           tmp_path: Path) -> None:
    """Shapes at 32 px are 64-px sprites averaged over 2x2 blocks: the embedder takes 64-px
    images and averages them so, giving the test sprites exactly the activations the model
    wrote (a plain resize would blur them otherwise)."""
    from latentplay.metrics.leakage import shapes_data

    out = tmp_path / "cbm"
    assert cli("metrics", "concepts", "cbm", "--out", out, "--n", "40", "--epochs", "1",
               "--size", "32", "--threads", "1").code == 0
    emb = make_embedder(f"concepts:{out}", ["part=concepts"])
    assert emb.image_size == 64 and emb.image_mode == "L"
    sprites, _ = shapes_data(10, 1, (0, 1, 2), 64)       # the test set: a fifth of 40, seed + 1
    np.testing.assert_allclose(emb.embed(sprites.images), np.load(out / "concepts.npy"),
                               atol=1e-6)
    with pytest.raises(UserError, match=r"takes \(N, 64, 64, 1\) images"):
        emb.embed(sprites.images[:, ::2, ::2])
