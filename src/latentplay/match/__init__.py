"""Matching across an attribute: pairs of units alike in everything but the treatment.

Arrays in, arrays out:

>>> from latentplay.match import match, balance_table, matching_weights
>>> result = match(z, treated, method="propensity", caliper=0.2)      # z: (n, d), treated: (n,)
>>> w = matching_weights(len(z), result.treated_rows, result.control_rows)
>>> rows = balance_table(z, names, treated, w)                         # SMD before/after

A store in, a run directory out (``latentplay match run``):

>>> from latentplay.match import MatchConfig, run
>>> run("data/faces", MatchConfig(treatment="gender", covariates=["vae_mu"]), "runs/match")

Nearest-neighbour search never forms an n x n matrix: see :mod:`latentplay.match.knn` and
:mod:`latentplay.match.greedy`.
"""

import importlib
from typing import Any

_EXPORTS = {
    "balance_table": "balance", "matching_weights": "balance",
    "MatchResult": "core", "match": "core",
    "matched_difference": "effect", "matched_difference_with_replacement": "effect",
    "naive_difference": "effect",
    "Pairs": "greedy", "greedy_match": "greedy",
    "optimal_match": "optimal",
    "propensity_scores": "propensity",
    "MatchConfig": "pipeline", "run": "pipeline",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Names are imported on first use, so that ``latentplay match --help`` loads no library."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'latentplay.match' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"latentplay.match.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
