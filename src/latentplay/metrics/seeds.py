"""Models trained with several seeds on the same data: each score's mean and spread.

A seed draws the model's initial weights and batch order, nothing of the data. On the same
4,000 synthfaces a GlanceNet's leakage of skin tone beyond its concepts was 0.015, 0.147 and
0.140 over three seeds of one setting (docs/metrics.md): one seed's figure is one draw, and a
difference between two model kinds, or two settings, means something only beside that spread.
``metrics concepts --seeds 0,1,2`` (``leakage run --seeds``, ``metrics track --seeds``) trains
one model (one leakage table, one training run) per seed into ``OUT/seed_<S>/`` and
:func:`write_seed_summary` writes, beside them:

* ``seeds.json``: the seeds, the data and model settings the runs share, each seed's flag, and
  per score its value for each seed, mean, sample standard deviation (``n - 1``), lowest and
  highest;
* ``seeds.csv``: the same, a row per score;
* ``seeds.png``: the headline scores, a dot per seed and the mean with ± one SD.

A score is any number of a run's scores: ``accuracy``, ``alignment``,
``concept_scores.smile.r2``, ``leakage.background.beyond`` of a concept model's
``metrics.json``; ``dsprites glancenet.leakage`` of a leakage table's row; ``mig.discrete_mig``
of a run's last ``dis_metrics.csv`` row (counts of images, halvings or orders and the masking
percentage, the same for every seed, are not scores). A score a seed left undefined (null) is
summarised over the seeds that have it (``n``). :func:`compare_seeds` sets two such summaries
side by side (``metrics compare-seeds``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay.outputs import finite_or_none_within, made_by, write_atomic, write_csv
from latentplay.viz.plain import drawn_as_written

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SUMMARY_FILES = ("seeds.json", "seeds.csv", "seeds.png")
"""The files :func:`write_seed_summary` writes."""
SEEDS_OUTPUTS = ("seed_*", *SUMMARY_FILES)
"""What a ``--seeds`` run writes into its output folder: a folder per seed and the summary
(``owned`` by the command, :func:`latentplay.outputs.staged_outputs`: a run with one seed, or
other seeds, written over it with ``--overwrite`` removes what it does not write again)."""
NOT_SCORES = {"masking_fact", "images", "splits", "orders"}
"""Numbers of ``metrics.json`` that are settings or counts, not scores of the model."""
MAX_SEEDS = 100
"""Most seeds ``--seeds`` takes (a model is trained for each)."""
HEADLINE = ("accuracy", "alignment", "explicitness")
"""Scores ``seeds.png`` shows first; then each concept's (accuracy or R²) and each leakage's
``beyond``."""


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``; ``"0-4"`` -> ``[0, 1, 2, 3, 4]``.

    Raises:
        UserError: not seeds of 0 and up, a range ``A-B`` with B before A, fewer than two
            seeds or more than :data:`MAX_SEEDS`, or one given twice.
    """
    from latentplay.cliargs import split_names
    from latentplay.errors import UserError

    seeds: list[int] = []
    for part in split_names(text):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last) if dash else int(first)
        except ValueError:
            raise UserError(f"--seeds {text}: {part!r} is not a seed or a range of them; give "
                            "seeds of 0 and up, e.g. 0,1,2 or 0-4") from None
        if high < low:
            raise UserError(f"--seeds {text}: the range {part} runs backwards (did you mean "
                            f"{high}-{low}?)")
        if high - low + 1 + len(seeds) > MAX_SEEDS:
            raise UserError(f"--seeds {text}: at most {MAX_SEEDS} seeds (one model is trained "
                            "per seed)")
        seeds += list(range(low, high + 1))
    if len(seeds) < 2:
        raise UserError(f"--seeds {text}: give at least two seeds (one seed: --seed)")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise UserError(f"--seeds {text} names seed {twice[0]} twice")
    return seeds


def training_seeds(seed: int, seeds: str | None) -> list[int]:
    """The seeds a command trains with: ``[seed]`` (``--seed``), or :func:`seed_list` of
    ``seeds`` (``--seeds``; refused beside a ``--seed`` other than its default 0)."""
    from latentplay.errors import UserError

    if seeds is None:
        return [seed]
    if seed != 0:
        raise UserError("give --seed or --seeds, not both")
    return seed_list(seeds)


def scores_of(metrics: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float | None]]:
    """The scores of one run's metrics (``metrics.json``'s numbers, nested keys joined by dots,
    :data:`NOT_SCORES` and flags left out), None where undefined."""
    for key, value in metrics.items():
        if key in NOT_SCORES or isinstance(value, bool | str | list):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from scores_of(value, name + ".")
        elif value is None or isinstance(value, int | float):
            yield name, None if value is None else float(value)


