"""`latentplay audit versus`: several audits of one training set side by side."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from latentplay import store as st
from latentplay.audit import audit_images, fit_classifier, load_annotator
from latentplay.contingency import read_p
from latentplay.outputs import p_text
from latentplay.report.page import p_cell


@pytest.fixture(scope="module")
def audits(faces: Path, skin_annotator_file: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, Path]:
    """The training faces audited as they are, again, and only its monk_8 faces (as 'dark')."""
    root = tmp_path_factory.mktemp("versus")
    store = st.load(faces)
    dark = np.flatnonzero(np.asarray(store.labels("skin_tone")) == 7)
    annotator = load_annotator(skin_annotator_file)
    out = {}
    for name, rows in (("same", np.arange(len(store))), ("again", np.arange(len(store))),
                       ("dark", dark)):
        out[name] = root / name
        audit_images(st.load_images(store, rows), store, [annotator], out[name])
    return out


def test_generators_side_by_side(cli, audits: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "vs"
    r = cli("audit", "versus", audits["same"], audits["dark"], "--out", out)
    assert r.code == 0, r.err
    found = json.loads((out / "versus.json").read_text())
    assert found["made_by"]["command"] == (f"latentplay audit versus {audits['same']} {audits['dark']} "
                                           f"--out {out}")
    table = found["attributes"]["skin_tone"]
    assert [row["audit"] for row in table["rows"]] == ["same", "dark"]
    summaries = [json.loads((audits[n] / "summary.json").read_text())["attributes"]["skin_tone"]
                 for n in ("same", "dark")]
    counts = np.array([[c["generated_count"] for c in s["per_class"]] for s in summaries])
    ref = chi2_contingency(counts, correction=False)
    assert table["test"]["statistic"] == pytest.approx(ref[0]) and table["test"]["p_value"] < 1e-6
    assert table["rows"][1]["tv"] == summaries[1]["tv"]
    assert table["rows"][0]["faithful_tv"] == summaries[0]["faithful"]["tv"]
    assert table["generated"]["dark"][1][0] == pytest.approx(summaries[1]["per_class"][1]["generated"])
    with open(out / "versus_skin_tone.csv") as fh:
        assert [row["audit"] for row in csv.DictReader(fh)] == ["same", "dark"]
    assert (out / "versus_skin_tone.png").stat().st_size > 5000
    assert "the generators against each other: chi-square" in r.out
    # each audit's ratios of shares as its own audit gave them: 'dark' shows only monk_8
    ratios = table["ratios"]["dark"]
    assert ratios["more"] == ["monk_8"] == [table["rows"][1]["more_often"]]
    assert ratios["less"] == ["monk_2"] == [table["rows"][1]["less_often"]]
    monk_8 = summaries[1]["per_class"][1]
    assert ratios["values"][1] == [monk_8[k] for k in ("ratio", "ratio_low", "ratio_high")]
    assert table["rows"][0]["more_often"] == table["rows"][0]["less_often"] == ""
    dark_line = "    dark shows more often than faces: monk_8 x"
    assert dark_line in r.out and "    same shows no class more or less often than faces" in r.out
    from latentplay.report import build_report

    page = build_report(out).read_text(encoding="utf-8")
    assert "Audits side by side" in page and "faithful corrected TV" in page
    assert "dark: ratio of shares" in page and dark_line.strip() in page
    # each audit's p against the store reads as in its own report: marked where simulated
    simulated = ["p_value_simulated" in s["chi2"] for s in summaries]
    assert any(simulated)
    for name, summary, marked in zip(("same", "dark"), summaries, simulated, strict=True):
        own = build_report(audits[name], tmp_path / f"{name}.html").read_text(encoding="utf-8")
        cell = p_cell(read_p(summary["chi2"]), marked).text
        assert cell in own and (" (simulated)" in cell) == marked
        assert f">{cell}</td>" in page, (name, cell)
        line = next(x for x in r.out.splitlines() if x.startswith(f"  {name}: TV "))
        assert (f"p {p_text(read_p(summary['chi2']), 3)} (simulated);" in line) == marked, line
    # the same images twice: nothing between them
    r = cli("audit", "versus", audits["same"], audits["again"], "--name", "a,b",
            "--out", tmp_path / "twice")
    assert r.code == 0, r.err
    twice = json.loads((tmp_path / "twice" / "versus.json").read_text())
    assert twice["attributes"]["skin_tone"]["test"]["p_value"] == pytest.approx(1.0)


def test_different_annotators_are_not_tested(cli, faces: Path, audits: dict[str, Path],
                                             tmp_path: Path) -> None:
    other = fit_classifier(faces, "skin_tone", options=["dim=4"]).save(tmp_path / "other.npz")
    r = cli("audit", "compare", "--images", faces, "--data", faces, "--annotator", other,
            "--out", tmp_path / "other")
    assert r.code == 0, r.err
    r = cli("audit", "versus", audits["same"], tmp_path / "other", "--out", tmp_path / "vs")
    assert r.code == 0, r.err
    table = json.loads((tmp_path / "vs" / "versus.json").read_text())["attributes"]["skin_tone"]
    assert table["test"] is None and table["test_note"] == "different annotators read the audits"
    assert "no test (different annotators read the audits)" in r.out


def test_an_audit_written_before_the_evaluation_counted_persons_has_the_same_annotator(
        cli, audits: dict[str, Path], tmp_path: Path) -> None:
    """An audit whose annotator's evaluation has no 'persons' or 'effective' (written before
    they were recorded) against one of the same annotator file since: versus said different
    annotators read them and made no test between the generators."""
    older = tmp_path / "older"
    shutil.copytree(audits["same"], older)
    summary = json.loads((older / "summary.json").read_text())
    evaluation = summary["attributes"]["skin_tone"]["annotator"]["evaluation"]
    assert evaluation.pop("persons") is None and evaluation.pop("effective") is None
    (older / "summary.json").write_text(json.dumps(summary))
    r = cli("audit", "versus", older, audits["dark"], "--out", tmp_path / "vs")
    assert r.code == 0, r.err
    table = json.loads((tmp_path / "vs" / "versus.json").read_text())["attributes"]["skin_tone"]
    counts = np.array([[c["generated_count"] for c in s["per_class"]]
                       for s in (json.loads((a / "summary.json").read_text())["attributes"]["skin_tone"]
                                 for a in (older, audits["dark"]))])
    assert table["test"]["statistic"] == pytest.approx(chi2_contingency(counts, correction=False)[0])
    assert "the generators against each other: chi-square" in r.out


def test_an_audit_measured_before_today_is_refused_beside_one_measured_since(
        cli, audits: dict[str, Path], tmp_path: Path) -> None:
    """An audit written before distances from balance were corrected for sampling bias (its
    imbalance without unsteady_classes) beside one written since: versus tabled its plain
    distance and amplification (+0.660) beside the corrected ones (+0.707) of the same shares.
    Older audits among themselves are still compared."""
    older = []
    for name in ("same", "dark"):
        older.append(tmp_path / f"older_{name}")
        shutil.copytree(audits[name], older[-1])
        summary = json.loads((older[-1] / "summary.json").read_text())
        for entry in summary["attributes"].values():
            del entry["imbalance"]["unsteady_classes"]
        (older[-1] / "summary.json").write_text(json.dumps(summary))
    r = cli("audit", "versus", audits["same"], older[1], "--out", tmp_path / "vs")
    assert r.code == 2 and r.err.count("\n") == 1
    assert f"{older[1]}: written by an older audit compare" in r.err and "audit compare again" in r.err
    assert not (tmp_path / "vs").exists()
    assert cli("audit", "versus", *older, "--out", tmp_path / "old_vs").code == 0


def test_the_data_store_is_named_by_its_folder(cli, faces: Path, audits: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Like audit compare, versus names the --data store (it need not be the training set) by
    its folder, in its lines and in its figure's legend."""
    import latentplay.viz.distribution as viz

    drawn = []
    bars = viz.distribution_bars
    monkeypatch.setattr(viz, "distribution_bars", lambda classes, series, **kw:
                        drawn.append(list(series)) or bars(classes, series, **kw))
    r = cli("audit", "versus", audits["same"], audits["dark"], "--out", tmp_path / "vs")
    assert r.code == 0, r.err
    assert r.out.count(f"against {faces.name} p ") == 2 and "training set" not in r.out
    assert drawn and all(labels[0] == faces.name for labels in drawn)
    from latentplay.report import build_report

    page = Path(build_report(tmp_path / "vs")).read_text()  # the report called it "training store"
    assert f"p against {faces.name}" in page and "compared with (--data)" in page
    assert "training" not in page


