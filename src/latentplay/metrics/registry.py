"""Metrics registered by name, and :func:`score`, the one entry point.

Each metric module registers its *sampling wrapper* (ground truth + representation -> scores,
with disentanglement_lib's sample sizes as keyword defaults) together with its *array core*
(given rows -> scores), and a ``fast`` set of smaller sample sizes; ``"<name>_fast"`` selects
those.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.sampling import as_rng
from latentplay.rngs import EitherRandom

Scores = dict[str, float]


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    Attributes:
        name: registry name (``mig``, ``dci``, ...).
        sample: ``sample(ground_truth, represent, rng, **sizes_and_options) -> scores``.
        arrays: ``arrays(factors, codes, factors_test, codes_test, *, random_state, **options)
            -> scores``, or None when the metric must sample pairs itself (BetaVAE, FactorVAE).
        fast: overrides of ``sample``'s defaults for the ``_fast`` variant.
        aliases: other accepted names (disentanglement_lib's and GlanceNets').
        description: one line for listings.
        images: ``images(sizes) -> int``, how many observations ``sample`` renders and encodes
            with the given keyword sizes; None: one per point (``num_train`` + ``num_test``).
        split: whether the array core fits classifiers on training rows and scores them on
            test rows (SAP, DCI, explicitness); False: it scores the given rows and ignores
            test arrays (MIG, IRS).
    """

    name: str
    sample: Callable[..., Scores]
    arrays: Callable[..., Scores] | None
    fast: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""
    images: Callable[[dict[str, Any]], int] | None = None
    split: bool = True

    def defaults(self) -> dict[str, Any]:
        """Keyword defaults of the sampling wrapper (sample sizes and options)."""
        params = inspect.signature(self.sample).parameters.values()
        return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}

    def images_to_encode(self, fast: bool = False, **params: Any) -> int:
        """Observations the sampling form renders and passes to ``represent`` with its default
        sizes (disentanglement_lib's), the ``_fast`` ones when ``fast``, or ``params``."""
        sizes = {**self.defaults(), **(self.fast if fast else {}), **params}
        if self.images is not None:
            return int(self.images(sizes))
        return int(sizes.get("num_train", 0)) + int(sizes.get("num_test", 0))

    def array_options(self) -> dict[str, Any]:
        """Keyword defaults the array core accepts (besides ``random_state``)."""
        if self.arrays is None:
            return {}
        params = inspect.signature(self.arrays).parameters.values()
        return {
            p.name: p.default
            for p in params
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "random_state"
        }


REGISTRY: dict[str, Metric] = {}
_ALIASES: dict[str, str] = {}


def register(
    name: str,
    *,
    arrays: Callable[..., Scores] | None,
    fast: dict[str, Any] | None = None,
    aliases: tuple[str, ...] = (),
    description: str = "",
    images: Callable[[dict[str, Any]], int] | None = None,
    split: bool = True,
) -> Callable[[Callable[..., Scores]], Callable[..., Scores]]:
    """Decorator registering a sampling wrapper under ``name`` (and ``aliases``); ``images``
    counts the observations it encodes (:meth:`Metric.images_to_encode`); ``split``: see
    :class:`Metric`."""

    def wrap(sample: Callable[..., Scores]) -> Callable[..., Scores]:
        metric = Metric(name, sample, arrays, dict(fast or {}), tuple(aliases), description, images,
                        split)
        unknown = set(metric.fast) - set(metric.defaults())
        if unknown:
            raise TypeError(f"fast overrides {sorted(unknown)} are not parameters of {name}")
        REGISTRY[name] = metric
        for alias in (name, *aliases):
            _ALIASES[alias] = name
        return sample

    return wrap


def names() -> list[str]:
    """Registered metric names, in registration order."""
    _load_all()
    return list(REGISTRY)


def get(name: str) -> tuple[Metric, bool]:
    """The metric called ``name`` (or an alias; a ``_fast`` suffix selects the fast sizes).

    Returns:
        ``(metric, fast)``.
    """
    _load_all()
    key = name.strip().lower()
    fast = key.endswith("_fast")
    base = key[: -len("_fast")] if fast else key
    if base not in _ALIASES:
        known = ", ".join(REGISTRY)
        raise UserError(f"unknown metric {name!r}; known: {known} (add _fast for smaller samples)")
    return REGISTRY[_ALIASES[base]], fast


