"""What ``latentplay audit fidelity`` writes: how close generated images come to the training
images, and which groups of the training set they leave uncovered.

Training and generated images are brought to the same size, crop and mode, embedded by one
embedder (``pixels-pca`` fitted on the training sample, ``dlib``, ``vae:RUN``, ``clip:PATH``),
and compared in that feature space with :mod:`latentplay.metrics.fidelity`. Per class of each
``by`` attribute, coverage and recall are read from the training rows' own labels; precision
and density per class need an annotator for the generated images; each class's coverage and
recall sit beside the held-out images' (a small class set apart scores high whatever draws it),
and a conditional run's per-class numbers are also given at a common count
(:func:`conditional_rows`). Along an ordered ``by`` (Monk tones, age groups), ``trends`` says
how coverage and recall change per class step. ``--images`` are named by their folder.

Outputs in ``out``: ``fidelity.json``; per attribute ``fidelity_<attr>.csv`` and
``fidelity_<attr>.png`` (coverage and recall per class with Wilson intervals); ``uncovered.png``
(the training images farthest from every generated one, each beside its nearest generated
image); ``copies.png`` (the generated images nearest to a training image, each beside it).
``fidelity.json``'s ``reference`` holds what held-out training images (of other persons, when
the store repeats persons) score against the same training sample: what a generator that drew
new faces from the data itself would reach. It holds as many as were generated where the store
leaves that many; where it leaves fewer, ``reference["generated_at_n"]`` gives the generated
images' measures at the reference's count too (a random ``n`` of them), the numbers to set
beside it.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay import store as st
from latentplay.audit.annotate import Annotator, store_classes
from latentplay.audit.distribution import data_name, possessive
from latentplay.embed.base import embed_images, fit_embedder, make_embedder
from latentplay.embed.column import load_rows
from latentplay.errors import UserError
from latentplay.intervals import proportion_interval
from latentplay.metrics.fidelity import PRDC, frechet_distance, kernel_distance, prdc
from latentplay.metrics.verification import rate_trend
from latentplay.outputs import json_default, made_by, output_dir, refuse_nonempty, staged_outputs
from latentplay.store.bias import repeated_persons
from latentplay.store.images import check_fit
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import UNKNOWN, class_places, trend_groups
from latentplay.train.fidelity import flat_caution, flat_threshold, pixel_contrast

if TYPE_CHECKING:
    from latentplay.audit.run import Audited

PathLike = str | os.PathLike[str]
UNCOVERED_SHOWN = 12
PER_GROUP = ("fidelity_*.csv", "fidelity_*.png")
"""The files :func:`audit_fidelity` writes per ``--by`` attribute: an earlier run's of
attributes this one does not write are removed from ``out`` (``--overwrite``)."""
COPY_MEANING = {True: "<= 1: a copy",
                False: "<= 1: as near as a copy, though the run was trained on other images",
                None: "<= 1: as near as a copy; a copy if these images trained the generator"}
"""What a ratio of at most 1 in ``copies.png`` means, by whether ``--data`` trained the run."""
COMMON_REPEATS = 20
"""Random cuts averaged for the conditional measures at a common count (:func:`conditional_rows`)."""
OFF_CAUTION_SHARE, OFF_CAUTION_TIMES = 0.10, 3.0
"""An off-subspace share at least this and this many times the held-out share gets a caution
(:func:`off_subspace_caution`)."""
PAIRS_PER_ROW, PAIR_INCHES = 4, 1.1   # copies.png and uncovered.png: pairs per row, image size


@dataclass(frozen=True)
class Samples:
    """Generated images and, for a conditional run sampled under the conditions of store rows,
    those rows and the attributes the run is conditioned on."""

    images: np.ndarray  # (M, S, S, C) uint8
    rows: np.ndarray | None = None  # (M,) store row whose condition drew each image
    conditioned_on: tuple[str, ...] = ()


def sample_run(run: PathLike, data: st.Store, n: int, seed: int = 0,
               condition: Mapping[str, Any] | None = None, device: str = "cpu") -> Samples:
    """``n`` prior samples of ``run``, decoded on ``device``. A conditional run without
    ``condition`` is sampled under the conditions of ``n`` random rows of ``data`` (the
    training set's own mix), so that its samples are comparable with the training images, and
    each sample's intended class is known; with ``condition`` every sample takes it (see
    :func:`latentplay.audit.run.generate`)."""
    from latentplay import train
    from latentplay.audit.run import generate
    from latentplay.models.condition import ConditionSpec
    from latentplay.train.checkpoint import read_meta

    spec = ConditionSpec.from_dict(read_meta(run)["condition"])  # model.json: no weights read
    if not spec.dim or condition:
        return Samples(generate(run, n, seed=seed, condition=condition, device=device))
    rows = np.random.default_rng(seed).choice(len(data), size=n, replace=True)
    device = train.resolve_device(device)
    images = train.sample(train.load_model(run, device), n, seed=seed,
                          condition=spec.encode_store(data)[rows], device=device)
    return Samples(images, rows, tuple(p.name for p in spec.parts))


def training_sample(data: st.Store, n: int, like: np.ndarray, crop: float = 1.0,
                    seed: int = 0, exclude: np.ndarray | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` random rows of ``data`` (sorted; none of ``exclude``) and their images
    prepared as the generated images ``like`` ``(M, S, S, C)`` are: centre-cropped to ``crop``,
    resized to ``S``, gray when ``C`` is 1.

    Returns:
        ``(n,)`` row numbers and ``(n, S, S, C)`` uint8 images.
    """
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(len(data)), exclude if exclude is not None else [])
    rows = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    size, channels = like.shape[1], like.shape[3]
    mode = "L" if channels == 1 else "RGB"
    if not len(rows):
        return rows, np.zeros((0, size, size, channels), np.uint8)
    # one array filled a chunk at a time (batches joined at the end held the images twice)
    return rows, load_rows(data, rows, size=size, mode=mode, crop=crop)


