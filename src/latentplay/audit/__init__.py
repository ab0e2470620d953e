"""Audit generative models for demographic balance.

- :mod:`~latentplay.audit.annotate`: annotators that label images with an attribute's classes
  (:func:`fit_classifier`, :func:`load_annotator`, :class:`ClipAnnotator`,
  :class:`NetworkAnnotator`), with their own
  held-out accuracy and confusion matrix.
- :mod:`~latentplay.audit.distribution`: training vs generated class distribution (Wilson
  intervals, chi-square, total variation, Jensen-Shannon) and the confusion-corrected
  proportions (:func:`compare`).
- :mod:`~latentplay.audit.share_ratio`: each class's audited over training share, with
  intervals that hold for all classes together (:func:`share_ratios`, :class:`ShareRatios`).
- :mod:`~latentplay.audit.goodness_of_fit`: the chi-square test through an annotator
  (:func:`chi_square`) and its p-value simulated where classes expect few images
  (:func:`simulated_p`).
- :mod:`~latentplay.audit.groups`: faces of one group drawn from a Gaussian mixture fitted to
  that group's latent codes (:func:`fit_group_mixtures`, :func:`balanced_sample`).
- :mod:`~latentplay.metrics.fidelity`: precision, recall, density, coverage (k-NN balls in a
  feature space), Frechet and kernel distances between generated and training features;
  :mod:`~latentplay.audit.fidelity`: :func:`audit_fidelity`, the same per demographic group
  with the least covered training images (``latentplay audit fidelity``).
- :mod:`~latentplay.audit.run`: what ``latentplay audit compare`` / ``sample-groups`` write;
  :mod:`~latentplay.audit.truncation`: :func:`truncation_sweep`, the same draws audited at
  several truncation psi (``audit compare --psi``).
- :mod:`~latentplay.audit.verification`: face verification with an embedding column, group by
  group (:func:`verify_store`, :func:`verify_columns`; measures in
  :mod:`latentplay.metrics.verification`).
- :mod:`~latentplay.audit.detection`: who the face detector finds at every score threshold,
  group by group (:func:`detection_sweep`, ``latentplay audit detection``).
- :mod:`~latentplay.audit.reconstruction`: whose faces a trained model redraws worse, group
  by group (:func:`audit_reconstruction`, ``latentplay audit reconstruction``).
- :mod:`~latentplay.audit.accuracy`: predictions against labels group by group
  (:func:`group_accuracy`, ``latentplay audit accuracy``).
- :mod:`~latentplay.audit.counterfactual`: a classifier's answers on faces changed in one
  attribute (along its latent direction, against random directions, or through a condition;
  :func:`direction_edits`, :func:`condition_edits`, :func:`counterfactuals`);
  :mod:`~latentplay.audit.counterfactual_values`: the same for a reader of values;
  :mod:`~latentplay.audit.counterfactual_run`: :func:`audit_counterfactual`, what
  ``latentplay audit counterfactual`` writes (and :mod:`~latentplay.audit.counterfactual_text`
  what it prints).

>>> from latentplay import audit, train
>>> ann = audit.fit_classifier("data/faces", "gender")
>>> imgs = train.sample("runs/dcgan", 2000)
>>> audit.audit_images(imgs, "data/faces", [ann], "audits/dcgan")
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.audit.accuracy import group_accuracy as group_accuracy
    from latentplay.audit.annotate import Annotator as Annotator
    from latentplay.audit.annotate import ClassifierAnnotator as ClassifierAnnotator
    from latentplay.audit.annotate import ClipAnnotator as ClipAnnotator
    from latentplay.audit.annotate import Evaluation as Evaluation
    from latentplay.audit.annotate import NetworkAnnotator as NetworkAnnotator
    from latentplay.audit.annotate import StoreLabels as StoreLabels
    from latentplay.audit.annotate import class_prompts as class_prompts
    from latentplay.audit.annotate import fit_classifier as fit_classifier
    from latentplay.audit.annotate import load_annotator as load_annotator
    from latentplay.audit.correction import correct_confusion as correct_confusion
    from latentplay.audit.counterfactual import Counterfactuals as Counterfactuals
    from latentplay.audit.counterfactual import Edits as Edits
    from latentplay.audit.counterfactual import condition_edits as condition_edits
    from latentplay.audit.counterfactual import counterfactuals as counterfactuals
    from latentplay.audit.counterfactual import direction_edits as direction_edits
    from latentplay.audit.counterfactual_run import audit_counterfactual as audit_counterfactual
    from latentplay.audit.counterfactual_values import ValueCounterfactuals as ValueCounterfactuals
    from latentplay.audit.counterfactual_values import value_counterfactuals as value_counterfactuals
    from latentplay.audit.detection import detection_sweep as detection_sweep
    from latentplay.audit.distribution import Comparison as Comparison
    from latentplay.audit.distribution import Faithful as Faithful
    from latentplay.audit.distribution import Shift as Shift
    from latentplay.audit.distribution import compare as compare
    from latentplay.audit.distribution import fairness_discrepancy as fairness_discrepancy
    from latentplay.audit.distribution import js_divergence as js_divergence
    from latentplay.audit.distribution import ordinal_shift as ordinal_shift
    from latentplay.audit.distribution import total_variation as total_variation
    from latentplay.audit.fidelity import audit_fidelity as audit_fidelity
    from latentplay.audit.goodness_of_fit import JointCounts as JointCounts
    from latentplay.audit.goodness_of_fit import chi_square as chi_square
    from latentplay.audit.goodness_of_fit import simulated_p as simulated_p
    from latentplay.audit.groups import GroupMixtures as GroupMixtures
    from latentplay.audit.groups import balanced_sample as balanced_sample
    from latentplay.audit.groups import fit_group_mixtures as fit_group_mixtures
    from latentplay.audit.reconstruction import audit_reconstruction as audit_reconstruction
    from latentplay.audit.run import audit_images as audit_images
    from latentplay.audit.run import generate as generate
    from latentplay.audit.run import joint_comparison as joint_comparison
    from latentplay.audit.run import label_annotators as label_annotators
    from latentplay.audit.run import sample_groups as sample_groups
    from latentplay.audit.share_ratio import ShareRatios as ShareRatios
    from latentplay.audit.share_ratio import share_ratios as share_ratios
    from latentplay.audit.truncation import truncation_sweep as truncation_sweep
    from latentplay.audit.values import ValueComparison as ValueComparison
    from latentplay.audit.values import compare_values as compare_values
    from latentplay.audit.verification import verify_columns as verify_columns
    from latentplay.audit.verification import verify_store as verify_store
    from latentplay.audit.versus import compare_audits as compare_audits
    from latentplay.intervals import wilson_interval as wilson_interval
    from latentplay.metrics.fidelity import PRDC as PRDC
    from latentplay.metrics.fidelity import frechet_distance as frechet_distance
    from latentplay.metrics.fidelity import kernel_distance as kernel_distance
    from latentplay.metrics.fidelity import prdc as prdc

_EXPORTS = {
    **dict.fromkeys(["Annotator", "ClassifierAnnotator", "ClipAnnotator", "Evaluation",
                     "NetworkAnnotator", "StoreLabels", "class_prompts", "fit_classifier", "load_annotator"],
                    "annotate"),
    **dict.fromkeys(["Comparison", "Faithful", "Shift", "compare", "correct_confusion",
                     "fairness_discrepancy", "js_divergence", "ordinal_shift", "total_variation",
                     "wilson_interval"], "distribution"),
    **dict.fromkeys(["JointCounts", "chi_square", "simulated_p"], "goodness_of_fit"),
    **dict.fromkeys(["ShareRatios", "share_ratios"], "share_ratio"),
    "audit_fidelity": "fidelity",
    "group_accuracy": "accuracy",
    **dict.fromkeys(["Counterfactuals", "Edits", "condition_edits", "counterfactuals",
                     "direction_edits"], "counterfactual"),
    "audit_counterfactual": "counterfactual_run",
    **dict.fromkeys(["ValueCounterfactuals", "value_counterfactuals"],
                    "counterfactual_values"),
    **dict.fromkeys(["GroupMixtures", "balanced_sample", "fit_group_mixtures"], "groups"),
    **dict.fromkeys(["audit_images", "generate", "joint_comparison", "label_annotators",
                     "sample_groups"], "run"),
    "truncation_sweep": "truncation",
    "detection_sweep": "detection",
    "audit_reconstruction": "reconstruction",
    **dict.fromkeys(["verify_columns", "verify_store"], "verification"),
    **dict.fromkeys(["ValueComparison", "compare_values"], "values"),
    "compare_audits": "versus",
    **dict.fromkeys(["PRDC", "frechet_distance", "kernel_distance", "prdc"],
                    "latentplay.metrics.fidelity"),
}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
