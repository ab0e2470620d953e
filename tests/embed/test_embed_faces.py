"""dlib faces: detection and 5-point alignment, descriptors, the dlib embedder, data align."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from skimage import data, transform

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.align import align_faces, align_store
from latentplay.embed.base import make_embedder
from latentplay.embed.faces import FaceModels
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def models() -> FaceModels:
    return FaceModels.load()


def _rotated(image: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    """``image`` rotated about the astronaut's face and rescaled: a different crop of it."""
    out = transform.rotate(image, degrees, center=(220, 130), mode="edge")
    out = transform.rescale(out, scale, channel_axis=-1)
    return (out * 255).round().astype(np.uint8)


def _eye_tilt(models: FaceModels, chip: np.ndarray) -> float:
    """Vertical offset (pixels) between the two eyes' landmark pairs of an aligned chip."""
    shape = models.landmarks(chip, models.whole_image_box(chip))
    pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(4)], dtype=float)
    return abs(pts[0:2, 1].mean() - pts[2:4, 1].mean())


def _lfw_faces(k: int) -> list[np.ndarray]:
    """``k`` other people's faces from scikit-image's LFW subset, as 100 px RGB."""
    faces = (data.lfw_subset()[:k] * 255).round().astype(np.uint8)
    return [np.asarray(Image.fromarray(f).resize((100, 100)).convert("RGB")) for f in faces]


def test_astronaut_face_is_found_and_aligned_upright(models):
    astronaut = data.astronaut()
    box = models.detect(astronaut)
    assert box is not None
    cx, cy = box.center().x, box.center().y
    assert 180 < cx < 270 and 80 < cy < 170  # the face, not the flag or the helmet
    tilted = _rotated(astronaut, 20, 0.8)
    shape = models.landmarks(tilted, models.detect(tilted))
    eyes = np.array([[shape.part(i).x, shape.part(i).y] for i in range(4)], dtype=float)
    assert abs(eyes[0:2, 1].mean() - eyes[2:4, 1].mean()) > 8  # tilted in the input
    chips, found = align_faces([astronaut, tilted], size=112)
    assert found.all() and chips.shape == (2, 112, 112, 3) and chips.dtype == np.uint8
    for chip in chips:
        assert _eye_tilt(models, chip) < 3  # level after alignment


def test_cnn_detector_finds_the_same_face(models):
    astronaut = data.astronaut()
    hog, found = models.detect(astronaut), models.find(astronaut, detector="cnn")
    assert found is not None and found.score > 0
    cnn = found.box
    overlap = hog.intersect(cnn).area() / (hog.area() + cnn.area() - hog.intersect(cnn).area())
    assert overlap > 0.5, overlap
    assert models.detect(np.full((200, 200, 3), 128, np.uint8), detector="cnn") is None
    with pytest.raises(UserError, match="detector must be one of hog, cnn"):
        models.detect(astronaut, detector="mtcnn")
    with pytest.raises(UserError, match="detector must be one of hog, cnn"):
        make_embedder("dlib", ["detector=viola"])
    z, found = make_embedder("dlib", ["detector=cnn"]).embed_rows(
        [astronaut[40:320, 120:340], np.full((80, 80, 3), 128, np.uint8)])
    assert found.tolist() == [True, False] and np.isfinite(z).all()


def test_hog_threshold(models, faces_store):
    from latentplay import store as st
    from latentplay.embed.faces import detector_label

    images = list(st.load_images(st.load(faces_store), range(40)))
    strict = [models.find(im) for im in images]
    loose = [models.find(im, detector="hog@-0.4") for im in images]
    assert sum(f is not None for f in loose) > sum(f is not None for f in strict)
    for a, b in zip(strict, loose, strict=True):  # what the default cut finds is found again
        assert a is None or (b is not None and b.box.area() >= a.box.area())
    assert min(f.score for f in loose if f is not None) > -0.4
    assert detector_label("hog@-0.4") == "dlib's HOG face detector (scores above -0.4)"
    with pytest.raises(UserError, match="write hog@THRESHOLD with a number"):
        models.find(images[0], detector="hog@low")