def check_counts(k: int, n_generated: int, n_real: int) -> None:
    """Refuse, before anything is computed or written, a ``k`` that is no positive integer or
    that ``n_generated`` audited images or ``n_real`` images of ``--data`` cannot exceed."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise UserError(f"--k must be a positive number of neighbours, got {k}")
    if min(n_generated, n_real) <= k:
        raise UserError(f"k={k} needs more than {k} images of each side; got {n_real} of --data "
                        f"and {n_generated} audited")


def fidelity_options(features: str, options: Sequence[str]) -> list[str]:
    """The embedder options fidelity uses: ``pixels-pca`` gets ``residual=true`` unless told
    otherwise, so that images unlike every training image (noise, artefacts), whose principal
    components are small, are not counted near the training images around the mean -- precision
    1.0 for uniform noise without it."""
    options = list(options)
    if features == "pixels-pca" and not any(o.split("=", 1)[0] == "residual" for o in options):
        options.append("residual=true")
    return options


def audit_fidelity(
    images: np.ndarray,
    data: st.Store | PathLike,
    out: PathLike,
    *,
    features: str = "pixels-pca",
    options: Sequence[str] = (),
    n_real: int | None = None,
    crop: float = 1.0,
    k: int = 5,
    by: Sequence[str] = (),
    annotators: Sequence[Annotator] = (),
    sample_rows: np.ndarray | None = None,
    conditioned_on: Sequence[str] = (),
    seed: int = 0,
    overwrite: bool = False,
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compare generated ``images`` with a sample of ``data``'s images in a feature space and
    write every output to ``out``.

    Args:
        images: ``(M, S, S, C)`` uint8 generated images.
        data: the training store.
        out: output directory (new or empty unless ``overwrite``).
        features: embedder name; ``options`` its ``key=value`` options.
        n_real: training images compared (default: as many as generated, at most all).
        crop: centre crop the model was trained on (``model.json``'s ``crop``), applied to the
            training images so both sides show the same part of the picture.
        k: neighbourhood size of precision, recall, density and coverage.
        by: attributes of ``data`` to break coverage and recall down by.
        annotators: annotators of ``by`` attributes for per-class precision and density.
        sample_rows: ``(M,)`` rows of ``data`` whose conditions drew the images (a conditional
            run, see :func:`sample_run`); with ``conditioned_on``, every ``by`` attribute the
            run is conditioned on also gets each class compared with the samples drawn for it
            alone (:func:`conditional_rows`).
        seed: sampling seed.

    Returns:
        The summary written to ``out/fidelity.json``.
    """
    data = opened(data)
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise UserError("generated images must be one (M, S, S, C) uint8 array of equal sizes")
    if n_real is not None and n_real < 1:
        raise UserError(f"--real (n_real) must be a positive number of training images, got {n_real}")
    check_fit(None, None, crop)
    for name in by:
        if data.schema.attribute_or_error(name).kind == "continuous":
            raise UserError(f"--by {name}: the attribute is continuous; give categorical ones "
                            f"(cut it into groups with `latentplay data bin STORE {name}`)")
    check_counts(k, len(images), min(len(images) if n_real is None else n_real, len(data)))
    refuse_nonempty(out, overwrite)   # --out is made once every setting has passed
    rows, real_images = training_sample(data, len(images) if n_real is None else n_real, images,
                                         crop, seed)

    embedder = fit_embedder(make_embedder(features, fidelity_options(features, options)),
                            real_images)
    real, real_ok = embed_images(embedder, real_images)
    fake, fake_ok = embed_images(embedder, images)
    dropped_rows = rows[~real_ok]
    rows, real_images, real = rows[real_ok], real_images[real_ok], real[real_ok]
    fake_images, fake = images[fake_ok], fake[fake_ok]
    if sample_rows is not None:
        sample_rows = np.asarray(sample_rows)[fake_ok]
    if min(len(real), len(fake)) <= k:
        embedded = "" if real_ok.all() and fake_ok.all() else f" embedded by {features}"
        raise UserError(f"k={k} needs more than {k} images of each side; got {len(real)} "
                        f"training and {len(fake)} generated images{embedded}")
    with staged_outputs(output_dir(out, overwrite),
                        owned=PER_GROUP) as out:   # moved in once all are written

        from latentplay.audit.run import Audited

        audited = Audited.of(source)   # "generated", or the --images folder
        label = data_name(data.path)   # the --data store, in the figures and cautions
        result = prdc(real, fake, k=k)
        kid_mean, kid_std = kernel_distance(real, fake, seed=seed)
        reference, reference_shares, held = _reference(data, embedder, rows, real, len(fake), images,
                                                       crop, k, seed)
        if reference is not None and reference["n"] < len(fake):
            reference["generated_at_n"] = _measures_at(real, fake, reference["n"], k, seed)
        summary: dict[str, Any] = {
            "source": dict(source or {}), "data": str(data.path), "data_digest": store_digest(data),
            "seed": seed,
            "data_trained_the_run": trained_on_data(source, data),
            "features": {**embedder.describe(), "dim": embedder.dim},
            "n_real": len(real), "n_generated": len(fake),
            "not_embedded": {"real": int((~real_ok).sum()), "generated": int((~fake_ok).sum())},
            **result.to_dict(),
            "frechet_distance": frechet_distance(real, fake),
            "kernel_distance": {"mean": kid_mean, "std": kid_std},
            "copies": int(result.fake_copy.sum()),
            "off_subspace": off_subspace(embedder, real_images, fake, held, seed),  # + "caution"
            "flat": flat_images(real_images, fake_images),                           # + "caution"
            "reference": reference,
            "groups": {},
        }
        if summary["off_subspace"] is not None:
            summary["off_subspace"]["caution"] = off_subspace_caution(summary["off_subspace"], label,
                                                                      audited.title)
        summary["flat"]["caution"] = flat_caution(summary["flat"]["share"], f"the images of {label}",
                                                  audited.title)
        annotated = {a.attribute: a for a in annotators}
        for name in by:
            predicted = annotated[name].predict(fake_images) if name in annotated else None
            groups = group_rows(data, name, rows, result, predicted,
                                annotated[name].classes if name in annotated else None,
                                dropped_rows=dropped_rows, reference=reference_shares)
            if sample_rows is not None and name in conditioned_on:
                names, codes = store_classes(data, name)
                for row, extra in zip(groups, conditional_rows(real, fake, codes[rows],
                                                               codes[sample_rows], len(names), k,
                                                               seed),
                                      strict=True):
                    row.update(extra)
            summary["groups"][name] = groups
            trend = order_trend(data, name, rows, result, seed)
            if trend is not None:
                summary.setdefault("trends", {})[name] = trend
            _write_groups_csv(out / f"fidelity_{name}.csv", groups)
            _groups_figure(out / f"fidelity_{name}.png", name, groups, result, label, audited,
                           None if reference is None else reference["n"])
        _uncovered_figure(out / "uncovered.png", real, fake, real_images, fake_images, result, label,
                          audited)
        _copies_figure(out / "copies.png", real_images, fake_images, result, label,
                       summary["data_trained_the_run"], audited)
        (out / "fidelity.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                      default=json_default),
                                           encoding="utf-8")
        return summary


