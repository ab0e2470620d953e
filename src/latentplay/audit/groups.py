"""Sample faces of one demographic group from a latent mixture (LatentPlay's idea).

Take the latent codes of a labelled store's faces — the encoder means of a trained
autoencoder-family run, or the codes a vector column holds for any run (a generator's inverted
codes from ``embed --with invert:RUN``, e.g. a pretrained StyleGAN2's whitened W) — fit a
Gaussian mixture to the codes of each class of an attribute (number of components chosen by
BIC, or given), draw codes from a class's mixture and decode them.

>>> gm = fit_group_mixtures("runs/vae", "data/faces", "gender")
>>> z = gm.sample("female", 16, seed=0)                      # (16, D)
>>> images, labels = balanced_sample("runs/vae", "data/faces", "skin_tone", 8)
>>> gm = fit_group_mixtures("runs/ffhq", "data/fairface", "race", column="w")
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.mixture import GaussianMixture

from latentplay import store as st
from latentplay import train
from latentplay.audit.annotate import store_classes
from latentplay.errors import UserError
from latentplay.latent.codes import encode_rows
from latentplay.reprs import short_repr
from latentplay.store.io import opened
from latentplay.store.schema import UNKNOWN, class_places
from latentplay.train.api import code_sizes

PathLike = str | os.PathLike[str]
COVARIANCES = ("full", "tied", "diag", "spherical")


def group_model(run: PathLike) -> torch.nn.Module:
    """The model of ``run``, which must be unconditional (its groups are sampled from its
    latent codes, not through a condition)."""
    model = train.load_model(run)
    if model.condition_spec.dim:  # type: ignore[union-attr]
        names = [p.name for p in model.condition_spec.parts]  # type: ignore[union-attr]
        raise UserError(f"{run} is conditional on {', '.join(names)}; sample its groups through the "
                        "condition (latentplay audit compare --condition) instead")
    return model


def column_codes(model: torch.nn.Module, store: st.Store, column: str, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, str | None]:
    """The codes ``(n, D)`` float32 of ``rows`` in vector ``column`` and those rows, without
    rows whose codes are missing (NaN), and a caution when the column holds no known run's
    codes (imported vectors, another embedder's), else None; ``D`` must be a code size
    ``model`` decodes.

    Raises:
        UserError: the column's codes are of a run (``embed --with vae:RUN``/``invert:RUN``,
            ``data generate``) whose weights differ from ``model``'s: decoding them here
            would draw faces of nothing.
    """
    from latentplay.latent.directions import column_run, run_sha256

    z = st.vectors(store, column, rows)
    sizes = code_sizes(model)
    if z.shape[1] not in sizes:
        raise UserError(f"column {column!r} holds {z.shape[1]}-d vectors; this run decodes codes "
                        f"of {' or '.join(map(str, sizes))} values")
    made_by, sha = column_run(store, column)
    run_dir = getattr(model, "run_dir", None)
    caution = None
    if made_by is None:
        caution = (f"column {column!r} holds no known run's codes (imported vectors, or another "
                   f"embedder's): the groups mean something only if they are {run_dir}'s codes")
    elif run_dir is not None:
        here = run_sha256(run_dir)
        if sha is not None and here is not None and sha != here:
            raise UserError(f"column {column!r} holds codes of run {made_by}, whose weights are not "
                            f"those of {run_dir}: embed the store with this run (`latentplay embed "
                            f"--with vae:{run_dir}` or invert:) and give that column")
    keep = np.isfinite(z).all(1)
    return z[keep], rows[keep], caution


CHOSEN_BY = {
    "given": "as asked",
    "cut": "fewer than asked: all the codes support",
    "only": "the only number tried or supported",
    "bic": "lowest BIC",
    "held_out": "highest 5-fold held-out log-likelihood",
    "shrunk": "too few codes: one, Ledoit-Wolf shrunk covariance",
}
"""How :func:`fit_mixture` chose a group's number of components (``chosen_by`` in
``groups.json``), in words."""


def fit_mixture(z: np.ndarray, components: int | None = None, max_components: int = 4,
                covariance: str = "full", seed: int = 0
                ) -> tuple[GaussianMixture, str | None, str]:
    """A Gaussian mixture of ``(n, D)`` codes, a note when the rows could not support the
    mixture asked for (None otherwise) and how its number of components was chosen (a key of
    :data:`CHOSEN_BY`: ``given``, ``cut``, ``only``, ``bic``, ``held_out`` or ``shrunk``).

    Components: ``components`` of them, or the number in ``1..max_components`` that scores best:
    the lowest BIC when the group has at least as many codes as the largest mixture has free
    parameters (:func:`free_parameters`; full covariance ``k (D + D (D + 1) / 2 + 1) - 1``:
    611 codes for 4 components in 16 dimensions), else the highest held-out log-likelihood of
    5-fold cross-validation (:func:`held_out_score`). With fewer codes than parameters BIC's
    approximation fails both ways: it split 17 % of single-Gaussian groups of 25 codes in 8
    dimensions into near-singular components (held-out likelihood: none of 100), and capping
    the components at the parameter count gave single Gaussians to VAE groups of 170-190 codes
    whose held-out likelihood rises with every component (26 to 37 nats per code from 1 to 4).
    A ``full`` or ``tied`` covariance needs ``D + 2`` rows per component (fewer give a singular
    estimate: draws in the span of the rows, near copies of them), so a given ``components``
    is cut to what the rows support, and a group of fewer than ``D + 2`` rows gets one
    component with a Ledoit-Wolf shrunk covariance instead.
    Every covariance is regularized by ``1e-4`` of the codes' mean variance (the same share
    whatever their scale).

    Raises:
        UserError: fewer than 2 codes (no spread to model), or an unknown ``covariance``.
    """
    n, dim = z.shape
    if n < 2:
        raise UserError(f"{n} code(s) are too few to model (at least 2)")
    if covariance not in COVARIANCES:
        raise UserError(f"covariance (--covariance) must be one of {', '.join(COVARIANCES)}, "
                        f"got {covariance!r}")
    reg = 1e-4 * (float(z.var(axis=0).mean()) or 1.0)
    per = dim + 2 if covariance in ("full", "tied") else 2  # rows one component's covariance needs
    if n < per:
        return _shrunk(z, reg), (f"{n} codes in {dim} dimensions are too few for a {covariance} "
                                 f"covariance ({per} needed): one component, Ledoit-Wolf shrunk "
                                 "covariance"), "shrunk"
    note = None
    if components is not None:
        candidates = [min(components, n // per)]
        if components > candidates[0]:
            note = (f"{n} codes in {dim} dimensions support {candidates[0]} {covariance}-covariance "
                    f"component(s) ({per} codes each), not {components}")
    else:
        candidates = list(range(1, max(1, min(max_components, n // per)) + 1))
    fits = [GaussianMixture(k, covariance_type=covariance, reg_covar=reg, random_state=seed)
            .fit(z) for k in candidates]
    if components is not None:
        return fits[0], note, "given" if note is None else "cut"
    if len(fits) == 1:
        return fits[0], note, "only"
    if free_parameters(candidates[-1], dim, covariance) <= n:
        return min(fits, key=lambda g: g.bic(z)), note, "bic"
    scores = [held_out_score(z, k, covariance, reg, seed) for k in candidates]
    return fits[int(np.argmax(scores))], note, "held_out"


def held_out_score(z: np.ndarray, k: int, covariance: str, reg: float, seed: int,
                   folds: int = 5) -> float:
    """Mean log-likelihood per code of ``(n, D)`` codes under a ``k``-component mixture fitted
    to the other folds (``folds``-fold cross-validation, shuffled with ``seed``; leave-one-out
    for fewer than ``folds`` codes)."""
    from sklearn.model_selection import KFold

    scores = [GaussianMixture(k, covariance_type=covariance, reg_covar=reg, random_state=seed)
              .fit(z[fit]).score(z[held]) for fit, held in
              KFold(min(folds, len(z)), shuffle=True, random_state=seed).split(z)]
    return float(np.mean(scores))


def free_parameters(k: int, dim: int, covariance: str) -> int:
    """Free parameters of a ``k``-component mixture in ``dim`` dimensions (means, covariances,
    ``k - 1`` weights), as scikit-learn counts them for ``GaussianMixture.bic``."""
    cov = {"full": k * dim * (dim + 1) // 2, "tied": dim * (dim + 1) // 2, "diag": k * dim,
           "spherical": k}[covariance]
    return cov + k * dim + k - 1


def _shrunk(z: np.ndarray, reg: float) -> GaussianMixture:
    """A one-component full-covariance mixture of ``(n, D)`` codes: their mean and their
    Ledoit-Wolf shrunk covariance plus ``reg`` on the diagonal (positive definite)."""
    from sklearn.covariance import LedoitWolf

    lw = LedoitWolf().fit(z)
    cov = lw.covariance_ + reg * np.eye(z.shape[1])
    gm = GaussianMixture(1, covariance_type="full", reg_covar=reg)
    gm.weights_, gm.means_, gm.covariances_ = np.ones(1), lw.location_[None], cov[None]
    gm.precisions_cholesky_ = np.linalg.inv(np.linalg.cholesky(cov)).T[None]
    gm.precisions_ = np.linalg.inv(cov)[None]
    gm.converged_, gm.n_iter_, gm.lower_bound_, gm.n_features_in_ = True, 0, np.nan, z.shape[1]
    return gm


def mixture_sample(gm: GaussianMixture, n: int, seed: int = 0) -> np.ndarray:
    """``(n, D)`` float32 draws from a fitted mixture, in random order: component counts from
    its weights, then ``mean + L g`` with ``L`` the Cholesky factor of the component's
    covariance (positive definite by the fit's ``reg_covar``; NumPy's own sampler checks that
    with an absolute tolerance and warns, wrongly, for codes of large variance)."""
    rng = np.random.default_rng(seed)
    dim = gm.means_.shape[1]
    counts = rng.multinomial(n, gm.weights_)
    parts = [gm.means_[k] + rng.standard_normal((c, dim)) @ np.linalg.cholesky(
        _covariance(gm, k)).T for k, c in enumerate(counts)]
    z = np.concatenate(parts) if parts else np.zeros((0, dim))
    return rng.permutation(z).astype(np.float32)


def _covariance(gm: GaussianMixture, k: int) -> np.ndarray:
    """``(D, D)`` covariance of component ``k`` whatever the mixture's covariance type."""
    dim = gm.means_.shape[1]
    if gm.covariance_type == "full":
        return gm.covariances_[k]
    if gm.covariance_type == "tied":
        return gm.covariances_
    if gm.covariance_type == "diag":
        return np.diag(gm.covariances_[k])
    return np.eye(dim) * gm.covariances_[k]


