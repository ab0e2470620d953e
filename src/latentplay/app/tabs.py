"""The Sample, Traverse, Projection and Bias tabs of the playground (Gradio components and
events)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np

from latentplay.app import accuracy, bias, faces, generate, projection
from latentplay.app.state import Playground
from latentplay.app.widgets import (
    condition_controls,
    condition_values,
    display,
    guard,
    number,
    settled,
    slider,
    whole,
    within,
)
from latentplay.errors import UserError
from latentplay.models.stylegan2 import in_w


def sample_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Sample tab: seed, count and condition controls -> a gallery of prior samples
    (drawn when the page opens)."""
    with gr.Tab("Sample"):
        words = generate.draw_words(pg)
        gr.Markdown(words["intro"] + " The same seed gives the same draws at every "
                    + ("condition." if pg.condition_parts else "temperature."))
        with gr.Row():
            seed = gr.Number(0, precision=0, label="seed")
            count = slider(1, 64, value=16, step=1, label="count")
            truncating = in_w(pg.model)  # a StyleGAN in W: the truncation trick exactly
            temperature = slider(0, 1.5, value=1, step=0.05,
                                    label="truncation ψ" if truncating else "temperature",
                                    info=words["temperature"])
        motion = []
        if generate.can_move(pg):  # a StyleGAN3: its input signal moved and turned
            with gr.Row():
                motion = [slider(-0.5, 0.5, value=0, step=0.01, label="move right (image sides)"),
                          slider(-0.5, 0.5, value=0, step=0.01, label="move down (image sides)"),
                          slider(-180, 180, value=0, step=1, label="turn (degrees, counter-clockwise)")]
        conditions = condition_controls(pg)
        button = gr.Button("Sample", variant="primary")
        gallery = gr.Gallery(label="samples", columns=8, object_fit="contain")

        @guard
        def run(seed_value: float, count_value: float, temperature_value: float,
                *rest: Any) -> list[np.ndarray]:
            moves, cond = rest[:len(motion)], rest[len(motion):]
            x, y, angle = ((number(v, m.label) for v, m in zip(moves, motion, strict=True))
                           if moves else (0.0, 0.0, 0.0))
            images = generate.sample(pg, whole(count_value, "count"), whole(seed_value, "seed"),
                                     condition_values(pg, cond),
                                     number(temperature_value, temperature.label), (x, y), angle)
            return list(display(images))

        inputs = [seed, count, temperature, *motion, *conditions]
        # a drag fires one drawing, of where it ended (its every step, under Gradio's default
        # "once", left the gallery at a value the drag had passed)
        triggers = [button.click, seed.submit, *settled([count, temperature, *motion, *conditions])]
        gr.on(triggers, run, inputs, gallery, api_name="sample", trigger_mode="always_last")
        demo.load(run, inputs, gallery, api_name=False)


