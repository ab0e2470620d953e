"""Where many classes expect few generated images the chi-square curve's p-value runs small:
`audit compare` then simulates the p-value under the test's null, and the basis line says so."""

from __future__ import annotations

import html
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multinomial

from latentplay import store as st
from latentplay.audit.distribution import chi_square_basis, compare, simulated_text
from latentplay.audit.goodness_of_fit import (
    DRAWS,
    MARGINS_FIXED,
    REFERENCE_SHARES,
    REFERENCE_TRUTH,
    _wald,
    simulated_p,
)
from latentplay.audit.run import _p_title
from latentplay.clustered import cluster_spread
from latentplay.contingency import simulated_p as margins_fixed_p
from latentplay.outputs import p_text
from latentplay.report.page import p_is

CLASSES = [f"c{i}" for i in range(12)]
TRAINING = np.array([245] * 6 + [5] * 6)     # six classes at 0.5 % of the training labels
CONFUSION = np.eye(12) * 0.98 + 0.02 / 11 * (1 - np.eye(12))


def test_sparse_expected_counts_are_named_and_the_p_value_simulated() -> None:
    found = compare(TRAINING, np.array([49] * 6 + [1] * 6), CLASSES, confusion=CONFUSION)
    few = found.to_dict()
    test = few["chi2"]
    expected = 300 * (CONFUSION.T @ (TRAINING / TRAINING.sum()))
    assert test["sparse"] == np.mean(expected < 5) == 0.5
    assert np.isclose(test["min_expected"], expected.min())
    assert test["simulation"] == REFERENCE_TRUTH and found.p_value == test["p_value_simulated"]
    basis = chi_square_basis(few)
    assert "50% of the classes expect under 5 generated images (the fewest 1.5)" in basis
    assert f"p simulated from 2,000 comparisons drawn with {REFERENCE_TRUTH}" in basis
    assert _p_title(found) == (f"chi-square p {p_text(found.p_value)} (simulated: few images "
                               "expected in some classes)")                # the figures' title
    many = compare(TRAINING, np.array([490] * 6 + [10] * 6), CLASSES, confusion=CONFUSION)
    assert many.to_dict()["chi2"]["sparse"] == 0 and many.chi2_p_simulated is None
    assert _p_title(many) == f"chi-square p {p_text(many.chi2_p)}"
    assert many.p_value == many.chi2_p and "expect under 5" not in (chi_square_basis(many.to_dict())
                                                                   or "")


def test_a_summary_written_before_simulation_keeps_its_caution() -> None:
    old = {"statistic": 9.0, "p_value": 0.01, "dof": 11, "sparse": 0.5, "min_expected": 1.5}
    assert "the chi-square curve's p-value is approximate there and can be too small" in (
        simulated_text(old))


def test_one_image_of_a_class_that_expects_a_tenth_is_not_called_significant() -> None:
    """A class at 0.1 % of the training labels, read once among 100 images: the curve's p is
    small (the statistic grows by about ``1 / 0.1``), the simulated one is not, since a
    faithful generator shows such an image about one time in ten."""
    found = compare(np.array([2997, 3]), np.array([99, 1]), CLASSES[:2], seed=1,
                    confusion=np.eye(2))
    assert found.chi2_p < 0.02 and found.p_value > 0.05


def test_labels_on_both_sides_count_the_smaller_side_and_fix_the_margins() -> None:
    """Pearson's 2 x K table: its smallest cells are the smaller side's; its p-value is
    simulated as :mod:`latentplay.contingency` simulates any table's, margins fixed."""
    t, g = np.array([500, 300, 8]), np.array([50, 30, 2])
    found = compare(t, g, CLASSES[:3], seed=3)
    few = found.to_dict()
    assert np.isclose(few["chi2"]["min_expected"], 82 * 10 / 890)
    assert "expect under 5 generated images" in chi_square_basis(few, "generated")
    assert few["chi2"]["simulation"] == MARGINS_FIXED
    assert found.chi2_p_simulated == margins_fixed_p(np.stack([t, g]), found.chi2, DRAWS, seed=3)
    plenty = compare(np.array([500, 300, 200]), np.array([50, 30, 20]), CLASSES[:3]).to_dict()
    assert chi_square_basis(plenty) is None and "p_value_simulated" not in plenty["chi2"]


def _compositions(n: int, k: int) -> list[np.ndarray]:
    """Every ``(k,)`` count vector summing to ``n``."""
    return [np.diff([0, *cut, n + k]) - 1 for cut in itertools.combinations(range(1, n + k), k - 1)]


def _multinomial_pmf(x: np.ndarray, p: np.ndarray) -> float:
    return float(multinomial.pmf(x, int(x.sum()), p))


def test_the_bootstrap_is_the_exact_tail_of_its_plug_in_null() -> None:
    """Through an annotator known to err, with 12 training labels and 4 images over 3 classes,
    every outcome of the two samples can be listed: the simulated p-value is their probability
    at or beyond the observed statistic (reference shares and ``C^T p_t`` taken as the
    truth), within its Monte Carlo error."""
    confusion = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.0, 0.1, 0.9]])
    t, g = np.array([7, 3, 2]), np.array([1, 1, 2])
    statistic = _wald(t, g, confusion, None, None)[0]
    pt = t / 12
    read = confusion.T @ pt
    exact = sum(_multinomial_pmf(tb, pt) * _multinomial_pmf(gb, read)
                for tb in _compositions(12, 3) for gb in _compositions(4, 3)
                if _wald(tb, gb, confusion, None, None)[0] >= statistic * (1 - 1e-9))
    p, how = simulated_p(t, g, statistic, confusion=confusion, draws=20_000)
    assert how == REFERENCE_TRUTH and 0.05 < exact < 0.95
    assert p == pytest.approx(exact, abs=3 * np.sqrt(exact * (1 - exact) / 20_000))


