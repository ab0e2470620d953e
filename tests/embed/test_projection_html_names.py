"""Each projection's interactive HTML is named for the attributes it colours by, so plotting by
other attributes into the same directory keeps the earlier HTML as it keeps the earlier PNGs."""

from __future__ import annotations

import pytest

from latentplay.embed import column as col
from latentplay.embed.plots import HTML_NAME_MAX, html_name, plot_projections


@pytest.fixture
def embedded(blob_store):
    """120 blobs with a 6-d pixels-pca column ``pix``."""
    return col.embed_store(blob_store(n=120), "pixels-pca", "pix", options=["dim=6"],
                           progress=False)


def test_a_second_by_into_the_same_directory_keeps_the_first_html(embedded, tmp_path):
    out = tmp_path / "figs"
    first = plot_projections(embedded, ["pix"], by=["color"], methods=["pca"], out=out)
    second = plot_projections(embedded, ["pix"], by=["brightness"], methods=["pca"], out=out)
    assert {p.name for p in first} == {"pca_pix_color.png", "pca_pix_color.html"}
    assert {p.name for p in second} == {"pca_pix_brightness.png", "pca_pix_brightness.html"}
    assert all(p.exists() for p in first + second)
    assert '"name": "brightness"' not in (out / "pca_pix_color.html").read_text()
    assert '"name": "brightness"' in (out / "pca_pix_brightness.html").read_text()
    both = plot_projections(embedded, ["pix"], by=["color", "brightness"], methods=["pca"],
                            out=out)
    assert [p.name for p in both if p.suffix == ".html"] == ["pca_pix_color+brightness.html"]


def test_a_long_list_of_attributes_gets_a_short_name_of_its_own() -> None:
    many = [f"attribute_{i}" for i in range(20)]
    name = html_name("tsne_dlib", many)
    assert len(name) <= HTML_NAME_MAX and name.startswith("tsne_dlib_20_attributes_")
    assert name != html_name("tsne_dlib", many[::-1]) != html_name("tsne_dlib", many[1:])
    assert html_name("tsne_dlib", ["gender", "smile"]) == "tsne_dlib_gender+smile.html"


def test_an_attribute_named_twice_is_drawn_once(embedded, tmp_path):
    written = plot_projections(embedded, ["pix"], by=["color", "color"], methods=["pca"],
                               out=tmp_path / "figs")
    assert [p.name for p in written] == ["pca_pix_color.png", "pca_pix_color.html"]


def test_single_names_may_be_plain_strings(embedded, tmp_path):
    """``by="color"`` was read as the attributes c, o, l, ...; ``methods="pca"`` as p, c, a."""
    written = plot_projections(embedded, "pix", by="color", methods="pca", out=tmp_path / "figs",
                               ordered="color")
    assert [p.name for p in written] == ["pca_pix_color.png", "pca_pix_color.html"]
