"""Benchmark: every disentanglement metric on 10,000 codes of a 10-d representation of the
shapes factors, timed side by side with disentanglement_lib where it can be imported.

Prints one JSON object per metric: latentplay's seconds and scores, and (when
disentanglement_lib imports) its seconds, scores and the largest absolute difference.

disentanglement_lib is TensorFlow-1 code and is not a dependency. To compare, install it
without dependencies somewhere and point ``DLIB_PATH`` at it:

    pip install --no-deps --target /tmp/dlib disentanglement-lib gin-config absl-py six
    DLIB_PATH=/tmp/dlib python bench/bench_metrics.py

Two patches make its metric modules import without TensorFlow (nothing is vendored): its
``import gin.tf`` is served by plain ``gin``, and its ``gin.configurable(blacklist=...)``
keyword, renamed ``denylist`` in gin-config 0.5, is translated. Array metrics (MIG, SAP, DCI,
IRS, modularity/explicitness) are compared on identical arrays through disentanglement_lib's
own array functions; BetaVAE and FactorVAE, which sample their own batches, run end to end on
the same ground truth (their random streams differ, so their scores agree only statistically).

    python bench/bench_metrics.py [--n 10000] [--skip dci]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

from latentplay import metrics
from latentplay.sources.shapes import FACTOR_SIZES

D = 10
MIX = np.random.default_rng(123).normal(size=(len(FACTOR_SIZES), D))


def represent(factors: np.ndarray) -> np.ndarray:
    """A fixed, entangled, nonlinear 10-d code of the five shapes factors."""
    scaled = np.asarray(factors, dtype=np.float64) / (np.array(FACTOR_SIZES) - 1)
    return np.tanh(scaled @ MIX).astype(np.float32)


class FactorGroundTruth:
    """Shapes factors whose observations are the factors themselves (no rendering cost).

    Works with latentplay (``Generator``) and disentanglement_lib (``RandomState``)."""

    num_factors = len(FACTOR_SIZES)
    factors_num_values = list(FACTOR_SIZES)

    def sample_factors(self, num: int, random_state: Any) -> np.ndarray:
        draw = random_state.integers if hasattr(random_state, "integers") else random_state.randint
        return np.stack([draw(0, s, num) for s in FACTOR_SIZES], axis=1)

    def sample_observations_from_factors(self, factors: np.ndarray, random_state: Any) -> np.ndarray:
        return np.asarray(factors, dtype=np.float32)

    def sample(self, num: int, random_state: Any) -> tuple[np.ndarray, np.ndarray]:
        f = self.sample_factors(num, random_state)
        return f, self.sample_observations_from_factors(f, random_state)

    def sample_observations(self, num: int, random_state: Any) -> np.ndarray:
        return self.sample(num, random_state)[1]


def import_dlib() -> dict[str, Any] | None:
    path = os.environ.get("DLIB_PATH")
    if path:
        sys.path.insert(0, path)
    try:
        import gin
    except ImportError:
        return None
    original = gin.configurable

    def configurable(*args: Any, **kwargs: Any) -> Any:
        if "blacklist" in kwargs:
            kwargs["denylist"] = kwargs.pop("blacklist")
        return original(*args, **kwargs)

    gin.configurable = configurable
    sys.modules["gin.tf"] = gin
    gin.tf = gin
    try:
        from disentanglement_lib.evaluation.metrics import (
            beta_vae,
            dci,
            factor_vae,
            irs,
            mig,
            modularity_explicitness,
            sap_score,
            utils,
        )
    except ImportError:
        return None
    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)
    gin.bind_parameter("discretizer.num_bins", 20)
    gin.bind_parameter("prune_dims.threshold", 0.05)
    return {
        "beta_vae": beta_vae, "dci": dci, "factor_vae": factor_vae, "irs": irs, "mig": mig,
        "modularity": modularity_explicitness, "sap": sap_score, "utils": utils,
    }  # fmt: skip


def dlib_arrays(
    lib: dict[str, Any], name: str, f: np.ndarray, c: np.ndarray, ft: np.ndarray, ct: np.ndarray
) -> dict:
    """disentanglement_lib's array functions, in its (num_codes, num_points) convention."""
    if name == "mig":
        return lib["mig"]._compute_mig(c.T, f.T)
    if name == "sap":
        return lib["sap"]._compute_sap(c.T, f.T, ct.T, ft.T, False)
    if name == "dci":
        return lib["dci"]._compute_dci(c.T, f.T, ct.T, ft.T)
    if name == "irs":
        mus, ys = c.T, f.T
        active = lib["irs"]._drop_constant_dims(mus)
        score = lib["irs"].scalable_disentanglement_score(lib["utils"].make_discretizer(ys).T, active.T, 0.99)
        return {"IRS": score["avg_score"]}
    mod = lib["modularity"]
    mi = lib["utils"].discrete_mutual_info(lib["utils"].make_discretizer(c.T), f.T)
    norm, mean, std = lib["utils"].normalize_data(c.T)
    norm_t, _, _ = lib["utils"].normalize_data(ct.T, mean, std)
    ex = [mod.explicitness_per_factor(norm, f[:, i], norm_t, ft[:, i]) for i in range(f.shape[1])]
    return {
        "modularity_score": mod.modularity(mi),
        "explicitness_score_train": float(np.mean([a for a, _ in ex])),
        "explicitness_score_test": float(np.mean([b for _, b in ex])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10000, help="training codes (test: half as many)")
    parser.add_argument("--skip", default="", help="comma-separated metrics to leave out")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    lib = import_dlib()
    gt = FactorGroundTruth()
    rng = np.random.default_rng(0)
    f, ft = gt.sample_factors(args.n, rng), gt.sample_factors(args.n // 2, rng)
    c, ct = represent(f), represent(ft)
    common = {"bench": "metrics", "n_train": args.n, "n_test": args.n // 2, "dims": D,
              "dlib": lib is not None}  # fmt: skip
    t = time.perf_counter()  # compile (or load from numba's cache) the boosted trees once
    metrics.score("dci", factors=f[:200], codes=c[:200], factors_test=ft[:50], codes_test=ct[:50])
    print(json.dumps({**common, "metric": "dci_compile", "latentplay_s": round(time.perf_counter() - t, 3)}))
    totals = {"latentplay_s": 0.0, "dlib_s": 0.0}
    for name in ("mig", "sap", "irs", "modularity", "dci"):
        if name in skip:
            continue
        t = time.perf_counter()
        ours = metrics.score(name, factors=f, codes=c, factors_test=ft, codes_test=ct)
        row: dict[str, Any] = {**common, "metric": name, "latentplay_s": round(time.perf_counter() - t, 3),
                               "latentplay": ours}  # fmt: skip
        if lib is not None:
            t = time.perf_counter()
            theirs = {k: float(v) for k, v in dlib_arrays(lib, name, f, c, ft, ct).items()}
            row.update(
                dlib_s=round(time.perf_counter() - t, 3),
                dlib_scores=theirs,
                max_abs_diff=max(abs(ours[k] - v) for k, v in theirs.items()),
            )
            row["speedup"] = round(row["dlib_s"] / max(row["latentplay_s"], 1e-9), 2)
        add_to(totals, row)
        print(json.dumps(row), flush=True)
    sizes = {"num_train": args.n, "num_eval": args.n // 2}
    for name in ("beta_vae", "factor_vae"):
        if name in skip:
            continue
        # the same settings on both sides: FactorVAE's variance estimate from --n samples
        own = {"num_variance_estimate": args.n} if name == "factor_vae" else {}
        t = time.perf_counter()
        ours = metrics.score(name, ground_truth=gt, represent=represent, **sizes, **own)
        row = {
            **common,
            "metric": name,
            "latentplay_s": round(time.perf_counter() - t, 3),
            "latentplay": ours,
        }
        if lib is not None:
            rs = np.random.RandomState(0)
            t = time.perf_counter()
            if name == "beta_vae":
                theirs = lib["beta_vae"].compute_beta_vae_sklearn(gt, represent, rs, None, 64, **sizes)
            else:
                theirs = lib["factor_vae"].compute_factor_vae(gt, represent, rs, None, 64, **own, **sizes)
            row.update(
                dlib_s=round(time.perf_counter() - t, 3), dlib_scores={k: float(v) for k, v in theirs.items()}
            )
            row["speedup"] = round(row["dlib_s"] / max(row["latentplay_s"], 1e-9), 2)
        add_to(totals, row)
        print(json.dumps(row), flush=True)
    total = {**common, "metric": "all", **{k: round(v, 3) for k, v in totals.items()}}
    if lib is not None:
        total["speedup"] = round(totals["dlib_s"] / max(totals["latentplay_s"], 1e-9), 2)
    print(json.dumps(total), flush=True)


def add_to(totals: dict[str, float], row: dict[str, Any]) -> None:
    """Add a row's timings to the running totals."""
    for key in totals:
        totals[key] += row.get(key, 0.0)


if __name__ == "__main__":
    main()
