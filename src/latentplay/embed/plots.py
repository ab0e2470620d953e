"""Projection plots of a store, one PNG per (method, embedding, attribute) and one HTML per
(method, embedding), named for the attributes it can be coloured by.

>>> written = plot_projections("data/faces", ["dlib"], by=["gender", "skin_tone"],
...                            methods=["tsne", "umap"], out="figs", sample=20000)

Coordinates come from :func:`latentplay.embed.coordinates.projections` (cached in the store), so
plotting again by other attributes costs only the drawing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.config import to_dict
from latentplay.embed.column import load_rows
from latentplay.embed.coordinates import PARAMS, TITLES, Projection, projections, sample_rows
from latentplay.errors import UserError
from latentplay.names import name_list
from latentplay.outputs import make_parents, write_atomic
from latentplay.store.io import opened
from latentplay.viz.projection import Labels, projection_html, projection_png, thumbnail_uris

MAX_LEVELS = 12  # factors with more levels are coloured like continuous attributes
HTML_NAME_MAX = 120
"""Longest HTML file name that lists its attributes (:func:`html_name`)."""


def store_labels(store: st.Store, name: str, rows: np.ndarray, ordered: bool = False) -> Labels:
    """Values of attribute ``name`` at ``rows`` as :class:`~latentplay.viz.projection.Labels`.

    Factor attributes are drawn as ordered classes named by their level values (as a colour
    bar of the level values when they have more than ``MAX_LEVELS``), nominal ones as classes
    named by their level names; categorical ones as ordered classes when ``ordered`` or marked
    so in the schema (Monk tones, age groups, groups made by ``data bin``).
    """
    attr = _attribute(store, name)
    values = store.labels(name)[rows]
    if attr.kind == "continuous":
        return Labels(name, values.astype(np.float32), "continuous", range=attr.range)
    if attr.kind == "factor" and not attr.nominal:
        levels = np.asarray(attr.values, dtype=np.float32)
        if len(levels) > MAX_LEVELS:
            return Labels(name, levels[values], "continuous",
                          range=(float(levels.min()), float(levels.max())))
        return Labels(name, values, "ordered", [f"{v:.3g}" for v in levels])
    ordered = ordered or attr.ordered
    return Labels(name, values, "ordered" if ordered else "categorical", attr.level_names)


def _attribute(store: st.Store, name: str) -> st.Attribute:
    try:
        return store.schema.attribute(name)
    except KeyError:
        raise UserError(f"no attribute {name!r} in store; attributes: "
                        + ", ".join(a.name for a in store.schema.attributes)) from None


def _distinct(store: st.Store, name: str, rows: np.ndarray) -> np.ndarray:
    """Sorted distinct values ``(K,)`` of attribute ``name`` at ``rows`` ``(n,)``, missing
    labels (NaN, and class code -1 of a categorical attribute) left out."""
    values = store.labels(name)[rows].astype(float)
    labelled = np.isfinite(values)
    if _attribute(store, name).kind == "categorical":
        labelled &= values >= 0
    return np.unique(values[labelled])


def check_attributes(store: st.Store, names: Sequence[str], rows: np.ndarray) -> None:
    """Raise :class:`UserError` for an unknown attribute or one with a single value in ``rows``."""
    for name in names:
        levels = _attribute(store, name).level_names     # a class's name, not its code
        distinct = _distinct(store, name, rows)
        if len(distinct) < 2:
            shown = ("none" if not len(distinct) else levels[int(distinct[0])] if levels
                     else f"{distinct[0]:g}")
            raise UserError(f"attribute {name!r} has only one value ({shown}) in the "
                            f"{len(rows)} plotted rows; colouring by it shows nothing")


def plottable_attributes(store: st.Store, sample: int | None = None, seed: int = 0
                         ) -> tuple[list[str], list[str]]:
    """The store's attributes split into those with several values in the plotted rows and
    those with one (nothing to colour by)."""
    rows = sample_rows(len(store), sample, seed)
    names = [a.name for a in store.schema.attributes]
    varied = [n for n in names if len(_distinct(store, n, rows)) > 1]
    return varied, [n for n in names if n not in varied]


def plot_projections(
    store: st.Store | str | os.PathLike[str],
    embeddings: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    methods: str | Sequence[str] = ("tsne",),
    out: str | os.PathLike[str] = "figures",
    *,
    params: str | Sequence[str] = (),
    sample: int | None = None,
    seed: int = 0,
    cache: bool = True,
    ordered: str | Sequence[str] = (),
    html_max: int = 20000,
    thumbnails_max: int = 3000,
    dpi: int = 150,
    say: Callable[[str], None] | None = None,
) -> list[Path]:
    """Draw every projection of every embedding coloured by every attribute in ``by``.

    Each list of names (``embeddings``, ``by``, ``methods``, ``params``, ``ordered``) may be a
    single name as a plain string.

    Args:
        store: a store or its path.
        embeddings: vector columns to project.
        by: attributes to colour by (when None: all of the store's that take several values
            in the plotted rows).
        methods: ``tsne``, ``umap``, ``pca``.
        out: directory for ``<method>_<embedding>_<attribute>.png`` and
            ``<method>_<embedding>_<attribute>+<attribute>....html`` (:func:`html_name`;
            created if missing), so that plotting by other attributes into the same directory
            keeps the HTML of the earlier ones.
        params: method parameters, ``tsne.perplexity=50`` etc.
        sample: project a seeded random sample of this many rows.
        seed: seed of sample, method and draw order.
        cache: reuse/keep coordinates in the store.
        ordered: categorical attributes whose classes have an order (drawn with a sequential
            colour map), e.g. ``skin_tone``, ``age_group``; groups ``data bin`` made are
            ordered without being named.
        html_max: at most this many points (seeded sample) in the interactive HTML.
        thumbnails_max: at most this many points of the HTML (a seeded sample) show their
            image on hover (each adds ~2 kB to the file).
        dpi: PNG resolution.
        say: called with one line for each embedding whose rows without a vector (NaN: no
            face found, say) are left out, or whose rows with no face found were embedded
            with the fallback (the whole image); the figures' titles say it too.

    Returns:
        Paths of the files written.
    """
    from latentplay.viz.grid import save_figure
    from latentplay.viz.style import tight_layout

    store = opened(store).require_rows("project")
    embeddings, methods, params, ordered = (name_list(a) for a in (embeddings, methods, params, ordered))
    by = name_list(by) if by else None
    names = list(dict.fromkeys(by)) if by else plottable_attributes(store, sample, seed)[0]
    if not names:
        raise UserError("the store has no attribute with several values to colour by")
    unknown = set(ordered) - set(names)
    if unknown:
        raise UserError(f"--ordered names attributes not plotted: {', '.join(sorted(unknown))}")
    unclassed = [f"{n} ({kind})" for n in ordered
                 if (kind := _attribute(store, n).kind) != "categorical"]
    if unclassed:
        raise UserError(f"--ordered takes categorical attributes, not {', '.join(unclassed)}: "
                        "continuous and factor attributes are drawn in their order already")
    if html_max < 1:
        raise UserError(f"--html-max must be at least 1, got {html_max}")
    sampled = sample_rows(len(store), sample, seed)
    check_attributes(store, names, sampled)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a directory")
    make_parents(out)
    store, projs = projections(store, embeddings, methods, params=params, sample=sample,
                               seed=seed, cache=cache)
    out.mkdir(exist_ok=True)
    written: list[Path] = []
    told: set[str] = set()
    for proj in projs:
        stem = f"{proj.method}_{proj.embedding}"
        title = f"{TITLES[proj.method]} of {proj.embedding}"
        note = "; ".join(part for part in (
            left_out_note(proj.embedding, len(sampled), len(proj.rows)),
            fallback_note(store, proj.embedding, proj.rows)) if part)
        how = method_note(proj, len(store), len(sampled), seed)
        axes = pca_axis_labels(store, proj.embedding, proj.rows) if proj.method == "pca" else None
        if note and say is not None and proj.embedding not in told:
            say(f"{proj.embedding}: {note}")
            told.add(proj.embedding)
        for name in names:
            labels = store_labels(store, name, proj.rows, name in ordered)
            details = "; ".join(part for part in (how, note) if part)
            fig = projection_png(proj.coords, labels, seed=seed,
                                 title=f"{title} by {name}" + (f"\n{details}" if details else ""))
            if axes:
                fig.axes[0].set(xlabel=axes[0], ylabel=axes[1])
                tight_layout(fig)
            path = out / f"{stem}_{name}.png"
            save_figure(fig, path, dpi=dpi)
            written.append(path)
        path = out / html_name(stem, names)
        extra = "; ".join([*([how] if how else []), *(axes or ()), *([note] if note else [])])
        written.append(write_atomic(path, _html(store, proj, names, ordered,
                                                title + (f" ({extra})" if extra else ""), seed,
                                                html_max, thumbnails_max)))
    return written


def html_name(stem: str, names: Sequence[str]) -> str:
    """The interactive HTML's file name for a projection ``stem`` (``<method>_<embedding>``)
    coloured by the attributes ``names``: ``<stem>_<name>+<name>....html`` (``tsne_pix_gender.html``
    beside ``tsne_pix_gender.png`` when there is one), or, when that would be longer than
    :data:`HTML_NAME_MAX` characters, ``<stem>_<N>_attributes_<hash>.html`` with a hash of the
    names, so that other attributes never replace it."""
    name = f"{stem}_{'+'.join(names)}.html"
    if len(name) <= HTML_NAME_MAX:
        return name
    digest = hashlib.sha1("\0".join(names).encode()).hexdigest()[:8]
    return f"{stem}_{len(names)}_attributes_{digest}.html"


def method_note(proj: Projection, n_store: int, n_sampled: int, seed: int) -> str:
    """What a projection's figures state of how it was made: t-SNE's affinities (perplexity,
    or uniform over k neighbours), UMAP's ``n_neighbors``, ``min_dist`` and ``init`` (pca by
    default here, umap-learn's own being spectral), every other
    parameter not at its default (threads aside), the seed of t-SNE and UMAP, and the sample
    when ``n_sampled`` of the store's ``n_store`` rows were projected, e.g.
    ``"perplexity=30, seed 0"`` or ``"n_neighbors=15, min_dist=0.1, init=pca, metric=cosine, seed 3;
    300 of 600 rows sampled"`` (``""`` for a PCA of every row with its defaults)."""
    params = proj.params
    defaults = to_dict(PARAMS[proj.method]())
    main: tuple[str, ...] = {"tsne": ("perplexity",), "umap": ("n_neighbors", "min_dist", "init"),
                             "pca": ()}[proj.method]
    skip = {"n_jobs", *main}
    if proj.method == "tsne":
        skip |= {"affinity", "k_neighbors", "auto_rows"}
        if PARAMS["tsne"](**params).affinity_for(len(proj.rows)) == "uniform":
            main = ("k_neighbors",)
    shown = [_setting(k, params[k]) for k in main]
    shown += [_setting(k, v) for k, v in params.items() if v != defaults[k] and k not in skip]
    if proj.method == "tsne" and main == ("k_neighbors",):
        shown[0] = "uniform affinities, " + shown[0]
    if proj.method != "pca":
        shown.append(f"seed {seed}")
    parts = [", ".join(shown)] if shown else []
    if n_sampled < n_store:
        parts.append(f"{n_sampled:,} of {n_store:,} rows sampled"
                     + (f" (seed {seed})" if proj.method == "pca" else ""))
    return "; ".join(parts)