@dataclass
class GroupMixtures:
    """One Gaussian mixture per class of an attribute, fitted in a run's latent space.

    Attributes:
        run: the run directory.
        model: its model (loaded once; decodes every draw).
        attribute: attribute name.
        classes: class names with at least one row (one mixture each).
        mixtures: the fitted ``GaussianMixture`` of each class.
        counts: ``(K,)`` rows encoded per class.
        notes: for a class whose rows could not support the mixture asked for, what it got
            instead (:func:`fit_mixture`; also issued as a warning).
        chosen_by: how each class's number of components was chosen (a key of
            :data:`CHOSEN_BY`).
        skipped: classes of the attribute without a row with a code (no mixture).
        components: the number of components asked for (None: chosen per class).
        max_components: the largest number tried when choosing.
        covariance: the covariance type of every component.
        unlabelled: rows encoded without a class of the attribute (unknown), in no group.
        caution: a ``column`` of no known run's codes (:func:`column_codes`), else None.
    """

    __repr__ = short_repr

    run: PathLike
    model: torch.nn.Module
    attribute: str
    classes: list[str]
    mixtures: list[GaussianMixture]
    counts: np.ndarray
    notes: dict[str, str]
    chosen_by: dict[str, str]
    skipped: list[str]
    components: int | None
    max_components: int
    covariance: str
    unlabelled: int = 0
    caution: str | None = None

    def index(self, group: str | int) -> int:
        """Position of ``group`` (class name or position) in :attr:`classes`."""
        if isinstance(group, str):
            if group not in self.classes:
                raise UserError(f"{self.attribute}: no group {group!r}; groups: {self.classes}")
            return self.classes.index(group)
        if not 0 <= int(group) < len(self.classes):
            raise UserError(f"{self.attribute}: no group {group}; groups are 0..{len(self.classes) - 1}"
                            f" ({', '.join(self.classes)})")
        return int(group)

    def sample(self, group: str | int, n: int, seed: int = 0) -> np.ndarray:
        """``(n, D)`` float32 codes drawn from ``group``'s mixture, in random order."""
        return mixture_sample(self.mixtures[self.index(group)], n, seed)

    def images(self, group: str | int, n: int, seed: int = 0) -> np.ndarray:
        """``(n, S, S, C)`` uint8 faces of ``group``: decoded :meth:`sample` codes."""
        return train.decode(self.model, self.sample(group, n, seed))


