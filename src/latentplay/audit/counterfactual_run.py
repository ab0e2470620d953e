"""``latentplay audit counterfactual``: the counterfactual audit of a classifier (or a
value reader) on a store's faces, written into a directory.

It loads the run, the direction (or the condition), the classifier and the checks, takes the
faces' codes (:func:`latentplay.latent.codes.store_codes`), builds the edits and reads them
(:mod:`~latentplay.audit.counterfactual`, :mod:`~latentplay.audit.counterfactual_values`), and
writes ``counterfactual.json``, the step table as CSV (``flips.csv`` or ``changes.csv``),
``faces.csv``, ``counterfactual.png`` and ``faces.png``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.audit.annotate import Annotator
from latentplay.audit.counterfactual import (
    BASELINES,
    Edits,
    check_means,
    check_table,
    checked_steps,
    condition_edits,
    counterfactuals,
    direction_edits,
)
from latentplay.embed.base import Embedder, fit_embedder
from latentplay.errors import UserError
from latentplay.intervals import proportion_interval
from latentplay.outputs import json_default, made_by, output_dir, staged_outputs, write_csv
from latentplay.store import combine
from latentplay.store.bias import repeated_persons
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import UNKNOWN


@dataclass
class _Faces:
    """What every edit of one audit shares: the run (its path and model), the store, the
    reader under audit, the faces' codes and images (as the model sees them), their groups
    (``by``), the checks by the attribute they are asked to read (annotator files read their
    own), the persons behind repeated faces, the seed, how many faces ``faces.png`` shows and
    the face embedder of the identity check (or None)."""

    run: str
    store: st.Store
    model: Any
    reader: Any
    codes: Any
    seen: np.ndarray
    names: list[str]
    groups: np.ndarray | None
    places: np.ndarray | None
    checks: Callable[[str], list[Any]]
    persons: np.ndarray | None
    by: str | None
    seed: int
    show: int
    identity: Embedder | None = None

    def decode(self, z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        from latentplay.train import decode

        return decode(self.model, z, condition=cond)


def audit_counterfactual(
    run: str | os.PathLike[str], data: st.Store | str | os.PathLike[str], classifier: str,
    out: str | os.PathLike[str], *,
    direction: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    condition: str | Sequence[str] | None = None, attribute: str | None = None,
    rows: Sequence[int] | None = None, n: int = 200, steps: Sequence[float] | None = None,
    along: str = "pattern", random: int = 3, baseline: str = "codes",
    checks: Sequence[str] = (), by: str | None = None, heads: str | None = None,
    network_options: Sequence[str] = (), show: int = 8, seed: int = 0,
    identity: str | None = None, identity_options: Sequence[str] = (),
    overwrite: bool = False) -> dict[str, Any]:
    """Run the counterfactual audit of ``classifier`` (an annotator file, ``clip:WEIGHTS`` or
    ``onnx:PATH`` with ``heads``, reading ``attribute``; a network's value head gives
    readings, :mod:`~latentplay.audit.counterfactual_values`) on ``rows`` (default: ``n``
    random rows) of store ``data``, and write into ``out``: ``counterfactual.json`` (the
    summary, returned), ``flips.csv`` (:func:`flip_table`; ``changes.csv`` for readings),
    ``faces.csv`` (each face's class and probabilities, or reading, at each step),
    ``counterfactual.png`` and ``faces.png`` (the ``show`` faces that change most).

    The edit is one of: the direction file ``direction`` fitted on the codes of ``run``
    (``steps`` in standard deviations of the codes along it, default -2 to 2 by 0.5, with
    ``random`` random directions as the baseline, drawn as the codes vary or on the sphere:
    ``baseline``, :func:`direction_edits`), or the run's condition ``condition``
    (continuous: each face's own value shifted by ``steps``, default -1 to 1 by 0.5;
    categorical: set to each class). Several direction files (or conditions) audit the same
    faces along each (into ``out/<file name>/``, ``out/condition_<name>/``) and write the
    classifier's profile across them
    (:func:`write_profile`: ``profile.json``, returned, ``profile.csv``, ``profile.png``).
    ``checks`` name annotators read at every step too (files read their own attribute,
    ``clip:`` and ``onnx:`` the edited one, or the one named as ``ATTRIBUTE=onnx:PATH``; a
    network's value head gives values, :func:`check_means`); ``by`` categorical attributes of ``data`` to
    group faces by (default: the class read at the reference step). ``identity`` names a face
    embedder (``dlib``, ``onnx:ARCFACE``; options ``identity_options``) that checks whether
    each edit keeps the person (:mod:`~latentplay.audit.identity`: ``identity.csv``)."""
    from latentplay.audit.identity import identity_embedder
    from latentplay.latent.codes import store_codes
    from latentplay.train import load_model

    files = ([] if direction is None else [direction] if isinstance(direction, str | Path)
             else list(direction))
    conditions = ([] if condition is None else [condition] if isinstance(condition, str)
                  else list(condition))
    if bool(files) == bool(conditions):
        raise UserError("give either --direction or --condition, not both or neither")
    if baseline not in BASELINES:
        raise UserError(f"--baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    if steps is not None:
        checked_steps(steps)  # refused before any work
    store = opened(data)
    model = load_model(run)
    found = [_direction(f, model, run) for f in files]
    parts = [model.condition_spec.part(c) for c in conditions]
    reader = _annotator(classifier, attribute, store, heads, network_options, seed)
    loaded: dict[tuple[str, str | None], Any] = {}

    def checkers(edited: str) -> list[Any]:
        out = []
        for named in checks:
            read, spec = check_spec(named)
            key = (spec, None if _is_file(spec) else read or edited)
            if key not in loaded:
                loaded[key] = _annotator(spec, key[1], store, heads, network_options, seed)
            out.append(loaded[key])
        read = [c.attribute for c in out]
        if len(set(read)) < len(read):
            raise UserError(f"two check annotators read the same attribute "
                            f"({', '.join(read)}); give one of each")
        return out

    for edited in [f.attribute for f in found] + [part.name for part in parts]:
        checkers(edited)  # every annotator loaded (and refused) before any work
    names, groups = ([], None) if by is None else combine.group_codes(store, by)[:2]
    embedder = None if identity is None else identity_embedder(identity, identity_options)
    with staged_outputs(output_dir(out, overwrite)) as out_dir:   # moved in once all are written
        codes = store_codes(model, store, _rows(store, rows, n, seed), seed=seed)
        seen = codes.framed(model)
        faces = _Faces(str(run), store, model, reader, codes, seen, names, groups,
                       _places(store, reader) if isinstance(reader, Annotator) else None,
                       checkers, _persons(store, codes.rows), by, seed, show,
                       None if embedder is None else fit_embedder(embedder, seen))
        makers: list[Callable[[], tuple[Edits, dict[str, Any]]]] = [
            partial(_direction_edit, one, codes.z, codes.condition, along, steps, random, seed,
                    str(file), baseline, one.check_run(run))
            for one, file in zip(found, files, strict=True)]
        for part in parts:
            assert codes.condition is not None
            makers.append(partial(_condition_edit, part, model.condition_spec.column(part.name),
                                  codes.z, codes.condition, steps))
        if len(makers) == 1:
            return _audit(faces, *makers[0](), out_dir)
        folders = _unique_names(files) if files else [f"condition_{c}" for c in conditions]
        summaries = [_audit(faces, *make(), output_dir(out_dir / name, overwrite))
                     for name, make in zip(folders, makers, strict=True)]
        return write_profile(summaries, folders, out_dir)


def _audit(faces: _Faces, edits: Edits, edit: dict[str, Any], out_dir: Path
           ) -> dict[str, Any]:
    """Read one edit of the faces and write its outputs into ``out_dir``; the summary."""
    reader, codes = faces.reader, faces.codes
    checks = faces.checks(edit["attribute"])
    if isinstance(reader, Annotator):
        result: Any = counterfactuals(faces.decode, edits, reader, checks=checks,
                                      images=faces.seen)
    else:
        from latentplay.audit.counterfactual_values import value_counterfactuals

        result = value_counterfactuals(faces.decode, edits, reader, checks=checks,
                                       images=faces.seen)
    if faces.groups is None:
        names, groups = result.unedited_groups()
        grouped = f"{reader.attribute} read unedited"
    else:
        names, groups, grouped = faces.names, faces.groups[codes.rows], str(faces.by)
    summary = {
        "run": faces.run, "data": str(faces.store.path), "data_digest": store_digest(faces.store),
        "rows": codes.rows.tolist(), "edit": edit,
        "kind": result.kind,
        "classifier": {"attribute": reader.attribute,
                       "classes": getattr(reader, "classes", None), **reader.description},
        "checks": [{"attribute": c.attribute, "classes": getattr(c, "classes", None),
                    **c.description} for c in checks],
        "image": {"size": int(faces.model.size), "crop": float(faces.model.crop)},
        "steps": result.labels, "positions": None if result.positions is None
        else result.positions.tolist(), "reference": result.labels[result.zero],
        "groups_by": grouped, "ordered": faces.places is not None,
        "accuracy": _label_accuracy(faces, result),
        "persons": None if faces.persons is None else int(len(np.unique(faces.persons))),
        **result.tables(groups, names, faces.places, faces.seed, faces.persons),
        "check_shares": check_table(result),
        "check_means": check_means(result, faces.persons, seed=faces.seed)}
    if faces.identity is not None:
        from latentplay.audit.identity import identity_along, identity_summary, identity_table

        found = identity_along(faces.decode, edits, faces.identity, images=faces.seen)
        summary["identity"] = identity_summary(found, identity_table(
            found, groups, names, seed=faces.seed, persons=faces.persons))
        write_csv(out_dir / "identity.csv", summary["identity"]["table"])
    (out_dir / "counterfactual.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                            default=json_default), encoding="utf-8")
    table = "flips" if result.kind == "classes" else "changes"
    write_csv(out_dir / f"{table}.csv", summary[table])
    write_csv(out_dir / "faces.csv", result.face_rows(codes.rows))
    from latentplay.viz.counterfactual import sensitivity_figure
    from latentplay.viz.grid import image_grid, save_figure

    save_figure(sensitivity_figure(summary), out_dir / "counterfactual.png")
    shown = result.most_changed(faces.show)
    lines = [np.concatenate([faces.seen[k][None], faces.decode(
        edits.codes[k], None if edits.conditions is None else edits.conditions[k])])
        for k in shown]
    save_figure(image_grid(lines, [f"row {codes.rows[k]}" for k in shown],
                           captions=[["original"] + result.captions(k) for k in shown],
                           title=f"{reader.attribute} read on faces {edit['text']}"
                                 + (" (-> a changed class)" if result.kind == "classes"
                                    else "")),
                out_dir / "faces.png")
    return summary


def _unique_names(files: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Directory names for direction files: their stems, numbered where two are alike."""
    stems = [Path(f).stem for f in files]
    return [s if stems.count(s) == 1 else f"{s}_{k + 1}" for k, s in enumerate(stems)]


def write_profile(summaries: Sequence[dict[str, Any]], names: Sequence[str],
                  out: Path) -> dict[str, Any]:
    """The classifier's profile across several edits of the same faces: per edit (named
    ``names``, its outputs in ``out/<name>``) at its first and last step (a categorical
    condition: at every class it is set to), the class changes
    (or the reading's mean change) over all faces with their intervals and the excess over
    the random directions'; written as ``profile.json`` (returned), ``profile.csv`` and
    ``profile.png``."""
    from latentplay.audit.counterfactual import ALL
    from latentplay.viz.counterfactual import profile_figure
    from latentplay.viz.grid import save_figure

    rows = []
    for name, s in zip(names, summaries, strict=True):
        table = s["flips"] if s["kind"] == "classes" else s["changes"]
        ends = ([s["steps"][0], s["steps"][-1]] if s["positions"] is not None
                else [x for x in s["steps"] if x != s["reference"]])     # classes: each
        for step in ends:
            r = next(r for r in table if r["group"] == ALL and r["step"] == step)
            kept = next((i for i in (s.get("identity") or {}).get("table", [])
                         if i["group"] == ALL and i["step"] == step), None)
            rows.append({"edit": name, "label": s["edit"]["label"],
                         "score": s["edit"].get("score"), "weak": s["edit"].get("weak"),
                         "caution": s["edit"].get("caution"),
                         "step": step,
                         **{k: v for k, v in r.items() if k not in ("group", "step")},
                         **({} if kept is None else
                            {"identity_similarity": kept["similarity"],
                             "identity_loss": kept.get("loss")})})
    first = summaries[0]
    profile = {"run": first["run"], "data": first["data"], "data_digest": first["data_digest"],
               "rows": first["rows"],
               "kind": first["kind"], "classifier": first["classifier"],
               "along": first["edit"].get("along"), "edits": list(names), "profile": rows}
    (out / "profile.json").write_text(json.dumps({**profile, "made_by": made_by()}, indent=2,
                                                 default=json_default), encoding="utf-8")
    write_csv(out / "profile.csv", rows)
    save_figure(profile_figure(profile), out / "profile.png")
    return profile


def _direction_edit(found: Any, z: np.ndarray, condition: np.ndarray | None, along: str,
                    steps: Sequence[float] | None, random: int, seed: int, file: str,
                    baseline: str, caution: str | None) -> tuple[Edits, dict[str, Any]]:
    """The edits along direction ``found`` and their description for the summary
    (``caution``: the direction's :meth:`~latentplay.latent.directions.Direction.check_run`
    caution)."""
    edits = direction_edits(z, condition, found.axis(along), found.sd_along(along),
                            DIRECTION_STEPS if steps is None else steps, random=random,
                            seed=seed, baseline=baseline)
    return edits, {"kind": "direction", "file": file, "label": found.label,
                   "attribute": found.attribute, "positive": found.positive,
                   "negative": found.negative, "score": found.score,
                   "score_name": found.score_name, "along": along,
                   "sd": found.sd_along(along), "random_directions": random,
                   "baseline": baseline, "weak": found.weak, "caution": caution,
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


def check_spec(spec: str) -> tuple[str | None, str]:
    """A ``--check`` item: ``ATTRIBUTE=onnx:PATH`` (or ``clip:``) names the attribute the
    network reads; otherwise None (an annotator file reads its own, a network the edited
    one) and the spec."""
    attribute, sep, rest = spec.partition("=")
    if sep and rest.startswith(("onnx:", "clip:")) and attribute.isidentifier():
        return attribute, rest
    if sep and _is_file(rest):
        raise UserError(f"--check {spec}: an annotator file reads its own attribute; give it "
                        "without ATTRIBUTE=")
    return None, spec


def _direction(path: str | os.PathLike[str], model: Any, run: str | os.PathLike[str]) -> Any:
    """The direction file ``path``, checked against ``model``'s latent and refused when fitted
    on another run's codes (:meth:`~latentplay.latent.directions.Direction.check_run`; its
    caution, when it may be another run's, goes into the summary and is printed with it)."""
    from latentplay.latent.directions import Direction

    found = Direction.from_json(path)
    found.check_dim(model.latent_dim)
    found.check_run(run)
    return found


def _annotator(spec: str, attribute: str | None, store: st.Store, heads: str | None,
               options: Sequence[str], seed: int) -> Any:
    """The annotator ``spec`` names (a file, ``clip:WEIGHTS``, ``onnx:PATH``) of
    ``attribute`` (a file's own when None); a network's value head gives a
    :class:`~latentplay.audit.annotate.NetworkValues` (readings instead of classes)."""
    from latentplay.audit.annotate import load_annotator
    from latentplay.audit.run import resolve_annotators

    if _is_file(spec):
        ann = load_annotator(spec)
        if attribute is not None and ann.attribute != attribute:
            raise UserError(f"{spec} reads {ann.attribute!r}, not {attribute!r}")
        return ann
    if attribute is None:
        raise UserError(f"{spec} needs --attribute: the attribute whose classes it reads")
    return resolve_annotators([spec], store, [attribute], heads=heads,
                              network_options=options, seed=seed)[0]


def _is_file(spec: str) -> bool:
    """Whether an annotator spec names a file (not ``clip:`` or ``onnx:``)."""
    return not spec.startswith(("clip:", "onnx:"))


def _label_accuracy(faces: _Faces, result: Any) -> dict[str, Any] | None:
    """How often the classifier is right on the faces (as the model sees them) and on their
    unedited decodings, with Wilson 95 % intervals (a bootstrap over persons when some have
    several faces), over the faces whose label of the classifier's attribute in the store
    names one of its classes; None without such labels.
    A classifier much less right on decodings answers about images unlike the photos it is
    meant for."""
    store, reader = faces.store, faces.reader
    if result.kind != "classes" or result.original is None or \
            not store.schema.has_attribute(reader.attribute):
        return None
    if store.schema.attribute(reader.attribute).kind == "continuous":
        return None
    truth = reader.store_truth(store)[faces.codes.rows]
    known = truth >= 0
    if not known.any():
        return None
    out: dict[str, Any] = {"n": int(known.sum())}
    persons = None if faces.persons is None else faces.persons[known]
    for key, read in (("faces", result.original), ("decodings", result.reference)):
        right = read[known] == truth[known]
        low, high = proportion_interval(right, persons, faces.seed)
        out[key] = {"accuracy": float(right.mean()), "low": float(low), "high": float(high)}
    return out


def _persons(store: st.Store, rows: np.ndarray) -> np.ndarray | None:
    """``(n,)`` the person of each of ``rows`` when some person has several of them (the
    intervals then resample persons); else None."""
    persons = repeated_persons(store)
    if persons is None:
        return None
    mine = persons[rows]
    return mine if len(np.unique(mine)) < len(mine) else None


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
