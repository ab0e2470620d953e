"""Figures: arrays in, matplotlib (files) or plotly (interactive) figures out.

Modules: ``grid`` (labelled image grids), ``projection`` (t-SNE / UMAP / PCA scatter plots per
attribute), ``balance`` (love plot, before/after attribute means), ``pairs`` (matched pairs).
"""
