"""Matching at scale: time and peak memory of greedy 1:1 matching, against one faiss 1-NN search.

Prints one JSON object per case; each case runs in its own process so its peak RSS is its own.

    python bench/bench_match.py                  # 10k, 100k (exact and IVF), 1M (IVF)
    python bench/bench_match.py exact 100000 300000       # one case: index n_treated n_controls
    python bench/bench_match.py auto 1000000 1000000      # the index `--index auto` picks
    python bench/bench_match.py quality 100000 100000     # exact vs IVF: distance and balance
    python bench/bench_match.py propensity 50000 50000    # 1-d propensity matching
    python bench/bench_match.py replace 100000 100000     # with replacement: exact vs IVF
    python bench/bench_match.py score 30000 70000         # the estimated-score correction, 64-d

Data: 128-d "latents" with a 16-d structure (z = f W + 0.1 noise, f ~ N(0, I)), treated
units shifted by 0.3 along every f direction, so there is something to balance. The load
average is reported because other work on the machine slows every figure here.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DIM = 128


def latents(n_t: int, n_c: int, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(n_t, dim)`` treated and ``(n_c, dim)`` control float32 points."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((16, dim)).astype(np.float32) / 4
    out = []
    for n, shift in ((n_t, 0.3), (n_c, 0.0)):
        f = rng.standard_normal((n, 16), dtype=np.float32) + shift
        out.append(f @ w + 0.1 * rng.standard_normal((n, dim), dtype=np.float32))
    return out[0], out[1]


def cpu_s() -> float:
    """Process CPU seconds (user + system): on a busy machine, a better guide than wall time."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def base(kind: str, n_t: int, n_c: int) -> dict:
    return {"bench": "match", "case": kind, "n_treated": n_t, "n_controls": n_c, "dim": DIM,
            "threads": int(__import__("faiss").omp_get_max_threads()),
            "load_avg_1min": round(os.getloadavg()[0], 1)}


def case_greedy(index: str, n_t: int, n_c: int, with_1nn: bool) -> dict:
    import faiss

    from latentplay.match import greedy_match
    from latentplay.match.knn import choose_index

    xt, xc = latents(n_t, n_c)
    out = base(f"greedy_{index}", n_t, n_c)
    index = choose_index(index, n_t, n_c, DIM)  # what `--index auto` picks
    out["index"] = index
    out["data_gb"] = round((xt.nbytes + xc.nbytes) / 1024**3, 3)
    if with_1nn:
        t, c = time.perf_counter(), cpu_s()
        flat = faiss.IndexFlatL2(DIM)
        flat.add(xc)
        for s in range(0, n_t, 8192):
            flat.search(xt[s : s + 8192], 1)
        out["faiss_1nn_s"] = round(time.perf_counter() - t, 2)
        out["faiss_1nn_cpu_s"] = round(cpu_s() - c, 2)
        del flat
    t, c = time.perf_counter(), cpu_s()
    pairs = greedy_match(xt, xc, index=index)
    out["greedy_s"] = round(time.perf_counter() - t, 2)
    out["greedy_cpu_s"] = round(cpu_s() - c, 2)
    if with_1nn:
        out["greedy_over_1nn"] = round(out["greedy_s"] / out["faiss_1nn_s"], 2)
        out["greedy_over_1nn_cpu"] = round(out["greedy_cpu_s"] / out["faiss_1nn_cpu_s"], 2)
    out.update(matched=len(pairs), mean_distance=round(float(pairs.distance.mean()), 4),
               peak_rss_gb=round(peak_rss_gb(), 3), **pairs.stats)
    return out


def case_quality(n_t: int, n_c: int) -> dict:
    from latentplay.match import balance_table, greedy_match, matching_weights
    from latentplay.match.balance import summarize

    xt, xc = latents(n_t, n_c)
    x = np.concatenate([xt, xc])
    treated = np.arange(len(x)) < n_t
    names = [f"z[{j}]" for j in range(DIM)]
    out = base("quality_exact_vs_ivf", n_t, n_c)
    # Without a caliper, 1:1 matching of equal groups uses every control, so balance cannot
    # change; with a caliper (the exact matching's median pair distance) it can.
    caliper2 = np.inf
    for label in ("no_caliper", "caliper"):
        for index in ("exact", "ivf"):
            t, c = time.perf_counter(), cpu_s()
            p = greedy_match(xt, xc, index=index,
                             caliper2=caliper2 if label == "caliper" else np.inf)
            seconds, cpu = time.perf_counter() - t, cpu_s() - c
            w = matching_weights(len(x), p.treated, p.control + n_t)
            bal = summarize(balance_table(x, names, treated, w))
            out[f"{index}_{label}"] = {
                "seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "matched": len(p),
                "mean_distance": round(float(p.distance.mean()), 4),
                "max_abs_smd_after": round(bal["after"]["max_abs_smd"], 4),
                "mean_abs_smd_after": round(bal["after"]["mean_abs_smd"], 4)}
            out["max_abs_smd_before"] = round(bal["before"]["max_abs_smd"], 4)
            if index == "exact" and label == "no_caliper":
                caliper2 = float(np.median(p.distance)) ** 2
        out[f"ivf_distance_over_exact_{label}"] = round(
            out[f"ivf_{label}"]["mean_distance"] / out[f"exact_{label}"]["mean_distance"], 4)
    out["caliper"] = round(float(np.sqrt(caliper2)), 4)
    out["peak_rss_gb"] = round(peak_rss_gb(), 3)
    return out


