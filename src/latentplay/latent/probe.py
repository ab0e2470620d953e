"""Probes: how much of each labelled attribute an embedding or latent column holds.

For one column ``z`` ``(N, D)`` and one attribute:

* **linear**: the cross-validated score of a linear model on the standardised codes —
  balanced accuracy of a class-balanced logistic regression (categorical; chance is
  ``1 / K``), R² of a ridge regression (continuous; chance is 0);
* **k-NN**: the same score of a k-nearest-neighbour model (k = 15, or the size of the
  smallest training fold when that is smaller; a tie of votes between classes goes to the
  nearer neighbours' class) on the codes as they are (the space's own
  Euclidean distances; standardising would blow up a VAE's inactive, nearly constant
  dimensions into noise): what the codes hold in any form, not only along a direction.
  Much higher than linear: the attribute is there but curved;
* **order R²** (ordered classes of more than two, such as Monk skin tones): the cross-validated
  R² of a ridge regression of each row's place in the order on the standardised codes — how
  much of the order is a direction, where balanced accuracy counts monk_4 for monk_5 as wrong
  as monk_10;
* **informativeness** ``(D,)``: the mutual information of each code dimension (20 equal-width
  bins, as MIG discretises codes) with the attribute (continuous values in 10 quantile bins),
  divided by the attribute's entropy — which axes carry it (1: the axis determines it).
  The histogram estimate is biased upwards by about ``(20 - 1)(K - 1) / (2 N)`` nats, so
  beside it stands its **chance level**: the 95th percentile, over 20 shuffles of the
  attribute, of the most informative dimension's measure; a dimension at or under it carries
  nothing measurable, and the top dimension is named only above it.

Rows with a missing label (or of the class ``unknown``) are left out of that attribute's probe,
and so are rows whose codes hold a non-finite value (a face the embedder failed on).
Folds are stratified for categorical attributes and seeded. When the rows are photos of persons
who appear in several (``groups``; :func:`probe_store` takes the store's ``identity``, or
``person``), each person's photos stay in one fold: otherwise a model scores by recognising the
person from their other photos (on 1,200 synthetic photos of 200 persons, pixel PCA: skin
tone's linear probe 0.772 over row folds, 0.495 over person folds). Every class then needs at
least as many persons as folds.

>>> p = probe(z, labels, kind="categorical")       # z: (N, D), labels: (N,) codes
>>> p.linear, p.knn, p.chance, p.informativeness
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentplay.errors import UserError
from latentplay.metrics.information import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)
from latentplay.names import name_list
from latentplay.outputs import made_by, output_dir, staged_outputs
from latentplay.store.bias import repeated_persons
from latentplay.store.columns import vectors
from latentplay.store.io import Store, opened
from latentplay.store.schema import UNKNOWN, Attribute, class_places
from latentplay.store.summary import many_classes

PathLike = str | os.PathLike[str]

KINDS = ("categorical", "continuous")
"""What ``probe`` takes labels to be: class codes, or continuous values."""

NEIGHBORS = 15
LABEL_BINS = 10  # quantile bins of a continuous attribute for the informativeness
SHUFFLES = 20  # shuffles of the attribute behind the informativeness' chance level


@dataclass(frozen=True)
class Probe:
    """What one column holds of one attribute (see the module docstring)."""

    column: str
    attribute: str
    kind: str  # categorical | continuous
    n: int  # labelled rows probed
    linear: float
    linear_std: float  # sample SD over folds
    knn: float
    knn_std: float
    chance: float
    informativeness: np.ndarray = field(repr=False)  # (D,)
    order_r2: float | None = None  # ordered classes: R² over their places
    folds: str = "rows"  # rows | persons (each person's photos in one fold)
    informativeness_chance: float = 0.0  # 95th percentile of the top one, attribute shuffled

    @property
    def top(self) -> int | None:
        """The dimension most informative of the attribute, when it is above chance."""
        top = int(np.argmax(self.informativeness))
        return top if self.informativeness[top] > self.informativeness_chance else None

    @property
    def measure(self) -> str:
        """``balanced accuracy`` or ``R²``."""
        return "balanced accuracy" if self.kind == "categorical" else "R²"

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "attribute": self.attribute, "kind": self.kind,
                "measure": self.measure, "n": self.n, "linear": self.linear,
                "linear_std": self.linear_std, "knn": self.knn, "knn_std": self.knn_std,
                "chance": self.chance, "order_r2": self.order_r2, "folds": self.folds,
                "informativeness": self.informativeness.tolist(),
                "informativeness_chance": self.informativeness_chance}


def fold_splitter(kind: str, cv: int, seed: int, groups: np.ndarray | None = None) -> Any:
    """The seeded ``cv``-fold splitter: stratified for ``categorical``; with ``groups``
    (persons) no group is split between folds."""
    if kind == "categorical":
        return (StratifiedKFold(cv, shuffle=True, random_state=seed) if groups is None
                else StratifiedGroupKFold(cv, shuffle=True, random_state=seed))
    return (KFold(cv, shuffle=True, random_state=seed) if groups is None
            else GroupKFold(cv, shuffle=True, random_state=seed))


def cv_scores(model: Any, z: np.ndarray, target: np.ndarray, kind: str, cv: int,
              seed: int, groups: np.ndarray | None = None, *, attribute: str = "attribute",
              class_names: Sequence[str] | None = None) -> np.ndarray:
    """``(cv,)`` held-out balanced accuracies (categorical; stratified folds) or R² values
    (continuous) of ``model`` on codes ``z`` ``(N, D)`` and ``target`` ``(N,)``; with ``(N,)``
    ``groups`` (persons) no group is split between folds, and every class of a categorical
    ``target`` needs ``cv`` persons. ``attribute`` and ``class_names`` (indexed by class code;
    default the codes) name what is short in a :class:`UserError`."""
    if groups is not None:
        _check_persons(target, kind, cv, groups, attribute, class_names)
    try:
        return cross_val_score(model, z, target, cv=fold_splitter(kind, cv, seed, groups), groups=groups,
                               scoring="balanced_accuracy" if kind == "categorical" else "r2",
                               error_score="raise")
    except ValueError as exc:
        reason = " ".join(str(exc).split())
        raise UserError(f"{attribute!r}: a model could not be fitted on a training fold of the "
                        f"{cv}-fold cross-validation ({reason}); use fewer folds or more "
                        "labelled rows") from None


def smallest_training_fold(z: np.ndarray, target: np.ndarray, kind: str, cv: int, seed: int,
                           groups: np.ndarray | None = None) -> int:
    """Rows in the smallest training fold of the folds :func:`cv_scores` uses on codes ``z``
    ``(N, D)``, ``target`` ``(N,)`` and ``groups`` ``(N,)``."""
    return min(len(train) for train, _ in fold_splitter(kind, cv, seed, groups).split(z, target, groups))


def _check_persons(target: np.ndarray, kind: str, cv: int, groups: np.ndarray, attribute: str,
                   class_names: Sequence[str] | None) -> None:
    """A :class:`UserError` unless ``groups`` ``(N,)`` holds ``cv`` persons, and ``cv``
    persons in every class of a categorical ``target`` ``(N,)``."""
    persons = len(np.unique(groups))
    if persons < cv:
        raise UserError(f"{attribute!r}: the labelled rows show {persons} "
                        f"person{'' if persons == 1 else 's'}, fewer than the {cv} folds "
                        "that keep each person's photos together"
                        + (f" (--cv {persons}, or leave the attribute out)" if persons >= 2 else ""))
    if kind != "categorical":
        return
    for code in np.unique(target):
        count = len(np.unique(groups[target == code]))
        if count < cv:
            name = str(int(code)) if class_names is None else class_names[int(code)]
            raise UserError(f"{attribute!r}: class {name!r} shows {count} "
                            f"person{'' if count == 1 else 's'}, fewer than the {cv} folds that "
                            "keep each person's photos together"
                            + (f" (--cv {count}, or leave the attribute out)" if count >= 2
                               else " (leave the attribute out)"))


def _labels(target: np.ndarray, kind: str) -> tuple[np.ndarray, float]:
    """``(N, 1)`` class codes of ``target`` (a continuous one in :data:`LABEL_BINS` quantile
    bins) and their entropy."""
    labels = target
    if kind == "continuous":
        edges = np.unique(np.quantile(target, np.linspace(0, 1, LABEL_BINS + 1)[1:-1]))
        labels = np.searchsorted(edges, target, side="right")
    labels = np.asarray(labels)[:, None]
    return labels, float(discrete_entropy(labels)[0])


def informativeness(z: np.ndarray, target: np.ndarray, kind: str) -> np.ndarray:
    """``(D,)`` mutual information of each binned code dimension with ``target`` over the
    target's entropy (see the module docstring)."""
    labels, entropy = _labels(target, kind)
    if entropy == 0:
        return np.zeros(z.shape[1])
    return discrete_mutual_info(histogram_discretize(z), labels)[:, 0] / entropy


