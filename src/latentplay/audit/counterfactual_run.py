"""``latentplay audit counterfactual``: the counterfactual audit of a classifier (or a
value reader) on a store's faces, written into a directory.

It loads the run, the direction (or the condition), the classifier and the checks, takes the
faces' codes (:func:`latentplay.latent.codes.store_codes`), builds the edits and reads them
(:mod:`~latentplay.audit.counterfactual`, :mod:`~latentplay.audit.counterfactual_values`), and
writes ``counterfactual.json``, the step table as CSV (``flips.csv`` or ``changes.csv``),
``faces.csv``, ``counterfactual.png`` and ``faces.png``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.audit.annotate import Annotator
from latentplay.audit.counterfactual import (
    Edits,
    check_table,
    condition_edits,
    counterfactuals,
    direction_edits,
)
from latentplay.errors import UserError
from latentplay.outputs import json_default, output_dir
from latentplay.store import combine
from latentplay.store.schema import UNKNOWN


def audit_counterfactual(
    run: str | os.PathLike[str], data: str | os.PathLike[str], classifier: str,
    out: str | os.PathLike[str], *, direction: str | os.PathLike[str] | None = None,
    condition: str | None = None, attribute: str | None = None,
    rows: Sequence[int] | None = None, n: int = 200, steps: Sequence[float] | None = None,
    along: str = "pattern", random: int = 3, checks: Sequence[str] = (), by: str | None = None,
    heads: str | None = None, network_options: Sequence[str] = (), show: int = 8,
    seed: int = 0, overwrite: bool = False) -> dict[str, Any]:
    """Run the counterfactual audit of ``classifier`` (an annotator file, ``clip:WEIGHTS`` or
    ``onnx:PATH`` with ``heads``, reading ``attribute``; a network's value head gives
    readings, :mod:`~latentplay.audit.counterfactual_values`) on ``rows`` (default: ``n``
    random rows) of store ``data``, and write into ``out``: ``counterfactual.json`` (the
    summary, returned), ``flips.csv`` (:func:`flip_table`; ``changes.csv`` for readings),
    ``faces.csv`` (each face's class and probabilities, or reading, at each step),
    ``counterfactual.png`` and ``faces.png`` (the ``show`` faces that change most).

    The edit is one of: the direction file ``direction`` fitted on the codes of ``run``
    (``steps`` in standard deviations of the codes along it, default -2 to 2 by 0.5, with
    ``random`` random directions as the baseline), or the run's condition ``condition``
    (continuous: each face's own value shifted by ``steps``, default -1 to 1 by 0.5;
    categorical: set to each class). ``checks`` name annotators read at every step too (files
    read their own attribute, ``clip:`` and ``onnx:`` the edited one); ``by`` categorical
    attributes of ``data`` to group faces by (default: the class read at the reference
    step)."""
    from latentplay.latent.codes import store_codes
    from latentplay.train import decode, load_model, model_input

    if (direction is None) == (condition is None):
        raise UserError("give either --direction or --condition, not both or neither")
    store = st.load(data)
    model = load_model(run)
    found = _direction(direction, model) if direction is not None else None
    part = None if condition is None else model.condition_spec.part(condition)
    edited = found.attribute if found is not None else str(condition)
    reader = _annotator(classifier, attribute, store, heads, network_options, seed,
                        values=True)
    checkers = [_annotator(c, None if _is_file(c) else edited, store, heads, network_options,
                           seed) for c in checks]
    read = [c.attribute for c in checkers]
    if len(set(read)) < len(read):
        raise UserError(f"two check annotators read the same attribute ({', '.join(read)}); "
                        "give one of each")
    group_names, group_codes = ([], None) if by is None else combine.group_codes(store, by)[:2]
    places = _places(store, reader) if isinstance(reader, Annotator) else None
    out_dir = output_dir(out, overwrite)
    codes = store_codes(model, store, _rows(store, rows, n, seed), seed=seed)
    seen = model_input(model, codes.images)
    if found is not None:
        edits, edit = _direction_edit(found, codes.z, codes.condition, along, steps, random,
                                      seed, str(direction))
    else:
        assert part is not None and codes.condition is not None
        edits, edit = _condition_edit(part, model.condition_spec.column(part.name), codes.z,
                                      codes.condition, steps)

    def decoder(z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        return decode(model, z, condition=cond)

    if isinstance(reader, Annotator):
        result: Any = counterfactuals(decoder, edits, reader, checks=checkers, images=seen)
    else:
        from latentplay.audit.counterfactual_values import value_counterfactuals

        result = value_counterfactuals(decoder, edits, reader, checks=checkers, images=seen)
    if group_codes is None:
        names, groups = result.unedited_groups()
        grouped = f"{reader.attribute} read unedited"
    else:
        names, groups, grouped = group_names, group_codes[codes.rows], by
    summary = {
        "run": str(run), "data": str(store.path), "rows": codes.rows.tolist(), "edit": edit,
        "kind": result.kind,
        "classifier": {"attribute": reader.attribute,
                       "classes": getattr(reader, "classes", None), **reader.description},
        "checks": [{"attribute": c.attribute, "classes": c.classes, **c.description}
                   for c in checkers],
        "image": {"size": int(model.size), "crop": float(model.crop)},
        "steps": result.labels, "positions": None if result.positions is None
        else result.positions.tolist(), "reference": result.labels[result.zero],
        "groups_by": grouped, "ordered": places is not None,
        **result.tables(groups, names, places, seed), "check_shares": check_table(result)}
    (out_dir / "counterfactual.json").write_text(json.dumps(summary, indent=2,
                                                            default=json_default))
    table = "flips" if result.kind == "classes" else "changes"
    _write_csv(out_dir / f"{table}.csv", summary[table])
    _write_csv(out_dir / "faces.csv", result.face_rows(codes.rows))
    from latentplay.viz.counterfactual import sensitivity_figure
    from latentplay.viz.grid import image_grid, save_figure

    save_figure(sensitivity_figure(summary), out_dir / "counterfactual.png")
    faces = result.most_changed(show)
    lines = [np.concatenate([seen[k][None], decoder(
        edits.codes[k], None if edits.conditions is None else edits.conditions[k])])
        for k in faces]
    save_figure(image_grid(lines, [f"row {codes.rows[k]}" for k in faces],
                           captions=[["original"] + result.captions(k) for k in faces],
                           title=f"{reader.attribute} read on faces {edit['text']}"
                                 + (" (-> a changed class)" if result.kind == "classes"
                                    else "")),
                out_dir / "faces.png")
    return summary


def _direction_edit(found: Any, z: np.ndarray, condition: np.ndarray | None, along: str,
                    steps: Sequence[float] | None, random: int, seed: int, file: str
                    ) -> tuple[Edits, dict[str, Any]]:
    """The edits along direction ``found`` and their description for the summary."""
    edits = direction_edits(z, condition, found.axis(along), found.sd_along(along),
                            DIRECTION_STEPS if steps is None else steps, random=random,
                            seed=seed)
    return edits, {"kind": "direction", "file": file, "label": found.label,
                   "attribute": found.attribute, "positive": found.positive,
                   "negative": found.negative, "score": found.score,
                   "score_name": found.score_name, "along": along,
                   "sd": found.sd_along(along), "random_directions": random,
                   "text": f"moved along {found.label}", "unit": "SDs of the codes along it"}


def _condition_edit(part: Any, column: int, z: np.ndarray, condition: np.ndarray,
                    steps: Sequence[float] | None) -> tuple[Edits, dict[str, Any]]:
    """The edits of condition ``part`` (at ``column``) and their description."""
    continuous = part.kind == "continuous"
    edits = condition_edits(
        z, condition, column,
        shifts=(CONDITION_STEPS if steps is None else steps) if continuous else None,
        classes=None if continuous else part.names)
    return edits, {
        "kind": "condition", "attribute": part.name, "label": f"condition {part.name}",
        "positive": None, "random_directions": 0,
        "text": (f"with condition {part.name} shifted" if continuous
                 else f"with condition {part.name} set to each class"),
        "unit": "shift of the face's own value" if continuous else "class"}


DIRECTION_STEPS = (-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2)
"""Default steps along a direction, in standard deviations of the codes along it."""
CONDITION_STEPS = (-1, -0.5, 0.5, 1)
"""Default shifts of a continuous condition (SmileCVAE's smile degree spans -1 to 1)."""


def _direction(path: str | os.PathLike[str], model: Any) -> Any:
    """The direction file ``path``, checked against ``model``'s latent."""
    from latentplay.latent.directions import Direction

    found = Direction.from_json(path)
    found.check_dim(model.latent_dim)
    return found


def _annotator(spec: str, attribute: str | None, store: st.Store, heads: str | None,
               options: Sequence[str], seed: int, values: bool = False) -> Any:
    """The annotator ``spec`` names (a file, ``clip:WEIGHTS``, ``onnx:PATH``) of
    ``attribute`` (a file's own when None); with ``values``, a network's value head may be
    named too (a :class:`~latentplay.audit.annotate.NetworkValues`)."""
    from latentplay.audit.annotate import load_annotator
    from latentplay.audit.run import resolve_annotators

    if _is_file(spec):
        ann = load_annotator(spec)
        if attribute is not None and ann.attribute != attribute:
            raise UserError(f"{spec} reads {ann.attribute!r}, not {attribute!r}")
        return ann
    if attribute is None:
        raise UserError(f"{spec} needs --attribute: the attribute whose classes it reads")
    found = resolve_annotators([spec], store, [attribute], heads=heads,
                               network_options=options, seed=seed)[0]
    if not isinstance(found, Annotator) and not values:
        raise UserError(f"head {attribute!r} gives values, not classes; a check reads "
                        "classes")
    return found


def _is_file(spec: str) -> bool:
    """Whether an annotator spec names a file (not ``clip:`` or ``onnx:``)."""
    return not spec.startswith(("clip:", "onnx:"))


def _places(store: st.Store, classifier: Annotator) -> np.ndarray | None:
    """``(K,)`` places of the classifier's classes in the order of the store's attribute of
    the same name (-1: ``unknown``), when that attribute is ordered, has three classes or
    more, and has every one of them; else None."""
    if not store.schema.has_attribute(classifier.attribute):
        return None
    attr = store.schema.attribute(classifier.attribute)
    order = [n for n in attr.level_names if n != UNKNOWN]
    known = [c for c in classifier.classes if c != UNKNOWN]
    if not attr.ordered or len(order) < 3 or not set(known) <= set(order):
        return None
    return np.array([order.index(c) if c in order else -1 for c in classifier.classes])


def _rows(store: st.Store, rows: Sequence[int] | None, n: int, seed: int) -> list[int]:
    """``rows`` as given, or ``n`` random rows of ``store`` in order."""
    if rows is not None:
        return list(rows)
    if n < 2:
        raise UserError("--n must be at least 2")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False)).tolist()


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