def _setting(key: str, value: object) -> str:
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def pca_axis_labels(store: st.Store, embedding: str, rows: np.ndarray) -> tuple[str, str]:
    """``("PC1 (x% of variance)", "PC2 (y% of variance)")``: the share of the total variance
    of vector column ``embedding`` over the mapped ``(n,)`` ``rows`` that each axis of a PCA
    map shows."""
    from sklearn.decomposition import PCA

    from latentplay.outputs import share_text

    x = st.vectors(store, embedding)[rows]
    ratio = np.zeros(2)
    ratio[:min(2, x.shape[1])] = PCA(min(2, x.shape[1])).fit(x).explained_variance_ratio_
    return f"PC1 ({share_text(ratio[0])} of variance)", f"PC2 ({share_text(ratio[1])} of variance)"


def left_out_note(embedding: str, sampled: int, projected: int) -> str:
    """``"K of N rows without a <embedding> vector left out"`` when the ``sampled`` rows
    lose some to NaN vectors, else ``""``."""
    missing = sampled - projected
    if not missing:
        return ""
    return f"{missing:,} of {sampled:,} rows without a {embedding} vector left out"


def fallback_note(store: st.Store, embedding: str, rows: np.ndarray) -> str:
    """``"K of N rows embedded without a detected face (the whole image)"`` when ``K`` of the
    projected ``rows`` of a face embedding (``dlib``, ``onnx:`` ...) got the fallback vector of
    a face its detector missed, else ``""``: such rows sit in the map by what the whole image
    looks like, not by the face, and can make most of its structure."""
    from latentplay.embed.column import embed_entry

    entry = embed_entry(store, embedding)
    if not entry or not entry.get("detects_faces"):
        return ""
    missed = int(np.isin(rows, np.asarray(entry.get("not_found", []), dtype=np.int64)).sum())
    if not missed:
        return ""
    return (f"{missed:,} of {len(rows):,} rows embedded without a detected face (the whole "
            "image; -o fallback=nan leaves them out)")


def _html(store: st.Store, proj: Projection, names: Sequence[str], ordered: Sequence[str],
          title: str, seed: int, html_max: int, thumbnails_max: int) -> str:
    keep = np.arange(len(proj.rows))
    if len(keep) > html_max:
        keep = np.sort(np.random.default_rng(seed).choice(len(keep), html_max, replace=False))
        title += f" ({html_max:,} of {len(proj.rows):,} points)"
    rows = proj.rows[keep]
    labels = [store_labels(store, name, rows, name in ordered) for name in names]
    thumbs: list[str | None] | None = None
    if store.schema.image_column in store.columns and thumbnails_max > 0:
        shown = np.arange(len(rows))
        if len(shown) > thumbnails_max:
            shown = np.sort(np.random.default_rng(seed + 1).choice(len(rows), thumbnails_max,
                                                                   replace=False))
        thumbs = [None] * len(rows)
        for i, uri in zip(shown, thumbnail_uris(load_rows(store, rows[shown])), strict=True):
            thumbs[i] = uri
    return projection_html(proj.coords[keep], labels, title=title, rows=rows, thumbnails=thumbs)
