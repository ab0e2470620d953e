"""The report of a probe directory (``latentplay latent probe``): per attribute the linear and
k-NN scores of every column against chance, the bar chart and each column's heatmap of
informativeness per dimension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.report.files import read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Facts, Page, Section, Table, number


def page(run: Path) -> Page:
    """The report page of probe output directory ``run``."""
    summary = read_json(run / "probe.json")
    probes = summary.get("probes")
    if not isinstance(probes, list) or not all(
            isinstance(p, dict) and {"column", "attribute", "linear"} <= p.keys() for p in probes):
        raise UserError(f"{run / 'probe.json'} is not the output of `latentplay latent probe`")
    columns = list(dict.fromkeys(p["column"] for p in probes))
    # every other field read with .get: a file written before it had one shows "—" there
    rows = [[p["attribute"], p.get("measure"), p["column"], p.get("n"), p["linear"],
             p.get("linear_std"), p.get("knn"), p.get("knn_std"), p.get("chance"), _top(p),
             p.get("order_r2")] for p in probes]
    blocks: list[Any] = [Table.of(
        ["attribute", "score", "column", "rows", "linear", "sd", "k-NN", "sd", "chance",
         "top dimension (informativeness)", "order R²"], rows,
        "Held-out scores over the folds: a linear model on the standardised codes, a 15-NN "
        "model on the codes as they are; for classes with an order, the R² of a ridge "
        "regression of the class's place; informativeness is the mutual information of one "
        "dimension with the attribute over the attribute's entropy, its top dimension named "
        "only above chance (the 95th percentile of the top dimension's over shuffles of the "
        "attribute).")]
    if (run / "probe.png").exists():
        blocks.append(file_figure(run / "probe.png", "Bars: linear probe; rings: k-NN probe; "
                                  "grey ticks: chance."))
    facts = Facts([("store", str(summary.get("data", "—"))),
                   ("folds", number(summary.get("cv")) + (
                       ", each person's photos in one" if any(
                           p.get("folds") == "persons" for p in probes)
                       else "")), ("rows at most",
                                                           number(summary.get("max_rows"))),
                   ("seed", number(summary.get("seed")))])
    sections = [Section("Probes", "probes", [facts, *blocks])]
    for column in columns:
        path = run / f"informativeness_{column}.png"
        if path.exists():
            sections.append(Section(f"Dimensions of {column}", f"dims-{column}", [file_figure(
                path, "Informativeness of each dimension for each attribute.")]))
    return Page("probe run", f"Probes of {', '.join(columns)}", str(run), sections)


def _top(p: dict[str, Any]) -> str:
    values = p.get("informativeness") or []
    if not values:
        return "—"
    top = max(range(len(values)), key=values.__getitem__)
    chance = p.get("informativeness_chance")   # None: written before it was measured
    if chance is not None and values[top] <= chance:
        return f"none above chance ({chance:.2f})"
    return f"{top} ({values[top]:.2f})"