def test_bad_input_is_one_line_and_status_2(cli, audits: dict[str, Path], tmp_path: Path) -> None:
    for args, message in [([audits["same"]], "two audits or more"),
                          ([audits["same"], tmp_path], "holds no summary.json"),
                          ([audits["same"], audits["dark"], "--name", "a,a"], "its own name")]:
        r = cli("audit", "versus", *args, "--out", tmp_path / "bad")
        assert r.code == 2 and message in r.err, r.err
    assert not (tmp_path / "bad").exists()


def test_three_generators_pair_by_pair(cli, audits: dict[str, Path], tmp_path: Path) -> None:
    r = cli("audit", "versus", audits["same"], audits["again"], audits["dark"],
            "--out", tmp_path / "three")
    assert r.code == 0, r.err
    pairs = json.loads((tmp_path / "three" / "versus.json").read_text()
                       )["attributes"]["skin_tone"]["pairs"]
    by = {tuple(p["audits"]): p for p in pairs}
    assert set(by) == {("same", "again"), ("same", "dark"), ("again", "dark")}
    assert by["same", "again"]["p_value"] == pytest.approx(1.0)
    assert by["same", "again"]["p_holm"] == pytest.approx(1.0)
    # Holm: the smallest p times 3, the next times 2 (never below the one before), the last alone
    ordered = sorted(pairs, key=lambda p: p["p_value"])
    assert ordered[0]["p_holm"] == pytest.approx(min(1.0, 3 * ordered[0]["p_value"]))
    assert ordered[1]["p_holm"] == pytest.approx(
        max(ordered[0]["p_holm"], min(1.0, 2 * ordered[1]["p_value"])))
    assert "same vs dark: chi-square" in r.out


