"""Fidelity in pixel-PCA features does not take noise for faces: the distance from the
components' subspace is one more coordinate, and the share of samples farther from it than
99 % of the training images is reported beside the held-out images' share."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.audit.fidelity import audit_fidelity, fidelity_options, trained_on_data
from latentplay.embed.base import embed_images, fit_embedder, make_embedder
from latentplay.embed.column import load_rows


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> st.Store:
    return sources.make("synthfaces", tmp_path_factory.mktemp("off") / "faces", n=400, seed=3)


def test_the_residual_coordinate_is_the_distance_from_the_subspace(faces: st.Store) -> None:
    images = load_rows(faces, np.arange(200))
    plain = fit_embedder(make_embedder("pixels-pca", ["dim=16"]), images)
    full = fit_embedder(make_embedder("pixels-pca", ["dim=16", "residual=true"]), images)
    z, _ = embed_images(full, images[:5])
    assert full.dim == 17 and z.shape == (5, 17)
    np.testing.assert_allclose(z[:, :16], embed_images(plain, images[:5])[0], atol=1e-5)
    x = plain._flatten(images[:5])
    expected = np.linalg.norm(x - plain.pca.inverse_transform(plain.pca.transform(x)), axis=1)
    np.testing.assert_allclose(z[:, 16], expected, rtol=1e-4)


def test_fidelity_adds_the_residual_to_pixels_pca_unless_told() -> None:
    assert fidelity_options("pixels-pca", ["dim=8"]) == ["dim=8", "residual=true"]
    assert fidelity_options("pixels-pca", ["residual=false"]) == ["residual=false"]
    assert fidelity_options("dlib", []) == []


def test_noise_is_off_the_subspace_and_new_faces_are_not(faces: st.Store, tmp_path: Path) -> None:
    """Uniform noise scored precision 1.0 and authenticity near 0 in pixel-PCA features (small
    components: near the faces' mean); now every noise image is counted off the subspace, and
    new faces from the same distribution about as often as held-out training faces."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (150, 64, 64, 3), dtype=np.uint8)
    summary = audit_fidelity(noise, faces, tmp_path / "noise", n_real=200, seed=0)
    off = summary["off_subspace"]
    assert off["count"] == 150 and off["share"] == 1.0
    assert off["held_out_share"] is not None and off["held_out_share"] < 0.1
    assert summary["features"]["dim"] == 65 and summary["features"]["config"]["residual"] is True
    assert summary["authenticity"] > 0.9   # noise copies no face
    import html

    from latentplay.report.build import build_report

    page = html.unescape(build_report(tmp_path / "noise", tmp_path / "noise.html").read_text())
    assert "off the subspace of faces's images" in page
    assert "a copy if these images trained the generator" in page   # --images: no run to ask
    new = load_rows(sources.make("synthfaces", tmp_path / "new", n=150, seed=4), np.arange(150))
    summary = audit_fidelity(new, faces, tmp_path / "new_fid", n_real=200, seed=0)
    assert summary["off_subspace"]["share"] < 0.1
    plain = audit_fidelity(noise, faces, tmp_path / "plain", n_real=200, seed=0,
                           options=["residual=false"])
    assert plain["off_subspace"] is None and plain["features"]["dim"] == 64


def test_a_copy_is_named_only_when_the_data_trained_the_run(faces: st.Store, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(f"data:\n  store: {faces.path}\n")
    assert trained_on_data({"run": str(run)}, faces) is True
    (run / "config.yaml").write_text("data:\n  store: /elsewhere/faces\n")
    assert trained_on_data({"run": str(run)}, faces) is False
    for data in ("data:\n  store: ${oc.env:LATENTPLAY_TEST_UNSET}\n", "data: faces\n"):
        (run / "config.yaml").write_text(data)
        assert trained_on_data({"run": str(run)}, faces) is False  # was a traceback
    assert trained_on_data({"images": "dir"}, faces) is None


def test_the_command_prints_the_off_subspace_line(cli, faces: st.Store, tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "noise"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    r = cli("audit", "fidelity", "--images", folder, "--data", faces.path, "--real", "150",
            "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    line = next(x for x in r.out.splitlines() if "off the subspace of the images of faces" in x)
    assert "40 of 40 images of noise (100.0%; held-out: " in line   # --images: by its folder


def test_the_threshold_is_the_99th_percentile_of_the_unseen_half(monkeypatch: pytest.MonkeyPatch) -> None:
    """The unseen half of 200 images read residuals 0..99: the threshold is their 99th
    percentile, 0.99 * 99 = 98.01, so generated residuals 97, 98.5, 99 count 2 off the subspace
    and held-out residuals 0, 99 count 1."""
    from latentplay.audit import fidelity

    monkeypatch.setattr(fidelity, "fit_embedder", lambda probe, images: probe)
    monkeypatch.setattr(fidelity, "embed_images",
                        lambda probe, images: (np.arange(len(images), dtype=float)[:, None],
                                               np.ones(len(images), bool)))
    embedder = make_embedder("pixels-pca", ["dim=4", "residual=true"])
    off = fidelity.off_subspace(embedder, np.zeros((200, 2, 2, 3), np.uint8),
                                np.array([[97.0], [98.5], [99.0]]), np.array([[0.0], [99.0]]))
    assert off["threshold"] == pytest.approx(98.01)
    assert (off["count"], off["share"], off["held_out_share"]) == (2, pytest.approx(2 / 3), 0.5)


def test_the_report_shows_the_shares_the_command_prints(cli, faces: st.Store, tmp_path: Path) -> None:
    """One noise and one grey image among 38 new faces: off the subspace and flat are 1 in 40
    (2.5 %), which the report wrote as 2 % while the terminal and the caution said 2.5 %; and
    "1 images of mixed" where the terminal says "1 of 40 images of mixed"."""
    import html

    from PIL import Image

    folder = tmp_path / "mixed"
    folder.mkdir()
    new = load_rows(sources.make("synthfaces", tmp_path / "new", n=38, seed=5), np.arange(38))
    rng = np.random.default_rng(2)
    images = [*new, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
              np.full((64, 64, 3), 128, np.uint8)]
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:02d}.png")
    r = cli("audit", "fidelity", "--images", folder, "--data", faces.path, "--real", "150",
            "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    r_report = cli("report", tmp_path / "fid")
    assert r_report.code == 0, r_report.err
    page = html.unescape((tmp_path / "fid" / "report.html").read_text())
    summary = json.loads((tmp_path / "fid" / "fidelity.json").read_text())
    for key, printed in (("off_subspace", "off the subspace of the images of faces"), ("flat", "flat: ")):
        count = summary[key]["count"]
        assert count >= 1 and summary[key]["share"] == count / 40
        shown = f"{count / 40:.1%}"   # one decimal, as the terminal writes shares
        line = next(x for x in r.out.splitlines() if x.strip().startswith(printed.strip()))
        assert f"{count} of 40 images of mixed ({shown}" in line
        assert f"{count} of 40 images of mixed ({shown}" in page, (key, shown)   # not "1 images"
