"""``invert:RUN``: codes found by optimisation, so that the run's decoder redraws each image.

The way to put a store into a generator's latent space (a DCGAN has no encoder): each image's
code starts at random draws (the best of ``restarts`` kept) or, for autoencoders, at the
encoder mean, and Adam lowers the pixel error of its decoding
(:func:`latentplay.latent.invert.invert`). A conditional run gets each row's condition from the
store's attributes of the same names, as with ``vae:RUN``.

Every row's reconstruction error is kept: embedding a store prints the median and 90th
percentile of the inversions' pixel MSE beside the MSE of the run's mean code on the same
faces (:func:`latentplay.latent.invert.mean_code`: the generator's average face), with a
caution when inversions failed (:data:`latentplay.latent.invert.FAILED_SHARE`), and the
column's ``embed`` history entry records them under ``inversion`` (:func:`column_losses`
reads them back): ``loss``, each row's MSE (4 significant digits; null for a row inverted
before an interrupted embedding was resumed), its summary (:func:`loss_summary`) and
``mean_code_loss``, the mean code's MSE of each row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from latentplay.embed.vae import VaeEmbedder
from latentplay.errors import UserError
from latentplay.models.stylegan2 import STYLE_FAMILIES
from latentplay.models.stylegan3 import style_codes
from latentplay.outputs import say

DEFAULT_RESTARTS, DEFAULT_SEED = 4, 0


@dataclass
class InvertConfig:
    """Options of the ``invert:RUN`` embedder (see :func:`latentplay.latent.invert.invert`).

    Attributes:
        run: the run directory, usually given as ``invert:RUN``.
        steps: Adam steps per batch of images.
        lr: Adam's learning rate.
        restarts: random starts per image (generators); ``None``: 4. Set only with random
            starts (``init`` ``random``, or ``auto`` for a model without an encoder).
        prior: weight of ``mean(z ** 2)`` in the objective.
        init: ``auto`` (encoder mean when the model has an encoder, else random), ``encoder``,
            ``random`` or ``mean`` (the zero code: a StyleGAN2's mean ``w``).
        batch_size: images optimised together.
        seed: seed of the random starts: a store row's are drawn from it and the row's number, so
            that the column does not depend on the batch size; ``None``: 0. Set only with
            random starts, as ``restarts``.
        device: where the codes are optimised (``cuda`` for a store of any size: on 2 CPU
            cores a 64-px DCGAN does ~180 code updates/s, see ``bench/bench_latent.py``).
        per_layer: one code per layer of a StyleGAN2 (W+; the column has ``n_layers * D``
            dimensions).
        identity: weight of the identity term (a face recogniser's cosine distance between
            the decoding and the face; 0: none).
        identity_net: its recogniser: ``dlib`` or ``onnx:PATH`` (an ArcFace-family network).
    """

    run: str = ""
    steps: int = 300
    lr: float = 0.05
    restarts: int | None = None
    prior: float = 1e-3
    init: str = "auto"
    batch_size: int = 64
    seed: int | None = None
    device: str = "cpu"
    per_layer: bool = False
    identity: float = 0.0
    identity_net: str = "dlib"

    def validate(self) -> None:
        restarts, _ = self.random_starts()
        if self.steps < 0 or restarts < 1 or self.batch_size < 1 or self.lr <= 0 or self.identity < 0:
            raise UserError("invert: need steps >= 0, restarts >= 1, batch_size >= 1, lr > 0, identity >= 0")

    def random_starts(self) -> tuple[int, int]:
        """``restarts`` and ``seed``, their defaults where not given."""
        return (DEFAULT_RESTARTS if self.restarts is None else self.restarts,
                DEFAULT_SEED if self.seed is None else self.seed)


class InvertEmbedder(VaeEmbedder):
    """``(N, latent_dim)`` optimised codes of a trained latentplay model (any family)."""

    kind = "invert"
    config_type = InvertConfig  # type: ignore[assignment]
    arg_field = "run"

    def __init__(self, config: InvertConfig) -> None:
        super().__init__(config)
        self._refuse_unused_starts()
        self.last_loss: np.ndarray | None = None  # (n,) MSE of the last batch's codes
        self.last_reference: np.ndarray | None = None  # (n,) the mean code's MSE on them
        self.losses: np.ndarray | None = None  # (N,) of the bound store (NaN: not measured)
        self.references: np.ndarray | None = None
        self.measured: np.ndarray | None = None  # (N,) bool: rows inverted by this object

    def _refuse_unused_starts(self) -> None:
        """A :class:`UserError` for ``restarts`` or ``seed`` given where the codes start from
        no random draw (``init`` ``mean``, ``encoder``, or ``auto`` for a model with an
        encoder), as ``latentplay latent invert`` refuses ``--restarts`` and ``--seed``; an
        unknown ``init`` or ``encoder`` for a model without one is refused too."""
        from latentplay.latent.invert import start_of
        from latentplay.models import FAMILIES

        c, family = self.config, self.meta.get("family")
        if family not in FAMILIES:  # loading the model names what is wrong
            return
        begin = start_of(FAMILIES[family][1], c.init, "init")
        if begin != "random" and (c.restarts is not None or c.seed is not None):
            start = "the zero code" if begin == "mean" else f"this {family}'s encoder means"
            raise UserError(f"invert: restarts and seed set random starts; init={c.init!r} starts "
                            f"from {start}, so leave them out (or give init='random')")

    def bind(self, store: Any) -> None:
        """Read each row's condition (conditional runs) and start recording each row's loss."""
        super().bind(store)
        self.losses = np.full(len(store), np.nan, np.float32)
        self.references = np.full(len(store), np.nan, np.float32)
        self.measured = np.zeros(len(store), bool)

    def embed_rows(self, images: Any, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(n, dim)`` codes of a batch and ``(n,)`` all True; given the batch's store ``rows``
        ``(n,)``, each row's random starts are drawn from the seed and the row, so that the
        column does not depend on the batch size (nor on where a resumed run started)."""
        bound = self.conditions is not None and rows is not None
        vectors = self._invert(images, self.conditions[rows] if bound else None, rows)
        ok = np.ones(len(vectors), dtype=bool)
        if rows is not None and self.measured is not None:
            self.losses[rows] = self.last_loss  # type: ignore[index]
            self.references[rows] = self.last_reference  # type: ignore[index]
            self.measured[rows] = True
            if len(rows) and rows[-1] == len(self.losses) - 1:  # the store's last batch
                for line in self.report():
                    say(line)
        return vectors, ok

    def report(self) -> list[str]:
        """The summary line of the bound store's inversions (and a caution when some failed),
        as embedding prints it."""
        from latentplay.latent.invert import loss_lines

        entry = self._entry()
        if entry is None:
            return []
        lines = loss_lines(entry, "rows")
        earlier = int((~self.measured).sum())  # type: ignore[union-attr]
        if earlier:
            lines[0] += f" ({earlier} rows inverted before the embedding was resumed not measured)"
        return lines

    def _entry(self) -> dict[str, Any] | None:
        """What the history records of the bound store's inversions; None before any."""
        from latentplay.latent.invert import loss_summary

        if self.measured is None or not self.measured.any():
            return None

        def rounded(values: np.ndarray) -> list[float | None]:
            return [float(f"{v:.4g}") if np.isfinite(v) else None for v in values.tolist()]

        return {**loss_summary(self.losses, self.references), "loss": rounded(self.losses),
                "mean_code_loss": rounded(self.references)}

    def describe(self) -> dict[str, Any]:
        """The embedder's config (``restarts`` and ``seed`` as used, given or not) and, once
        rows are inverted, their losses (``inversion``): embedding keys a partial run by the
        description made before any row is inverted, so the losses do not stop it resuming."""
        out = super().describe()
        out["config"]["restarts"], out["config"]["seed"] = self.config.random_starts()
        entry = self._entry()
        if entry is not None:
            out["inversion"] = entry
        return out

    @property
    def dim(self) -> int:
        if not self.config.per_layer:
            return super().dim
        meta = self.meta["model"]
        if self.meta["family"] not in STYLE_FAMILIES:
            raise UserError(f"invert: per_layer=true needs a StyleGAN2 or StyleGAN3; {self.config.run} "
                            f"is a {self.meta['family']}")
        return style_codes(self.meta["family"], meta) * int(meta["style_dim"])

    def _encode(self, images: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
        """``(n, dim)`` codes of ``images`` ``(n, S, S, C)``, one random draw for all of them
        (:meth:`embed`, outside a store)."""
        return self._invert(images, condition, None)

    def _invert(self, images: np.ndarray, condition: np.ndarray | None,
                rows: np.ndarray | None) -> np.ndarray:
        """``(n, dim)`` codes of ``images`` ``(n, S, S, C)`` with ``condition`` ``(n, K)``
        (conditional runs); ``rows`` ``(n,)``: their store rows, which seed their random starts
        (:func:`latentplay.latent.invert.invert`)."""
        from latentplay.latent.invert import invert
        from latentplay.train import load_model

        if self.condition_spec.dim and condition is None:
            raise UserError(f"{self.config.run} is a conditional model: embed a store (each "
                            "row's condition comes from its attributes)")
        if self._model is None:
            self._model = load_model(self.config.run, self.config.device)
        c = self.config
        restarts, seed = c.random_starts()
        result = invert(self._model, images, condition=condition, init=c.init, steps=c.steps,
                        lr=c.lr, restarts=restarts, prior=c.prior, batch_size=c.batch_size,
                        seed=seed, device=c.device, cropped=True, per_layer=c.per_layer,
                        identity=c.identity, identity_net=c.identity_net, rows=rows)
        self.last_loss, self.last_reference = result.loss, result.reference_loss
        return result.z


def column_losses(store: Any, column: str) -> dict[str, np.ndarray] | None:
    """Each row's inversion MSE of an ``invert:RUN`` vector column of ``store`` as its history
    records it: ``{"loss": (N,), "mean_code_loss": (N,)}`` float64 arrays (NaN: not measured),
    or None for a column whose embedding recorded none (another embedder's, or one embedded
    before losses were kept: :func:`latentplay.latent.invert.reconstruction_loss` measures
    them)."""
    from latentplay.embed.column import embed_entry

    entry = embed_entry(store, column)
    found = None if entry is None else entry.get("inversion")
    if not isinstance(found, dict):
        return None
    return {key: np.array([np.nan if v is None else v for v in found[key]], np.float64)
            for key in ("loss", "mean_code_loss")}


EMBEDDER = InvertEmbedder
