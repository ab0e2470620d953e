"""Colours that mean something: skin scales in skin colours, lightest skin lightest, and
classes named after colours in those colours, in the projections and every figure of an
order."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba

from latentplay.viz.projection import Labels, class_colors, projection_png, value_scale
from latentplay.viz.style import LUMINANCE, SIGNED_MAP, UNKNOWN_GREY, named_colors, ordered_colors

MONK = [f"monk_{k}" for k in range(1, 11)]


def _legend_colours(fig) -> dict[str, np.ndarray]:
    handles = fig.axes[0].get_legend().legend_handles
    return {h.get_label().rsplit(" (", 1)[0]: np.array(to_rgba(h.get_color())) for h in handles}


def _points(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)), np.arange(n) % k


def test_skin_scales_run_from_light_to_dark_skin_colours():
    """Monk's monk_1 is the lightest skin: it was drawn darkest (viridis' dark purple) and
    monk_10 yellow; a skin scale now runs from a light peach to a dark brown, warm throughout."""
    coords, codes = _points(100, 10)
    fig = projection_png(coords, Labels("skin_tone", codes, "ordered", MONK))
    colours = np.array([_legend_colours(fig)[m] for m in MONK])[:, :3]
    luminance = colours @ LUMINANCE
    assert (np.diff(luminance) < 0).all() and luminance[0] > 0.75 and luminance[-1] < 0.25
    assert (colours[:, 0] > colours[:, 1]).all() and (colours[:, 1] > colours[:, 2]).all()
    np.testing.assert_allclose(ordered_colors(6, "skin_group")[:, :3] @ LUMINANCE,
                               np.sort(ordered_colors(6, "skin_group")[:, :3] @ LUMINANCE)[::-1])
    # other orders keep the ramp of ordered classes (dark to light)
    ages = ordered_colors(5, "age_group")[:, :3] @ LUMINANCE
    assert (np.diff(ages) > 0).all()
    np.testing.assert_allclose(class_colors(5, True, attribute="age_group"), ordered_colors(5))


def test_skin_ita_is_drawn_light_for_high_values_not_on_a_diverging_map():
    """ITA takes both signs, but 0 is no neutral value (high ITA is light skin): a skin map over
    the range, not the signed map centred on 0."""
    cmap, low, high = value_scale(-60.0, 80.0, "skin_ita")
    assert (cmap, low, high) == ("copper", -60.0, 80.0)
    coords, _ = _points(40, 1)
    fig = projection_png(coords, Labels("skin_ita", np.linspace(-60, 80, 40), "continuous"))
    scatter = fig.axes[0].collections[-1]
    dark, light = scatter.to_rgba(np.array([-60.0, 80.0]))
    assert np.dot(light[:3], LUMINANCE) > np.dot(dark[:3], LUMINANCE) + 0.5
    assert value_scale(-30.0, 50.0, "pose_yaw")[0] == SIGNED_MAP


def test_classes_named_after_colours_take_them():
    """synthfaces' backgrounds were drawn in tab10 (blue in orange, ...): each now its colour,
    white darkened enough to be seen on the page, hair colours with blond."""
    names = ["white", "gray", "blue", "green", "yellow", "pink"]
    coords, codes = _points(120, 6)
    seen = _legend_colours(projection_png(coords, Labels("background", codes, "categorical",
                                                         names)))
    np.testing.assert_allclose(seen["blue"], to_rgba("blue"))
    np.testing.assert_allclose(seen["green"], to_rgba("green"))
    assert np.dot(seen["white"][:3], LUMINANCE) <= 0.8 + 1e-9
    assert np.ptp(seen["white"][:3]) < 1e-9                      # still a (light) grey
    hair = named_colors(["Black", "brown", "blond", "Red", "gray"], "hair_color")
    assert hair is not None and hair[2][0] > hair[2][2] + 0.4    # blond is golden
    assert named_colors(["purple", "sea green", "salmon"], "background_color") is not None


def test_colour_words_that_are_not_colours_keep_the_palette():
    """A palette, not named colours, for: a race's ``White``/``Black`` classes, class codes that
    matplotlib would read as greys ("0", "1"), greys only, a class too near the grey of
    ``unknown``, two classes too near each other, and one class not a colour."""
    assert named_colors(["White", "Black", "Asian"], "race") is None
    assert named_colors(["white", "black", "red"], "ethnicity") is None
    assert named_colors(["0", "1"], "x") is None
    assert named_colors(["white", "black"], "x") is None
    assert named_colors(["darkgray", "blue"], "x") is None        # 0.66: the grey of unknown
    assert np.linalg.norm(np.array(to_rgba("darkgray"))[:3] - UNKNOWN_GREY[:3]) < 0.15
    assert named_colors(["navy", "darkblue", "red"], "x") is None  # navy and darkblue: alike
    assert named_colors(["red", "blue", "plaid"], "x") is None
    np.testing.assert_allclose(class_colors(3, False, ["White", "Black", "Asian"], "race"),
                               class_colors(3, False))


def test_the_bias_chart_colours_unordered_classes_as_projections_do(tmp_path) -> None:
    """gender (two classes: ordered for the trend test only) in the colours a projection gives
    it, not the ends of the ramp; an ordered attribute (Monk tones) keeps its ramp."""
    from matplotlib.colors import to_rgba
    from tests.store.tiny_store import synthfaces_labels

    from latentplay import store as st
    from latentplay.store.bias import association
    from latentplay.viz.bias import association_bars

    faces = st.load(synthfaces_labels(tmp_path / "f", 300))

    def drawn(fig) -> list:   # the first bar of each level's bars
        return [to_rgba(bars.patches[0].get_facecolor()) for bars in fig.axes[0].containers
                if hasattr(bars, "patches") and bars.patches]

    by_tone = association(faces, "skin_tone", "gender")
    assert not by_tone.of_ordered
    np.testing.assert_allclose(drawn(association_bars(by_tone, ""))[:2],
                               class_colors(2, False, ["female", "male"], "gender"))
    by_gender = association(faces, "gender", "skin_tone")
    assert by_gender.of_ordered
    np.testing.assert_allclose(drawn(association_bars(by_gender, ""))[:10], ordered_colors(10, "skin_tone"))

    def hatches(fig) -> list:
        return [bars.patches[0].get_hatch() for bars in fig.axes[0].containers
                if hasattr(bars, "patches") and bars.patches]

    # ten neighbouring copper shades: every other tone hatched too; two classes stay plain
    assert hatches(association_bars(by_gender, ""))[:4] == [None, "////", None, "////"]
    assert hatches(association_bars(by_tone, ""))[:2] == [None, None]


def test_text_on_a_fill_takes_the_colour_of_higher_contrast() -> None:
    """White on pure red (hair ``red``) read at 4.0:1, black gives 5.3:1 (WCAG's ratio)."""
    from latentplay.viz.style import text_color

    assert text_color((1.0, 0.0, 0.0)) == "black"
    assert text_color((0.0, 0.0, 0.0, 1.0)) == "white" and text_color((1, 1, 1)) == "black"
    assert text_color((0.0, 0.447, 0.698)) == "white"                 # the first class colour


def test_ordered_classes_leave_out_the_palest_end_and_unordered_ones_take_tab10() -> None:
    """Ordered classes run evenly along viridis from its dark start to 0.9, its palest yellow
    left out; six to nine unordered classes take tab10 in its order without its grey."""
    from matplotlib import colormaps

    from latentplay.viz.style import qualitative_colors

    np.testing.assert_allclose(ordered_colors(3), colormaps["viridis"]([0.0, 0.45, 0.9]))
    names = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
             "tab:pink", "tab:olive", "tab:cyan"]
    np.testing.assert_allclose(qualitative_colors(9), [to_rgba(c) for c in names])