def traverse_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Traverse tab: a row of images along one axis, and latent sliders decoding one
    code live."""
    with gr.Tab("Traverse"):
        modes = generate.modes(pg)
        unit = generate.range_unit(pg)
        gr.Markdown("Decodings of one code moved along one axis: the centre of the codes, or "
                    "with a start seed the first face the Sample tab draws with it. " + _order_words(pg))
        with gr.Row():
            mode = gr.Radio(modes, value=modes[0], label="move along")
            axis = gr.Dropdown(generate.axis_choices(pg), value=int(pg.ranked[0][0]),
                               label="axis")
            span = slider(0.5, 6, value=3, step=0.5, label="range (±)",
                             info=unit)
            steps = slider(2, 16, value=9, step=1, label="steps")
            # text, not a number box: a number box shows a blank value as 0 and sends 0 or
            # nothing, so the box and the drawing disagreed
            start = gr.Textbox(_start_text(generate.default_start(pg)), label="start seed",
                               max_lines=1, info="a whole number; blank: the centre"
                               + (" (a GAN's is no face)" if pg.family == "dcgan" else ""))
        conditions = condition_controls(pg)
        button = gr.Button("Traverse", variant="primary")
        row = gr.Gallery(label="traversal", columns=9, object_fit="contain")  # grows: 16 steps, 2 rows

        @guard
        def choices(mode_value: str) -> tuple[Any, Any]:
            """The axes of the chosen kind, and what the range counts along them."""
            kind = generate.mode_of(mode_value)
            found = generate.axis_choices(pg, kind)
            return (gr.update(choices=found, value=found[0][1]),
                    gr.update(info=generate.range_unit(pg, kind)))

        @guard
        def run(mode_value: str, axis_value: float, span_value: float, steps_value: float,
                start_value: str | float | None = None, *cond: Any) -> list[np.ndarray]:
            images = generate.traverse(pg, whole(axis_value, "axis"), number(span_value, "range"),
                                       whole(steps_value, "steps"),
                                       generate.mode_of(mode_value), condition_values(pg, cond),
                                       _seed_or_none(start_value))
            return list(display(images))

        traverse_inputs = [mode, axis, span, steps, start, *conditions]
        # user events only (.input): another mode redraws once its axes are offered, even when
        # its first axis has the old axis's number (a .change of the axis would not fire)
        mode.input(choices, mode, [axis, span], api_name=False).then(run, traverse_inputs, row,
                                                            api_name=False)
        gr.on([button.click, axis.input, start.submit, *settled([span, steps, *conditions])], run,
              traverse_inputs, row, api_name="traverse", trigger_mode="always_last")
        demo.load(run, traverse_inputs, row, api_name=False)

        dims = generate.slider_axes(pg)
        gr.Markdown("## Latent sliders\nOne code, the start above with these dimensions "
                    f"moved ({generate.slider_words(pg)}), in {unit}; the image follows the sliders.")
        with gr.Row():
            with gr.Column(scale=2):
                sliders = [slider(-3, 3, value=0, step=0.05,
                                     label=f"z{d}" + ("" if v is None else f"  (var {v:.3g})"))
                           for d, v in dims]
            image = gr.Image(label="decoded", type="numpy", height=256, scale=1)

        @guard
        def live(*values: Any) -> np.ndarray:  # the sliders, the conditions, the start seed
            n = len(dims)
            moved = [number(v, f"z{d}") for v, (d, _) in zip(values[:n], dims, strict=True)]
            return display(generate.decode_sliders(pg, [d for d, _ in dims], moved,
                                                   condition_values(pg, values[n:-1]),
                                                   _seed_or_none(values[-1])))

        live_inputs = [*sliders, *conditions, start]
        # the Traverse button too: the sliders start where the row above does
        gr.on([s.change for s in sliders] + [c.change for c in conditions]
              + [start.submit, button.click], live, live_inputs, image, api_name="sliders",
              trigger_mode="always_last", show_progress="hidden")
        demo.load(live, live_inputs, image, api_name=False)


def _order_words(pg: Playground) -> str:
    """How the Traverse tab orders the run's latent dimensions, in words."""
    if in_w(pg.model):
        return ("This generator's latent dimensions are the principal axes of its W, largest "
                "first (GANSpace); SeFa directions are moved in SDs of W.")
    if not pg.has_encoder:  # the variance of encoder means it has none of
        return "A generator encodes no images: its latent dimensions are in order."
    if pg.latents is None:
        return ("Latent dimensions are in order (this run has no encoded images, latents.npy, "
                "to order them by).")
    return ("Latent dimensions are ordered by the variance of the encoder means over the run's "
            "encoded images (latents.npy: its training and held-out rows, as the run's "
            "active_units.json).")


def _start_text(seed: int | None) -> str:
    """What the start-seed box shows for ``seed`` (blank: the centre)."""
    return "" if seed is None else str(seed)


def _seed_or_none(value: str | float | None) -> int | None:
    """A start-seed box's value: None when blank (the centre), else a whole seed (the box's
    text, or a number through the API)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        seed = number(float(value), "start seed")
    except ValueError:   # text that is no number
        raise UserError(f"start seed must be a whole number or blank, got {value.strip()!r}") from None
    if not seed.is_integer():
        raise UserError(f"start seed must be a whole number or blank, got {seed:g}")
    return int(seed)


def projection_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Projection tab: column, method, colour-by -> a plotly scatter (PCA on load)."""
    columns = projection.vector_columns(pg)
    attributes = faces.direction_attributes(pg)
    with gr.Tab("Projection"):
        gr.Markdown("2-d maps of a vector column. PCA uses every row; t-SNE and UMAP a seeded "
                    "sample (a few seconds each; the first UMAP also compiles). Hover a point "
                    "for its row and attributes.")
        with gr.Row():
            column = gr.Dropdown(columns, value=columns[0], label="vector column")
            method = gr.Radio(list(projection.METHODS), value="pca", label="method")
            colour = gr.Dropdown(attributes, value=attributes[0] if attributes else None,
                                 label="colour by")
            sample = within(gr.Number(projection.SAMPLE, precision=0, minimum=10,
                                      label="sample (t-SNE, UMAP)"))
            seed = gr.Number(0, precision=0, label="seed")
        button = gr.Button("Draw", variant="primary")
        plot = gr.Plot(label="projection")

        @guard
        def draw(column_value: str, method_value: str, colour_value: str, sample_value: float,
                 seed_value: float) -> Any:
            if not colour_value and attributes:  # a cleared dropdown; no attribute: one colour
                raise UserError("choose an attribute to colour by")
            return projection.figure(pg, column_value, method_value, colour_value,
                                     whole(sample_value, "sample"), whole(seed_value, "seed"))

        inputs = [column, method, colour, sample, seed]
        gr.on([button.click, colour.change], draw, inputs, plot, api_name="projection")
        demo.load(draw, inputs, plot, api_name=False)


