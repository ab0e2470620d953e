"""Train and evaluate concept-based models (GlanceNet, its no-prior "VAE" variant, CBM) on
arrays, and write GlanceNets' outputs.

Kinds:

* ``glancenet``: :class:`~latentplay.models.glancenet.GlanceNet` with the conditional prior
  and open-set rejection.
* ``vae``: the same concept-supervised VAE without the conditional prior (GlanceNets'
  leakage-test "VAE"). It rejects as GlanceNet does, with two gates: the reconstruction error
  and the concept-space distance to the nearest class centre, its centres being the training
  data's class means of the concept activations (GlanceNet's: its class prototypes).
* ``cbm``: the joint concept bottleneck model :class:`~latentplay.models.cbm.CBM`.

:func:`run_concept_model` writes ``downstream.npy`` (``(N, 2)``: prediction, ground truth),
``latents.npy`` (``(N, D)`` test representations), ``concepts.npy`` (``(N, k)`` concept
activations: the model's, in [0, 1]), ``factors.npy`` (``(N, k)`` int: the test images' true
concept levels, from which alignment and explicitness are computed), ``accepted.npy`` and
``metrics.json`` with accuracy, held-out concept accuracy (:func:`concept_scores`), concept
alignment (DCI disentanglement of the concept activations against the concepts' factor levels)
and explicitness (DCI informativeness on the test rows), ``task_chance`` (the test images'
accuracy of guessing the training images' most frequent class) and ``flag`` (:func:`flag_of`:
"task near chance", "no concept learned" or ""), and what they were measured on (``concepts``:
the concept names; ``training``: the :class:`TrainConfig`, image counts and size; ``model``:
the model's config; ``data``: a store's, where the caller gives it). For the kinds with a
decoder (``glancenet``, ``vae``; a CBM has none) it also draws ``recon.png``, ``traverse.png``
and ``traverse.gif`` (:func:`save_decoder_figures`).
Those are :data:`OUTPUTS`, written beside ``out`` and moved in once all are: a folder written
again holds only what the new model wrote (an earlier run's other files of these names are
removed), and one whose writing was stopped holds what it held before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.config import to_dict
from latentplay.errors import UserError
from latentplay.metrics.intervention import intervention, intervention_figure
from latentplay.models.cbm import CBM, CBMConfig
from latentplay.models.glancenet import GlanceNet, GlanceNetConfig
from latentplay.models.losses import LossTerm
from latentplay.models.vae import VAEOutput
from latentplay.outputs import finite_or_none_within, made_by, make_parents, staged_outputs
from latentplay.rngs import torch_state_kept

KINDS = ("glancenet", "vae", "cbm")
OUTPUTS = ("metrics.json", "downstream.npy", "latents.npy", "concepts.npy", "factors.npy",
           "accepted.npy", "model.pt", "intervention.png", "recon.png", "traverse.png",
           "traverse.gif")
"""Every file :func:`run_concept_model` may write."""
NEAR_CHANCE = 0.1
"""A concept counts as not learned below chance + this (categorical accuracy) or below this R²
(continuous concepts, whose chance is R² 0: the mean guessed)."""
RECON_IMAGES = 8
"""Held-out images in ``recon.png`` (one row of originals above their reconstructions)."""
TRAVERSE_VALUES = np.linspace(-2.0, 2.0, 9)
"""Positions of ``traverse.png``'s columns, in standard deviations of each latent's means over
the held-out images."""


@dataclass
class ConceptData:
    """Images with concept labels and a downstream label.

    Attributes:
        images: ``(N, S, S, C)`` uint8.
        concepts: ``(N, k)`` concept labels in [0, 1].
        labels: ``(N,)`` int downstream classes 0..n_classes-1.
        levels: ``(N, k)`` int levels of the concepts (for alignment scores).
        names: the k concept names.
        categorical: categorical concepts coded one-hot, by name: their columns (e.g.
            ``{"shape": [0, 1, 2]}``). The other columns are continuous concepts.
        known: ``(N,)`` bool, the rows whose concept labels are known (None: all). The others
            are trained on without concept supervision, as ``masking_fact``'s unsupervised
            rows are, and left out of the concept scores; their ``concepts`` and ``levels``
            hold no value (0 and -1).
    """

    images: np.ndarray
    concepts: np.ndarray
    labels: np.ndarray
    levels: np.ndarray
    names: list[str]
    categorical: dict[str, list[int]] = field(default_factory=dict)
    known: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> ConceptData:
        return ConceptData(
            self.images[rows], self.concepts[rows], self.labels[rows], self.levels[rows], self.names,
            self.categorical, None if self.known is None else self.known[rows],
        )

    def labelled(self) -> ConceptData:
        """The rows whose concept labels are known (:func:`labelled_rows`; this data when all
        are)."""
        return self if self.known is None else self.subset(labelled_rows(self))

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TrainConfig:
    """Attributes: epochs, batch_size, lr (Adam), seed, masking_fact (percent of training rows
    whose concept labels are used), threads (torch CPU threads, 0 = default)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 5e-4
    seed: int = 0
    masking_fact: float = 100.0
    threads: int = 0


