"""Several metrics at once, and the ``dis_metrics.csv`` log that training writes.

Scores are flattened to ``"<metric>.<score name>"`` columns (``mig.discrete_mig``,
``dci.disentanglement``, ...); ``dis_metrics.csv`` (the GlanceNets file name) gets one row per
evaluation with ``epoch`` and ``step`` first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.registry import get, score

DIS_METRICS_FILE = "dis_metrics.csv"
DEFAULT_METRICS = ("beta_vae", "factor_vae", "mig", "sap", "dci", "irs", "modularity")


def parse_names(names: str | Sequence[str] | None) -> list[str]:
    """``"mig,sap"`` or ``["mig", "sap"]`` -> checked list (every registered metric when empty);
    one metric asked for twice (``mig,mig_fast``) is a :class:`UserError`."""
    if names is None or names == "" or names == "all":
        return list(DEFAULT_METRICS)
    items = names.split(",") if isinstance(names, str) else list(names)
    items = [n.strip() for n in items if n.strip()]
    if not items:
        raise UserError(f"no metric named in {names!r}; `latentplay metrics list` names them")
    seen: dict[str, str] = {}
    for n in items:
        metric = get(n)[0]  # raises UserError for unknown names
        if metric.name in seen:
            raise UserError(f"{seen[metric.name]} and {n} are one metric ({metric.name}), whose "
                            f"scores are kept as {metric.name}.<score>: ask for one of them")
        seen[metric.name] = n
    return items


def sampling_only(names: str | Sequence[str] | None) -> list[str]:
    """Registry names of the metrics in ``names`` that exist only in the sampling form (BetaVAE,
    FactorVAE) when asked for by name; empty for the default list, which skips them on arrays."""
    if names in (None, "", "all"):
        return []
    metrics = [get(n)[0] for n in parse_names(names)]
    return [m.name for m in metrics if m.arrays is None]


def images_to_encode(name: str) -> int:
    """Observations metric ``name`` (``_fast`` allowed) renders and encodes in its sampling
    form, with its sizes: BetaVAE and FactorVAE encode a batch of 64 (BetaVAE two) per point,
    1,920,000 and 970,000 images at disentanglement_lib's sizes; the others one per point.
    (FactorVAE stops after its variance sample when no dimension is active.)"""
    metric, fast = get(name)
    return metric.images_to_encode(fast)


def evaluate(
    names: str | Sequence[str] | None = None,
    *,
    factors: Any = None,
    codes: Any = None,
    factors_test: Any = None,
    codes_test: Any = None,
    ground_truth: Any = None,
    represent: Callable[[np.ndarray], np.ndarray] | None = None,
    random_state: int = 0,
    on_done: Callable[[str, dict[str, float]], None] | None = None,
    on_start: Callable[[str, int | None], None] | None = None,
) -> dict[str, float]:
    """Compute several metrics; returns ``{"<metric>.<score>": value}`` with the registry name
    (``mig_fast`` and ``discrete_mig`` both log as ``mig.discrete_mig``).

    With arrays only, metrics that need sampling (BetaVAE, FactorVAE) are skipped when the
    metric list was not given explicitly; asking for them by name is an error. ``on_start``
    is called before each metric with its name and the number of images it will encode
    (:func:`images_to_encode`; None with arrays), ``on_done`` after it with its name and
    scores (for progress display).
    """
    explicit = names not in (None, "", "all")
    chosen = parse_names(names)
    out: dict[str, float] = {}
    for name in chosen:
        metric, _ = get(name)
        if ground_truth is None and metric.arrays is None and not explicit:
            continue
        if on_start is not None:
            on_start(name, images_to_encode(name) if ground_truth is not None else None)
        scores = score(
            name,
            factors=factors,
            codes=codes,
            factors_test=factors_test,
            codes_test=codes_test,
            ground_truth=ground_truth,
            represent=represent,
            random_state=random_state,
        )
        if on_done is not None:
            on_done(name, scores)
        out.update(logged_scores(name, scores))
    return out


def logged_scores(name: str, scores: dict[str, float]) -> dict[str, float]:
    """One metric's ``scores`` as :func:`evaluate` returns them: ``{"<metric>.<score>": value}``
    with the registry name of ``name`` (``mig_fast`` -> ``mig``)."""
    metric, _ = get(name)
    return {f"{metric.name}.{k}": v for k, v in scores.items()}


def append_dis_metrics(
    run_dir: str | os.PathLike[str], scores: dict[str, float], epoch: int, step: int
) -> Path:
    """Append one row to ``run_dir/dis_metrics.csv`` (header written, or widened, as needed);
    an earlier row of the same ``step`` (an evaluation repeated after a resume) is replaced."""
    from latentplay.train.csvlog import upsert_row

    return upsert_row(Path(run_dir) / DIS_METRICS_FILE, {"epoch": epoch, "step": step, **scores})
