"""Pretrained generators as latentplay runs.

:func:`import_generator` turns a StyleGAN2 or StyleGAN3 generator into a run directory —
``model.safetensors`` + ``model.json`` like a trained run's, and ``samples.png`` — so every
latent command reads it by its path. Two kinds of file hold a StyleGAN2:

- a checkpoint of the widely used PyTorch port (``g_ema``: the generator with averaged
  weights, e.g. the converted official FFHQ ``stylegan2-ffhq-config-f.pt``), read with
  ``torch.load(weights_only=True)`` (tensors and plain containers; the training script's
  argument namespace is allowed), or the same tensors as safetensors;
- a network pickle of NVIDIA: their PyTorch repositories' (StyleGAN2-ADA, StyleGAN3's
  ``stylegan2-*.pkl``) or their TensorFlow StyleGAN2's (``stylegan2-ffhq-config-f.pkl``), read by
  :mod:`latentplay.train.network_pickle` without running the code stored in it.

The architecture (resolution, style size, mapping depth, channel multiplier) is read from
the tensor shapes. A StyleGAN3 (configs T and R) is read from NVIDIA's network pickles
(``stylegan3-t-ffhq-1024x1024.pkl``, ...), its architecture from the stored layers' attributes,
checked by rebuilding every layer's resampling.

>>> from latentplay.train.pretrained import import_generator
>>> run = import_generator("stylegan2-ffhq-config-f.pt", "runs/ffhq", size=256)
>>> run3 = import_generator("stylegan3-t-ffhq-1024x1024.pkl", "runs/ffhq3", kind="stylegan3")
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from latentplay.errors import UserError
from latentplay.models.condition import ConditionSpec
from latentplay.models.stylegan2 import SPACES, Generator, StyleGAN2, StyleGAN2Config
from latentplay.models.stylegan3 import StyleGAN3, StyleGAN3Config
from latentplay.outputs import first_named, refuse_nonempty, written_whole
from latentplay.train.checkpoint import check_state, file_sha256, load_plain, model_meta, save_model
from latentplay.train.network_pickle import (
    check_stylegan3_layers,
    is_network_pickle,
    read_pickle,
    stylegan2_state,
    stylegan3_state,
)

PathLike = str | Path
KINDS = ("stylegan2", "stylegan3")


def unaveraged(source: dict[str, Any]) -> str | None:
    """Where an import read the weights not averaged over training (a port checkpoint's ``g``
    or a network pickle's ``G``, taken when the file has no ``g_ema`` / ``G_ema``): what it
    means, for the import's line and the report (``source``: model.json's); None otherwise."""
    name = source.get("entry") if source.get("format") == "stylegan2" else source.get("network")
    if name not in ("g", "G"):
        return None
    return f"{name}, no {name}_ema: the weights not averaged, usually worse faces"


def read_stylegan2_state(path: PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator's tensors from ``path``, named as the PyTorch port's, and the settings
    the file fixes beyond them (``conv_clamp``, ``lr_mlp`` and the trained ``w_avg`` of a
    network pickle; for the port's files only ``entry``: the entry read, ``g_ema``, ``g`` or
    ``None`` for the file itself). ``path``: the port's ``.pt`` checkpoint (its ``g_ema``
    entry, or ``g`` when it has no ``g_ema``, or the file itself when it is a bare state dict),
    a ``.safetensors`` file of those tensors, or one of NVIDIA's network pickles (``G_ema``)."""
    path = _existing(path)
    if path.suffix == ".safetensors":
        try:
            state = load_file(str(path))
        except SafetensorError as exc:
            raise UserError(f"{path} is not a readable safetensors file: {exc}") from None
        if "style.1.weight" not in state:
            raise UserError(f"{path} holds no StyleGAN2 generator (expected the PyTorch port's "
                            "g_ema tensors, with 'style.1.weight')")
        return state, {"entry": None}
    with open(path, "rb") as f:
        if f.read(2)[:1] not in (b"P", b"\x80"):  # zip archives open with PK, pickles with 0x80
            raise UserError(f"{path} is not a checkpoint (a torch.save file, a network pickle or "
                            ".safetensors)")
    if is_network_pickle(path):
        data = read_pickle(path)
        try:
            return stylegan2_state(data, str(path))
        except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:  # malformed
            raise UserError(f"{path} holds a malformed StyleGAN2 network ({exc})") from None
    data = load_plain(path, allowed=[argparse.Namespace])
    entry = next((k for k in ("g_ema", "g") if isinstance(data, dict) and isinstance(data.get(k), dict)),
                 None)
    if entry is not None:
        data = data[entry]
    if not isinstance(data, dict) or "style.1.weight" not in data:
        raise UserError(f"{path} holds no StyleGAN2 generator (expected a 'g_ema' state dict "
                        "with 'style.1.weight', as the PyTorch port saves it)")
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}, {"entry": entry}