def off_subspace(embedder: Any, real_images: np.ndarray, fake: np.ndarray,
                 held: np.ndarray | None, seed: int = 0) -> dict[str, Any] | None:
    """How many generated images lie farther from the training images' principal subspace
    (``pixels-pca`` with ``residual``: the last coordinate) than 99 % of unseen training images
    do: images unlike any training image -- noise, artefacts -- that the components alone place
    among the training images, near their mean. The threshold is the 99th percentile of the
    residuals of one random half of ``real_images`` under the same components fitted on the
    other half (the images a PCA was fitted on sit closer to it than new ones); the held-out
    images' share (about 0.01 or less) is the yardstick. None for other embedders, or when half
    the training images are too few to fit the components.

    Args:
        real_images: ``(N, S, S, C)`` uint8 training images the embedder was fitted on.
        fake: ``(M, D)`` generated features; held: ``(H, D)`` held-out features, or None.
    """
    config = embedder.config
    if embedder.kind != "pixels-pca" or not config.residual or len(real_images) // 2 <= config.dim:
        return None
    order = np.random.default_rng(seed + 3).permutation(len(real_images))
    half = len(order) // 2
    probe = type(embedder)(dataclasses.replace(config, fit_samples=half))
    probe = fit_embedder(probe, real_images[order[:half]])
    unseen, _ = embed_images(probe, real_images[order[half:]])
    threshold = float(np.quantile(unseen[:, -1], 0.99))
    far = fake[:, -1] > threshold
    return {"count": int(far.sum()), "share": float(far.mean()), "threshold": threshold,
            "held_out_share": None if held is None else float((held[:, -1] > threshold).mean())}