def test_same_face_closer_than_different_faces():
    astronaut = data.astronaut()
    crops = [astronaut[40:320, 120:340], _rotated(astronaut, 15, 0.7)]
    others = _lfw_faces(8)
    emb = make_embedder("dlib")
    z, found = emb.embed_rows(crops + others)
    assert z.shape == (10, 128) and z.dtype == np.float32
    assert found[:2].all()
    same = np.linalg.norm(z[0] - z[1])
    different = np.linalg.norm(z[2:] - z[0], axis=1)
    assert same < 0.6 < different.min(), (same, different)  # dlib's same-person threshold


def test_images_without_a_face_are_flagged_not_dropped():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)
    images = [noise, data.astronaut()[40:320, 120:340]]
    z, found = make_embedder("dlib").embed_rows(images)
    assert found.tolist() == [False, True] and np.isfinite(z).all()
    z_nan, found_nan = make_embedder("dlib", ["fallback=nan"]).embed_rows(images)
    assert found_nan.tolist() == [False, True]
    assert np.isnan(z_nan[0]).all() and np.isfinite(z_nan[1]).all()
    z_crop, found_crop = make_embedder("dlib", ["detect=false"]).embed_rows(images)
    assert found_crop.all() and np.isfinite(z_crop).all()


def _photo_store(blob_store):
    """A store of 4 photos of different sizes; rows 1 and 3 hold no face."""
    astronaut = data.astronaut()
    rng = np.random.default_rng(1)
    images = [astronaut[40:320, 120:340], rng.integers(0, 255, (90, 120, 3), dtype=np.uint8),
              _rotated(astronaut, -10, 0.6), np.full((64, 64, 3), 128, dtype=np.uint8)]
    return blob_store(images=images, name="photos"), images


def test_dlib_embed_column_lists_rows_without_face(blob_store):
    s, _ = _photo_store(blob_store)
    out = col.embed_store(s, "dlib", "face", progress=False)
    assert st.vectors(out, "face").shape == (4, 128)
    np.testing.assert_array_equal(col.flagged_rows(out, "face"), [1, 3])
    assert col.embed_entry(out, "face")["detects_faces"] is True
    assert "2 rows had no detected face" in out.schema.vector("face").description


