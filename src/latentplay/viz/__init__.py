"""Figures: arrays in, matplotlib (files) or plotly (interactive) figures out.

- :mod:`~latentplay.viz.grid`: labelled image grids (:func:`image_grid`, :func:`save_store_grid`),
  :func:`save_figure` (any figure to a file, parents made), :func:`write_gif`.
- :mod:`~latentplay.viz.projection`: t-SNE / UMAP / PCA scatter plots per attribute
  (:class:`Labels`, :func:`projection_png`, :func:`projection_html`).
- :mod:`~latentplay.viz.latent`: per-dimension histograms of encoder means
  (:func:`latent_histograms`) and traversal GIFs (:func:`save_traversal_gif`).
- :mod:`~latentplay.viz.balance`: matching balance (:func:`love_plot`, :func:`attribute_means`,
  :func:`propensity_overlap`); :mod:`~latentplay.viz.pairs`: matched pairs (:func:`pairs_grid`).
- :mod:`~latentplay.viz.distribution`: class counts and training-vs-generated distributions
  (:func:`count_bars`, :func:`distribution_bars`, :func:`intersection_heatmaps`,
  :func:`value_histograms`); :mod:`~latentplay.viz.bias`: one attribute within each group of
  another (:func:`bias_bars`).
- :mod:`~latentplay.viz.probe`: probe results (:func:`probe_bars`,
  :func:`informativeness_heatmap`).
- The audits' figures: :mod:`~latentplay.viz.accuracy` (:func:`accuracy_bars`,
  :func:`calibration_figure`, :func:`parity_figure`), :mod:`~latentplay.viz.counterfactual`
  (:func:`sensitivity_figure`, :func:`profile_figure`), :mod:`~latentplay.viz.detection`
  (:func:`plot_sweep`), :mod:`~latentplay.viz.reconstruction` (:func:`reconstruction_bars`,
  :func:`worst_grid`), :mod:`~latentplay.viz.verification` (:func:`det_curves`,
  :func:`score_histograms`).
- :mod:`~latentplay.viz.plain`: :func:`drawn_as_written`, the decorator every function that
  makes a figure wears: users' names are drawn as written (``$100`` is no mathtext), and
  matplotlib's settings are left as they were.

The names above are exported lazily: importing this package loads no plotting library.

>>> from latentplay import store, viz
>>> images = store.load_images(s, range(16))                  # (16, H, W, C) uint8
>>> fig = viz.image_grid([images[:8], images[8:]], ["first", "second"])  # one row per entry
>>> viz.save_figure(fig, "figures/faces.png")
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.viz.accuracy import accuracy_bars as accuracy_bars
    from latentplay.viz.accuracy import calibration_figure as calibration_figure
    from latentplay.viz.accuracy import parity_figure as parity_figure
    from latentplay.viz.balance import attribute_means as attribute_means
    from latentplay.viz.balance import love_plot as love_plot
    from latentplay.viz.balance import propensity_overlap as propensity_overlap
    from latentplay.viz.bias import bias_bars as bias_bars
    from latentplay.viz.counterfactual import profile_figure as profile_figure
    from latentplay.viz.counterfactual import sensitivity_figure as sensitivity_figure
    from latentplay.viz.detection import plot_sweep as plot_sweep
    from latentplay.viz.distribution import count_bars as count_bars
    from latentplay.viz.distribution import distribution_bars as distribution_bars
    from latentplay.viz.distribution import intersection_heatmaps as intersection_heatmaps
    from latentplay.viz.distribution import value_histograms as value_histograms
    from latentplay.viz.grid import figure_array as figure_array
    from latentplay.viz.grid import image_grid as image_grid
    from latentplay.viz.grid import save_figure as save_figure
    from latentplay.viz.grid import save_store_grid as save_store_grid
    from latentplay.viz.grid import write_gif as write_gif
    from latentplay.viz.latent import latent_histograms as latent_histograms
    from latentplay.viz.latent import save_traversal_gif as save_traversal_gif
    from latentplay.viz.pairs import pairs_grid as pairs_grid
    from latentplay.viz.plain import drawn_as_written as drawn_as_written
    from latentplay.viz.probe import informativeness_heatmap as informativeness_heatmap
    from latentplay.viz.probe import probe_bars as probe_bars
    from latentplay.viz.projection import Labels as Labels
    from latentplay.viz.projection import projection_figure as projection_figure
    from latentplay.viz.projection import projection_html as projection_html
    from latentplay.viz.projection import projection_png as projection_png
    from latentplay.viz.reconstruction import reconstruction_bars as reconstruction_bars
    from latentplay.viz.reconstruction import worst_grid as worst_grid
    from latentplay.viz.verification import det_curves as det_curves
    from latentplay.viz.verification import score_histograms as score_histograms

_EXPORTS = {
    **dict.fromkeys(["figure_array", "image_grid", "save_figure", "save_store_grid", "write_gif"],
                    "grid"),
    **dict.fromkeys(["Labels", "projection_figure", "projection_html", "projection_png"],
                    "projection"),
    **dict.fromkeys(["latent_histograms", "save_traversal_gif"], "latent"),
    **dict.fromkeys(["attribute_means", "love_plot", "propensity_overlap"], "balance"),
    "pairs_grid": "pairs",
    "drawn_as_written": "plain",
    **dict.fromkeys(["count_bars", "distribution_bars", "intersection_heatmaps", "value_histograms"],
                    "distribution"),
    "bias_bars": "bias",
    **dict.fromkeys(["informativeness_heatmap", "probe_bars"], "probe"),
    **dict.fromkeys(["accuracy_bars", "calibration_figure", "parity_figure"], "accuracy"),
    **dict.fromkeys(["profile_figure", "sensitivity_figure"], "counterfactual"),
    "plot_sweep": "detection",
    **dict.fromkeys(["reconstruction_bars", "worst_grid"], "reconstruction"),
    **dict.fromkeys(["det_curves", "score_histograms"], "verification"),
}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
