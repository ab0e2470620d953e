"""Attribute directions in a latent space, as in InterFaceGAN (Shen et al., 2020).

The direction of an attribute is the unit normal ``n`` of a linear model fitted on latent codes:
a linear SVM (or logistic regression) separating two classes of a categorical attribute, or a
ridge regression of a continuous one. The model is fitted on the codes centred at their mean
and divided by one number, their RMS spread, but not standardised per dimension, so ``n`` is a
direction of the latent space itself and ``z + a * n`` moves a code ``a`` latent units towards
the positive class or larger values (:func:`edit`); the centring keeps the SVM's penalty on its
intercept (liblinear penalises it like a weight) from tilting the boundary of codes far from
the origin, and the one scale gives the penalty ``c`` the same meaning for codes of any overall
size (a collapsed VAE's codes of SD 0.001 were regularised to a worse boundary than the same
codes times 1,000). The
model's boundary ``n @ z + offset = 0`` gives every code a signed distance
(:meth:`Direction.project`), and :func:`edit_to` moves codes to chosen distances.
:func:`orthogonalize` is InterFaceGAN's conditional manipulation (change one attribute while
holding others fixed); :func:`cosine` measures how entangled two directions are.

The normal is the direction a classifier *reads*; it is the direction codes *move* along when
the attribute changes only if the codes are isotropic (a GAN's Gaussian prior). In a VAE's
encoded latent some dimensions vary far more than others, and the normal leans on
low-variance dimensions that the decoder hardly uses. So each direction also keeps its
activation pattern (Haufe et al., 2014, NeuroImage 87): ``Cov(z) n``, the covariance of the
codes with the boundary's score — the mean displacement of a code per unit of the score.
:func:`edit` and :func:`edit_to` move codes along the pattern by default (``along="normal"``
is InterFaceGAN's choice); the two coincide for isotropic codes.

>>> d = fit_store_direction(s, "vae_mu", "gender", positive="male")
>>> d.score                                    # held-out balanced accuracy of the boundary
>>> rows = edit(z, d, np.linspace(-3, 3, 7))   # (N, 7, D) codes
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.latent.probe import check_folds, cv_scores
from latentplay.reprs import short_repr
from latentplay.store.bias import repeated_persons
from latentplay.store.columns import vectors
from latentplay.store.io import Store, opened
from latentplay.store.schema import UNKNOWN, Attribute, class_places

METHODS: dict[str, tuple[str, ...]] = {"categorical": ("svm", "logistic"), "continuous": ("ridge",)}
"""Fitting methods allowed for each kind of attribute; the first is the default."""

WEAK_SCORE = {"categorical": 0.6, "continuous": 0.1}
"""Held-out scores (balanced accuracy, R²) below which a direction barely predicts its
attribute: moving along it changes what the codes vary most in, not that attribute."""

SPAN_TOL = 1e-3
"""A unit vector whose part outside a span is shorter than this counts as inside it."""

_FORMAT_KEY = "latentplay_direction"


@dataclass(eq=False)
class Direction:
    """A unit direction of a latent space and the boundary it is the normal of.

    Attributes:
        vector: ``(D,)`` float32 unit normal; points from ``negative`` to ``positive`` for a
            categorical attribute, towards larger values for a continuous one.
        attribute: name of the attribute.
        kind: ``categorical`` or ``continuous``.
        positive: class the vector points to (None for continuous; the last class of an
            ordered attribute fitted over its order).
        negative: class it points away from; None for continuous and for one-vs-rest, where
            the negative side is every other class (the first class of an ordered attribute
            fitted over its order).
        method: ``svm``, ``logistic`` or ``ridge``.
        offset: the boundary is ``vector @ z + offset = 0`` in the latent's own units, so
            ``vector @ z + offset`` is the signed distance of ``z`` to it. For a continuous
            attribute the boundary is where the regression predicts the mean label.
        score: mean held-out balanced accuracy (categorical) or R² (continuous) of the model
            over the cross-validation folds.
        folds: ``rows``, or ``persons`` when each person's photos were kept in one fold.
        n: number of labelled rows the model was fitted on.
        conditioned_on: labels of the directions removed by :func:`orthogonalize`.
        pattern: ``(D,)`` float32 unit activation pattern ``Cov(z) @ vector`` (normalised),
            the editing direction; :func:`orthogonalize` projects it off the others'
            patterns.
        sd: standard deviation of the fitted codes along ``vector``.
        pattern_sd: standard deviation of the fitted codes along ``pattern``.
        column: the store's vector column the codes came from (None: codes given as an array,
            or a file written before directions recorded it).
        run: resolved path of the run whose codes ``column`` holds (:func:`column_run`); None
            for a column of no run or of unknown origin.
        run_sha256: SHA-256 of that run's weights (its ``model.json``) when the direction was
            fitted; None when the run was not found there.
    """

    __repr__ = short_repr

    vector: np.ndarray
    attribute: str
    kind: str
    positive: str | None
    negative: str | None
    method: str
    offset: float
    score: float
    n: int
    conditioned_on: list[str] = field(default_factory=list)
    pattern: np.ndarray | None = None
    sd: float = 1.0
    pattern_sd: float = 1.0
    folds: str = "rows"
    column: str | None = None
    run: str | None = None
    run_sha256: str | None = None

    def __post_init__(self) -> None:
        self.vector = np.asarray(self.vector, dtype=np.float32)
        if self.vector.ndim != 1:
            raise ValueError(f"direction vector must be 1-D, got shape {self.vector.shape}")
        if not abs(float(np.linalg.norm(self.vector)) - 1.0) < 1e-3:
            raise ValueError("direction vector must have unit length")
        self.pattern = (self.vector.copy() if self.pattern is None
                        else np.asarray(self.pattern, dtype=np.float32))
        if self.pattern.shape != self.vector.shape:
            raise ValueError("pattern must have the shape of the vector")
        if not abs(float(np.linalg.norm(self.pattern)) - 1.0) < 1e-3:
            raise ValueError("pattern must have unit length")
        self.sd, self.pattern_sd = float(self.sd), float(self.pattern_sd)
        if self.method not in METHODS.get(self.kind, ()):
            raise ValueError(f"method {self.method!r} does not fit a {self.kind!r} attribute")
        self.offset, self.score, self.n = float(self.offset), float(self.score), int(self.n)
        self.conditioned_on = list(self.conditioned_on)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Direction):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    @property
    def dim(self) -> int:
        """Dimension ``D`` of the latent space."""
        return int(self.vector.shape[0])

    @property
    def label(self) -> str:
        """Short description: ``smile``, ``gender: male vs female``, ``age_group: adult vs rest``,
        ``skin_tone: monk_1 to monk_10`` (an ordered attribute over its order)."""
        if self.kind == "continuous":
            return self.attribute + (f": {self.negative} to {self.positive}" if self.positive
                                     else "")
        return f"{self.attribute}: {self.positive} vs {self.negative or 'rest'}"

    def project(self, z: np.ndarray) -> np.ndarray:
        """Signed distances ``(N,)`` float64 of codes ``z`` ``(N, D)`` to the boundary."""
        return _codes(z, self.dim) @ self.vector.astype(np.float64) + self.offset

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (the vector as a list of floats)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {_FORMAT_KEY: 1, **data, "vector": self.vector.tolist(),
                "pattern": np.asarray(self.pattern).tolist()}

    def spread_on(self, z: np.ndarray) -> Direction:
        """A copy whose ``sd`` / ``pattern_sd`` are measured on codes ``z`` ``(N, D)`` (e.g.
        after :func:`orthogonalize`, which cannot measure them)."""
        z = _codes(z, self.dim)
        centred = z - z.mean(0)
        return dataclasses.replace(
            self, sd=float((centred @ self.vector.astype(np.float64)).std(ddof=1)),
            pattern_sd=float((centred @ np.asarray(self.pattern, np.float64)).std(ddof=1)))

    @property
    def weak(self) -> bool:
        """Whether the held-out score is below :data:`WEAK_SCORE` or not a number: the
        boundary barely predicts the attribute, so an edit along it is no edit of that
        attribute."""
        return bool(not np.isfinite(self.score) or self.score < WEAK_SCORE[self.kind])

    @property
    def weak_caution(self) -> str | None:
        """One line when the direction is :attr:`weak` (its held-out score), else None."""
        if not self.weak:
            return None
        return (f"caution: direction {self.label!r} is near chance (held-out {self.score_name} "
                f"{self.score:.3f}); it barely predicts {self.attribute}, so moving along it "
                "changes what the codes vary most in, not that attribute")

    @property
    def chance(self) -> float:
        """What :attr:`score` reads for codes that know nothing of the attribute: a balanced
        accuracy of two sides 0.5, an R² 0 (the mean predicted)."""
        return 0.5 if self.kind == "categorical" else 0.0

    @property
    def score_name(self) -> str:
        """What :attr:`score` is: ``balanced accuracy`` or ``R²``."""
        return "balanced accuracy" if self.kind == "categorical" else "R²"

    def sd_along(self, along: str) -> float:
        """Standard deviation of the fitted codes along the ``pattern`` or the ``normal``: the
        unit of edits measured in SDs."""
        self.axis(along)  # checks ``along``
        return self.pattern_sd if along == "pattern" else self.sd

    def check_dim(self, dim: int) -> None:
        """A :class:`UserError` unless the direction lives in a ``dim``-dimensional latent."""
        if self.dim != dim:
            raise UserError(f"the direction has {self.dim} dimensions, the run's latent {dim}: "
                            "fit it on codes of this run")

    def check_run(self, run: str | os.PathLike[str], sha256: str | None = None) -> str | None:
        """Whether the direction can edit codes of ``run``, the run directory about to use it
        (``sha256``: the weights the codes at hand came from, when known, e.g. a column's
        :func:`column_run`; else ``run``'s ``model.json`` now).

        Returns:
            A one-line caution when the direction records only another run's path (its
            weights were not found when it was fitted) or a column of no known run (e.g.
            vectors imported from elsewhere, or a face recogniser's embeddings), else None
            (also for a file written before directions recorded their column).

        Raises:
            UserError: the direction was fitted on codes of a run whose weights differ from
                ``run``'s: a direction of one latent space means nothing in another (a copy of
                the same run, with the same weights, is accepted).
        """
        if self.run is None:
            return None if self.column is None else (
                f"caution: direction {self.label!r} was fitted on column {self.column!r}, which "
                f"holds no known run's codes; it means something here only if they are {run}'s")
        here = sha256 or run_sha256(run)
        if self.run_sha256 is not None and here is not None:
            if here != self.run_sha256:
                raise UserError(f"direction {self.label!r} was fitted on codes of run {self.run} "
                                f"(column {self.column!r}), whose weights are not those of {run}: "
                                "fit it on codes of this run")
            if other_code_space(self.run, run):
                raise UserError(f"direction {self.label!r} was fitted on {run_code_space(self.run)} "
                                f"codes of run {self.run}; {run} decodes {run_code_space(run)} codes "
                                "of the same weights: fit it on codes of this run")
            return None
        if Path(self.run) != Path(run).resolve():
            return (f"caution: direction {self.label!r} was fitted on codes of run {self.run} "
                    f"(column {self.column!r}), not of {run}; its weights could not be compared")
        return None

    def axis(self, along: str) -> np.ndarray:
        """``(D,)`` float64 unit editing axis: the ``pattern`` or the ``normal``."""
        if along not in ("pattern", "normal"):
            raise UserError(f"along must be 'pattern' or 'normal', got {along!r}")
        return np.asarray(self.pattern if along == "pattern" else self.vector, np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Direction:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or data.get(_FORMAT_KEY) != 1:
            raise UserError("not a latentplay direction (no 'latentplay_direction': 1 key)")
        fields = {k: v for k, v in data.items() if k not in (_FORMAT_KEY, "made_by")}
        try:
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            raise UserError(f"malformed latentplay direction: {exc}") from None

    def json_text(self) -> str:
        """The direction as the plain JSON :meth:`to_json` writes, with what wrote it
        (:func:`~latentplay.outputs.made_by`; read back by :meth:`from_dict` as no field)."""
        from latentplay.outputs import made_by

        return json.dumps({**self.to_dict(), "made_by": made_by()}, indent=2)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the direction to ``path`` as plain JSON (whole or not at all)."""
        from latentplay.outputs import write_atomic

        write_atomic(path, self.json_text())

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Direction:
        """Read a direction written by :meth:`to_json`."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"no direction file at {path}")
        try:
            data = parsed_json(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path} is not valid JSON: {exc}") from None
        try:
            return cls.from_dict(data)
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None


def _model_json(run: str | os.PathLike[str]) -> dict[str, Any]:
    """Run directory ``run``'s ``model.json``; ``{}`` when it is missing or unreadable."""
    try:
        meta = parsed_json((Path(run) / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def run_sha256(run: str | os.PathLike[str]) -> str | None:
    """SHA-256 of the weights of run directory ``run``, as its ``model.json`` records it; None
    when there is no readable ``model.json``."""
    found = _model_json(run).get("sha256")
    return found if isinstance(found, str) else None


def run_code_space(run: str | os.PathLike[str]) -> str | None:
    """The code space (``w`` or ``z``) an imported generator's run directory decodes, as its
    ``model.json`` says (the same weights imported in both spaces share a SHA-256); None for
    other runs and for an unreadable ``model.json``."""
    model = _model_json(run).get("model")
    space = model.get("space") if isinstance(model, dict) else None
    return space if isinstance(space, str) else None


def other_code_space(run: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    """Whether run directories ``run`` and ``other`` (weights of one SHA-256) decode different
    code spaces: imports of one generator in ``w`` and in ``z``, whose codes mean different
    things; False where either space is unknown."""
    first, second = run_code_space(run), run_code_space(other)
    return first is not None and second is not None and first != second


def column_run(store: Store, column: str) -> tuple[str | None, str | None]:
    """The run whose codes vector column ``column`` of ``store`` holds: the run of a
    ``latentplay embed --with vae:RUN`` (or ``invert:RUN``) column, or the run a store of
    samples was generated from (``latentplay data generate``, its codes column).

    Returns:
        The run's resolved path and the SHA-256 of its weights, as ``embed`` (or ``data
        generate``) recorded them when it made the column (so a run retrained since, or a
        relative path given to ``embed`` in another folder, still names the run the codes came
        from); for a column embedded before
        they were recorded, the path resolved from the current folder and the SHA-256 its
        ``model.json`` there holds now (None when it has none). ``(None, None)`` for a column
        of no run.
    """
    from latentplay.embed.column import embed_entry
    from latentplay.sources import GENERATED

    entry = embed_entry(store, column)
    prov = store.schema.provenance
    if entry is not None and entry.get("run"):
        return str(entry["run"]), entry.get("run_sha256") or run_sha256(entry["run"])
    recorded = None
    if entry is not None:
        run = (entry.get("config") or {}).get("run")
    elif prov is not None and prov.converter == GENERATED and prov.arguments.get("column") == column:
        run, recorded = prov.source, prov.arguments.get("run_sha256")
    else:
        run = None
    if not run:
        return None, None
    return str(Path(run).resolve()), recorded or run_sha256(run)


def fit_direction(
    z: np.ndarray,
    y: np.ndarray,
    *,
    kind: str,
    positive: str | int | None = None,
    negative: str | int | None = None,
    classes: list[str] | None = None,
    method: str | None = None,
    cv: int = 5,
    seed: int = 0,
    c: float = 1.0,
    attribute: str = "attribute",
    groups: np.ndarray | None = None,
) -> Direction:
    """Fit the direction of an attribute on latent codes.

    Args:
        z: ``(N, D)`` latent codes; rows holding a non-finite value (e.g. a face the embedder
            failed on) are left out, like unlabelled rows.
        y: ``(N,)`` labels: class codes (categorical) or values (continuous); NaN (and, for
            class codes, negative values) mark unlabelled rows, which are left out.
        kind: ``categorical`` or ``continuous``.
        positive: class the direction points to, by name or code (a string is a name first,
            a code only if no class has that name). Default with two classes: class 1 (or the
            one that is not ``negative``); required with more. A class named ``unknown``
            marks rows without a value: its rows are left out as unlabelled, it counts for
            no class here and cannot be ``positive`` or ``negative``.
        negative: class it points away from; None: every class but ``positive`` (one-vs-rest).
        classes: class names indexed by code (default: the codes as strings, at least 0 and 1).
        method: ``svm`` (default) or ``logistic`` for categorical, ``ridge`` for continuous.
        cv: folds of the cross-validated :attr:`Direction.score` (stratified for categorical).
        seed: shuffles the folds and seeds the SVM solver.
        c: inverse regularisation strength (``C`` of the SVM and the logistic regression;
            ridge uses ``alpha = 1 / c``).
        attribute: attribute name recorded in the direction.
        groups: ``(N,)`` person of each row: the score's folds keep each person's rows
            together (else a model scores by recognising persons from their other photos),
            and each side needs at least ``cv`` persons.
    """
    return _fit(z, y, kind, positive, negative, classes, method, cv, seed, c, attribute, groups)[0]


@dataclass
class _Fitted:
    """What a direction was fitted on: codes ``(M, D)`` float64, their targets ``(M,)`` (0/1
    or values), persons ``(M,)`` or None, and the fit's settings."""

    z: np.ndarray
    target: np.ndarray
    groups: np.ndarray | None
    method: str
    c: float
    cv: int
    seed: int


def _fit(z: np.ndarray, y: np.ndarray, kind: str, positive: str | int | None,
         negative: str | int | None, classes: list[str] | None, method: str | None, cv: int,
         seed: int, c: float, attribute: str, groups: np.ndarray | None
         ) -> tuple[Direction, _Fitted]:
    """:func:`fit_direction`'s direction and what it was fitted on."""
    method = _method(kind, method)
    if not 0 < c < math.inf:  # NaN failed in scikit-learn; inf fitted without regularisation
        raise UserError(f"regularisation c must be a finite number above 0, got {c}")
    check_folds(cv)
    z = _codes(z)
    y = np.asarray(y)
    if y.shape != (len(z),):
        raise UserError(f"labels must have shape ({len(z)},) to match the codes, got {y.shape}")
    sides: tuple[str, str] | None = None
    if kind == "categorical":
        keep, target, pos, neg = _binary_target(y, positive, negative, classes, attribute)
        sides = (neg or "rest", pos)
    else:
        if positive is not None or negative is not None:
            raise UserError(f"{attribute!r} is continuous; positive/negative classes only apply "
                            "to categorical attributes")
        keep, target, pos, neg = *_continuous_target(y), None, None
    coded = np.isfinite(z).all(axis=1)  # (N,) rows whose codes are all finite
    if keep.any() and not coded[keep].any():
        raise UserError(f"the codes of all {int(keep.sum())} labelled rows of {attribute!r} hold "
                        "non-finite values; no row is left to fit")
    target = target[coded[keep]]
    keep &= coded
    if sides is not None:
        _check_classes(target, sides, cv)
    else:
        _check_values(target, cv, attribute)
    z = z[keep]
    groups = None if groups is None else np.asarray(groups)[keep]
    score = float(cv_scores(_model(method, c, seed), z, target, kind, cv, seed, groups,
                            attribute=attribute, class_names=sides).mean())
    vector, offset = _boundary(_model(method, c, seed).fit(z, target), target, kind, attribute)
    found = Direction(vector=vector, attribute=attribute, kind=kind, positive=pos, negative=neg,
                      method=method, offset=offset, score=score, n=len(target),
                      pattern=_pattern(z, vector), folds="rows" if groups is None else "persons")
    return found.spread_on(z), _Fitted(z, target, groups, method, c, cv, seed)


def held_score(found: Direction, fitted: _Fitted, others: Sequence[Direction]) -> float:
    """Mean held-out score of ``found`` held off ``others`` (:func:`orthogonalize`), in the folds
    its own score was measured in: each training fold's boundary is fitted again, held off the
    others and scored on the fold held out — balanced accuracy of the side of the held boundary
    each code lies on, or R² of a line fitted on the training fold from the held direction's
    signed distances to the attribute."""
    from sklearn.metrics import balanced_accuracy_score, r2_score

    from latentplay.latent.probe import fold_splitter

    z, target, kind = fitted.z, fitted.target, found.kind
    scores = []
    for train, test in fold_splitter(kind, fitted.cv, fitted.seed, fitted.groups).split(
            z, target, fitted.groups):
        model = _model(fitted.method, fitted.c, fitted.seed).fit(z[train], target[train])
        vector, offset = _boundary(model, target[train], kind, found.attribute)
        fold = dataclasses.replace(found, vector=vector, offset=offset, pattern=None)
        held = orthogonalize(fold, *others)
        if kind == "categorical":
            scores.append(balanced_accuracy_score(target[test], held.project(z[test]) > 0))
        else:
            slope, intercept = np.polyfit(held.project(z[train]), target[train], 1)
            scores.append(r2_score(target[test], slope * held.project(z[test]) + intercept))
    return float(np.mean(scores))


def _pattern(z: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Unit activation pattern ``Cov(z) @ normal`` ``(D,)`` of ``(N, D)`` codes (the normal
    itself when the codes do not vary along it)."""
    centred = z - z.mean(0)
    pattern = centred.T @ (centred @ normal)
    norm = float(np.linalg.norm(pattern))
    return normal if norm == 0 else pattern / norm


def fit_store_direction(
    store: Store | str | os.PathLike[str],
    column: str | np.ndarray,
    attribute: str,
    *,
    positive: str | int | None = None,
    negative: str | int | None = None,
    method: str | None = None,
    cv: int = 5,
    seed: int = 0,
    c: float = 1.0,
) -> Direction:
    """Fit the direction of ``attribute`` on vector column ``column`` of ``store`` (or on an
    ``(N, D)`` array of codes of its rows, e.g. a run's encoder means).

    The kind and class names come from the store's schema; classes may be given by name or
    code (a string is a class name first, a code only if no class has that name). A ``factor``
    attribute (ground truth of synthetic data) is continuous over its level values, and an
    ordered categorical one of more than two classes (Monk skin tones, age groups) over its
    classes' places in the order (0, 1, ...; ``unknown`` left out), unless ``positive`` or
    ``negative`` is given: then both are categorical over their classes. See
    :func:`fit_direction` for the other arguments; ``store`` may be given by its path. When the
    store's ``identity`` (or ``person``) shows persons in several rows, the score's folds keep
    each person's rows together.
    """
    return _fit_store(opened(store), column, attribute, positive=positive, negative=negative,
                      method=method, cv=cv, seed=seed, c=c)[0]


def fit_held_direction(store: Store, column: str | np.ndarray, attribute: str,
                       others: Sequence[Direction], **options: Any) -> tuple[Direction, Direction]:
    """The direction of :func:`fit_store_direction` (``options``: its keyword arguments) and
    that direction held off ``others`` (:func:`orthogonalize`), its ``sd`` and ``pattern_sd``
    measured on the codes it was fitted on, as the unheld direction's are, and its ``score``
    that of the held direction in the same folds (:func:`held_score`; no ``others``: the
    direction twice)."""
    found, fitted = _fit_store(store, column, attribute, **options)
    if not others:
        return found, found
    held = orthogonalize(found, *others).spread_on(fitted.z)
    return found, dataclasses.replace(held, score=held_score(found, fitted, others))


def _fit_store(store: Store, column: str | np.ndarray, attribute: str, *,
               positive: str | int | None = None, negative: str | int | None = None,
               method: str | None = None, cv: int = 5, seed: int = 0, c: float = 1.0
               ) -> tuple[Direction, _Fitted]:
    """:func:`fit_store_direction`'s direction, recording ``column`` and its run
    (:func:`column_run`) when it is a column's name, and what it was fitted on."""
    attr = store.schema.attribute_or_error(attribute)
    z = vectors(store, column) if isinstance(column, str) else column
    labels = store.labels(attribute)
    groups = repeated_persons(store)
    chosen = positive is not None or negative is not None
    along_order = attr.ordered and not chosen and len(_order(attr)) > 2
    categorical = (attr.kind == "categorical" and not along_order) or (
        attr.kind == "factor" and (chosen or attr.nominal))
    kind = "categorical" if categorical else "continuous"
    if along_order:
        found, fitted = _fit(z, _order_positions(attr, labels), "continuous", None, None, None,
                             method, cv, seed, c, attr.name, groups)
        ends = [attr.level_names[k] for k in _order(attr)]
        found = dataclasses.replace(found, negative=ends[0], positive=ends[-1])
    else:
        y = labels if categorical or attr.kind == "continuous" else _factor_values(attr, labels)
        found, fitted = _fit(z, y, kind, positive, negative,
                             attr.level_names if categorical else None, method, cv, seed, c,
                             attr.name, groups)
    if isinstance(column, str):
        run, sha = column_run(store, column)
        found = dataclasses.replace(found, column=column, run=run, run_sha256=sha)
    return found, fitted


def orthogonalize(primary: Direction, *others: Direction) -> Direction:
    """Conditional direction: ``primary`` without its components along ``others``.

    The normal loses its components along the others' normals (InterFaceGAN: editing along
    it leaves their boundary distances unchanged); the pattern loses its components along the
    others' patterns (editing along it does not move codes the way the others' attributes
    move them — in an anisotropic latent the boundary distances are read off dimensions the
    decoder hardly uses, so holding them fixed does not hold the attribute in the image).
    Each set is orthonormalised first (Gram–Schmidt), so pass every direction to hold fixed
    in one call. Where the pattern left over does not move codes towards the positive side of
    the new boundary (in an anisotropic latent it can point away: a step of +a would lower
    the attribute) or nothing is left of it, the pattern becomes the new normal. The new
    boundary passes through the point of the primary boundary nearest
    the origin; ``score``, ``n``, ``sd`` and ``pattern_sd`` stay those of the primary fit
    (measure the last two again with :meth:`Direction.spread_on`, the score with
    :func:`fit_held_direction`, which scores the held direction in the primary's folds).

    Raises:
        UserError: no others, a dimension mismatch, or ``primary`` (nearly) inside their span.
    """
    if not others:
        raise UserError("orthogonalize needs at least one direction to condition on")
    for other in others:
        _check_dims(primary, other)
    basis = _orthonormal_basis([o.vector for o in others])
    v = primary.vector.astype(np.float64)
    residual = v - basis.T @ (basis @ v)
    norm = float(np.linalg.norm(residual))
    labels = [o.label for o in others]
    if norm < SPAN_TOL:
        raise UserError(f"direction {primary.label!r} lies (nearly) inside the span of "
                        f"{', '.join(map(repr, labels))}; nothing is left after removing them")
    unit = residual / norm
    pattern_basis = _orthonormal_basis([np.asarray(o.pattern) for o in others])
    pattern = np.asarray(primary.pattern, np.float64)
    pattern = pattern - pattern_basis.T @ (pattern_basis @ pattern)
    pattern_norm = float(np.linalg.norm(pattern))
    if pattern_norm < SPAN_TOL or float(pattern @ unit) < SPAN_TOL * pattern_norm:
        pattern = unit  # no pattern left that moves codes towards the positive side
    else:
        pattern = pattern / pattern_norm
    return dataclasses.replace(primary, vector=unit.astype(np.float32),
                               offset=primary.offset * float(unit @ v), conditioned_on=labels,
                               pattern=pattern.astype(np.float32))


def edit(z: np.ndarray, direction: Direction, alphas: np.ndarray | list[float],
         along: str = "pattern") -> np.ndarray:
    """Codes moved along the direction: ``(N, A, D)`` float32 ``z[:, None] + alphas[None, :,
    None] * axis``, ``axis`` the unit pattern (default) or normal (:meth:`Direction.axis`).

    Args:
        z: ``(N, D)`` start codes.
        direction: the direction.
        alphas: ``(A,)`` steps in latent units (negative: towards the negative side).
        along: ``pattern`` or ``normal``.
    """
    z = _codes(z, direction.dim)
    row = _row_of("alphas", alphas)
    return _shift(z, direction.axis(along), np.broadcast_to(row, (len(z), len(row))))


def edit_to(z: np.ndarray, direction: Direction, distances: np.ndarray | list[float],
            along: str = "pattern") -> np.ndarray:
    """Codes moved along the pattern (or normal) until their signed distances equal
    ``distances``.

    Args:
        z: ``(N, D)`` start codes.
        direction: the direction and its boundary.
        distances: ``(A,)`` target signed distances (see :meth:`Direction.project`).
        along: ``pattern`` or ``normal``.

    Returns:
        ``(N, A, D)`` float32; ``direction.project(out[:, j])`` is ``distances[j]`` for every row.
    """
    z = _codes(z, direction.dim)
    axis = direction.axis(along)
    rate = float(axis @ direction.vector.astype(np.float64))  # distance gained per unit step
    if abs(rate) < SPAN_TOL:
        raise UserError(f"the {along} of {direction.label!r} is (nearly) parallel to its "
                        "boundary; moving along it does not change the distance")
    steps = (_row_of("distances", distances)[None, :] - direction.project(z)[:, None]) / rate
    return _shift(z, axis, steps)


def cosine(a: Direction, b: Direction) -> float:
    """Cosine of the angle between two directions (1: the same, 0: unrelated edits)."""
    _check_dims(a, b)
    u, v = a.vector.astype(np.float64), b.vector.astype(np.float64)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def _method(kind: str, method: str | None) -> str:
    """The fitting method, checked against ``kind`` (None: the kind's default)."""
    if kind not in METHODS:
        raise UserError(f"kind must be one of {', '.join(METHODS)}, got {kind!r}")
    allowed = METHODS[kind]
    if method is None:
        return allowed[0]
    if method not in allowed:
        raise UserError(f"method {method!r} does not fit a {kind} attribute; use one of "
                        f"{', '.join(allowed)}")
    return method


def _codes(z: np.ndarray, dim: int | None = None) -> np.ndarray:
    """Latent codes as ``(N, D)`` float64, checked against ``dim``."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2:
        raise UserError(f"latent codes must be an (N, D) array, got shape {z.shape}")
    if dim is not None and z.shape[1] != dim:
        raise UserError(f"latent codes have {z.shape[1]} dimensions but the direction has {dim}")
    return z


def _row_of(name: str, values: np.ndarray | list[float]) -> np.ndarray:
    """``(A,)`` float64 of a scalar or 1-D ``values``."""
    row = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if row.ndim != 1:
        raise UserError(f"{name} must be a 1-D list of numbers, got shape {row.shape}")
    return row


def _shift(z: np.ndarray, axis: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``(N, A, D)`` float32 codes ``z[:, None] + steps[..., None] * axis`` of ``(N, A)``
    steps along the unit ``(D,)`` axis."""
    return (z[:, None, :] + steps[:, :, None] * axis).astype(np.float32)


def class_rows(store: Store, attribute: str, value: str | int | None = None) -> np.ndarray:
    """``(N,)`` bool: the rows of ``store`` whose categorical ``attribute`` is class ``value``
    (a name, or a code; not ``unknown``), or with ``None`` every row of a known class."""
    attr = store.schema.attribute_or_error(attribute)
    if attr.kind != "categorical":
        raise UserError(f"{attribute!r} is {attr.kind}; classes are chosen of a categorical attribute")
    codes, names = _class_codes(store.labels(attribute), attr.level_names, attribute)
    return np.isfinite(codes) if value is None else codes == _class_code(value, names, attribute)


def ordered_values(store: Store, attribute: str) -> np.ndarray:
    """``(N,)`` float64 values of an attribute that has an order: a continuous attribute's
    values, a factor's level values, an ordered categorical attribute's class places (0, 1,
    ...; ``unknown`` left out); NaN where unlabelled. A :class:`UserError` for an unordered
    categorical attribute or a nominal factor."""
    attr = store.schema.attribute_or_error(attribute)
    labels = store.labels(attribute)
    if attr.kind == "continuous":
        return np.asarray(labels, dtype=np.float64)
    if not attr.has_order:
        what = "a nominal factor" if attr.kind == "factor" else "an unordered categorical attribute"
        raise UserError(f"{attribute!r} is {what}; choose a class of it")
    if attr.kind == "factor":
        return _factor_values(attr, labels)
    return _order_positions(attr, labels)


def _class_codes(y: np.ndarray, classes: list[str] | None, attribute: str) -> tuple[np.ndarray, list[str]]:
    """``(N,)`` float64 class codes (NaN: unlabelled, which rows of class ``unknown`` are too)
    and the class names they index."""
    try:
        codes = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"labels of {attribute!r} must be integer class codes") from None
    codes = np.where(codes < 0, np.nan, codes)
    labelled = codes[np.isfinite(codes)]
    if (labelled != np.round(labelled)).any():
        raise UserError(f"labels of {attribute!r} must be integer class codes, not fractions")
    top = int(labelled.max()) if len(labelled) else -1
    names = list(classes) if classes is not None else [str(k) for k in range(max(top + 1, 2))]
    if top >= len(names):
        raise UserError(f"label code {top} of {attribute!r} has no name; classes: {', '.join(names)}")
    if UNKNOWN in names:
        codes = np.where(codes == names.index(UNKNOWN), np.nan, codes)
    return codes, names


def _class_code(value: str | int, names: list[str], attribute: str) -> int:
    """Code of class ``value`` given by name or code (an int or a string of digits); a
    :class:`UserError` for ``unknown``, which marks rows without a value."""
    if isinstance(value, str) and value in names:
        code = names.index(value)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        code = int(value)
    elif isinstance(value, str) and value.isdigit():
        code = int(value)
    else:
        code = -1
    if not 0 <= code < len(names):
        raise UserError(f"{attribute!r} has no class {value!r}; classes: {', '.join(names)}")
    if names[code] == UNKNOWN:
        known = ", ".join(name for name in names if name != UNKNOWN)
        raise UserError(f"{UNKNOWN!r} marks rows without a value of {attribute!r}, not a class; "
                        f"choose one of: {known}")
    return code


def _binary_target(
    y: np.ndarray,
    positive: str | int | None,
    negative: str | int | None,
    classes: list[str] | None,
    attribute: str,
) -> tuple[np.ndarray, np.ndarray, str, str | None]:
    """Rows used ``(N,)`` bool, their 0/1 targets ``(M,)``, the positive and negative names;
    rows of class ``unknown`` are on neither side."""
    codes, names = _class_codes(y, classes, attribute)
    pos = None if positive is None else _class_code(positive, names, attribute)
    neg = None if negative is None else _class_code(negative, names, attribute)
    known = [k for k, name in enumerate(names) if name != UNKNOWN]
    present = [names[k] for k in known if (codes == k).any()]
    if len(present) < 2:
        found = f"one class ({present[0]})" if present else "no class"
        raise UserError(f"{attribute!r} has {found} among its labelled rows; a direction "
                        "separates two classes: choose another attribute, or rows that show both "
                        "(for a generator whose samples read as one class: real faces' codes, "
                        "latentplay embed STORE --with invert:RUN)")
    if len(known) == 2 and pos is None:
        pos = known[1] if neg is None else sum(known) - neg
    if pos is None:
        raise UserError(f"{attribute!r} has {len(known)} classes "
                        f"({', '.join(names[k] for k in known)}); say which one is positive")
    if len(known) == 2 and neg is None:
        neg = sum(known) - pos
    if pos == neg:
        raise UserError(f"positive and negative are the same class {names[pos]!r}")
    keep = np.isfinite(codes) if neg is None else (codes == pos) | (codes == neg)
    target = (codes[keep] == pos).astype(np.int64)
    return keep, target, names[pos], None if neg is None else names[neg]


def _check_classes(target: np.ndarray, names: tuple[str, str], cv: int) -> None:
    """Both sides of 0/1 ``target`` have at least ``cv`` rows."""
    for code, name in enumerate(names):
        count = int((target == code).sum())
        if count < cv:
            side = (f"class {name!r}" if name != "rest"
                    else f"the rest (classes other than {names[1]!r})")
            raise UserError(f"{side} has {count} labelled rows; {cv}-fold "
                            f"cross-validation needs at least {cv}")


def _continuous_target(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a finite value ``(N,)`` bool and their values ``(M,)`` float64."""
    try:
        values = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError("continuous labels must be numbers") from None
    keep = np.isfinite(values)
    return keep, values[keep]


def _check_values(target: np.ndarray, cv: int, attribute: str) -> None:
    """Enough rows for ``cv`` folds and a target that varies."""
    if len(target) < 2 * cv:
        raise UserError(f"{attribute!r} has {len(target)} labelled rows; {cv}-fold "
                        f"cross-validation needs at least {2 * cv}")
    if np.ptp(target) == 0:
        raise UserError(f"{attribute!r} has the same value on every labelled row")


def _order(attr: Attribute) -> list[int]:
    """Codes of the classes of ordered ``attr`` that take part in the order."""
    return [k for k, name in enumerate(attr.level_names) if name != UNKNOWN]


def _order_positions(attr: Attribute, codes: np.ndarray) -> np.ndarray:
    """``(N,)`` float64 place of each row's class in the order of ``attr`` (NaN: unknown or
    missing)."""
    places = class_places(codes, attr.level_names).astype(np.float64)
    return np.where(places >= 0, places, np.nan)


def _factor_values(attr: Attribute, codes: np.ndarray) -> np.ndarray:
    """``(N,)`` float64 value of each row's level of factor ``attr``."""
    return np.asarray(attr.values, dtype=np.float64)[np.asarray(codes, dtype=np.int64)]


class _Centred(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Codes centred at their mean (``mean_``, ``(D,)``) and divided by one number, their RMS
    spread about it (``scale_``; 1 for codes that do not vary): the same factor for every
    dimension, so a linear model's normal stays a direction of the codes' own space."""

    def fit(self, z: np.ndarray, y: Any = None) -> _Centred:
        z = np.asarray(z, np.float64)
        self.mean_ = z.mean(0)
        spread = float(np.sqrt(np.mean((z - self.mean_) ** 2))) if len(z) else 0.0
        self.scale_ = spread if spread > 0 else 1.0
        return self

    def transform(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, np.float64) - self.mean_) / self.scale_


def _model(method: str, c: float, seed: int) -> Pipeline:
    """Unfitted linear model (balanced class weights for the classifiers) on codes centred at
    the mean of the rows it is fitted on and divided by their RMS spread (:class:`_Centred`)."""
    model: LinearSVC | LogisticRegression | Ridge
    if method == "svm":
        model = LinearSVC(C=c, class_weight="balanced", max_iter=20_000, random_state=seed)
    elif method == "logistic":
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5_000)
    else:
        model = Ridge(alpha=1.0 / c)
    return make_pipeline(_Centred(), model)


def _boundary(fitted: Pipeline, target: np.ndarray, kind: str, attribute: str
              ) -> tuple[np.ndarray, float]:
    """Unit normal ``(D,)`` and offset, in the uncentred codes, of the boundary of a model
    fitted by :func:`_model` (continuous: its mean level)."""
    mean, model = fitted[0].mean_, fitted[-1]
    w = np.ravel(model.coef_).astype(np.float64) / fitted[0].scale_
    b = float(np.ravel(model.intercept_)[0]) - float(w @ mean)
    if kind == "continuous":
        b -= float(target.mean())
    norm = float(np.linalg.norm(w))
    if norm == 0:
        raise UserError(f"the model of {attribute!r} has all-zero weights; the codes do not "
                        "predict it linearly")
    return w / norm, b / norm


def _orthonormal_basis(vecs: list[np.ndarray]) -> np.ndarray:
    """``(K, D)`` float64 orthonormal basis of the span of ``vecs`` (Gram–Schmidt; vectors
    already (nearly) in the span of earlier ones are skipped)."""
    basis: list[np.ndarray] = []
    for vec in vecs:
        v = vec.astype(np.float64) / np.linalg.norm(vec)
        for b in basis:
            v = v - (b @ v) * b
        if np.linalg.norm(v) >= SPAN_TOL:
            basis.append(v / np.linalg.norm(v))
    return np.array(basis)


def _check_dims(a: Direction, b: Direction) -> None:
    if a.dim != b.dim:
        raise UserError(f"directions {a.label!r} ({a.dim}-D) and {b.label!r} ({b.dim}-D) live "
                        "in different latent spaces")
