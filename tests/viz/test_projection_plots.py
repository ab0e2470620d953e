"""Projection scatter figures from arrays: legends with counts, colour bars, interactive HTML."""

from __future__ import annotations

import json
import re

import matplotlib.colors
import numpy as np
import pytest
from tests.viz.colour_vision import least_gaps

from latentplay import __version__
from latentplay.store.schema import UNKNOWN
from latentplay.viz.projection import (
    NARROW_PX,
    Labels,
    projection_figure,
    projection_html,
    projection_png,
    thumbnail_uris,
)
from latentplay.viz.style import LUMINANCE, SIGNED_MAP


def _points(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    coords = rng.normal(size=(n, 2)) + np.array([[0, 0], [6, 0], [0, 6]])[codes]
    return coords.astype(np.float32), codes


def _legend_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_categorical_png_has_names_and_counts(tmp_path):
    coords, codes = _points()
    codes[:5] = -1  # missing labels are drawn grey and counted
    fig = projection_png(coords, Labels("color", codes, "categorical", ["red", "green", "blue"]),
                         title="t-SNE of pix by color")
    counts = np.bincount(codes[codes >= 0], minlength=3)
    assert _legend_texts(fig) == [f"red ({counts[0]})", f"green ({counts[1]})",
                                  f"blue ({counts[2]})", "missing (5)"]
    assert fig.axes[0].get_title() == "t-SNE of pix by color"
    assert len(fig.axes) == 1  # no colour bar for classes
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_ordered_classes_use_a_sequential_palette():
    coords, codes = _points()
    fig = projection_png(coords, Labels("tone", codes, "ordered", ["1", "2", "3"]))
    handles = fig.axes[0].get_legend().legend_handles
    colors = np.array([h.get_color() for h in handles])
    # viridis: dark purple, teal, yellow -- brightness increases along the classes
    assert (np.diff(colors[:, :3].sum(axis=1)) > 0).all()


def test_continuous_png_has_a_colour_bar():
    coords, _ = _points()
    values = coords[:, 0] / 10
    values[0] = np.nan
    fig = projection_png(coords, Labels("smile", values, "continuous", range=(-1.0, 1.0)))
    assert len(fig.axes) == 2
    cbar = fig.axes[1]
    assert cbar.get_ylabel() == "smile"
    assert cbar.get_ylim() == pytest.approx((-1.0, 1.0))
    assert _legend_texts(fig) == ["missing (1)"]


def test_html_switches_attributes_and_shows_labels_and_thumbnails():
    coords, codes = _points(60)
    labels = [Labels("color", codes, "categorical", ["red", "green", "blue"]),
              Labels("size", np.linspace(0, 1, 60), "continuous")]
    images = np.random.default_rng(0).integers(0, 255, (60, 20, 20, 3), dtype=np.uint8)
    thumbs = thumbnail_uris(images, size=16)
    assert len(thumbs) == 60 and thumbs[0].startswith("data:image/jpeg;base64,")
    fig = projection_figure(coords, labels, title="t")
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["color", "size"]
    assert sum(bool(t.visible) for t in fig.data) == 3  # the colour classes first
    for button, group in zip(fig.layout.updatemenus[0].buttons, ("color", "size"), strict=True):
        shown = [t for t, on in zip(fig.data, button.args[0]["visible"], strict=True) if on]
        assert {t.legendgroup or t.name for t in shown} == {group}   # its own traces, no other
    assert fig.data[0].hovertemplate == "color: red<extra></extra>"
    np.testing.assert_array_equal(fig.data[0].customdata, np.flatnonzero(codes == 0))
    html = projection_html(coords, labels, title="t", rows=np.arange(100, 160),
                           thumbnails=[*thumbs[:30], *[None] * 30])
    assert thumbs[5] in html and thumbs[40] not in html and "plotly_hover" in html
    panel = json.loads(re.search(r"var info = (\{.*?\});\n", html).group(1))
    assert panel["rows"][:2] == [100, 101]
    color = panel["labels"][0]
    assert [color["text"][v] for v in color["values"]] == [["red", "green", "blue"][c]
                                                          for c in codes]
    assert "<script src=" not in html  # plotly.js inlined: the page works offline
    assert f"red ({(codes == 0).sum()})" in html
    again = projection_html(coords, labels, title="t", rows=np.arange(100, 160),
                            thumbnails=[*thumbs[:30], *[None] * 30])
    assert again == html            # the same page byte for byte (plotly drew a random div id)


def test_labels_must_match_the_points():
    coords, codes = _points()
    with pytest.raises(ValueError, match="expected"):
        projection_png(coords, Labels("color", codes[:10]))
    with pytest.raises(ValueError, match="unknown kind"):
        Labels("color", codes, "nominal")


def test_identities_get_no_legend_one_trace_and_distinct_neighbour_colours():
    from latentplay.viz.projection import MAX_LEGEND, class_colors

    rng = np.random.default_rng(0)
    n_ids = 150
    ids = np.repeat(np.arange(n_ids), 4)
    coords = (rng.normal(size=(n_ids, 2)) * 10)[ids] + rng.normal(size=(len(ids), 2))
    labels = Labels("identity", ids, "categorical", [f"person_{i}" for i in range(n_ids)])
    fig = projection_png(coords, labels)
    assert fig.axes[0].get_legend() is None
    assert any("150 classes" in t.get_text() for t in fig.axes[0].texts)
    interactive = projection_figure(coords, [labels])
    assert len(interactive.data) == 1 and interactive.data[0].text[5] == "person_1"
    palette = [matplotlib.colors.to_hex(c) for c in class_colors(n_ids, ordered=False)]
    assert list(interactive.data[0].marker.color) == [palette[i] for i in ids]   # each its own
    # consecutive codes are far apart in colour, unlike a plain sweep of the colour map
    colors = np.array(class_colors(n_ids, ordered=False))[:, :3]
    assert np.linalg.norm(np.diff(colors, axis=0), axis=1).mean() > 0.2
    assert n_ids > MAX_LEGEND


def test_unknown_and_missing_points_are_grey_and_underneath():
    """Rows ``measure``, ``predict`` or ``bin`` could not label (class ``unknown``) and missing
    values are drawn first, in grey; the known classes keep the palette and their order."""
    from latentplay.viz.projection import GREY, class_colors, draw_order, label_colors

    codes = np.array([0, 2, 1, 2, -1, 0, 2, 1])
    labels = Labels("smile", codes, "ordered", ["frown", "neutral", "unknown"])
    colors = label_colors(labels)
    np.testing.assert_allclose(colors[2], GREY)
    np.testing.assert_allclose(colors[-1], GREY)
    np.testing.assert_allclose(colors[:2], class_colors(2, ordered=True))  # ramp over the known
    order = draw_order(labels, seed=0)
    assert sorted(order.tolist()) == list(range(8))
    assert set(order[:4].tolist()) == {1, 3, 4, 6}  # unknown and missing first
    fig = projection_png(np.random.default_rng(0).normal(size=(8, 2)), labels)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["frown (2)", "neutral (2)", "unknown (3)", "missing (1)"]
    interactive = projection_figure(np.zeros((8, 2)), [labels])
    ranked = sorted(interactive.data, key=lambda t: t.legendrank)
    assert [t.name for t in ranked] == ["frown (2)", "neutral (2)", "unknown (3)", "missing (1)"]
    assert interactive.data[0].name.startswith(("unknown", "missing"))  # drawn first


def test_missing_values_of_a_continuous_attribute_are_grey_not_the_lowest_colour():
    from latentplay.viz.projection import GREY

    values = np.array([0.2, np.nan, 0.9, 0.5, np.nan, 0.7])
    fig = projection_figure(np.arange(12.0).reshape(6, 2), [Labels("smile", values, "continuous")])
    missing, shown = fig.data
    assert missing.name == "missing (2)" and missing.hovertemplate == "smile: missing<extra></extra>"
    np.testing.assert_array_equal(missing.customdata, [1, 4])
    assert missing.marker.color == matplotlib.colors.to_hex(GREY)
    np.testing.assert_array_equal(shown.customdata, [0, 2, 3, 5])
    np.testing.assert_allclose(shown.marker.color, [0.2, 0.9, 0.5, 0.7])
    assert (shown.marker.cmin, shown.marker.cmax) == pytest.approx((0.2, 0.9))


@pytest.mark.parametrize("n", [2, 9, 10, 16, 18, 19, 40])
def test_no_class_is_drawn_in_the_grey_of_unknown(n: int) -> None:
    """tab10's 8th and tab20's 15th and 16th colours are greys: a class (monk_8 / female of a
    combined attribute) looked like the unknown rows beside it."""
    from latentplay.viz.projection import GREY, class_colors

    colors = np.array(class_colors(n, ordered=False))[:, :3]
    assert len(colors) == n
    saturation = colors.max(axis=1) - colors.min(axis=1)
    assert saturation.min() > 0.1                                     # none is a grey
    assert np.linalg.norm(colors - np.array(GREY)[:3], axis=1).min() > 0.15
    assert len({tuple(c) for c in colors.round(3)}) == n              # each its own colour


def test_signed_values_get_a_diverging_map_centred_on_zero():
    """Yaw from -30 to +50 degrees: 0 (frontal) is the map's middle in the PNG and the HTML,
    light but visible on white and not the grey of missing values; equal turns left and
    right get opposite hues, darker the farther from 0."""
    coords, _ = _points(6)
    yaw = np.array([-30.0, 0.0, 50.0, 10.0, -10.0, 20.0])
    fig = projection_png(coords, Labels("pose_yaw", yaw, "continuous"))
    scatter = fig.axes[0].collections[-1]
    assert scatter.get_cmap().name == SIGNED_MAP
    assert scatter.get_clim() == pytest.approx((-50.0, 50.0))
    left, zero, right = scatter.to_rgba(np.array([-40.0, 0.0, 40.0]))
    assert left[2] > left[0] and right[0] > right[2]
    lum = {name: float(np.dot(c[:3], LUMINANCE)) for name, c in
           (("left", left), ("zero", zero), ("right", right))}
    assert max(lum["left"], lum["right"]) < 0.4 < lum["zero"] - 0.2 < 0.65   # dark ends, a visible middle
    assert np.ptp(zero[:3]) > 0.1                                       # coloured, not grey
    html = projection_figure(coords, [Labels("pose_yaw", yaw, "continuous")]).data[0].marker
    assert (html.cmin, html.cmax) == pytest.approx((-50.0, 50.0))
    low, high = (np.array(re.findall(r"\d+", html.colorscale[i][1]), int) for i in (0, -1))
    middle = np.array(re.findall(r"\d+", html.colorscale[5][1]), int)
    assert low[2] > low[0] and high[0] > high[2] and middle.min() > max(low.max(), high.max())
    # one sign only: viridis over the values' own range
    for values in (-yaw, yaw):   # the wider reach either side: -50 to 30 as -30 to 50
        assert projection_png(coords, Labels("pose_yaw", values, "continuous")
                              ).axes[0].collections[-1].get_clim() == pytest.approx((-50.0, 50.0))
        marker = projection_figure(coords, [Labels("pose_yaw", values, "continuous")]).data[0].marker
        assert (marker.cmin, marker.cmax) == pytest.approx((-50.0, 50.0))
    fig = projection_png(coords, Labels("size", np.abs(yaw), "continuous"))
    assert fig.axes[0].collections[-1].get_cmap().name == "viridis"
    assert fig.axes[0].collections[-1].get_clim() == pytest.approx((0.0, 50.0))


def test_the_interactive_page_is_titled_and_its_controls_clear_the_title() -> None:
    """The page has a <title> and names the latentplay version that wrote it; the attribute
    menu sits right, away from the title's start; a colour bar keeps to the lower part of the
    margin, under the legend's missing entry."""
    coords, _ = _points(30)
    yaw = np.linspace(-20, 20, 30)
    yaw[:3] = np.nan
    labels = [Labels("pose_yaw", yaw, "continuous"), Labels("g", np.arange(30) % 2, "categorical")]
    page = projection_html(coords, labels, title="PCA of z <1>")
    assert "<title>PCA of z &lt;1&gt;</title>" in page
    assert f'<meta name="generator" content="latentplay {__version__}">' in page
    fig = projection_figure(coords, labels, "PCA of z")
    assert fig.layout.updatemenus[0].xanchor == "right" and fig.layout.title.xanchor == "left"
    bar = next(t for t in fig.data if t.marker.colorbar.title.text == "pose_yaw").marker.colorbar
    assert bar.len == 0.75 and bar.yanchor == "bottom"


def test_a_narrow_window_puts_the_legend_under_the_points() -> None:
    """At 400 px the legend beside the points left them 120 px of the page's width: below
    NARROW_PX wide the page's script lays the legend out in rows under them, and hands the
    layout back to plotly's defaults when the window widens again."""
    coords, _ = _points(30)
    page = projection_html(coords, [Labels("g", np.arange(30) % 2, "categorical")], title="t")
    script = page[page.index("var narrowNow"):]
    script = script[:script.index("</script>")]
    assert f"gd.clientWidth < {NARROW_PX}" in script and 300 < NARROW_PX < 1000
    assert "'legend.orientation': narrow ? 'h' : null" in script
    assert "'legend.yanchor': narrow ? 'top' : null" in script
    assert "window.addEventListener('resize', fitWidth)" in script and "\nfitWidth();" in script


def test_the_interactive_page_states_its_language_and_its_charset_before_its_title() -> None:
    """The page had no ``lang`` (screen readers guessed the language) and its <title> came
    before <meta charset>: a long title of non-ASCII names pushed the charset past the first
    1024 bytes a browser reads it from, and the title showed garbled."""
    coords, _ = _points(20)
    name = "é" * 600
    page = projection_html(coords, [Labels("g", np.arange(20) % 2, "categorical")], title=name)
    assert re.search(r"<html lang=\"en\">\s*<head>", page)
    assert page.encode().index(b"<meta charset") < 1024 < page.encode().index(b"</title>")
    assert page.count(f"<title>{name}</title>") == 1


def test_the_page_keeps_its_title_where_plotly_writes_no_charset(monkeypatch) -> None:
    """The title goes after <head> where a plotly release writes no <meta charset>."""
    import plotly.graph_objects as go

    monkeypatch.setattr(go.Figure, "to_html", lambda self, **_: "<html><head></head><body></body></html>")
    page = projection_html(*_points(20)[:1], [Labels("g", np.arange(20) % 2, "categorical")], title="a&b")
    assert page.startswith('<html lang="en"><head><title>a&amp;b</title>')


def test_names_from_a_dataset_stay_text_in_the_page() -> None:
    """A class named ``</script><script>...`` ended the page's data script early and ran its
    own on load, and the hover panel set names as HTML (``<img onerror=...>`` ran on hover):
    the data is escaped for a script and the panel sets text."""
    evil = ["</script><script>document.title='x'</script>", "<img src=x onerror=alert(1)>"]
    coords, _ = _points(40)
    labels = [Labels("g</script>", np.arange(40) % 2, "categorical", names=evil)]
    page = projection_html(coords, labels, title="t")
    script = page[page.index("var info = "):]
    script = script[:script.index("</script>")]        # the data script ends where it should:
    panel = json.loads(script[len("var info = "):].split(";\n", 1)[0])   # after all its data
    assert "innerHTML" not in page.split("var info", 1)[1]
    assert panel["labels"][0]["text"] == evil and panel["labels"][0]["name"] == "g</script>"


@pytest.mark.parametrize("n", [2, 3, 5])
def test_up_to_five_classes_stay_apart_for_colour_blind_readers(n: int) -> None:
    """tab10's orange and green were 1.3 CIEDE2000 apart to a protanope (three classes): up
    to five unordered classes now take colours at least 10 apart, and 10 from the grey of
    unknown, under each deficiency's simulation."""
    from latentplay.viz.projection import GREY, class_colors

    gaps = least_gaps([c[:3] for c in class_colors(n, ordered=False)] + [GREY[:3]])
    assert min(gaps.values()) > 10, gaps


def test_rows_without_a_value_are_grey_rings() -> None:
    """``unknown`` and missing points were grey dots, near some class colours to a reader with
    a colour-vision deficiency (viridis' middle, 4.7 CIEDE2000 to a protanope): they are
    hollow grey rings, in the legend too, and every other point a filled dot."""
    coords, _ = _points(30)
    codes = np.arange(30) % 4
    codes[:3] = -1                                                   # missing
    labels = Labels("age", codes, "ordered", names=["young", "old", UNKNOWN, "mid"])
    fig = projection_png(coords, labels)
    rings, dots = fig.axes[0].collections
    assert len(rings.get_offsets()) == 3 + (codes == 2).sum() and len(rings.get_facecolors()) == 0
    assert len(dots.get_offsets()) == 30 - len(rings.get_offsets())
    legend = {t.get_text().split(" (")[0]: h for t, h in
              zip(fig.axes[0].get_legend().get_texts(), fig.axes[0].get_legend().legend_handles,
                  strict=True)}
    assert legend[UNKNOWN].get_markerfacecolor() == "none" == legend["missing"].get_markerfacecolor()
    page = projection_figure(coords, [labels])
    assert {t.marker.symbol for t in page.data if t.name.startswith(("unknown", "missing"))} == {
        "circle-open"}
    assert not isinstance(legend["young"].get_markerfacecolor(), str)       # a colour, filled


def test_more_than_five_classes_take_shapes_as_well_as_colours() -> None:
    """Ten skin tones (neighbouring copper shades) or seven races were colour alone: past five
    classes each class also takes a marker shape, point by point in the drawing order, and
    the legend shows it; five or fewer stay dots."""
    coords, _ = _points(60)
    for count, shapes in ((5, 1), (10, 7)):
        codes = np.arange(60) % count
        labels = Labels("tone", codes, "ordered", names=[f"monk_{k + 1}" for k in range(count)])
        fig = projection_png(coords, labels)
        dots = fig.axes[0].collections[-1]
        drawn = {tuple(np.round(p.vertices.ravel(), 3)) for p in dots.get_paths()}
        assert len(drawn) == shapes
        markers = [h.get_marker() for h in fig.axes[0].get_legend().legend_handles]
        assert len(set(markers)) == shapes
        if count == 10:   # each point in its own class's shape, as the legend shows it
            from latentplay.viz.projection import _marker_path

            at = np.linalg.norm(np.asarray(dots.get_offsets(), float)[:, None] - coords[None],
                                axis=2).argmin(axis=1)
            for path, code in zip(dots.get_paths(), codes[at], strict=True):
                np.testing.assert_allclose(path.vertices, _marker_path(markers[code]).vertices)
        page = projection_figure(coords, [labels])                   # the interactive page too
        assert len({trace.marker.symbol for trace in page.data}) == shapes


@pytest.mark.parametrize("classes", [2, 10, 41])
def test_a_projection_reads_in_a_column_its_legend_under_the_points(classes: int) -> None:
    """Printed a column wide, every text is 6 points or more, named axes included; the legend
    (or the note of too many classes) is under the axes and on the figure."""
    from latentplay.viz.style import COLUMN_WIDTH, SMALLEST_TEXT, printed_size

    rng = np.random.default_rng(0)
    codes = np.arange(200) % classes
    fig = projection_png(rng.normal(size=(200, 2)), Labels("class", codes, "categorical"))
    fig.axes[0].set(xlabel="PC1 (39% of variance)", ylabel="PC2 (21% of variance)")
    fig.canvas.draw()
    assert printed_size(fig, COLUMN_WIDTH) >= SMALLEST_TEXT
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    below = ax.get_legend() or next(t for t in ax.texts if "classes" in t.get_text())
    box = below.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
    assert box.y1 < ax.xaxis.label.get_window_extent(renderer).y0   # under the axis label


def test_each_point_takes_the_colour_of_its_class_in_the_legend() -> None:
    """The dots at a class's coordinates are drawn in that class's legend colour (and grey rings
    hold only the unknown and missing points)."""
    coords, codes = _points(60)
    codes[:4] = -1
    fig = projection_png(coords, Labels("color", codes, "categorical", ["red", "green", "blue"]))
    ax = fig.axes[0]
    rings, dots = ax.collections
    legend = {h.get_label().split(" (")[0]: matplotlib.colors.to_rgba(h.get_color())
              for h in ax.get_legend().legend_handles[:3]}

    def classes(collection) -> np.ndarray:   # the code of the point at each drawn position
        offsets = np.asarray(collection.get_offsets(), dtype=np.float64)
        return codes[np.linalg.norm(offsets[:, None] - coords[None], axis=2).argmin(axis=1)]

    drawn = classes(dots)
    names = ["red", "green", "blue"]
    for code, face in zip(drawn, dots.get_facecolors(), strict=True):
        np.testing.assert_allclose(face, legend[names[code]])
    assert sorted(drawn.tolist()) == sorted(codes[codes >= 0].tolist())
    assert classes(rings).tolist() == [-1] * 4


def test_the_identities_note_counts_the_classes_with_points() -> None:
    """Of 50 named identities 45 have points: the note says 45 classes, not 50."""
    ids = np.repeat(np.arange(45), 2)
    coords = np.random.default_rng(0).normal(size=(len(ids), 2))
    fig = projection_png(coords, Labels("identity", ids, "categorical", [f"p{i}" for i in range(50)]))
    assert [t.get_text() for t in fig.axes[0].texts if "classes" in t.get_text()] == [
        "identity: 45 classes, one colour each"]


def test_a_declared_range_sets_the_colour_scale_of_both_figures() -> None:
    """Smiles in [0, 1] whose rows span 0.2 to 0.7 are coloured over 0 to 1, in the PNG and the
    interactive page alike (a value's colour then means the same in every store)."""
    values = np.array([0.2, 0.5, 0.7, 0.4])
    labels = Labels("smile", values, "continuous", range=(0.0, 1.0))
    coords = np.arange(8.0).reshape(4, 2)
    assert projection_png(coords, labels).axes[0].collections[-1].get_clim() == pytest.approx((0, 1))
    marker = projection_figure(coords, [labels]).data[0].marker
    assert (marker.cmin, marker.cmax) == pytest.approx((0.0, 1.0))


def test_class_names_with_dollar_signs_are_drawn_as_written() -> None:
    """Class names holding ``$`` are text, not mathtext: ``$\\frac$`` made drawing the figure
    raise (a mathtext parse error), and ``a$b$c`` was drawn as "abc" with ``b`` in italics.
    Drawn as written, each legend entry is as wide as the same words set as plain text."""
    coords, codes = _points()
    names = ["$100", "a$b$c", "$\\frac$"]
    fig = projection_png(coords, Labels("price", codes, "categorical", names))
    fig.canvas.draw()
    counts = np.bincount(codes, minlength=3)
    texts = fig.axes[0].get_legend().get_texts()
    assert [t.get_text() for t in texts] == [f"{n} ({c})" for n, c in zip(names, counts, strict=True)]
    renderer = fig.canvas.get_renderer()
    for text in texts:
        plain = fig.text(0, 0, text.get_text(), fontsize=text.get_fontsize(), parse_math=False)
        assert text.get_window_extent(renderer).width == pytest.approx(
            plain.get_window_extent(renderer).width, abs=0.5)   # pixels


def test_a_class_name_of_300_characters_is_shortened_to_the_figure_s_width() -> None:
    """A 300-character class name (a file path as a label) is shown by its start, an ellipsis,
    its end and its count, the whole legend on the figure; shorter names stay whole (before,
    the one-column legend was about 15 inches wide on a 4-inch figure: every entry was off
    the page)."""
    coords, codes = _points()
    long = "s" + "x" * 298 + "e"
    fig = projection_png(coords, Labels("path", codes, "categorical", ["a", "b", long]))
    fig.canvas.draw()
    counts = np.bincount(codes, minlength=3)
    texts = _legend_texts(fig)
    assert texts[:2] == [f"a ({counts[0]})", f"b ({counts[1]})"]
    assert texts[2].startswith("sxx") and texts[2].endswith(f"xxe ({counts[2]})") and "…" in texts[2]
    box = fig.axes[0].get_legend().get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1


def test_plotly_shows_class_names_as_written_not_as_markup() -> None:
    """plotly reads ``<b>``, ``<br>`` and entities in a trace's name and hover text as markup,
    and ``%{...}`` in a hover template as a value: a class ``<b>x</b>`` was a bold x, ``R&amp;D``
    read R&D and ``100%{x}`` showed the point's x. Each name now holds no markup plotly reads
    and decodes (entities, as plotly decodes them) to the name."""
    import html

    coords, codes = _points(60)
    names = ["<b>x</b>", "R&amp;D", "100%{x}"]
    fig = projection_figure(coords, [Labels("kind", codes, "categorical", names)])
    counts = np.bincount(codes, minlength=3)
    for trace, name, count in zip(fig.data, names, counts, strict=True):
        hover = trace.hovertemplate.removesuffix("<extra></extra>")
        assert "<" not in trace.name + hover and "%{" not in hover
        assert html.unescape(trace.name) == f"{name} ({count})"
        assert html.unescape(hover) == f"kind: {name}"