def read_stylegan3_state(path: PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The StyleGAN3 tensors (NVIDIA's names) and architecture settings (``layers``: the
    stored synthesis layers by name, and the :class:`StyleGAN3Config` fields) of NVIDIA's
    network pickle ``path`` (``G_ema``)."""
    path = _existing(path)
    if not is_network_pickle(path):
        raise UserError(f"{path} is not a network pickle: StyleGAN3 generators are read from "
                        "NVIDIA's .pkl files")
    data = read_pickle(path)
    try:
        return stylegan3_state(data, str(path))
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, RecursionError) as exc:  # malformed
        raise UserError(f"{path} holds a malformed StyleGAN3 network ({exc})") from None


def _existing(path: PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder: give the checkpoint file itself (.pt, .pkl)")
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint file")
    return path


ARCHITECTURE_KEYS = ("style.1.weight", "input.input")  # the tensors whose shapes are read


def architecture(state: dict[str, torch.Tensor], source: str = "the checkpoint") -> StyleGAN2Config:
    """The :class:`StyleGAN2Config` whose generator has ``state``'s tensors; a
    :class:`UserError` naming ``source`` (the file) when a tensor it reads is missing."""
    missing = [k for k in ARCHITECTURE_KEYS if k not in state]
    if missing:
        raise UserError(f"{source} holds no complete StyleGAN2 generator: its tensors lack "
                        f"{', '.join(repr(k) for k in missing)}")
    style_dim = int(state["style.1.weight"].shape[1])
    n_mlp = len({m.group(1) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k))})
    n_rgb = len({m.group(1) for k in state if (m := re.match(r"to_rgbs\.(\d+)\.", k))})
    resolution = 2 ** (n_rgb + 2)
    start = int(state["input.input"].shape[1])  # channels at 4 px: 512 unless capped
    cap = start if start < 512 else 0
    for multiplier in (2, 1, 4, 8):  # the one whose tensors have the checkpoint's shapes
        config = StyleGAN2Config(resolution=resolution, style_dim=style_dim, n_mlp=n_mlp,
                                 channel_multiplier=multiplier, channel_max=cap)
        with torch.device("meta"):
            shapes = {k: v.shape for k, v in Generator(config).state_dict().items()}
        if all(k in state and state[k].shape == v for k, v in shapes.items()):
            return config
    return config  # no multiplier fits: loading names what differs


@torch.no_grad()
def w_statistics(model: StyleGAN2, n: int, seed: int, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` of ``w = mapping(z)`` over ``n`` draws ``z ~ N(0, I)`` and the whitening
    basis ``(D, D)``: rows are the principal axes of ``w`` times their standard deviations,
    largest first, so that ``mean + c @ basis`` has ``w``'s mean and covariance for
    ``c ~ N(0, I)``."""
    gen = torch.Generator().manual_seed(seed)
    d = model.latent_dim
    ws = torch.cat([model.generator.mapping(torch.randn(min(batch, n - s), d, generator=gen))
                    for s in range(0, n, batch)]).double()
    mean = ws.mean(0)
    values, vectors = torch.linalg.eigh(torch.cov(ws.T))
    order = values.argsort(descending=True)
    basis = values[order].clamp(min=0).sqrt()[:, None] * vectors[:, order].T
    return mean.float(), basis.float()


def import_generator(checkpoint: PathLike, out: PathLike, *, kind: str = "stylegan2",
                     size: int | None = None, space: str = "w", truncation: float = 1.0,
                     truncation_cutoff: int = 0, lr_mlp: float = 0.01, w_samples: int = 10_000,
                     seed: int = 0, samples: int = 16, overwrite: bool = False) -> Path:
    """Write a run directory ``out`` for the generator in ``checkpoint``.

    Args:
        checkpoint: for a StyleGAN2 a ``.pt`` file of the PyTorch port (``g_ema``), a
            ``.safetensors`` file of the same tensors, or a network pickle of NVIDIA's
            repositories; for a StyleGAN3 NVIDIA's network pickle.
        out: the run directory to write (must not hold files unless ``overwrite``).
        kind: ``stylegan2`` or ``stylegan3``.
        size: image side the run decodes to (the native resolution or a divisor of it:
            decodings are averaged down); default the native resolution.
        space: ``w`` (whitened W, the default) or ``z`` (see :mod:`latentplay.models.stylegan2`).
        truncation: psi of the truncation trick applied at every decoding (1 = none).
        truncation_cutoff: truncate only the first this many synthesis layers' ``w``
            (NVIDIA's ``truncation_cutoff``; 0 = every layer).
        lr_mlp: the mapping network's learning-rate multiplier (0.01 in every published
            configuration; it scales the stored weights at run time). A network pickle's
            own value is used instead.
        w_samples: prior draws whose mapped ``w`` give the whitening basis, and the W mean
            unless the file holds the average its training kept (a pickle's trained
            ``w_avg``: the centre NVIDIA's truncation pulls towards, used instead).
        seed: seed of those draws and of the ``samples.png`` codes.
        samples: prior samples drawn into ``samples.png`` (0: none).

    Returns:
        ``out``.
    """
    if kind not in KINDS:
        raise UserError(f"unknown generator kind {kind!r}; choose from: {', '.join(KINDS)}")
    out = Path(out)
    refuse_nonempty(out, overwrite)
    if w_samples < 2:
        raise UserError(f"w_samples (--w-samples) must be at least 2, got {w_samples}")
    if space not in SPACES:
        raise UserError(f"--space must be one of {', '.join(SPACES)}, got {space!r}")
    if not 0 <= truncation <= 1:  # NaN included; checked before a large file is read
        raise UserError(f"--truncation must be in [0, 1] (1: none), got {truncation}")
    if truncation_cutoff < 0:
        raise UserError(f"--truncation-cutoff must be 0 (every layer) or positive, got {truncation_cutoff}")
    model, state, read, w_avg = _generator(checkpoint, kind, size, space, truncation,
                                           truncation_cutoff, lr_mlp)
    _refuse_nonfinite(state, checkpoint)
    config, side = model.config, model.size
    if config.truncation_cutoff > model.n_layers:
        raise UserError(f"--truncation-cutoff {config.truncation_cutoff} is more than the "
                        f"{model.n_layers} styles (w) this generator takes; give 0 (every layer) "
                        f"to {model.n_layers}")
    if w_samples <= model.latent_dim:  # n draws span at most n - 1 directions of W
        raise UserError(f"--w-samples must exceed W's {model.latent_dim} dimensions for a basis "
                        f"that reaches all of W, got {w_samples}")
    named = {f"generator.{k}": v for k, v in state.items()}
    expected = model.state_dict()
    named.update({k: expected[k] for k in ("w_mean", "w_basis")})
    check_state(model, named, str(checkpoint))
    model.load_state_dict(named)
    model.eval()
    mean, basis = w_statistics(model, w_samples, seed)
    model.w_mean.copy_(mean if w_avg is None else w_avg)
    model.w_basis.copy_(basis)
    meta = model_meta(kind, config, 3, side, ConditionSpec(), 0, 0)
    meta["source"] = {**read, "checkpoint": str(Path(checkpoint).absolute()),
                      "sha256": file_sha256(Path(checkpoint)), "w_samples": w_samples, "seed": seed,
                      "w_mean": "draws" if w_avg is None else "w_avg"}
    # written beside out and moved into place whole: an interrupted import leaves any
    # previous run as it was
    with written_whole(out, "import") as tmp:
        save_model(tmp, model, meta)
        if samples:  # samples.png: prior draws, eight per row
            from latentplay.train.api import described, sample
            from latentplay.train.figures import save_image_rows

            images = sample(described(model, meta, out), samples, seed)
            rows = [images[s:s + 8] for s in range(0, samples, 8)]
            save_image_rows(rows, [""] * len(rows), tmp / "samples.png", "prior samples")
    return out


def _generator(checkpoint: PathLike, kind: str, size: int | None, space: str, truncation: float,
               cutoff: int, lr_mlp: float
               ) -> tuple[StyleGAN2, dict[str, torch.Tensor], dict[str, Any], torch.Tensor | None]:
    """The model of ``kind`` the checkpoint's tensors fit (weights not loaded yet), those
    tensors, how the file was read (``format``: ``stylegan2``, the port's tensors, with the
    ``entry`` read, or ``nvidia-pickle``) and the W average its training kept (``(D,)``;
    ``None`` when it holds none)."""
    psi, cutoff = float(truncation), int(cutoff)
    if kind == "stylegan3":
        state, settings = read_stylegan3_state(checkpoint)
        layers, w_avg, network = settings.pop("layers"), settings.pop("w_avg", None), settings.pop("network")
        model = _built(StyleGAN3, StyleGAN3Config(**settings, space=space, truncation=psi,
                                                  truncation_cutoff=cutoff), size)
        check_stylegan3_layers(layers, model.generator.synthesis, str(checkpoint))
        return (model, state, {"format": "nvidia-pickle", "network": network},
                _checked_average(w_avg, model, checkpoint))
    state, settings = read_stylegan2_state(checkpoint)
    config = architecture(state, str(checkpoint))
    config.space, config.truncation, config.truncation_cutoff = space, psi, cutoff
    config.lr_mlp = settings.get("lr_mlp", float(lr_mlp))
    config.conv_clamp = settings.get("conv_clamp", 0.0)
    model = _built(StyleGAN2, config, size)
    read = ({"format": "stylegan2", "entry": settings["entry"]} if "entry" in settings
            else {"format": "nvidia-pickle", "network": settings["network"]})
    return model, state, read, _checked_average(settings.get("w_avg"), model, checkpoint)


def _refuse_nonfinite(state: dict[str, torch.Tensor], checkpoint: PathLike) -> None:
    """A :class:`UserError` naming the tensors of ``state`` that hold NaN or infinite values
    (a damaged file: every image they draw would be blank)."""
    bad = [name for name, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        several = len(bad) > 1
        raise UserError(f"{checkpoint}: tensor{'s' if several else ''} {first_named(bad, 5)}"
                        + f" hold{'' if several else 's'} NaN or infinite values; the file is damaged")


def _checked_average(w_avg: torch.Tensor | None, model: StyleGAN2,
                     checkpoint: PathLike) -> torch.Tensor | None:
    """``w_avg`` unless its size is not the generator's style size (a :class:`UserError`)."""
    if w_avg is not None and w_avg.shape != (model.latent_dim,):
        raise UserError(f"{checkpoint}: mapping.w_avg has shape {tuple(w_avg.shape)}, not the style "
                        f"size ({model.latent_dim},)")
    return w_avg


def _built(family: type[StyleGAN2], config: StyleGAN2Config | StyleGAN3Config, size: int | None) -> StyleGAN2:
    """A freshly built RGB generator of ``config`` decoding to ``size`` (default native)."""
    config.validate()
    return family(config, 3, config.resolution if size is None else int(size))


def describe(meta: dict[str, Any]) -> str:
    """One line naming an imported generator's architecture and space."""
    m = meta["model"]
    if meta["family"] == "stylegan3":
        name = (f"StyleGAN3-{'R' if m['radial'] else 'T'} {m['resolution']} px (style {m['style_dim']}, "
                f"mapping {m['n_mlp']} layers, {m['num_layers']} {m['conv_kernel']}x{m['conv_kernel']} "
                "synthesis layers")
    else:
        name = (f"StyleGAN2 {m['resolution']} px (style {m['style_dim']}, mapping {m['n_mlp']} layers, "
                f"channel multiplier {m['channel_multiplier']}")
    return (name + (f", activations clamped at {m['conv_clamp']:g}" if m.get("conv_clamp") else "")
            + f"), decoding {meta['size']} px codes in {m['space']}"
            + (f", truncation {m['truncation']:g}" if m["truncation"] != 1 else "")
            + (f" in the first {m['truncation_cutoff']} layers"
               if m["truncation"] != 1 and m.get("truncation_cutoff") else "")
            + _average_note(meta)
            + (f", using {note}" if (note := unaveraged(meta.get("source", {}))) else ""))


def _average_note(meta: dict[str, Any]) -> str:
    """What the trained ``w_avg`` an import read does: centre the codes (space ``w``), or in
    space ``z``, where codes are the mapping's inputs, only the truncation (none without one)."""
    if meta.get("source", {}).get("w_mean") != "w_avg":
        return ""
    if meta["model"]["space"] == "w":
        return ", centred on its trained w_avg"
    return ", pulled towards its trained w_avg" if meta["model"]["truncation"] != 1 else ""
