"""`audit compare RUN --condition A=V`: the figures name the condition the samples were drawn
under and say the distances to the --data store's mix of all its rows are no bias measure (the
console and the report said so; the figure, read alone, showed a TV of 0.9 as if the generator
were badly biased)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from latentplay import train
from latentplay.audit import run as audit_run


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "cvae"
    return train.train("cvae", data=faces, out=out, epochs=1, seed=0, progress=False,
                       overrides=["data.size=32", "model.width=16", "model.hidden=64",
                                  "model.latent_dim=8", "trainer.threads=1",
                                  "model.condition=[gender]"])


def _figure_texts(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Every text of each figure audit compare saves, by file name, blank space as one space
    (titles are broken to the figure's width)."""
    texts: dict[str, list[str]] = {}

    def save(figure: plt.Figure, path: Path) -> None:
        texts[Path(path).name] = [" ".join(t.get_text().split()) for t in figure.findobj(plt.Text)]
        plt.close(figure)

    monkeypatch.setattr(audit_run, "save_figure", save)
    return texts


def test_figures_name_the_condition(cli, faces: Path, cvae_run: Path, skin_annotator_file: Path,
                                    gender_annotator_file: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _figure_texts(monkeypatch)
    r = cli("audit", "compare", cvae_run, "--data", faces, "--annotator",
            f"{skin_annotator_file},{gender_annotator_file}", "--condition", "gender=female", "--n", "40",
            "--joint", "gender,skin_tone", "--out", tmp_path / "cmp")
    assert r.code == 0, r.err
    note = ("samples drawn under gender=female: their distances to faces, the mix of all its "
            "rows, are not a bias measure")
    for name in ("distribution_gender.png", "distribution_skin_tone.png",
                 "distribution_gender,skin_tone.png"):
        assert any(note in t for t in texts[name]), (name, texts[name])
    assert "generated under gender=female, annotated (n=40)" in texts["distribution_gender.png"]
    assert "generated under gender=female, corrected shares" in texts[
        "distribution_gender,skin_tone.png"]
    assert any(t.endswith("drawn under gender=female") for t in texts["samples_gender.png"])


def test_figures_without_a_condition_say_nothing_of_one(cli, faces: Path, vae_run: Path,
                                                        skin_annotator_file: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _figure_texts(monkeypatch)
    r = cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
            "--n", "40", "--out", tmp_path / "cmp")
    assert r.code == 0, r.err
    shown = texts["distribution_skin_tone.png"] + texts["samples_skin_tone.png"]
    assert not [t for t in shown if "drawn under" in t or "bias measure" in t]
    assert "generated, annotated (n=40)" in shown