def score(
    name: str,
    *,
    factors: Any = None,
    codes: Any = None,
    factors_test: Any = None,
    codes_test: Any = None,
    ground_truth: Any = None,
    represent: Callable[[np.ndarray], np.ndarray] | None = None,
    random_state: int | np.random.Generator | None = 0,
    **params: Any,
) -> Scores:
    """Compute one disentanglement metric.

    Two forms:

    * arrays: ``factors`` ``(N, K)`` integer levels and ``codes`` ``(N, D)``, plus
      ``factors_test``/``codes_test`` for metrics with a test split (without them the given
      rows are split 90/10 as disentanglement_lib does on fixed data). Metrics without a test
      split ignore the test arrays. SAP with ``continuous_factors=True`` takes real-valued
      factors.
    * sampling: ``ground_truth`` (disentanglement_lib's interface, or a store with
      ``factor_<name>`` columns or its path: :func:`~latentplay.metrics.runs.ground_truth_of`) and
      ``represent`` (observations -> codes); points are drawn as disentanglement_lib draws
      them, with its sample sizes unless ``params`` override them. BetaVAE and FactorVAE
      scores exist only in this form.

    Args:
        name: a registered name or alias (``mig``, ``sap_score``, ``dci``, ...), optionally with
            ``_fast``.
        random_state: seed or Generator for sampling and for the classifiers (None: seed 0).
        params: sample sizes (sampling form) or options (e.g. ``num_bins``).

    Returns:
        ``{score name: value}`` with disentanglement_lib's keys.
    """
    metric, fast = get(name)
    if ground_truth is not None:
        if represent is None:
            raise UserError(f"{metric.name}: a ground truth needs a represent function too")
        ground_truth = _ground_truth(ground_truth)
        fixed = [k for k, n in enumerate(ground_truth.factors_num_values) if n < 2]
        if fixed:
            raise UserError(f"factor(s) {', '.join(map(str, fixed))} of the ground truth take one value "
                            "only: every factor must vary")
        allowed = metric.defaults()
        _check_params(metric.name, params, allowed)
        kwargs = {**(metric.fast if fast else {}), **params}
        # the Generator's stream, also under RandomState's names: disentanglement_lib's own
        # datasets call random_state.randint
        rng = EitherRandom(as_rng(random_state))
        return _as_floats(metric.sample(ground_truth, represent, rng, **kwargs))
    if factors is None or codes is None:
        raise UserError(f"{metric.name}: give factors and codes, or ground_truth and represent")
    if metric.arrays is None:
        raise UserError(
            f"{metric.name} samples pairs of batches with one factor held fixed, so it needs "
            "ground_truth and represent, not arrays"
        )
    _check_params(metric.name, params, metric.array_options())
    if isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(2**31 - 1))
    else:
        seed = 0 if random_state is None else random_state
    return _as_floats(metric.arrays(factors, codes, factors_test, codes_test, random_state=seed, **params))


def _ground_truth(given: Any) -> Any:
    """``given`` when it has disentanglement_lib's interface; a store's ground truth
    (:func:`~latentplay.metrics.runs.ground_truth_of`) when it is a store or its path."""
    from latentplay.store.io import Store, opened

    if isinstance(given, Store | str | os.PathLike):
        from latentplay.metrics.runs import ground_truth_of

        return ground_truth_of(opened(given))
    needed = ("num_factors", "factors_num_values", "sample_factors", "sample_observations_from_factors")
    if not all(hasattr(given, a) for a in needed):
        raise UserError(f"ground_truth {type(given).__name__} is neither a store nor an object with "
                        f"{', '.join(needed)}")
    return given


def _check_params(name: str, params: dict[str, Any], allowed: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise UserError(f"{name}: unknown parameter(s) {', '.join(unknown)}; accepted: {', '.join(allowed)}")


def _as_floats(scores: dict[str, Any]) -> Scores:
    return {k: float(v) for k, v in scores.items()}


def _load_all() -> None:
    """Import every metric module so that its registration runs."""
    from latentplay.metrics import (  # noqa: F401
        beta_vae,
        dci,
        factor_vae,
        irs,
        mig,
        modularity,
        sap,
    )
