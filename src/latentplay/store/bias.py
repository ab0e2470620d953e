"""How one attribute is distributed within the groups of another: the dataset-bias figure.

SmileCVAE found its CVAE drew "happy" faces more female-looking and traced it to its training
set: more non-smiling men than smiling men. :func:`association` measures that kind of
dependence between two attributes of a store — the share of each level of ``of`` within each
group of ``by``, a chi-square test of independence and Cramér's V (0: independent, 1: one
determines the other). Continuous attributes are cut into equal-width bins over their declared
range (two bins of smile: frown vs smile), not over the values a store happens to hold, so a
bin means the same on every store (and in the store report's tables); values that all fall
in one bin (a confidence of 0.5 to 1 over 0..1 in two bins) are refused with the bins that
would split them. The class ``unknown`` (rows with no value) is counted in
the table, so the chart shows it, but left out of every test.

When both attributes have an order (an ordered categorical such as Monk skin tones or binned
ages, a factor, a binned continuous value, or just two levels) and the table is larger than
2 x 2, :func:`linear_trend` also tests for a trend along it: the chi-square test asks whether
the groups differ at all, the trend test whether the share of the later levels rises or falls
along the groups' order — one degree of freedom, so a steady gradient across ten skin tones
shows where the chi-square test spreads it over nine. Its scores are each group's and level's
place in its attribute's order (bins in their order): a class or bin without rows between two
with rows still counts a step, and the trend names those ``gaps`` (``level_gaps`` for ``of``).

When the store's ``identity`` (or ``person``) attribute shows several photos of one person,
both tests take those photos as independent rows and their p-values come out too small; each then also gets
Rao & Scott's correction over persons (:mod:`latentplay.clustered`), and the trend's ``r``
a bootstrap interval over them. Not when ``by`` or ``of`` is that attribute: the groups are
then the persons themselves, the photos of one person independent draws of them, and the
plain tests already the right ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import chi2

from latentplay.clustered import (
    ClusteredTest,
    clustered_trend,
    pair_rate_interval,
    persons_refusal,
    rao_scott,
)
from latentplay.contingency import chi_square, sparse_reason
from latentplay.errors import UserError
from latentplay.intervals import degrees_adjusted_rows, effective_wilson
from latentplay.outputs import p_text
from latentplay.resample import cluster_sums, expanded_tail, resampled
from latentplay.store.io import Store
from latentplay.store.schema import (
    PERSON_ATTRIBUTES,
    UNKNOWN,
    Attribute,
    first_places,
    group_places,
    trend_groups,
)
from latentplay.store.summary import bin_codes, level_codes


@dataclass
class Trend:
    """The linear-by-linear association test of an ordered table (Mantel 1963; Agresti,
    *An Introduction to Categorical Data Analysis*, 2007, sec. 2.5).

    Attributes:
        r: correlation of the row and column scores over the table's ``n`` rows (+: later
            groups have later levels more often; -1..1).
        statistic: ``M2 = (n - 1) r^2``, chi-square with one degree of freedom.
        p_value: its upper tail. For a table of two columns ``n M2 / (n - 1)`` is the
            Cochran-Armitage trend statistic.
        low, high: a 95 % interval of ``r`` from a bootstrap over persons, when the rows are
            several photos of each (the p-value takes rows as independent); else None.
        persons_test: then also the test corrected for them (Rao-Scott); else None.
        steps: the ``groups`` and ``levels`` it was scored on and their ``gaps`` and
            ``level_gaps`` (classes of the order between them without rows, each a step;
            :func:`~latentplay.store.schema.trend_groups`); empty when not known.
    """

    r: float
    statistic: float
    p_value: float
    low: float | None = None
    high: float | None = None
    persons_test: ClusteredTest | None = None
    steps: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"r": self.r, "statistic": self.statistic, "p_value": self.p_value,
                "low": self.low, "high": self.high,
                "persons_test": self.persons_test.to_dict() if self.persons_test else None,
                **self.steps}


def trend_text(trend: Trend) -> str:
    """``"r -0.487, M2 474.6 (dof 1), p 3.1e-105"``, with ``r``'s interval over persons when
    there is one (the test over persons is ``trend.persons_test.text()``) and the classes
    stepped over without rows when there are any (``; no rows in monk_3, each a step``)."""
    over = ("" if trend.low is None else
            f" (95 % over persons {trend.low:+.3f} to {trend.high:+.3f})")
    gaps = [*trend.steps.get("gaps", []), *trend.steps.get("level_gaps", [])]
    return (f"r {trend.r:+.3f}{over}, M2 {trend.statistic:.1f} (dof 1), "
            f"p {p_text(trend.p_value)}" + (f"; no rows in {', '.join(gaps)}, each a step"
                                            if gaps else ""))


def linear_trend(counts: np.ndarray, row_scores: np.ndarray | None = None,
                 col_scores: np.ndarray | None = None) -> Trend:
    """Test an ``(R, C)`` table of counts whose rows and columns are both in order for a
    linear trend; scores default to equally spaced ones (``0..R-1``, ``0..C-1``)."""
    counts = np.asarray(counts, dtype=np.float64)
    u = np.arange(counts.shape[0], dtype=np.float64) if row_scores is None else row_scores
    v = np.arange(counts.shape[1], dtype=np.float64) if col_scores is None else col_scores
    n = counts.sum()
    rows, cols = counts.sum(1), counts.sum(0)
    du, dv = u - rows @ u / n, v - cols @ v / n
    spread = np.sqrt((rows @ du**2) * (cols @ dv**2))
    if spread == 0 or n < 2:
        raise UserError("a trend needs rows in at least two groups and two levels")
    r = float(du @ counts @ dv / spread)
    statistic = (n - 1) * r * r
    return Trend(r, float(statistic), float(chi2.sf(statistic, 1)))


def _has_order(attr: Attribute) -> bool:
    """Whether the levels of ``attr`` have an order of their own (bins of a continuous one)."""
    return attr.kind == "continuous" or attr.has_order


def _ordinal(attr: Attribute, levels: list[str]) -> bool:
    """Whether the present known ``levels`` of ``attr`` follow an order (any two do)."""
    return _has_order(attr) or len(levels) == 2


@dataclass
class Association:
    """Two attributes cross-tabulated.

    Attributes:
        by, of: the grouping attribute and the attribute whose distribution is compared.
        groups: ``R`` level names of ``by`` that occur; levels: ``C`` level names of ``of``
            that occur (bins for a continuous one); ``unknown`` among them when it occurs.
        counts: ``(R, C)`` int counts.
        chi2, dof, p_value: chi-square test of independence of the table without its
            ``unknown`` row and column (every test leaves them out).
        cramers_v: ``sqrt(chi2 / (n * (min(R', C') - 1)))`` over the ``n`` rows and the
            ``R' x C'`` groups and levels the test counts.
        trend: the linear trend test over the groups and levels in order when both have an
            order and the tested table is larger than 2 x 2; else None.
        persons: how many persons the rows show, when the store has an ``identity``
            attribute and some person has several rows (the tests take rows as independent,
            so their p-values are then too small, unless :attr:`person_groups`); else None.
        persons_test: then also the chi-square test corrected for them (Rao-Scott; None
            when it cannot be made, e.g. every person in one cell, or the groups are the
            persons).
        persons_refused: why there is no ``persons_test`` when the table is too large for one
            (:func:`latentplay.clustered.persons_refusal`: as many degrees of freedom as
            persons, or more than it computes), as a clause; else None.
        sparse: the share of the tested cells expected to hold fewer than 5 rows.
        min_expected: the fewest rows a tested cell expects.
        person_groups: the store's person attribute when it is ``by`` or ``of``: the groups
            are the persons themselves, and no test is corrected over them; else None.
        p_value_simulated: where the tested cells are too few for the chi-square curve to be
            more than a rough guide (Cochran's rule, :func:`latentplay.contingency.chi_square`),
            the p-value simulated with the margins fixed; else None.
        unknown: rows of ``counts`` whose group or level is ``unknown``, left out of the tests.
        design_effects: ``(R + 1,)`` design effects (at least 1) of the first level's share
            over all rows and in each group, when ``persons`` is set and :attr:`intervals`
            exist: each interval is then Wilson's at the rows over it, adjusted for the
            degrees of freedom of :attr:`bar_persons`; else None.
        bar_persons: ``(R + 1,)`` persons (rows of no known person each one) over all rows
            and in each group, beside :attr:`design_effects`; else None.
        unnamed: rows of no known person (``unknown`` identity), each a person of its own in
            the tests over persons, besides the ``persons`` named.
        of_ordered: whether the levels of ``of`` have an order of their own (binned values,
            an ordered attribute; two classes alone count as ordered for the trend test, not
            here): the chart colours them along a ramp, else in each class's own colour.
    """

    by: str
    of: str
    groups: list[str]
    levels: list[str]
    counts: np.ndarray
    chi2: float
    dof: int
    p_value: float
    cramers_v: float
    trend: Trend | None = None
    persons: int | None = None
    sparse: float = 0.0
    persons_test: ClusteredTest | None = None
    persons_refused: str | None = None
    unknown: int = 0
    design_effects: np.ndarray | None = None
    bar_persons: np.ndarray | None = None
    min_expected: float = float("inf")
    p_value_simulated: float | None = None
    person_groups: str | None = None
    unnamed: int = 0
    of_ordered: bool = True

    @property
    def clusters(self) -> int | None:
        """The persons the tests and intervals over persons count: the named ones and each
        row of no known person; None without repeated persons."""
        return None if self.persons is None else self.persons + self.unnamed

    @property
    def first_known(self) -> int | None:
        """Column of the first of the two levels of ``of`` besides ``unknown`` whose share
        :attr:`intervals` bound; None when ``of`` has another number of them."""
        known = [k for k, level in enumerate(self.levels) if level != UNKNOWN]
        return known[0] if len(known) == 2 else None

    @functools.cached_property
    def intervals(self) -> np.ndarray | None:
        """``(R + 1, 2)`` 95 % Wilson intervals of the first level's share over all rows and
        in each group, when ``of`` has two levels besides ``unknown``; else None. With
        repeated persons, each is Wilson's at the rows over its :attr:`design_effects`,
        adjusted for the degrees of freedom of its :attr:`bar_persons`
        (:func:`~latentplay.intervals.degrees_adjusted_rows`). Computed once, when first
        read (the chart and :meth:`to_dict` both show them), from the fields
        :func:`association` has set."""
        first = self.first_known
        if first is None:
            return None
        hits = [self.counts[:, first].sum(), *self.counts[:, first]]
        totals = [self.counts.sum(), *self.counts.sum(1)]
        if self.design_effects is None or self.bar_persons is None:
            return np.array([effective_wilson(h / n, n) for h, n in zip(hits, totals, strict=True)])
        return np.array([effective_wilson(h / n, degrees_adjusted_rows(n / e, n, int(k)))
                         for h, n, e, k in zip(hits, totals, self.design_effects,
                                               self.bar_persons, strict=True)])

    @property
    def test_lines(self) -> list[str]:
        """The tests as text: the chi-square line, and the trend's when there is one."""
        lines = [f"chi-square {self.chi2:.1f} (dof {self.dof}), p {p_text(self.p_value)}, "
                 f"Cramér's V {self.cramers_v:.3f}"]
        if self.persons_test:
            lines.append(f"chi-square {self.persons_test.text()}")
        if self.trend:
            lines.append(f"trend along {self.by}: {trend_text(self.trend)}")
            if self.trend.persons_test:
                lines.append(f"trend {self.trend.persons_test.text()}")
        return lines

    @property
    def notes(self) -> list[str]:
        """What limits the tests, one sentence each (rows left out as unknown, repeated
        persons, sparse cells)."""
        out = []
        if self.unknown:
            out.append(f"{self.unknown} of the {self.counts.sum()} rows have an unknown {self.by} "
                       f"or {self.of}: the chart shows them, the tests leave them out.")
        if self.person_groups:
            what = "groups" if self.person_groups == self.by else "levels compared"
            out.append(f"The {what} are the persons themselves ({self.person_groups}): the "
                       "tests compare persons, each of their photos an independent draw, so "
                       "no correction over persons (Rao-Scott) applies.")
        elif self.persons:
            one = "keep one photo each: data subset --balance-by identity --per-class 1" + (
                ", which drops the rows of no known person" if self.unnamed else "")
            corrected = (f"the tests over persons (Rao-Scott) correct them (or {one})"
                         if self.persons_test else
                         f"no chi-square test over persons is made: {self.persons_refused} "
                         f"(fewer groups or levels: data regroup, data bin; or {one})"
                         if self.persons_refused else
                         "no test over persons could be made (too few persons, a group or level "
                         "all of one person's photos in several levels of the other, or no "
                         f"spread between them): {one}")
            unnamed = ("" if not self.unnamed else
                       f" and {self.unnamed} rows of no known person, each counted as a person "
                       f"of its own ({self.clusters} in the tests over persons)")
            out.append(f"The {self.counts.sum()} rows show {self.persons} persons{unnamed}: the "
                       "plain tests take rows as independent, so their p-values are too small "
                       f"where a person's photos agree; {corrected}.")
        if self.p_value_simulated is not None:
            few = sparse_reason({"sparse": self.sparse, "min_expected": self.min_expected})
            out.append(f"{few}: the chi-square p-value is only a rough guide; simulated with the "
                       f"margins fixed it is {p_text(self.p_value_simulated)} (merge small groups, "
                       "or bin coarser).")
        return out

    @property
    def shares(self) -> np.ndarray:
        """``(R, C)`` share of each level within each group (rows sum to 1)."""
        return self.counts / self.counts.sum(1, keepdims=True)

    @property
    def overall(self) -> np.ndarray:
        """``(C,)`` share of each level over the whole store."""
        return self.counts.sum(0) / self.counts.sum()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, shares and the chart's :attr:`intervals` (all rows, then each
        group) included."""
        intervals = self.intervals
        return {"by": self.by, "of": self.of, "groups": self.groups, "levels": self.levels,
                "counts": self.counts.tolist(), "shares": self.shares.round(6).tolist(),
                "overall": self.overall.round(6).tolist(), "chi2": self.chi2, "dof": self.dof,
                "p_value": self.p_value, "cramers_v": self.cramers_v,
                "trend": self.trend.to_dict() if self.trend else None,
                "persons": self.persons, "unnamed": self.unnamed, "sparse": self.sparse,
                "min_expected": self.min_expected, "p_value_simulated": self.p_value_simulated,
                "unknown": self.unknown, "person_groups": self.person_groups,
                "persons_test": self.persons_test.to_dict() if self.persons_test else None,
                "persons_refused": self.persons_refused,
                "intervals": None if intervals is None else intervals.round(6).tolist(),
                "design_effects": (None if self.design_effects is None
                                   else self.design_effects.round(6).tolist()),
                "bar_persons": None if self.bar_persons is None else self.bar_persons.tolist()}


def association(store: Store, by: str, of: str, bins: int = 2) -> Association:
    """Cross-tabulate ``of`` within the groups of ``by`` (levels or rows that never occur are
    dropped) and test their independence, ``unknown`` groups and levels left out."""
    if by == of:
        raise UserError("--by and --of must be two different attributes")
    if bins < 2:
        raise UserError(f"--bins must be at least 2, got {bins}")
    for name in (by, of):
        if "," in name and not store.schema.has_attribute(name):
            raise UserError(f"no attribute {name!r}; for the intersections make them one "
                            f"attribute first: `latentplay data combine STORE {name}` (named "
                            f"{name.replace(',', '_')})")
    (row, row_names), (col, col_names) = (_with_unknown(store, name, bins) for name in (by, of))
    table = np.zeros((len(row_names), len(col_names)), dtype=np.int64)
    np.add.at(table, (row, col), 1)
    counts, groups, levels = _occurring(table, row_names, col_names)
    tested, kept_groups, kept_levels = _occurring(counts, groups, levels, known=True)
    if len(kept_groups) < 2 or len(kept_levels) < 2:
        hints = "".join(_one_bin_hint(store, name, bins) for name, kept in
                        ((by, kept_groups), (of, kept_levels)) if len(kept) < 2)
        if not tested.sum():
            raise UserError(f"no row has a value of both {by} and {of} (besides {UNKNOWN})")
        raise UserError(f"need at least two values of each attribute besides {UNKNOWN}, in the "
                        f"rows that have both; {by} has {len(kept_groups)}, {of} has "
                        f"{len(kept_levels)}{hints}")
    test = chi_square(tested)
    v = float(np.sqrt(test["statistic"] / (tested.sum() * (min(tested.shape) - 1))))
    persons = repeated_persons(store)
    grouped = person_attribute(store) if persons is not None else None
    grouped = grouped if grouped in (by, of) else None   # the groups are the persons
    corrected = None if grouped else persons
    found = Association(by, of, groups, levels, counts, test["statistic"], int(test["dof"]),
                        test["p_value"], v,
                        _trend(store, by, of, kept_groups, kept_levels, tested, bins, corrected),
                        None if persons is None else int(len(np.unique(persons[persons >= 0]))),
                        test["sparse"], unknown=int(counts.sum() - tested.sum()),
                        min_expected=test["min_expected"],
                        p_value_simulated=test.get("p_value_simulated"), person_groups=grouped,
                        unnamed=0 if persons is None else int((persons < 0).sum()),
                        of_ordered=_has_order(store.schema.attribute_or_error(of)))
    if corrected is not None:
        u, w = (_steps(store, name, names, bins)[2]
                for name, names in ((by, kept_groups), (of, kept_levels)))
        both = (u >= 0) & (w >= 0)
        found.persons_test = rao_scott(u[both], w[both], persons[both])
        found.persons_refused = (None if found.persons_test
                                 else persons_refusal(u[both], w[both], persons[both]))
        if found.first_known is not None:
            hits = col == col_names.index(levels[found.first_known])
            bar_of = np.full(len(row_names), -1)             # each level of ``by``'s bar, -1 none
            place = first_places(row_names)
            bar_of[[place[g] for g in groups]] = np.arange(len(groups))
            found.design_effects, found.bar_persons = bar_spread(hits, bar_of[row], len(groups), persons)
    return found


def bar_spread(hits: np.ndarray, bar: np.ndarray, bars: int, persons: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(B + 1,)`` design effects (at least 1) of the share of ``(N,)`` bool ``hits`` over all
    rows and in each of the ``B`` ``bars`` (``(N,)`` ``bar``: each row's, in ``[0, B)``, or -1
    for none), over the rows' ``(N,)`` ``persons``, and ``(B + 1,)`` the persons in each. The
    rows of each bar are found in one sort (a mask per bar took ``B x N`` bytes)."""
    order = np.argsort(bar, kind="stable")                 # each bar's rows in their order
    edges = np.searchsorted(bar[order], np.arange(bars + 1))
    parts = [np.arange(len(bar)), *(order[edges[b]:edges[b + 1]] for b in range(bars))]
    effects = [pair_rate_interval(hits[rows], persons[rows, None])[2] for rows in parts]
    return np.array(effects), np.array([len(np.unique(persons[rows])) for rows in parts])


