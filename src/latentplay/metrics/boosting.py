"""Gradient-boosted trees grown as scikit-learn's ``GradientBoostingClassifier()`` grows them.

DCI (Eastwood & Williams 2018, as disentanglement_lib computes it) fits one
``GradientBoostingClassifier`` with default settings per factor: log loss, 100 stages of
depth-3 regression trees (one per class and stage, or one per stage for two classes),
learning rate 0.1, no subsampling, all features at every split. That is about 90% of the time
of the whole metric set, so it is compiled here with numba: the same greedy algorithm and the
same arithmetic, with the codes presorted once per feature and each tree level found in one
sweep of every feature instead of a sort per node.

What is identical to scikit-learn (1.9): the initial raw predictions (log prior, symmetric
multinomial link), the softmax/sigmoid gradients, every split rule (squared-error proxy,
split points between values more than 1e-7 apart in float32, midpoint thresholds, the
``impurity <= eps`` and minimum-improvement leaf rules), the Newton leaf values with
``(K - 1) / K`` for multiclass, feature importances (weighted impurity decrease, averaged
over trees with a split, normalised) and ``predict``. Left sums accumulate in the same order
(ascending values), so proxies are the same floats up to the last bit of a node's total.
What cannot be identical is how exact ties are broken: small nodes often have several
features that split their rows the same way, and scikit-learn visits the features in a
random order per node (``random_state``) and keeps the first best. Here the feature with the
lower random key (drawn per node from ``random_state``) wins. So importances and test-set
predictions agree with scikit-learn's as closely as two of its seeds agree with each other,
and training-set predictions agree to ~1e-14; tests check both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from scipy.stats import gmean

EPSILON = np.finfo(np.float64).eps  # scikit-learn's leaf rule: impurity <= eps
FEATURE_THRESHOLD = np.float32(1e-7)  # values closer than this (float32) are not split
LEAF = -1


@dataclass
class BoostedTrees:
    """A fitted ensemble.

    Attributes:
        classes: ``(C,)`` class labels, sorted.
        init_raw: ``(T,)`` initial raw prediction per tree column (T = 1 for two classes, else C).
        feature: ``(S, T, M)`` split feature per node in heap order (children of ``m`` are
            ``2m + 1`` and ``2m + 2``; ``M = 2 ** (max_depth + 1) - 1``), ``-1`` at leaves.
        threshold: ``(S, T, M)`` split thresholds (go left when ``x <= threshold``).
        value: ``(S, T, M)`` leaf values (before the learning rate).
        feature_importances: ``(D,)`` normalised impurity-decrease importances.
        learning_rate: shrinkage of every leaf value.
    """

    classes: np.ndarray
    init_raw: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    feature_importances: np.ndarray
    learning_rate: float

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Raw predictions ``(N, T)`` for codes ``x`` ``(N, D)``."""
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        out = np.tile(self.init_raw, (x32.shape[0], 1))
        _predict_raw(x32, self.feature, self.threshold, self.value, self.learning_rate, out)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted labels ``(N,)`` for codes ``x`` ``(N, D)``."""
        raw = self.raw(x)
        if raw.shape[1] == 1:
            return self.classes[(raw[:, 0] >= 0).astype(np.int64)]
        return self.classes[np.argmax(raw, axis=1)]


def fit_boosted_trees(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_estimators: int = 100,
    learning_rate: float = 0.1,
    max_depth: int = 3,
    random_state: int | np.random.Generator | None = 0,
) -> BoostedTrees:
    """Fit the ensemble to codes ``x`` ``(N, D)`` and labels ``y`` ``(N,)`` (at least two classes).

    ``random_state`` only breaks ties between equally good splits (see the module docstring).
    """
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    classes, y_enc = np.unique(np.asarray(y), return_inverse=True)
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(f"boosted trees need at least two classes, got {n_classes}")
    eps = np.finfo(np.float64).eps
    prior = np.clip(np.bincount(y_enc, minlength=n_classes) / len(y_enc), eps, 1 - eps)
    if n_classes == 2:
        init_raw = np.log(prior[1:] / (1 - prior[1:]))
    else:
        init_raw = np.log(prior / gmean(prior))
    n_trees = len(init_raw)
    n_nodes = 2 ** (max_depth + 1) - 1
    order = np.ascontiguousarray(np.argsort(x32, axis=0, kind="stable").T)
    sorted_x = np.ascontiguousarray(np.take_along_axis(x32, order.T, axis=0).T)
    feature = np.full((n_estimators, n_trees, n_nodes), LEAF, dtype=np.int64)
    threshold = np.zeros((n_estimators, n_trees, n_nodes))
    value = np.zeros((n_estimators, n_trees, n_nodes))
    importances = np.zeros((n_estimators, n_trees, x32.shape[1]))
    tie_keys = np.random.default_rng(random_state).random((n_estimators, n_trees, n_nodes, x32.shape[1]))
    _fit(
        x32,
        order,
        sorted_x,
        y_enc.astype(np.int64),
        n_classes,
        np.tile(init_raw, (len(y_enc), 1)),
        learning_rate,
        max_depth,
        feature,
        threshold,
        value,
        importances,
        tie_keys,
    )
    split = (feature != LEAF).any(axis=2).reshape(-1)
    per_tree = importances.reshape(-1, x32.shape[1])[split]
    if len(per_tree) == 0:
        total = np.zeros(x32.shape[1])
    else:
        mean = np.mean(per_tree, axis=0, dtype=np.float64)
        total = mean / np.sum(mean)
    return BoostedTrees(classes, init_raw, feature, threshold, value, total, learning_rate)


@numba.njit(cache=True, nogil=True)
def _negative_gradient(y: np.ndarray, n_classes: int, raw: np.ndarray, out: np.ndarray) -> None:
    """``y - p`` per row: softmax of ``raw`` ``(N, C)``, or the sigmoid of ``raw`` ``(N, 1)``."""
    n, n_trees = raw.shape
    for i in range(n):
        if n_classes == 2:
            target = 1.0 if y[i] == 1 else 0.0
            r = raw[i, 0]
            if r > -37.0:
                e = np.exp(-r)
                out[i, 0] = -(((1.0 - target) - target * e) / (1.0 + e))
            else:
                out[i, 0] = -(np.exp(r) - target)
            continue
        top = raw[i, 0]
        for k in range(1, n_trees):
            if raw[i, k] > top:
                top = raw[i, k]
        total = 0.0
        for k in range(n_trees):
            out[i, k] = np.exp(raw[i, k] - top)
            total += out[i, k]
        for k in range(n_trees):
            out[i, k] = -(out[i, k] / total - (1.0 if y[i] == k else 0.0))


@numba.njit(cache=True, nogil=True)
def _grow_tree(
    x: np.ndarray,
    order: np.ndarray,
    sorted_x: np.ndarray,
    r: np.ndarray,
    max_depth: int,
    node: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    importance: np.ndarray,
    tie_keys: np.ndarray,
) -> None:
    """Grow one squared-error regression tree on residuals ``r`` ``(N,)``, level by level.

    ``x`` ``(N, D)`` float32 codes, ``order`` ``(D, N)`` each feature's ascending order and
    ``sorted_x`` ``(D, N)`` the values in that order,
    ``tie_keys`` ``(M, D)`` random keys deciding ties between features per node. Fills
    ``node`` ``(N,)`` with each row's leaf, ``feature``/``threshold`` ``(M,)`` in heap order and
    ``importance`` ``(D,)`` with the weighted impurity decreases divided by N.
    """
    n, n_features = x.shape
    n_nodes = feature.shape[0]
    count = np.zeros(n_nodes)
    total = np.zeros(n_nodes)
    sq_total = np.zeros(n_nodes)
    impurity = np.zeros(n_nodes)
    splittable = np.zeros(n_nodes, dtype=np.bool_)
    node[:] = 0
    for i in range(n):
        count[0] += 1.0
        total[0] += r[i]
        sq_total[0] += r[i] * r[i]
    impurity[0] = sq_total[0] / count[0] - (total[0] / count[0]) ** 2
    # per-node sweep state and best split
    left_n = np.zeros(n_nodes)
    left_sum = np.zeros(n_nodes)
    left_sq = np.zeros(n_nodes)
    last_x = np.zeros(n_nodes, dtype=np.float32)
    best_proxy = np.zeros(n_nodes)
    best_feature = np.zeros(n_nodes, dtype=np.int64)
    best_threshold = np.zeros(n_nodes)
    best_n = np.zeros(n_nodes)
    best_sum = np.zeros(n_nodes)
    best_sq = np.zeros(n_nodes)
    for depth in range(max_depth):
        first, last = 2**depth - 1, 2 ** (depth + 1) - 1
        any_split = False
        for m in range(first, last):
            splittable[m] = count[m] >= 2.0 and impurity[m] > EPSILON
            any_split = any_split or splittable[m]
            best_feature[m] = -1
        if not any_split:
            return
        for f in range(n_features):
            for m in range(first, last):
                left_n[m] = 0.0
                left_sum[m] = 0.0
                left_sq[m] = 0.0
            for p in range(n):
                i = order[f, p]
                m = node[i]
                if m < first or not splittable[m]:
                    continue
                xi = sorted_x[f, p]
                if left_n[m] > 0.0 and xi > last_x[m] + FEATURE_THRESHOLD:
                    right_n = count[m] - left_n[m]
                    right_sum = total[m] - left_sum[m]
                    proxy = left_sum[m] * left_sum[m] / left_n[m] + right_sum * right_sum / right_n
                    best = best_feature[m]
                    if best < 0 or proxy > best_proxy[m] or (
                        proxy == best_proxy[m] and tie_keys[m, f] < tie_keys[m, best]
                    ):
                        best_proxy[m] = proxy
                        best_feature[m] = f
                        t = last_x[m] / 2.0 + xi / 2.0
                        if t == xi or t == np.inf or t == -np.inf:
                            t = last_x[m]
                        best_threshold[m] = t
                        best_n[m] = left_n[m]
                        best_sum[m] = left_sum[m]
                        best_sq[m] = left_sq[m]
                left_n[m] += 1.0
                left_sum[m] += r[i]
                left_sq[m] += r[i] * r[i]
                last_x[m] = xi
        for m in range(first, last):
            if not splittable[m] or best_feature[m] < 0:
                continue
            nl, nr = best_n[m], count[m] - best_n[m]
            sl, sr = best_sum[m], total[m] - best_sum[m]
            impurity_left = best_sq[m] / nl - (sl / nl) ** 2
            impurity_right = (sq_total[m] - best_sq[m]) / nr - (sr / nr) ** 2
            improvement = (count[m] / n) * (
                impurity[m] - nr / count[m] * impurity_right - nl / count[m] * impurity_left
            )
            if improvement + EPSILON < 0.0:
                continue
            feature[m] = best_feature[m]
            threshold[m] = best_threshold[m]
            importance[best_feature[m]] += (
                count[m] * impurity[m] - nl * impurity_left - nr * impurity_right
            ) / n
            impurity[2 * m + 1] = impurity_left
            impurity[2 * m + 2] = impurity_right
        if depth + 1 == max_depth:
            break
        for m in range(last, 2 ** (depth + 2) - 1):
            count[m] = 0.0
            total[m] = 0.0
            sq_total[m] = 0.0
        for i in range(n):
            m = node[i]
            if m < first or feature[m] == LEAF:
                continue
            child = 2 * m + 1 if x[i, feature[m]] <= threshold[m] else 2 * m + 2
            node[i] = child
            count[child] += 1.0
            total[child] += r[i]
            sq_total[child] += r[i] * r[i]
    for i in range(n):
        m = node[i]
        while feature[m] != LEAF:
            m = 2 * m + 1 if x[i, feature[m]] <= threshold[m] else 2 * m + 2
        node[i] = m


@numba.njit(cache=True, nogil=True)
def _fit(
    x: np.ndarray,
    order: np.ndarray,
    sorted_x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    raw: np.ndarray,
    learning_rate: float,
    max_depth: int,
    feature: np.ndarray,
    threshold: np.ndarray,
    value: np.ndarray,
    importances: np.ndarray,
    tie_keys: np.ndarray,
) -> None:
    """All stages: gradient, one tree per column of ``raw`` ``(N, T)``, Newton leaf values."""
    n, n_trees = raw.shape
    n_nodes = feature.shape[2]
    neg_gradient = np.empty((n, n_trees))
    residual = np.empty(n)
    node = np.empty(n, dtype=np.int64)
    numerator = np.empty(n_nodes)
    denominator = np.empty(n_nodes)
    members = np.empty(n_nodes)
    scale = (n_classes - 1) / n_classes if n_classes > 2 else 1.0
    for stage in range(feature.shape[0]):
        _negative_gradient(y, n_classes, raw, neg_gradient)
        for k in range(n_trees):
            for i in range(n):
                residual[i] = neg_gradient[i, k]
            _grow_tree(
                x, order, sorted_x, residual, max_depth, node, feature[stage, k], threshold[stage, k],
                importances[stage, k],
                tie_keys[stage, k],
            )
            numerator[:] = 0.0
            denominator[:] = 0.0
            members[:] = 0.0
            target_class = k if n_classes > 2 else 1
            for i in range(n):
                m = node[i]
                target = 1.0 if y[i] == target_class else 0.0
                prob = target - residual[i]
                members[m] += 1.0
                numerator[m] += residual[i]
                denominator[m] += prob * (1.0 - prob)
            leaf_value = value[stage, k]
            for m in range(n_nodes):
                if members[m] == 0.0:
                    continue
                num = numerator[m] / members[m] * scale
                den = denominator[m] / members[m]
                leaf_value[m] = 0.0 if abs(den) < 1e-150 else num / den
            for i in range(n):
                raw[i, k] += learning_rate * leaf_value[node[i]]


@numba.njit(cache=True, nogil=True)
def _predict_raw(
    x: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    value: np.ndarray,
    learning_rate: float,
    out: np.ndarray,
) -> None:
    """Add every stage's leaf values (times the learning rate) to ``out`` ``(N, T)``."""
    n_stages, n_trees, _ = feature.shape
    for i in range(x.shape[0]):
        for s in range(n_stages):
            for k in range(n_trees):
                m = 0
                while feature[s, k, m] != LEAF:
                    if x[i, feature[s, k, m]] <= threshold[s, k, m]:
                        m = 2 * m + 1
                    else:
                        m = 2 * m + 2
                out[i, k] += learning_rate * value[s, k, m]