def flat_images(real_images: np.ndarray, fake_images: np.ndarray) -> dict[str, Any]:
    """How many of the ``(M, S, S, C)`` uint8 ``fake_images`` are flat: of a lower pixel
    contrast (:func:`~latentplay.train.fidelity.pixel_contrast`) than 99 % of the ``(N, S, S,
    C)`` ``real_images`` compared (the ``threshold``). Blank grey or faint noise lands near the
    training images' mean in pixel features, scores high precision and density and lies no
    farther from their subspace than faces (:func:`off_subspace` does not catch it); a smooth
    blob of a face's contrast is not flat."""
    threshold = flat_threshold(real_images)
    flat = pixel_contrast(fake_images) < threshold
    return {"count": int(flat.sum()), "share": float(flat.mean()) if len(flat) else 0.0,
            "threshold": threshold}


def off_subspace_caution(off: Mapping[str, Any], store: str, audited: str = "generated images"
                         ) -> str | None:
    """The caution for an :func:`off_subspace` count far above the held-out images' share (at
    least :data:`OFF_CAUTION_SHARE` and :data:`OFF_CAUTION_TIMES` times it; the nominal 1 %
    where there is no reference), else None. Such images (noise of low amplitude, say) lie
    farther from the subspace than any image of ``store``, yet that one coordinate is small
    beside the k-NN radii, so precision and density still count them near the data."""
    held = off.get("held_out_share")
    if off["share"] < max(OFF_CAUTION_SHARE, OFF_CAUTION_TIMES * (0.01 if held is None else held)):
        return None
    against = (f"{held:.1%} of held-out images of {store}" if held is not None
               else f"about 1 % of unseen images of {store}")
    return (f"{off['share']:.1%} of the {audited} lie off the subspace, against {against}: "
            f"precision and density count such images, unlike any image of {store}, as if they "
            "were near the data; read them with that share")