MAX_SUGGESTED_BINS = 1000
"""The most equal-width bins :func:`_one_bin_hint` suggests; beyond, it points to ``data bin``."""


def _one_bin_hint(store: Store, name: str, bins: int) -> str:
    """Why continuous attribute ``name`` left one level in ``bins`` bins over its declared
    range, and the fewest bins above ``bins`` that split its values (a larger number may put
    them in one bin again: 5 bins of [0, 1] split 0.34 and 0.45, 6 do not); ``""`` for another
    kind."""
    attr = store.schema.attribute(name)
    values = np.asarray(store.labels(name), np.float64)
    values = values[np.isfinite(values)]
    if attr.kind != "continuous" or attr.range is None or not len(values):
        return ""          # without a declared range the bins span the values: never one
    low, high = float(values.min()), float(values.max())
    if low == high:
        return f"; every {name} is {low:.3g}"
    span = f"; {name}'s values span [{low:.3g}, {high:.3g}] of its declared range " \
           f"[{attr.range[0]:g}, {attr.range[1]:g}], inside one of {bins} equal-width bins"
    ends = np.array([low, high])
    more = next((k for k in range(bins + 1, MAX_SUGGESTED_BINS + 1)
                 if len(np.unique(bin_codes(ends, attr.range, k)[0])) == 2), None)
    cut = f"latentplay data bin STORE {name} --quantiles 2"
    return span + (f": {more} bins split them (--bins {more}), or cut it first: {cut}"
                   if more else f": cut it first: {cut}")


