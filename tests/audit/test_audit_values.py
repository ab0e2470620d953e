"""Continuous attributes compared between generated and training images (audit.values)."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.values import compare_values, ks_persons_text
from latentplay.errors import UserError


def test_a_shift_of_one_sd() -> None:
    rng = np.random.default_rng(0)
    training, generated = rng.normal(5.0, 2.0, 20000), rng.normal(7.0, 2.0, 20000)
    cmp = compare_values(training, generated, attribute="x")
    assert cmp.smd == pytest.approx(1.0, abs=0.03)
    assert cmp.wasserstein == pytest.approx(2.0, abs=0.06)  # a shift moves all mass by it
    assert cmp.ks == pytest.approx(0.383, abs=0.02)  # 2 * Phi(0.5) - 1 for two unit normals 1 SD apart
    assert cmp.ks_p < 1e-100
    median = dict(cmp.quantiles)[0.5]
    assert median == pytest.approx((5.0, 7.0), abs=0.05)


def test_the_same_sample_and_missing_values() -> None:
    values = np.arange(100, dtype=float)
    with_nan = np.concatenate([values, [np.nan] * 7])
    cmp = compare_values(values, with_nan)
    assert cmp.ks == 0 and cmp.wasserstein == 0 and cmp.smd == 0 and cmp.ks_p == 1
    assert (cmp.n_generated, cmp.missing_generated, cmp.missing_training) == (100, 7, 0)
    table = cmp.rows()
    assert [(r["quantile"], r["training"]) for r in table] == [(0.05, 4.95), (0.25, 24.75),
                                                               (0.5, 49.5), (0.75, 74.25),
                                                               (0.95, 94.05)]
    assert cmp.to_dict()["kind"] == "continuous"
    with pytest.raises(UserError, match="at least 2"):
        compare_values(values, np.array([1.0, np.nan]), attribute="x")


def test_the_wasserstein_distance_moves_each_value() -> None:
    """Same means, different spreads: the mass at 0 and 2 moves by 1 to reach 1."""
    cmp = compare_values(np.array([0.0, 2.0, 0.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    assert cmp.wasserstein == pytest.approx(1.0) and cmp.smd == pytest.approx(0.0)


def test_persons_of_values_left_out_are_not_counted() -> None:
    """Persons are those of the rows with a value: of 30 persons x 4 photos, one photo of each
    of four persons without a value leaves 30, all four photos of one person 29."""
    rng = np.random.default_rng(3)
    persons = np.repeat(np.arange(30), 4)
    for missing, left in (([0, 4, 8, 12], 30), ([0, 1, 2, 3], 29)):
        training = rng.normal(size=120)
        training[missing] = np.nan
        cmp = compare_values(training, rng.normal(size=200), persons=persons)
        assert cmp.ks_persons is not None and cmp.ks_persons["persons"] == left


def test_photos_less_alike_than_chance_count_no_more_than_their_number() -> None:
    """Each person's two photos on either side of the median (one above, one below): their
    shares vary less across persons than independent photos' would, a design effect below 1,
    which the KS test does not turn into more values than there are."""
    x = np.random.default_rng(4).uniform(0.1, 1.0, 150)
    training = np.stack([x, -x], axis=1).ravel()
    cmp = compare_values(training, np.random.default_rng(5).normal(size=300),
                         persons=np.repeat(np.arange(150), 2))
    assert cmp.ks_persons is not None
    assert cmp.ks_persons["design_effect"] == 1.0 and cmp.ks_persons["effective_n"] == 300


def test_ks_over_persons_holds_its_level() -> None:
    """Training values of 100 persons x 6 photos that share most of their value (intraclass
    correlation 0.81), generated values of the same marginal: the KS test of photos rejects
    far more often than 5 %, the test at the persons' effective size does not; photos of
    their own give a design effect near 1."""
    rng = np.random.default_rng(0)
    persons = np.repeat(np.arange(100), 6)
    photos = over = 0
    for _ in range(200):
        training = np.repeat(rng.normal(size=100), 6) * 0.9 + rng.normal(size=600) * np.sqrt(0.19)
        cmp = compare_values(training, rng.normal(size=800), persons=persons)
        assert cmp.ks_persons is not None and cmp.ks_persons["persons"] == 100
        photos += cmp.ks_p < 0.05
        over += cmp.ks_persons["p_value"] < 0.05
    assert photos / 200 > 0.2 and over / 200 < 0.08
    assert cmp.ks_persons["design_effect"] > 2.5
    alone = compare_values(rng.normal(size=600), rng.normal(size=800), persons=np.arange(600))
    assert alone.ks_persons is not None and alone.ks_persons["design_effect"] < 1.2
    shifted = compare_values(training, rng.normal(1.0, 1.0, 800), persons=persons)
    assert shifted.ks_persons is not None and shifted.ks_persons["p_value"] < 1e-4
    assert compare_values(training, rng.normal(size=800)).ks_persons is None


def test_ks_over_the_audited_images_persons_holds_its_level() -> None:
    """The same with the persons on the audited side (40 persons x 10 photos against 800
    independent reference values), and on both sides at once: the KS test counts each side's
    persons, and its words name both."""
    rng = np.random.default_rng(2)
    persons = np.repeat(np.arange(40), 10)
    photos = over = 0
    for _ in range(200):
        audited = np.repeat(rng.normal(size=40), 10) * 0.9 + rng.normal(size=400) * np.sqrt(0.19)
        cmp = compare_values(rng.normal(size=800), audited, generated_persons=persons)
        assert cmp.ks_persons is not None and cmp.ks_persons["generated_persons"] == 40
        photos += cmp.ks_p < 0.05
        over += cmp.ks_persons["p_value"] < 0.05
    assert photos / 200 > 0.3 and over / 200 < 0.08, (photos, over)
    assert cmp.ks_persons["design_effect"] == 1 and cmp.ks_persons["persons"] is None
    assert cmp.ks_persons["generated_design_effect"] > 4
    assert ks_persons_text(cmp.to_dict(), "images of x").startswith(
        "KS over the 40 persons of the images of x (design effect ")
    both = compare_values(np.repeat(rng.normal(size=100), 6), audited, persons=np.repeat(np.arange(100), 6),
                          generated_persons=persons)
    assert both.ks_persons is not None and both.ks_persons["persons"] == 100
    text = ks_persons_text(both.to_dict())
    assert text is not None and text.startswith("KS over 100 reference persons (design effect ")
    assert " and the 40 persons of the audited images (design effect " in text


def test_two_constant_samples_have_no_smd() -> None:
    """Both sides constant (SD 0): the SMD is 0 when the means agree and undefined when they
    differ (it used to read 0.0, as if the two agreed); the summary holds None, never a bare
    NaN that strict JSON readers refuse."""
    import json

    from latentplay.audit.values import smd_text

    apart = compare_values(np.full(5, 2.0), np.full(4, 3.0), attribute="x")
    assert np.isnan(apart.smd) and apart.ks == 1 and apart.wasserstein == 1
    assert json.loads(json.dumps(apart.to_dict(), allow_nan=False))["smd"] is None
    assert smd_text(apart.to_dict()["smd"]) == "undefined (SD 0 on both sides)"
    same = compare_values(np.full(5, 2.0), np.full(4, 2.0))
    assert same.smd == 0 and smd_text(same.smd) == "+0.00"


def test_constant_samples_whose_std_rounds_above_zero_have_no_smd() -> None:
    """Seven rows of 0.7 have a float SD of about 1e-16, not 0: two such constant samples of
    different values still have no SMD (it read about 5e15), and each side's SD is 0."""
    training, generated = np.full(7, 0.7), np.full(3, 0.1)
    assert training.std(ddof=1) > 0 or generated.std(ddof=1) > 0  # the rounding at issue
    apart = compare_values(training, generated)
    assert np.isnan(apart.smd) and (apart.sd_training, apart.sd_generated) == (0.0, 0.0)
    assert compare_values(training, np.full(4, 0.7)).smd == 0


