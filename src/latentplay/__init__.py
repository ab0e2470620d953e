"""latentplay: study what generative latent spaces learn about labelled image collections.

Every stage is a subpackage, imported on its own (``from latentplay import store, train``, or
``latentplay.store`` after ``import latentplay``); each takes NumPy arrays or paths (or a
store where it takes a store's path) and returns arrays, dicts or paths, and a mistake in its
input raises :class:`latentplay.errors.UserError` with one sentence. The command line
(``latentplay GROUP ...``) runs the same functions.

Data:

- :mod:`latentplay.sources`: built-in stores and converters (``sources.make("synthfaces",
  "data/faces", n=5000)``).
- :mod:`latentplay.store`: a store (images, attributes, vector columns on disk):
  ``store.load``, ``store.load_images`` (uint8 ``(N, H, W, C)``), ``store.vectors`` (``(N, D)``
  float32), ``store.add_column``, ``store.save``, ``store.info``.
- :mod:`latentplay.measure`: attributes read from the images (``measure.measure_store``,
  ``measure.predict_store``).
- :mod:`latentplay.embed`: embedding columns and 2-d projections (``embed.embed_store``,
  ``embed.project``, ``embed.plot_projections``).

Models:

- :mod:`latentplay.train`: train and use generative models (``train.train``, ``train.resume``,
  ``train.load_model``, ``train.encode``, ``train.decode``, ``train.sample``).
- :mod:`latentplay.models`: the model families (ae, vae, cvae, dcgan, imported StyleGAN2/3).
- :mod:`latentplay.latent`: a trained latent space: attribute directions and edits,
  interpolation, traversals, inversion, probes, style mixing, StyleSpace.

Measuring:

- :mod:`latentplay.metrics`: disentanglement metrics (``metrics.score``, ``metrics.names``;
  a run's encoder as the representation: ``metrics.runs.run_representation``).
- :mod:`latentplay.audit`: generated images against a dataset, group by group
  (``audit.fit_classifier``, ``audit.audit_images``, ``audit.compare``, ``audit.audit_fidelity``).
- :mod:`latentplay.match`: matching across an attribute (``match.match``,
  ``match.balance_table``, ``match.matched_difference``; ``match.run`` for a store).

Output:

- :mod:`latentplay.viz`: figures from arrays (image grids, projections, balance plots).
- :mod:`latentplay.report`: one HTML report of a run or store (``report.build_report``).
- :mod:`latentplay.app`: the Gradio playground (``app.build_app``, ``app.launch``).

>>> from latentplay import sources, store, train
>>> faces = sources.make("synthfaces", "data/faces", n=2000)
>>> run = train.train("vae", data="data/faces", out="runs/vae", epochs=5)
>>> z = train.encode(run, store.load_images(faces, range(8)))      # (8, D) float32
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the subpackages as type checkers read them; imported on first use below
    from latentplay import app as app
    from latentplay import audit as audit
    from latentplay import embed as embed
    from latentplay import errors as errors
    from latentplay import latent as latent
    from latentplay import match as match
    from latentplay import measure as measure
    from latentplay import metrics as metrics
    from latentplay import models as models
    from latentplay import report as report
    from latentplay import sources as sources
    from latentplay import store as store
    from latentplay import train as train
    from latentplay import viz as viz

__all__ = ["app", "audit", "embed", "errors", "latent", "match", "measure", "metrics", "models",
           "report", "sources", "store", "train", "viz"]


def __getattr__(name: str) -> Any:
    """``latentplay.store`` and the other subpackages after a plain ``import latentplay``,
    each imported on first use (so that ``import latentplay`` loads no library)."""
    if name not in __all__:
        raise AttributeError(f"module 'latentplay' has no attribute {name!r}")
    return importlib.import_module(f"latentplay.{name}")


def __dir__() -> list[str]:
    """The subpackages and the module's own dunder names (not the helpers it imports)."""
    return sorted({*(n for n in globals() if n.startswith("__")), *__all__})