def summarise(per_seed: Mapping[int, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{score: {"values": [one per seed or None], "n", "mean", "sd", "min", "max"}}`` over
    the runs ``per_seed`` (seed -> metrics), scores in the order the first run has them (one
    no seed has a value of left out); ``sd`` the sample standard deviation (None with one
    value)."""
    names: dict[str, None] = {}
    values = {seed: dict(scores_of(m)) for seed, m in per_seed.items()}
    for found in values.values():
        names.update(dict.fromkeys(found))
    summary = {}
    for name in names:
        column = [values[s].get(name) for s in per_seed]
        known = np.array([v for v in column if v is not None])
        if not len(known):
            continue
        summary[name] = {
            "values": column, "n": int(len(known)),
            "mean": float(known.mean()),
            "sd": float(known.std(ddof=1)) if len(known) > 1 else None,
            "min": float(known.min()),
            "max": float(known.max()),
        }
    return finite_or_none_within(summary)


def write_seed_summary(out: Path, per_seed: Mapping[int, Mapping[str, Any]],
                       shared: Mapping[str, Any], flags: Mapping[int, str],
                       shown: Callable[[Mapping[str, Mapping[str, Any]]], list[str]] | None = None
                       ) -> dict[str, dict[str, Any]]:
    """Write ``seeds.json``, ``seeds.csv`` and ``seeds.png`` of the runs ``per_seed`` (seed ->
    scores) into ``out`` (module docstring); ``shared``: what the runs have in common (the
    kind, the data record); ``flags``: each seed's caution (empty: none); ``shown``: the
    scores the figure shows (default :func:`headline`). Returns the summary."""
    from latentplay.viz.grid import save_figure

    seeds = list(per_seed)
    summary = summarise(per_seed)
    record = {"seeds": seeds, "runs": [f"seed_{s}" for s in seeds], **shared,
              "flags": [flags.get(s, "") for s in seeds], "scores": summary, "made_by": made_by()}
    write_atomic(out / "seeds.json", json.dumps(record, indent=2, allow_nan=False) + "\n")
    rows = [{"score": name, "n": s["n"], "mean": s["mean"], "sd": s["sd"], "min": s["min"],
             "max": s["max"], **{f"seed_{seed}": v for seed, v in zip(seeds, s["values"],
                                                                      strict=True)}}
            for name, s in summary.items()]
    write_csv(out / "seeds.csv", rows, floats=".6g")
    save_figure(seeds_figure(summary, seeds, (shown or headline)(summary),
                             str(shared.get("kind", ""))), out / "seeds.png")
    return summary


def headline(summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The scores :func:`seeds_figure` shows: :data:`HEADLINE`, each concept's accuracy or
    R², each leakage's ``beyond`` (those with a value)."""
    concept = [n for n in summary if n.startswith("concept_scores.")
               and n.rsplit(".", 1)[1] in ("accuracy", "r2")]
    leak = [n for n in summary if n.startswith("leakage.") and n.endswith(".beyond")]
    return [n for n in (*HEADLINE, *concept, *leak) if n in summary]


def leakage_scores(summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The scores of a leakage table :func:`seeds_figure` shows: each row's ``leakage``."""
    return [n for n in summary if n.endswith(".leakage")]


@drawn_as_written
def seeds_figure(summary: Mapping[str, Mapping[str, Any]], seeds: list[int], names: list[str],
                 kind: str = "") -> Figure:
    """A row per score of ``names``: a dot per seed (labelled by it, spread up the row),
    the mean as a bar, ± one SD as a line and, beside an accuracy, its chance as a diamond; one
    shared axis, since every one of these scores lies in [0, 1]
    or near it (an R² or a ``beyond`` can fall below 0)."""
    import matplotlib.pyplot as plt

    from latentplay.viz.style import qualitative_colors, tight_layout

    fig, ax = plt.subplots(figsize=(7.0, 0.9 + 0.42 * len(names)))
    colours = qualitative_colors(len(seeds))
    shown_chance = False
    for row, name in enumerate(names):
        s = summary[name]
        y = len(names) - 1 - row
        if s["sd"] is not None:
            ax.plot([s["mean"] - s["sd"], s["mean"] + s["sd"]], [y, y], color="0.55", lw=2.5,
                    solid_capstyle="butt", zorder=1)
        ax.plot([s["mean"]] * 2, [y - 0.3, y + 0.3], color="black", lw=1.6, zorder=2)
        chance = summary.get(_chance_of(name), {}).get("mean")
        if chance is not None:
            ax.scatter(chance, y, s=40, marker="D", facecolor="none", edgecolor="0.35", zorder=2,
                       label="chance" if not shown_chance else None)
            shown_chance = True
        for j, v in enumerate(s["values"]):   # seeds spread up the row: equal values stay seen
            if v is not None:
                ax.scatter(v, y + 0.36 * (j / max(len(seeds) - 1, 1) - 0.5), s=24,
                           color=colours[j], zorder=3,
                           label=f"seed {seeds[j]}" if row == 0 else None)
    ax.set_yticks(range(len(names)), [_label(n) for n in reversed(names)])
    low = min([0.0, *(v for n in names for v in summary[n]["values"] if v is not None)])
    ax.set_xlim(low - 0.05, 1.05)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.grid(axis="x", color="0.92")
    ax.set_xlabel("black: mean over seeds; grey: ± one SD" + ("; ◇: chance" if shown_chance else ""))
    ax.set_title(f"{kind + ': ' if kind else ''}{len(seeds)} training seeds, the same data",
                 fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    tight_layout(fig)
    return fig


def _chance_of(name: str) -> str:
    """The summary's chance beside score ``name``: ``task_chance`` beside ``accuracy``, a
    categorical concept's ``chance`` beside its ``accuracy``; ``""`` for none."""
    if name == "accuracy":
        return "task_chance"
    if name.startswith("concept_scores.") and name.endswith(".accuracy"):
        return name.removesuffix("accuracy") + "chance"
    return ""


def _label(name: str) -> str:
    """A score's row label: ``concept_scores.smile.r2`` -> ``smile R²``, ``leakage.background
    .beyond`` -> ``background leak beyond concepts``, ``accuracy`` -> ``task accuracy``,
    ``dsprites glancenet.leakage`` -> ``dsprites glancenet leakage``; a metric's score that
    names it once already, once: ``mig.discrete_mig`` -> ``discrete mig``."""
    parts = name.split(".")
    if len(parts) == 2 and parts[0].lower() in parts[1].lower():
        return parts[1].replace("_", " ")
    if parts[0] == "concept_scores":
        return f"{'.'.join(parts[1:-1])} {'R²' if parts[-1] == 'r2' else parts[-1]}"
    if parts[0] == "leakage":
        return f"{'.'.join(parts[1:-1])} leak beyond concepts"
    return "task accuracy" if name == "accuracy" else " ".join(parts).replace("_", " ")


def seeds_for_power(effect: float, power: float = 0.8, alpha: float = 0.05,
                    most: int = 10_000) -> int | None:
    """Seeds a side a two-sided two-sample t test (level ``alpha``) needs to find a
    difference of ``effect`` standard deviations (Cohen's d) with probability ``power``: the
    smallest n whose noncentral t power reaches it (d 1: 17, d 0.5: 64); None for no effect
    or beyond ``most``."""
    from scipy import stats

    if not effect:
        return None
    for n in range(2, most + 1):
        df = 2 * n - 2
        crit = stats.t.ppf(1 - alpha / 2, df)
        nc = abs(effect) * np.sqrt(n / 2)
        if stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc) >= power:
            return n
    return None


def compare_seeds(first: Mapping[str, Mapping[str, Any]], second: Mapping[str, Mapping[str, Any]],
                  level: float = 0.95) -> list[dict[str, Any]]:
    """Each score two seed summaries (``seeds.json``'s ``scores``) share: its means, the
    difference ``second - first``, Welch's ``level`` interval of it and the two-sided p-value
    of Welch's t test (the seeds of each side taken as independent draws; None where a side
    has fewer than two values or neither varies), in ``first``'s order; ``seeds_for_80`` the
    seeds a side that would find a difference of this size against this spread (the two
    sides' pooled SD) four times in five (:func:`seeds_for_power`): a planning figure, not a
    test."""
    from scipy import stats

    rows = []
    for name, a in first.items():
        b = second.get(name)
        if b is None:
            continue
        x = np.array([v for v in a["values"] if v is not None])
        y = np.array([v for v in b["values"] if v is not None])
        row: dict[str, Any] = {"score": name, "mean_first": float(x.mean()), "n_first": len(x),
                               "mean_second": float(y.mean()), "n_second": len(y),
                               "difference": float(y.mean() - x.mean()),
                               "ci_low": None, "ci_high": None, "p": None, "seeds_for_80": None}
        if len(x) > 1 and len(y) > 1 and (np.ptp(x) > 0 or np.ptp(y) > 0):
            with warnings.catch_warnings():  # a constant side: scipy's caution about its
                warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)  # zero SD
                welch = stats.ttest_ind(y, x, equal_var=False)
            interval = welch.confidence_interval(level)
            pooled = np.sqrt((x.var(ddof=1) * (len(x) - 1) + y.var(ddof=1) * (len(y) - 1))
                             / (len(x) + len(y) - 2))
            row.update(ci_low=float(interval.low), ci_high=float(interval.high),
                       p=float(welch.pvalue),
                       seeds_for_80=seeds_for_power(row["difference"] / pooled))
        rows.append(row)
    return finite_or_none_within(rows)