def informativeness_chance(z: np.ndarray, target: np.ndarray, kind: str, seed: int = 0) -> float:
    """The chance level of :func:`informativeness`: the 95th percentile, over :data:`SHUFFLES`
    shuffles of ``target`` (seeded), of the most informative dimension's value."""
    labels, entropy = _labels(target, kind)
    if entropy == 0:
        return 0.0
    binned, rng = histogram_discretize(z), np.random.default_rng(seed)
    return float(np.percentile([discrete_mutual_info(binned, rng.permutation(labels)).max()
                                for _ in range(SHUFFLES)], 95)) / entropy


def nearer_breaks_ties(distances: np.ndarray) -> np.ndarray:
    """Vote weights of the k-NN classifier for its ``(n, k)`` neighbour ``distances``: one
    vote each, and a millionth at most more the nearer the neighbour, so that classes with as
    many votes are decided by the nearer neighbours, not by which class has the lower code
    (renaming the classes moved the score)."""
    return 1.0 + 1e-6 / (1.0 + distances)


def check_folds(cv: int) -> None:
    """Refuse fewer than 2 folds of cross-validation."""
    if cv < 2:
        raise UserError(f"cv (--cv, the cross-validation folds) must be at least 2, got {cv}")


def probe(z: np.ndarray, y: np.ndarray, kind: str, *, cv: int = 5, seed: int = 0,
          column: str = "z", attribute: str = "y", places: np.ndarray | None = None,
          groups: np.ndarray | None = None, class_names: Sequence[str] | None = None) -> Probe:
    """Probe codes ``z`` ``(N, D)`` for labels ``y`` ``(N,)`` (``kind`` ``categorical``: class
    codes, negative or NaN for missing; ``continuous``: values, NaN for missing; any other
    kind is refused); ``places`` ``(N,)`` (NaN: outside the order) adds the order R² of
    ordered classes; ``groups`` ``(N,)`` (persons) keeps each group's rows in one fold. Rows
    whose codes hold a non-finite value are left out. A :class:`UserError` when a class has
    fewer labelled rows (or, with ``groups``, persons) than the ``cv`` folds; ``class_names``
    (indexed by class code; default the codes) name it, and rows of a class named ``unknown``
    are unlabelled."""
    if kind not in KINDS:
        raise UserError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check_folds(cv)
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    groups = None if groups is None else np.asarray(groups)
    if z.ndim != 2 or y.shape != (len(z),):
        raise UserError(f"codes must be (N, D) and labels (N,); got {z.shape} and {y.shape}")
    if groups is not None and groups.shape != y.shape:
        raise UserError(f"groups must be (N,) like the labels; got {groups.shape}")
    keep = np.isfinite(y) & (y >= 0 if kind == "categorical" else True)
    if kind == "categorical" and class_names is not None and UNKNOWN in class_names:
        keep &= y != list(class_names).index(UNKNOWN)  # rows without a value
    placed = np.zeros(len(y), bool) if places is None else np.isfinite(places)
    coded = np.isfinite(z).all(axis=1)  # (N,) rows whose codes are all finite
    if keep.any() and not coded[keep].any():
        raise UserError(f"column {column!r} holds non-finite values in all {int(keep.sum())} "
                        f"labelled rows of {attribute!r}; no row is left to probe")
    keep &= coded
    placed &= coded
    all_z, all_groups = z, groups
    z, target = z[keep], y[keep]
    groups = None if groups is None else groups[keep]
    if kind == "categorical":
        target = target.astype(np.int64)
        counts = np.bincount(target)
        present = counts[counts > 0]
        if len(present) < 2:
            raise UserError(f"{attribute!r} has fewer than two classes among the labelled rows")
        if present.min() < cv:
            raise UserError(f"{attribute!r}: a class has {present.min()} labelled "
                            f"row{'' if present.min() == 1 else 's'}, fewer "
                            f"than the {cv} folds")
        linear: Any = LogisticRegression(class_weight="balanced", solver="newton-cg",
                                         max_iter=1_000)
        neighbours: Any = partial(KNeighborsClassifier, weights=nearer_breaks_ties)
        chance = 1.0 / len(present)
    else:
        if len(target) < 2 * cv or np.ptp(target) == 0:
            raise UserError(f"{attribute!r} needs at least {2 * cv} labelled rows with "
                            "differing values")
        linear, neighbours, chance = Ridge(alpha=1.0), KNeighborsRegressor, 0.0
    order_r2 = None  # (after the checks: a probe refused for too few rows scores nothing)
    if places is not None:
        order_r2 = float(cv_scores(make_pipeline(StandardScaler(), Ridge(alpha=1.0)), all_z[placed],
                                   np.asarray(places)[placed], "continuous", cv, seed,
                                   None if all_groups is None else all_groups[placed],
                                   attribute=attribute).mean())
    lin = cv_scores(make_pipeline(StandardScaler(), linear), z, target, kind, cv, seed, groups,
                    attribute=attribute, class_names=class_names)
    k = min(NEIGHBORS, smallest_training_fold(z, target, kind, cv, seed, groups))
    near = cv_scores(neighbours(k), z, target, kind, cv, seed, groups,  # the space's own distances
                     attribute=attribute)
    return Probe(column=column, attribute=attribute, kind=kind, n=len(target),
                 linear=float(lin.mean()), linear_std=float(lin.std(ddof=1)), knn=float(near.mean()),
                 knn_std=float(near.std(ddof=1)), chance=chance,
                 informativeness=informativeness(z, target, kind), order_r2=order_r2,
                 folds="rows" if groups is None else "persons",
                 informativeness_chance=informativeness_chance(z, target, kind, seed))


