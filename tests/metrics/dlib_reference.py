"""A literal, loop-by-loop rendering of disentanglement_lib's metric algorithms (test oracle).

disentanglement_lib (TensorFlow 1) cannot be installed here, so these functions restate its
evaluation/metrics/*.py step by step, in its own (num_codes, num_points) array convention and
with the same scikit-learn calls, so that latentplay's vectorised metrics can be compared to
them on the same arrays. Deliberately slow and plain: no vectorisation beyond the original's.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
import sklearn.metrics
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC


def histogram_discretize(target, num_bins=20):
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        edges = np.histogram(target[i, :], num_bins)[1][:-1]
        discretized[i, :] = np.digitize(target[i, :], edges)
    return discretized


def discrete_mutual_info(mus, ys):
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = sklearn.metrics.mutual_info_score(ys[j, :], mus[i, :])
    return m


def discrete_entropy(ys):
    h = np.zeros(ys.shape[0])
    for j in range(ys.shape[0]):
        h[j] = sklearn.metrics.mutual_info_score(ys[j, :], ys[j, :])
    return h


def mig(mus, ys):
    m = discrete_mutual_info(histogram_discretize(mus), ys)
    entropy = discrete_entropy(ys)
    sorted_m = np.sort(m, axis=0)[::-1]
    return {"discrete_mig": np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], entropy[:]))}


def sap(mus, ys, mus_test, ys_test, continuous_factors, seed=None):
    num_latents, num_factors = mus.shape[0], ys.shape[0]
    score = np.zeros([num_latents, num_factors])
    for i in range(num_latents):
        for j in range(num_factors):
            mu_i, y_j = mus[i, :], ys[j, :]
            if continuous_factors:
                cov = np.cov(mu_i, y_j, ddof=1)
                cov_mu_y = cov[0, 1] ** 2
                var_mu, var_y = cov[0, 0], cov[1, 1]
                score[i, j] = cov_mu_y * 1.0 / (var_mu * var_y) if var_mu > 1e-12 else 0.0
            else:
                clf = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
                clf.fit(mu_i[:, np.newaxis], y_j)
                pred = clf.predict(mus_test[i, :][:, np.newaxis])
                score[i, j] = np.mean(pred == ys_test[j, :])
    sorted_matrix = np.sort(score, axis=0)
    return {"SAP_score": np.mean(sorted_matrix[-1, :] - sorted_matrix[-2, :])}


def dci(mus, ys, mus_test, ys_test, seed=None):
    num_factors, num_codes = ys.shape[0], mus.shape[0]
    importance = np.zeros([num_codes, num_factors])
    train_loss, test_loss = [], []
    for i in range(num_factors):
        model = GradientBoostingClassifier(random_state=seed)
        model.fit(mus.T, ys[i, :])
        importance[:, i] = np.abs(model.feature_importances_)
        train_loss.append(np.mean(model.predict(mus.T) == ys[i, :]))
        test_loss.append(np.mean(model.predict(mus_test.T) == ys_test[i, :]))
    return {
        "informativeness_train": np.mean(train_loss),
        "informativeness_test": np.mean(test_loss),
        "disentanglement": dci_disentanglement(importance),
        "completeness": dci_completeness(importance),
    }


def dci_disentanglement(importance):
    per_code = 1.0 - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    code_importance = importance.sum(axis=1) / importance.sum()
    return np.sum(per_code * code_importance)


def dci_completeness(importance):
    per_factor = 1.0 - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    factor_importance = importance.sum(axis=0) / importance.sum()
    return np.sum(per_factor * factor_importance)


def irs(mus, ys, diff_quantile=0.99):
    ys_discrete = histogram_discretize(ys)
    active_mus = mus[mus.var(axis=1) > 0.0, :]
    gen_factors, latents = ys_discrete.T, active_mus.T
    num_gen, num_lat = gen_factors.shape[1], latents.shape[1]
    max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    cum_deviations = np.zeros([num_lat, num_gen])
    for i in range(num_gen):
        unique_factors = np.unique(gen_factors[:, i], axis=0)
        for k in range(unique_factors.shape[0]):
            match = gen_factors[:, i] == unique_factors[k]
            e_loc = np.mean(latents[match, :], axis=0)
            diffs = np.abs(latents[match, :] - e_loc)
            cum_deviations[:, i] += np.percentile(diffs, q=diff_quantile * 100, axis=0)
        cum_deviations[:, i] /= unique_factors.shape[0]
    irs_matrix = 1.0 - cum_deviations / max_deviations[:, np.newaxis]
    scores = irs_matrix.max(axis=1)
    if np.sum(max_deviations) > 0.0:
        return {"IRS": np.average(scores, weights=max_deviations)}
    return {"IRS": np.mean(scores)}


def modularity_explicitness(mus, ys, mus_test, ys_test):
    mi = discrete_mutual_info(histogram_discretize(mus), ys)
    squared_mi = np.square(mi)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    modularity_score = 1.0 - numerator / denominator
    modularity_score[max_squared_mi == 0.0] = 0.0
    mean, std = np.mean(mus, axis=1), np.std(mus, axis=1)
    norm = (mus - mean[:, None]) / std[:, None]
    norm_test = (mus_test - mean[:, None]) / std[:, None]
    train, test = [], []
    for i in range(ys.shape[0]):
        clf = LogisticRegression().fit(norm.T, ys[i, :])
        mlb = MultiLabelBinarizer()
        train.append(
            sklearn.metrics.roc_auc_score(
                mlb.fit_transform(np.expand_dims(ys[i, :], 1)), clf.predict_proba(norm.T)
            )
        )
        test.append(
            sklearn.metrics.roc_auc_score(
                mlb.fit_transform(np.expand_dims(ys_test[i, :], 1)), clf.predict_proba(norm_test.T)
            )
        )
    return {
        "modularity_score": np.mean(modularity_score),
        "explicitness_score_train": np.mean(train),
        "explicitness_score_test": np.mean(test),
    }


def beta_vae_features(codes1, codes2):
    """One training point per pair of batches: ``np.mean(np.abs(r1 - r2), axis=0)``."""
    points = np.zeros((codes1.shape[0], codes1.shape[2]))
    for p in range(codes1.shape[0]):
        points[p, :] = np.mean(np.abs(codes1[p] - codes2[p]), axis=0)
    return points


def factor_vae_votes(factor_index, codes, global_variances, active_dims, num_factors):
    votes = np.zeros((num_factors, global_variances.shape[0]), dtype=np.int64)
    for p in range(codes.shape[0]):
        local_variances = np.var(codes[p], axis=0, ddof=1)
        argmin = np.argmin(local_variances[active_dims] / global_variances[active_dims])
        votes[factor_index[p], argmin] += 1
    return votes


def factor_vae_accuracy(training_votes, eval_votes):
    classifier = np.argmax(training_votes, axis=0)
    other_index = np.arange(training_votes.shape[1])
    train = np.sum(training_votes[classifier, other_index]) * 1.0 / np.sum(training_votes)
    evaluation = np.sum(eval_votes[classifier, other_index]) * 1.0 / np.sum(eval_votes)
    return {"train_accuracy": train, "eval_accuracy": evaluation}
