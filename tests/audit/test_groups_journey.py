"""A first user's path through group sampling and `audit versus`: tiny groups, intervals in the
printout, and directories `versus` cannot take."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from latentplay.audit.groups import CHOSEN_BY, fit_mixture
from latentplay.intervals import wilson_interval


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_a_group_of_four_codes_gets_a_mixture(covariance: str) -> None:
    """Four codes support two diagonal components, too few for 5-fold cross-validation: the
    choice is made leave-one-out (it raised scikit-learn's n_splits error)."""
    z = np.random.default_rng(0).standard_normal((4, 16))
    gm, note, _ = fit_mixture(z, covariance=covariance)
    assert gm.n_components in (1, 2) and note is None


def test_sample_groups_prints_intervals(cli, vae_run: Path, faces: Path, skin_annotator_file: Path,
                                        tmp_path: Path) -> None:
    """groups.json holds each share's Wilson interval (they were computed in the printout
    only), how each group's components were chosen, what was asked, and the classes without a
    row (dropped without a word); the printout reads them from it."""
    r = cli("audit", "sample-groups", vae_run, "--data", faces, "--by", "skin_tone",
            "--n", "2", "--annotator", skin_annotator_file, "--measure", "40", "--out", tmp_path / "g")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "g" / "groups.json").read_text())
    group = summary["groups"][1]
    for key, n in (("share_annotated", 40), ("prior_share", 40),
                   ("annotator_recall", group["annotator_recall_n"])):
        low, high = wilson_interval(np.array([round(group[key] * n)]), n)[0]
        assert (group[f"{key}_low"], group[f"{key}_high"]) == pytest.approx((low, high))
    assert (f"annotated as monk_8: {group['share_annotated']:.3f} [{group['share_annotated_low']:.3f}"
            f", {group['share_annotated_high']:.3f}] of its 40 samples") in r.out
    n = group["annotator_recall_n"]
    assert re.search(rf"of real faces of the group \({n} held out\)", r.out)
    assert (summary["components"], summary["max_components"], summary["covariance"]) == (
        None, 4, "full")
    assert {g["chosen_by"] for g in summary["groups"]} <= set(CHOSEN_BY)
    assert f"({CHOSEN_BY[group['chosen_by']]})" in r.out
    skipped = [f"monk_{k}" for k in (1, 3, 4, 5, 6, 7, 9, 10)]   # the store has monk_2, monk_8
    assert summary["skipped"] == skipped
    assert f"skipped (no row with a code): {', '.join(skipped)}" in r.out


def test_fit_mixture_says_how_it_chose() -> None:
    """fit_mixture names how it chose the number of components (given, cut, only, BIC,
    held-out likelihood or shrunk), for groups.json."""
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.normal(-4, 1, (200, 2)), rng.normal(4, 1, (200, 2))])
    assert fit_mixture(two)[2] == "bic"
    assert fit_mixture(two, components=3)[2] == "given"
    assert fit_mixture(two[:40], components=20)[2] == "cut"
    assert fit_mixture(two[:3])[2] == "shrunk"
    assert fit_mixture(two, max_components=1)[2] == "only"
    assert fit_mixture(rng.standard_normal((60, 8)))[2] == "held_out"   # 60 codes, 179 parameters


