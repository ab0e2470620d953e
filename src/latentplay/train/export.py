"""A trained run's networks as ONNX files, for use outside latentplay (onnxruntime, browsers,
C++), and by latentplay's own ``onnx:PATH`` embedder.

Autoencoder families give ``encoder.onnx`` (``image`` ``(N, C, S, S)`` float32 in [0, 1] ->
``mu`` ``(N, D)``, and ``logvar`` for VAEs) and ``decoder.onnx`` (``z`` ``(N, D)`` -> ``image``
in [0, 1]); a generator without an encoder (DCGAN, an imported StyleGAN2) gives
``generator.onnx`` (``z`` -> ``image``). Conditional models take a
second input ``condition`` ``(N, K)``, laid out as ``export.json`` says. Every file is checked
after writing: onnxruntime and PyTorch agree on random inputs, and ``export.json`` keeps the
largest difference.

>>> export_run("runs/vae", "runs/vae/onnx")
>>> # latentplay embed data/faces --with onnx:runs/vae/onnx/encoder.onnx -o align=none \\
>>> #     -o pixels=unit -o normalize=false        # the encoder means, as vae:runs/vae gives
"""

from __future__ import annotations

import importlib.util
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.models.stylegan2 import is_style_generator
from latentplay.outputs import made_by, refuse_nonempty, written_whole
from latentplay.train.api import described
from latentplay.train.checkpoint import load_weights, read_meta

OPSET = 17
EXPORT_FILES = ("export.json", "encoder.onnx", "decoder.onnx", "generator.onnx")  # all it writes


class _Encoder(nn.Module):
    """``image (, condition) -> mu (, logvar)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, condition: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, ...]:
        mu, logvar = self.model.encode(image, condition)
        return (mu,) if logvar is None else (mu, logvar)


class _Decoder(nn.Module):
    """``z (, condition) -> image`` in [0, 1]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z, condition).clamp(0, 1)


def _write(graph: nn.Module, inputs: tuple[torch.Tensor, ...], names: list[str],
           outputs: list[str], path: Path) -> dict[str, Any]:
    """Export ``graph`` with a dynamic batch; its ``export.json`` entry: input and output
    names and the largest |onnxruntime - torch| on ``inputs`` (``max_abs_diff``)."""
    from latentplay.embed.onnxnet import open_session

    if importlib.util.find_spec("onnxruntime") is None:  # before anything is written
        raise UserError("exporting needs onnx and onnxruntime (pip install 'latentplay[onnx]')")
    axes = {n: {0: "n"} for n in [*names, *outputs]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(graph.eval(), inputs, str(path), dynamo=False, opset_version=OPSET,
                              input_names=names, output_names=outputs, dynamic_axes=axes)
    except torch.onnx.OnnxExporterError as exc:  # the onnx package is missing
        raise UserError(f"could not export to ONNX: {exc} (pip install 'latentplay[onnx]')"
                        ) from None
    with torch.no_grad():
        want = graph(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    _fix_output_sizes(path, [tuple(w.shape) for w in want])
    session = open_session(str(path))
    got = session.run(outputs, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})
    diff = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want, strict=True))
    return {"inputs": names, "outputs": outputs, "max_abs_diff": diff}


def _code_info(model: nn.Module, meta: dict[str, Any]) -> dict[str, Any]:
    """``export.json``'s ``z``: the prior codes are drawn from and, for an imported StyleGAN,
    the code space and the truncation built into the graph, with a one-sentence
    ``description`` of how to sample codes for the decoder (generator)."""
    d = int(model.latent_dim)
    if not is_style_generator(model):
        return {"prior": "N(0, I)",
                "description": f"Draw z ~ N(0, I) of size {d} (the prior the run was trained with)."}
    config = model.config  # type: ignore[attr-defined]
    psi, cutoff = float(config.truncation), int(config.truncation_cutoff)
    truncated = ("" if psi == 1 else f"; truncation psi {psi:g} towards w_mean"
                 + (f" in the first {cutoff} synthesis layers" if cutoff else "") + " is built in")
    if config.space == "w":
        meaning = ("a whitened W code c, mapped by w = w_mean + c @ w_basis (both in the graph), "
                   "not StyleGAN's mapping-network input")
    else:
        meaning = "StyleGAN's mapping-network input z"
    return {"space": config.space, "prior": "N(0, I)", "truncation": psi, "truncation_cutoff": cutoff,
            "w_mean": meta.get("source", {}).get("w_mean", "draws"),
            "description": f"Draw z ~ N(0, I) of size {d}: z is {meaning}{truncated}."}


