"""Scatter plots of 2-d projections coloured by an attribute: PNG (matplotlib) and HTML (plotly).

Arrays in, figures out; no store or file access here.

>>> fig = projection_png(coords, Labels("gender", codes, "categorical", ["female", "male"]))
>>> fig.savefig("tsne_gender.png")
>>> html = projection_html(coords, [labels_gender, labels_smile], thumbnails=thumbs)
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from latentplay.outputs import made_by_text
from latentplay.store.schema import UNKNOWN
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import (
    CHART_TEXT,
    CHART_WIDTH,
    COLOUR_ONLY,
    SIGNED_MAP,
    SKIN_MAP,
    UNKNOWN_GREY,
    fitted,
    is_skin,
    named_colors,
    ordered_colors,
    qualitative_colors,
    text_width,
    tight_layout,
    wrap_title,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

MISSING = "missing"
GREY = UNKNOWN_GREY


@dataclass
class Labels:
    """One attribute's values for the plotted points.

    Attributes:
        name: attribute name (legend / colour-bar title).
        values: ``(n,)`` class codes (categorical, ordered) or floats (continuous); a negative
            code or NaN marks a missing value.
        kind: ``categorical`` (unordered classes), ``ordered`` (classes with an order, e.g.
            age groups or factor levels) or ``continuous``.
        names: class names of codes ``0..K-1`` (categorical and ordered).
        range: colour range of a continuous attribute (data min/max when None).
    """

    name: str
    values: np.ndarray
    kind: str = "categorical"
    names: Sequence[str] | None = None
    range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("categorical", "ordered", "continuous"):
            raise ValueError(f"labels {self.name!r}: unknown kind {self.kind!r}")
        self.values = np.asarray(self.values)
        if self.kind != "continuous" and self.names is None:
            codes = self.values[self.values >= 0].astype(int)
            self.names = [str(i) for i in range(int(codes.max()) + 1 if codes.size else 0)]

    @property
    def discrete(self) -> bool:
        return self.kind != "continuous"

    def codes(self) -> np.ndarray:
        """``(n,)`` int codes, -1 for missing (discrete kinds only)."""
        v = self.values.astype(float)
        return np.where(np.isfinite(v) & (v >= 0), v, -1).astype(int)

    def text(self) -> list[str]:
        """The value of each point as text (class name or number)."""
        if self.discrete:
            names = list(self.names or [])
            return [names[c] if 0 <= c < len(names) else MISSING for c in self.codes()]
        return [f"{v:.3g}" if np.isfinite(v) else MISSING for v in self.values.astype(float)]


MAX_LEGEND = 40
"""Attributes with more classes (identities) are drawn without a legend or a trace per class."""


def class_colors(n: int, ordered: bool, names: Sequence[str] | None = None,
                 attribute: str | None = None) -> list[tuple[float, float, float, float]]:
    """``n`` distinguishable colours for the classes ``names`` of ``attribute``: the colours
    classes are named after (:func:`~latentplay.viz.style.named_colors`: ``blue`` is blue);
    for ordered classes the ramp of :func:`~latentplay.viz.style.ordered_colors` (skin colours
    for a skin scale); else :func:`~latentplay.viz.style.qualitative_colors` (colour-blind safe
    up to five classes)."""
    if ordered:
        return [tuple(c) for c in ordered_colors(max(n, 1), attribute)]
    named = named_colors(names, attribute) if names is not None and len(names) == n else None
    if named is not None:
        return [tuple(c) for c in named]
    return qualitative_colors(n)


def _hollow(ax: plt.Axes, points: np.ndarray, size: float, label: str | None = None) -> None:
    """``(k, 2)`` ``points`` of rows without a value as grey rings: told from every class by
    their shape as well as their colour (the grey is near some class colours to readers with
    a colour-vision deficiency)."""
    if len(points):
        ax.scatter(points[:, 0], points[:, 1], s=size, facecolors="none", edgecolors=[GREY],
                   linewidths=0.6, rasterized=True, label=label)


def _handle(color: Any, label: str, hollow: bool, marker: str = "o") -> Line2D:
    """A legend entry: a ``marker`` of ``color``, or a grey ring for rows without a value."""
    if hollow:
        return Line2D([], [], marker="o", linestyle="", mfc="none", mec=GREY, mew=0.8, label=label)
    return Line2D([], [], marker=marker, linestyle="", color=color, label=label)


CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
"""The shapes classes take in turn past :data:`~latentplay.viz.style.COLOUR_ONLY` (and up to
:data:`MAX_LEGEND`)."""
PLOTLY_SYMBOLS = {"o": "circle", "s": "square", "^": "triangle-up", "D": "diamond",
                  "v": "triangle-down", "P": "cross", "X": "x"}
"""The same shapes in the interactive page."""


def _class_markers(names: Sequence[str]) -> list[str] | None:
    """A marker per class of ``names`` when more than :data:`COLOUR_ONLY` classes (``unknown``
    aside) and no more than :data:`MAX_LEGEND`; None when colour alone is drawn."""
    known = [n for n in names if n != UNKNOWN]
    if not COLOUR_ONLY < len(known) <= MAX_LEGEND:
        return None
    return [CLASS_MARKERS[k % len(CLASS_MARKERS)] for k in range(len(names))]


def _marker_path(marker: str) -> Any:
    """The path matplotlib's scatter draws for ``marker``, to set per point."""
    from matplotlib.markers import MarkerStyle

    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform())


