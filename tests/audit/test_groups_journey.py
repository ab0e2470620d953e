"""A first user's path through group sampling and `audit versus`: tiny groups, intervals in the
printout, and directories `versus` cannot take."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from latentplay.audit.groups import fit_mixture
from latentplay.intervals import wilson_interval


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_a_group_of_four_codes_gets_a_mixture(covariance: str) -> None:
    """Four codes support two diagonal components, too few for 5-fold cross-validation: the
    choice is made leave-one-out (it raised scikit-learn's n_splits error)."""
    z = np.random.default_rng(0).standard_normal((4, 16))
    gm, note = fit_mixture(z, covariance=covariance)
    assert gm.n_components in (1, 2) and note is None


def test_sample_groups_prints_intervals(cli, vae_run: Path, faces: Path, skin_annotator_file: Path,
                                        tmp_path: Path) -> None:
    r = cli("audit", "sample-groups", vae_run, "--data", faces, "--attribute", "skin_tone",
            "--n", "2", "--annotator", skin_annotator_file, "--measure", "40", "--out", tmp_path / "g")
    assert r.code == 0, r.err
    group = json.loads((tmp_path / "g" / "groups.json").read_text())["groups"][1]
    low, high = wilson_interval(np.array([round(group["share_annotated"] * 40)]), 40)[0]
    assert (f"annotated as monk_8: {group['share_annotated']:.3f} [{low:.3f}, {high:.3f}] "
            "of its 40 samples") in r.out
    n = group["annotator_recall_n"]
    assert re.search(rf"of real faces of the group \[[0-9.]+, [0-9.]+\] \({n} held out\)", r.out)


def _audit(path: Path) -> Path:
    """A directory holding a minimal audit compare summary."""
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps({"attributes": {}}))
    return path


@pytest.mark.parametrize("case, message", [
    ("sweep", "is an audit compare --psi sweep: give its psi_<value> directories"),
    ("twice", "an audit is given twice"),
    ("names", "--name gives 1 name(s) for 2 audits"),
    ("same folder name", "name them with --name"),
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