def _tensor(images: np.ndarray) -> torch.Tensor:
    """``(N, C, S, S)`` float32 in [0, 1] of ``(N, S, S, C)`` uint8 images."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def channel_means(images: np.ndarray) -> torch.Tensor:
    """``(C,)`` float32 mean value in [0, 1] per channel of ``(N, S, S, C)`` uint8 images, from
    exact float64 sums (no float copy of the images)."""
    pixels = max(images.shape[0] * images.shape[1] * images.shape[2], 1)
    return torch.from_numpy(images.sum(axis=(0, 1, 2), dtype=np.float64) / (255.0 * pixels)).float()


@torch_state_kept()   # seeds torch for the layers' first weights
def build(
    kind: str, data: ConceptData, n_classes: int, train: TrainConfig, **overrides: Any
) -> torch.nn.Module:
    """A fresh model of ``kind`` for ``data``'s image size and concepts; ``overrides`` set config
    fields (e.g. ``latent_dim=10``, ``loss=LossConfig(...)``)."""
    if kind not in KINDS:
        raise UserError(f"unknown concept model {kind!r}; choose from {', '.join(KINDS)}")
    torch.manual_seed(train.seed)
    _, size, _, channels = data.images.shape
    k = data.concepts.shape[1]
    if kind == "cbm":
        return CBM(CBMConfig(masking_fact=train.masking_fact, **overrides), channels, size, k, n_classes)
    cfg = GlanceNetConfig(conditional_prior=kind == "glancenet", masking_fact=train.masking_fact, **overrides)
    return GlanceNet(cfg, channels, size, k, n_classes, dataset_size=len(data))


def supervised_rows(n: int, masking_fact: float, seed: int) -> np.ndarray:
    """``(n,)`` bool: the ``round(n * masking_fact / 100)`` rows whose concept labels are used,
    fixed for the whole training. They are drawn from a random stream of their own: the
    stream :func:`fit` shuffles batches with (``default_rng(seed)``) would make them the first
    rows of the first epoch, all concept supervision of that epoch in its first batches."""
    chosen = np.random.default_rng([seed, 1]).permutation(n)[: int(round(n * masking_fact / 100.0))]
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


def optimizers(
    model: torch.nn.Module, lr: float
) -> tuple[torch.optim.Optimizer, list[tuple[LossTerm, torch.optim.Optimizer]]]:
    """Adam (learning rate ``lr``) over ``model``'s parameters except its loss terms'
    adversaries, and each term with an adversary (GlanceNet's ``factorvae``) paired with the
    adversary's own optimiser (:meth:`LossTerm.configure_optimizer`)."""
    terms = model.losses.auxiliary if isinstance(model, GlanceNet) else []
    own = {id(p) for term in terms for p in term.auxiliary_parameters()}
    main = torch.optim.Adam([p for p in model.parameters() if id(p) not in own], lr=lr)
    aux: list[tuple[LossTerm, torch.optim.Optimizer]] = []
    for term in terms:
        opt = term.configure_optimizer()
        assert opt is not None, f"loss term {term.name} has an adversary but no optimiser"
        aux.append((term, opt))
    return main, aux


@torch_state_kept()   # seeds torch and may set its threads (train.threads)
def fit(model: torch.nn.Module, data: ConceptData, train: TrainConfig) -> torch.nn.Module:
    """Train ``model`` on ``data`` (Adam, shuffled minibatches; loss terms' adversaries are
    trained after each model step, see :func:`optimizers`); GlanceNet's rejection thresholds
    are then set from the training data. Returns the model in eval mode.

    ``train.masking_fact`` picks the supervised rows; it must be the model's own (as
    :func:`build` sets it)."""
    if isinstance(model, (GlanceNet, CBM)) and model.config.masking_fact != train.masking_fact:
        raise UserError(
            f"the model was built with masking_fact={model.config.masking_fact:g} but is trained "
            f"with masking_fact={train.masking_fact:g}"
        )
    if train.threads > 0:
        torch.set_num_threads(train.threads)
    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    # the images stay uint8 and each batch becomes float32 on its own: a float copy of all of
    # them took four times their size (48,000 64x64 faces: 2.4 GB) for the whole training
    c_all = torch.from_numpy(data.concepts.astype(np.float32))
    y_all = torch.from_numpy(data.labels.astype(np.int64))
    supervised = supervised_rows(len(data), train.masking_fact, train.seed)
    if data.known is not None:
        supervised &= data.known
    sup_all = torch.from_numpy(supervised)
    if isinstance(model, GlanceNet):
        # Start the decoder at the data's mean intensity per channel (against
        # posterior collapse on sparse images such as sprites).
        model.vae.init_output_bias(channel_means(data.images))
    opt, aux = optimizers(model, train.lr)
    model.train()
    step = 0
    for _ in range(train.epochs):
        for idx in np.array_split(rng.permutation(len(data)), max(1, len(data) // train.batch_size)):
            i = torch.from_numpy(idx)
            batch = (_tensor(data.images[idx]), c_all[i], y_all[i], sup_all[i], step)
            seen: VAEOutput | None = None
            if isinstance(model, GlanceNet):
                losses, seen = model.loss_and_output(*batch)
            else:
                losses = model.loss(*batch)
            total = sum(losses.values())
            if not torch.isfinite(total):
                raise UserError(f"a loss became non-finite at step {step}: {sorted(losses)}")
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            for term, term_opt in aux:
                assert seen is not None
                aux_loss = term.auxiliary_loss(seen)
                assert aux_loss is not None
                if not torch.isfinite(aux_loss):
                    raise UserError(f"the {term.name} adversary's loss became non-finite at step {step}")
                term_opt.zero_grad(set_to_none=True)
                aux_loss.backward()
                term_opt.step()
            step += 1
    model.eval()
    if isinstance(model, GlanceNet):
        out = _model_outputs(model, data.images)
        model.fit_rejection(torch.from_numpy(out["recon"]), torch.from_numpy(out["concepts"]), y_all)
    return model


def _model_outputs(
    model: torch.nn.Module, images: np.ndarray, batch_size: int = 512
) -> dict[str, np.ndarray]:
    """The model's own ``infer`` outputs over all images, in batches, as NumPy arrays."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for s in range(0, len(images), batch_size):
        for key, value in model.infer(_tensor(images[s : s + batch_size])).items():
            parts.setdefault(key, []).append(value.cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def infer(model: torch.nn.Module, images: np.ndarray, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Deterministic outputs on ``(N, S, S, C)`` uint8 images: ``concepts`` ``(N, k)`` (in [0, 1]
    for every kind), ``probs`` ``(N, n_classes)``, ``latents`` ``(N, D)``, ``accepted`` ``(N,)``
    bool (all True for a CBM) and, for GlanceNet kinds, ``recon`` and ``distance``."""
    res = _model_outputs(model, images, batch_size)
    if isinstance(model, GlanceNet):
        res["accepted"] = model.accept(
            torch.from_numpy(res["recon"]), torch.from_numpy(res["distance"])
        ).numpy()
        res["latents"] = res.pop("mu")
        res["concepts"] = (res["concepts"] + 1.0) / 2.0
    else:
        res["accepted"] = np.ones(len(images), dtype=bool)
        res["latents"] = res["concepts"]
    return res


@torch.no_grad()
def classify(model: torch.nn.Module, concepts: np.ndarray) -> np.ndarray:
    """``(N,)`` classes ``model``'s classifier names for ``(N, k)`` concept activations in
    [0, 1], as :func:`infer` gives them (mapped back to GlanceNet's own -1..1)."""
    x = concepts * 2.0 - 1.0 if isinstance(model, GlanceNet) else concepts
    return model.classifier(torch.from_numpy(np.ascontiguousarray(x, np.float32))).argmax(1).numpy()


def labelled_rows(data: ConceptData) -> np.ndarray:
    """Row numbers of ``data`` whose concept labels are known (all of them by default)."""
    return np.arange(len(data)) if data.known is None else np.flatnonzero(data.known)


def evaluate_outputs(
    out: dict[str, np.ndarray],
    test: ConceptData,
    train_out: dict[str, np.ndarray] | None,
    train: ConceptData | None,
) -> dict[str, float]:
    """Accuracy (all rows and accepted rows), acceptance rate, concept alignment and explicitness.

    Alignment and explicitness are DCI's disentanglement and test informativeness of the
    concept activations against the concepts' levels (trained on ``train_out`` when given), on
    the rows whose concepts are known."""
    from latentplay.metrics.registry import score

    pred = out["probs"].argmax(axis=1)
    acc = out["accepted"]
    res = {
        "accuracy": float(np.mean(pred == test.labels)),
        "accepted": float(np.mean(acc)),
        "accuracy_accepted": float(np.mean(pred[acc] == test.labels[acc])) if acc.any() else float("nan"),
    }
    if train_out is not None and train is not None:
        tr, te = labelled_rows(train), labelled_rows(test)
        dci = score(
            "dci",
            factors=train.levels[tr],
            codes=train_out["concepts"][tr],
            factors_test=test.levels[te],
            codes_test=out["concepts"][te],
        )
        res["alignment"] = dci["disentanglement"]
        res["explicitness"] = dci["informativeness_test"]
    return res


def concept_scores(activations: np.ndarray, data: ConceptData) -> dict[str, dict[str, Any]]:
    """Held-out concept accuracy of ``(N, k)`` activations in [0, 1] against ``data.concepts``,
    per concept: a categorical one (``data.categorical``) its ``accuracy`` (the largest of its
    one-hot activations names the value; one of two values in one column is on above 0.5)
    beside its ``chance`` (the most frequent true value's share); a continuous one (the other
    columns, levels scaled to [0, 1]) its mean absolute
    error ``mae`` and ``r2`` (1 - squared error / the truth's variance; None when the truth
    does not vary). Each concept also says whether it was ``learned`` (:data:`NEAR_CHANCE`)."""
    scores: dict[str, dict[str, Any]] = {}
    grouped = {j for cols in data.categorical.values() for j in cols}
    for name, cols in data.categorical.items():
        if len(cols) == 1:  # a concept of two values: on above 0.5
            truth = (data.concepts[:, cols[0]] > 0.5).astype(np.int64)
            guess = (activations[:, cols[0]] > 0.5).astype(np.int64)
        else:
            truth = data.concepts[:, cols].argmax(axis=1)
            guess = activations[:, cols].argmax(axis=1)
        accuracy = float(np.mean(guess == truth))
        chance = float(np.max(np.bincount(truth)) / len(truth))
        scores[name] = {"accuracy": accuracy, "chance": chance,
                        "learned": accuracy >= chance + NEAR_CHANCE}
    for j, name in enumerate(data.names):
        if j in grouped:
            continue
        truth, guess = data.concepts[:, j], activations[:, j]
        spread = float(np.sum((truth - truth.mean()) ** 2))
        r2 = 1.0 - float(np.sum((guess - truth) ** 2)) / spread if spread > 0 else None
        scores[name] = {"mae": float(np.mean(np.abs(guess - truth))), "r2": r2,
                        "learned": r2 is not None and r2 >= NEAR_CHANCE}
    return scores


def concepts_not_learned(scores: dict[str, dict[str, Any]]) -> list[str]:
    """The concepts of :func:`concept_scores` ``scores`` that were not learned."""
    return [name for name, s in scores.items() if not s["learned"]]


def task_chance(train: ConceptData, test: ConceptData) -> float:
    """The task accuracy of a guess without the image: the share of ``test``'s rows in the
    class most frequent among ``train``'s."""
    return float(np.mean(test.labels == np.bincount(train.labels).argmax()))


def flag_of(accuracy: float, task_chance: float, not_learned: list[str], n_concepts: int) -> str:
    """Why a model's scores say little ("" when nothing does): its task accuracy within
    :data:`NEAR_CHANCE` of chance, or none of its ``n_concepts`` concepts learned."""
    reasons = []
    if accuracy < task_chance + NEAR_CHANCE:
        reasons.append("task near chance")
    if not_learned and len(not_learned) == n_concepts:
        reasons.append("no concept learned")
    return "; ".join(reasons)


def concept_text(scores: dict[str, dict[str, Any]]) -> str:
    """One line of :func:`concept_scores`: ``shape acc 0.98 (chance 0.34); scale R² 0.91``."""
    parts = []
    for name, s in scores.items():
        if "accuracy" in s:
            parts.append(f"{name} acc {s['accuracy']:.2f} (chance {s['chance']:.2f})")
        else:
            r2 = "—" if s["r2"] is None else f"{s['r2']:.2f}"
            parts.append(f"{name} R² {r2}, MAE {s['mae']:.2f}")
    return "; ".join(parts)


def run_concept_model(
    kind: str,
    train_data: ConceptData,
    test_data: ConceptData,
    out: str | os.PathLike[str],
    train: TrainConfig,
    n_classes: int,
    data: dict[str, Any] | None = None,
    extra: Callable[[dict[str, np.ndarray]], dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Train ``kind`` on ``train_data``, evaluate on ``test_data`` and write GlanceNets' outputs
    (see the module docstring) into directory ``out``; returns the metrics (None where one is
    undefined); ``task_chance`` is :func:`task_chance`'s. ``data``: what ``metrics.json`` records of the data
    beside the training settings (a store's, say); ``extra``: more metrics computed from the
    test images' :func:`infer` outputs (a store's concept leakage)."""
    model = fit(build(kind, train_data, n_classes, train, **overrides), train_data, train)
    test_out = infer(model, test_data.images)
    train_out = infer(model, train_data.images)
    scores = evaluate_outputs(test_out, test_data, train_out, train_data)
    known = test_out["concepts"][labelled_rows(test_data)]   # rows with concept labels
    labelled = test_data.labelled()
    learned = concept_scores(known, labelled)
    corrected = intervention(model, known, labelled,
                             train_out["concepts"][labelled_rows(train_data)],
                             train_data.labelled(), seed=train.seed)
    chance = task_chance(train_data, test_data)
    metrics = finite_or_none_within({  # NaN (no test image accepted, say) is written as null
        "kind": kind,
        "masking_fact": train.masking_fact,
        **scores,
        "concept_scores": learned,
        "task_chance": chance,
        "flag": flag_of(scores["accuracy"], chance, concepts_not_learned(learned), len(learned)),
        "intervention": corrected,
        **(extra(test_out) if extra else {}),
    })
    # what the scores were measured on beside them (the concepts named, the training settings)
    record = {**metrics, "concepts": list(test_data.names),
              "training": {**asdict(train), "n_train": len(train_data.images),
                           "n_test": len(test_data.images), "image_size": test_data.images.shape[1],
                           "channels": test_data.images.shape[3], "n_classes": n_classes},
              "model": to_dict(model.config),
              **({"data": data} if data else {})}
    from latentplay.viz.grid import save_figure

    with staged_outputs(make_parents(out), owned=OUTPUTS) as out_dir:
        _save_outputs(model, test_out, test_data, record, out_dir)
        save_figure(intervention_figure(corrected, chance, kind), out_dir / "intervention.png")
        if isinstance(model, GlanceNet):
            save_decoder_figures(model, test_data, test_out["latents"], out_dir,
                                 supervised=train.masking_fact > 0)
    return metrics


def _save_outputs(model: GlanceNet | CBM, test_out: dict[str, np.ndarray], test_data: ConceptData,
                  record: dict[str, Any], out_dir: Path) -> None:
    """The arrays of ``test_out`` (:func:`infer` of the ``N`` test images), ``metrics.json``
    (``record``) and ``model.pt`` of a concept model, written into ``out_dir``."""
    pred = test_out["probs"].argmax(axis=1)
    np.save(out_dir / "downstream.npy", np.stack([pred, test_data.labels], axis=1))
    np.save(out_dir / "latents.npy", test_out["latents"].astype(np.float32))
    np.save(out_dir / "concepts.npy", test_out["concepts"].astype(np.float32))
    np.save(out_dir / "factors.npy", test_data.levels.astype(np.int64))
    np.save(out_dir / "accepted.npy", test_out["accepted"])
    (out_dir / "metrics.json").write_text(json.dumps({**record, "made_by": made_by()}, indent=2,
                                                     allow_nan=False) + "\n",
                                          encoding="utf-8")
    with open(out_dir / "model.pt", "wb") as fh:  # a file object: a full disk is an OSError (given
        torch.save(model.state_dict(), fh)       # a path, torch says "unexpected pos")


@torch.no_grad()
def _decode(model: GlanceNet, codes: np.ndarray) -> np.ndarray:
    """``(N, D)`` latents -> ``(N, S, S, C)`` uint8 images from ``model``'s decoder."""
    from latentplay.train.forcing import to_uint8

    return to_uint8(model.vae.decode(torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))))


def traversal_rows(model: GlanceNet, codes: np.ndarray, base: int = 0) -> np.ndarray:
    """``(D, V, S, S, C)`` uint8: row ``d`` decodes the code of held-out image ``base`` with latent
    ``d`` moved to ``code[d] + v * sd[d]`` for each ``v`` of :data:`TRAVERSE_VALUES`, ``sd``
    ``(D,)`` the standard deviation of ``codes`` ``(N, D)`` (the held-out images' means)."""
    dim = codes.shape[1]
    steps = np.repeat(codes[base][None, None], dim, axis=0).repeat(len(TRAVERSE_VALUES), axis=1)
    sd = codes.std(axis=0)
    for d in range(dim):
        steps[d, :, d] = codes[base, d] + TRAVERSE_VALUES * sd[d]
    images = _decode(model, steps.reshape(-1, dim))
    return images.reshape(dim, len(TRAVERSE_VALUES), *images.shape[1:])


def save_decoder_figures(model: GlanceNet, data: ConceptData, codes: np.ndarray, out_dir: Path,
                         supervised: bool = True) -> None:
    """Write ``recon.png`` (the first :data:`RECON_IMAGES` held-out ``data.images`` above their
    reconstructions from their means) and ``traverse.png`` (:func:`traversal_rows` from the
    first held-out image, concept latents labelled with ``data.names`` and the concept
    activation range their row covers), and the same as ``traverse.gif``, one frame per step
    (GlanceNets' animated traversals). ``codes``: ``(N, D)`` means of ``data.images``.
    Without ``supervised`` (no concept label used in training) no latent is named by a
    concept: every row is ``z<d>`` with its SD."""
    from latentplay.train.figures import save_image_rows, save_recon_grid
    from latentplay.viz.latent import save_traversal_gif

    shown = slice(0, RECON_IMAGES)
    save_recon_grid(data.images[shown], _decode(model, codes[shown]), out_dir / "recon.png",
                    "held-out images and their reconstructions (decoded means)")
    rows = traversal_rows(model, codes)
    sd = codes.std(axis=0)
    labels = []
    for d in range(codes.shape[1]):
        label = f"z{d}\nsd {sd[d]:.2g}"
        if supervised and d < model.n_concepts:  # activation sigmoid(z) = (tanh(z / 2) + 1) / 2
            lo, hi = 1 / (1 + np.exp(-(codes[0, d] + TRAVERSE_VALUES[[0, -1]] * sd[d])))
            label = f"z{d} {data.names[d]}\nc {lo:.2f}-{hi:.2f}"
        labels.append(label)
    captions = [[f"{v:+.3g}" for v in TRAVERSE_VALUES]] * len(rows)
    named = ("concept latents named, c = their concept activation" if supervised
             else "no concept label was used in training, so no latent is named by a concept")
    title = (f"each latent of held-out image 0 moved by {TRAVERSE_VALUES[0]:+g}..{TRAVERSE_VALUES[-1]:+g} "
             f"SDs of its held-out means; {named}")
    save_image_rows(list(rows), labels, out_dir / "traverse.png", title,
                    captions=captions)
    save_traversal_gif(rows, TRAVERSE_VALUES, labels, title.replace(" moved by", " at one step of"),
                       out_dir / "traverse.gif")
