"""Reports of probe runs (``latentplay latent probe``): the table, the figures, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from report_html import assert_self_contained, row_of, value

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.latent.probe import probe_store, write_probes
from latentplay.report import build_report
from latentplay.report.kinds import detect
from latentplay.report.probing import page


@pytest.fixture(scope="module")
def probe_run(faces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("probe") / "probe"
    found = probe_store(st.load(faces), ["emb"], ["gender", "smile"], cv=3)
    return write_probes(found, out, info={"data": str(faces), "cv": 3, "max_rows": 160,
                                          "seed": 0})


def test_probe_page_sections_and_numbers(probe_run: Path) -> None:
    assert detect(probe_run) == "probe"
    summary = json.loads((probe_run / "probe.json").read_text())
    built = page(probe_run)
    assert built.title == "Probes of emb"
    assert [s.anchor for s in built.sections] == ["probes", "dims-emb"]
    html = assert_self_contained(build_report(probe_run))
    table = html.tables["probes"][0]
    gender = row_of(table, "gender")
    expected = next(p for p in summary["probes"] if p["attribute"] == "gender")
    assert value(gender[4]) == pytest.approx(expected["linear"], rel=1e-3)
    assert value(gender[8]) == pytest.approx(0.5)
    top = int(np.argmax(expected["informativeness"]))
    best, chance = expected["informativeness"][top], expected["informativeness_chance"]
    assert gender[9] == (f"{top} ({best:.2f})" if best > chance else f"none above chance ({chance:.2f})")


def test_probe_json_that_is_not_a_probe_run(tmp_path: Path) -> None:
    (tmp_path / "probe.json").write_text(json.dumps({"probes": [{"column": "z"}]}))
    with pytest.raises(UserError, match="not the output of `latentplay latent probe`"):
        page(tmp_path)
