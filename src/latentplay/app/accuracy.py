"""The Accuracy tab: predictions a store holds beside its labels (``latentplay data
predict``), judged group by group as ``latentplay audit accuracy`` judges them — accuracy,
calibration within groups, and the parity for a positive class."""

from __future__ import annotations

import numpy as np

from latentplay.app.state import PYPLOT, Playground
from latentplay.errors import UserError
from latentplay.store.schema import UNKNOWN

PREFIX = "predicted_"
"""What ``data predict`` puts before a prediction's name."""


def predictions(pg: Playground) -> list[str]:
    """Attributes holding predictions: named ``predicted_*`` (their ``_p`` probabilities
    left out)."""
    return [a.name for a in pg.need_store().schema.attributes
            if a.name.startswith(PREFIX) and not a.name.endswith("_p")]


def labels(pg: Playground, predicted: str | None = None) -> list[str]:
    """Attributes predictions can be judged against: every one not named ``predicted_*``;
    given ``predicted``, those ``latentplay audit accuracy`` can compare it with (classes
    sharing a class name with its own; values with values, or with groups named as intervals
    such as ``0-2``)."""
    from latentplay.store.binning import group_bounds

    schema = pg.need_store().schema
    found = [a for a in schema.attributes if not a.name.startswith(PREFIX)]
    if not predicted or not schema.has_attribute(predicted):
        return [a.name for a in found]
    made = schema.attribute(predicted)
    if made.kind == "continuous":
        return [a.name for a in found if a.kind == "continuous"
                or group_bounds([n for n in a.level_names if n != UNKNOWN]) is not None]
    named = set(made.level_names) - {UNKNOWN}
    return [a.name for a in found if a.kind != "continuous" and named & set(a.level_names)]


def groups(pg: Playground) -> list[str]:
    """Attributes whose classes can group the rows (categorical ones and factors; a
    continuous one must first be cut into groups with ``latentplay data bin``)."""
    return [a.name for a in pg.need_store().schema.attributes if a.kind != "continuous"]


def truth_of(pg: Playground, predicted: str | None) -> str | None:
    """The label a prediction is of (``predicted_gender`` -> ``gender``), when the store has
    it; None for no prediction (a cleared dropdown)."""
    if not predicted:
        return None
    name = predicted[len(PREFIX):]
    return name if name in {a.name for a in pg.need_store().schema.attributes} else None


def classes(pg: Playground, attribute: str) -> list[str]:
    """The classes of a categorical attribute (for the positive class; ``unknown``, rows
    without a label, is none), else none."""
    if not attribute:
        return []
    found = pg.need_store().schema.attribute_or_error(attribute)
    return [] if found.kind == "continuous" else [n for n in found.level_names if n != UNKNOWN]


def _check_choices(pg: Playground, predicted: str, truth: str, by: str, positive: str | None
                   ) -> None:
    """A :class:`UserError` naming the tab's controls (not the command's options) for choices
    the audit refuses."""
    if not predicted or not truth or not by:
        raise UserError("choose the predictions, the labels and the groups")
    if predicted == truth:
        raise UserError(f"predictions and labels are both {predicted!r}: choose the labels the "
                        "predictions are of")
    schema = pg.need_store().schema
    if schema.attribute_or_error(by).kind == "continuous":
        raise UserError(f"groups (by) {by!r} is continuous: choose a categorical attribute (or cut "
                        f"it into groups first with `latentplay data bin STORE {by}`)")
    if positive and schema.attribute_or_error(truth).kind == "continuous":
        raise UserError(f"positive class (parity) {positive!r} names a class, and the labels "
                        f"{truth!r} are values: leave it empty")


FIGURES = ("accuracy", "parity", "calibration")
"""The audit's figures, in the tab's order."""


def judge(pg: Playground, predicted: str, truth: str, by: str, positive: str | None = None
          ) -> tuple[dict[str, np.ndarray], str]:
    """The audit's figures by name (:data:`FIGURES`: accuracy; parity when ``positive`` is
    given; calibration when the store has the confidences) as ``(H, W, 3)`` uint8 images, and
    its lines as Markdown."""
    from latentplay.app.faces import code_block
    from latentplay.audit.accuracy import measure_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines
    from latentplay.viz.accuracy import accuracy_figures
    from latentplay.viz.grid import figure_array

    _check_choices(pg, predicted, truth, by, positive)
    try:
        summary, _ = measure_accuracy(pg.need_store(), predicted, truth, by,
                                      positive=positive or None)
    except UserError as error:  # no row to judge: say which labels the predictions are of
        label = truth_of(pg, predicted)
        hint = f"; its labels are {label!r}" if label and label != truth else ""
        raise UserError(str(error) + (hint if str(error).startswith("no row") else "")) from None
    with PYPLOT:
        images = {name: figure_array(fig) for name, fig in accuracy_figures(summary).items()}
    return images, code_block("\n".join(accuracy_lines(summary)))
