"""Confounded data with a known treatment effect, to check that matching removes the bias.

``relevant`` covariates drive both treatment and outcome; ``irrelevant`` ones are noise that a
latent space also carries. Treatment: ``P(T=1|x) = sigmoid(a + strength * x_rel @ b)``;
outcome: ``y = effect * T + x_rel @ g + N(0, noise^2)``. Because treated units have larger
``x_rel @ b`` and ``g`` shares its direction, the naive difference of means overstates
``effect``.

:func:`heterogeneous` draws units whose effect varies, in designs where estimating the
propensity score changes the variance of the matched effect on the treated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from latentplay.errors import UserError
from latentplay.store.io import Store, build
from latentplay.store.schema import Attribute, Provenance, Schema, VectorColumn


@dataclass
class Confounded:
    """Arrays of one draw.

    Attributes:
        x: ``(n, relevant + irrelevant)`` float32 covariates, relevant ones first.
        treated: ``(n,)`` bool.
        y: ``(n,)`` float64 outcome.
        effect: the true treatment effect (constant, so ATT = ATE = effect).
        relevant: number of confounding columns.
        settings: the arguments of :func:`confounded` that drew it (a store records them, so
            the same call draws it again); empty for arrays made otherwise.
    """

    x: np.ndarray
    treated: np.ndarray
    y: np.ndarray
    effect: float
    relevant: int
    settings: dict[str, Any] = field(default_factory=dict)


def confounded(
    n: int = 20_000,
    *,
    relevant: int = 5,
    irrelevant: int = 95,
    effect: float = 1.0,
    strength: float = 1.0,
    noise: float = 1.0,
    treated_share: float = 0.3,
    seed: int = 0,
) -> Confounded:
    """Draw ``n`` units (see the module docstring)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, relevant + irrelevant)).astype(np.float32)
    b = np.ones(relevant) / np.sqrt(relevant)
    score = strength * (x[:, :relevant].astype(np.float64) @ b)
    intercept = np.log(treated_share / (1.0 - treated_share))
    treated = rng.random(n) < expit(intercept + score)
    g = np.linspace(1.0, 0.5, relevant)
    y = effect * treated + x[:, :relevant].astype(np.float64) @ g + noise * rng.standard_normal(n)
    settings = {"n": n, "relevant": relevant, "irrelevant": irrelevant, "effect": effect,
                "strength": strength, "noise": noise, "treated_share": treated_share, "seed": seed}
    return Confounded(x=x, treated=treated, y=y, effect=effect, relevant=relevant, settings=settings)


def make_store(
    path: str | os.PathLike[str], data: Confounded, *, overwrite: bool = False
) -> Store:
    """Write ``data`` as a store without images: vector column ``z`` (all covariates),
    categorical ``group`` (control/treated), continuous ``y`` (the outcome) and the relevant
    covariates again as continuous attributes ``x0, x1, ...``."""
    relevant = [f"x{j}" for j in range(data.relevant)]
    schema = Schema(
        attributes=[
            Attribute("group", "categorical", names=["control", "treated"]),
            Attribute("y", "continuous", description=f"outcome; true effect {data.effect:g}"),
            *[Attribute(name, "continuous", description="confounder") for name in relevant],
        ],
        provenance=Provenance(
            source="latentplay.match.synthetic.confounded",
            converter="latentplay.match.synthetic.make_store",
            arguments={"n": len(data.y), "relevant": data.relevant, "effect": data.effect,
                       **data.settings},
            counts={"rows": len(data.y), "treated": int(data.treated.sum())},
        ),
        image_column=None,
        vectors=[VectorColumn("z", data.x.shape[1], "covariates: relevant first, then noise")],
    )
    batch = {"group": data.treated.astype(np.int64), "y": data.y.astype(np.float32),
             "z": data.x}
    for j, name in enumerate(relevant):
        batch[name] = data.x[:, j]
    return build([batch], schema, path, overwrite=overwrite)


HETEROGENEOUS = ("abadie-imbens", "hidden-covariates", "effect-within-score")
"""Designs of :func:`heterogeneous`, where estimating the propensity score changes the
ATT's variance (Abadie & Imbens 2016): their simulation's design; an outcome on a covariate
the score ignores, with an effect that grows with the score; an effect that varies across
units of one score."""


@dataclass
class Heterogeneous:
    """One draw of :func:`heterogeneous`.

    Attributes:
        x: ``(n, d)`` float64 covariates (the propensity model's).
        treated: ``(n,)`` bool.
        y: ``(n,)`` float64 outcome.
        att: the population's effect on the treated, ``E[p(X) tau(X)] / E[p(X)]``.
    """

    x: np.ndarray
    treated: np.ndarray
    y: np.ndarray
    att: float


def heterogeneous(design: str, n: int = 2000, seed: int = 0, irrelevant: int = 0) -> Heterogeneous:
    """Draw ``n`` units of a :data:`HETEROGENEOUS` design with a logistic propensity score,
    and ``irrelevant`` more ``N(0, 1)`` covariates that matter for neither.

    ``abadie-imbens``: ``x ~ U(-1/2, 1/2)^2``, ``p = sigmoid(x1 + 2 x2)``, ``Y(0) = 3 x1 - 3 x2
    + e0``, ``Y(1) = 5 + 5 x1 + x2 + e1``. The others: ``x ~ N(0, I_3)``, ``p = sigmoid(0.8
    x1 - 0.3)``; ``hidden-covariates``: ``Y(0) = x1 + 2 x2 + e``, effect ``1 + 2 x1 + 1.5 x3``;
    ``effect-within-score``: ``Y(0) = x1 - 2 x2 + e``, effect ``1 + 4 x2``. Noise ``N(0, 1)``.
    """
    rng = np.random.default_rng(seed)
    if design == "abadie-imbens":
        x = rng.uniform(-0.5, 0.5, (n, 2))
        p = expit(x[:, 0] + 2 * x[:, 1])
        y0 = 3 * x[:, 0] - 3 * x[:, 1]
        effect = 5 + 2 * x[:, 0] + 4 * x[:, 1]
        grid = (np.arange(1000) + 0.5) / 1000 - 0.5  # midpoints: E[p tau] / E[p] by quadrature
        g1, g2 = np.meshgrid(grid, grid, indexing="ij")
        weight = expit(g1 + 2 * g2)
        att = float((weight * (5 + 2 * g1 + 4 * g2)).sum() / weight.sum())
    elif design in HETEROGENEOUS:
        x = rng.standard_normal((n, 3))
        p = expit(0.8 * x[:, 0] - 0.3)
        hidden = design == "hidden-covariates"
        y0 = x[:, 0] + (2 if hidden else -2) * x[:, 1]
        effect = 1 + 2 * x[:, 0] + 1.5 * x[:, 2] if hidden else 1 + 4 * x[:, 1]
        nodes, weights = np.polynomial.hermite_e.hermegauss(80)  # E over x1 ~ N(0, 1)
        score = expit(0.8 * nodes - 0.3)
        att = float(1 + 2 * (weights * score * nodes).sum() / (weights * score).sum()) if hidden else 1.0
    else:
        raise UserError(f"design must be one of {', '.join(HETEROGENEOUS)}, got {design!r}")
    treated = rng.random(n) < p
    y = y0 + treated * effect + rng.standard_normal(n)
    x = np.column_stack([x, rng.standard_normal((n, irrelevant))])
    return Heterogeneous(x=x, treated=treated, y=y, att=att)
