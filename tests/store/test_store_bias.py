"""The dataset-bias table and chart: one attribute's distribution within another's groups."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from scipy.stats import chi2_contingency
from tiny_store import synthfaces_labels

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.bias import association


@pytest.fixture(scope="module")
def confounded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 faces' labels where P(frown | male) = 0.8 and P(frown | female) = 0.2."""
    path = tmp_path_factory.mktemp("bias") / "faces"
    return synthfaces_labels(path, 2000, 4, ("confound.smile_gender=0.6",))


def test_association_recovers_the_confound(confounded: Path) -> None:
    s = st.load(confounded)
    found = association(s, "gender", "smile")
    assert found.groups == ["female", "male"] and found.levels == ["[-1,0)", "[0,1]"]
    frown = found.shares[:, 0]
    assert frown[0] == pytest.approx(0.2, abs=0.04) and frown[1] == pytest.approx(0.8, abs=0.04)
    gender, smile = s.labels("gender"), s.labels("smile")
    expected = [[np.sum((gender == g) & (smile < 0)), np.sum((gender == g) & (smile >= 0))]
                for g in (0, 1)]
    assert found.counts.tolist() == expected
    chi2, p, dof, _ = chi2_contingency(np.array(expected), correction=False)
    assert found.chi2 == pytest.approx(chi2) and found.p_value == pytest.approx(p)
    assert found.dof == dof == 1
    # for a 2 x 2 table Cramér's V is |phi|
    (a, b), (c, d) = expected
    phi = (a * d - b * c) / np.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    assert found.cramers_v == pytest.approx(abs(phi))
    np.testing.assert_allclose(found.shares.sum(1), 1.0)


def test_independent_attributes_and_errors(confounded: Path) -> None:
    s = st.load(confounded)
    independent = association(s, "age_group", "eyeglasses")
    assert independent.cramers_v < 0.1 and independent.counts.sum() == len(s)
    with pytest.raises(UserError, match="two different"):
        association(s, "gender", "gender")
    with pytest.raises(UserError, match="bins"):
        association(s, "gender", "smile", bins=1)
    with pytest.raises(UserError):
        association(s, "gender", "no_such_attribute")


def test_attributes_that_no_row_has_together_are_said_so(tmp_path: Path) -> None:
    """Two labelled halves of a store (gender in one, eyeglasses in the other) read as "gender
    has 0" though every row of the one half had a gender."""
    from latentplay.store.schema import Attribute, Provenance, Schema

    schema = Schema([Attribute("gender", "categorical", names=["f", "m", "unknown"]),
                     Attribute("eyeglasses", "categorical", names=["no", "yes", "unknown"])],
                    Provenance("test", "test"), image_column=None)
    halves = st.build([{"gender": [0, 1, 0, 1, 2, 2, 2, 2], "eyeglasses": [2, 2, 2, 2, 0, 1, 0, 1]}],
                      schema, tmp_path / "halves")
    with pytest.raises(UserError, match="^no row has a value of both gender and eyeglasses"):
        association(halves, "gender", "eyeglasses")


def test_bias_command(cli, confounded: Path, tmp_path: Path) -> None:
    out = tmp_path / "bias.png"
    r = cli("data", "bias", confounded, "--by", "gender", "--of", "smile", "--bins", "4",
            "--out", out)
    assert r.code == 0, r.err
    assert "Cramér's V" in r.out
    assert iio.imread(out).std() > 5
    numbers = json.loads(out.with_suffix(".json").read_text())
    assert len(numbers["levels"]) == 4 and numbers["by"] == "gender"
    r = cli("data", "bias", confounded, "--by", "gender", "--of", "smile", "--out",
            tmp_path / "bias.jpg")
    assert r.code == 2 and r.err.startswith("error: ")