def _with_unknown(store: Store, name: str, bins: int) -> tuple[np.ndarray, list[str]]:
    """``(N,)`` level codes of attribute ``name`` (binned when continuous) and the level
    names, rows without a value (NaN, a missing class) given the level ``unknown`` (added
    when the attribute has none)."""
    codes, names = level_codes(store, store.schema.attribute_or_error(name), bins)
    names = list(names)
    if (codes < 0).any():
        if UNKNOWN not in names:
            names.append(UNKNOWN)
        codes = np.where(codes >= 0, codes, names.index(UNKNOWN))
    return codes, names


def _occurring(counts: np.ndarray, rows: list[str], cols: list[str],
               known: bool = False) -> tuple[np.ndarray, list[str], list[str]]:
    """The ``(R', C')`` part of an ``(R, C)`` table of ``counts`` whose rows and columns hold
    some count (and, when ``known``, are not ``unknown``), with their names."""
    r = [k for k, name in enumerate(rows) if not (known and name == UNKNOWN)]
    c = [k for k, name in enumerate(cols) if not (known and name == UNKNOWN)]
    part = counts[np.ix_(r, c)]
    r = [k for k, total in zip(r, part.sum(1), strict=True) if total > 0]
    c = [k for k, total in zip(c, part.sum(0), strict=True) if total > 0]
    return counts[np.ix_(r, c)], [rows[k] for k in r], [cols[k] for k in c]


