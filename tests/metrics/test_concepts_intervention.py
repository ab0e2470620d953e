"""Test-time intervention (Koh et al. 2020): concepts set right, the task read off the model's
own classifier."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay.metrics.concepts import ConceptData
from latentplay.metrics.intervention import concept_groups, intervention, right_values
from latentplay.models.cbm import CBM, CBMConfig
from latentplay.models.glancenet import GlanceNet, GlanceNetConfig


def _data(n: int, seed: int) -> ConceptData:
    """Concepts: a continuous ``size`` and a two-valued ``glasses``; task: size above 0.5."""
    rng = np.random.default_rng(seed)
    concepts = np.column_stack([rng.uniform(size=n), rng.integers(0, 2, n)]).astype(np.float64)
    labels = (concepts[:, 0] > 0.5).astype(np.int64)
    return ConceptData(np.zeros((n, 32, 32, 1), np.uint8), concepts, labels,
                       np.zeros((n, 2), np.int64), ["size", "glasses=yes"],
                       {"glasses=yes": [1]})


def _threshold_on_size(model: torch.nn.Module, offset: float) -> None:
    """The classifier says class 1 where the first input exceeds ``offset``."""
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor([[-10.0, 0.0], [10.0, 0.0]]))
        model.classifier.bias.copy_(torch.tensor([10.0 * offset, -10.0 * offset]))


def test_setting_the_deciding_concept_right_makes_the_task_right() -> None:
    """A CBM whose classifier thresholds ``size`` at 0.5: with noisy activations the task is
    partly wrong; ``size`` set right (training activations equal to the labels: right values
    are the labels) makes it all right, ``glasses`` alone changes nothing, and the curve runs
    from the first to the last."""
    test, train = _data(400, 0), _data(2000, 1)
    model = CBM(CBMConfig(), 1, 32, 2, 2)
    _threshold_on_size(model, 0.5)
    noisy = np.clip(test.concepts + np.random.default_rng(2).normal(0, 0.3, test.concepts.shape),
                    0, 1)
    result = intervention(model, noisy, test, train.concepts, train)
    predicted = float(np.mean((noisy[:, 0] > 0.5) == test.labels))
    assert result["accuracy"][0] == pytest.approx(predicted) and predicted < 0.9
    assert result["accuracy"][-1] == pytest.approx(1.0, abs=0.01)
    assert result["single"]["size"] == pytest.approx(1.0, abs=0.01)
    assert result["single"]["glasses=yes"] == pytest.approx(predicted)
    assert result["concepts"] == ["size", "glasses=yes"] and len(result["accuracy"]) == 3
    assert result["accuracy_sd"][0] == 0.0 and result["accuracy_sd"][-1] == 0.0   # not 1e-16
    # one concept set: the first of the order alone, so the 20 orders hold two values; their
    # share p from the mean, and the sample SD (ddof 1, as the other spreads of metrics.json)
    alone = result["single"]["size"], result["single"]["glasses=yes"]
    p = (result["accuracy"][1] - alone[1]) / (alone[0] - alone[1])
    assert result["accuracy_sd"][1] == pytest.approx(
        (alone[0] - alone[1]) * np.sqrt(p * (1 - p) * result["orders"] / (result["orders"] - 1)))
    # the classifier already thresholds the right concept: a refit head does no better
    assert result["refit_head"] == pytest.approx(predicted, abs=0.03)


def test_right_values_are_in_the_activations_own_scale() -> None:
    """A class column: the 5th and 95th percentiles of its training activations; a
    continuous one: the training activation of the same rank (activations 0.2 + 0.6 x label
    give back 0.2 + 0.6 x the test label)."""
    test, train = _data(300, 3), _data(5000, 4)
    acts = np.column_stack([0.2 + 0.6 * train.concepts[:, 0],
                            np.where(train.concepts[:, 1] > 0.5, 0.9, 0.1)
                            + np.random.default_rng(5).normal(0, 0.02, 5000)])
    right = right_values(test, acts, train)
    np.testing.assert_allclose(right[:, 0], 0.2 + 0.6 * test.concepts[:, 0], atol=0.01)
    low, high = np.percentile(acts[:, 1], [5, 95])
    np.testing.assert_allclose(right[:, 1], np.where(test.concepts[:, 1] > 0.5, high, low))
    # tied training labels (a concept's levels): a label shared by the rows with activations 1
    # and 2 maps to their middle, 1.5 (its mid-rank 2 of 4: the activations' median)
    tied = ConceptData(np.zeros((4, 4, 4, 1), np.uint8), np.array([[0.0], [0.5], [0.5], [1.0]]),
                       np.zeros(4, np.int64), np.zeros((4, 1), np.int64), ["size"])
    at_tie = ConceptData(tied.images[:1], np.array([[0.5]]), tied.labels[:1], tied.levels[:1], ["size"])
    assert right_values(at_tie, np.array([[0.0], [1.0], [2.0], [3.0]]), tied)[0, 0] == pytest.approx(1.5)


def test_a_refit_head_shows_a_classifier_that_reads_its_concepts_badly() -> None:
    """Activations that hold the task (size, noise-free) under a classifier that thresholds
    size at 0.9 instead of 0.5: the task is often wrong, setting concepts right cannot mend
    it, and a head refit on the activations scores near 1."""
    test, train = _data(400, 8), _data(2000, 9)
    model = CBM(CBMConfig(), 1, 32, 2, 2)
    _threshold_on_size(model, 0.9)
    result = intervention(model, test.concepts.copy(), test, train.concepts, train)
    assert result["accuracy"][0] < 0.7 and result["accuracy"][-1] < 0.7
    assert result["refit_head"] > 0.97


def test_glancenet_reads_activations_in_its_own_range() -> None:
    """GlanceNet's classifier reads tanh activations in -1..1: activations 0..1 are mapped
    there, so a classifier thresholding at 0 of its input thresholds at 0.5 of the
    activations."""
    test, train = _data(400, 6), _data(2000, 7)
    model = GlanceNet(GlanceNetConfig(latent_dim=4), 1, 32, 2, 2, dataset_size=10)
    _threshold_on_size(model, 0.0)
    result = intervention(model, train.concepts[:400] * 0 + 0.5, test, train.concepts, train)
    assert result["single"]["size"] == pytest.approx(1.0, abs=0.01)


def test_a_categorical_concept_is_set_right_as_a_whole() -> None:
    data = ConceptData(np.zeros((2, 4, 4, 1), np.uint8), np.zeros((2, 4)), np.zeros(2, np.int64),
                       np.zeros((2, 4), np.int64), ["scale", "hair=black", "hair=red", "eyes=yes"],
                       {"hair": [1, 2], "eyes=yes": [3]})
    assert concept_groups(data) == {"scale": [0], "hair": [1, 2], "eyes=yes": [3]}


def test_a_concept_run_writes_its_intervention(cli, tmp_path: Path) -> None:
    """``metrics concepts`` records the curve beside the scores (its start the task accuracy
    on the test images), draws intervention.png and prints a line; the report shows it."""
    from html import unescape

    from latentplay.report import build_report

    out = tmp_path / "cbm"
    res = cli("metrics", "concepts", "cbm", "--out", out, "--n", "60", "--epochs", "1",
              "--size", "32", "--threads", "1")
    assert res.code == 0, res.err
    saved = json.loads((out / "metrics.json").read_text())
    curve = saved["intervention"]
    assert curve["concepts"] == ["scale", "pos_x", "pos_y"] and len(curve["accuracy"]) == 4
    assert curve["accuracy"][0] == pytest.approx(saved["accuracy"])
    assert (out / "intervention.png").stat().st_size > 10_000
    assert "intervention: task accuracy" in " ".join(res.out.split())
    html = unescape(build_report(out, tmp_path / "r.html").read_text())
    assert "Test-time intervention" in html
