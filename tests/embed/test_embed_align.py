"""Face alignment's arguments (latentplay.embed.align); the crops themselves:
``test_embed_ffhq.py`` and ``test_embed_onnx.py``."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from latentplay import store as st
from latentplay.embed.align import align_faces, align_store, check_settings
from latentplay.errors import UserError


def test_align_faces_refuses_an_unknown_template_or_size() -> None:
    """A misspelt template is not taken for dlib's crop."""
    image = np.zeros((1, 40, 40, 3), np.uint8)
    with pytest.raises(UserError, match=r"template \(--template\) must be one of"):
        align_faces(image, template="arcfce")
    with pytest.raises(UserError, match="size must be at least 16"):
        align_faces(image, size=8)


def test_a_negative_padding_or_a_huge_upsampling_is_one_clear_error(blob_store, tmp_path, cli) -> None:
    """dlib's chip asserts ``padding >= 0``: a negative (or NaN) padding was a RuntimeError
    traceback from inside the store's build; an upsampling of 9 would read 4**9 times the
    pixels. Both are refused before anything is written."""
    image = data.astronaut()[None]  # a face: dlib's chip is cut
    for padding in (-0.3, float("nan"), float("inf")):  # inf: a store of black squares
        with pytest.raises(UserError, match=r"padding \(--padding\) must be a finite number, at least 0"):
            align_faces(image, padding=padding)
    with pytest.raises(UserError, match=r"upsample \(--upsample\) must be in \[-1, 4\]"):
        align_faces(image, upsample=9)
    check_settings(112, "dlib", upsample=-1)  # -1: chosen by the image size
    with pytest.raises(UserError, match=r"upsample \(--upsample\) must be in \[-1, 4\]"):
        check_settings(112, "dlib", upsample=-2)
    s = blob_store(n=2, size=40)
    r = cli("data", "align", s.path, "--out", tmp_path / "x", "--padding", "-0.5")
    assert r.code == 2 and "padding (--padding) must be a finite number, at least 0, got -0.5" in r.err
    assert not (tmp_path / "x").exists()


def test_the_input_store_is_refused_as_the_output(blob_store, tmp_path, cli) -> None:
    """``--out STORE --overwrite`` replaced the photos with their aligned faces (the rows without
    a face and the vector columns lost): refused before any work, however the path is written."""
    s = blob_store(n=4, size=40)
    (tmp_path / "link").symlink_to(s.path)
    (tmp_path / "a").mkdir()
    before = sorted(p.name for p in s.path.iterdir())
    for out in (s.path, tmp_path / "link", tmp_path / "a" / ".." / s.path.name):
        r = cli("data", "align", s.path, "--out", out, "--overwrite")
        assert r.code == 2 and r.err.count("\n") == 1, r.err
        assert r.err.startswith(f"error: the output {out} is the store being aligned ({s.path})"), r.err
    assert sorted(p.name for p in s.path.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "blobs", "link"]


def test_a_store_without_a_face_is_refused_and_nothing_written(blob_store, tmp_path, cli) -> None:
    """Digits (no face) made an empty store and exit 0; every later command refused it."""
    s = blob_store(n=3, size=40)
    r = cli("data", "align", s.path, "--out", tmp_path / "aligned", "--size", "64")
    assert r.code == 2 and r.err.startswith("error: no face was found in any of the 3 images of")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blobs"]   # nor a half-built copy


def test_aligned_store_keeps_the_labels_of_the_faces_and_lists_the_rest(blob_store, tmp_path) -> None:
    """Batches of 2 over blank, face, face, blank, blank: the two faces keep their own rows'
    labels, and rejected.csv names rows 0, 3 and 4 by their place in the store."""
    face, blank = data.astronaut()[:256, 100:356], np.zeros((256, 256, 3), np.uint8)
    photos = blob_store(images=np.stack([blank, face, face, blank, blank]), name="photos")
    colours = np.asarray(photos.labels("color"))
    assert colours[0] != colours[1]  # a face's row told apart from the row before it
    out = align_store(photos, tmp_path / "aligned", size=32, batch_size=2)
    assert len(out) == 2 and st.load_images(out).shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(out.labels("color"), colours[[1, 2]])
    assert out.schema.provenance.counts == {"inputs": 5, "converted": 2, "rejected": 3}
    rejected = (out.path / st.REJECTED_FILE).read_text().splitlines()
    assert [line.split(",")[0] for line in rejected] == ["row", "0", "3", "4"]