def label_colors(labels: Labels) -> np.ndarray:
    """``(K + 1, 4)`` RGBA: one per class of discrete ``labels`` (:func:`class_colors` over the
    known classes; a class named ``unknown`` grey), then grey for missing values."""
    names = list(labels.names or [])
    known = [i for i, name in enumerate(names) if name != UNKNOWN]
    colors = np.tile(np.array(GREY), (len(names) + 1, 1))
    if known:
        colors[known] = class_colors(len(known), labels.kind == "ordered",
                                     [names[i] for i in known], labels.name)
    return colors


def draw_order(labels: Labels, seed: int) -> np.ndarray:
    """Point indices in drawing order: missing and ``unknown`` points first (underneath), then
    the rest in a seeded random order so no class hides another."""
    n = len(labels.values)
    order = np.random.default_rng(seed).permutation(n)
    if not labels.discrete:
        return order
    codes = labels.codes()
    names = list(labels.names or [])
    background = (codes < 0) | np.isin(codes, [i for i, c in enumerate(names) if c == UNKNOWN])
    return np.concatenate([order[background[order]], order[~background[order]]])


def _point_size(n: int) -> float:
    """Points squared of each of ``n`` points' markers: smaller when many."""
    return float(np.clip(5000.0 / max(n, 1), 1.0, 15.0))


AXES_HEIGHT = 3.3
"""Inches of :func:`projection_png`'s axes: about square."""


BELOW = 16.0
"""Points between the axes and the legend under them: room for an axis label (PC1)."""


def value_scale(lo: float, hi: float, attribute: str | None = None) -> tuple[str, float, float]:
    """The matplotlib colour map and limits for values of ``attribute`` from ``lo`` to ``hi``:
    for a skin scale (``skin_ita``: high is light skin) the skin colours of
    :data:`~latentplay.viz.style.SKIN_MAP` over the range; else a diverging map centred on 0
    when the values take both signs (yaw, a smile degree in [-1, 1], mouth lift: 0 is the
    neutral value and left/right read as opposite hues:
    :data:`~latentplay.viz.style.SIGNED_MAP`, dark at both ends), else viridis over the
    range."""
    if is_skin(attribute):
        return SKIN_MAP, lo, hi
    if lo < 0 < hi:
        reach = max(-lo, hi)
        return SIGNED_MAP, -reach, reach
    return "viridis", lo, hi


def plotly_scale(cmap: str, steps: int = 11) -> list[list[float | str]]:
    """The matplotlib colour map ``cmap`` as a plotly colour scale of ``steps`` stops."""
    colours = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, steps))[:, :3]
    return [[float(at), "rgb({},{},{})".format(*np.round(rgb * 255).astype(int))]
            for at, rgb in zip(np.linspace(0.0, 1.0, steps), colours, strict=True)]


