"""The Faces tab: real faces of the store interpolated and edited along attribute directions.

Codes of store rows are found as ``latentplay latent edit`` finds them (:meth:`Playground.codes`):
the store's column of this run's codes (an edit: the column its direction was fitted on first;
a generator: its latest ``invert:RUN`` column), else encoder means (each row with its own
condition) or, for a generator, codes found by inversion. Directions are fitted on a vector column
of the store, or on the run's own codes of the whole store (:data:`RUN_CODES`), with
:func:`latentplay.latent.directions.fit_store_direction`, or read from a direction JSON.
"""

from __future__ import annotations

import os
import re
import time
from functools import lru_cache
from typing import Any

import numpy as np

from latentplay.app.state import Playground
from latentplay.errors import UserError
from latentplay.latent.directions import Direction
from latentplay.store.schema import UNKNOWN

RUN_CODES = "(this run's codes)"
"""Pseudo column: the run's encoder means of every store row, computed when first asked."""

_RUN_COLUMN = "__latentplay_app_codes"


def reconstruct(pg: Playground, row: float | int, prefer: str | None = None) -> np.ndarray:
    """``(S, S, C)`` decoding of the code of store ``row`` (its reconstruction); ``prefer``:
    the column of this run's codes to read it from when the store has it
    (:meth:`Playground.codes`)."""
    z, cond = pg.codes([row], prefer)
    return pg.decode(z, cond)[0]


def interpolate(pg: Playground, row_a: float | int, row_b: float | int, steps: int,
                method: str) -> np.ndarray:
    """``(steps, S, S, C)`` decodings of codes on the way from row ``row_a`` to ``row_b``
    (``slerp`` or ``lerp``; ends included, so the first and last images are the two faces'
    reconstructions). A conditional model's condition moves linearly with the code."""
    from latentplay.latent.interpolate import between

    z, cond = pg.codes([row_a, row_b])
    ends = (None, None) if cond is None else (cond[0], cond[1])
    path, conds = between(z[0], z[1], int(steps), method, *ends)
    return pg.decode(path, conds)


def inversion_seconds(pg: Playground) -> float:
    """About how many seconds inverting one new face takes on this machine
    (:attr:`Playground.invert_steps` Adam steps): a step's time, half the difference between an
    inversion of face 0 in 2 steps and one in none, each the quicker of two (after a first call
    of one step that readies the model and its backward pass, whose first run costs more), times
    the steps; where a busy machine makes the difference vanish, half the 2-step call (an upper
    bound: never 0, which would start slow inversions as the page opens). The whole costs about
    3% of one face's inversion."""
    from latentplay.latent.codes import row_conditions
    from latentplay.latent.invert import invert

    model = pg.need_model()
    image = pg.image(0)[None]
    condition = row_conditions(model, pg.need_store(), np.arange(1))
    took: dict[int, float] = {}
    for steps in (1, 0, 2, 0, 2):
        start = time.perf_counter()
        invert(model, image, condition=condition, steps=steps)
        took[steps] = min(took.get(steps, np.inf), time.perf_counter() - start)
    step = (took[2] - took[0]) / 2 if took[2] > took[0] else took[2] / 2
    return pg.invert_steps * step


def direction_columns(pg: Playground) -> list[str]:
    """Vector columns of the store with the run's latent dimension (codes a direction can be
    fitted on), after :data:`RUN_CODES` for an encoder model; a column of another run's codes
    (other weights, which :func:`fit` refuses) is left out."""
    store, dim = pg.need_store(), pg.latent_dim
    columns = [v.name for v in store.schema.vectors if v.dim == dim and not _another_run(pg, v.name)]
    return ([RUN_CODES] if pg.has_encoder else []) + columns


def _another_run(pg: Playground, column: str) -> bool:
    """Whether vector ``column`` holds codes of another run (other weights, or the same
    generator imported in the other code space: :func:`~latentplay.latent.codes.column_of_run`),
    which :func:`fit` refuses; False for a column of no known run (offered, with its caution)."""
    from latentplay.latent.codes import column_of_run

    return pg.run is not None and column_of_run(pg.need_store(), column, pg.need_model()) is False


def direction_attributes(pg: Playground) -> list[str]:
    """Attributes of the store a direction can be fitted for (categorical, continuous,
    factor)."""
    return [a.name for a in pg.need_store().schema.attributes]


def class_names(pg: Playground, attribute: str) -> list[str]:
    """Class names of a categorical ``attribute`` a direction can point to (empty for a
    continuous one; ``unknown``, rows without a value, is not a class)."""
    attr = pg.need_store().schema.attribute_or_error(attribute)
    return [n for n in attr.level_names if n != UNKNOWN] if attr.kind == "categorical" else []