def probe_store(store: Store | str | os.PathLike[str], columns: str | Sequence[str],
                attributes: str | Sequence[str] = (), *, cv: int = 5, max_rows: int = 10_000,
                seed: int = 0, skipped: list[str] | None = None) -> list[Probe]:
    """One :class:`Probe` per vector column in ``columns`` and attribute in ``attributes`` (a
    single name may be a plain string) of ``store`` (default attributes: every
    categorical, factor and continuous attribute but categorical ones of more than
    :data:`~latentplay.store.summary.MAX_LISTED` classes, such as identities), on up to
    ``max_rows`` random rows; folds keep each person's photos together when the store's
    ``identity`` (or ``person``) repeats persons. A named attribute that cannot be probed
    (a class with fewer rows or persons than folds) is an error; a default one is left out,
    with the reason appended to ``skipped`` (an error when every one is left out). Rows whose
    codes in a column hold a non-finite value are left out of that column's probes, with a
    count appended to ``skipped``. ``store`` may be given by its path."""
    store = opened(store)
    columns, attributes = name_list(columns), name_list(attributes)
    if not columns:
        raise UserError("name at least one vector column to probe")
    check_folds(cv)   # before any column is read
    if max_rows < 2 * cv:
        raise UserError(f"max_rows must be at least {2 * cv} (two rows per fold), got {max_rows}")
    chosen = [store.schema.attribute_or_error(a) for a in attributes] or [
        a for a in store.schema.attributes if not many_classes(a)]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(store), size=min(max_rows, len(store)), replace=False))
    codes = {c: vectors(store, c)[rows] for c in columns}
    persons = repeated_persons(store)
    groups = None if persons is None else persons[rows]
    out: list[Probe] = []
    reasons: list[str] = []
    for attr in chosen:
        kind = "continuous" if attr.kind == "continuous" else "categorical"
        y = np.asarray(store.labels(attr.name), dtype=np.float64)[rows]
        places = _places(attr, y) if attr.ordered else None
        try:
            out += [probe(codes[c], y, kind, cv=cv, seed=seed, column=c, attribute=attr.name,
                          places=places, groups=groups, class_names=attr.level_names)
                    for c in columns]
        except UserError as error:
            if attributes:
                raise
            reasons.append(str(error))
    if reasons and not out:
        raise UserError(f"no attribute could be probed: {'; '.join(reasons)}")
    if skipped is not None:
        skipped += reasons
        for c in columns:
            bad = int((~np.isfinite(codes[c]).all(axis=1)).sum())
            if bad:
                skipped.append(f"{bad} of {len(rows)} rows probed, whose {c!r} codes hold "
                               "non-finite values")
    return out