def _reference(data: st.Store, embedder: Any, rows: np.ndarray, real: np.ndarray, n: int,
               like: np.ndarray, crop: float, k: int, seed: int,
               ) -> tuple[dict[str, Any] | None, PRDC | None, np.ndarray | None]:
    """What a generator that drew new faces from the training distribution itself would score:
    up to ``n`` held-out training images (none of ``rows``, nor, when the store's ``identity``
    (or ``person``) repeats persons, of their persons: a new photo of a sampled person is no
    new face) against the same ``real`` features — the summary, the measures and the held-out
    features ``(H, D)``. Nones when fewer than ``k + 1`` are left."""
    persons = repeated_persons(data)
    exclude = rows if persons is None else np.flatnonzero(np.isin(persons, persons[rows]))
    held_rows, held_images = training_sample(data, n, like, crop, seed + 1, exclude=exclude)
    if len(held_rows) <= k:
        return None, None, None
    held, ok = embed_images(embedder, held_images)
    held = held[ok]
    if len(held) <= k:
        return None, None, None
    ref = prdc(real, held, k=k)
    return ({"n": len(held), **ref.to_dict(), "frechet_distance": frechet_distance(real, held),
             "held_out": "rows" if persons is None else "persons"}, ref, held)


def _measures_at(real: np.ndarray, fake: np.ndarray, n: int, k: int, seed: int) -> dict[str, Any]:
    """The generated images' precision, recall, density, coverage, authenticity and Fréchet
    distance at the held-out reference's count: a random ``n`` of the ``(M, D)`` ``fake``
    features against the same ``(N, D)`` ``real`` ones (coverage, recall and the Fréchet
    distance move with the number of points, so only these compare with the reference)."""
    chosen = np.sort(np.random.default_rng(seed + 2).choice(len(fake), size=n, replace=False))
    return {"n": n, **prdc(real, fake[chosen], k=k).to_dict(),
            "frechet_distance": frechet_distance(real, fake[chosen])}


def group_rows(data: st.Store, attribute: str, rows: np.ndarray, result: PRDC,
               predicted: np.ndarray | None = None,
               predicted_classes: Sequence[str] | None = None,
               dropped_rows: np.ndarray | None = None,
               reference: PRDC | None = None) -> list[dict[str, Any]]:
    """Per class of ``attribute``: coverage and recall of the training ``rows`` of that class
    (with 95% intervals: Wilson's, or a bootstrap over persons where the store repeats them,
    :func:`~latentplay.intervals.proportion_interval`) beside what the held-out ``reference``
    images score for the class (``reference_coverage``, ``reference_recall``: a small class set
    apart from the others has wide balls and scores high whatever the generator), how many of
    its sampled rows the embedder could not embed (``dropped_rows``); the authenticity of
    the generated images whose nearest training image is of the class (``n_nearest`` of
    them), beside that of the held-out ``reference`` images of the same kind — a generator
    that copies one group's faces more shows it here; and, given the generated images'
    ``predicted`` class indices into ``predicted_classes``, precision and density of the
    generated images of that class."""
    names, all_codes = store_classes(data, attribute)
    codes = all_codes[rows]
    dropped = all_codes[dropped_rows] if dropped_rows is not None else np.zeros(0, np.int64)
    persons = repeated_persons(data)
    units = None if persons is None else persons[rows]
    out = []
    for index, name in enumerate(names):
        members = codes == index
        n = int(members.sum())
        row: dict[str, Any] = {"class": name, "n_real": n,
                               "n_not_embedded": int((dropped == index).sum())}
        for measure, hits in (("coverage", result.real_covered), ("recall", result.real_recalled)):
            count = int(hits[members].sum())  # None (JSON null) for a class with no rows
            row[measure] = count / n if n else None
            row[f"{measure}_ci"] = (list(proportion_interval(
                hits[members], None if units is None else units[members])) if n else [None, None])
        for measure, hits in (("coverage", None if reference is None else reference.real_covered),
                              ("recall", None if reference is None else reference.real_recalled)):
            if hits is not None:  # what held-out images score for the class: its yardstick
                row[f"reference_{measure}"] = float(hits[members].mean()) if n else None
        for prefix, shares in (("", result), ("reference_", reference)):
            if shares is None or shares.fake_nearest_real is None or shares.fake_copy is None:
                continue
            near = codes[shares.fake_nearest_real] == index
            row[f"{prefix}n_nearest"] = int(near.sum())
            row[f"{prefix}authenticity"] = (float(1 - shares.fake_copy[near].mean())
                                            if near.any() else None)
        if predicted is not None and predicted_classes is not None:
            # a class the annotator does not know has no generated images (-1: no class)
            mine = (predicted == list(predicted_classes).index(name) if name in predicted_classes
                    else np.zeros(len(predicted), bool))
            m = int(mine.sum())
            row["n_generated"] = m
            row["precision"] = float(result.fake_inside[mine].mean()) if m else None
            row["density"] = float(result.fake_density[mine].mean()) if m else None
        out.append(row)
    return out