def _fix_output_sizes(path: Path, shapes: list[tuple[int, ...]]) -> None:
    """Declare the outputs of the ONNX file ``path`` as ``(n, *shape[1:])`` of ``shapes``: the
    exporter leaves the sizes after the batch as generated names (``Slicemu_dim_1``), which
    runtimes read as unknown."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for value, shape in zip(proto.graph.output, shapes, strict=True):
        dims = value.type.tensor_type.shape
        dims.ClearField("dim")
        dims.dim.add().dim_param = "n"
        for size in shape[1:]:
            dims.dim.add().dim_value = int(size)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def export_run(run: str | os.PathLike[str], out: str | os.PathLike[str],
               overwrite: bool = False) -> dict[str, Any]:
    """Write the ONNX files of ``run`` into directory ``out`` with ``export.json``.

    ``out`` must be new or empty, or with ``overwrite`` hold a previous export (nothing but
    :data:`EXPORT_FILES`), which is replaced whole once the new export is complete.

    Returns:
        The contents of ``export.json``: the run and its weights' SHA-256 (``model.json``'s),
        files, inputs and outputs, image size and channels,
        crop, latent size, what ``z`` is (``z``: its prior, and an imported StyleGAN's code
        space and built-in truncation; ``description`` says how to sample it), condition
        layout, and ``max_abs_diff`` per file.
    """
    out = Path(out)
    read_meta(run)                       # a run, before its --out (RUN/onnx) is looked at
    _check_out(out, overwrite)
    model, meta = load_weights(run)   # the weights and the model.json they were saved with
    model = described(model, meta, run).eval()
    # written beside out and swapped into place whole: --overwrite leaves no file of the
    # previous export, an interrupted export leaves the previous one as it was
    with written_whole(out.resolve(), "export") as tmp:
        return _export(model, meta, run, tmp)


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse ``out`` before anything is computed: a file, a directory holding files unless
    ``overwrite``, and one holding files other than a previous export's (``export.json`` and
    its ONNX files), which would be lost when the new export replaces the directory."""
    refuse_nonempty(out, overwrite)
    if Path.cwd().is_relative_to(out.resolve()):
        raise UserError(f"--out {out} holds the current directory; give another (the export "
                        "replaces it whole)")
    others = sorted(p.name for p in out.iterdir() if p.name not in EXPORT_FILES) if out.is_dir() else []
    if others:
        shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
        raise UserError(f"{out} holds files other than a previous export's ({shown}); --overwrite "
                        "replaces only an export: give a new or empty directory")


def _export(model: nn.Module, meta: dict[str, Any], run: str | os.PathLike[str],
            out: Path) -> dict[str, Any]:
    """Write ``model``'s ONNX files and ``export.json`` into the new directory ``out``; the
    contents of ``export.json``. ``meta``: the ``model.json`` that ``model``'s weights were
    loaded with (a training run may save newer ones meanwhile)."""
    spec = model.condition_spec  # type: ignore[attr-defined]
    n, gen = 4, torch.Generator().manual_seed(0)
    cond = (torch.rand(n, spec.dim, generator=gen),) if spec.dim else ()
    cond_name = ["condition"] if spec.dim else []
    z = torch.randn(n, int(model.latent_dim), generator=gen)
    files: dict[str, Any] = {}
    gan = not model.has_encoder
    decoder = "generator" if gan else "decoder"
    if not gan:
        image = torch.rand(n, int(model.channels), int(model.size), int(model.size), generator=gen)
        graph = _Encoder(model)
        outputs = ["mu"] if len(graph(image, *cond)) == 1 else ["mu", "logvar"]
        files["encoder.onnx"] = _write(graph, (image, *cond), ["image", *cond_name], outputs,
                                       out / "encoder.onnx")
    files[f"{decoder}.onnx"] = _write(_Decoder(model), (z, *cond), ["z", *cond_name], ["image"],
                                      out / f"{decoder}.onnx")
    info = {
        "run": str(Path(run).absolute()),
        "weights_sha256": meta.get("sha256"),
        "files": files,
        "image": {"channels": int(model.channels), "size": int(model.size),
                  "range": [0.0, 1.0], "layout": "NCHW",
                  "crop": float(model.crop)},  # type: ignore[attr-defined]
        "latent_dim": int(model.latent_dim),
        "z": _code_info(model, meta),
        "condition": spec.to_dict(),
        "opset": OPSET,
        "made_by": made_by(),
    }
    (out / "export.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def stale_export(run: str | os.PathLike[str]) -> Path | None:
    """``RUN/onnx`` when it holds an export of other weights than the run's own (the run was
    trained on since); None when it holds none, or one of these weights, or one that recorded
    no weights."""
    info = Path(run) / "onnx" / "export.json"
    try:
        saved = parsed_json(info.read_text(encoding="utf-8")).get("weights_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return info.parent if saved is not None and saved != read_meta(run).get("sha256") else None