def test_unknown_level_is_hatched_grey_off_the_ramp():
    from latentplay.viz.bias import bias_bars

    counts = np.array([[5, 3, 2], [1, 4, 6]])
    fig = bias_bars(["a", "b"], ["low", "unknown", "high"], counts, "group", "level")
    bars = fig.axes[0].patches  # three rows (all, a, b) per level, level by level
    low, unknown, high = bars[0:3], bars[3:6], bars[6:9]
    assert all(b.get_hatch() == "///" for b in unknown)
    assert not any(b.get_hatch() for b in [*low, *high])
    grey = np.array(unknown[0].get_facecolor()[:3])
    assert np.ptp(grey) < 1e-6  # no hue
    # the two known levels take the ramp's two ends, as if unknown were not there
    assert low[0].get_facecolor() != high[0].get_facecolor()


def test_photos_of_the_same_persons_are_flagged(cli, tmp_path: Path) -> None:
    """Six photos of each of 40 persons: the tests would count every photo as a new person;
    the association says how many persons there are, and the command says what it means."""
    path = tmp_path / "persons"
    sources.make("synthfaces", path, n=240, seed=0, overrides=["identities=40"])
    found = association(st.load(path), "gender", "eyeglasses")
    assert found.persons == 40 and found.to_dict()["persons"] == 40
    r = cli("data", "bias", path, "--by", "gender", "--of", "eyeglasses", "--out",
            tmp_path / "b.png")
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "note: The 240 rows show 40 persons" in " ".join(r.err.split())
    # the tests are given again over the persons (Rao-Scott); eyeglasses change from photo to
    # photo, so the persons barely matter, but a person keeps their gender and hair colour:
    # 240 rows then carry the evidence of about 40
    over = found.persons_test
    assert over.clusters == 40 and 0.5 < over.design_effect < 1.5
    assert f"chi-square over 40 persons (design effect {over.design_effect:.2f})" in text
    assert found.to_dict()["persons_test"]["p_value"] == over.p_value
    # the chart's whiskers (Wilson's at the rows over the design effect) say they are over persons
    from latentplay.viz.bias import association_bars

    legend = association_bars(found, "").axes[0].get_legend().get_texts()
    assert " ".join(legend[-1].get_text().split()).endswith("share over 40 persons")
    kept = association(st.load(path), "gender", "hair_color")
    assert kept.persons_test.design_effect > 3 and kept.persons_test.p_value > kept.p_value
    one = tmp_path / "one"
    assert cli("data", "subset", path, "--out", one, "--balance-by", "identity",
               "--per-class", "1").code == 0
    assert association(st.load(one), "gender", "eyeglasses").persons is None
    # an ordered table: the trend's r gets an interval from a bootstrap over the persons
    trend = association(st.load(path), "skin_tone", "age_group").trend
    assert trend.low < trend.r < trend.high and trend.high - trend.low > 0.1
    assert trend.persons_test.clusters == 40 and trend.persons_test.design_effect > 3
    assert trend.persons_test.p_value > trend.p_value
    single = association(st.load(one), "skin_tone", "age_group")
    assert single.trend.low is None and single.trend.persons_test is None
    assert single.persons_test is None


def test_sparse_tables_are_flagged(tmp_path: Path) -> None:
    """30 rows over 10 x 2 cells: every cell expects fewer than 5 rows."""
    path = tmp_path / "few"
    sources.make("synthfaces", path, n=30, seed=0)
    found = association(st.load(path), "skin_tone", "gender")
    assert found.sparse > 0.2
    assert any(f"{found.sparse:.0%} of cells expect under 5 rows" in note for note in found.notes)
    assert found.persons is None and len(found.notes) == 1