def test_align_store_keeps_labels_and_lists_rejected(blob_store, tmp_path, cli):
    s, images = _photo_store(blob_store)
    out = align_store(s, tmp_path / "aligned", size=64)
    assert len(out) == 2
    assert out.schema.provenance.counts == {"inputs": 4, "converted": 2, "rejected": 2}
    np.testing.assert_array_equal(out.labels("color"), s.labels("color")[[0, 2]])
    np.testing.assert_allclose(out.labels("brightness"), s.labels("brightness")[[0, 2]])
    assert st.load_images(out).shape == (2, 64, 64, 3)
    with open(out.path / st.REJECTED_FILE, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["row"] for r in rows] == ["1", "3"]
    assert {r["reason"] for r in rows} == {"no face detected"}

    r = cli("data", "align", s.path, "--out", tmp_path / "cli-aligned", "--size", "112")
    assert r.code == 0, r.err
    assert "aligned 2 of 4 faces" in r.out
    assert f"2 without a detectable face listed in {tmp_path / 'cli-aligned' / st.REJECTED_FILE}" in r.out
    faces_only = blob_store(images=[images[0], images[2]], name="faces")
    r = cli("data", "align", faces_only.path, "--out", tmp_path / "all-found", "--size", "64")
    assert r.code == 0, r.err
    assert r.out.strip() == f"aligned 2 of 2 faces into {tmp_path / 'all-found'}"  # no list to point at
    assert st.load_images(st.load(tmp_path / "cli-aligned")).shape == (2, 112, 112, 3)
    r = cli("data", "align", s.path, "--out", tmp_path / "arc", "--template", "arcface")
    assert r.code == 0, r.err
    arc = st.load(tmp_path / "arc")
    assert arc.schema.provenance.arguments["template"] == "arcface"
    faces = FaceModels.load()
    want = [faces.arcface_chip(p, faces.detect(p), 112) for p in (images[0], images[2])]
    np.testing.assert_array_equal(st.load_images(arc), np.stack(want))
    r = cli("data", "align", s.path, "--out", tmp_path / "x", "--size", "100")
    assert r.code == 2 and "--size must be 64, 112, 128, 224, 256, 512 or 1024" in r.err
    r = cli("data", "align", s.path, "--out", tmp_path / "x", "--template", "mtcnn")
    assert r.code == 2 and "template (--template) must be one of dlib, arcface" in r.err
    r = cli("data", "align", s.path, "--out", tmp_path / "cnn", "--detector", "cnn", "--device", "auto")
    assert r.code == 0 and "aligned 2 of 4 faces" in r.out, r.err
    r = cli("data", "align", s.path, "--out", tmp_path / "x", "--detector", "cnn", "--device", "gpu")
    assert r.code == 2 and "error: --device must be cpu, cuda or auto" in r.err
    assert st.load(tmp_path / "cnn").schema.provenance.arguments["detector"] == "cnn"
    r = cli("data", "align", tmp_path / "missing", "--out", tmp_path / "y")
    assert r.code == 2 and "no store at" in r.err


def test_threads_give_the_sequential_results(monkeypatch):
    """Faces found, crops and descriptors on two threads equal those on one; each thread has
    its own models; errors and bad settings surface in the caller."""
    from latentplay.embed.faces import face_threads, map_faces

    astronaut = data.astronaut()
    images = [_rotated(astronaut, d, 0.5) for d in (-20, -10, 0, 10, 20)] + _lfw_faces(5) + [
        np.full((90, 90, 3), 128, np.uint8)]
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LATENTPLAY_FACE_THREADS", threads)
        assert face_threads() == int(threads)
        results[threads] = make_embedder("dlib", ["fallback=nan"]).embed_rows(images)
    np.testing.assert_array_equal(results["1"][1], results["2"][1])
    np.testing.assert_array_equal(results["1"][0], results["2"][0])
    assert not results["2"][1][-1] and results["2"][1][:5].all()
    ids = set(map_faces(lambda _: id(FaceModels.load()), list(range(16))))
    assert id(FaceModels.load()) not in ids

    def fails(k: int) -> int:
        if k == 3:
            raise ValueError("bad image")
        return k

    with pytest.raises(ValueError, match="bad image"):
        map_faces(fails, list(range(8)))
    # a call from inside the pool runs in its thread instead of waiting for the pool
    assert map_faces(lambda k: sum(map_faces(lambda j: j, list(range(k)))), [3, 4, 5]) == [3, 6, 10]
    monkeypatch.setenv("LATENTPLAY_FACE_THREADS", "zero")
    with pytest.raises(UserError, match="LATENTPLAY_FACE_THREADS must be a positive number"):
        face_threads()


def test_gray_with_alpha_is_read_as_gray(models):
    """A gray-and-alpha photo (PIL's ``LA``, two channels) was passed to dlib as it was, which
    raised a RuntimeError; it is its gray channel, as a plain gray photo is."""
    gray = np.asarray(Image.fromarray(data.astronaut()).convert("L"))
    la = np.stack([gray, np.full_like(gray, 255)], axis=-1)
    assert models.find(la).box == models.find(gray).box
    chips, found = align_faces([la, gray], size=64)
    assert found.tolist() == [True, True]
    np.testing.assert_array_equal(chips[0], chips[1])
