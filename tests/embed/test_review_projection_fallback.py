"""Projection figures of a face embedding say how many rows had no face detected and were
embedded with the fallback (the whole image) instead."""

from __future__ import annotations

from latentplay.embed import column as col
from latentplay.embed.plots import plot_projections


def test_projection_of_fallback_rows_says_so(blob_store, tmp_path):
    store = col.embed_store(blob_store(n=30), "dlib", "face", progress=False)  # blobs: no face
    assert len(col.flagged_rows(store, "face")) == 30
    store = col.embed_store(store, "pixels-pca", "pix", options=["dim=4"], progress=False)
    said: list[str] = []
    plot_projections(store, ["face", "pix"], by=["color"], methods=["pca"], out=tmp_path / "f",
                     say=said.append, cache=False)
    assert said == ["face: 30 of 30 rows embedded without a detected face (the whole image; "
                    "-o fallback=nan leaves them out)"]
    html = (tmp_path / "f" / "pca_face_color.html").read_text()
    assert "30 of 30 rows embedded without a detected face" in html
    assert "without a detected face" not in (tmp_path / "f" / "pca_pix_color.html").read_text()