def order_trend(data: st.Store, attribute: str, rows: np.ndarray, result: PRDC, seed: int = 0
                ) -> dict[str, Any] | None:
    """Along an ordered ``attribute`` (Monk tones, age groups): how coverage and recall of the
    training ``rows`` change per class step (least-squares slope with a bootstrap over the
    rows, or over the persons where the store repeats them,
    :func:`~latentplay.metrics.verification.rate_trend`), each row at its class's place in the
    order, naming the ``groups`` fitted and the ``gaps`` between them (classes without rows,
    each still a step); None for unordered classes or fewer than three classes with rows."""
    attr = data.schema.attribute(attribute)
    if not attr.has_order:
        return None
    names, all_codes = store_classes(data, attribute)
    position = class_places(all_codes[rows], names)
    known = position >= 0
    if len(np.unique(position[known])) < 3:
        return None
    persons = repeated_persons(data)
    units = None if persons is None else persons[rows][known]
    return {"classes": [name for name in names if name != UNKNOWN],
            **trend_groups(names, np.unique(position[known])),
            **{measure: rate_trend(hits[known].astype(float), position[known], units, seed=seed)
               for measure, hits in (("coverage", result.real_covered),
                                     ("recall", result.real_recalled))}}


def conditional_rows(real: np.ndarray, fake: np.ndarray, real_codes: np.ndarray,
                     fake_codes: np.ndarray, classes: int, k: int, seed: int = 0,
                     repeats: int = COMMON_REPEATS) -> list[dict[str, Any]]:
    """Per class ``c``: precision, recall, density and coverage of the samples drawn for ``c``
    against the real points of ``c`` alone — does a class-conditional generator, asked for a
    class, cover that class? None where either side has ``k`` points or fewer.

    These move with the class's counts (with 12 real points each ball reaches 5 of the other
    11, and coverage nears 1), so where two classes or more have numbers, each also gets them
    at a common count (``conditional_<measure>_common``): its real and generated points cut to
    the smallest such class's counts (``conditional_common_n_real``, ``..._n_generated``),
    averaged over ``repeats`` random cuts; those are the numbers to compare between classes.

    Args:
        real, fake: ``(N, D)`` and ``(M, D)`` features.
        real_codes, fake_codes: ``(N,)`` class of each real point, ``(M,)`` class each sample
            was drawn for.
        classes: number of classes.
    """
    mine = [(real[real_codes == c], fake[fake_codes == c]) for c in range(classes)]
    enough = [min(len(r), len(f)) > k for r, f in mine]
    common = None if sum(enough) < 2 else (
        min(len(r) for (r, _), e in zip(mine, enough, strict=True) if e),
        min(len(f) for (_, f), e in zip(mine, enough, strict=True) if e))
    rng = np.random.default_rng(seed + 4)
    out = []
    for (mine_real, mine_fake), e in zip(mine, enough, strict=True):
        row: dict[str, Any] = {"n_generated_for": len(mine_fake)}
        shares = prdc(mine_real, mine_fake, k=k).to_dict() if e else None
        at = _cut_measures(mine_real, mine_fake, *common, k, rng, repeats) if e and common else None
        row["conditional_common_n_real"], row["conditional_common_n_generated"] = common or (None, None)
        for name in ("precision", "recall", "density", "coverage"):
            row[f"conditional_{name}"] = None if shares is None else shares[name]
            row[f"conditional_{name}_common"] = None if at is None else at[name]
        out.append(row)
    return out


