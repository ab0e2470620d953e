"""Matching across an attribute: pairs of units alike in everything but the treatment.

Arrays in, arrays out:

>>> from latentplay.match import match, balance_table, matching_weights
>>> result = match(z, treated, method="propensity", caliper=0.2)      # z: (n, d), treated: (n,)
>>> w = matching_weights(len(z), result.treated_rows, result.control_rows)
>>> names = [f"z{j}" for j in range(z.shape[1])]                       # one per column of z
>>> rows = balance_table(z, names, treated, w)                         # SMD before/after

A store in, a run directory out (``latentplay match run``):

>>> from latentplay.match import MatchConfig, run
>>> run("data/faces", MatchConfig(treatment="gender", covariates=["vae_mu"], replace=True), "runs/match")

(without ``replace`` each control serves one treated unit, so the treated class must be the
smaller: ``treatment="gender=male,female"`` names which is treated.)

Nearest-neighbour search never forms an n x n matrix: see :mod:`latentplay.match.knn` and
:mod:`latentplay.match.greedy`.
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.match.balance import balance_table as balance_table
    from latentplay.match.balance import matching_weights as matching_weights
    from latentplay.match.core import MatchResult as MatchResult
    from latentplay.match.core import match as match
    from latentplay.match.effect import matched_difference as matched_difference
    from latentplay.match.effect import (
        matched_difference_with_replacement as matched_difference_with_replacement,
    )
    from latentplay.match.effect import naive_difference as naive_difference
    from latentplay.match.greedy import Pairs as Pairs
    from latentplay.match.greedy import greedy_match as greedy_match
    from latentplay.match.optimal import optimal_match as optimal_match
    from latentplay.match.pipeline import MatchConfig as MatchConfig
    from latentplay.match.pipeline import run as run
    from latentplay.match.propensity import propensity_scores as propensity_scores

DISTANCE_LABELS = {"propensity": "|Δ propensity logit|",
                   "mahalanobis": "Mahalanobis distance", "euclidean": "Euclidean distance"}
"""What a pair's distance is, by matching space (``MatchResult.info["distance"]``): kept here,
where reading it loads no scikit-learn (the report names distances too)."""


def interval_kinds(replace: bool, persons: bool, score: str | None = None) -> tuple[str, str]:
    """What the intervals of the difference before matching and of the matched difference
    are (``effect.naive.interval``, ``effect.matched.interval`` of ``summary.json``), with
    or without replacement, over units or over the ``persons`` they show; matched with
    replacement on an estimated propensity score, Abadie & Imbens' variance counts the
    score's estimation (``score="estimated"``, their 2016 correction) or takes it as known
    (``"known"``). Kept here, free of scikit-learn: the report names the intervals of
    summaries written without them too."""
    shared = ": sets sharing one are dependent"
    naive = ("Student's t over persons" if persons
             else "percentile bootstrap over units within each group")
    if replace:
        scored = {None: "", "known": ", propensity score taken as known",
                  "estimated": ", with the 2016 correction for the estimated propensity score"}[score]
        return naive, ("Abadie-Imbens Student's t" + scored + f" over persons{shared}" if persons
                       else "Abadie-Imbens normal" + scored)
    return naive, (f"Student's t over persons{shared}" if persons else
                   "percentile pair bootstrap over matched treated units with their controls")


SMD_THRESHOLD = 0.1
"""The |standardized mean difference| above which a covariate counts as imbalanced: a rule of
thumb for balance (Austin 2009), not a test; the balance summary counts the covariates over
it, the printout cautions on them, the love plot draws it and the report highlights them."""


OBSERVED_ONLY = ("an effect only if the covariates hold every confounder: matching balances what it "
                 "was given, and leaves what they do not capture as it was")
"""What the printout and the report say beside a matched difference."""


def estimand(matched: int, treated: int) -> str:
    """What the matched difference estimates (``effect.matched.estimand``): the effect on the
    treated (ATT) when all ``treated`` units found controls; else the effect on the ``matched``
    of them that did, which a caliper or an exhausted ``--exact`` block chose, and which is the
    ATT only where the effect is the same for every treated unit."""
    if matched >= treated:
        return "effect on the treated (ATT)"
    return (f"effect on the {matched} of {treated} treated units matched (not the ATT where the "
            "effect varies)")


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
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