def test_shares_figure_labels_the_base_rate_as_no_annotation(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    """The y label "annotated as the group" covered the grey base-rate bar, which no annotator
    read: the legend and the label now say what each bar is."""
    import latentplay.viz.distribution as viz
    from latentplay.audit.run import _shares_figure

    seen: dict = {}
    bars = viz.distribution_bars
    monkeypatch.setattr(viz, "distribution_bars", lambda classes, series, **kw:
                        seen.update(series=series, **kw) or bars(classes, series, **kw))
    group = {"class": "a", "base_rate": 0.3, "annotator_recall": None}
    for key in ("share_annotated", "prior_share"):
        group |= {key: 0.5, f"{key}_low": 0.4, f"{key}_high": 0.6}
    _shares_figure(tmp_path / "s.png", "x", [group], 100, 0)
    assert seen["ylabel"] == "base rate, or share annotated as the group"
    assert list(seen["series"])[0] == "base rate: share of the data's rows"
    assert seen["series"][list(seen["series"])[2]][1].tolist() == [[0.4, 0.6]]
    _shares_figure(tmp_path / "s.png", "x", [group], 100, 7)
    assert list(seen["series"])[0] == "base rate: share of the data's rows with a class (7 unknown left out)"


@pytest.mark.parametrize("classes", [2, 10])
def test_shares_bars_are_readable_on_a_page(classes: int) -> None:
    """Four long series' legend in one row made groups_shares.png 11 inches wide (8 pt printed
    at 4.9 pt on a page), and ten classes of three bars 10 inches: the legend takes two rows and
    the bars 0.2 inch each, so the figure is about a page wide, its legends clear of the axes."""
    from latentplay.viz.distribution import distribution_bars
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    share, interval = np.full(classes, 0.4), np.tile([0.0, 1.0], (classes, 1))  # (K,), (K, 2)
    series = {"base rate: share of the data's rows with a class (7 unknown left out)": (share, None),
              "prior samples (n=1000)": (share, interval),
              "the group's mixture samples (n=1000 each)": (share, interval),
              "real faces of the group (held-out recall)": (share, interval)}
    fig = distribution_bars([f"monk_{k}" for k in range(classes)], series, title="x")
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    axes = fig.axes[0].get_tightbbox()
    for legend in fig.legends:
        box = legend.get_window_extent()
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0
        assert box.y1 <= axes.y0


def test_joint_and_values_count_audited_persons(cli, tmp_path: Path) -> None:
    """`audit compare --images` of a store repeating 10 persons: the --joint comparison and
    the continuous one's KS test count them as the plain comparison does (their lines say
    so)."""
    from latentplay import sources

    reference, persons = tmp_path / "reference", tmp_path / "persons"
    sources.make("synthfaces", reference, n=60, seed=0)
    sources.make("synthfaces", persons, n=60, seed=1, overrides=["identities=10"])
    r = cli("audit", "compare", "--images", persons, "--data", reference, "--annotator", "labels",
            "--attribute", "gender,age_group,smile", "--joint", "gender,age_group",
            "--out", tmp_path / "out")
    assert r.code == 0, r.err
    attributes = json.loads((tmp_path / "out" / "summary.json").read_text())["attributes"]
    assert attributes["gender,age_group"]["generated_persons"] == 10
    assert attributes["smile"]["generated_persons"] == 10
    joint = r.out[r.out.index("gender,age_group:"):]
    assert "over the 10 persons of the images of persons (design effect" in joint.splitlines()[1]
    smile = r.out[r.out.index("smile:"):].splitlines()
    assert any("KS over the 10 persons of the images of persons (design effect" in line
               for line in smile[1:3])
    assert attributes["smile"]["ks_persons"]["generated_persons"] == 10


def _audit(path: Path) -> Path:
    """A directory holding a minimal audit compare summary."""
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps({"attributes": {}}))
    return path


@pytest.mark.parametrize("case, message", [
    ("sweep", "is an audit compare --psi sweep: give its psi_<value> directories"),
    ("twice", "an audit is given twice"),
    ("names", "--names gives 1 name(s) for 2 audits"),
    ("same folder name", "name them with --names"),
])
def test_versus_says_what_is_wrong(cli, tmp_path: Path, case: str, message: str) -> None:
    a, b = _audit(tmp_path / "x" / "vae"), _audit(tmp_path / "y" / "vae")
    sweep = tmp_path / "sweep"
    _audit(sweep / "psi_1")
    (sweep / "truncation.json").write_text("{}")
    args = {"sweep": [a, sweep], "twice": [a, tmp_path / "x" / ".." / "x" / "vae"],
            "names": [a, tmp_path / "sweep" / "psi_1", "--name", "one"],
            "same folder name": [a, b]}[case]
    r = cli("audit", "versus", *args, "--out", tmp_path / "out")
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err
    assert not (tmp_path / "out").exists()


def test_versus_notes_audits_of_the_same_draws(tmp_path: Path) -> None:
    """A --psi sweep's audits decode the same codes: versus says so (its tests assume
    independent samples); audits of other runs or seeds get no note."""
    from latentplay.audit.versus import _same_draws

    def summary(run: str, seed: int, psi: float | None = None) -> dict:
        source = {"run": run, "n": 400, "condition": None} | ({} if psi is None else {"psi": psi})
        return {"source": source, "seed": seed}

    labels = ["psi_1", "psi_0.4", "dcgan", "vae_seed1"]
    summaries = [summary("vae", 0, 1.0), summary("vae", 0, 0.4), summary("dcgan", 0),
                 summary("vae", 1)]
    assert _same_draws(labels, summaries) == ["psi_1", "psi_0.4"]
    assert _same_draws(labels[2:], summaries[2:]) == []
    assert _same_draws(["a", "b"], [{"source": {"images": "x"}}, {"source": {"images": "x"}}]) == []


def test_psi_values_that_share_a_folder_are_refused(tmp_path: Path) -> None:
    """0.8 and 0.8000001 would both write psi_0.8/, the second audit over the first."""
    from latentplay.audit.truncation import truncation_sweep
    from latentplay.errors import UserError

    with pytest.raises(UserError, match="differ in their first 6 digits"):
        truncation_sweep(tmp_path / "no_run", tmp_path / "no_data", [], [1, 0.8, 0.8000001],
                         tmp_path / "out")
    assert not (tmp_path / "out").exists()
