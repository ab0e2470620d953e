"""The Faces tab of the playground: two store faces, their interpolation, and edits of face A
along an attribute direction (fitted on the fly or read from a JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from latentplay.app import faces
from latentplay.app.state import Playground
from latentplay.app.widgets import display, guard, number, slider, whole
from latentplay.errors import UserError
from latentplay.latent.directions import Direction

OPEN_SECONDS = 10.0
"""Face A is reconstructed when the page opens only when its inversion (if it needs one) takes
at most this long; else it waits for the user (a StyleGAN's takes minutes on a CPU)."""

ALONG_THE_ORDER = "(along the order)"
"""The "towards class" choice of an ordered attribute's direction from its first class to its
last (no single class named)."""


def faces_tab(pg: Playground, demo: gr.Blocks) -> None:
    """The Faces tab: rows A and B with their images, interpolation, and the edit section."""
    store = pg.need_store()
    cost = faces.inversion_seconds(pg) if pg.inverts else 0.0
    at_open = cost <= OPEN_SECONDS
    with gr.Tab("Faces"):
        gr.Markdown(f"Real faces of the store, as {_codes_origin(pg, cost, at_open)}. Interpolation "
                    "moves from face A to face B; edits move face A along an attribute direction, from the "
                    "codes it was fitted on when the store holds them (as `latentplay latent edit`).")
        last = len(store) - 1
        with gr.Row():
            row_a = gr.Number(0, precision=0, label=f"face A (row 0..{last})")
            image_a = gr.Image(label="face A", type="numpy", height=160, interactive=False)
            row_b = gr.Number(min(1, last), precision=0,
                              label=f"face B (row 0..{last})")
            image_b = gr.Image(label="face B", type="numpy", height=160, interactive=False)

        def shown(box: str) -> Any:
            """The handler drawing the face of the row in box ``box`` (``face A``)."""
            @guard
            def show(row: float) -> np.ndarray:
                return display(pg.image(_row(pg, row, box)))
            return show

        show_a, show_b = shown("face A"), shown("face B")
        row_a.change(show_a, row_a, image_a, api_name="face")
        row_b.change(show_b, row_b, image_b, api_name=False)
        demo.load(show_a, row_a, image_a, api_name=False)
        demo.load(show_b, row_b, image_b, api_name=False)

        gr.Markdown("## Interpolation" + ("\n\nDrawn when you press *Interpolate* (faces A and B "
                                           "are inverted first)." if pg.inverts else ""))
        with gr.Row():
            method = gr.Radio(["slerp", "lerp"], value="slerp", label="path")
            steps = slider(2, 16, value=8, step=1, label="steps (ends included)")
            go = gr.Button("Interpolate", variant="primary")
        path = gr.Gallery(label="A -> B", columns=8, object_fit="contain")  # grows: 16 steps, 2 rows

        @guard
        def interpolate(a: float, b: float, method_value: str, steps_value: float
                        ) -> list[np.ndarray]:
            return list(display(faces.interpolate(pg, _row(pg, a, "face A"), _row(pg, b, "face B"),
                                                  whole(steps_value, "steps"), method_value)))

        go.click(interpolate, [row_a, row_b, method, steps], path, api_name="interpolate")
        if not pg.inverts:  # a first picture, as the other tabs have, when it costs no inversion
            demo.load(interpolate, [row_a, row_b, method, steps], path, api_name=False)
        _edit_section(pg, row_a, demo, at_open)


def _row(pg: Playground, value: float | None, box: str) -> int:
    """The store row in the page's box ``box`` (``face A``), refused with the box named."""
    if value is None:
        raise UserError(f"{box} is empty: give a row number")
    try:
        return pg.check_row(value)
    except UserError as exc:
        raise UserError(f"{box}: {exc}") from None


def _codes_origin(pg: Playground, cost: float, at_open: bool) -> str:
    """Where the codes of the store's faces come from (:meth:`Playground.codes`), in words;
    for an inversion its ``cost`` in seconds per new face, and whether face A is inverted when
    the page opens (``at_open``)."""
    from latentplay.report.training import duration

    if pg.has_encoder:
        return "encoder means"
    column = pg.code_column()
    if column is not None:
        return f"this run's codes in column `{column}` (`latentplay embed --with invert:RUN`)"
    if not pg.inverts:
        return "the codes the store's samples were drawn from"
    return (f"codes found by inversion ({pg.invert_steps} steps: about {duration(cost)} per new face "
            "on this machine, timed when the page was built; then cached)" + (
                "" if at_open else ". So that the page opens at once, face A is inverted only when "
                "you press *Reconstruct face A* or change the edit's controls"))


def _default_attribute(pg: Playground) -> str | None:
    """The first two-class attribute of the store (else the first attribute)."""
    names = faces.direction_attributes(pg)
    binary = [n for n in names if len(faces.class_names(pg, n)) == 2]
    return (binary or names or [None])[0]


def _edit_section(pg: Playground, row: gr.Number, demo: gr.Blocks, at_open: bool) -> None:
    """Direction (fitted or loaded), step and axis -> face ``row``, its reconstruction and
    its edit, the direction's cautions, and, with a classifier, what it reads on the last
    two; drawn when the page opens (``at_open``), else when asked with a button."""
    gr.Markdown("## Edit face A along a direction")
    columns = faces.direction_columns(pg)
    attributes = faces.direction_attributes(pg)
    direction = gr.State(None)
    fitting = bool(columns)
    first = _default_attribute(pg)
    with gr.Row():
        source = gr.Radio(["fit", "load JSON"], value="fit" if fitting else "load JSON",
                          label="direction")
        column = gr.Dropdown(columns, value=columns[0] if columns else None, label="codes",
                             info=f"vector columns with {pg.latent_dim} dimensions",
                             visible=fitting)
        attribute = gr.Dropdown(attributes, value=first, label="attribute", visible=fitting)
        positive = gr.Dropdown(visible=fitting, label="towards class",
                               **_classes(pg, first))
        fit = gr.Button("Fit direction", visible=fitting)
    upload = gr.File(label="direction JSON (latentplay latent direction)",
                     file_types=[".json"], type="filepath", visible=not fitting)
    summary = gr.Markdown("No direction yet.")
    with gr.Row():
        along = gr.Radio(["pattern", "normal"], value="pattern", label="move along",
                         info="pattern: how codes move with the attribute; normal: InterFaceGAN")
        alpha = slider(-4, 4, value=0, step=0.1, label="step (SDs of the codes along it)")
    asked = [] if at_open else [gr.Button("Reconstruct face A").click]
    with gr.Row():
        original = gr.Image(label="face A", type="numpy", height=200, interactive=False)
        recon = gr.Image(label="reconstruction", type="numpy", height=200, interactive=False)
        edited = gr.Image(label="edited", type="numpy", height=200, interactive=False)
    caution = gr.Markdown("")  # the direction's cautions, as `latentplay latent edit` prints them
    classifier = gr.File(label="classifier reading the edit (optional: an annotator .npz from "
                         "latentplay audit annotator)", file_types=[".npz"], type="filepath")
    reading = gr.Markdown("")

    @guard
    def fitted(column_value: str, attribute_value: str, positive_value: str | None
               ) -> tuple[Direction, str, str]:
        found = faces.fit(pg, column_value, attribute_value, positive_value)
        return found, faces.describe(found), faces.cautions(pg, found)

    @guard
    def loaded(path: str | None) -> tuple[Direction | None, str, str]:
        """A refused file leaves no direction in use, and says why where the direction was
        described (a toast alone went, and the earlier direction stayed in use)."""
        if not path:
            raise UserError("choose a direction JSON file")
        try:
            found = faces.load_direction(pg, path)
        except UserError as exc:  # named as uploaded, not by the server's copy of it
            why = str(exc).replace(str(path), Path(path).name)
            return None, f"**Not loaded**: {faces.markdown_text(why)}. No direction is in use.", ""
        return found, faces.describe(found), faces.cautions(pg, found)

    @guard
    def move(row_value: float, found: Direction | None, along_value: str, alpha_value: float,
             classifier_path: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        step = number(alpha_value, "step")
        row_value = _row(pg, row_value, "face A")
        base = pg.fitted(pg.image(row_value)[None])[0]
        recon_img = faces.reconstruct(pg, row_value, None if found is None else found.column)
        edit_img = recon_img if found is None else faces.edit(pg, row_value, found, step,
                                                              along_value)
        text = "" if not classifier_path else faces.read_edit(classifier_path, recon_img,
                                                              edit_img)
        return display(base), display(recon_img), display(edit_img), text

    attribute.change(lambda name: gr.update(**_classes(pg, name)), attribute, positive,
                     api_name=False)
    fit.click(fitted, [column, attribute, positive], [direction, summary, caution],
              api_name="fit")
    upload.upload(loaded, upload, [direction, summary, caution], api_name="load_direction")
    source.change(lambda s: (gr.update(visible=s == "fit"),) * 4
                  + (gr.update(visible=s != "fit"),),
                  source, [column, attribute, positive, fit, upload], api_name=False)
    edit_inputs = [row, direction, along, alpha, classifier]
    edit_outputs = [original, recon, edited, reading]
    gr.on([*asked, alpha.change, along.change, direction.change, row.change, classifier.change],
          move, edit_inputs, edit_outputs, api_name="edit", trigger_mode="always_last",
          show_progress="hidden")
    if at_open:
        demo.load(move, edit_inputs, edit_outputs, api_name=False)


def _classes(pg: Playground, attribute: str | None) -> dict[str, Any]:
    """Choices and default of the "towards class" dropdown for ``attribute``: its classes
    and the second one (empty for a continuous attribute); an ordered attribute of more than
    two classes is first offered along its order (the value ``""``), from its first class to
    its last."""
    names = faces.class_names(pg, attribute) if attribute else []
    if len(names) > 2 and pg.need_store().schema.attribute(attribute).ordered:
        return {"choices": [(ALONG_THE_ORDER, ""), *[(n, n) for n in names]], "value": ""}
    return {"choices": names, "value": names[1] if len(names) > 1 else None}