def person_attribute(store: Store) -> str | None:
    """The store's attribute of :data:`PERSON_ATTRIBUTES` that names each row's person."""
    return next((name for name in PERSON_ATTRIBUTES if store.schema.has_attribute(name)), None)


def repeated_persons(store: Store) -> np.ndarray | None:
    """``(N,)`` person codes of the rows when the store's :func:`person_attribute` shows some
    person in several rows (a row without a person gets a negative code of its own); None
    otherwise: then the rows can be taken as independent."""
    name = person_attribute(store)
    if name is None:
        return None
    ids = own_persons(person_codes(store, name))
    return ids if len(np.unique(ids)) < len(ids) else None


def person_codes(store: Store, name: str) -> np.ndarray:
    """``(N,)`` person codes of the rows from attribute ``name``: -1 for a row whose value is
    ``unknown`` or missing (no person found), which is then nobody else's person."""
    ids = np.asarray(store.labels(name), np.int64)
    names = store.schema.attribute(name).level_names
    if UNKNOWN in names:
        ids = np.where(ids == names.index(UNKNOWN), -1, ids)
    return ids


def own_persons(ids: np.ndarray) -> np.ndarray:
    """``(N,)`` person codes with each row without a person (a negative code) made a person of
    its own (``-1 - row``)."""
    ids = np.asarray(ids)
    return np.where(ids >= 0, ids, -1 - np.arange(len(ids)))