def _places(attr: Attribute, codes: np.ndarray) -> np.ndarray | None:
    """``(N,)`` float place of each row's class in the order of ordered ``attr`` (NaN for
    ``unknown`` and missing), or None with two classes or fewer (balanced accuracy says it)."""
    if sum(name != UNKNOWN for name in attr.level_names) <= 2:
        return None
    places = class_places(np.nan_to_num(codes, nan=-1), attr.level_names).astype(np.float64)
    return np.where(places >= 0, places, np.nan)


def write_probes(probes: Sequence[Probe], out: PathLike, overwrite: bool = False,
                 info: Mapping[str, Any] | None = None) -> Path:
    """Write ``probe.json`` (``info`` — e.g. the store and the options — plus ``probes``),
    ``probe.csv``, ``probe.png`` (scores per attribute, one bar per column, chance marked) and
    ``informativeness_<column>.png`` (dimensions x attributes) into the new directory ``out``."""
    from latentplay.viz.grid import save_figure
    from latentplay.viz.probe import informativeness_heatmap, probe_bars

    out = output_dir(out, overwrite)
    with staged_outputs(out, owned=("informativeness_*.png",)) as stage:   # moved in whole
        (stage / "probe.json").write_text(json.dumps(
            {**dict(info or {}), "probes": [p.to_dict() for p in probes], "made_by": made_by()},
            indent=2), encoding="utf-8")
        fields = ["column", "attribute", "kind", "measure", "n", "linear", "linear_std", "knn",
                  "knn_std", "chance", "order_r2", "top_dimension", "top_informativeness",
                  "informativeness_chance"]
        with open(stage / "probe.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(fields)
            for p in probes:
                top = p.top
                writer.writerow([p.column, p.attribute, p.kind, p.measure, p.n]
                                + [f"{v:.6g}" for v in (p.linear, p.linear_std, p.knn, p.knn_std,
                                                         p.chance)]
                                + ["" if p.order_r2 is None else f"{p.order_r2:.6g}"]
                                + (["", ""] if top is None else [top, f"{p.informativeness[top]:.6g}"])
                                + [f"{p.informativeness_chance:.6g}"])
        attributes = list(dict.fromkeys(p.attribute for p in probes))
        columns = list(dict.fromkeys(p.column for p in probes))
        table = {(p.attribute, p.column): p for p in probes}
        measures = [table[a, columns[0]].measure for a in attributes]
        linear, knn = (np.array([[getattr(table[a, c], name) for c in columns] for a in attributes])
                       for name in ("linear", "knn"))
        chance = np.array([table[a, columns[0]].chance for a in attributes])
        save_figure(probe_bars(attributes, measures, columns, linear, knn, chance), stage / "probe.png")
        for column in columns:
            mine = [p for p in probes if p.column == column]
            save_figure(informativeness_heatmap(np.stack([p.informativeness for p in mine]),
                                                [p.attribute for p in mine], column,
                                                np.array([p.informativeness_chance for p in mine])),
                        stage / f"informativeness_{column}.png")
    return out