def test_sparse_tables_get_a_simulated_p_that_holds_its_level() -> None:
    """A generator of 10 images beside one of 300, three classes at 1 % each: Pearson's
    chi-square curve rejects equal generators far more often than 5 %, the p-value simulated
    with the margins fixed does not; Holm's adjustment uses the simulated one."""
    from latentplay.audit.versus import _homogeneity, _pairs
    from latentplay.contingency import read_p

    rng = np.random.default_rng(3)
    shares = [0.97, 0.01, 0.01, 0.01]
    curve = simulated = 0
    for _ in range(200):
        test = _homogeneity(np.stack([rng.multinomial(300, shares), rng.multinomial(10, shares)]))
        assert test is not None and test["sparse"] > 0.2 and "p_value_simulated" in test
        curve += test["p_value"] < 0.05
        simulated += test["p_value_simulated"] < 0.05
    assert curve / 200 > 0.09 and simulated / 200 < 0.07
    # the simulated p is the share of tables with these margins dealt at random that score as high
    counts = np.array([[30, 2, 1, 0], [25, 0, 3, 1], [40, 1, 0, 2]])
    test = _homogeneity(counts)
    assert test is not None
    labels = np.repeat(np.arange(4), counts.sum(axis=0))
    expected = chi2_contingency(counts)[3]
    high = 0
    for _ in range(3000):
        parts = np.split(rng.permutation(labels), np.cumsum(counts.sum(axis=1))[:-1])
        table = np.array([np.bincount(part, minlength=4) for part in parts])
        high += ((table - expected) ** 2 / expected).sum() >= test["statistic"] * (1 - 1e-9)
    assert test["p_value_simulated"] == pytest.approx(high / 3000, abs=0.025)
    pairs = _pairs(["a", "b", "c"], counts)
    ordered = sorted(pairs, key=read_p)
    assert ordered[0]["p_holm"] == pytest.approx(min(1.0, 3 * read_p(ordered[0])))
    assert all("p_value_simulated" in p for p in pairs)