def _trend(store: Store, by: str, of: str, groups: list[str], levels: list[str],
           counts: np.ndarray, bins: int, persons: np.ndarray | None) -> Trend | None:
    """The linear trend of the ``(R, C)`` ``counts`` of the known ``groups`` and ``levels``,
    when ``by`` and ``of`` both have an order and the table is larger than 2 x 2, scored by
    their places in their orders (:func:`_steps`); with repeated ``persons``
    (:func:`repeated_persons`), ``r``'s interval from a bootstrap over them."""
    if max(counts.shape) < 3 or not all(_ordinal(store.schema.attribute(name), names)
                                        for name, names in ((by, groups), (of, levels))):
        return None
    (row_order, u, row_u), (col_order, v, row_v) = (
        _steps(store, name, names, bins) for name, names in ((by, groups), (of, levels)))
    trend = linear_trend(counts, u.astype(np.float64), v.astype(np.float64))
    level_steps = trend_groups(col_order, v)
    trend.steps = {**trend_groups(row_order, u), "levels": level_steps["groups"],
                   "level_gaps": level_steps["gaps"]}
    if persons is None:
        return trend
    trend.low, trend.high = _person_interval(row_u, row_v, persons)
    both = (row_u >= 0) & (row_v >= 0)
    trend.persons_test = clustered_trend(row_u[both], row_v[both], persons[both], trend.statistic)
    return trend


