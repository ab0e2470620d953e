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

from latentplay.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