def _cut_measures(real: np.ndarray, fake: np.ndarray, n_real: int, n_fake: int, k: int,
                  rng: np.random.Generator, repeats: int) -> dict[str, float]:
    """Mean precision, recall, density and coverage of ``repeats`` random cuts of ``fake``
    ``(M, D)`` to ``n_fake`` points against cuts of ``real`` ``(N, D)`` to ``n_real`` (one,
    where both are already that size)."""
    runs = 1 if (len(real), len(fake)) == (n_real, n_fake) else repeats
    measures = [prdc(real[rng.choice(len(real), n_real, replace=False)],
                     fake[rng.choice(len(fake), n_fake, replace=False)], k=k).to_dict()
                for _ in range(runs)]
    return {name: float(np.mean([m[name] for m in measures]))
            for name in ("precision", "recall", "density", "coverage")}


def _write_groups_csv(path: Path, groups: list[dict[str, Any]]) -> None:
    fields = [f for f in groups[0] if not f.endswith("_ci")]

    def text(v: Any) -> Any:
        return f"{v:.6g}" if isinstance(v, float) else "" if v is None else v

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*fields, "coverage_low", "coverage_high", "recall_low", "recall_high"])
        for g in groups:
            writer.writerow([text(g[f]) for f in fields]
                            + [text(v) for v in (*g["coverage_ci"], *g["recall_ci"])])


def _groups_figure(path: Path, attribute: str, groups: list[dict[str, Any]], result: PRDC,
                   store: str, audited: Audited | None = None, held_n: int | None = None) -> None:
    """Coverage and recall of each class of ``attribute`` among the images of the ``store``
    (the ``--data`` store's name: the training set or another reference) by the ``audited``
    images, beside the coverage by ``held_n`` held-out images of the store (None: no reference)
    and, for a conditional run, each class's coverage by the samples drawn for it at the
    common count (:func:`conditional_rows`)."""
    from latentplay.viz.distribution import distribution_bars
    from latentplay.viz.grid import save_figure

    near = "a generated one" if audited is None or not audited.images else f"an image of {audited.images}"
    classes = [f"{g['class']}\n(n={g['n_real']})" for g in groups]
    series: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        f"{m} (all: {getattr(result, m):.2f})":
        (np.array([g[m] for g in groups], dtype=float),
         np.array([g[f"{m}_ci"] for g in groups], dtype=float))  # None -> NaN: no bar
        for m in ("coverage", "recall")}
    if held_n is not None and "reference_coverage" in groups[0]:
        series[f"coverage by {held_n} held-out images of {store}"] = (
            np.array([g["reference_coverage"] for g in groups], dtype=float), None)
    title = f"Images of {store} near {near}, by {attribute} (k={result.k})"
    if groups[0].get("conditional_common_n_real") is not None:
        series["coverage by the samples drawn for that class, at a common count"] = (
            np.array([g["conditional_coverage_common"] for g in groups], dtype=float), None)
        title += (f"\nlast bars: every class cut to {groups[0]['conditional_common_n_real']} images "
                  f"and {groups[0]['conditional_common_n_generated']} samples drawn for it (mean of "
                  f"{COMMON_REPEATS} cuts), against its images alone")
    elif "conditional_coverage" in groups[0]:
        series["coverage by the samples drawn for that class"] = (
            np.array([g["conditional_coverage"] for g in groups], dtype=float), None)
    fig = distribution_bars(classes, series, ylabel=f"share of {possessive(store)} images", title=title)
    save_figure(fig, path)