def test_an_undefined_smd_through_the_cli_figure_and_report(cli, tmp_path) -> None:
    """Flat grey images of two shades: brightness is constant on each side and differs; the
    printed line, the figure title and the report say the SMD is undefined, and
    summary.json is strict JSON."""
    import json
    from pathlib import Path

    from latentplay import store as st
    from latentplay.audit import run as audit_run
    from latentplay.measure import measure_store
    from latentplay.report import build_report

    titles: list[str] = []
    save = audit_run.save_figure

    def keep_title(fig, path: Path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        titles.extend(t.get_text() for t in [fig._suptitle, *(ax.title for ax in fig.axes)] if t)
        return save(fig, path, *args, **kwargs)

    stores = []
    for name, grey in (("training", 80), ("generated", 160)):
        schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
        image = st.encode_png(np.full((32, 32, 3), grey, np.uint8))
        stores.append(st.build([{"image": [image] * 6}], schema, tmp_path / name))
        measure_store(stores[-1].path, ["quality"], progress=False)
    out = tmp_path / "values"

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audit_run, "save_figure", keep_title)
        r = cli("audit", "compare", "--images", stores[1].path, "--data", stores[0].path,
                "--annotator", "labels", "--attribute", "brightness", "--out", out)
    assert r.code == 0, r.err
    assert "SMD undefined (SD 0 on both sides)" in r.out
    assert any("undefined (SD 0 on both sides)" in t for t in titles), titles
    summary = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert summary["attributes"]["brightness"]["smd"] is None
    text = build_report(out).read_text(encoding="utf-8")
    assert text.count("undefined (SD 0 on both sides)") == 2  # the overview table and the facts