def fit(pg: Playground, column: str, attribute: str, positive: str | None = None
        ) -> Direction:
    """The direction of ``attribute`` fitted on vector ``column`` (or :data:`RUN_CODES`),
    pointing to class ``positive`` (default: the second of two classes; from the first class
    to the last of ordered ones; else a class must be named). Cached per (column, attribute,
    positive).

    Raises:
        UserError: ``column`` holds codes of a run whose weights are not the loaded run's
            (:meth:`~latentplay.latent.directions.Direction.check_run`), as ``latentplay latent
            edit`` refuses such a direction.
    """
    from latentplay.latent.directions import fit_store_direction

    if not column and not direction_columns(pg):  # a generator's, with no column of its codes
        raise UserError(f"the store has no vector column of this run's codes ({pg.latent_dim}-d) to "
                        "fit a direction on: add one with `latentplay embed STORE --with invert:RUN "
                        "--column z`, or load a direction JSON")
    if not column:  # a cleared dropdown
        raise UserError("choose the codes to fit the direction on")
    if not attribute:
        raise UserError("choose the attribute to fit the direction for")
    key = (column, attribute, positive or None)
    if key not in pg.directions:
        codes = pg.store_codes if column == RUN_CODES else column
        found = fit_store_direction(pg.need_store(), codes, attribute, positive=positive or None)
        if pg.run is not None:
            found.check_run(pg.run)
        pg.directions[key] = found
    return pg.directions[key]


def load_direction(pg: Playground, path: str | os.PathLike[str]) -> Direction:
    """A direction JSON (from ``latentplay latent direction``) checked against the run's
    latent dimension, and refused when fitted on another run's codes
    (:meth:`~latentplay.latent.directions.Direction.check_run`)."""
    found = Direction.from_json(path)
    found.check_dim(pg.latent_dim)
    if pg.run is not None:
        found.check_run(pg.run)
    return found


_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
"""ASCII punctuation: what Markdown and HTML may read as markup, each escapable by a backslash."""


def markdown_text(text: str) -> str:
    """``text`` (a name from a store, a direction or an annotator file) for a Markdown box:
    each ASCII punctuation character backslash-escaped, as Markdown allows, so that a class
    ``<b>x</b>``, ``*a*`` or ``[x](y)`` shows as written, not as bold, italic or a link."""
    return _MARKUP.sub(r"\\\1", text)


def code_block(text: str) -> str:
    """``text`` as a fenced Markdown code block shown as written: its fence one backtick longer
    than the longest run of backticks in ``text`` (three at least), so that no line of it (a
    class name holding a newline and three backticks) closes the block early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def describe(direction: Direction) -> str:
    """One line of Markdown: what the direction separates and its held-out score."""
    held = (f"; held: {markdown_text(', '.join(direction.conditioned_on))}"
            if direction.conditioned_on else "")
    return (f"{markdown_text(direction.label)} ({direction.method}, n={direction.n}): held-out "
            f"{direction.score_name} {direction.score:.3f} (chance {direction.chance:g}){held}")


def cautions(pg: Playground, direction: Direction) -> str:
    """The cautions ``latentplay latent edit`` prints for ``direction`` on the loaded run, one
    Markdown paragraph each, shown as written (empty when none): fitted on codes that may be another run's
    (:meth:`~latentplay.latent.directions.Direction.check_run`), or near chance
    (:attr:`~latentplay.latent.directions.Direction.weak_caution`)."""
    run = None if pg.run is None else direction.check_run(pg.run)
    return "\n\n".join(markdown_text(c) for c in (run, direction.weak_caution) if c)


def edit(pg: Playground, row: float | int, direction: Direction, alpha: float,
         along: str) -> np.ndarray:
    """``(S, S, C)`` decoding of the code of store ``row`` moved ``alpha`` standard
    deviations (of the fitted codes along the axis) along the direction's ``pattern`` or
    ``normal``, from the codes the direction was fitted on when the store holds them (its
    column, as ``latentplay latent edit`` starts); ``alpha = 0`` gives the reconstruction
    (:func:`reconstruct` with ``prefer=direction.column``)."""
    from latentplay.latent.directions import edit as move

    direction.check_dim(pg.latent_dim)
    z, cond = pg.codes([row], direction.column)
    moved = move(z, direction, [float(alpha) * direction.sd_along(along)], along=along)[:, 0]
    return pg.decode(moved, cond)[0]


def read_edit(classifier_path: str | os.PathLike[str], reconstruction: np.ndarray,
              edited: np.ndarray) -> str:
    """What an annotator file (``latentplay audit annotator``) reads on a face's
    reconstruction and on its edit: its class and probability on each, and whether the edit
    changed the class — one face's counterfactual (``latentplay audit counterfactual`` asks
    it of many, against random directions)."""
    ann = _annotator(str(classifier_path))
    proba = ann.predict_proba(np.stack([reconstruction, edited]))
    before, after = proba.argmax(axis=1)
    first, last = (markdown_text(ann.classes[k]) for k in (before, after))
    text = (f"**{markdown_text(ann.attribute)}** read on the reconstruction: {first} "
            f"{proba[0, before]:.2f}; on the edit: {last} {proba[1, after]:.2f}")
    return text + (" — the class changed." if before != after else " — the same class.")


@lru_cache(maxsize=4)
def _annotator(path: str) -> Any:
    """The annotator file at ``path``, read once per page process (every slider move reads
    the edit again)."""
    from latentplay.audit.annotate import load_annotator

    return load_annotator(path)
