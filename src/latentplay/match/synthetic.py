"""Confounded data with a known treatment effect, to check that matching removes the bias.

``relevant`` covariates drive both treatment and outcome; ``irrelevant`` ones are noise that a
latent space also carries. Treatment: ``P(T=1|x) = sigmoid(a + strength * x_rel @ b)``;
outcome: ``y = effect * T + x_rel @ g + N(0, noise^2)``. Because treated units have larger
``x_rel @ b`` and ``g`` shares its direction, the naive difference of means overstates
``effect``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

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