def case_propensity(n_t: int, n_c: int) -> dict:
    from latentplay.match import match

    xt, xc = latents(n_t, n_c, dim=16)
    x = np.concatenate([xt, xc])
    treated = np.arange(len(x)) < n_t
    out = base("propensity_16d", n_t, n_c)
    out["dim"] = 16
    t, c = time.perf_counter(), cpu_s()
    r = match(x, treated, method="propensity", caliper=0.2)
    out.update(seconds=round(time.perf_counter() - t, 2), cpu_s=round(cpu_s() - c, 2),
               matched=len(r),
               peak_rss_gb=round(peak_rss_gb(), 3))
    return out


def case_replace(n_t: int, n_c: int) -> dict:
    """1:1 with replacement (one k-NN search), exact and IVF on the same data."""
    from latentplay.match.replacement import match_with_replacement

    xt, xc = latents(n_t, n_c)
    out = base("replace", n_t, n_c)
    for index in ("exact", "ivf"):
        t, c = time.perf_counter(), cpu_s()
        p = match_with_replacement(xt, xc, index=index)
        out[index] = {"seconds": round(time.perf_counter() - t, 2), "cpu_s": round(cpu_s() - c, 2),
                      "mean_distance": round(float(p.distance.mean()), 4),
                      "distinct_controls": int(len(np.unique(p.control)))}
    out["ivf_mean_distance_ratio"] = round(out["ivf"]["mean_distance"]
                                           / out["exact"]["mean_distance"], 4)
    out["peak_rss_gb"] = round(peak_rss_gb(), 3)
    return out


def case_score(n_t: int, n_c: int) -> dict:
    """1:1 with replacement on a propensity score of 64-d latents, then the effect's variance
    taking the score as known and with Abadie & Imbens' (2016) correction for its estimation."""
    from latentplay.match import match, matched_difference_with_replacement
    from latentplay.match.estimated_score import score_correction

    xt, xc = latents(n_t, n_c, dim=64)
    x = np.concatenate([xt, xc])
    treated = np.arange(len(x)) < n_t
    y = x[:, :4].sum(axis=1) + treated * (1.0 + x[:, 4]) + np.random.default_rng(1).standard_normal(len(x))
    out = base("score_64d", n_t, n_c)
    out["dim"] = 64
    t = time.perf_counter()
    r = match(x, treated, method="propensity", replace=True)
    out["match_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    m = matched_difference_with_replacement(y, r.points, treated, r.treated_rows, r.control_rows)
    out["known_score_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    change = score_correction(y, treated, r.propensity, m["estimate"])
    out["correction_seconds"] = round(time.perf_counter() - t, 2)
    out["correction_over_known_variance"] = round(change / m["se"] ** 2, 4)
    out["peak_rss_gb"] = round(peak_rss_gb(), 3)
    return out


def run_one(args: list[str]) -> dict:
    kind, n_t, n_c = args[0], int(args[1]), int(args[2])
    if kind == "quality":
        return case_quality(n_t, n_c)
    if kind == "propensity":
        return case_propensity(n_t, n_c)
    if kind == "replace":
        return case_replace(n_t, n_c)
    if kind == "score":
        return case_score(n_t, n_c)
    return case_greedy(kind, n_t, n_c, with_1nn=(kind == "exact" and n_t * n_c <= 4e10))


DEFAULT = [
    ["exact", "10000", "30000"],
    ["exact", "100000", "300000"],
    ["ivf", "10000", "10000"],
    ["ivf", "100000", "100000"],
    ["auto", "10000", "10000"],
    ["auto", "100000", "100000"],
    ["auto", "1000000", "1000000"],
    ["quality", "100000", "100000"],
    ["propensity", "50000", "50000"],
    ["replace", "100000", "100000"],
    ["score", "30000", "70000"],
]


def main(argv: list[str]) -> int:
    if argv:
        print(json.dumps(run_one(argv)), flush=True)
        return 0
    status = 0
    for case in DEFAULT:
        proc = subprocess.run([sys.executable, __file__, *case], check=False)
        status = status or proc.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