def trained_on_data(source: Mapping[str, Any] | None, data: st.Store) -> bool | None:
    """Whether the run of ``source`` (``{"run": RUN, ...}``) was trained on ``data``: True or
    False from its ``config.yaml``; None for images not drawn by a run (``--images``)."""
    run = (source or {}).get("run")
    config = Path(str(run)) / "config.yaml" if run else None
    if config is None or not config.is_file() or data.path is None:
        return None
    from omegaconf import OmegaConf

    # a ${...} that does not resolve (a shared run's config) is no store: False, not a traceback
    trained = OmegaConf.select(OmegaConf.load(config), "data.store", throw_on_resolution_failure=False)
    return trained is not None and Path(str(trained)).resolve() == Path(data.path).resolve()


def _pairs_figure(left: np.ndarray, right: np.ndarray, ratio: np.ndarray,
                  groups: tuple[str, str], title: str) -> Any:
    """:func:`~latentplay.viz.pairs.pairs_grid` of :data:`PAIRS_PER_ROW` pairs of ``(m, S, S,
    C)`` images with their ``(m,)`` ratios, the ``title`` broken to the figure's width (it ran
    off both edges)."""
    from latentplay.viz.pairs import pairs_grid
    from latentplay.viz.style import wrap_title

    width = PAIRS_PER_ROW * (2 * PAIR_INCHES + 0.3)   # as pairs_grid sizes itself
    return pairs_grid(left, right, ratio, groups=groups, title=wrap_title(title, width - 0.6, 10),
                      per_row=PAIRS_PER_ROW, cell_inches=PAIR_INCHES, value_label="ratio",
                      value_format=".4f")  # 1.0012 is no copy, 0.9996 is covered


def _copies_figure(path: Path, real_images: np.ndarray, fake_images: np.ndarray,
                   result: PRDC, store: str, training: bool | None = True,
                   audited: Audited | None = None) -> None:
    """The ``audited`` images nearest to an image of the ``store`` (``--data``) relative to that
    image's own nearest neighbour, each beside it. Below 1 is a copy when ``training`` (the
    store trained the generator); otherwise only as near as a copy would be."""
    from latentplay.viz.grid import save_figure

    assert result.fake_nearest is not None and result.fake_nearest_real is not None
    assert result.real_nn is not None
    them = audited.title if audited is not None else "generated images"
    nearest = result.fake_nearest_real
    ratio = result.fake_nearest / np.maximum(result.real_nn[nearest], 1e-12)
    shown = np.argsort(ratio, kind="stable")[:UNCOVERED_SHOWN]
    fig = _pairs_figure(fake_images[shown], real_images[nearest[shown]], ratio[shown],
                        (audited.name if audited is not None else "generated",
                         f"nearest of {store}"),
                        f"{them[0].upper() + them[1:]} closest to an image of {store}\n(distance "
                        f"/ that image's nearest-neighbour distance; {COPY_MEANING[training]})")
    save_figure(fig, path)


def _uncovered_figure(path: Path, real: np.ndarray, fake: np.ndarray, real_images: np.ndarray,
                      fake_images: np.ndarray, result: PRDC, store: str,
                      audited: Audited | None = None) -> None:
    """The images of the ``store`` (``--data``) whose nearest ``audited`` image is farthest,
    relative to their own k-NN radius (below 1: covered), each beside that nearest image;
    images of equal ratio (one stored twice) in row order."""
    from latentplay.viz.grid import save_figure

    ratio = result.real_nearest / np.maximum(result.real_radius, 1e-12)
    shown = np.argsort(-ratio, kind="stable")[:UNCOVERED_SHOWN]
    d2 = ((real[shown, None, :].astype(np.float64) - fake[None].astype(np.float64)) ** 2).sum(-1)
    nearest = d2.argmin(axis=1)
    fig = _pairs_figure(real_images[shown], fake_images[nearest], ratio[shown],
                        (store, "nearest generated" if audited is None or not audited.images
                         else f"nearest of {audited.images}"),
                        f"Least covered images of {store} (distance / own k-NN radius; < 1: covered)")
    save_figure(fig, path)
