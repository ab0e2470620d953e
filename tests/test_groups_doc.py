"""docs/groups.md's contract on photos of one person: a measurement that still takes rows as
independent says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latentplay import sources


def test_audit_compare_counts_the_persons_of_audited_images(
        tmp_path: Path, cli: Callable[..., Any]) -> None:
    """``audit compare --images STORE`` of a store whose identity repeats persons counts them
    as it counts the reference store's: the chi-square line says over how many persons and at
    what design effect, the summary holds both, the figure's legend names the persons.
    Audited images of one person each get no such note."""
    reference, persons, single = tmp_path / "reference", tmp_path / "persons", tmp_path / "single"
    sources.make("synthfaces", reference, n=60, seed=0)
    sources.make("synthfaces", persons, n=60, seed=1, overrides=["identities=10"])
    sources.make("synthfaces", single, n=60, seed=2)
    note = "over the 10 persons of the images of persons (design effect "  # named by the folder
    for images, noted in ((persons, True), (single, False)):
        out = tmp_path / f"out_{images.name}"
        r = cli("audit", "compare", "--images", images, "--data", reference, "--annotator",
                "labels", "--attribute", "gender", "--out", out)
        assert r.code == 0, r.err
        assert (note in r.out) is noted
        summary = json.loads((out / "summary.json").read_text())["attributes"]["gender"]
        assert summary.get("generated_persons") == (10 if noted else None)
        assert summary["chi2"].get("generated_persons") == (10 if noted else None)
        assert (summary["chi2"].get("generated_design_effect", 0) > 1) is noted


def test_latent_direction_histogram_colours_ordered_classes_along_the_ramp() -> None:
    """``latent direction`` of an ordered attribute drew its classes in the qualitative
    cycle (monk_8 in tab10's grey, the colour of ``unknown``); now along the ramp of ordered
    classes, as every other figure of an order (for a skin scale, skin colours), with
    ``unknown`` grey."""
    import numpy as np
    from matplotlib.colors import to_rgba

    from latentplay.viz.latent import distance_histogram
    from latentplay.viz.style import UNKNOWN_GREY, ordered_colors

    names = [f"monk_{k}" for k in range(1, 11)] + ["unknown"]
    labels = np.repeat(np.arange(11), 5)
    fig = distance_histogram(labels / 10 - 0.5, labels, names, "skin_tone", "skin_tone",
                             ordered=True)
    texts = [ax.get_ylabel() for ax in fig.axes]                      # a panel per class
    colours = [to_rgba(ax.patches[0].get_facecolor(), 1.0) for ax in fig.axes]  # (drawn at alpha 0.8)
    np.testing.assert_allclose(colours[:10], ordered_colors(10, "skin_tone"), atol=1e-6)
    np.testing.assert_allclose(colours[10], UNKNOWN_GREY, atol=1e-6)
    assert texts[0] == "monk_1 (5)"
