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

from latentplay.match.balance import balance_table, matching_weights
from latentplay.match.core import MatchResult, match
from latentplay.match.effect import (
    matched_difference,
    matched_difference_with_replacement,
    naive_difference,
)
from latentplay.match.greedy import Pairs, greedy_match
from latentplay.match.optimal import optimal_match
from latentplay.match.propensity import propensity_scores
from latentplay.match.run import MatchConfig, run

__all__ = [
    "MatchConfig", "MatchResult", "Pairs", "balance_table", "greedy_match", "match",
    "matched_difference", "matched_difference_with_replacement", "matching_weights",
    "naive_difference", "optimal_match", "propensity_scores", "run",
]