def _steps(store: Store, name: str, kept: list[str], bins: int
           ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The order the ``kept`` known levels of attribute ``name`` (binned as the table was) step
    along — all of its levels (bins in their order), ``unknown`` left out, when it has an
    order of its own; else ``kept`` themselves (two levels, one step) — ``(K,)`` each kept
    level's place in it (a level without rows between two kept ones still counts a step), and
    ``(N,)`` each row's place, -1 for a row of no kept level."""
    attr = store.schema.attribute(name)
    codes, names = level_codes(store, attr, bins)
    order = [n for n in names if n != UNKNOWN] if _has_order(attr) else kept
    at = group_places(kept, order)
    place = first_places(kept)
    lookup = np.array([at[place[n]] if n in place else -1 for n in names] + [-1])
    return order, at, lookup[np.where(codes >= 0, codes, len(names))]


def _person_interval(u: np.ndarray, v: np.ndarray, persons: np.ndarray, n_boot: int = 1000,
                     seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the correlation of ``(N,)`` places ``u`` and ``v`` (rows
    with both) when persons are drawn with replacement, each with all of their rows: the
    expanded percentiles over few persons (:func:`~latentplay.resample.expanded_tail`)."""
    keep = (u >= 0) & (v >= 0)
    u, v = u[keep].astype(np.float64), v[keep].astype(np.float64)
    sums = cluster_sums(persons[keep], [np.ones_like(u), u, v, u * u, v * v, u * v])
    n, su, sv, suu, svv, suv = resampled(sums, n_boot, seed).T
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (n * suv - su * sv) / np.sqrt((n * suu - su * su) * (n * svv - sv * sv))
    r = r[np.isfinite(r)]
    tail = 100 * expanded_tail(len(sums))
    low, high = np.percentile(r, [tail, 100 - tail]) if len(r) else (np.nan, np.nan)
    return float(low), float(high)