def bias_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Bias tab: group by one attribute, show another's shares (chi-square and, for two
    ordered attributes, the trend test); drawn when the page opens."""
    names = bias.attributes(pg)
    with gr.Tab("Bias"):
        gr.Markdown("The share of each value of one attribute within each group of another "
                    "(continuous attributes are cut into equal-width bins), as `latentplay "
                    "data bias` draws it.")
        first = bias.defaults(pg)
        with gr.Row():
            by = gr.Dropdown(names, value=first[0], label="groups (by)")
            of = gr.Dropdown(names, value=first[1], label="shares of (of)")
            bins = slider(2, 10, value=2, step=1, label="bins of a continuous attribute")
        image = gr.Image(label="bias", type="numpy")
        tests = gr.Markdown()

        @guard
        def draw(by_value: str, of_value: str, bins_value: float) -> tuple[np.ndarray, str]:
            return bias.chart(pg, by_value, of_value, whole(bins_value, "bins"))

        def opening(by_value: str, of_value: str, bins_value: float) -> tuple[np.ndarray | None, str]:
            """:func:`draw` when the page opens: a chart that cannot be drawn is a note below
            the dropdowns, not an error before anything was chosen."""
            try:
                return bias.chart(pg, by_value, of_value, whole(bins_value, "bins"))
            except UserError as exc:
                return None, f"No chart for these attributes: {exc}. Choose two others."

        inputs = [by, of, bins]
        gr.on([by.change, of.change, bins.release], draw, inputs, [image, tests], api_name="bias")
        demo.load(opening, inputs, [image, tests], api_name=False)


def accuracy_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Accuracy tab: a prediction against its label, group by group, with calibration
    and the parity for a positive class (``latentplay audit accuracy``); drawn when the page
    opens."""
    found = accuracy.predictions(pg)
    offered = accuracy.labels(pg, found[0]) or accuracy.labels(pg)
    first = accuracy.truth_of(pg, found[0]) or offered[0]
    grouping = accuracy.groups(pg)
    with gr.Tab("Accuracy"):
        gr.Markdown("Predictions beside the labels (`latentplay data predict`), judged per "
                    "group as `latentplay audit accuracy` judges them.")
        with gr.Row():
            predicted = gr.Dropdown(found, value=found[0], label="predictions")
            truth = gr.Dropdown(offered, value=first, label="labels")
            by = gr.Dropdown(grouping, value=next((n for n in grouping if n not in (first, found[0])),
                                                  grouping[0] if grouping else None),
                             label="groups (by)")
            positive = gr.Dropdown([""] + accuracy.classes(pg, first), value="",
                                   label="positive class (parity)")
        figures = [gr.Image(label=name, type="numpy", show_label=True)
                   for name in accuracy.FIGURES]
        lines = gr.Markdown()

        @guard
        def draw(predicted_value: str, truth_value: str, by_value: str,
                 positive_value: str) -> tuple[Any, ...]:
            images, text = accuracy.judge(pg, predicted_value, truth_value, by_value,
                                          positive_value)
            return (*(gr.update(value=images.get(name), visible=name in images)
                      for name in accuracy.FIGURES), text)

        @guard
        def pick(predicted_value: str | None) -> tuple[Any, Any]:
            if not predicted_value:  # a cleared dropdown: the labels stay; the drawing says so
                return gr.update(), gr.update()
            choices = accuracy.labels(pg, predicted_value) or accuracy.labels(pg)
            label = accuracy.truth_of(pg, predicted_value) or choices[0]
            return gr.update(choices=choices, value=label), relabel(label)

        def relabel(truth_value: str) -> Any:
            return gr.update(choices=[""] + accuracy.classes(pg, truth_value), value="")

        # user events only (.input), each followed by one drawing with the updated choices: a
        # new prediction redraws even when its label stays, and the positive classes follow
        # the labels
        inputs, outputs = [predicted, truth, by, positive], [*figures, lines]
        predicted.input(pick, predicted, [truth, positive], api_name=False).then(
            draw, inputs, outputs, api_name=False)
        truth.input(relabel, truth, positive, api_name=False).then(
            draw, inputs, outputs, api_name=False)
        gr.on([by.input, positive.input], draw, inputs, outputs, api_name="accuracy")
        demo.load(draw, inputs, outputs, api_name=False)
