"""The training engine (Lightning Fabric) and the Python API to use trained runs.

- :func:`train` / :func:`resume`: ``latentplay train MODEL --data STORE --out RUN`` and
  ``latentplay train --resume RUN``.
- :func:`load_model`, :func:`encode`, :func:`decode`, :func:`sample`: use a run directory;
  :func:`model_input`: images as a run's model sees them.

A run directory holds ``config.yaml``, ``metrics.csv``, ``test_metrics.csv``,
``model.safetensors`` + ``model.json``, ``checkpoint.pt`` (resumable state),
``recon/epoch_NNN.png`` + ``recon.gif`` (``samples/`` + ``samples.gif`` for a GAN),
``latent_variance.csv`` + ``latent_variance.png``, ``active_units.json``, ``latents.npy``,
``samples.png`` and ``summary.json`` (:mod:`latentplay.train.summary`: what the finished run
learned, as ``latentplay train`` prints it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.devices import resolve_device as resolve_device
    from latentplay.train.api import condition_matrix as condition_matrix
    from latentplay.train.api import decode as decode
    from latentplay.train.api import encode as encode
    from latentplay.train.api import load_model as load_model
    from latentplay.train.api import model_input as model_input
    from latentplay.train.api import resume as resume
    from latentplay.train.api import sample as sample
    from latentplay.train.api import train as train

__all__ = ["condition_matrix", "decode", "encode", "load_model", "model_input", "resolve_device",
           "resume", "sample", "train"]


if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "api"))
