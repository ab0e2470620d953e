"""The report of a store: provenance, row count, each attribute's distribution (table and bar
chart), vector columns with their dimension, rejected inputs, an image grid by one categorical
attribute, and cross-tabulations of attribute pairs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.outputs import made_by_line
from latentplay.report import figures
from latentplay.report.files import read_csv
from latentplay.report.images import file_figure, reporting_on
from latentplay.report.page import Code, Columns, Facts, Figure, Heading, Page, Section, Table, Text, number
from latentplay.store.binning import edge_text
from latentplay.store.schema import UNKNOWN, Attribute, VectorColumn
from latentplay.store.summary import CROSSTAB_BINS
from latentplay.viz.grid import save_store_grid
from latentplay.viz.plain import drawn_as_written

MAX_LEVELS = 12  # attributes with more levels are left out of grids and cross-tabs


def page(path: Path) -> Page:
    """The report page of the store at ``path``."""
    data = st.load(path)
    summary = st.info(data, crosstab_of=None)
    sections = [_overview(data), _attributes(data, summary)]
    if data.schema.vectors or data.schema.history:
        sections.append(_columns(data))
    grid = _grid(data)
    if grid:
        sections.append(grid)
    tabs = _crosstabs(data)
    if tabs:
        sections.append(tabs)
    prov = data.schema.provenance
    return Page("store", f"Store {path.name}: {prov.converter}, {len(data):,} rows", str(path),
                sections)


def _overview(data: st.Store) -> Section:
    prov = data.schema.provenance
    facts = [("rows", number(len(data))), ("source", prov.source),
             ("converter", f"{prov.converter} (latentplay {prov.version})"),
             ("created", f"{prov.created} by {prov.host}"),
             *([("command", made_by_line(prov.made_by))] if prov.made_by and "command" in prov.made_by
               else []),
             ("counts", ", ".join(f"{k}: {number(v)}" for k, v in prov.counts.items()) or "—"),
             ("image column", data.schema.image_column or "none"),
             ("attributes", ", ".join(f"{a.name} ({_kind(a)})" for a in data.schema.attributes) or "—")]
    if data.schema.text_columns:
        facts.append(("text columns", ", ".join(data.schema.text_columns)))
    assert data.path is not None
    rejected = data.path / st.REJECTED_FILE
    if rejected.exists():
        facts.append(("rejected inputs", f"{len(read_csv(rejected)):,} (listed in {rejected})"))
    pairs = data.path / st.PAIRS_FILE
    if pairs.exists():
        facts.append(("verification pairs", _pairs_fact(read_csv(pairs), pairs)))
    blocks: list[Any] = [Facts(facts)]
    if prov.arguments:
        blocks.append(Code(json.dumps(prov.arguments, indent=2), "arguments it was made with"))
    return Section("Store", "store", blocks)


@drawn_as_written
def _attributes(data: st.Store, summary: dict[str, Any]) -> Section:
    blocks: list[Any] = []
    for attr in data.schema.attributes:
        s = summary["attributes"][attr.name]
        blocks.append(Heading(f"{attr.name} ({_kind(attr)})"))
        if attr.description:
            blocks.append(Text(attr.description))
        if attr.kind == "continuous":
            edges, counts = s["histogram"]["edges"], s["histogram"]["counts"]
            labels = [f"{number(a)} to {number(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
            facts = [("range", f"{number(s['range'][0])} to {number(s['range'][1])}"),
                     ("mean ± sd", f"{number(s['mean'])} ± {number(s['std'])}")]
            if s.get("missing"):
                facts.append(("rows without a value", number(s["missing"])))
            valued = len(data) - s["missing"]  # the shares are of these rows, binned or not
            if s["outside"]:  # values outside a declared range fall in no bin
                facts.append(("rows outside the range (in no bin)", f"{number(s['outside'])} "
                              f"(values {number(s['span'][0])} to {number(s['span'][1])})"))
            blocks.append(Facts(facts))
            title = f"{attr.name}: histogram"
        elif "per_class" in s:
            blocks.append(_per_class(attr.name, s))
            continue
        else:
            labels, counts = list(s["counts"]), list(s["counts"].values())
            valued = sum(counts)
            title = f"{attr.name}: count per value"
            if s.get("missing"):
                blocks.append(Facts([("rows without a value (not in the shares)",
                                      number(s["missing"]))]))
        total = max(valued, 1)
        table = Table.of(["value" if attr.kind != "continuous" else "bin", "count", "share"],
                         [[lab, c, f"{c / total:.1%}"] for lab, c in zip(labels, counts, strict=True)])
        chart = Figure(figures.bars(labels, counts, title), f"Distribution of {attr.name}.")
        blocks.append(Columns([table, chart]))
    return Section("Attributes", "attributes", blocks)


def _pairs_fact(rows: list[dict[str, str]], path: Path) -> str:
    """How many genuine and impostor pairs a pairs table holds, and how many name an image the
    converter rejected (row -1)."""
    same = sum(r.get("same") == "1" for r in rows)
    missing = sum("-1" in (r.get("row_a"), r.get("row_b")) for r in rows)
    return (f"{len(rows):,} ({same:,} genuine, {len(rows) - same:,} impostor; {missing:,} "
            f"with an unconverted image) in {path}; `latentplay audit verify` reads them")


@drawn_as_written
def _per_class(name: str, s: dict[str, Any]) -> Columns:
    """An attribute of many classes (identities): rows per class, and how many classes have
    each number of rows."""
    p = s["per_class"]
    facts = Facts([("classes", number(p["classes"])),
                   ("rows per class", f"{number(p['min'])} to {number(p['max'])}, median "
                                      f"{number(p['median'])}"),
                   ("classes without rows / with one row", f"{number(p['empty'])} / "
                                                           f"{number(p['single'])}"),
                   ("largest", ", ".join(f"{k} ({number(v)})" for k, v in p["largest"].items()))])
    if p.get("unknown"):
        facts.items.append((f"rows in {UNKNOWN!r} (no class)", number(p["unknown"])))
    if s.get("missing"):
        facts.items.append(("rows without a value", number(s["missing"])))
    sizes = np.asarray([v for k, v in s["counts"].items() if k != UNKNOWN])
    edges = np.unique(np.linspace(sizes.min(), sizes.max() + 1, 13).astype(int))
    hist, _ = np.histogram(sizes, bins=edges)
    labels = [str(a) if b - a == 1 else f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:],
                                                                        strict=True)]
    chart = Figure(figures.bars(labels, hist.tolist(), f"{name}: classes by rows per class",
                                xlabel="rows per class"), f"How many rows each {name} has.")
    return Columns([facts, chart])


def _columns(data: st.Store) -> Section:
    blocks: list[Any] = []
    if data.schema.vectors:
        blocks.append(Table.of(["vector column", "dimension", "description"],
                               [[v.name, v.dim, _vector_text(v)] for v in data.schema.vectors]))
    if data.schema.history:
        blocks.append(Table.of(["operation", "column", "with", "rows", "time"],
                               [_history_row(h) for h in data.schema.history],
                               "What was added to the store since it was made."))
    return Section("Added columns", "vectors", blocks)


def _history_row(entry: dict[str, Any]) -> list[Any]:
    """One history entry as operation, column(s), with what, rows, time."""
    if entry.get("op") == "measure":
        found = entry.get("faces_found")
        how = "measure " + ",".join(entry.get("what", []))
        if found is not None:
            how += f" (faces found in {number(found)})"
        return [entry["op"], ", ".join(entry.get("attributes", [])), how, entry.get("rows"),
                entry.get("time", "")]
    if entry.get("op") == "combine":
        return ["combine", entry.get("column", ""), " x ".join(entry.get("source", [])),
                entry.get("rows"), entry.get("time", "")]
    if entry.get("op") == "concat":  # rows: a count per store
        rows = entry.get("rows", [])
        how = " + ".join(f"{name} ({number(n)})" for name, n in zip(entry.get("names", []), rows,
                                                                      strict=False))
        return ["concat", "source", how, sum(rows), entry.get("time", "")]
    if entry.get("op") == "bin":
        how = f"{entry.get('source')} cut at " + ", ".join(edge_text(e) for e in entry.get("edges", []))
        return ["bin", entry.get("column", ""), how, entry.get("rows"), entry.get("time", "")]
    return [entry.get("op", ""), entry.get("column") or ", ".join(entry.get("attributes", [])),
            _made_with(entry), entry.get("rows"), entry.get("time", "")]


def _made_with(entry: dict[str, Any]) -> str:
    """What an ``embed``, ``predict``, ``regroup``, ``order``, ``split``, ``persons`` or
    ``subset`` entry made its column(s) with, in words (``""`` for an unknown operation)."""
    op = entry.get("op")
    if op == "regroup":
        left = entry.get("left_out") or []
        return (f"{entry.get('source')}: " + "; ".join(
            f"{g} = {', '.join(m)}" for g, m in (entry.get("groups") or {}).items())
            + (f"; {', '.join(left)} in no group" if left else ""))
    if op == "order":
        return ", ".join(entry.get("classes", [])) + (" (ordered)" if entry.get("ordered") else "")
    if op == "split":
        return (f"test {number(entry.get('test'))}"
                + (f", val {number(entry['val'])}" if entry.get("val") else "")
                + (f", each {entry['group']} in one part" if entry.get("group") else "")
                + (f", stratified by {', '.join(entry['stratify'])}" if entry.get("stratify")
                   else "") + f", seed {entry.get('seed')}")
    if op == "persons":
        return (f"{entry.get('vectors')} within {number(entry.get('threshold'))} "
                f"({entry.get('metric')})")
    if op == "subset":
        return f"rows of {entry.get('source')}"
    return str(entry.get("embedder") or entry.get("annotator") or "")


def _vector_text(vector: VectorColumn) -> str:
    """A vector column's description; for the coordinates ``viz projection`` caches, its
    record in words (``t-SNE of pca64: perplexity 30, ...; seed 0``) rather than its JSON."""
    if not vector.is_projection:
        return vector.description
    from latentplay.embed.coordinates import TITLES

    record = json.loads(vector.description)
    params = ", ".join(f"{k} {v}" for k, v in (record.get("params") or {}).items())
    sample = "" if record.get("sample") is None else f"; a sample of {number(record['sample'])} rows"
    return (f"{TITLES.get(record['projection'], record['projection'])} of "
            f"{record.get('embedding')} (coordinates kept by viz projection): {params}{sample}; "
            f"seed {record.get('seed')}")


def _small(attr: Attribute) -> bool:
    return attr.kind != "continuous" and (attr.num_values or 0) <= MAX_LEVELS


def _kind(attr: Attribute) -> str:
    """``categorical``, ``categorical, ordered``, ``continuous`` or ``factor``."""
    return attr.kind + (", ordered" if attr.ordered else "")


def _grid(data: st.Store) -> Section | None:
    by = next((a for a in data.schema.attributes if a.kind == "categorical" and _small(a)),
              next((a for a in data.schema.attributes if _small(a)), None))
    if not data.schema.image_column or by is None:
        return None
    # drawn here, in a scratch folder: the one file outside the store the report embeds
    with tempfile.TemporaryDirectory(prefix="latentplay-report-") as tmp, reporting_on(Path(tmp)):
        png = Path(tmp) / "grid.png"
        save_store_grid(data, png, by=by.name, per_row=10)
        grid = file_figure(png, f"Random images of each value of {by.name} (n: rows with it).")
    return Section(f"Images by {by.name}", "grid", [grid])


def _tests(data: st.Store, by: str, of: str) -> str:
    """`` Chi-square ...; trend ...``: the tests of ``data bias`` on the cross-tabulation
    (nothing when a side has one value)."""
    from latentplay.errors import UserError
    from latentplay.outputs import p_text
    from latentplay.store.bias import association, trend_text

    try:
        found = association(data, by, of, bins=CROSSTAB_BINS)  # the table shown
    except UserError:
        return ""
    text = (f" Chi-square {found.chi2:.1f} on {found.dof} dof, p {p_text(found.p_value)}, "
            f"Cramér's V {found.cramers_v:.3f}")
    if found.persons_test:
        text += f"; {found.persons_test.text()}"
    if found.trend:
        text += f"; trend along {by}: {trend_text(found.trend)}"
        if found.trend.persons_test:
            text += f"; trend {found.trend.persons_test.text()}"
    return " ".join([text + ".", *found.notes])


def _crosstabs(data: st.Store) -> Section | None:
    """The first two small categorical attributes against each other, and the one with the
    fewest values against the first continuous attribute (binned): where confounds show."""
    attrs = data.schema.attributes
    small = [a for a in attrs if a.kind == "categorical" and _small(a)] or \
        [a for a in attrs if _small(a)]
    continuous = [a for a in attrs if a.kind == "continuous"]
    pairs = []
    if len(small) >= 2:
        pairs.append((small[0], small[1]))
    if small and continuous:
        pairs.append((min(small, key=lambda a: a.num_values or 0), continuous[0]))
    blocks: list[Any] = []
    for row, col in pairs:
        tab = st.crosstab(data, row.name, col.name, bins=CROSSTAB_BINS)
        left_out = len(data) - int(np.sum(tab["counts"]))
        blocks.append(Table.of([f"{row.name} \\ {col.name}", *tab["column_names"], "total"],
                               [[name, *counts, sum(counts)] for name, counts
                                in zip(tab["row_names"], tab["counts"], strict=True)],
                               f"Rows with each pair of values of {row.name} and {col.name}"
                               + (" (binned)" if col.kind == "continuous" else "")
                               + (f"; left out: {left_out:,} without a value of either."
                                  if left_out else ".")
                               + _tests(data, row.name, col.name)))
    return Section("Cross-tabulations", "crosstabs", blocks) if blocks else None
