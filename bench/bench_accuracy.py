"""``audit accuracy`` at the size of a real face dataset: ``rows`` predictions of a binary
attribute in 7 ordered groups with confidences, a positive class, a threshold and one
measured covariate (standardization over 8 strata). Seconds of the whole audit and of its
parts: accuracy per group, calibration (ECE beside 1,000 calibrated draws per group, the
over-confidence trend), parity (1,000 bootstrap draws of the differences) and the
standardized errors.

    python bench/bench_accuracy.py [--rows 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.calibration import group_calibration
from latentplay.audit.parity import group_parity
from latentplay.audit.standardize import standardized_errors
from latentplay.store import Attribute, Provenance, Schema

GROUPS = 7


def synthetic(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Labels, groups, confidences and predictions right less often in later groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, GROUPS, rows)
    truth = rng.integers(0, 2, rows)
    confidence = rng.uniform(0.5, 1.0, rows)
    right = rng.random(rows) < np.clip(confidence - 0.02 * group, 0, 1)
    return {"group": group, "truth": truth, "confidence": confidence,
            "predicted": np.where(right, truth, 1 - truth), "blur": rng.random(rows)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10000, 100000])
    args = parser.parse_args()
    for rows in args.rows:
        d = synthetic(rows)
        names = [f"g{k}" for k in range(GROUPS)]
        keep = np.ones(rows, bool)
        right = d["predicted"] == d["truth"]
        timings = {}
        start = time.perf_counter()
        group_calibration(d["confidence"], right, names, d["group"], keep, True, threshold=0.9)
        timings["calibration_s"] = time.perf_counter() - start
        start = time.perf_counter()
        group_parity(d["truth"] == 1, d["predicted"] == 1, names, d["group"], keep, "yes")
        timings["parity_s"] = time.perf_counter() - start
        start = time.perf_counter()
        standardized_errors((~right).astype(float), d["group"], names, d["blur"][:, None],
                            ["blur"], 8, "error rate")
        timings["standardized_s"] = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            schema = Schema(attributes=[
                Attribute("group", "categorical", names=names, ordered=True),
                Attribute("truth", "categorical", names=["no", "yes"]),
                Attribute("predicted_truth", "categorical", names=["no", "yes"]),
                Attribute("predicted_truth_p", "continuous"),
                Attribute("blur", "continuous")],
                provenance=Provenance(source="bench", converter="bench"))
            images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * rows
            store = st.build([{"image": images, "group": d["group"], "truth": d["truth"],
                               "predicted_truth": d["predicted"],
                               "predicted_truth_p": d["confidence"].astype(np.float32),
                               "blur": d["blur"].astype(np.float32)}], schema,
                             Path(tmp) / "store")
            start = time.perf_counter()
            group_accuracy(store, "predicted_truth", "truth", "group", Path(tmp) / "out",
                           threshold=0.9, positive="yes", adjust=["blur"], strata=8)
            timings["audit_accuracy_s"] = time.perf_counter() - start
        print(json.dumps({"bench": "accuracy", "rows": rows, "groups": GROUPS,
                          **{k: round(v, 2) for k, v in timings.items()}}))


if __name__ == "__main__":
    main()
