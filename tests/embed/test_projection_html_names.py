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


@pytest.mark.parametrize("stopped_in", ["png", "html"])
def test_a_plot_stopped_while_written_leaves_the_earlier_files_whole(
        embedded, tmp_path, monkeypatch: pytest.MonkeyPatch, stopped_in: str) -> None:
    """The figures were written straight to their names: a stop part-way left a PNG or a page
    cut short where the earlier plot's whole one had been."""
    from pathlib import Path

    from matplotlib.figure import Figure

    out = tmp_path / "figs"
    plot_projections(embedded, ["pix"], by=["color"], methods=["pca"], out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def cut_short(path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"cut")
        raise KeyboardInterrupt

    if stopped_in == "png":
        monkeypatch.setattr(Figure, "savefig", lambda self, path, **kw: cut_short(path))
    else:
        monkeypatch.setattr(Path, "write_text", cut_short)
    with pytest.raises(KeyboardInterrupt):
        plot_projections(embedded, ["pix"], by=["color"], methods=["pca"], out=out, seed=1,
                         cache=False)
    hit = f"pca_pix_color.{stopped_in}"     # the file being written when the stop came
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    assert (out / hit).read_bytes() == before[hit]
