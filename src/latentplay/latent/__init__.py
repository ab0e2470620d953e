"""Operations on a trained model's latent space (``latentplay latent ...`` from the shell).

- :mod:`~latentplay.latent.directions`: attribute directions as in InterFaceGAN
  (:func:`fit_direction` on codes, :func:`fit_store_direction` on a store's column), edits
  along them (:func:`edit`, :func:`edit_to`), :func:`orthogonalize`, :func:`cosine`.
- :mod:`~latentplay.latent.interpolate`: paths between codes (:func:`lerp`, :func:`slerp`,
  :func:`between`) and :func:`blend`.
- :mod:`~latentplay.latent.traverse`: traversals along latent, principal or SeFa axes
  (:func:`axis_traversal`, :func:`pca_axes`, :func:`pca_traversal`, :func:`sefa_axes`,
  :func:`direction_traversal`; :func:`run_latents`, :func:`ranked_axes`).
- :mod:`~latentplay.latent.sampling`: the same prior draws decoded at several values of a
  condition (:func:`condition_sweep`).
- :mod:`~latentplay.latent.invert`: GAN inversion, images to codes
  (``latentplay.latent.invert.invert``, returning an :class:`Inversion`).
- :mod:`~latentplay.latent.probe`: how much of each attribute a column holds
  (``latentplay.latent.probe.probe`` on arrays, :func:`probe_store`, :func:`write_probes`).
- :mod:`~latentplay.latent.mixing`: StyleGAN style mixing (:func:`style_mix`).
- :mod:`~latentplay.latent.stylespace`: StyleSpace channels of a StyleGAN (:func:`styles`,
  :func:`attribute_channels`, :func:`correlated_channels`, :func:`channel_traversal`).
- :mod:`~latentplay.latent.codes`: a store's codes and conditions under a run
  (:func:`store_codes`).

Functions that take a ``model`` take a loaded one (:func:`latentplay.train.load_model`) or
the run directory to load it from. The names above are exported lazily (importing this
package loads no library); ``invert`` and ``probe`` are modules of the package, so their
functions are reached through them.

>>> from latentplay import latent, train
>>> d = latent.fit_store_direction(s, "vae_mu", "gender", positive="male")
>>> z = latent.edit(store.vectors(s, "vae_mu")[:4], d, [-2, 0, 2])   # (4, 3, D) codes
>>> faces = train.decode("runs/vae", z.reshape(-1, z.shape[-1]))
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.latent.codes import StoreCodes as StoreCodes
    from latentplay.latent.codes import store_codes as store_codes
    from latentplay.latent.directions import Direction as Direction
    from latentplay.latent.directions import cosine as cosine
    from latentplay.latent.directions import edit as edit
    from latentplay.latent.directions import edit_to as edit_to
    from latentplay.latent.directions import fit_direction as fit_direction
    from latentplay.latent.directions import fit_store_direction as fit_store_direction
    from latentplay.latent.directions import orthogonalize as orthogonalize
    from latentplay.latent.interpolate import between as between
    from latentplay.latent.interpolate import blend as blend
    from latentplay.latent.interpolate import lerp as lerp
    from latentplay.latent.interpolate import slerp as slerp
    from latentplay.latent.invert import Inversion as Inversion
    from latentplay.latent.mixing import style_mix as style_mix
    from latentplay.latent.probe import Probe as Probe
    from latentplay.latent.probe import probe_store as probe_store
    from latentplay.latent.probe import write_probes as write_probes
    from latentplay.latent.sampling import Sweep as Sweep
    from latentplay.latent.sampling import condition_sweep as condition_sweep
    from latentplay.latent.stylespace import StyleRanking as StyleRanking
    from latentplay.latent.stylespace import attribute_channels as attribute_channels
    from latentplay.latent.stylespace import channel_traversal as channel_traversal
    from latentplay.latent.stylespace import correlated_channels as correlated_channels
    from latentplay.latent.stylespace import styles as styles
    from latentplay.latent.traverse import PCAAxes as PCAAxes
    from latentplay.latent.traverse import SefaAxes as SefaAxes
    from latentplay.latent.traverse import axis_traversal as axis_traversal
    from latentplay.latent.traverse import direction_traversal as direction_traversal
    from latentplay.latent.traverse import pca_axes as pca_axes
    from latentplay.latent.traverse import pca_traversal as pca_traversal
    from latentplay.latent.traverse import ranked_axes as ranked_axes
    from latentplay.latent.traverse import run_latents as run_latents
    from latentplay.latent.traverse import sefa_axes as sefa_axes

_EXPORTS = {
    **dict.fromkeys(["Direction", "cosine", "edit", "edit_to", "fit_direction",
                     "fit_store_direction", "orthogonalize"], "directions"),
    **dict.fromkeys(["between", "blend", "lerp", "slerp"], "interpolate"),
    **dict.fromkeys(["PCAAxes", "SefaAxes", "axis_traversal", "direction_traversal", "pca_axes",
                     "pca_traversal", "ranked_axes", "run_latents", "sefa_axes"], "traverse"),
    **dict.fromkeys(["Sweep", "condition_sweep"], "sampling"),
    "Inversion": "invert",
    **dict.fromkeys(["Probe", "probe_store", "write_probes"], "probe"),
    "style_mix": "mixing",
    **dict.fromkeys(["StyleRanking", "attribute_channels", "channel_traversal",
                     "correlated_channels", "styles"], "stylespace"),
    **dict.fromkeys(["StoreCodes", "store_codes"], "codes"),
}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
