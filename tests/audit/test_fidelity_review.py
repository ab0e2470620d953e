"""`audit fidelity` after a review: conditional numbers compared between classes at a common
count, per-class coverage beside the held-out images', a caution when most samples lie off
the subspace, figures that name --images by their folder and keep their titles whole, and
settings refused before --out is made."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from latentplay import sources
from latentplay import store as st
from latentplay.audit.fidelity import (
    COMMON_REPEATS,
    audit_fidelity,
    conditional_rows,
    off_subspace_caution,
)
from latentplay.embed.column import load_rows
from latentplay.errors import UserError

LIKE_FACES = ["gender.weights=[1,3]", "background.weights=[1,0,0,0,0,0]",
              "skin_tone.weights=[0,3,0,0,0,0,0,1,0,0]"]   # conftest `faces`' distribution


def test_conditional_numbers_are_compared_at_a_common_count() -> None:
    """One class of 240 real / 240 drawn points and six of 12 / 14, every class drawn by the
    same blurred generator: at their own counts the small classes score far higher coverage
    (each ball reaches 5 of 11 neighbours); cut to the common count, they agree."""
    rng = np.random.default_rng(0)
    real_codes = np.repeat(np.arange(7), [240] + [12] * 6)
    fake_codes = np.repeat(np.arange(7), [240] + [14] * 6)
    centres = np.zeros((7, 16))
    centres[:, 0] = 50 * np.arange(7)
    real = centres[real_codes] + rng.normal(size=(len(real_codes), 16))
    fake = centres[fake_codes] + 1.3 * rng.normal(size=(len(fake_codes), 16))
    rows = conditional_rows(real, fake, real_codes, fake_codes, 7, k=5, seed=0)
    own = [r["conditional_coverage"] for r in rows]
    common = [r["conditional_coverage_common"] for r in rows]
    assert np.mean(own[1:]) - own[0] > 0.2
    assert abs(np.mean(common[1:]) - common[0]) < 0.1
    assert all(r["conditional_common_n_real"] == 12 and r["conditional_common_n_generated"] == 14
               for r in rows)
    assert common[1:] == own[1:]   # already at the common count
    # the big class's number: the mean of COMMON_REPEATS random cuts, each a multiple of 1/12
    assert COMMON_REPEATS == 20 and 0 < common[0] <= 1
    assert common[0] * 12 * COMMON_REPEATS == pytest.approx(round(common[0] * 12 * COMMON_REPEATS))
    one = conditional_rows(real, fake[:244], real_codes, fake_codes[:244], 7, k=5)
    assert one[0]["conditional_coverage"] is not None   # one class alone: nothing to compare
    assert all(r["conditional_coverage_common"] is None and r["conditional_common_n_real"] is None
               for r in one)


def test_each_class_has_its_held_out_coverage(faces: Path, tmp_path: Path) -> None:
    new = load_rows(sources.make("synthfaces", tmp_path / "new", n=80, seed=7), np.arange(80))
    summary = audit_fidelity(new, faces, tmp_path / "fid", n_real=80, by=["skin_tone"],
                             options=["dim=16"], seed=0)
    groups = [g for g in summary["groups"]["skin_tone"] if g["n_real"]]
    for measure in ("coverage", "recall"):
        pooled = sum(g["n_real"] * g[f"reference_{measure}"] for g in groups) / summary["n_real"]
        assert pooled == pytest.approx(summary["reference"][measure])
    with open(tmp_path / "fid" / "fidelity_skin_tone.csv") as fh:
        assert {"reference_coverage", "reference_recall"} <= set(next(csv.DictReader(fh)))


def test_most_samples_off_the_subspace_get_a_caution(cli, faces: Path, tmp_path: Path) -> None:
    assert off_subspace_caution({"share": 1.0, "held_out_share": 0.006}, "faces") is not None
    assert off_subspace_caution({"share": 0.05, "held_out_share": 0.0}, "faces") is None
    assert off_subspace_caution({"share": 0.12, "held_out_share": 0.06}, "faces") is None
    assert off_subspace_caution({"share": 0.12, "held_out_share": None}, "faces") is not None
    folder = tmp_path / "noise"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(60):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    r = cli("audit", "fidelity", "--images", folder, "--data", faces, "--real", "120",
            "-o", "dim=16", "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    caution = json.loads((tmp_path / "fid" / "fidelity.json").read_text())["off_subspace"]["caution"]
    assert re.match(r"\d+\.\d% of the images of noise lie off the subspace, against ", caution)
    assert "precision and density count such images" in caution
    assert [x for x in r.err.splitlines() if x.startswith("  caution: ")] == [f"  caution: {caution}"]
    import html

    from latentplay.report.build import build_report

    page = html.unescape(build_report(tmp_path / "fid", tmp_path / "fid.html").read_text())
    assert caution in page
    like = sources.make("synthfaces", tmp_path / "new", n=60, seed=7, overrides=LIKE_FACES)
    summary = audit_fidelity(load_rows(like, np.arange(60)), faces, tmp_path / "new_fid",
                             n_real=120, options=["dim=16"])
    assert summary["off_subspace"]["caution"] is None


def test_images_are_named_by_their_folder_and_titles_fit(cli, faces: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from latentplay.viz import grid

    dark = tmp_path / "dark"
    sources.make("synthfaces", dark, n=60, seed=2)
    texts: dict[str, list[str]] = {}
    clipped: list[str] = []

    def save(figure: plt.Figure, path: Path) -> None:
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        width = figure.bbox.width
        titles = [getattr(figure, "_suptitle", None), *(ax.title for ax in figure.axes)]
        for t in [t for t in titles if t is not None and t.get_text()]:
            box = t.get_window_extent(renderer)
            if box.x0 < 0 or box.x1 > width:
                clipped.append(f"{Path(path).name}: {t.get_text()}")
        texts[Path(path).name] = [" ".join(t.get_text().split()) for t in figure.findobj(plt.Text)]
        plt.close(figure)
        Image.new("RGB", (2, 2)).save(path)

    monkeypatch.setattr(grid, "save_figure", save)
    r = cli("audit", "fidelity", "--images", dark, "--data", faces, "--real", "120", "-o",
            "dim=16", "--by", "skin_tone", "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    assert "60 images of dark vs 120 images of faces (--data)" in r.out
    assert not re.search(r"\bgenerated\b", r.out), r.out
    assert not clipped, clipped
    assert any(t.startswith("Images of dark closest to an image of faces") for t in texts["copies.png"])
    assert "dark" in texts["copies.png"] and "nearest of dark" in texts["uncovered.png"]
    assert any("Images of faces near an image of dark, by skin_tone" in t
               for t in texts["fidelity_skin_tone.png"])
    shown = [t for name in texts for t in texts[name]]
    assert not [t for t in shown if re.search(r"\bgenerated\b", t)], shown


@pytest.mark.parametrize("extra", [("--k", "0"), ("--k", "200"), ("--features", "nosuch")])
def test_bad_settings_are_refused_before_out_is_made(cli, faces: Path, tmp_path: Path,
                                                     extra: tuple[str, str]) -> None:
    folder = tmp_path / "few"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(30):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "out"
    r = cli("audit", "fidelity", "--images", folder, "--data", faces, *extra, "--out", out)
    lines = r.err.strip().splitlines()
    assert r.code == 2 and len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert not out.exists()
    if extra[0] == "--k":
        with pytest.raises(UserError, match="k"):
            audit_fidelity(load_rows(st.load(faces), np.arange(30)), faces, out, k=int(extra[1]))
        assert not out.exists()