def test_different_data_stores_are_named_in_the_figure(cli, faces: Path, audits: dict[str, Path],
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Audits against different --data stores: the figure's one reference bar is the first
    audit's store, and its legend says so (it read ``reference``, as if every audit had been
    compared with those shares)."""
    import shutil

    import latentplay.viz.distribution as viz

    other = tmp_path / "other"
    shutil.copytree(audits["dark"], other)
    summary = json.loads((other / "summary.json").read_text())
    summary["data"], summary["data_digest"] = str(tmp_path / "elsewhere"), "0" * 16   # another store
    (other / "summary.json").write_text(json.dumps(summary))
    drawn = []
    bars = viz.distribution_bars
    monkeypatch.setattr(viz, "distribution_bars", lambda classes, series, **kw:
                        drawn.append(list(series)) or bars(classes, series, **kw))
    r = cli("audit", "versus", audits["same"], other, "--out", tmp_path / "vs")
    assert r.code == 0, r.err
    assert "different --data stores" in r.err
    assert drawn and all(labels[0].startswith(f"{faces.name} (the first audit's --data")
                         for labels in drawn)


def test_audits_of_repeated_persons_enter_the_test_at_their_effective_size(
        cli, tmp_path: Path) -> None:
    """Two `--images` audits, one of 40 persons in 400 photos: the test of the audits against
    each other takes that audit's counts over its design effect (as its own audit did), and
    its line says so."""
    from latentplay import sources

    sources.make("synthfaces", tmp_path / "ref", n=300, seed=0)
    sources.make("synthfaces", tmp_path / "persons", n=400, seed=1, overrides=["identities=40"])
    sources.make("synthfaces", tmp_path / "single", n=300, seed=2)
    r = cli("audit", "annotator", tmp_path / "ref", "--attribute", "gender", "--out", tmp_path / "g.npz")
    assert r.code == 0, r.err
    for name in ("persons", "single"):   # one annotator reads both: they can be tested
        r = cli("audit", "compare", "--images", tmp_path / name, "--data", tmp_path / "ref",
                "--annotator", tmp_path / "g.npz", "--out", tmp_path / f"a_{name}")
        assert r.code == 0, r.err
    r = cli("audit", "versus", tmp_path / "a_persons", tmp_path / "a_single", "--out", tmp_path / "vs")
    assert r.code == 0, r.err
    test = json.loads((tmp_path / "vs" / "versus.json").read_text())["attributes"]["gender"]["test"]
    audited = json.loads((tmp_path / "a_persons" / "summary.json").read_text())["attributes"]["gender"]
    effect = audited["chi2"]["generated_design_effect"]
    assert effect > 2 and test["design_effects"] == {"a_persons": effect}
    counts = np.array([[c["generated_count"] for c in json.loads((tmp_path / f"a_{n}" / "summary.json")
                                                                 .read_text())["attributes"]["gender"]["per_class"]]
                       for n in ("persons", "single")], float)
    counts[0] = np.round(counts[0] / effect)
    assert test["statistic"] == pytest.approx(chi2_contingency(counts, correction=False)[0])
    assert f"the images of a_persons over their persons (design effect {effect:.2f})" in r.out


def test_holm_adjusted_pairs_never_fall_below_a_smaller_ones() -> None:
    """Audits b and c draw alike and a differs from both by the same p: Holm's step-down
    multiplies the smallest by 3 and the next by 2, but keeps each adjusted p-value at least
    that of the pairs before it, so both read 3 p."""
    from latentplay.audit.versus import _pairs
    from latentplay.contingency import read_p

    pairs = {tuple(p["audits"]): p for p in _pairs(["a", "b", "c"],
                                                   np.array([[30, 10], [10, 30], [10, 30]]))}
    p = read_p(pairs[("a", "b")])
    assert read_p(pairs[("a", "c")]) == pytest.approx(p) and p < 0.01
    assert pairs[("a", "b")]["p_holm"] == pytest.approx(3 * p)
    assert pairs[("a", "c")]["p_holm"] == pytest.approx(3 * p)
    assert pairs[("b", "c")]["p_holm"] == pytest.approx(1.0)


def test_a_store_is_known_by_its_digest_moved_or_saved_again(
        cli, faces: Path, vae_run: Path, skin_annotator_file: Path, tmp_path: Path) -> None:
    """Audits of one store and of its copy compared it with one store (versus told stores apart
    by path and called them two); audits of one path saved again with another attribute
    between them compared their images with two stores (one by path, before)."""
    import shutil

    copy, changed = tmp_path / "copy", tmp_path / "changed"
    shutil.copytree(faces, copy)
    shutil.copytree(faces, changed)

    def audit(data: Path, name: str, seed: str) -> None:
        r = cli("audit", "compare", vae_run, "--data", data, "--annotator", skin_annotator_file,
                "--n", "40", "--seed", seed, "--out", tmp_path / name)
        assert r.code == 0, r.err

    audit(faces, "a", "1")
    audit(copy, "b", "2")
    audit(changed, "c", "3")
    assert cli("data", "bin", changed, "smile", "--edges", "0").code == 0
    audit(changed, "d", "4")
    digests = [json.loads((tmp_path / n / "summary.json").read_text())["data_digest"] for n in "abcd"]
    assert digests[0] == digests[1] == digests[2] != digests[3]
    r = cli("audit", "versus", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "ab")
    assert r.code == 0 and "different --data stores" not in r.err, r.err
    assert json.loads((tmp_path / "ab" / "versus.json").read_text())["data"] == [str(faces.resolve())]
    r = cli("audit", "versus", tmp_path / "c", tmp_path / "d", "--out", tmp_path / "cd")
    assert r.code == 0, r.err
    found = json.loads((tmp_path / "cd" / "versus.json").read_text())
    assert found["data"] == [str(changed.resolve())] * 2
    assert "different --data stores (one path, saved again between them)" in found["note"]


def test_one_run_and_store_given_from_another_folder_are_the_same(
        cli, faces: Path, vae_run: Path, skin_annotator_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same run and store audited twice with the same seed, once named from another folder
    (``../faces``) and once by full path: versus finds one store and the same draws (it
    compared the paths as written, and called them different stores and independent
    samples)."""
    import os

    monkeypatch.chdir(tmp_path)
    spelled = [(os.path.relpath(vae_run), os.path.relpath(faces)), (vae_run, faces)]
    for name, (run, data) in zip(("a", "b"), spelled, strict=True):
        r = cli("audit", "compare", run, "--data", data, "--annotator", skin_annotator_file,
                "--n", "40", "--out", name)
        assert r.code == 0, r.err
    r = cli("audit", "versus", "a", "b", "--out", "vs")
    assert r.code == 0, r.err
    found = json.loads((tmp_path / "vs" / "versus.json").read_text())
    assert found["data"] == [str(faces.resolve())]
    assert "different --data stores" not in r.err
    assert "a, b audit one run's draws of the same codes" in found["note"]
