"""``audit counterfactual`` prints a direction's caution once, on standard error as every
command prints its cautions (``latent edit`` too), and keeps it in the summary."""

from __future__ import annotations

import json
from pathlib import Path

from latentplay.latent.directions import Direction


def test_a_caution_of_another_runs_direction_is_printed_once_on_standard_error(
        cli, coded: Path, vae_run: Path, skin_annotator_file: Path, tmp_path: Path) -> None:
    # a direction that records another run whose weights cannot be compared: a caution, no refusal
    elsewhere = Direction.from_json(coded.parent / "skin.json")
    elsewhere.column, elsewhere.run = "mu", str(tmp_path / "gone")
    path = tmp_path / "elsewhere.json"
    elsewhere.to_json(path)
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction", path,
            "--classifier", skin_annotator_file, "--n", "12", "--alphas=-1,1", "--random", "0",
            "--out", out)
    assert r.code == 0, r.err
    caution = f"caution: direction 'skin_tone: monk_8 vs rest' was fitted on codes of run {tmp_path / 'gone'}"
    assert caution in r.err and "caution:" not in r.out
    assert json.loads((out / "counterfactual.json").read_text())["edit"]["caution"].startswith(caution)
    # several directions: the profile's lines carry it too, once
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            f"{path},{coded.parent / 'gender.json'}", "--classifier", skin_annotator_file,
            "--n", "12", "--alphas=-1,1", "--random", "0", "--out", tmp_path / "profile")
    assert r.code == 0, r.err
    assert r.err.count(caution) == 1 and "caution:" not in r.out