def test_two_level_shares_carry_wilson_intervals(confounded: Path) -> None:
    from matplotlib.container import ErrorbarContainer

    from latentplay.audit.distribution import wilson_interval
    from latentplay.viz.bias import bias_bars

    found = association(st.load(confounded), "gender", "smile")
    bounds = found.intervals
    assert bounds.shape == (3, 2)                    # all rows, female, male
    female = found.counts[0]
    np.testing.assert_allclose(bounds[1], wilson_interval(np.array([female[0]]), female.sum())[0])
    assert association(st.load(confounded), "gender", "age_group").intervals is None
    fig = bias_bars(found.groups, found.levels, found.counts, "gender", "smile", "", bounds)
    assert any(isinstance(c, ErrorbarContainer) for c in fig.axes[0].containers)


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 faces of 100 persons with ``tone3``: light (monk_1-3), medium (monk_4-5), dark
    (monk_8-10), and ``unknown`` for monk_6-7."""
    from latentplay.store.regroup import regroup_store

    path = synthfaces_labels(tmp_path_factory.mktemp("unknown") / "faces", 600, 2,
                             ("identities=100",))
    regroup_store(path, "skin_tone", {"light": ["monk_1", "monk_2", "monk_3"],
                                      "medium": ["monk_4", "monk_5"],
                                      "dark": ["monk_8", "monk_9", "monk_10"]}, name="tone3")
    return path


@pytest.mark.parametrize("by_tone", [True, False])
def test_unknown_is_shown_but_left_out_of_every_test(tones: Path, by_tone: bool) -> None:
    """The ``unknown`` group (or level) is in the table but not in the chi-square, its
    version over persons or the trend, on either side."""
    from latentplay.clustered import rao_scott

    s = st.load(tones)
    by, of = ("tone3", "age_group") if by_tone else ("age_group", "tone3")
    found = association(s, by, of)
    tone = s.labels("tone3")
    unknown = s.schema.attribute("tone3").level_names.index("unknown")
    assert "unknown" in (found.groups if by_tone else found.levels)
    assert found.unknown == int((tone == unknown).sum()) > 0 and found.counts.sum() == len(s)
    known = found.counts[:3] if by_tone else found.counts[:, :3]
    assert (found.groups if by_tone else found.levels)[3] == "unknown"
    chi2, p, dof, _ = chi2_contingency(known, correction=False)
    assert (found.chi2, found.p_value, found.dof) == (pytest.approx(chi2), pytest.approx(p), dof)
    assert found.cramers_v == pytest.approx(np.sqrt(chi2 / (known.sum() * 2)))
    assert found.to_dict()["unknown"] == found.unknown
    assert any(f"{found.unknown} of the 600 rows have an unknown" in note for note in found.notes)
    rows = tone != unknown
    u, v = tone[rows], s.labels("age_group")[rows]
    persons = s.labels("identity")[rows]
    expected = rao_scott(u, v, persons) if by_tone else rao_scott(v, u, persons)
    assert found.persons_test.statistic == pytest.approx(expected.statistic)
    assert found.trend is not None


def test_a_comma_in_by_points_to_data_combine(confounded: Path) -> None:
    with pytest.raises(UserError, match="latentplay data combine STORE skin_tone,gender"):
        association(st.load(confounded), "skin_tone,gender", "smile")


def test_rows_without_a_value_are_counted_as_unknown(tmp_path: Path) -> None:
    """A missing class (code -1) and a NaN continuous value are ``unknown``: in the table and
    the note, out of the tests (not dropped silently)."""
    schema = st.Schema(attributes=[st.Attribute("color", "categorical", names=["r", "g"]),
                                   st.Attribute("bright", "continuous", range=(0.0, 1.0))],
                       provenance=st.Provenance(source="tests", converter="tests"))
    rng = np.random.default_rng(0)
    color = rng.integers(0, 2, 200)
    color[:20] = -1
    bright = rng.random(200)
    bright[10:50] = np.nan
    image = st.encode_png(np.zeros((8, 8, 3), np.uint8))
    s = st.build([{"image": [image] * 200, "color": color.tolist(), "bright": bright.tolist()}],
                 schema, tmp_path / "gaps")
    found = association(s, "color", "bright")
    assert found.groups == ["r", "g", "unknown"] and found.levels[-1] == "unknown"
    assert found.counts.sum() == 200 and found.unknown == 50
    assert found.counts[2].sum() == 20 and found.counts[:, 2].sum() == 40
    known = (color >= 0) & np.isfinite(bright)
    expected = [[np.sum(known & (color == c) & (bright < 0.5)),
                 np.sum(known & (color == c) & (bright >= 0.5))] for c in (0, 1)]
    assert found.counts[:2, :2].tolist() == expected
    assert found.chi2 == pytest.approx(chi2_contingency(np.array(expected), correction=False)[0])
    assert any("50 of the 200 rows have an unknown" in note for note in found.notes)


def test_shares_of_repeated_persons_get_intervals_over_persons(tmp_path: Path) -> None:
    """Six photos of each of 40 persons: gender is each person's own, so the share of women
    in each group has the evidence of about 40 rows, not 240, and its interval widens."""
    from latentplay.intervals import wilson_interval

    path = tmp_path / "persons"
    sources.make("synthfaces", path, n=240, seed=0, overrides=["identities=40"])
    found = association(st.load(path), "eyeglasses", "gender")
    assert found.design_effects.shape == (3,) and (found.design_effects > 2).all()
    first = found.counts[:, 0]
    for bounds, hits, n in zip(found.intervals, [first.sum(), *first],
                               [found.counts.sum(), *found.counts.sum(1)], strict=True):
        plain = wilson_interval(np.array([hits]), int(n))[0]
        assert bounds[0] < plain[0] and bounds[1] > plain[1]
    assert found.to_dict()["persons"] == 40


def test_a_share_over_few_persons_takes_their_degrees_of_freedom(tmp_path: Path) -> None:
    """Four persons of 10 photos in each colour, 1, 3, 5 and 7 of the first colour's small:
    its share 0.4 has the persons' variance 4/3 x (3² + 1² + 1² + 3²) / 40² = 1/60 against
    the binomial 0.24 / 40, a design effect of 25/9, so 14.4 effective rows; over 4 persons
    those count (t(0.975, 39) / t(0.975, 3))² of that (Korn & Graubard), as Student's t over
    4 persons widens an interval: Wilson's at 14.4 rows held the truth in 84 % of simulated
    sets of 4 persons (bench/coverage_means.py, bias_shares)."""
    from scipy.stats import t

    from latentplay.intervals import effective_wilson

    person = np.repeat(np.arange(8), 10)
    small = np.concatenate([np.arange(10) >= 10 - h for h in (1, 3, 5, 7, 2, 2, 4, 6)])
    found = association(_tiny_store(tmp_path / "few", person // 4, (~small).astype(int), person),
                        "color", "size")
    assert found.levels[found.first_known] == "small"
    assert found.design_effects[1] == pytest.approx(25 / 9)
    ratio = (t.ppf(0.975, 39) / t.ppf(0.975, 3)) ** 2
    np.testing.assert_allclose(found.intervals[1], effective_wilson(0.4, 14.4 * ratio))
    assert json.loads(json.dumps(found.to_dict()))["bar_persons"] == [8, 4, 4]


def test_bar_spread_takes_each_bars_rows_in_one_sort() -> None:
    """Rows of persons A..E in bars 0, 1 and 2, interleaved (a row of bar -1 is in the first
    bar, all rows, only). Bar 0: A's two hits and B's two misses, share 1/2: persons' variance
    2 x 2 (1/4)² = 1/4 over the binomial 1/16, a design effect of 4; bar 1: C and D a hit and a
    miss each, no spread between persons (1); bar 2: E alone (1). All rows: 5 of 9, person sums
    (8, -10, -1, -1, 4)/81, 5/4 x 182/81² over 20/729: 91/72."""
    from latentplay.store.bias import bar_spread

    person = np.array(list("ACEBDACBD"))
    hits = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0], bool)
    bar = np.array([0, 1, 2, 0, 1, 0, 1, 0, 1])
    effects, persons = bar_spread(hits, bar, 3, person)
    np.testing.assert_allclose(effects, [91 / 72, 4, 1, 1])
    assert persons.tolist() == [5, 2, 2, 1]
    effects, persons = bar_spread(hits, np.where(person == "E", -1, bar), 3, person)
    assert persons.tolist() == [5, 2, 2, 0] and effects[:3] == pytest.approx([91 / 72, 4, 1])


def test_data_bias_computes_the_intervals_once(cli, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart and the JSON each computed the R + 1 intervals (a t quantile or two each):
    with two colours, 3 intervals, computed 6 times."""
    from latentplay.store import bias

    calls = []
    original = bias.effective_wilson

    def counted(share: float, rows: float):
        calls.append(share)
        return original(share, rows)

    monkeypatch.setattr(bias, "effective_wilson", counted)
    person = np.repeat(np.arange(8), 10)
    store = _tiny_store(tmp_path / "s", person // 4, (np.arange(80) % 3 == 0).astype(int), person)
    r = cli("data", "bias", store.path, "--by", "color", "--of", "size", "--out", tmp_path / "b.png")
    assert r.code == 0, r.err
    written = json.loads((tmp_path / "b.json").read_text())
    assert len(written["intervals"]) == 3 and len(calls) == 3


def _tiny_store(path: Path, color: np.ndarray, size: np.ndarray,
                person: np.ndarray | None = None) -> st.Store:
    """A store of 8 x 8 black images with categorical ``color`` (classes ``c0``, ``c1``, ...),
    ``size`` (2 classes) and, when given, ``identity``: ``(N,)`` codes each."""
    def names(codes: np.ndarray, prefix: str) -> list[str]:
        return [f"{prefix}{k}" for k in range(int(codes.max()) + 1)]

    attrs = [st.Attribute("color", "categorical", names=names(color, "c")),
             st.Attribute("size", "categorical", names=["small", "large"])]
    columns = {"color": color.tolist(), "size": size.tolist()}
    if person is not None:
        attrs.append(st.Attribute("identity", "categorical", names=names(person, "p")))
        columns["identity"] = person.tolist()
    schema = st.Schema(attributes=attrs, provenance=st.Provenance(source="tests", converter="tests"))
    image = st.encode_png(np.zeros((8, 8, 3), np.uint8))
    return st.build([{"image": [image] * len(color), **columns}], schema, path)


def test_a_cell_expecting_under_one_row_is_flagged(tmp_path: Path) -> None:
    """Cochran's rule has two parts: over a fifth of the cells under 5, or any cell under 1.
    Nine colours of 40 rows and one of a single row: 2 of the 20 cells expect under 5 (10 %),
    and they expect 0.5 rows each."""
    color = np.append(np.repeat(np.arange(9), 40), 9)
    size = np.append(np.tile([0, 1], 180), 0)
    found = association(_tiny_store(tmp_path / "lone", color, size), "color", "size")
    expected = chi2_contingency(found.counts, correction=False)[3]
    assert found.min_expected == pytest.approx(expected.min()) and found.min_expected < 1
    assert found.sparse == pytest.approx((expected < 5).mean()) and found.sparse <= 0.2
    assert any("a cell expects 0.5 rows" in note for note in found.notes)
    assert found.to_dict()["min_expected"] == pytest.approx(expected.min())


def test_a_sparse_table_gets_the_shared_tests_simulated_p(tmp_path: Path) -> None:
    """The rule and the simulated p-value are :func:`~latentplay.contingency.chi_square`'s:
    the sparse table's note carries the p-value simulated with the margins fixed; a table
    whose cells all expect 5 rows or more gets neither."""
    from latentplay.contingency import chi_square
    from latentplay.outputs import p_text

    color = np.append(np.repeat(np.arange(9), 40), 9)
    size = np.append(np.tile([0, 1], 180), 0)
    found = association(_tiny_store(tmp_path / "lone", color, size), "color", "size")
    test = chi_square(found.counts)
    assert found.p_value_simulated == test["p_value_simulated"]
    assert (found.chi2, found.p_value) == (test["statistic"], test["p_value"])
    assert any(f"simulated with the margins fixed it is {p_text(test['p_value_simulated'])}" in note
               for note in found.notes)
    assert json.loads(json.dumps(found.to_dict()))["p_value_simulated"] == test["p_value_simulated"]
    full = association(_tiny_store(tmp_path / "full", np.repeat(np.arange(2), 40),
                                   np.tile([0, 1], 40)), "color", "size")
    assert full.p_value_simulated is None and full.notes == []


def test_the_json_carries_the_charts_intervals(confounded: Path) -> None:
    """The whiskers the chart draws are in the JSON beside it, all rows first."""
    found = association(st.load(confounded), "gender", "smile")
    written = json.loads(json.dumps(found.to_dict()))
    np.testing.assert_allclose(written["intervals"], found.intervals, atol=1e-6)
    assert len(written["intervals"]) == len(found.groups) + 1 and written["design_effects"] is None
    assert json.loads(json.dumps(association(st.load(confounded), "gender",
                                             "age_group").to_dict()))["intervals"] is None


def test_the_note_on_persons_says_when_no_test_over_them_was_made(tmp_path: Path) -> None:
    """All rows of one person: no Rao-Scott test exists, and the note must not promise one."""
    rng = np.random.default_rng(0)
    color, size = rng.integers(0, 3, 90), rng.integers(0, 2, 90)
    found = association(_tiny_store(tmp_path / "one", color, size, np.zeros(90, np.int64)),
                        "color", "size")
    assert found.persons == 1 and found.persons_test is None
    note = next(note for note in found.notes if "persons" in note)
    assert "no test over persons could be made" in note and "correct them" not in note
    many = association(_tiny_store(tmp_path / "many", color, size, np.arange(90) // 3),
                       "color", "size")
    assert many.persons_test is not None
    assert any("(Rao-Scott) correct them" in note for note in many.notes)


def test_groups_that_are_nearly_the_persons_say_why_no_test_over_them(tmp_path: Path) -> None:
    """200 colours of one person each (5 photos, their size the person's): the table's 199
    degrees of freedom leave none to the 200 persons, and the note says so in place of a test
    over persons (one was made, "F 1.00 on 198.x and ~39,600 dof"; 16,000 such groups took
    over 17 GB)."""
    person = np.repeat(np.arange(200), 5)
    size = np.random.default_rng(0).integers(0, 2, 200)[person]
    found = association(_tiny_store(tmp_path / "s", person, size, person), "color", "size")
    assert found.persons_test is None and found.persons == 200
    note = next(note for note in found.notes if "persons" in note)
    assert ("no chi-square test over persons is made: its 199 degrees of freedom are as many "
            "as the 200 persons less one") in note
    assert "could be made" not in note and "correct them" not in note
    assert found.to_dict()["persons_refused"].startswith("its 199 degrees of freedom")


def test_rows_of_no_known_person_are_counted_apart_in_the_note(tmp_path: Path) -> None:
    """The note said "700 rows show 80 persons" beside a test over 380 (the 300 rows without
    an identity each a person of its own), and the chart's intervals said 80."""
    rng = np.random.default_rng(0)
    color, size = rng.integers(0, 3, 90), rng.integers(0, 2, 90)
    person = np.arange(90) // 3
    person[60:] = -1                                     # 30 rows of no known person
    found = association(_tiny_store(tmp_path / "s", color, size, person), "color", "size")
    assert (found.persons, found.unnamed, found.clusters) == (20, 30, 50)
    note = next(note for note in found.notes if "persons" in note)
    assert ("show 20 persons and 30 rows of no known person, each counted as a person of its "
            "own (50 in the tests over persons)") in note
    assert "which drops the rows of no known person" in note
    assert found.to_dict()["unnamed"] == 30


def test_the_trend_steps_over_a_class_without_rows(tmp_path: Path) -> None:
    """Ordered colours c0..c3, rows only in c0, c1 and c3 (places 0, 1, 3): the trend's
    scores are those places, as the correlation of place and size over the rows gives them
    (numbered 0, 1, 2 the statistic would come out otherwise), and c2 is named a gap; over
    persons the corrected test takes the same places."""
    from latentplay.clustered import clustered_trend

    color = np.repeat([0, 1, 3], 20)
    size = np.concatenate([np.arange(20) < k for k in (2, 6, 14)]).astype(np.int64)
    person = np.tile(np.arange(30), 2)              # two photos each, rows k and k + 30
    schema = st.Schema(attributes=[
        st.Attribute("color", "categorical", names=["c0", "c1", "c2", "c3"], ordered=True),
        st.Attribute("size", "categorical", names=["small", "large"]),
        st.Attribute("identity", "categorical", names=[f"p{k}" for k in range(30)])],
        provenance=st.Provenance(source="tests", converter="tests"))
    image = st.encode_png(np.zeros((8, 8, 3), np.uint8))
    s = st.build([{"image": [image] * 60, "color": color.tolist(), "size": size.tolist(),
                   "identity": person.tolist()}], schema, tmp_path / "gap")
    found = association(s, "color", "size")
    place = color.astype(float)
    r = np.corrcoef(place, size)[0, 1]
    assert found.trend.r == pytest.approx(r) and found.trend.statistic == pytest.approx(59 * r * r)
    assert abs(np.corrcoef(np.repeat([0, 1, 2], 20), size)[0, 1] - r) > 0.005
    written = found.to_dict()["trend"]
    assert (written["groups"], written["gaps"]) == (["c0", "c1", "c3"], ["c2"])
    assert (written["levels"], written["level_gaps"]) == (["small", "large"], [])
    assert "no rows in c2, each a step" in " ".join(found.test_lines)
    over = clustered_trend(place, size, person, found.trend.statistic)
    assert found.trend.persons_test.statistic == pytest.approx(over.statistic)
    numbered = clustered_trend(np.repeat([0.0, 1.0, 2.0], 20), size, person, found.trend.statistic)
    assert abs(numbered.statistic - over.statistic) > 0.1 * over.statistic
    assert found.trend.low < r < found.trend.high
    # the other way round the colours are the levels: the same r, c2 a gap among them
    turned = association(s, "size", "color").to_dict()["trend"]
    assert turned["r"] == pytest.approx(r) and turned["level_gaps"] == ["c2"]


def test_the_trend_interval_over_few_persons_holds_the_correlation() -> None:
    """300 sets of 8 persons of 10 photos: a person's group (0-3) and a photo's level 0-2
    (Binomial(2, p), each person's p ~ Beta(4 m, 4 (1 - m)), m = 0.2 + 0.15 x group). Their
    correlation is 0.422 by hand: cov = 2 x 0.15 var(group) = 0.375, var(group) = 1.25,
    var(level) = E[2 p (1 - p)] + 4 var(p) + var(2 m) = 1.6 x 0.21625 + 0.8 x 0.21625 + 0.1125
    = 0.6315, m (1 - m) 0.21625 on average and var(p | m) = m (1 - m) / 5
    (bench/coverage_means.py's ``trend_r``).
    The interval over persons holds it in at least 92 % of the sets (94 %); the plain 2.5 and
    97.5 percentiles of the persons' bootstrap held it in 89 %."""
    from latentplay.store.bias import _person_interval

    truth = 0.375 / np.sqrt(1.25 * 0.6315)
    rng = np.random.default_rng(5)
    persons = np.repeat(np.arange(8), 10)
    held = 0
    for seed in range(300):
        group = rng.integers(0, 4, 8)
        m = 0.2 + 0.15 * group
        p = rng.beta(4 * m, 4 * (1 - m))[persons]
        low, high = _person_interval(group[persons], rng.binomial(2, p), persons, 400, seed)
        held += low <= truth <= high
    assert held / 300 >= 0.92