def fit_group_mixtures(
    run: PathLike,
    store: st.Store | PathLike,
    attribute: str,
    *,
    components: int | None = None,
    max_components: int = 4,
    covariance: str = "full",
    max_rows: int | None = 20000,
    seed: int = 0,
    column: str | None = None,
) -> GroupMixtures:
    """Fit a mixture per class of ``attribute`` to the latent codes of ``store``'s faces:
    ``run``'s encoder means, or the codes in vector ``column``.

    Args:
        run: an unconditional run directory: an autoencoder-family run, or with ``column``
            any run that decodes that column's codes.
        store: labelled store (or its path), usually the run's training data.
        attribute: categorical or factor attribute defining the groups.
        components: mixture components per group (None: chosen by BIC).
        max_components: largest number tried (by BIC or held-out likelihood).
        covariance: ``full``, ``diag``, ``tied`` or ``spherical``.
        max_rows: encode at most this many random rows (None: all).
        seed: seeds the row sample and the mixtures.
        column: a vector column holding the rows' codes for ``run`` (rows without codes,
            NaN, are left out); None encodes the images.
    """
    store = opened(store)
    names, codes = store_classes(store, attribute)
    if components is not None and components < 1:
        raise UserError(f"components (--components) must be at least 1, got {components}")
    rows = np.arange(len(store))
    if max_rows is not None and len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
    model = group_model(run)
    if column is None:
        if not model.has_encoder:
            raise UserError(f"{run} has no encoder; give the column of its codes for these faces "
                            "(--column, e.g. written by `latentplay embed --with invert:RUN`)")
        z, caution = encode_rows(model, store, rows), None
    else:
        z, rows, caution = column_codes(model, store, column, rows)
    labelled = class_places(codes[rows], names) >= 0  # rows without a value join no group
    z, rows = z[labelled], rows[labelled]
    present, counts = np.unique(codes[rows], return_counts=True)
    classes = [names[int(c)] for c in present]
    single = [f"{name!r} ({m})" for name, m in zip(classes, counts, strict=True) if m < 2]
    if single:
        raise UserError(f"{attribute}: too few faces with a code to model group(s) "
                        f"{', '.join(single)} (at least 2 each); keep the other groups with "
                        f"`latentplay data subset --where {attribute}=...`")
    mixtures, notes, chosen_by = [], {}, {}
    for name, c in zip(classes, present, strict=True):
        gm, note, chosen_by[name] = fit_mixture(z[codes[rows] == c], components, max_components,
                                                covariance, seed)
        mixtures.append(gm)
        if note:
            notes[name] = note
            warnings.warn(f"{attribute}: group {name!r}: {note}", stacklevel=2)
    skipped = [name for name in names if name != UNKNOWN and name not in classes]
    return GroupMixtures(run, model, attribute, classes, mixtures, counts, notes, chosen_by,
                         skipped, components, max_components, covariance,
                         unlabelled=int((~labelled).sum()), caution=caution)


def balanced_sample(
    run: PathLike,
    store: st.Store | PathLike,
    attribute: str,
    n_per_group: int,
    *,
    seed: int = 0,
    components: int | None = None,
    mixtures: GroupMixtures | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Equal numbers of faces of every class of ``attribute``.

    Args:
        run, store, attribute: as in :func:`fit_group_mixtures`.
        n_per_group: faces per class.
        seed: seeds the draws (and the fit).
        components: mixture components per group (None: chosen by BIC).
        mixtures: already fitted mixtures of ``run`` (then ``store`` is not read).

    Returns:
        ``(K * n_per_group, S, S, C)`` uint8 images and ``(K * n_per_group,)`` int indices of
        their intended group in ``mixtures.classes`` (grouped, class 0 first).
    """
    gm = mixtures or fit_group_mixtures(run, store, attribute, components=components, seed=seed)
    z = np.concatenate([gm.sample(k, n_per_group, seed + k) for k in range(len(gm.classes))])
    labels = np.repeat(np.arange(len(gm.classes)), n_per_group)
    return train.decode(gm.model, z), labels
