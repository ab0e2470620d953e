"""The training page says what its loss values measure, and writes the training time as a
reader reads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from latentplay.report import training
from latentplay.report.page import Facts, Figure, Table
from latentplay.train.fidelity import record


@pytest.mark.parametrize(("seconds", "text"), [(0.57589, "0.58 s"), (12.345, "12.3 s"),
                                               (192.4, "3 min 12 s"), (59.96, "1 min 0 s"),
                                               (7500.0, "2 h 05 min"), (9.999, "10.0 s"),
                                               (3599.7, "1 h 00 min")])
def test_duration(seconds: float, text: str) -> None:
    assert training.duration(seconds) == text


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / run.name,
                                ignore=shutil.ignore_patterns("checkpoint.pt", "report.html")))


def test_losses_say_their_units_and_time_is_rounded(vae_run: Path, dcgan_run: Path) -> None:
    page = training.page(vae_run)
    facts = dict(next(b for b in page.sections[0].blocks if isinstance(b, Facts)).items)
    time = facts["training time"].split(";")[0]
    assert time.endswith(" s") and len(time.split(".")[-1]) <= 4  # "0.58 s", not "0.57589 s"
    losses = next(s for s in page.sections if s.anchor == "losses")
    caption = next(b for b in losses.blocks if isinstance(b, Figure)).caption
    final = next(b for b in next(s for s in page.sections if s.anchor == "final").blocks
                 if isinstance(b, Table)).caption
    for text in (caption, final):
        assert "per image" in text and "summed over its pixels" in text and "(nats)" in text
        # the betavae/kl panel is the weighted term, beside the unweighted kl
        assert "betavae/kl is beta x kl" in text
    assert training.loss_units({"family": "ae"}).count("weighted") == 1   # no KL term to weigh
    gan = training.page(dcgan_run)
    final = next(b for b in next(s for s in gan.sections if s.anchor == "final").blocks
                 if isinstance(b, Table)).caption
    assert "logistic" in final and "d_real" in final


def test_fidelity_caption_counts_from_the_table(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    record(run, {"precision": 0.5, "recall": 0.25, "density": 0.75, "coverage": 0.125,
                 "frechet_distance": 3.5, "n_samples": 96, "n_real": 96}, epoch=1, step=5)
    section = next(s for s in training.page(run).sections if s.anchor == "fidelity")
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.caption.startswith("fidelity.csv: 96 prior samples against as many")
