"""A concept model's folder read back (``latentplay.metrics.saved_concepts``): the model
rebuilt from metrics.json and model.pt gives the activations it wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay.metrics.concepts import infer
from latentplay.metrics.leakage import shapes_data
from latentplay.metrics.saved_concepts import load_concept_model

SMALL = ("--n", "40", "--epochs", "1", "--size", "32", "--threads", "1")


@pytest.mark.parametrize("kind", ["cbm", "glancenet"])
def test_a_saved_model_gives_back_its_test_activations(cli, tmp_path: Path, kind: str) -> None:
    """Rebuilt, the model reads its test sprites (a fifth of 40, drawn with seed + 1) into the
    concepts.npy and latents.npy it wrote; a shapes model at 32 px is marked as trained on
    2x2-averaged sprites, with its latent size."""
    out = tmp_path / kind
    assert cli("metrics", "concepts", kind, "--out", out, *SMALL).code == 0
    saved = load_concept_model(out)
    assert (saved.kind, saved.size, saved.channels, saved.crop, saved.halved) == (kind, 32, 1, 1.0,
                                                                                  True)
    assert saved.concepts == ["scale", "pos_x", "pos_y"]
    assert saved.latent_dim == (3 if kind == "cbm" else 10)
    test, _ = shapes_data(10, 1, (0, 1, 2), 32)
    found = infer(saved.model, test.images)
    np.testing.assert_allclose(found["concepts"], np.load(out / "concepts.npy"), atol=1e-6)
    np.testing.assert_allclose(found["latents"], np.load(out / "latents.npy"), atol=1e-6)


def test_a_folder_written_before_channels_and_classes_were_recorded(cli, tmp_path: Path) -> None:
    """Without ``training``'s channels and classes, the first convolution's weights give the
    channels and the shapes task its four quadrants: the same model comes back."""
    out = tmp_path / "cbm"
    assert cli("metrics", "concepts", "cbm", "--out", out, *SMALL).code == 0
    older = tmp_path / "older"
    shutil.copytree(out, older)
    record = json.loads((older / "metrics.json").read_text())
    del record["training"]["channels"], record["training"]["n_classes"]
    (older / "metrics.json").write_text(json.dumps(record))
    test, _ = shapes_data(10, 1, (0, 1, 2), 32)
    new, old = load_concept_model(out), load_concept_model(older)
    assert old.channels == new.channels == 1
    assert old.model.classifier.out_features == new.model.classifier.out_features == 4
    np.testing.assert_array_equal(infer(old.model, test.images)["probs"],
                                  infer(new.model, test.images)["probs"])