def test_persons_are_drawn_whole() -> None:
    """With the reference's rows coming as persons, the bootstrap draws 4 persons of 3 photos
    whole: the simulated p-value is the exact tail over every draw of persons and of the 3
    images."""
    persons = np.array([[3, 0], [3, 0], [2, 1], [0, 3]])       # (k, K) each person's classes
    g = np.array([0, 3])
    t = persons.sum(axis=0)
    statistic = _wald(t, g, None, None, cluster_spread(persons))[0]
    exact = 0.0
    for taken in _compositions(4, 4):
        tb = taken @ persons
        weight = _multinomial_pmf(taken, np.full(4, 0.25))
        for gb in _compositions(3, 2):
            if _wald(tb, gb, None, None, cluster_spread(persons, taken))[0] >= statistic * (1 - 1e-9):
                exact += weight * _multinomial_pmf(gb, t / t.sum())
    p, how = simulated_p(t, g, statistic, training_clusters=persons, draws=10_000)
    assert how == REFERENCE_SHARES and 0.05 < exact < 0.95   # labels: no confusion to measure
    assert p == pytest.approx(exact, abs=3 * np.sqrt(exact * (1 - exact) / 10_000))


def _labelled(path: Path, classes: np.ndarray) -> st.Store:
    """A store of 8 x 8 images labelled ``color`` by ``classes`` (0..2)."""
    images = np.random.default_rng(0).integers(0, 255, (len(classes), 8, 8, 3), np.uint8)
    schema = st.Schema(attributes=[st.Attribute("color", "categorical",
                                                names=["red", "green", "blue"])],
                       provenance=st.Provenance(source="tests", converter="tests"))
    return st.build([{"image": [st.encode_png(im) for im in images],
                      "color": classes.tolist()}], schema, path)


def test_the_chunks_of_draws_hold_their_covariances_to_draw_cells(monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """3 classes and DRAW_CELLS 27: 3 comparisons of (3, 3) covariances at once (10 draws: 3,
    3, 3 and 1), not CHUNK (1,000 classes took 2 GB per array of 256 comparisons)."""
    from latentplay.audit import goodness_of_fit

    sizes: list[int] = []
    statistics = goodness_of_fit._statistics

    def counted(t, *args):  # noqa: ANN001, ANN202 - a spy on the tested function
        sizes.append(t.shape[0])
        return statistics(t, *args)

    monkeypatch.setattr(goodness_of_fit, "DRAW_CELLS", 27)
    monkeypatch.setattr(goodness_of_fit, "_statistics", counted)
    simulated_p(np.array([5, 6, 7]), np.array([1.5, 2.5, 3.0]), 1.0, draws=10)
    assert sizes == [3, 3, 3, 1]
    sizes.clear()                   # two kinds of persons: 27 // (2 x 3) = 4 would allow 4
    persons = np.array([[3, 0, 1], [0, 2, 2], [3, 0, 1]])
    simulated_p(persons.sum(axis=0), np.array([1, 2, 3]), 1.0, training_clusters=persons,
                draws=10)
    assert sizes == [3, 3, 3, 1]


def test_the_command_prints_and_reports_the_simulated_p(tmp_path: Path, cli) -> None:
    """`audit compare` of 16 labelled images against 93 labelled rows, one class at 3 rows:
    the printed p and the report's are the simulated one, and both say how it was drawn."""
    data = _labelled(tmp_path / "data", np.repeat([0, 1, 2], [60, 30, 3]))
    images = _labelled(tmp_path / "images", np.repeat([0, 1, 2], [10, 5, 1]))
    out = tmp_path / "audit"
    r = cli("audit", "compare", "--images", images.path, "--data", data.path, "--annotator",
            "labels", "--attribute", "color", "--out", out)
    assert r.code == 0, r.err
    test = json.loads((out / "summary.json").read_text())["attributes"]["color"]["chi2"]
    assert test["simulation"] == MARGINS_FIXED and test["p_value_simulated"] != test["p_value"]
    assert f"chi-square p {p_text(test['p_value_simulated'], 3)}" in r.out
    assert f"p simulated from 2,000 comparisons drawn with {MARGINS_FIXED}" in r.out
    report = tmp_path / "report.html"
    assert cli("report", out, "--out", report).code == 0
    page = html.unescape(report.read_text())
    assert f"dof, {p_is(test['p_value_simulated'])}; " in page
    assert f"p simulated from 2,000 comparisons drawn with {MARGINS_FIXED}" in page


def test_compare_draws_the_reference_persons_whole() -> None:
    """Labels on both sides, the reference of 40 persons x 3 photos (one class rare, some
    photos without a class): compare's simulated p is the bootstrap over those persons' class
    counts, rows without a class left out."""
    rng = np.random.default_rng(5)
    persons = np.repeat(np.arange(40), 3)
    codes = np.repeat(rng.choice(3, 40, p=[0.6, 0.37, 0.03]), 3)
    codes[::7] = -1
    t = np.bincount(codes[codes >= 0], minlength=3)
    g = np.array([12, 7, 1])
    found = compare(t, g, CLASSES[:3], training_persons=(codes, persons), seed=2)
    assert found.chi2_simulation == REFERENCE_SHARES and found.training_spread is not None
    kept = codes >= 0
    sums = np.stack([np.bincount(persons[kept], weights=codes[kept] == k, minlength=40)
                     for k in range(3)], axis=1)
    sums = sums[sums.sum(axis=1) > 0]
    assert found.chi2_p_simulated == simulated_p(t, g, found.chi2, training_clusters=sums,
                                                 seed=2)[0]
