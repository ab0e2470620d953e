"""``--annotator labels`` on a ``data generate --like`` store: a continuous condition (smile)
is what each image was asked for too. The note, the summary's ``requested`` and the figure's
wording were given to a categorical condition only; smile got none of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentplay.sources.generated import generate_store


def test_a_continuous_condition_is_named_requested(cli, faces_store: Path, cvae_run: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from latentplay.viz import distribution

    legends: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    draw = distribution.value_histograms

    def spy(samples, title="", xlabel="", **kwargs):  # type: ignore[no-untyped-def]
        legends[xlabel], titles[xlabel] = list(samples), title
        return draw(samples, title=title, xlabel=xlabel, **kwargs)

    monkeypatch.setattr(distribution, "value_histograms", spy)
    gen = generate_store(cvae_run, tmp_path / "gen_c", 40, seed=1, like=faces_store)
    out = tmp_path / "audit"
    r = cli("audit", "compare", "--images", gen.path, "--data", faces_store,
            "--annotator", "labels", "--attribute", "gender,smile", "--out", out)
    assert r.code == 0, r.err
    for name in ("gender", "smile"):
        assert f"note: {name} of --images is the condition each image was generated under" in r.err
    summary = json.loads((out / "summary.json").read_text())["attributes"]
    assert summary["smile"]["annotator"]["requested"] is True
    assert legends["smile"][1] == "images of gen_c, requested"
    assert "generated under" in titles["smile"]

    plain = cli("audit", "compare", "--images", faces_store, "--data", faces_store,
                "--annotator", "labels", "--attribute", "smile", "--out", tmp_path / "own")
    assert plain.code == 0 and "generated under" not in plain.out
    own = json.loads((tmp_path / "own" / "summary.json").read_text())["attributes"]["smile"]
    assert own["annotator"]["requested"] is False
    assert legends["smile"][1].endswith(", labelled") and "generated under" not in titles["smile"]
