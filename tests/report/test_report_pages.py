"""Report pages of partial or older run folders: one clear line or a page that says what it
shows, never a traceback; captions that give the sample sizes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.report import counterfactuals, probing, training
from latentplay.report.page import Facts, Figure, Table


def _copy(run: Path, tmp_path: Path) -> Path:
    out = tmp_path / run.name
    shutil.copytree(run, out)
    return out


def test_training_page_of_active_units_without_variances(vae_run: Path, tmp_path: Path) -> None:
    """An ``active_units.json`` without its variances (an older run) gives the count and the
    KL bars, not an IndexError."""
    run = _copy(vae_run, tmp_path)
    (run / "active_units.json").write_text(json.dumps({"threshold": 0.01, "count": 2,
                                                       "dims": [0, 3]}))
    sections = {s.anchor: s for s in training.page(run).sections}
    facts = dict(next(b for b in sections["latents"].blocks if isinstance(b, Facts)).items)
    assert facts["active units"].startswith("2 (variance")
    captions = [b.caption for b in sections["latents"].blocks if isinstance(b, Figure)]
    assert captions[0] == "KL per latent dimension at the last epoch (test split)."


def test_training_page_of_a_truncated_latents_file(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    data = (run / "latents.npy").read_bytes()
    (run / "latents.npy").write_bytes(data[:100])
    with pytest.raises(UserError, match=r"latents\.npy is not a readable \.npy array"):
        training.page(run)


def test_training_fidelity_caption_gives_the_sample_count(vae_run: Path, tmp_path: Path) -> None:
    """The fidelity table says how many samples each evaluation measured (the count the
    held-out reference records) and k."""
    run = _copy(vae_run, tmp_path)
    names = ["precision", "recall", "density", "coverage", "authenticity", "frechet_distance",
             "kernel_distance", "kernel_distance_std"]
    (run / "fidelity.csv").write_text("epoch,step," + ",".join(names) + "\n1,5,"
                                      + ",".join(["0.5"] * len(names)) + "\n")
    (run / "fidelity_reference.json").write_text(json.dumps(
        {"n": 40, "samples": 40, **{n: 0.9 for n in names}}))
    section = next(s for s in training.page(run).sections if s.anchor == "fidelity")
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.caption.startswith("fidelity.csv: 40 prior samples against as many training "
                                    "images in pixel-PCA features, k = 5")
    assert table.rows[-1][0].text == "held-out (40)"


def test_probe_page_of_a_file_without_newer_fields(tmp_path: Path) -> None:
    """A probe written before ``measure``, ``n`` and the fold SDs shows ``—`` there."""
    probe = {"column": "mu", "attribute": "gender", "linear": 0.8, "knn": 0.7, "chance": 0.5}
    (tmp_path / "probe.json").write_text(json.dumps({"data": "faces", "probes": [probe]}))
    table = next(b for b in probing.page(tmp_path).sections[0].blocks if isinstance(b, Table))
    assert [c.text for c in table.rows[0]][:6] == ["gender", "—", "mu", "—", "0.8", "—"]
    (tmp_path / "probe.json").write_text(json.dumps({"probes": [{"linear": 0.8}]}))
    with pytest.raises(UserError, match="is not the output of `latentplay latent probe`"):
        probing.page(tmp_path)


def test_counterfactual_section_without_figures_shows_the_caution(tmp_path: Path) -> None:
    """Missing figures are left out (not an error), and the direction's caution is shown."""
    row = {"group": "all faces", "step": "0", "n": 4, "rate": 0.5, "low": 0.2, "high": 0.8,
           "p_reference": 0.9}
    summary = {"kind": "classes", "rows": [0, 1, 2, 3], "persons": None, "reference": "0",
               "groups_by": "gender", "checks": [], "flips": [row],
               "edit": {"kind": "faces", "label": "smile", "text": "as given", "unit": "SDs",
                        "caution": "the direction was fitted on another run's codes"},
               "classifier": {"attribute": "smile", "kind": "classes"}}
    blocks = counterfactuals.section(tmp_path, summary).blocks
    assert not [b for b in blocks if isinstance(b, Figure)]
    facts = dict(next(b for b in blocks if isinstance(b, Facts)).items)
    assert facts["caution"] == "the direction was fitted on another run's codes"


def test_numbers_and_p_values_as_the_tables_write_them() -> None:
    """Five significant digits without trailing zeros, thousands separated, scientific below
    0.001, both infinities signed; p-values with three significant digits."""
    from latentplay.report.page import number, p_is, p_value

    assert [number(x) for x in (123.456789, 0.0012345, 0.0005, 1234567, 2.50)] == [
        "123.46", "0.0012345", "5.00e-04", "1,234,567", "2.5"]
    assert [number(float("inf")), number(float("-inf")), number(float("nan"))] == ["∞", "−∞", "—"]
    assert [p_value(0.012345), p_value(0.0), p_value(None)] == ["0.0123", "< 1e-300", "—"]
    assert [p_is(0.012345), p_is(0.0)] == ["p = 0.0123", "p < 1e-300"]
