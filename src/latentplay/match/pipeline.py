"""Matching a store: read the treatment and covariates, match, and write the run directory.

Outputs in ``out``: ``pairs.csv``, ``balance.csv``, ``summary.json``, ``love_plot.png``,
``attribute_means.png``, ``propensity.png`` (when a propensity score was fitted), ``pairs.png``
(when the store has images) and ``verification.csv`` (with ``verify``).
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay import store as st
from latentplay.cliargs import MAX_COLUMNS, at_least, at_most, split_names
from latentplay.config import to_dict
from latentplay.errors import UserError
from latentplay.match import DISTANCE_LABELS, estimand, interval_kinds
from latentplay.match import balance as bal
from latentplay.match import verify as ver
from latentplay.match.core import MatchResult, match
from latentplay.match.effect import (
    matched_difference,
    matched_difference_with_replacement,
    naive_difference,
)
from latentplay.outputs import (
    finite_or_none_within,
    json_default,
    made_by,
    make_parents,
    refuse_nonempty,
    staged_outputs,
)
from latentplay.store.bias import repeated_persons
from latentplay.store.io import opened, sole_writer, store_digest
from latentplay.store.schema import UNKNOWN, class_places, joined_classes
from latentplay.store.summary import many_classes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OUTPUTS = ("pairs.csv", "balance.csv", "summary.json", "love_plot.png", "attribute_means.png")
OPTIONAL_OUTPUTS = ("propensity.png", "pairs.png", "verification.csv")
"""Written by some runs only: an --overwrite run removes an earlier run's that it does not write,
so that a folder never mixes an earlier run's figures with this one's."""
MIN_BOOTSTRAP = 100
"""Fewest resamples of a percentile interval (2.5 % of 100 is its lowest few)."""
MAX_BOOTSTRAP = 100_000
"""Most resamples: with 100,000 a 95 % percentile bound's resampling error is about 0.2 % of
the interval's width (for a normal estimate); more only cost time (100,000,000 ran for over a
quarter of an hour without a word)."""
PAIRS_PER_ROW = 4
"""Matched pairs per row of ``pairs.png``; ``--grid-pairs`` is capped at :data:`MAX_COLUMNS`
rows of them (100,000 pairs made an image of 25,000 rows, some 4 million pixels tall)."""
SET_SHOWN = 8
"""Controls drawn beside each treated face of ``pairs.png`` at ``--ratio`` above 1: the nearest
(``--ratio 500`` drew rows of 501 faces)."""


@dataclass
class MatchConfig:
    """Everything one matching run needs (saved in ``summary.json``).

    Attributes:
        treatment: binary attribute (``gender``), or an attribute and the two values to compare,
            treated first (``race=Black,White``). Without values the second class is treated.
        covariates: vector columns and/or attributes to match on (``vae_mu``, ``age_group``).
        exact: categorical attributes units must share (blocks).
        method: ``nearest``, ``mahalanobis``, ``propensity`` or ``optimal``.
        distance: space of ``optimal`` (``euclidean``, ``mahalanobis``, ``propensity``).
        order: greedy order, ``closest`` or ``random``.
        ratio: controls per treated unit.
        replace: a control may serve several treated units.
        caliper: maximal pair distance (None: no caliper), in ``caliper_units``.
        caliper_units: ``sd`` (SDs of the propensity logit, or of the distance between random
            pairs) or ``abs`` (distance units).
        second_caliper: a second caliper a pair must also pass (None: none), on the distance
            in ``second_caliper_on``: SDs of the logit for ``propensity``, else absolute
            Euclidean distance.
        second_caliper_on: ``[propensity]`` (a propensity model on the covariates; with
            ``mahalanobis`` this is MatchIt's ``mahvars``) or vector columns / attributes
            (e.g. ``[dlib]``: face-descriptor distance).
        propensity_covariates: columns of the propensity model of ``second_caliper_on:
            [propensity]`` (empty: ``covariates``).
        index: ``auto``, ``exact``, ``ivf`` or ``hnsw``.
        scale: standardize covariates (Euclidean distance).
        pca: principal components kept (None: all).
        whiten: whiten principal components.
        propensity_c: inverse L2 strength of the propensity model.
        outcome: attribute whose difference in means is estimated (None: no estimate).
        bootstrap: bootstrap resamples of the estimate's interval.
        verify: face-verification distances of matched pairs (dlib).
        verify_pairs: at most this many pairs (and as many random pairs) are verified.
        grid_pairs: pairs drawn in ``pairs.png`` (0 to 800: 200 rows of :data:`PAIRS_PER_ROW`).
        partial: allow fewer controls than treated x ratio.
        seed: seeds every random choice.
    """

    treatment: str = ""
    covariates: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)
    method: str = "nearest"
    distance: str | None = None
    order: str = "closest"
    ratio: int = 1
    replace: bool = False
    caliper: float | None = None
    caliper_units: str = "sd"
    second_caliper: float | None = None
    second_caliper_on: list[str] = field(default_factory=list)
    propensity_covariates: list[str] = field(default_factory=list)
    index: str = "auto"
    scale: bool = True
    pca: int | None = None
    whiten: bool = False
    propensity_c: float = 1.0
    outcome: str | None = None
    bootstrap: int = 1000
    verify: bool = False
    verify_pairs: int = 200
    grid_pairs: int = 16
    partial: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        """A list field given as one string (``covariates="vae_mu,age_group"``) becomes its
        comma-separated names, not its characters."""
        for name in ("covariates", "exact", "second_caliper_on", "propensity_covariates"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, split_names(value))

    def validate(self) -> None:
        if not self.treatment:
            raise UserError("--treatment is required (an attribute, or attribute=A,B)")
        if not self.covariates:
            raise UserError("--covariates is required (vector columns and/or attributes)")
        if self.bootstrap < MIN_BOOTSTRAP:   # 1 resample gave a "95% interval" of one point
            raise UserError(f"--bootstrap must be at least {MIN_BOOTSTRAP} for a 95% interval, "
                            f"got {self.bootstrap}")
        if self.bootstrap > MAX_BOOTSTRAP:   # 1e8 ran for 15+ minutes with no progress shown
            raise UserError(f"--bootstrap must be at most {MAX_BOOTSTRAP:,} (more resamples "
                            f"only take longer), got {self.bootstrap:,}")
        doubled = [c for c in dict.fromkeys(self.covariates) if self.covariates.count(c) > 1]
        if doubled:   # balance.csv listed its dimensions twice
            raise UserError(f"--covariates names {', '.join(doubled)} more than once")
        # a negative count failed in numpy's choice with a traceback, after the outputs were written
        at_least(self.grid_pairs, 0, "--grid-pairs")
        at_most(self.grid_pairs, PAIRS_PER_ROW * MAX_COLUMNS, "--grid-pairs",
                f"a figure shows at most {MAX_COLUMNS} rows of {PAIRS_PER_ROW} pairs")
        at_least(self.verify_pairs, 1, "--verify-pairs")
        if bool(self.second_caliper_on) != (self.second_caliper is not None):
            raise UserError("--second-caliper and --second-caliper-on go together; give both")
        if "propensity" in self.second_caliper_on and len(self.second_caliper_on) > 1:
            raise UserError("--second-caliper-on takes propensity or columns, not both")
        self._refuse_matching_on_the_outcome()

    def _refuse_matching_on_the_outcome(self) -> None:
        """Refuse an ``outcome`` that is also matched on: pairs made alike in it have (near)
        no difference in it, whatever the treatment does."""
        given = {"--covariates": self.covariates, "--exact": self.exact,
                 "--second-caliper-on": self.second_caliper_on,
                 "--propensity-covariates": self.propensity_covariates}
        for flag, names in given.items():
            if self.outcome is not None and self.outcome in names:
                raise UserError(f"--outcome {self.outcome!r} is also in {flag}: matching on the "
                                "outcome makes the pairs alike in it, so their difference no "
                                "longer measures the treatment; leave it out of " + flag)


@dataclass
class Treatment:
    """Which store rows are compared and which of them are treated."""

    attribute: str
    rows: np.ndarray  # (n,) store rows in either group
    treated: np.ndarray  # (n,) bool
    names: tuple[str, str]  # (treated, control) value names


def parse_treatment(store: st.Store, spec: str) -> Treatment:
    """Resolve ``attr`` or ``attr=A,B`` to the two groups of rows. With ``attr`` alone the two
    classes present are compared, the second (in the attribute's order) treated; rows without
    a value (a missing code, or the class ``unknown``) are in neither group."""
    name, given, values = spec.partition("=")
    name = name.strip()
    try:
        attr = store.schema.attribute(name)
    except KeyError:
        raise UserError(
            f"no attribute {name!r} for --treatment; attributes: "
            + ", ".join(a.name for a in store.schema.attributes)
        ) from None
    if attr.kind == "continuous":
        raise UserError(f"--treatment {name!r} is continuous; it must be a categorical attribute "
                        f"(cut it into groups with `latentplay data bin STORE {name}`)")
    labels = np.asarray(store.labels(name))
    level_names = attr.level_names
    if given:   # ``gender=`` (no values) was read as ``gender``
        chosen = joined_classes(values.split(","), level_names)   # data bin's [0.1, 0.2) holds a comma
        if len(chosen) != 2 or chosen[0] == chosen[1] or "" in chosen:
            raise UserError(f"--treatment {spec!r}: give two different values, treated first")
        codes = []
        known = [v for v in level_names if v != UNKNOWN]
        for v in chosen:
            if v not in known:
                why = ("the rows without a value are in neither group" if v == UNKNOWN
                       else f"{name!r} has no value {v!r}")
                raise UserError(f"--treatment: {why}; values: {', '.join(known)}")
            codes.append(level_names.index(v))
    else:
        present = np.unique(labels[class_places(labels, level_names) >= 0])
        if len(present) != 2:
            found = ", ".join(level_names[int(c)] for c in present[:10])
            raise UserError(
                f"--treatment {name!r} has {len(present)} value(s) in the store ({found}); "
                f"it needs exactly two, or pick two with {name}=A,B"
            )
        codes = [int(present[1]), int(present[0])]
    rows = np.flatnonzero(np.isin(labels, codes))
    treated = labels[rows] == codes[0]
    for code, is_t in ((codes[0], True), (codes[1], False)):
        if not (treated == is_t).any():
            raise UserError(f"--treatment: no rows with {name} = {level_names[code]!r}")
    return Treatment(name, rows, treated, (level_names[codes[0]], level_names[codes[1]]))


INDICATOR_CELLS = 1 << 26
"""The most indicator values (rows times classes, 512 MiB of float64) :func:`features` makes
of one categorical attribute: 16,000 persons' 80,000 photos by identity would take 10 GB."""


def features(store: st.Store, names: list[str], rows: np.ndarray, missing_ok: bool = False
             ) -> tuple[np.ndarray, list[str]]:
    """Columns ``names`` of ``rows`` as one ``(n, p)`` float64 matrix and its column names.

    Vector columns give one column per dimension (``z[3]``); continuous and factor attributes
    one column; categorical attributes and nominal factors a 0/1 indicator per class (one for
    two classes). A NaN
    (a measure without a value) is refused unless ``missing_ok`` (columns only reported), and
    so is an attribute of more indicators than :data:`INDICATOR_CELLS` allow.
    """
    blocks, out_names = [], []
    vectors = {v.name for v in store.schema.vectors}
    for name in names:
        if name in vectors:
            values = st.vectors(store, name)[rows].astype(np.float64)
            blocks.append(values)
            out_names += [f"{name}[{j}]" for j in range(values.shape[1])]
        elif store.schema.has_attribute(name):
            attr = store.schema.attribute(name)
            labels = np.asarray(store.labels(name))[rows]
            if attr.kind == "continuous":
                blocks.append(labels.astype(np.float64)[:, None])
                out_names.append(attr.name)
            elif attr.kind == "factor" and not attr.nominal:
                values = np.asarray(attr.values, np.float64)
                codes = labels.astype(np.int64)
                known = (codes >= 0) & (codes < len(values))  # -1: no value, NaN
                blocks.append(np.where(known, values[np.where(known, codes, 0)], np.nan)[:, None])
                out_names.append(attr.name)
            else:
                levels = attr.level_names
                keep = levels[1:] if len(levels) == 2 else levels
                if len(rows) * len(keep) > INDICATOR_CELLS:
                    raise UserError(f"{name!r} has {len(keep)} classes, too many to match on or "
                                    f"report one indicator each over {len(rows)} rows; match "
                                    f"exactly on it (--exact {name}) or make fewer classes "
                                    "(latentplay data regroup)")
                # a row without a class (missing code) has no indicator value: NaN, not 0
                known = (labels >= 0) & (labels < len(levels))
                for level in keep:
                    indicator = np.where(known, labels == levels.index(level), np.nan)
                    blocks.append(indicator[:, None])
                    out_names.append(f"{attr.name}={level}")
        else:
            raise UserError(
                f"no column {name!r} in the store; vector columns: "
                + (", ".join(sorted(vectors)) or "none")
                + "; attributes: " + ", ".join(a.name for a in store.schema.attributes)
            )
        if not missing_ok and not np.isfinite(blocks[-1]).all():
            bad = int((~np.isfinite(blocks[-1])).any(axis=1).sum())
            raise UserError(f"column {name!r} has NaN, infinite or missing values in {bad} row(s); "
                            "match a subset without them (latentplay data subset --where)")
    if not blocks:
        return np.zeros((len(rows), 0)), []
    return np.concatenate(blocks, axis=1), out_names


DERIVING_OPS = ("combine", "regroup", "bin")
"""History operations that make an attribute from others (``data combine``, ``regroup``, ``bin``)."""


def made_from(store: st.Store) -> dict[str, set[str]]:
    """Each attribute the store's history shows made from others -> all the attributes it was
    made from, directly or through others (the latest entry of a column counts: a column
    replaced by another operation than ``order`` no longer has sources)."""
    direct: dict[str, list[str]] = {}
    for entry in store.schema.history:
        column = entry.get("column")
        if not isinstance(column, str):
            continue
        if entry.get("op") in DERIVING_OPS:
            source = entry.get("source")
            direct[column] = [source] if isinstance(source, str) else list(source or [])
        elif entry.get("op") != "order":
            direct.pop(column, None)

    def ancestors(name: str, seen: frozenset[str]) -> set[str]:
        found = set()
        for parent in direct.get(name, []):
            if parent not in seen:
                found |= {parent} | ancestors(parent, seen | {parent})
        return found

    return {name: ancestors(name, frozenset({name})) for name in direct}


def predictions_of(store: st.Store, attribute: str) -> list[str]:
    """The store's attributes its history shows predicted for ``attribute`` by ``data predict``
    (the class or value column of a network head or annotator of that name, e.g.
    ``predicted_gender``; the latest entry of a column counts)."""
    found: dict[str, bool] = {}
    for entry in store.schema.history:
        if entry.get("op") == "predict":
            heads = [h.get("name") for h in entry.get("heads") or [] if isinstance(h, dict)]
            for column in entry.get("attributes") or []:
                found[column] = attribute in heads and str(column).endswith(attribute)
        elif isinstance(entry.get("column"), str) and entry.get("op") != "order":
            found.pop(entry["column"], None)
    return [name for name, of_it in found.items() if of_it and store.schema.has_attribute(name)]


def not_covariates(store: st.Store, treat: Treatment, names: list[str]) -> dict[str, str]:
    """The attributes among ``names`` that the store's history shows made from the treatment
    attribute, or the treatment made from (``data combine``, ``regroup``, ``bin``), and that
    determine the treatment in the compared rows (a continuous source; a categorical one each
    of whose classes present holds units of one group only), each with the reason: their
    imbalance is the treatment itself. An attribute that separates the groups without such a
    history stays a covariate (its imbalance is a finding: the groups do not overlap on it)."""
    lineage = made_from(store)
    sources = lineage.get(treat.attribute, set())
    out = {}
    for name in names:
        derived = treat.attribute in lineage.get(name, ())
        if not (derived or name in sources):
            continue
        attr = store.schema.attribute(name)
        if attr.kind != "continuous":
            places = class_places(np.asarray(store.labels(name))[treat.rows], attr.level_names)
            known = places >= 0
            if not known.any() or any(len(np.unique(treat.treated[known][places[known] == c])) > 1
                                      for c in np.unique(places[known])):
                continue  # its classes mix the groups again (regrouped): a covariate
        out[name] = f"made from {treat.attribute}" if derived else f"{treat.attribute} is made from it"
    return out


def exact_codes(store: st.Store, names: list[str], rows: np.ndarray) -> np.ndarray | None:
    """One int block code per row from the categorical/factor attributes ``names``; a row
    without a value in one of them (a missing code) is refused."""
    if not names:
        return None
    codes = np.zeros(len(rows), dtype=np.int64)
    for name in names:
        if not store.schema.has_attribute(name):
            raise UserError(f"--exact: no attribute {name!r}")
        attr = store.schema.attribute(name)
        if attr.kind == "continuous":
            raise UserError(f"--exact {name!r} is continuous; exact matching needs categories")
        labels = np.asarray(store.labels(name))[rows].astype(np.int64)
        if (labels < 0).any():
            raise UserError(f"--exact {name!r} has no value in {int((labels < 0).sum())} row(s); "
                            "match a subset without them (latentplay data subset --where)")
        codes = codes * (int(labels.max(initial=0)) + 1) + labels
    return codes


def outcome_values(store: st.Store, name: str, rows: np.ndarray) -> np.ndarray:
    """The outcome of ``rows`` as ``(n,)`` float64: a continuous attribute's values, a factor's
    level values, a categorical attribute's (or nominal factor's) class place (0, 1, ... in
    its order, ``unknown`` left out: for two classes 1 marks the second, so the difference is
    one of shares), or a 1-d vector column; NaN where a row has no value (a missing code,
    ``unknown``, NaN). An unordered categorical attribute (or nominal factor) of more than two
    classes has no mean (its codes are arbitrary) and is refused."""
    if store.schema.has_attribute(name):
        attr = store.schema.attribute(name)
        labels = np.asarray(store.labels(name))[rows]
        if attr.kind == "continuous":
            return labels.astype(np.float64)
        places = class_places(labels, attr.level_names)
        known = [v for v in attr.level_names if v != UNKNOWN]
        if attr.kind == "factor" and not attr.nominal:
            y = np.asarray(attr.values, np.float64)[np.where(places >= 0, labels, 0).astype(np.int64)]
        elif len(known) > 2 and not attr.has_order:
            raise UserError(f"--outcome {name!r} has {len(known)} unordered classes, whose "
                            "codes have no mean; give a two-class or ordered attribute "
                            "(or one 0/1 attribute per class)")
        else:
            y = places.astype(np.float64)
        return np.where(places >= 0, y, np.nan)
    if name in {v.name for v in store.schema.vectors} and store.schema.vector(name).dim == 1:
        return st.vectors(store, name)[rows, 0].astype(np.float64)
    raise UserError(f"--outcome {name!r} is not an attribute or a 1-d vector column")


def complete_rows(store: st.Store, config: MatchConfig, treat: Treatment
                  ) -> tuple[Treatment, np.ndarray | None, dict[str, int]]:
    """Leave out of ``treat`` the rows without a finite value in a vector column matched on
    (``covariates``, ``second_caliper_on``, ``propensity_covariates``: an embedding that failed
    on a photo) or without an ``outcome`` value, as ``latent probe`` leaves such rows out.

    Returns:
        The remaining treatment, their ``(n,)`` outcome (None without one) and, per column
        lacking values, how many compared rows lack them (a row may lack several).
    """
    keep = np.ones(len(treat.rows), bool)
    lacking = {}
    vectors = {v.name for v in store.schema.vectors}
    used = config.covariates + config.second_caliper_on + config.propensity_covariates
    for name in dict.fromkeys(n for n in used if n in vectors):
        finite = np.isfinite(st.vectors(store, name)[treat.rows]).all(axis=1)
        if not finite.all():
            lacking[name] = int((~finite).sum())
        keep &= finite
    y = outcome_values(store, config.outcome, treat.rows) if config.outcome else None
    if y is not None:
        finite = np.isfinite(y)
        if not finite.all():
            lacking[f"outcome {config.outcome}"] = int((~finite).sum())
        keep &= finite
    treated = treat.treated[keep]
    if treated.all() or not treated.any():
        empty = treat.names[1] if treated.all() else treat.names[0]
        raise UserError(f"no {treat.attribute} = {empty!r} row has values in "
                        + ", ".join(lacking) + "; nothing to match")
    rest = Treatment(treat.attribute, treat.rows[keep], treated, treat.names)
    return rest, (None if y is None else y[keep]), lacking


def _refuse_the_treatment(config: MatchConfig, treat: Treatment, determining: dict[str, str]) -> None:
    """Refuse matching on the treatment, or on an attribute the store's history shows made
    from it or it made from that determines it in the compared rows (``determining``: the
    store's attributes :func:`not_covariates` finds): as an ``--exact`` block it leaves each
    block one group (no pairs), as a covariate its imbalance is the treatment itself, as the
    ``--outcome`` its difference is."""
    given = {"--covariates": config.covariates, "--exact": config.exact,
             "--second-caliper-on": config.second_caliper_on,
             "--propensity-covariates": config.propensity_covariates}
    if config.outcome == treat.attribute:
        raise UserError(f"the treatment {treat.attribute!r} cannot also be the --outcome (its "
                        "difference between the groups is the groups themselves)")
    if config.outcome in determining:
        raise UserError(f"--outcome {config.outcome!r} determines the treatment "
                        f"{treat.attribute!r} in the compared rows ({determining[config.outcome]}: "
                        "data combine, regroup or bin), so its difference between the groups is "
                        "the groups themselves; give an outcome the treatment is not made from")
    for flag, names in given.items():
        if treat.attribute in (name.split("=")[0] for name in names):
            role = "an --exact block" if flag == "--exact" else f"a covariate ({flag})"
            raise UserError(f"the treatment {treat.attribute!r} cannot also be {role}")
        if found := [name for name in names if name in determining]:
            name, why = found[0], determining[found[0]]
            raise UserError(f"{flag} {name!r} determines the treatment {treat.attribute!r} in "
                            f"the compared rows ({why}: data combine, regroup or bin), so "
                            "matching on it is matching on the treatment itself; leave it out")


def run(
    store: st.Store | str | os.PathLike[str],
    config: MatchConfig,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Match in ``store`` as ``config`` says and write every output to ``out``.

    Returns:
        The summary (also ``out/summary.json``).

    Raises:
        UserError: bad input, or a caliper that left no pair (the empty outputs are written
            first).
    """
    config.validate()
    store = opened(store)
    out = Path(out)
    where = make_parents(out).absolute()   # the folder the lock is taken in
    with sole_writer(where.with_name(f".{where.name}.match"),
                     f"another match run is writing {out}; wait for it or choose another --out"):
        return _run(store, config, out, overwrite, progress)


def _run(store: st.Store, config: MatchConfig, out: Path, overwrite: bool,
         progress: Callable[[int, int], None] | None) -> dict:
    """:func:`run`'s work, its output folder's lock held (two runs into one ``--out`` both
    passed the check that it was empty and wrote one folder of mixed outputs)."""
    refuse_nonempty(out, overwrite)
    if config.verify and not store.schema.image_column:   # before the matching, not after it
        raise UserError("--verify needs a store with images")
    t0 = time.perf_counter()
    treat = parse_treatment(store, config.treatment)
    # read once: refused as matched on, left out of the balance
    determining = not_covariates(store, treat, [a.name for a in store.schema.attributes])
    _refuse_the_treatment(config, treat, determining)
    compared = len(treat.rows)
    treat, y, lacking = complete_rows(store, config, treat)
    x, x_names = features(store, config.covariates, treat.rows)
    second_on: np.ndarray | str | None = None
    if config.second_caliper_on == ["propensity"]:
        second_on = "propensity"
    elif config.second_caliper_on:
        second_on = features(store, config.second_caliper_on, treat.rows)[0]
    px = (features(store, config.propensity_covariates, treat.rows)[0]
          if config.propensity_covariates else None)
    blocks = exact_codes(store, config.exact, treat.rows)
    t_read = time.perf_counter()
    result = match(
        x, treat.treated, method=config.method, distance=config.distance, ratio=config.ratio,
        replace=config.replace, caliper=config.caliper, caliper_units=config.caliper_units,
        order=config.order, index=config.index, exact=blocks, scale=config.scale, pca=config.pca,
        whiten=config.whiten, propensity_c=config.propensity_c, seed=config.seed,
        partial=config.partial, second_on=second_on, second_caliper=config.second_caliper,
        propensity_x=px, progress=progress,
    )
    t_match = time.perf_counter()
    skip = {treat.attribute, config.outcome, *config.covariates}
    # the exact blocks and the columns of the second caliper or its propensity model: matched
    # on too, so reported with the covariates (as MatchIt reports exact, mahvars and the
    # distance formula's variables); ``propensity`` of the second caliper names no column
    used = [n for n in dict.fromkeys(config.exact + config.second_caliper_on
                                     + config.propensity_covariates)
            if n not in skip and not (n == "propensity" and config.second_caliper_on == [n])
            and not (store.schema.has_attribute(n) and many_classes(store.schema.attribute(n)))]
    v, v_names = features(store, used, treat.rows, missing_ok=True)
    skip.update(used)
    # reported, not matched on; identities (thousands of classes) are no covariate to balance,
    # nor attributes the treatment determines or is determined by (skin_tone_gender for gender)
    attrs = [a.name for a in store.schema.attributes if a.name not in skip and not many_classes(a)]
    left_out = {name: why for name, why in determining.items() if name in attrs}
    left_out.update({name: f"a prediction of {treat.attribute}"   # predicted_gender: the same
                     for name in predictions_of(store, treat.attribute) if name in attrs})
    attrs = [name for name in attrs if name not in left_out]
    a, a_names = features(store, attrs, treat.rows, missing_ok=True)
    table_x = np.concatenate([x, v, a], axis=1)
    weights = bal.matching_weights(len(treat.rows), result.treated_rows, result.control_rows)
    on = len(x_names) + len(v_names)   # the rest: attributes checked, not matched on
    table = bal.balance_table(table_x, x_names + v_names + a_names, treat.treated, weights,
                              matched_on=np.arange(table_x.shape[1]) < on)
    summary = _summary(store, config, treat, result, table, weights)
    summary["balance"]["left_out"] = left_out
    summary["balance"]["matched_on"] = bal.summarize(table[:on])
    summary["balance"]["not_matched_on"] = bal.summarize(table[on:]) if table[on:] else None
    summary["rows_left_out"] = {"rows": compared - len(treat.rows), "of": compared,
                                "lacking": lacking}
    if y is not None:
        summary["effect"] = _effect(store, config, treat, result, y, blocks)
    with staged_outputs(out, owned=OPTIONAL_OUTPUTS) as stage:   # moved in once all are written
        _write_pairs(stage / "pairs.csv", treat.rows, result)
        _write_balance(stage / "balance.csv", table)
        _figures(stage, store, treat, result, table, on, config, weights)
        if config.verify and len(result):
            summary["verification"] = _verify(stage, store, treat, result, config)
        summary["seconds"] = {"read": round(t_read - t0, 3), "match": round(t_match - t_read, 3),
                              "total": round(time.perf_counter() - t0, 3)}
        record = finite_or_none_within({**summary, "made_by": made_by()})
        (stage / "summary.json").write_text(json.dumps(record, indent=2, default=json_default,
                                                       allow_nan=False),
                                            encoding="utf-8")
    if len(result) == 0 and result.caliper is None and result.second_caliper is not None:
        raise UserError(
            f"no pairs: the second caliper ({config.second_caliper:g} on "
            f"{','.join(config.second_caliper_on)}) dropped all "
            f"{len(result.unmatched_treated)} treated units; empty outputs written to {out}. "
            "Widen --second-caliper"
        )
    if len(result) == 0:
        # in many dimensions random pairs' distances barely vary, so a caliper in their SDs is
        # far below any pair's distance (docs/matching.md): say what to do instead
        hint = ("" if result.info["distance"] == "propensity" or config.caliper_units != "sd" else
                " (or give it in distance units with --caliper-units abs: in many dimensions a"
                " caliper in SDs of the distance is far below the distance of any pair)")
        raise UserError(
            f"no pairs: the caliper ({config.caliper:g} {config.caliper_units}, "
            f"{result.caliper:.4g} in distance units) dropped all {len(result.unmatched_treated)} "
            f"treated units; empty outputs written to {out}. Widen --caliper{hint}"
            if result.caliper is not None else f"no pairs could be formed; outputs in {out}"
        )
    return summary


def _effect(store: st.Store, config: MatchConfig, treat: Treatment, result: MatchResult,
            y: np.ndarray, blocks: np.ndarray | None) -> dict:
    """The outcome's difference before and after matching (:mod:`latentplay.match.effect`).
    When the store's ``identity`` (or ``person``) shows persons in several photos, the
    intervals count the persons each estimate rests on (with replacement: Abadie & Imbens'
    variance plus the covariance of matched sets that share a person)."""
    persons = repeated_persons(store)
    persons = None if persons is None else persons[treat.rows]
    on_score = result.info.get("distance") == "propensity"
    if config.replace:
        matched = matched_difference_with_replacement(
            y, result.points, treat.treated, result.treated_rows, result.control_rows,
            blocks=blocks, persons=persons, propensity=result.propensity if on_score else None)
        intervals = "abadie-imbens" + ("" if persons is None else " over persons (sets sharing one)")
    else:
        matched = matched_difference(y, result.treated_rows, result.control_rows,
                                     n_boot=config.bootstrap, seed=config.seed, persons=persons)
        intervals = ("bootstrap" if persons is None
                     else "Student's t over persons (sets sharing one)")
    naive = naive_difference(y, treat.treated, n_boot=config.bootstrap, seed=config.seed,
                             persons=persons)
    score = matched.get("score", "known" if on_score else None)  # none with < 2 matched treated
    naive["interval"], matched["interval"] = interval_kinds(config.replace, persons is not None, score)
    matched["estimand"] = estimand(int(matched["n_treated"]), int(np.count_nonzero(treat.treated)))
    return {"outcome": config.outcome, "intervals": intervals, "naive": naive, "matched": matched}


def _summary(
    store: st.Store, config: MatchConfig, treat: Treatment, result: MatchResult, table: list[dict],
    weights: np.ndarray,
) -> dict:
    n_t = int(treat.treated.sum())
    matched_t = int(len(np.unique(result.treated_rows)))
    d = result.distance
    return {
        "store": str(store.path) if store.path else None,
        "store_digest": store_digest(store),
        "treatment": {"attribute": treat.attribute, "treated": treat.names[0],
                      "control": treat.names[1]},
        "config": to_dict(config),
        "counts": {
            "treated": n_t,
            "controls": int(len(treat.rows) - n_t),
            "pairs": int(len(result)),
            "matched_treated": matched_t,
            "unmatched_treated": int(len(result.unmatched_treated)),
            "matched_controls": int(len(np.unique(result.control_rows))),
            "controls_ess": bal.effective_sample_size(weights[~treat.treated]),
            "caliper_drops": int(result.caliper_drops),
            "second_caliper_drops": int(result.second_caliper_drops),
            # given some but fewer than --ratio controls; why in match.fewer_than_ratio
            "fewer_than_ratio": int(result.info["fewer_than_ratio"]["treated"]),
        },
        "caliper": None if result.caliper is None else {
            "value": config.caliper, "units": config.caliper_units, "distance": result.caliper},
        "second_caliper": None if result.second_caliper is None else {
            "on": config.second_caliper_on, "value": config.second_caliper,
            "units": "sd" if config.second_caliper_on == ["propensity"] else "abs",
            "distance": result.second_caliper},
        "distance": {
            "mean": float(d.mean()) if len(d) else None,
            "median": float(np.median(d)) if len(d) else None,
            "max": float(d.max()) if len(d) else None,
        },
        "balance": bal.summarize(table),
        "match": result.info,
    }


def _write_pairs(path: Path, rows: np.ndarray, result: MatchResult) -> None:
    header = ["treated_index", "control_index", "distance"]
    cols = [rows[result.treated_rows], rows[result.control_rows], result.distance]
    if result.propensity is not None:
        header += ["treated_propensity", "control_propensity"]
        cols += [result.propensity.score[result.treated_rows],
                 result.propensity.score[result.control_rows]]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for values in zip(*cols, strict=True):
            writer.writerow([int(values[0]), int(values[1])] + [f"{v:.6g}" for v in values[2:]])


def _write_balance(path: Path, table: list[dict]) -> None:
    """Write the balance ``table`` (rows of :func:`~latentplay.match.balance.balance_table`) as
    ``path``, its :data:`~latentplay.match.balance.FILE_COLUMNS` in order: ``matched_on`` 1 or
    0, numbers in 6 digits, an undefined one empty."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(bal.FILE_COLUMNS))
        writer.writeheader()
        for row in table:
            writer.writerow({k: (v if isinstance(v, str | int) else ("" if np.isnan(v) else f"{v:.6g}"))
                             for k, v in row.items()})


def means_rows(table: list[dict], n_covariate_columns: int) -> list[dict]:
    """Rows of the balance ``table`` that the attribute-means chart shows: the binary
    attributes that were not matched on, as Matching in GAN-space's figure does (a mean in degrees or L*
    units would flatten their shares; continuous ones are in the love plot and balance.csv);
    without any, up to 20 binary covariate columns, else the first 20 rows."""
    binary = [r for r in table if r["type"] == "binary"]
    return ([r for r in table[n_covariate_columns:] if r["type"] == "binary"] or binary[:20]
            or table[:20])


def group_sizes(treated: np.ndarray, weights: np.ndarray
                ) -> tuple[tuple[str, str], tuple[str, str]]:
    """How many units of each group the figures show: ``((treated, control) before, (treated,
    control) after)`` as ``"n = 120"``; after matching the matched units, with their total
    matching weight when their weights differ (controls reused with replacement, or sets of
    unequal sizes), since the means and histograms after matching count units by weight.

    Args:
        treated: ``(n,)`` bool.
        weights: ``(n,)`` matching weights (0: unmatched).
    """
    before, after = [], []
    for group in (treated, ~treated):
        w = weights[group]
        matched = w[w > 0]
        before.append(f"n = {int(group.sum())}")
        text = f"n = {len(matched)}"
        if len(matched) and np.ptp(matched) > 0:
            text += f", weighted {matched.sum():.4g}"
        after.append(text)
    return (before[0], before[1]), (after[0], after[1])


def _figures(
    out: Path, store: st.Store, treat: Treatment, result: MatchResult, table: list[dict],
    n_covariate_columns: int, config: MatchConfig, weights: np.ndarray,
) -> None:
    from latentplay.viz.balance import attribute_means, love_plot, propensity_overlap
    from latentplay.viz.grid import save_figure

    names = [r["covariate"] for r in table]
    colors = _group_colors(store, treat)   # (treated, control) as every figure draws the classes
    before = np.array([r["smd_before"] for r in table])
    after = np.array([r["smd_after"] for r in table])
    title = (f"Balance of {treat.names[0]} vs {treat.names[1]} ({config.method})\n"
             f"SMD: mean difference / SD of the {treat.names[0]} units before matching"
             + (f"\nthe matching saw the covariates through their first {config.pca} principal "
                f"components{' (whitened)' if config.whiten else ''}" if config.pca else ""))
    fig = love_plot(names, before, after, title=title,
                    matched_on=np.arange(len(table)) < n_covariate_columns)
    save_figure(fig, out / "love_plot.png", dpi=120)
    attrs = means_rows(table, n_covariate_columns)
    sizes = group_sizes(treat.treated, weights)
    fig = attribute_means(
        [r["covariate"] for r in attrs],
        (np.array([r["mean_treated_before"] for r in attrs]),
         np.array([r["mean_control_before"] for r in attrs])),
        (np.array([r["mean_treated_after"] for r in attrs]),
         np.array([r["mean_control_after"] for r in attrs])),
        groups=treat.names, sizes=sizes,
        ylabel="share (mean of 0/1)" if all(r["type"] == "binary" for r in attrs) else "mean",
        colors=colors,
    )
    save_figure(fig, out / "attribute_means.png", dpi=120)
    if result.propensity is not None:
        matched = weights[weights > 0]
        # the matching distance's model, or the second caliper's (MatchIt's mahvars)
        own = result.info["distance"] == "propensity"
        names = config.covariates if own else (config.propensity_covariates or config.covariates)
        fig = propensity_overlap(
            result.propensity.score, treat.treated, weights, groups=treat.names, sizes=sizes,
            xlabel=f"propensity score P({treat.names[0]} | {', '.join(names)})",
            weighted=bool(len(matched) and np.ptp(matched) > 0),
            title=f"Propensity score of {treat.names[0]} vs {treat.names[1]} "
                  + ("(the matching distance)" if own else "(the second caliper's model)"),
            colors=colors,
        )
        save_figure(fig, out / "propensity.png", dpi=120)
    if store.schema.image_column and len(result) and config.grid_pairs > 0:
        _pairs_figure(out, store, treat, result, config)


def _sample_pairs(result: MatchResult, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` pair numbers drawn at random, ordered by distance."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(result), size=min(n, len(result)), replace=False)
    return pick[np.argsort(result.distance[pick], kind="stable")]


def _pairs_figure(
    out: Path, store: st.Store, treat: Treatment, result: MatchResult, config: MatchConfig
) -> None:
    from latentplay.viz.grid import save_figure
    from latentplay.viz.pairs import pairs_grid

    if config.ratio > 1:
        fig = _sets_grid(store, treat, result, config)
    else:
        pick = _sample_pairs(result, config.grid_pairs, config.seed)
        img_t = st.load_images(store, treat.rows[result.treated_rows[pick]], size=64)
        img_c = st.load_images(store, treat.rows[result.control_rows[pick]], size=64)
        fig = pairs_grid(img_t, img_c, result.distance[pick], groups=treat.names, per_row=PAIRS_PER_ROW,
                         title=f"{len(pick)} random matched pairs of {len(result)}, by distance",
                         value_label=DISTANCE_LABELS[result.info["distance"]])
    save_figure(fig, out / "pairs.png", dpi=110)


def _group_colors(store: st.Store, treat: Treatment) -> tuple[Any, Any]:
    """The colours of the (treated, control) classes: those every other figure gives them
    (:func:`~latentplay.viz.projection.class_colors` over the attribute's classes)."""
    from latentplay.viz.projection import class_colors

    attr = store.schema.attribute(treat.attribute)
    known = [name for name in attr.level_names if name != UNKNOWN]
    colours = class_colors(len(known), attr.has_order, known, attr.name)
    return colours[known.index(treat.names[0])], colours[known.index(treat.names[1])]


def _sets_grid(store: st.Store, treat: Treatment, result: MatchResult, config: MatchConfig) -> Figure:
    """Matched sets of ``ratio`` controls: a row per random treated unit (about
    ``grid_pairs`` faces in all), its face first, then its controls, nearest first (at most
    :data:`SET_SHOWN`), each with its distance."""
    from latentplay.viz.grid import image_grid

    units = np.unique(result.treated_rows)
    rng = np.random.default_rng(config.seed)
    chosen = np.sort(rng.choice(units, size=min(len(units), max(1, config.grid_pairs // config.ratio)),
                                replace=False))
    sets = []   # each chosen unit's pairs, nearest first, the nearest SET_SHOWN of them
    for unit in chosen:
        members = np.flatnonzero(result.treated_rows == unit)
        sets.append(members[np.argsort(result.distance[members], kind="stable")][:SET_SHOWN])
    faces = np.concatenate([[unit, *result.control_rows[members]]
                            for unit, members in zip(chosen, sets, strict=True)])
    images = st.load_images(store, treat.rows[faces], size=64)   # every set's faces at once
    rows = np.split(images, np.cumsum([1 + len(members) for members in sets])[:-1])
    captions = [[treat.names[0], *(f"{result.distance[m]:.3g}" for m in members)] for members in sets]
    label = DISTANCE_LABELS[result.info["distance"]]
    matches = (f"its {treat.names[1]} matches" if config.ratio <= SET_SHOWN else
               f"the {SET_SHOWN} nearest of its {treat.names[1]} matches (up to {config.ratio})")
    title = (f"{len(chosen)} random matched sets of {len(units)}: a {treat.names[0]} face, then "
             f"{matches}, nearest first (under each: {label})")
    return image_grid(rows, [""] * len(rows), captions=captions, title=title)


def _verify(
    out: Path, store: st.Store, treat: Treatment, result: MatchResult, config: MatchConfig
) -> dict:
    if not store.schema.image_column:
        raise UserError("--verify needs a store with images")
    pick = _sample_pairs(result, config.verify_pairs, config.seed)
    rt, rc = treat.rows[result.treated_rows[pick]], treat.rows[result.control_rows[pick]]
    rng = np.random.default_rng(config.seed + 1)
    tr, ct = treat.rows[treat.treated], treat.rows[~treat.treated]
    xt, xc = rng.choice(tr, len(pick)), rng.choice(ct, len(pick))
    desc = ver.face_descriptors(st.load_images(store, np.concatenate([rt, rc, xt, xc]),
                                               mode="RGB"))
    m = len(pick)
    matched = ver.pair_distances(desc[:m], desc[m:2 * m])
    random = ver.pair_distances(desc[2 * m:3 * m], desc[3 * m:])
    with open(out / "verification.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["treated_index", "control_index", "face_distance"])
        for a, b, d in zip(rt, rc, matched, strict=True):
            writer.writerow([int(a), int(b), f"{d:.6g}"])
    return ver.summarize(matched, random)