@drawn_as_written
def projection_png(
    coords: np.ndarray,
    labels: Labels,
    title: str = "",
    seed: int = 0,
) -> Figure:
    """A scatter of ``coords`` ``(n, 2)`` coloured by ``labels``.

    Discrete attributes get a legend under the points with each class's name and count
    (classes with no points are listed with 0); continuous attributes get a colour bar. The
    figure is :data:`CHART_WIDTH` inches wide, its text :data:`CHART_TEXT` points or more: 6 or more
    printed a column wide. Points are drawn in a seeded
    random order so no class hides another, missing and ``unknown`` ones first, as grey rings.
    """
    coords = np.asarray(coords, dtype=np.float32)
    n = len(coords)
    if labels.values.shape != (n,):
        raise ValueError(f"labels {labels.name!r} have shape {labels.values.shape}, expected ({n},)")
    order = draw_order(labels, seed)
    room = CHART_WIDTH - (0.5 if labels.discrete else 1.4)   # inches of the axes, beside a colour bar
    title = wrap_title(title or f"coloured by {labels.name}", room, CHART_TEXT + 1)
    handles: list[Line2D] = []
    note = ""
    if labels.discrete:
        codes = labels.codes()
        names = list(labels.names or [])
        colors = label_colors(labels)
        marks = _class_markers(names)
        counts = np.bincount(codes[codes >= 0], minlength=len(names))
        if len(names) > MAX_LEGEND:  # identities: no legend
            note = f"{labels.name}: {int((counts > 0).sum()):,} classes, one colour each"
        else:
            handles = [_handle(colors[i], fitted(name, CHART_WIDTH - 0.7, CHART_TEXT,  # one column
                                                 f" ({counts[i]:,})"), name == UNKNOWN,
                               "o" if marks is None else marks[i])
                       for i, name in enumerate(names)]
            if (codes < 0).any():
                handles.append(_handle(colors[-1], f"{MISSING} ({int((codes < 0).sum()):,})", True))
    # the legend under the axes, in as many columns as fit the figure's width
    columns = max(1, min(len(handles), int((CHART_WIDTH - 0.2) // max(
        (0.4 + text_width(h.get_label(), CHART_TEXT) for h in handles), default=1.0))))
    legend_lines = (-(-len(handles) // columns) + 1) if handles else bool(note)
    height = 0.45 + 0.19 * (title.count("\n") + 1) + AXES_HEIGHT + 0.3 + 0.17 * legend_lines
    fig, ax = plt.subplots(figsize=(CHART_WIDTH, height))
    size = _point_size(n)
    under = offset_copy(ax.transAxes, fig, y=-BELOW, units="points")   # below an axis label
    if labels.discrete:
        grey = (codes < 0) | np.isin(codes, [i for i, name in enumerate(names) if name == UNKNOWN])
        _hollow(ax, coords[order[grey[order]]], size)   # unknown and missing: grey rings
        shown = order[~grey[order]]
        dots = ax.scatter(coords[shown, 0], coords[shown, 1], c=colors[codes[shown]], s=size,
                          linewidths=0, rasterized=True)
        if marks is not None:   # one shape per class, each point keeping its place in the order
            dots.set_paths([_marker_path(marks[c]) for c in codes[shown]])
        if note:
            ax.text(0.5, 0, note, transform=under, ha="center", va="top", fontsize=CHART_TEXT)
        else:
            ax.legend(handles=handles, title=labels.name, loc="upper center",
                      bbox_to_anchor=(0.5, 0), bbox_transform=under, frameon=False,
                      markerscale=1.2, fontsize=CHART_TEXT, title_fontsize=CHART_TEXT, ncol=columns,
                      columnspacing=1.0, handletextpad=0.3)
    else:
        values = labels.values.astype(float)
        lo, hi = labels.range if labels.range else (np.nanmin(values), np.nanmax(values))
        bad = ~np.isfinite(values)
        if bad.any():
            _hollow(ax, coords[bad], size, label=f"{MISSING} ({int(bad.sum()):,})")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=under,
                      frameon=False, fontsize=CHART_TEXT)
        good = order[~bad[order]]
        cmap, low, high = value_scale(lo, hi, labels.name)
        sc = ax.scatter(coords[good, 0], coords[good, 1], c=values[good], cmap=cmap,
                        vmin=low, vmax=high, s=size, linewidths=0, rasterized=True)
        bar = fig.colorbar(sc, ax=ax, fraction=0.05, pad=0.02)
        bar.set_label(labels.name, fontsize=CHART_TEXT + 0.5)
        bar.ax.tick_params(labelsize=CHART_TEXT)
    ax.set_title(title, fontsize=CHART_TEXT + 1)
    ax.set_xticks([])
    ax.set_yticks([])
    for axis in (ax.xaxis, ax.yaxis):   # the size stays when a caller names the axes (PC1, PC2)
        axis.label.set_fontsize(CHART_TEXT + 0.5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.text(0.99, 0.01, f"n = {n:,}", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=CHART_TEXT, color="0.4")
    tight_layout(fig)
    return fig


def thumbnail_uris(images: np.ndarray | Sequence[np.ndarray], size: int = 48) -> list[str]:
    """``(n, H, W, C)`` uint8 images (or a list) as small JPEG ``data:`` URIs for hover previews."""
    from PIL import Image

    out = []
    for img in images:
        pil = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
        pil.thumbnail((size, size))
        buf = io.BytesIO()
        pil.convert("RGB").save(buf, format="JPEG", quality=85)
        out.append("data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode())
    return out


def plotly_text(text: str) -> str:
    """``text`` written so that plotly shows it as it is: plotly reads ``<b>``, ``<br>``,
    ``<sup>`` and entities such as ``&amp;`` in a trace's name and hover text as markup (a
    class ``<b>x</b>`` was drawn as a bold x), and ``%{...}`` in a hover template as a value
    to fill in; ``&``, ``<``, ``>`` and ``%`` become entities, which plotly shows as the
    characters."""
    return html.escape(text, quote=False).replace("%", "&#37;")


@drawn_as_written
def projection_figure(coords: np.ndarray, labels: Sequence[Labels], title: str = "") -> go.Figure:
    """An interactive plotly figure: one trace group per attribute, a menu to switch colouring.

    Hovering a point shows the value it is coloured by; every point carries its index
    ``0..n-1`` as ``customdata`` (:func:`projection_html` uses it to show all its labels).

    Args:
        coords: ``(n, 2)``.
        labels: attributes to colour by (the first is shown initially).
        title: figure title.
    """
    import plotly.graph_objects as go

    coords = np.asarray(coords, dtype=np.float32)
    n = len(coords)
    fig = go.Figure()
    groups: list[list[int]] = []
    for li, lab in enumerate(labels):
        first = len(fig.data)
        visible = li == 0
        if lab.discrete:
            codes = lab.codes()
            names = list(lab.names or [])
            colors = label_colors(lab)
            if len(names) > MAX_LEGEND:  # one trace, the class in the hover text
                hexes = np.array([matplotlib.colors.to_hex(c) for c in colors])
                fig.add_trace(go.Scattergl(
                    x=coords[:, 0], y=coords[:, 1], mode="markers", name=lab.name,
                    visible=visible, marker={"size": 4, "color": hexes[codes].tolist()},
                    customdata=np.arange(n, dtype=np.int32), text=[plotly_text(t) for t in lab.text()],
                    hovertemplate=f"{plotly_text(lab.name)}: %{{text}}<extra></extra>",
                    showlegend=False))
                groups.append(list(range(first, len(fig.data))))
                continue
            classes = [*enumerate(names), (-1, MISSING)]  # grey ones first: drawn underneath
            grey = [(ci, name) for ci, name in classes if ci < 0 or name == UNKNOWN]
            marks = _class_markers(names)
            for ci, name in grey + [c for c in classes if c not in grey]:
                idx = np.flatnonzero(codes == ci)
                if not len(idx):
                    continue
                rgba = colors[ci]
                symbol = ("circle-open" if (ci, name) in grey else "circle" if marks is None
                          else PLOTLY_SYMBOLS[marks[ci]])
                fig.add_trace(go.Scattergl(
                    x=coords[idx, 0], y=coords[idx, 1], mode="markers",
                    name=f"{plotly_text(name)} ({len(idx):,})", legendgroup=lab.name,
                    legendrank=1000 + (ci if ci >= 0 else len(names)),  # in class order
                    legendgrouptitle_text=plotly_text(lab.name), visible=visible,
                    marker={"size": 4 if marks is None and symbol == "circle" else 5,
                            "symbol": symbol,
                            "color": matplotlib.colors.to_hex(rgba)},
                    customdata=idx.astype(np.int32),
                    hovertemplate=f"{plotly_text(lab.name)}: {plotly_text(name)}<extra></extra>",
                ))
        else:  # rows without a value grey and underneath, the rest on the colour scale
            values = lab.values.astype(float)
            missing, shown = np.flatnonzero(~np.isfinite(values)), np.flatnonzero(np.isfinite(values))
            if len(missing):
                fig.add_trace(go.Scattergl(
                    x=coords[missing, 0], y=coords[missing, 1], mode="markers",
                    name=f"{MISSING} ({len(missing):,})", legendgroup=lab.name,
                    legendgrouptitle_text=plotly_text(lab.name), visible=visible,
                    marker={"size": 5, "symbol": "circle-open", "color": matplotlib.colors.to_hex(GREY)},
                    customdata=missing.astype(np.int32),
                    hovertemplate=f"{plotly_text(lab.name)}: {MISSING}<extra></extra>"))
            if len(shown):
                lo, hi = lab.range if lab.range else (values[shown].min(), values[shown].max())
                cmap, lo, hi = value_scale(float(lo), float(hi), lab.name)
                fig.add_trace(go.Scattergl(
                    x=coords[shown, 0], y=coords[shown, 1], mode="markers", name=lab.name,
                    visible=visible,
                    marker={"size": 4, "color": values[shown].astype(np.float32),
                            "colorscale": plotly_scale(cmap),
                            "cmin": lo, "cmax": hi,
                            # the lower part of the right margin: the legend's
                            # "missing (N)" above it stays clear
                            "colorbar": {"title": {"text": plotly_text(lab.name)}, "len": 0.75, "y": 0,
                                         "yanchor": "bottom"}},
                    customdata=shown.astype(np.int32),
                    hovertemplate=f"{plotly_text(lab.name)}: %{{marker.color:.3g}}<extra></extra>",
                    showlegend=False))
        groups.append(list(range(first, len(fig.data))))
    total = len(fig.data)
    buttons = []
    for lab, group in zip(labels, groups, strict=True):
        visible = [i in group for i in range(total)]
        heading = plotly_text(lab.name)
        buttons.append({"label": heading, "method": "update",
                        "args": [{"visible": visible}, {"title.text": f"{plotly_text(title)} — {heading}"}]})
    fig.update_layout(  # the title on the left, the menu of attributes on the right above the plot
        title={"text": plotly_text(f"{title} — {labels[0].name}" if labels else title), "x": 0.01,
               "xanchor": "left"},
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0, "y": 1.02,
                      "xanchor": "right", "yanchor": "bottom", "showactive": True}]
        if len(labels) > 1 else [],
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        template="plotly_white", height=720, hovermode="closest",
        legend={"itemsizing": "constant"},
    )
    return fig


_PANEL_JS = """
var info = %s;
var gd = document.getElementById('{plot_id}');
var panel = document.createElement('div');
panel.style.cssText = 'position:fixed;right:24px;bottom:24px;padding:8px;font:13px sans-serif;'
  + 'background:#fff;border:1px solid #999;display:none;z-index:10;max-width:260px';
var img = document.createElement('img');
img.style.cssText = 'width:128px;height:128px;image-rendering:pixelated;display:block';
var text = document.createElement('div');
panel.appendChild(img); panel.appendChild(text);
document.body.appendChild(panel);
gd.on('plotly_hover', function(ev) {
  var i = ev.points[0].customdata;
  text.replaceChildren();  // names and classes as text, never as markup
  var head = document.createElement('b');
  head.textContent = 'row ' + info.rows[i];
  text.appendChild(head);
  for (var k = 0; k < info.labels.length; k++) {
    var line = document.createElement('div');
    line.textContent = info.labels[k].name + ': ' + info.labels[k].text[info.labels[k].values[i]];
    text.appendChild(line);
  }
  if (info.thumbs && info.thumbs[i]) { img.src = info.thumbs[i]; img.style.display = 'block'; }
  else { img.style.display = 'none'; }
  panel.style.display = 'block';
});
gd.on('plotly_unhover', function() { panel.style.display = 'none'; });
// a narrow window (a phone): the legend goes under the points, which then keep most of the
// page's width (a colour bar stays beside them: it is thin); back beside them (plotly's
// defaults, null) when the window widens
var narrowNow = null;
function fitWidth() {
  var narrow = gd.clientWidth < %d;
  if (narrow === narrowNow) return;
  narrowNow = narrow;
  Plotly.relayout(gd, {'legend.orientation': narrow ? 'h' : null, 'legend.x': narrow ? 0 : null,
    'legend.y': narrow ? -0.02 : null, 'legend.yanchor': narrow ? 'top' : null,
    'margin.l': narrow ? 8 : null, 'margin.r': narrow ? 8 : null,
    'title.font.size': narrow ? 14 : null});
}
fitWidth();
window.addEventListener('resize', fitWidth);
"""

NARROW_PX = 700
"""Pages narrower than this (in CSS pixels) put the legend under the points, not beside them."""


def script_json(data: Any) -> str:
    """``data`` as JSON to put inside a ``<script>``: ``<``, ``>``, ``&`` and the two line
    separators JavaScript ends a line at written as ``\\u`` escapes, so that a class named
    ``</script><script>...`` (from a downloaded dataset's labels) stays a string."""
    text = json.dumps(data)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _panel_data(labels: Sequence[Labels], rows: np.ndarray,
                thumbnails: Sequence[str | None] | None) -> dict:
    """What the hover panel shows, compactly: each attribute's distinct texts and indices."""
    out = []
    for lab in labels:
        texts, inverse = np.unique(np.asarray(lab.text(), dtype=object), return_inverse=True)
        out.append({"name": lab.name, "text": texts.tolist(), "values": inverse.tolist()})
    return {"rows": [int(r) for r in rows], "labels": out,
            "thumbs": list(thumbnails) if thumbnails is not None else None}


def projection_html(coords: np.ndarray, labels: Sequence[Labels], title: str = "",
                    rows: np.ndarray | None = None,
                    thumbnails: Sequence[str | None] | None = None) -> str:
    """A self-contained HTML page (plotly.js inlined, works offline) of :func:`projection_figure`,
    its ``generator`` naming the latentplay version and the command that wrote it.

    Hovering a point opens a panel with its store row, every attribute's value and, when
    ``thumbnails`` are given, its image.

    Args:
        rows: ``(n,)`` store row of each point (``0..n-1`` when None).
        thumbnails: optional ``data:`` URI per point (see :func:`thumbnail_uris`); None for
            points shown without an image.
    """
    n = len(coords)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    if thumbnails is not None and len(thumbnails) != n:
        raise ValueError(f"{len(thumbnails)} thumbnails for {n} points")
    fig = projection_figure(coords, labels, title)
    script = _PANEL_JS % (script_json(_panel_data(labels, rows, thumbnails)), NARROW_PX)
    # a fixed div id (plotly draws a random one): the same projection writes the same bytes
    page = fig.to_html(include_plotlyjs=True, full_html=True, post_script=script,
                       div_id="projection")
    head = (f'<title>{html.escape(title or "projection")}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="{html.escape(made_by_text())}">')
    # the title after <meta charset>, which must come within the page's first 1024 bytes
    # (after <head> where a plotly release writes none)
    page = page.replace("<html>", '<html lang="en">', 1)
    at = re.search(r"<meta charset=[^>]*>", page) or re.search(r"<head>", page)
    return page[:at.end()] + head + page[at.end():] if at else head + page
