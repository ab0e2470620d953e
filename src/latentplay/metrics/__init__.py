"""Disentanglement metrics with disentanglement_lib's defaults and score names, and leakage.

>>> from latentplay import metrics
>>> metrics.score("mig", factors=factors, codes=codes)                 # arrays
{'discrete_mig': 0.41}
>>> metrics.score("factor_vae", ground_truth=ShapesGroundTruth(), represent=encode)  # sampling

Registered metrics (``metrics.names()``): ``beta_vae``, ``factor_vae``, ``mig``, ``sap``,
``dci``, ``irs``, ``modularity``; a ``_fast`` suffix uses smaller samples. Arrays are
``(N, K)`` integer factor levels and ``(N, D)`` codes.
"""

from latentplay.metrics.evaluate import evaluate
from latentplay.metrics.registry import REGISTRY, Metric, get, names, register, score

__all__ = ["REGISTRY", "Metric", "evaluate", "get", "names", "register", "score"]
