"""``data bias --out`` writes its chart and a JSON beside it: never into a store or a run
(``--out STORE/state.png`` replaced the store's ``state.json``, and ``data info`` then failed
with a traceback), nor over a JSON that is not an earlier chart's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int = 20) -> Path:
    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1, 1)),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 6, 6, 3), np.uint8)],
             "smile": np.linspace(-1, 1, n).astype(np.float32), "gender": np.arange(n) % 2}
    st.build([batch], schema, path)
    return path


def test_bias_refuses_an_out_inside_a_store(cli, tmp_path: Path) -> None:
    path = _store(tmp_path / "s")
    state = (path / "state.json").read_text()
    r = cli("data", "bias", path, "--by", "gender", "--of", "smile", "--out", path / "state.png")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert f"is inside store {path}" in r.err
    assert (path / "state.json").read_text() == state and not (path / "state.png").exists()
    assert cli("data", "info", path).code == 0


def test_bias_keeps_a_json_not_its_own_and_replaces_its_own(cli, tmp_path: Path) -> None:
    path = _store(tmp_path / "s")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("family: vae\n")
    (tmp_path / "run" / "metrics.csv").write_text("scope,epoch,step\n")  # a run training
    r = cli("data", "bias", path, "--by", "gender", "--of", "smile", "--out", tmp_path / "run" / "b.png")
    assert r.code == 2 and "is inside run" in r.err
    mine = tmp_path / "table.json"
    mine.write_text("[]")
    r = cli("data", "bias", path, "--by", "gender", "--of", "smile", "--out", tmp_path / "table.png")
    assert r.code == 2 and f"would replace {mine}" in r.err and mine.read_text() == "[]"
    out = tmp_path / "bias.png"
    for _ in range(2):  # an earlier chart's pair is replaced
        r = cli("data", "bias", path, "--by", "gender", "--of", "smile", "--out", out)
        assert r.code == 0, r.err
    assert out.with_suffix(".json").read_text().startswith("{")


def test_bias_writes_into_a_project_with_its_own_config_yaml(cli, tmp_path: Path) -> None:
    """A folder holding a config.yaml alone (Hydra's, at a project's root) is no run: it was
    refused with "--out ... is inside run ..."."""
    path = _store(tmp_path / "s")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "config.yaml").write_text("seed: 1\n")
    r = cli("data", "bias", path, "--by", "gender", "--of", "smile", "--out", proj / "bias.png")
    assert r.code == 0, r.err
    assert (proj / "bias.png").exists() and (proj / "bias.json").exists()
    assert (proj / "config.yaml").read_text() == "seed: 1\n"
