"""``latentplay latent ...``: sample, sweep, traverse, force, interpolate, blend, edit, invert,
stylespace.

Each command reads a trained run (and, where it starts from real faces, a store), writes one
PNG and a JSON of the numbers behind it next to it (same name, ``.json``); neither goes into a
store or a run directory, nor replaces a JSON that is not an earlier figure's
(:func:`~latentplay.cliargs.figure_out`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from latentplay.cliargs import (
    COLUMNS_WHY,
    MAX_COLUMNS,
    at_least,
    at_most,
    figure_out,
    parse_condition,
    split_names,
)
from latentplay.errors import UserError
from latentplay.outputs import (
    console,
    figure_text,
    finite_or_none_within,
    made_by,
    make_parents,
    replaced_whole,
    share_text,
    warn,
)

app = typer.Typer(no_args_is_help=True, add_completion=False)

PER_ROW = 8
RUN_HELP = "Run directory of a trained model."
OUT_HELP = "PNG to write (a JSON of its numbers is written beside it)."
PER_LAYER_HELP = "Invert a StyleGAN's faces per layer (W+): closer reconstructions."
SEED_HELP = "Seed of the inversion's random starts (generators only; default: 0)."
LAYERS_HELP = ("coarse (styles 0-3), middle (4-7), fine (8 up) or START:STOP; in a StyleGAN2 the "
               "4-8 px, 16-32 px and 64 px-up layers, in a StyleGAN3 (not at growing resolutions) "
               "its lowest to highest cutoffs")


MAX_MIX_SIDE = 40  # destinations and sources of one mixing figure (1,600 mixes, as --n of sample)


def parse_values(text: str) -> list[float]:
    """Comma-separated numbers and inclusive ranges ``START:STOP:STEP`` -> floats, e.g.
    ``"-3,-1:1:0.5,3"`` -> ``[-3, -1, -0.5, 0, 0.5, 1, 3]``; at most :data:`MAX_COLUMNS`."""
    out: list[float] = []
    for item in (p.strip() for p in text.split(",")):
        try:
            numbers = [float(p) for p in item.split(":")] if item.count(":") in (0, 2) else []
        except ValueError:
            numbers = []
        if not numbers:
            raise UserError(f"values {text!r}: give numbers and START:STOP:STEP ranges, "
                            "comma-separated")
        if not np.isfinite(numbers).all():  # nan, inf: no image to show
            raise UserError(f"values {text!r}: {item} is not a finite number or range")
        if len(numbers) == 1:
            out.append(numbers[0])
            continue
        start, stop, step = numbers
        if not step > 0:
            raise UserError(f"values {text!r}: the STEP of {item} must be above 0")
        if stop < start:
            raise UserError(f"values {text!r}: {item} runs from START {start:g} down to STOP "
                            f"{stop:g}; give START <= STOP")
        if not np.isfinite(stop - start):  # -1e308:1e308: no count of values (a traceback)
            raise UserError(f"values {text!r}: {item} spans more than a float holds")
        # the steps that fit from START to STOP: none beyond STOP (-3:3:0.7 ended at 3.3); the
        # tolerance keeps a STOP a float quotient falls just short of (0:0.3:0.1)
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        if len(out) + count > MAX_COLUMNS:
            raise UserError(f"values {text!r} make {len(out) + count} values; a figure shows at "
                            f"most {MAX_COLUMNS} (a larger STEP gives fewer)")
        out += [round(start + k * step, 10) for k in range(count)]
    if len(out) > MAX_COLUMNS:
        raise UserError(f"values {text!r} make {len(out)} values; a figure shows at most {MAX_COLUMNS}")
    return out


MAX_LISTED_ROWS = 1_000_000
"""Rows (or axes) one ``START:STOP`` may name: a range past it is refused before it is listed
(``0:10000000000`` would fill the memory before any store is read)."""


def parse_rows(text: str, what: str = "rows") -> list[int]:
    """``"a:b"`` (a..b-1) or ``"a,b,c"`` -> row indices (or axes: ``what`` names them in the
    error).

    Raises:
        UserError: not numbers, or an empty item (``"0,,1"``, ``"3,"``: a list typed with one
            number missing was read as the shorter list).
    """
    noun = "row numbers" if what == "rows" else "whole numbers"
    try:
        if ":" in text:
            start, stop = (int(p) for p in text.split(":"))
            if stop - start > MAX_LISTED_ROWS:
                raise UserError(f"{what} {text!r} names {stop - start:,} {what.lstrip('-')}; one "
                                f"START:STOP names at most {MAX_LISTED_ROWS:,}")
            return list(range(start, stop))
        items = text.split(",")
        if len(items) > 1 and not all(p.strip() for p in items):
            raise UserError(f"{what} {text!r} has an empty item (two commas together, or one at "
                            f"an end); give the {noun} separated by single commas")
        return [int(p) for p in items]
    except ValueError:
        raise UserError(f"{what} {text!r}: give START:STOP or a comma list of {noun}") from None


FIRST_ROWS = 8
"""Faces of a store a figure of real faces shows when ``--rows`` is not given."""


def rows_or_first(text: str | None, n: int) -> list[int]:
    """``--rows`` as :func:`parse_rows` reads it; None: the first :data:`FIRST_ROWS` rows of a
    store of ``n`` rows (all of a smaller one, where ``0:8`` named rows it lacks)."""
    return parse_rows(text) if text else list(range(min(FIRST_ROWS, n)))


def _model(run: Path) -> Any:
    """The run's model (torch is imported only when a command runs)."""
    from latentplay.train import load_model

    return load_model(run)


def _write(out: Path, rows: list[np.ndarray], labels: list[str], title: str,
           numbers: dict[str, Any], captions: list[list[str]] | None = None,
           gif: np.ndarray | None = None) -> None:
    """Draw ``rows`` as an image grid at ``out`` beside ``numbers`` at OUT's ``.json`` (and the
    ``(F, H, W, 3)`` uint8 frames ``gif`` at OUT's ``.gif``), all or none (:func:`_save_with_numbers`)."""
    from latentplay.viz.grid import image_grid

    figure_out(out)  # each command checks it first too, before any work
    _save_with_numbers(image_grid(rows, labels, captions=captions, title=title), out, numbers, gif)
    typer.echo(f"wrote {out}, {out.with_suffix('.json').name}"
               + ("" if gif is None else f", {out.with_suffix('.gif').name}"))


def _save_with_numbers(figure: Any, out: Path, numbers: dict[str, Any],
                       gif: np.ndarray | None = None) -> None:
    """Save ``figure`` to ``out`` and ``numbers`` to OUT's ``.json`` with what made them
    (:func:`~latentplay.outputs.made_by`; standard JSON: a NaN, the diversity of one sample, is
    null), and the ``(F, H, W, 3)`` uint8 frames ``gif`` as a looping GIF at OUT's ``.gif``, all or none:
    the numbers and the GIF are written first and moved into place last, so a write that fails
    (a full disk) leaves the previous files, never a new figure beside old numbers or GIF."""
    from latentplay.viz.grid import save_figure, write_gif

    with replaced_whole(out.with_suffix(".json")) as tmp, contextlib.ExitStack() as stack:
        tmp.write_text(json.dumps(finite_or_none_within({**numbers, "made_by": made_by()}), indent=2,
                                  allow_nan=False), encoding="utf-8")
        if gif is not None:
            write_gif(gif, stack.enter_context(replaced_whole(out.with_suffix(".gif"))))
        save_figure(figure, out)


def _chunks(images: np.ndarray) -> list[np.ndarray]:
    return [images[s:s + PER_ROW] for s in range(0, len(images), PER_ROW)]


@app.command()
def sample(
    run: Path = typer.Argument(..., help=RUN_HELP),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    n: int = typer.Option(64, help="Number of samples."),
    condition: str = typer.Option(None, help="Condition of a conditional model, e.g. "
                                  "smile=0.5,gender=female (values outside training allowed)."),
    seed: int = typer.Option(0, help="Seed of the prior draws."),
    translate: str = typer.Option(None, help="A StyleGAN3's content moved by X,Y (1 = the "
                                  "image's side; x right, y down), e.g. 0.1,0."),
    rotate: float = typer.Option(0.0, help="A StyleGAN3's content rotated by this many degrees "
                                 "(counter-clockwise)."),
) -> None:
    """Decode N prior draws z ~ N(0, I), at one condition for a conditional model (a plain
    autoencoder, with no prior: draws from the mean and SD of its encoded training set, as the
    playground's Sample tab)."""
    from latentplay.latent.sampling import pairwise_diversity
    from latentplay.models.stylegan3 import motion
    from latentplay.train import decode
    from latentplay.train.api import has_prior, prior_draws
    from latentplay.train.figures import AE_SAMPLES

    figure_out(out)  # before any work: nothing of a store or run replaced
    model = _model(run)
    values = parse_condition(condition)
    cond = _condition(model, condition)
    _need_condition(model, cond)
    at_least(n, 1, "--n")
    at_most(n, PER_ROW * MAX_COLUMNS, "--n", f"a figure shows at most {MAX_COLUMNS} rows of {PER_ROW}")
    shift = _pair(translate) if translate else (0.0, 0.0)
    if not np.isfinite(rotate):
        raise UserError(f"--rotate must be a finite number of degrees, got {rotate}")
    moving = translate is not None or rotate != 0
    z = prior_draws(model, np.random.default_rng(seed), n)
    with motion(model, shift, rotate, asked=moving):
        images = decode(model, z, condition=None if cond is None else np.repeat(cond[None], n, 0))
    rows = _chunks(images)
    beyond = _beyond_training(model, values)
    title = ("prior samples" if has_prior(model) else AE_SAMPLES) + (
        f" at {condition}" if values else "") + (
        f" ({', '.join(beyond)} outside training)" if beyond else "") + (
        f", moved by {shift[0]:g},{shift[1]:g} and turned {rotate:g}°" if moving else "")
    diversity = pairwise_diversity(images)
    _write(out, rows, [""] * len(rows), title,
           {"n": n, "seed": seed, "condition": values, "outside_training": beyond,
            "translate": list(shift), "rotate": rotate, "diversity": diversity})
    if n > 1:  # samples that all look alike (a collapsed generator) show here
        typer.echo(f"two samples differ by {diversity:.3f} on average (RMS, pixels 0-1; 0: all alike)")


def _pair(text: str) -> tuple[float, float]:
    """``X,Y`` (``--translate``) as two finite numbers."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"give X,Y, got {text!r}") from None
    if not np.isfinite([x, y]).all():
        raise UserError(f"--translate must be two finite numbers X,Y, got {text!r}")
    return x, y


@app.command()
def sweep(
    run: Path = typer.Argument(..., help=RUN_HELP),
    attribute: str = typer.Option(..., help="Condition attribute to sweep."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    values: str = typer.Option(None, help="START:STOP:STEP or a comma list (class names for a "
                               "categorical attribute); default: its range or classes."),
    per: int = typer.Option(8, help="Samples per value."),
    condition: str = typer.Option(None, help="Values of the model's other conditions, e.g. "
                                 "gender=female."),
    new_codes: bool = typer.Option(False, help="Draw new codes for every value (default: the "
                                   "same codes in every row)."),
    seed: int = typer.Option(0, help="Seed of the prior draws."),
) -> None:
    """Decode the same prior draws at each value of one condition (SmileCVAE's grid of smile
    degrees); reports how much the condition changes the same faces and where (a last row of
    heatmaps), how alike each row's faces are (diversity) and how many training faces lie near
    each value."""
    from latentplay.latent.sampling import (
        CHANGE_NOTE,
        DIVERSITY_NOTE,
        TRAINED_NOTE,
        WHERE_NOTE,
        condition_sweep,
        where_row,
    )
    from latentplay.store.schema import joined_classes

    figure_out(out)  # before any work: nothing of a store or run replaced
    model = _model(run)
    parsed: list[Any] | None = None
    if values is not None:
        part = model.condition_spec.part(attribute)
        parsed = (parse_values(values) if part.kind == "continuous"
                  else [v for v in joined_classes(values.split(","), part.names or []) if v])
    result = condition_sweep(model, attribute, parsed, per_value=per,
                             fixed=parse_condition(condition), seed=seed,
                             same_codes=not new_codes)
    part = model.condition_spec.part(attribute)
    near = _near_training(run, part, result.values)
    result.trained = None if near is None else near[0]
    rows, labels = list(result.images), result.row_labels()
    shown = result.change is not None and len(result.values) > 1
    heat = None
    if shown:  # where the first value's faces change to the last's, code by code
        captions = result.captions()
        heat, label = where_row(result.images, captions[0].split("\n")[0], captions[-1].split("\n")[0])
        rows.append(heat)
        labels.append(label)
    columns = len(result.values) > per  # many values: a column each (SmileCVAE's wide grid)
    unit = "column" if columns else "row"
    title = (f"prior samples by {attribute}" + ("" if new_codes else f" (same codes in every {unit})")
             + "; " + DIVERSITY_NOTE.replace("a row", f"a {unit}")
             + ("; " + CHANGE_NOTE if result.change is not None else "")
             + ("; " + WHERE_NOTE.replace("last row", f"last {unit}") if shown else "")
             + ("" if near is None else "; " + TRAINED_NOTE[part.kind]))
    grid_captions = None
    if columns:  # a row per code, a column per value (and the heatmaps last), values named below
        rows = [np.concatenate([result.images[:, k], *([heat[k:k + 1]] if heat is not None else [])])
                for k in range(result.images.shape[1])]
        grid_captions = [[""] * len(r) for r in rows]
        grid_captions[-1] = labels
        labels = [f"draw {k + 1}" for k in range(len(rows))]
    _write(out, rows, labels, title,
           {"attribute": attribute, "values": result.values,
            "diversity": result.diversity.tolist(),
            "change": None if result.change is None else result.change.tolist(),
            "in_training_range": result.in_range,
            "training_faces": result.trained, "training_windows": None if near is None else near[1],
            "per_value": per, "seed": seed, "same_codes": not new_codes}, grid_captions)
    if line := result.summary():
        typer.echo(line)


def _near_training(run: Path, part: Any, values: list[Any]) -> tuple[list[int], Any] | None:
    """:func:`~latentplay.latent.sampling.near_counts` over the run's training rows; None
    when not known, with a line on standard error when the store no longer fits the model or
    one distinct value leaves no window to count within."""
    from latentplay.latent.sampling import near_counts, training_values

    try:
        trained = training_values(run, part)
    except UserError as exc:
        warn(f"note: training faces not counted: {exc}")
        return None
    near = None if trained is None else near_counts(part, values, trained)
    if trained is not None and near is None:
        warn("note: training faces not counted: a value's window reaches halfway to the "
             "next swept value, and one distinct value has none; sweep two or more")
    return near


@app.command()
def traverse(
    run: Path = typer.Argument(..., help=RUN_HELP),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    axes: str = typer.Option(None, help="Latent dimensions, e.g. 0,3,5 (default: the --top "
                             "dimensions by variance of the encoder means)."),
    top: int = typer.Option(None, help="How many axes when --axes is not given (default: 8)."),
    pca: bool = typer.Option(False, help="Move along principal axes of the run's encoded "
                             "store (latents.npy: its training and held-out rows) instead of "
                             "latent dimensions."),
    sefa: bool = typer.Option(False, help="Move along a StyleGAN's closed-form directions "
                              "(SeFa: its modulation weights' singular vectors), in SDs of W."),
    layers: str = typer.Option(None, help="With --sefa: the directions of these layers' weights, "
                               f"moved at them only: {LAYERS_HELP}."),
    span: float = typer.Option(3.0, "--range", help="Move from -RANGE to +RANGE (prior units; "
                               "SDs of the axis for an AE or with --pca)."),
    steps: int = typer.Option(9, help="Images per axis."),
    condition: str = typer.Option(None, help="Condition of a conditional model, e.g. "
                                 "smile=0.5,gender=female."),
    data: Path = typer.Option(None, help="Store: start from the code of --row instead of the "
                              "centre."),
    row: int = typer.Option(None, help="Row of --data to start from (default: 0); with --seed, "
                            "which of its draws (0: the first)."),
    seed: int = typer.Option(None, help="Start from a prior draw instead of the centre: image "
                             "--row (default: 0) of `latentplay latent sample RUN --seed SEED`."),
    gif: bool = typer.Option(False, help="Also write OUT's .gif: one frame per step, the faces "
                             "of every axis at that step, from -RANGE to +RANGE and back."),
) -> None:
    """Decode codes moved along single latent axes or principal axes (SmileCVAE's probes),
    from the centre of the codes, a prior draw (--seed) or a face of a store (--data)."""
    from latentplay.latent import traverse as tr

    figure_out(out)  # before any work: nothing of a store or run replaced
    if gif and out.with_suffix(".gif").exists() and not out.exists():
        raise UserError(f"--gif would replace {out.with_suffix('.gif')}, which is not an earlier "
                        f"output of this kind (there is no {out.name} beside it); choose another name")
    if top is not None and axes is not None:
        raise UserError("--top counts the axes chosen when --axes is not given; give one of them")
    asked, top = top, 8 if top is None else top
    at_least(steps, 2, "--steps")
    at_most(steps, MAX_COLUMNS, "--steps", COLUMNS_WHY)
    if not 0 < span < np.inf:  # not: a NaN --range fails too
        raise UserError(f"--range must be a number above 0, got {span:g}")
    at_least(top, 1, "--top")
    if pca and sefa:
        raise UserError("choose --pca or --sefa, not both")
    if layers is not None and not sefa:
        raise UserError("--layers chooses the layers of --sefa directions")
    if row is not None and data is None and seed is None:
        raise UserError("--row is a row of --data or a draw of --seed; give one of them too")
    if data is not None and seed is not None:
        raise UserError("start from a face of --data or from a draw of --seed, not both")
    model = _model(run)
    values = np.linspace(-span, span, steps)
    mu = tr.run_latents(run) if model.has_encoder else None
    cond = _condition(model, condition)
    given = parse_condition(condition)
    base, start, numbers_codes = None, "centre", {}
    if seed is not None:
        from latentplay.train.api import prior_draws

        row = row or 0
        at_least(row, 0, "--row")
        base = prior_draws(model, np.random.default_rng(seed), row + 1)[row]
        start, numbers_codes = f"draw {row} of seed {seed}", {"seed": seed, "draw": row}
    elif model.family == "dcgan" and data is None:
        warn(f"note: a GAN's centre code (z = 0) is no typical draw (those lie about "
             f"{np.sqrt(model.latent_dim):.0f} from it) and may decode to no face: --seed S "
             "starts from a draw")
    if data is not None:
        from latentplay.latent.codes import store_codes
        from latentplay.store import load

        row = row or 0
        codes = store_codes(model, load(data), [row], columns=True)
        base, start = codes.z[0], f"row {row} of store '{data.name}'"
        numbers_codes = {**codes.record(), "cautions": _report_codes(codes)}
        if cond is None and codes.condition is not None:  # the row's own, named below
            cond = codes.condition[0]
            given = {k: round(v, 4) if isinstance(v, float) else v
                     for k, v in model.condition_spec.values(cond).items()}
    _need_condition(model, cond)
    captions = [[f"{v:+.3g}" for v in values]]
    numbers: dict[str, Any] = {"values": values.tolist(), "start": start, **numbers_codes}
    if sefa:
        from latentplay.latent.mixing import at_layers, layer_range, style_layers

        span = None if layers is None else layer_range(layers, style_layers(model, "--layers"))
        frame = tr.sefa_axes(model, span)
        comps = parse_rows(axes, "--axes") if axes else list(range(min(top, len(frame.steps))))
        bad = [c for c in comps if not 0 <= c < len(frame.steps)]
        if bad:
            raise UserError(f"directions {bad} out of range 0..{len(frame.steps) - 1}")
        centre = np.zeros(model.latent_dim, np.float32) if base is None else base
        moves = frame.steps[comps]  # (K, D): one SD of W along each direction
        if span is not None:  # moved at the chosen layers only: per-layer (W+) codes
            moves = at_layers(model, np.zeros_like(moves), moves[:, None], span)[:, 0]
            centre = np.tile(centre, style_layers(model))
        rows = tr.direction_traversal(model, centre, moves, values)
        labels = [f"SeFa{c}\n{share_text(frame.strength[c])}" for c in comps]
        numbers.update(directions=comps, strength=frame.strength[comps].tolist(),
                       w_std=frame.std[comps].tolist(), w_directions=frame.directions[comps].tolist(),
                       layers=None if span is None else list(span))
        what = "closed-form directions of W (SDs)" + (
            "" if span is None else f", at layers {span[0]}..{span[1] - 1}")
    elif pca:
        if mu is None:
            raise UserError("--pca needs the encoded training set (latents.npy); a generator "
                            "has none")
        frame = tr.pca_axes(mu)
        comps = (parse_rows(axes, "--axes") if axes else list(range(min(top, len(frame.components)))))
        if base is not None:
            frame.mean = base
        rows = tr.pca_traversal(model, frame, comps, values, condition=cond)
        labels = [f"PC{c}\n{share_text(frame.explained[c])} var" for c in comps]
        numbers.update(components=comps, explained=frame.explained[comps].tolist())
        what = "principal axes (SDs)"
    else:
        chosen = parse_rows(axes, "--axes") if axes else (
            tr.ranked_axes(mu)[:top].tolist() if mu is not None
            else list(range(min(top, model.latent_dim))))
        centre, scale = tr.axis_frame(model, mu)
        rows = tr.axis_traversal(model, chosen, values, base=centre if base is None else base,
                                 scale=scale, condition=cond)
        variance = mu.var(0) if mu is not None else None
        labels = [f"z{a}" + ("" if variance is None else f"\nvar {variance[a]:.2g}")
                  for a in chosen]
        from latentplay.models.stylegan2 import in_w

        if in_w(model):
            share = (model.w_basis.square().sum(1) / model.w_basis.square().sum()).cpu().numpy()
            labels = [f"W PC{a}\n{share_text(share[a])} var" for a in chosen]  # codes: W's principal axes
            numbers["w_explained"] = share[chosen].tolist()
        numbers.update(axes=chosen, variance=None if variance is None
                       else variance[chosen].tolist())
        if in_w(model):
            what = "W's principal axes (SDs of W along each)"
        elif model.family == "ae":
            what = "latent axes (SDs of the encoded training set along each)"
        else:
            what = "latent axes (raw units of z: SDs of the N(0, 1) prior)"
    if asked is not None and len(rows) < asked:
        warn(f"note: --top {top}: there are {len(rows)} axes; all of them are shown")
    numbers["response"] = tr.traversal_summary(rows)
    beyond = _beyond_training(model, given)
    numbers.update(condition=given or None, outside_training=beyond)
    at = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in given.items())
    title = f"traversals of {what} from " + ("the centre" if start == "centre" else start) + (
        f" at {at}" + ("" if condition else " (its own)") if at else "") + (
        f" ({', '.join(beyond)} outside training)" if beyond else "")
    frames = None
    if gif:
        from latentplay.viz.latent import traversal_frames

        frames = traversal_frames(rows, values, [s.replace("\n", " ") for s in labels], title)
    _write(out, list(rows), labels, title, numbers, captions=captions * len(rows), gif=frames)


def _beyond_training(model: Any, values: dict[str, Any]) -> list[str]:
    """The continuous conditions of ``values`` (the parsed ``--condition``) given a value
    outside the range the run trained on (as sweep and force mark theirs)."""
    from latentplay.latent.sampling import in_training_range

    return [p.name for p in model.condition_spec.parts
            if p.name in values and not in_training_range(p, values[p.name])]


def _condition(model: Any, text: str | None) -> np.ndarray | None:
    """The ``(K,)`` condition vector from ``--condition``; None when none was given.

    Raises:
        UserError: a name the conditional model does not take (named first, beside the
            model's names), or some of its attributes are given and others not (the message
            names ``--condition``).
    """
    from latentplay.latent.codes import condition_vector

    values = parse_condition(text)
    if not values and model.condition_spec.dim:
        return None
    spec = model.condition_spec
    if spec.parts:  # an unconditional model's own message: condition_vector's
        spec.check_names(values)
    if any(p.name not in values for p in spec.parts):
        _need_condition(model, None)
    return condition_vector(model, values)


def _need_condition(model: Any, cond: np.ndarray | None) -> None:
    """A :class:`UserError` naming ``--condition`` when a conditional model has no condition."""
    if cond is None and model.condition_spec.dim:
        names = [p.name for p in model.condition_spec.parts]
        raise UserError(f"this model is conditional on {', '.join(names)}; give --condition "
                        + ",".join(f"{n}=..." for n in names))


@app.command()
def histograms(
    run: Path = typer.Argument(..., help=RUN_HELP),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
) -> None:
    """Histogram of each latent dimension's encoder means over the run's store images (its latents.npy)."""
    from latentplay.latent.traverse import latents_table
    from latentplay.train.checkpoint import read_meta
    from latentplay.viz.latent import latent_histograms

    figure_out(out)  # before any work: nothing of a store or run replaced
    table = latents_table(run)  # read once: the means and the split
    mu = np.asarray(table["mu"], dtype=np.float32)  # (N, D)
    split = table["split"]  # (N,): 1 held out
    prior = read_meta(run).get("family") != "ae"   # a plain autoencoder has none to draw
    n_test = int((split == 1).sum())
    _save_with_numbers(latent_histograms(mu, split=split, prior=prior), out,
                       {"n": len(mu), "n_train": len(mu) - n_test, "n_test": n_test,
                        "mean": mu.mean(0).tolist(), "variance": mu.var(0).tolist()})
    typer.echo(f"wrote {out}, {out.with_suffix('.json').name}")


def _store_codes(model: Any, data: Path, rows: list[int] | None, seed: int | None = None,
                 per_layer: bool = False, steps: int | None = None, restarts: int | None = None,
                 reinvert: bool = False, prefer: str | None = None) -> Any:
    """Codes of ``rows`` of store ``data`` (None: its first :data:`FIRST_ROWS`;
    :func:`~latentplay.latent.codes.store_codes`: a column of this run's codes when the store
    has one, ``prefer`` first); ``seed`` (default 0), ``steps`` (300) and ``restarts`` (4) set
    a generator's inversion.

    Raises:
        UserError: ``seed``, ``steps``, ``restarts`` or ``reinvert`` given for a model with an
            encoder, whose codes are encoder means (no inversion they could set), or the first
            three for codes read from a column without ``reinvert``.
    """
    from latentplay.latent.codes import store_codes
    from latentplay.store import load

    given = [name for name, value in (("--seed", seed), ("--invert-steps", steps),
                                      ("--restarts", restarts)) if value is not None]
    if model.has_encoder and (given or reinvert):
        if given == ["--seed"]:
            raise UserError(f"--seed seeds the inversion of a generator's faces; a {model.family} "
                            "encodes them (no random draw), so leave --seed out")
        named = given + (["--reinvert"] if reinvert else [])
        raise UserError(f"{', '.join(named)} {_verb(named)} the inversion of a generator's faces; a "
                        f"{model.family} encodes them, so leave {'it' if len(named) == 1 else 'them'} out")
    if steps is not None and steps < 0 or restarts is not None and restarts < 1:
        raise UserError("need --invert-steps >= 0 and --restarts >= 1")
    store = load(data)
    rows = rows_or_first(None, len(store)) if rows is None else rows
    codes = store_codes(model, store, rows, invert_steps=300 if steps is None else steps,
                        seed=seed or 0, per_layer=per_layer, restarts=4 if restarts is None else restarts,
                        columns=True, prefer=prefer, reinvert=reinvert)
    if codes.source == "column" and given:
        raise UserError(f"{', '.join(given)} {_verb(given)} the inversion of the faces, but their codes "
                        f"come from column {codes.column!r} of the store (this run's codes, as `latentplay "
                        f"embed --with invert:RUN` made them): leave {'it' if len(given) == 1 else 'them'} "
                        "out, or give --reinvert to invert the faces again")
    return codes


def _verb(options: list[str]) -> str:
    """``sets`` after one option, ``set`` after several."""
    return "sets" if len(options) == 1 else "set"


def _report_codes(codes: Any) -> list[str]:
    """Print and return the cautions of the faces' codes (failed inversions)."""
    cautions = codes.cautions()
    for line in cautions:
        warn(line)
    return cautions


INVERT_STEPS_HELP = ("Adam steps of a generator's inversion of the faces (default: 300; used when the "
                     "store has no column of this run's codes, or with --reinvert).")
RESTARTS_HELP = "Random starts per face of that inversion (default: 4)."
REINVERT_HELP = ("Invert a generator's faces again even when the store has a column of this run's "
                 "codes (`latentplay embed --with invert:RUN`), which is used by default.")


@app.command()
def force(
    run: Path = typer.Argument(..., help=RUN_HELP),
    data: Path = typer.Option(..., help="Store of the faces to change."),
    attribute: str = typer.Option(..., help="Continuous condition to force."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    rows: str = typer.Option(None, help="Rows of --data: START:STOP or a comma list "
                             "(default: the first 8)."),
    values: str = typer.Option(None, help="Values to set (START:STOP:STEP or a list); this or --shifts."),
    shifts: str = typer.Option(None, help="Amounts added to each face's own value instead, "
                               "e.g. 0.5,0.7,-0.5,-0.7."),
) -> None:
    """Encode real faces with their own condition and decode them with one condition forced
    to other values or shifted (SmileCVAE's "forcing smiles"); each row's change from the faces
    redrawn at their own values is in its label."""
    import torch

    from latentplay.latent.sampling import beyond_text, condition_change, in_training_range
    from latentplay.train.forcing import force_condition
    from latentplay.train.summary import codes_holding

    figure_out(out)  # before any work: nothing of a store or run replaced
    model = _model(run)
    if (values is None) == (shifts is None):
        raise UserError("give exactly one of --values and --shifts")
    spec = model.condition_spec
    part = spec.part(attribute)
    if part.kind != "continuous":
        conts = [p.name for p in spec.parts if p.kind == "continuous"]
        raise UserError(f"{attribute!r} is not a continuous condition of this model; its "
                        f"continuous conditions: {', '.join(conts) or 'none'}")
    amounts = parse_values(shifts if shifts is not None else values)
    codes = _store_codes(model, data, parse_rows(rows) if rows else None)
    x = torch.from_numpy(codes.framed(model)).permute(0, 3, 1, 2).float() / 255
    cond = torch.from_numpy(codes.condition)
    column = spec.column(attribute)
    grid = force_condition(model, x, cond, column, amounts, shift=shifts is not None,
                           mu=torch.from_numpy(codes.z))
    true = codes.condition[:, column]  # (n,) float32, as the decoder gets them
    # (V, n) the value each face is decoded at: float32 sums, as force_condition makes them
    decoded = np.stack([true + np.float32(a) if shifts is not None else np.full_like(true, a)
                        for a in amounts])
    heads = ["original", "own value"]
    heads += [f"{v:+.3g}" if shifts is not None else f"={v:.3g}" for v in amounts]
    columns = [grid[:, k] for k in range(grid.shape[1])]  # original, own value, each amount
    change = condition_change(np.stack(columns[1:]))[1:]  # (V,) from each face's own-value redrawing
    labels = heads[:2] + [f"{attribute}\n{h}\nchange {c:.3f}"
                          for h, c in zip(heads[2:], change, strict=True)]
    inside = [[in_training_range(part, v) for v in row] for row in [true, *decoded]]

    def caption(value: float, ok: bool) -> str:  # values beyond training marked, as sweep does
        shown = f"{value:.2g}" if ok else beyond_text(float(value), part.range, 2)  # not 1
        return f"{attribute}={shown}" + ("" if ok else "\n(outside training)")

    # each original captioned with its own value, each changed face with the value it is
    # decoded at (the own-value row: the originals' values)
    captions = [[caption(v, ok) for v, ok in zip(row, oks, strict=True)]
                for row, oks in zip([true, *decoded], inside, strict=True)]
    captions.insert(1, [""] * len(true))
    # one row per setting, one column per face (SmileCVAE's layout)
    _write(out, columns, labels,
           f"{attribute} {'shifted' if shifts is not None else 'forced'} on rows of store '{data.name}'"
           "; change: mean RMS pixel difference (pixels 0-1) from each face redrawn at its own value",
           {"rows": codes.rows.tolist(), "own_values": true.tolist(), "amounts": amounts,
            "mode": "shift" if shifts is not None else "set", "values": decoded.tolist(),
            "change": change.tolist(),
            "training_range": None if part.range is None else list(part.range),
            "own_in_training_range": inside[0], "in_training_range": inside[1:], **codes.record()},
           captions=captions)
    if held := codes_holding(run, attribute):  # what latentplay train measured
        warn(f"caution: {run.name}'s codes hold {attribute} too ({held['measure']} linear "
             f"{held['linear']:.3f}, k-NN {held['knn']:.3f}; its summary.json): a forced "
             "value contends with them, and the faces may change less than it asks")


@app.command()
def interpolate(
    run: Path = typer.Argument(..., help=RUN_HELP),
    data: Path = typer.Option(..., help="Store holding the faces."),
    rows: str = typer.Option(..., help="Pairs of rows, e.g. 3,17 or 3,17,5,9 (one line per "
                             "pair)."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    steps: int = typer.Option(8, help="Images per line, ends included."),
    method: str = typer.Option("slerp", help="slerp (keeps the norm) | lerp."),
    seed: int = typer.Option(None, help=SEED_HELP),
    per_layer: bool = typer.Option(False, help=PER_LAYER_HELP),
    invert_steps: int = typer.Option(None, "--invert-steps", help=INVERT_STEPS_HELP),
    restarts: int = typer.Option(None, help=RESTARTS_HELP),
    reinvert: bool = typer.Option(False, help=REINVERT_HELP),
) -> None:
    """Decode codes on the way from one face to another (real faces: encoded, or inverted
    for a generator)."""
    from latentplay.latent.interpolate import between
    from latentplay.train import decode

    figure_out(out)  # before any work: nothing of a store or run replaced
    model = _model(run)
    chosen = parse_rows(rows)
    if len(chosen) < 2 or len(chosen) % 2:
        raise UserError(f"give --rows as pairs (an even number of rows), got {len(chosen)}")
    at_least(steps, 2, "--steps")
    at_most(steps, MAX_COLUMNS, "--steps", COLUMNS_WHY)
    if method not in ("slerp", "lerp"):
        raise UserError(f"--method must be slerp or lerp, got {method!r}")
    codes = _store_codes(model, data, chosen, seed, per_layer, invert_steps, restarts, reinvert)
    cautions = _report_codes(codes)
    fitted = codes.framed(model)
    conds = codes.condition if codes.condition is not None else [None] * len(chosen)
    ends = codes.captions()
    lines, labels, captions = [], [], []
    for k in range(0, len(chosen), 2):
        z, cond = between(codes.z[k], codes.z[k + 1], steps, method, conds[k], conds[k + 1])
        decoded = decode(model, z, condition=cond)
        lines.append(np.concatenate([fitted[k:k + 1], decoded, fitted[k + 1:k + 2]]))
        labels.append(f"{chosen[k]} -> {chosen[k + 1]}")
        captions.append([ends[k]] + [f"t={t:.2g}" for t in np.linspace(0, 1, steps)] + [ends[k + 1]])
    _write(out, lines, labels, f"{method} between faces of store '{data.name}'" + codes.title_note(),
           {"rows": chosen, "steps": steps, "method": method, "per_layer": per_layer,
            **codes.record(), "cautions": cautions},
           captions=captions)


@app.command()
def blend(
    run: Path = typer.Argument(..., help=RUN_HELP),
    data: Path = typer.Option(..., help="Store holding the faces."),
    rows: str = typer.Option(..., help="Rows to blend, e.g. 1,2,3."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    weights: str = typer.Option(None, help="Weights, one per row (default: equal)."),
    seed: int = typer.Option(None, help=SEED_HELP),
    per_layer: bool = typer.Option(False, help=PER_LAYER_HELP),
    invert_steps: int = typer.Option(None, "--invert-steps", help=INVERT_STEPS_HELP),
    restarts: int = typer.Option(None, help=RESTARTS_HELP),
    reinvert: bool = typer.Option(False, help=REINVERT_HELP),
) -> None:
    """Decode the weighted mean of several faces' codes."""
    from latentplay.latent.interpolate import blend as blend_codes
    from latentplay.train import decode

    figure_out(out)  # before any work: nothing of a store or run replaced
    model = _model(run)
    chosen = parse_rows(rows)
    w = None if weights is None else np.asarray(parse_values(weights))
    codes = _store_codes(model, data, chosen, seed, per_layer, invert_steps, restarts, reinvert)
    cautions = _report_codes(codes)
    z = blend_codes(codes.z, w)[None]
    cond = None if codes.condition is None else blend_codes(codes.condition, w)[None]
    mixed = decode(model, z, condition=cond)
    fitted = codes.framed(model)
    recon = decode(model, codes.z, condition=codes.condition)
    shares = None if w is None else w / w.sum()  # (M,) the blend's normalised weights
    given = "equal weights" if shares is None else "weights " + ", ".join(f"{v:.3g}" for v in shares)
    captions: list[list[str]] = [[f"row {r}" for r in chosen], codes.captions(""), []]
    if shares is not None:
        captions[0] = [f"{c}\nw {v:.3g}" for c, v in zip(captions[0], shares, strict=True)]
    _write(out, [fitted, recon, mixed], ["faces", "their codes", "blend"],
           f"blend of {len(chosen)} faces of store '{data.name}' ({given})" + codes.title_note(),
           {"rows": chosen, "weights": None if shares is None else shares.tolist(),
            "per_layer": per_layer, **codes.record(), "cautions": cautions}, captions=captions)


@app.command()
def mix(
    run: Path = typer.Argument(..., help="Run directory of an imported StyleGAN2 or StyleGAN3."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    layers: str = typer.Option("coarse", help=f"Layers whose styles come from the sources: {LAYERS_HELP}."),
    data: Path = typer.Option(None, help="Store of the faces (inverted); default: prior samples."),
    rows: str = typer.Option(None, help="Rows of --data that keep their other styles (default: "
                             "0:4)."),
    sources: str = typer.Option(None, help="Rows of --data whose styles they take (default: 4:8)."),
    n: int = typer.Option(None, help="Without --data: prior samples of each kind (default: 4)."),
    seed: int = typer.Option(None, help="Seed of the samples or of the inversion (default: 0)."),
    per_layer: bool = typer.Option(False, help=PER_LAYER_HELP),
    invert_steps: int = typer.Option(None, "--invert-steps", help=INVERT_STEPS_HELP),
    restarts: int = typer.Option(None, help=RESTARTS_HELP),
    reinvert: bool = typer.Option(False, help=REINVERT_HELP),
) -> None:
    """Give faces the coarse, middle or fine styles of other faces (StyleGAN's style mixing)."""
    from latentplay.latent.mixing import layer_range, style_layers

    figure_out(out)  # before any work: nothing of a store or run replaced
    if data is None and (rows is not None or sources is not None):
        raise UserError("--rows and --sources are rows of --data; give --data STORE too")
    if data is not None and n is not None:
        raise UserError("--n counts prior samples, drawn without --data; with --data give "
                        "--rows and --sources")
    inverting = [name for name, given in (("--per-layer", per_layer), ("--reinvert", reinvert),
                                          ("--invert-steps", invert_steps is not None),
                                          ("--restarts", restarts is not None)) if given]
    if data is None and inverting:
        raise UserError(f"{', '.join(inverting)} {_verb(inverting)} how the faces of --data are inverted: "
                        "give --data STORE")
    # an A x B figure of mixes: refused before any decoding
    kept, given = parse_rows(rows or "0:4"), parse_rows(sources or "4:8")
    for option, count in (("--n", n or 0), ("--rows", len(kept)), ("--sources", len(given))):
        at_most(count, MAX_MIX_SIDE, option, f"a figure shows at most {MAX_MIX_SIDE} x {MAX_MIX_SIDE} mixes")
    model = _model(run)
    span = layer_range(layers, style_layers(model))
    found, record = None, {}
    if data is None:
        n = 4 if n is None else n
        at_least(n, 1, "--n")
        record = {"seed": seed or 0}   # of the samples; with --data, found.record() has the inversion's
        codes = np.random.default_rng(record["seed"]).standard_normal((2 * n, model.latent_dim))
        dest, src = codes[:n].astype(np.float32), codes[n:].astype(np.float32)
        names = ([f"sample {i}" for i in range(n)], [f"sample {n + i}" for i in range(n)])
    else:
        chosen = list(dict.fromkeys(kept + given))  # each face inverted once
        found = _store_codes(model, data, chosen, seed, per_layer, invert_steps, restarts, reinvert)
        record = {"rows": chosen, **found.record(), "cautions": _report_codes(found)}
        at = {r: i for i, r in enumerate(chosen)}
        kept, given = [at[r] for r in kept], [at[r] for r in given]  # places in found
        dest, src = found.z[kept], found.z[given]
        names = ([f"row {chosen[i]}" for i in kept], [f"row {chosen[i]}" for i in given])
    grid, captions = _mix_grid(model, dest, src, span, names[1])
    labels = ["sources", *names[0]]
    if found is not None:  # the faces themselves beside what their codes draw
        grid, captions = _with_faces(found.framed(model), found.captions(""), grid, captions,
                                     (kept, given), names[1])
        labels.insert(1, "their codes")
    _write(out, grid, labels, f"styles of layers {span[0]}..{span[1] - 1} from the sources (columns)"
           + ("" if found is None else found.title_note()),
           {"layers": list(span), "n_layers": int(model.n_layers), "destinations": names[0],
            "sources": names[1], "per_layer": per_layer, **record}, captions=captions)


def _mix_grid(model: Any, dest: np.ndarray, src: np.ndarray, span: tuple[int, int],
              sources: list[str]) -> tuple[list[np.ndarray], list[list[str]]]:
    """``mix``'s figure rows for codes ``dest`` ``(A, D)`` and ``src`` ``(B, D)`` (or W+) and
    their captions: a blank cell and the sources' decodings (named ``sources``), then each
    destination's decoding and its mixes at ``span``; each row ``(1 + B, S, S, 3)`` uint8."""
    from latentplay.latent.mixing import style_mix
    from latentplay.train import decode

    mixed = style_mix(model, dest, src, span)  # (A, B, S, S, 3)
    heads, own = decode(model, src), decode(model, dest)
    blank = np.full_like(own[:1], 255)
    grid = [np.concatenate([blank, heads])] + [np.concatenate([own[i:i + 1], mixed[i]])
                                                for i in range(len(own))]
    return grid, [["", *sources]] + [["its own", *[""] * len(src)] for _ in own]


def _with_faces(faces: np.ndarray, losses: list[str], grid: list[np.ndarray], captions: list[list[str]],
                places: tuple[list[int], list[int]], sources: list[str]
                ) -> tuple[list[np.ndarray], list[list[str]]]:
    """:func:`_mix_grid`'s rows with the store's ``faces`` ``(n, S, S, 3)`` (``losses``: their
    inversions' captions; ``places``: the destinations' and the sources' indices into both): a
    first row of the sources' faces captioned with their names and losses (as ``interpolate``
    captions its ends) and each destination's face, so captioned, left of its row; rows
    ``(2 + B, S, S, 3)`` uint8."""
    kept, given = places
    blank = np.full_like(faces[:1], 255)
    rows = [np.concatenate([blank, blank, faces[given]]), np.concatenate([blank, grid[0]])]
    rows += [np.concatenate([faces[k:k + 1], row]) for k, row in zip(kept, grid[1:], strict=True)]
    heads = [f"{name}\n{losses[g]}".rstrip("\n") for name, g in zip(sources, given, strict=True)]
    texts = [["", "", *heads], ["", *captions[0]]]
    texts += [[f"original\n{losses[k]}".rstrip("\n"), *c] for k, c in zip(kept, captions[1:], strict=True)]
    return rows, texts


@app.command()
def direction(
    data: Path = typer.Argument(..., metavar="store", help="Store with the latent codes as a vector column."),
    column: str = typer.Option(..., help="Vector column of codes (e.g. from `latentplay embed "
                               "STORE --with vae:RUN --column vae_mu`)."),
    attribute: str = typer.Option(..., help="Attribute whose direction to find."),
    out: Path = typer.Option(..., "--out", help="JSON file of the direction (a PNG of the "
                             "codes' signed distances is written beside it)."),
    positive: str = typer.Option(None, help="Class the direction points to (name, or code)."),
    negative: str = typer.Option(None, help="Class it points from (default: the other class, "
                                 "or all other classes)."),
    method: str = typer.Option(None, help="svm (default) | logistic for classes; ridge for a "
                               "continuous attribute."),
    orthogonal_to: str = typer.Option(None, help="Direction JSON files to hold fixed "
                                      "(InterFaceGAN's conditional manipulation)."),
    cv: int = typer.Option(5, help="Folds of the held-out score."),
    seed: int = typer.Option(0, help="Seed of the folds."),
) -> None:
    """Fit an attribute's direction in a latent (the unit normal of a linear boundary) and
    report how well a held-out boundary separates it. With --orthogonal-to, a caution when the
    codes' SD along the pattern left is under a tenth of the unconditioned one's: edits along
    it (in those SDs) barely move the codes."""
    from latentplay.latent import directions as dr
    from latentplay.store import load, vectors
    from latentplay.viz.grid import save_figure
    from latentplay.viz.latent import distance_histogram

    figure_out(out, ".json", ".png")  # before any work: nothing of a store or run replaced
    others = [dr.Direction.from_json(p) for p in split_names(orthogonal_to)]
    store = load(data)
    attr = store.schema.attribute_or_error(attribute)
    z = vectors(store, column)  # read once: fitted on, then projected for the histogram
    run, sha = dr.column_run(store, column)
    cautions = [o.check_run(run, sha) for o in others] if run is not None else []  # same latent
    primary, held = dr.fit_held_direction(store, z, attribute, others, positive=positive,
                                          negative=negative, method=method, cv=cv, seed=seed)
    cosines = {o.label: (dr.cosine(primary, o), float(primary.pattern @ o.pattern))
               for o in others}
    primary_sd = primary.pattern_sd
    found = dataclasses.replace(held, column=column, run=run, run_sha256=sha)
    coded = np.isfinite(z).all(axis=1)  # (N,) rows the fit could use
    labels = np.asarray(store.labels(attribute))[coded]
    names = attr.level_names if attr.kind != "continuous" else None
    distances, unit = found.project(z[coded]), ""
    if found.sd > 0:  # in the unit `latent edit` moves codes by
        distances, unit = distances / found.sd, "SDs of the codes along it"
    persons = ", each person's codes in one fold" if found.folds == "persons" else ""
    held_text = ""
    if others:
        held_text = (f", holding {', '.join(found.conditioned_on)} fixed (held-out "
                     f"{primary.score:.3f} before holding {'it' if len(others) == 1 else 'them'})")
    score_text = f"held-out {found.score_name} {found.score:.3f}"
    title = (f"{found.label}" + ("" if not others else f", holding {', '.join(found.conditioned_on)}")
             + f"\n{score_text} ({cv}-fold{persons})"
             + (f"; near chance: the boundary barely predicts {attribute}" if found.weak else "")
             + f"\ndistances to the boundary fitted on all {found.n} labelled codes")
    # the direction is moved into place after its figure: a write that fails (a full disk)
    # leaves the previous pair, never a new direction beside the previous one's figure
    with replaced_whole(make_parents(out)) as tmp:
        tmp.write_text(found.json_text(), encoding="utf-8")
        save_figure(distance_histogram(distances, labels, names, title, attribute,
                                       ordered=attr.ordered, unit=unit),
                    out.with_suffix(".png"))
    typer.echo(f"{found.label}: {score_text} on {found.n} codes ({cv}-fold{persons}, "
               f"{found.method}; chance {found.chance:g}){held_text}")
    if not coded.all():
        typer.echo(f"left out: {int((~coded).sum())} of {len(z)} rows whose {column!r} codes hold "
                   "non-finite values")
    if found.weak:
        warn(f"caution: near chance; the boundary barely predicts {attribute}, so moving "
             "codes along it changes what they vary most in, not that attribute")
    for caution in filter(None, cautions):
        warn(caution)
    for label, (normals, patterns) in cosines.items():
        typer.echo(f"cosine with {label}: normals {normals:+.3f}, patterns {patterns:+.3f} "
                   "(removed)")
    if others and np.array_equal(found.pattern, found.vector):
        warn("caution: no way the codes move with the attribute is left once the others' "
             "patterns are held; the pattern is the normal (edits along it hardly change "
             "an anisotropic latent's decodings)")
    if others and found.pattern_sd < primary_sd / 10:
        warn(f"caution: the codes' SD along the pattern left is {found.pattern_sd:.3g}, "
             f"{found.pattern_sd / primary_sd:.1%} of {primary_sd:.3g} without holding the "
             "others: the codes hardly vary that way, so edits along it barely move them")
    typer.echo(f"wrote {out}, {out.with_suffix('.png').name}")


def _edit_title(found: list[Any], along: str, to_distance: bool, span: tuple[int, int] | None,
                codes_note: str) -> str:
    """The title of ``latent edit``'s figure for directions ``found`` (one: its label first;
    several: one block of rows per direction, each row labelled with its direction)."""
    how = "moved along its {} to distance d (SDs)" if to_distance else "z + a {} (a in SDs)"
    if len(found) == 1:
        title = f"{found[0].label}: {how.format(along)}"
    else:
        title = (f"{len(found)} directions, one block of rows each: "
                 + how.format(along).replace("its", "each one's"))
    for one in found:
        if one.conditioned_on:
            title += ("; held: " if len(found) == 1 else f"; {one.label} holds ") \
                + ", ".join(one.conditioned_on)
    if span is not None:
        title += f"; at layers {span[0]}..{span[1] - 1}"
    for one in found:
        if one.weak:  # the figure, seen without the printed caution, says so too
            title += (("; " if len(found) == 1 else f"; {one.label}: ")
                      + f"near chance (held-out {one.score_name} {one.score:.3f}): no edit of "
                      + one.attribute)
    title += codes_note
    if len(found) == 1:
        side = found[0].positive or f"higher {found[0].attribute}"
        return title + (f". Left: each face's signed distance d to the boundary before the edit "
                        f"(SDs; + on the {side} side)")
    sides = [f"the {one.positive} side for {one.attribute}" if one.positive
             else f"the higher {one.attribute} side" for one in found]
    return title + (". Left: the direction, and each face's signed distance d to its boundary "
                    f"before the edit (SDs; + on {', '.join(sides)})")


@app.command()
def edit(
    run: Path = typer.Argument(..., help=RUN_HELP),
    data: Path = typer.Option(..., help="Store holding the faces."),
    direction_files: list[Path] = typer.Option(..., "--direction", metavar="D.json",
                                               help="Direction JSON from "
                                               "`latentplay latent direction`, fitted on this "
                                               "run's codes; repeat it for one block of rows "
                                               "per direction."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    rows: str = typer.Option("0:6", help="Rows of --data: START:STOP or a comma list."),
    alphas: str = typer.Option("-3:3:1", help="Steps along the direction, in standard "
                               "deviations of the training codes along it."),
    to_distance: bool = typer.Option(False, help="Treat --alphas as signed distances to the "
                                     "boundary (in SDs of the codes' distances) to move every "
                                     "face to, not as steps."),
    along: str = typer.Option("pattern", help="pattern (how codes move with the attribute) | "
                              "normal (the classifier's normal, InterFaceGAN)."),
    seed: int = typer.Option(None, help=SEED_HELP),
    layers: str = typer.Option(None, help=f"A StyleGAN's layers the edit is applied at (default: all): "
                               f"{LAYERS_HELP}."),
    invert_steps: int = typer.Option(None, "--invert-steps", help=INVERT_STEPS_HELP),
    restarts: int = typer.Option(None, help=RESTARTS_HELP),
    reinvert: bool = typer.Option(False, help=REINVERT_HELP),
) -> None:
    """Decode faces moved along attribute directions, z + a n (InterFaceGAN's editing): one
    block of rows per --direction, one row per face."""
    from latentplay.latent import directions as dr
    from latentplay.train import decode
    from latentplay.train.api import code_sizes

    figure_out(out)  # before any work: nothing of a store or run replaced
    found = [dr.Direction.from_json(path) for path in direction_files]
    run_cautions = [one.check_run(run) for one in found]  # another run's: refused before any work
    model = _model(run)
    for one in found:
        one.check_dim(one.dim if one.dim in code_sizes(model) else model.latent_dim)
    dim = found[0].dim
    for path, one in zip(direction_files, found, strict=True):
        if one.dim != dim:  # W and W+ codes of a StyleGAN: no one code of each face for both
            raise UserError(f"direction {path} has {one.dim} dimensions, {direction_files[0]} "
                            f"{dim}: give directions fitted on codes of one size")
    cautions = [c for one, caution in zip(found, run_cautions, strict=True)
                for c in (caution, one.weak_caution) if c]
    steps = np.asarray(parse_values(alphas), np.float32)  # (A,) in SDs
    span = None
    if layers is not None:
        from latentplay.latent.mixing import layer_range, style_layers

        span = layer_range(layers, style_layers(model, "--layers"))
    codes = _store_codes(model, data, parse_rows(rows), seed, dim != model.latent_dim,
                         invert_steps, restarts, reinvert, prefer=found[0].column)
    for line in cautions:  # once the options are accepted: a refused edit prints its error alone
        warn(line)
    cautions += _report_codes(codes)
    move = dr.edit_to if to_distance else dr.edit
    fitted = codes.framed(model)  # (n, H, W, C)
    lines: list[np.ndarray] = []  # (1 + A, H, W, C) each: a face and its edits
    labels: list[str] = []
    entries: list[dict[str, Any]] = []  # each direction's numbers
    for path, one in zip(direction_files, found, strict=True):
        latent_steps = steps * (one.sd if to_distance else one.sd_along(along))  # (A,)
        moved = move(codes.z, one, latent_steps, along=along)  # (n, A, D)
        if span is not None:
            from latentplay.latent.mixing import at_layers

            moved = at_layers(model, codes.z, moved, span)
        n, a, d = moved.shape
        cond = None if codes.condition is None else np.repeat(codes.condition, a, axis=0)
        images = decode(model, moved.reshape(n * a, d), condition=cond)
        images = images.reshape(n, a, *images.shape[1:])  # (n, A, H, W, C)
        lines += [np.concatenate([fitted[k:k + 1], images[k]]) for k in range(n)]
        before = one.project(codes.z) / one.sd  # (n,)
        name = "" if len(found) == 1 else f"{one.label}\n"
        labels += [f"{name}row {r}\nd {b:+.2f}" for r, b in zip(codes.rows, before, strict=True)]
        entries.append({"file": str(path), "direction": one.label, "score": one.score,
                        "held": one.conditioned_on, "distance_before_sd": before.tolist(),
                        **(_steps_taken(codes.z, moved, one.axis(along), latent_steps)
                           if to_distance else {"alphas_latent": latent_steps.tolist()})})
    head = "d=" if to_distance else "a="
    captions = [[first] + [f"{head}{s:+.3g}" for s in steps] for first in codes.captions()]
    numbers: dict[str, Any] = {"rows": codes.rows.tolist(), "alphas_sd": steps.tolist(),
                               "to_distance": to_distance, "along": along}
    if len(found) == 1:  # the keys a single direction's JSON has always had
        numbers.update({k: v for k, v in entries[0].items() if k not in ("file", "held")})
    _write(out, lines, labels, _edit_title(found, along, to_distance, span, codes.title_note()),
           {**numbers, "directions": entries, "cautions": cautions,
            "layers": None if span is None else list(span), **codes.record()},
           captions=captions * len(found))


def _steps_taken(z: np.ndarray, moved: np.ndarray, axis: np.ndarray,
                 distances: np.ndarray) -> dict[str, list[Any]]:
    """An edit to distances' numbers: the ``(A,)`` target ``distances`` in latent units, and
    how far each of the ``(n, D)`` codes ``z`` went along the unit ``(D,)`` axis to reach each,
    ``(n, A)`` from the ``(n, A, D)`` ``moved`` codes (each face starts at its own distance)."""
    taken = (moved - z[:, None, :].astype(np.float32)) @ axis
    return {"distances_latent": distances.tolist(), "steps_latent": taken.round(6).tolist()}


@app.command()
def probe(
    data: Path = typer.Argument(..., metavar="store", help="Store with one or more vector columns."),
    columns: str = typer.Option(..., "--column", "--columns", help="Comma-separated vector "
                                "columns to compare (latents, embeddings)."),
    out: Path = typer.Option(..., "--out", help="Directory for probe.json/csv and figures."),
    attributes: str = typer.Option(None, "--attribute", "--attributes",
                                   help="Comma-separated attributes (default: all)."),
    cv: int = typer.Option(5, help="Cross-validation folds."),
    max_rows: int = typer.Option(10_000, help="Probe at most this many random rows."),
    seed: int = typer.Option(0, help="Seed of the rows and the folds."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """How much of each attribute each column holds: held-out score of a linear and a k-NN
    probe against chance, and which dimensions carry it (normalised mutual information)."""

    from rich.table import Table

    from latentplay.latent.probe import NEIGHBORS, probe_store, write_probes
    from latentplay.store import load

    if cv < 2:
        raise UserError(f"--cv must be at least 2, got {cv}")
    if max_rows < 2 * cv:
        raise UserError(f"--max-rows must be at least {2 * cv} (two rows per fold of --cv {cv}), "
                        f"got {max_rows}")
    store = load(data)
    skipped: list[str] = []
    found = probe_store(store, split_names(columns), split_names(attributes), cv=cv,
                        max_rows=max_rows, seed=seed, skipped=skipped)
    write_probes(found, out, overwrite=overwrite,
                 info={"data": str(store.path), "cv": cv, "max_rows": max_rows, "seed": seed})
    short = {"balanced accuracy": "bal. acc.", "R²": "R²"}
    table = Table("attribute (score)", "column", "linear", "k-NN", "chance", "order R²",
                  "top dim (informativeness)")
    for p in found:
        table.add_row(f"{p.attribute} ({short[p.measure]})", p.column,
                      f"{p.linear:.3f}±{p.linear_std:.3f}", f"{p.knn:.3f}±{p.knn_std:.3f}",
                      f"{p.chance:.3f}", "-" if p.order_r2 is None else f"{p.order_r2:.3f}",
                      f"none above chance ({p.informativeness_chance:.2f})" if p.top is None
                      else f"{p.top} ({p.informativeness[p.top]:.2f})")
    console().print(table)
    if found:
        typer.echo(f"held-out scores over {cv} folds: mean ± SD; k-NN with k = {NEIGHBORS} (fewer "
                   "where a training fold is smaller)")
    for reason in skipped:
        typer.echo(f"left out: {reason}")
    if found and found[0].folds == "persons":
        typer.echo("folds keep each person's photos together (the store's identity or person "
                   "attribute repeats persons)")
    typer.echo(f"wrote {out}")


@app.command()
def stylespace(
    run: Path = typer.Argument(..., help="Run directory of an imported StyleGAN2 or StyleGAN3."),
    data: Path = typer.Option(..., help="Store with the faces' codes in this run as a vector column."),
    column: str = typer.Option(..., help="Vector column of codes (e.g. from `latentplay embed STORE "
                               "--with invert:RUN --column w`)."),
    attribute: str = typer.Option(..., help="Attribute of the faces."),
    positive: str = typer.Option(None, help="Class whose channels to find (name, or code); "
                                 "without it an ordered attribute's channels are ranked by rank "
                                 "correlation with it."),
    negative: str = typer.Option(None, help="Class the positives are compared with (default: "
                                 "every labelled face)."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    top: int = typer.Option(8, help="Channels shown."),
    alpha: float = typer.Option(10.0, help="Largest move, in population SDs of the channel "
                                "(Wu et al. move single channels 5 to 20 SDs)."),
    steps: int = typer.Option(5, help="Images per channel."),
    row: int = typer.Option(None, help="Row of --data whose face is edited (default: the first "
                            "of the comparison class, or the face nearest the median value)."),
) -> None:
    """Find the StyleSpace channels (one style of one layer) in which a class of faces sits
    consistently away from the others (Wu et al. 2021), or that follow an ordered attribute
    (skin tone, age), and move a face along each."""
    from latentplay.latent import stylespace as ss
    from latentplay.latent.codes import check_column_of_run
    from latentplay.latent.directions import class_rows, ordered_values
    from latentplay.store import load, vectors

    figure_out(out)  # before any work: nothing of a store or run replaced
    at_least(top, 1, "--top")
    at_least(steps, 2, "--steps")
    at_most(steps, MAX_COLUMNS, "--steps", COLUMNS_WHY)
    if not 0 < alpha < np.inf:  # not: a NaN --alpha fails too
        raise UserError(f"--alpha must be a number above 0, got {alpha:g}")
    if negative is not None and positive is None:
        raise UserError("--negative is the class compared with --positive; give both")
    model = _model(run)
    store = load(data)
    codes = vectors(store, column)
    caution = check_column_of_run(store, column, model, run)  # another run's codes: refused
    if caution is not None:
        warn(caution)
    coded = np.isfinite(codes).all(1)
    if positive is None:
        values = ordered_values(store, attribute)
        usable = coded & np.isfinite(values)
        ranking = ss.correlated_channels(model, codes[usable], values[usable])
        if row is None:
            row = int(np.flatnonzero(usable)[np.argmin(np.abs(values[usable] - np.median(values[usable])))])
        what = f"following {attribute}"
        numbers: dict[str, Any] = {"attribute": attribute, "ranked_by": "Spearman rank correlation",
                                   "n": int(usable.sum())}
    else:
        usable = coded & class_rows(store, attribute)
        wanted = class_rows(store, attribute, positive)
        reference = usable if negative is None else class_rows(store, attribute, negative)
        ranking = ss.attribute_channels(model, codes[usable], wanted[usable], reference[usable])
        if row is None:  # a face of the comparison class, else any face studied
            others = np.flatnonzero(usable & reference & ~wanted)
            row = int(others[0] if len(others) else np.flatnonzero(usable)[0])
        names = store.schema.attribute(attribute).level_names

        def named(value: str) -> str:  # a class given by code, by its name
            return value if value in names else names[int(value)]

        compared = "every labelled face" if negative is None else named(negative)
        what = f"of {attribute}={named(positive)} (against {compared})"
        numbers = {"attribute": attribute, "positive": named(positive), "compared_with": compared,
                   "n_positive": int((usable & wanted).sum()), "n_compared": int((usable & reference).sum())}
    if not 0 <= row < len(store) or not coded[row]:
        raise UserError(f"row {row} has no code in {column!r}")
    chosen = ranking.order[:top]
    values_moved = np.linspace(-alpha, alpha, steps)
    rows = [ss.channel_traversal(model, codes[[row]], ranking, int(i), values_moved)[0] for i in chosen]
    signed = "rho" if positive is None else "shift"
    labels = [f"{ranking.label(i)}\nscore {ranking.score[i]:.2f}" for i in chosen]
    captions = [[f"{v:+.3g} SD" for v in values_moved]] * len(rows)
    channels = [{"layer": ranking.layers[i], "channel": int(ranking.channels[i]),
                 "score": float(ranking.score[i]), signed: float(ranking.shift[i]),
                 "population_std": float(ranking.std[i])} for i in chosen]
    numbers.update(row=row, alphas=values_moved.tolist(), channels=channels,
                   channels_ranked=int(len(ranking.order)), chance_score=ranking.chance)
    _write(out, rows, labels, f"StyleSpace channels {what}; chance {ranking.chance:.2f}; "
           f"row {row} moved", numbers, captions=captions)
    for entry in channels[:3]:
        side = (f"rho {entry['rho']:+.2f}" if positive is None
                else f"positives {entry['shift']:+.2f} SD from the mean")
        typer.echo(f"{entry['layer']}:{entry['channel']}  score {entry['score']:.2f}  {side}")
    beaten = ranking.score[chosen[0]] > ranking.chance if len(chosen) else False
    typer.echo(f"chance: {'shuffled values' if positive is None else 'random groups of as many faces'} "
               f"reach a top score of {ranking.chance:.2f} (95th percentile of 100)"
               + ("" if beaten else "; no channel beats it"))


@app.command("invert")
def invert_cmd(
    run: Path = typer.Argument(..., help=RUN_HELP),
    data: Path = typer.Option(..., help="Store holding the faces."),
    out: Path = typer.Option(..., "--out", help=OUT_HELP),
    rows: str = typer.Option(None, help="Rows of --data: START:STOP or a comma list "
                             "(default: the first 8)."),
    steps: int = typer.Option(300, help="Adam steps."),
    restarts: int = typer.Option(None, help="Random starts per face (random starts only: "
                                 "generators, or --init random; default: 4)."),
    init: str = typer.Option("auto", help="auto | encoder | random | mean (the zero code)."),
    prior: float = typer.Option(1e-3, help="Weight of mean(z^2) in the objective."),
    lr: float = typer.Option(0.05, help="Adam's learning rate."),
    seed: int = typer.Option(None, help="Seed of the random starts (default: 0)."),
    per_layer: bool = typer.Option(False, help="One code per layer of a StyleGAN (W+)."),
    identity_weight: float = typer.Option(0.0, "--identity-weight", help="Weight of an identity "
                                          "term in the objective: the cosine distance of a face "
                                          "recogniser's embeddings of decoding and face (e.g. 0.03; "
                                          "0: none)."),
    identity_net: str = typer.Option(None, "--identity-net", help="The identity term's face "
                                     "recogniser: dlib (default) or onnx:ARCFACE.onnx."),
    identity: str = typer.Option(None, help="Face embedder that reads whether each inverted "
                                 "face is still the person (dlib, onnx:ARCFACE.onnx): cosine "
                                 "similarity to the photo, against different photos'."),
    identity_option: list[str] = typer.Option(None, "--identity-option", help="Its options "
                                              "key=value (repeatable), e.g. detect=true."),
) -> None:
    """Find codes whose decodings redraw real faces (projection into the latent space): the
    faces, their starting decodings and the optimised ones, with pixel errors (and identity
    similarity with --identity). To invert a whole store into a column use `latentplay embed
    STORE --with invert:RUN`."""
    from latentplay.latent.codes import checked_rows, row_conditions, stored_images
    from latentplay.latent.invert import (
        START_TEXT,
        check_settings,
        invert,
        loss_lines,
        loss_summary,
        start_of,
    )
    from latentplay.outputs import progress_bar
    from latentplay.store import load

    figure_out(out)  # before any work: nothing of a store or run replaced
    at_least(steps, 1, "--steps")
    if identity_net is not None and not identity_weight:
        raise UserError("--identity-net is the recogniser of the --identity-weight term; give "
                        "--identity-weight too")
    if identity_option and identity is None:
        raise UserError("--identity-option sets options of the --identity embedder; give "
                        "--identity too")
    identity_net = identity_net or "dlib"
    model = _model(run)
    begin = start_of(model, init, "--init")
    random_start = begin == "random"  # else no draw --restarts or --seed could set
    if not random_start and (restarts is not None or seed is not None):
        start = "the zero code" if init == "mean" else f"this {model.family}'s encoder means"
        raise UserError(f"--restarts and --seed set random starts; --init {init} starts from "
                        f"{start}, so leave them out (or give --init random)")
    restarts, seed = (4 if restarts is None else restarts), (seed or 0)
    check_settings(steps, lr, restarts, prior, identity=identity_weight,
                   names={"lr": "--lr", "prior": "--prior", "identity": "--identity-weight",
                          "restarts": "--restarts", "steps": "--steps"})
    store = load(data)
    chosen = checked_rows(store, rows_or_first(rows, len(store)))
    cond = row_conditions(model, store, chosen)
    images = stored_images(store, chosen)
    reader = None
    if identity is not None:  # a missing model or bad option fails before the inversion
        from latentplay.audit.identity import identity_embedder

        reader = identity_embedder(identity, identity_option or [])
    with progress_bar() as bar:  # on stderr, only on a terminal: stdout keeps the report
        task = bar.add_task("inverting", total=None)
        result = invert(model, images, condition=cond, init=init, steps=steps,
                        restarts=restarts, prior=prior, lr=lr, seed=seed, per_layer=per_layer,
                        identity=identity_weight, identity_net=identity_net,
                        progress=lambda done, total: bar.update(task, completed=done, total=total))
    from latentplay.train import decode, model_input

    start = decode(model, result.init_z, condition=cond)
    fitted = model_input(model, images)
    captions = [[f"row {r}" for r in chosen],
                [f"mse {v:.4f}" for v in result.init_loss],
                [f"mse {v:.4f}\nmean {r:.4f}" + ("\nfailed" if bad else "")
                 for v, r, bad in zip(result.loss, result.reference_loss, result.failed, strict=True)]]
    numbers = {"rows": chosen.tolist(), "init_loss": result.init_loss.tolist(),
               "loss": result.loss.tolist(), "mean_init_loss": float(result.init_loss.mean()),
               "mean_code_loss": result.reference_loss.tolist(), "failed": result.failed.tolist(),
               "mean_loss": float(result.loss.mean()), "steps": steps,
               "restarts": restarts if random_start else None,
               "seed": seed if random_start else None,
               "init": init, "start": begin, "prior": prior, "per_layer": per_layer,
               "identity_weight": identity_weight,
               "identity_net": identity_net if identity_weight else None}
    if reader is not None:
        from latentplay.audit.identity import reconstruction_identities

        read, begun = reconstruction_identities(reader, fitted, [result.reconstructions, start])
        numbers.update(identity=read, identity_start=begun)
        captions[2] = [f"{c}\nid {'-' if v is None else f'{v:.2f}'}"
                       for c, v in zip(captions[2], read["similarity"], strict=True)]
        typer.echo(f"identity ({identity}, cosine similarity to the photo): "
                   f"{figure_text(read['mean_similarity'])} inverted, "
                   f"{figure_text(begun['mean_similarity'])} at the start, "
                   f"{figure_text(read['between'])} between different photos; "
                   f"{read['not_found']} without a face read")
    summary = loss_summary(result.loss, result.reference_loss)
    for line in loss_lines(summary, "faces")[1:]:   # the caution of failed inversions
        warn(line)
    failing = (f"; {summary['failed']} of {summary['n']} failed (mean: the MSE of the run's mean "
               "code)") if summary["failed"] else ""
    labels = ["faces", f"start:\n{START_TEXT[begin]}", "inverted"]
    _write(out, [fitted, start, result.reconstructions], labels,
           f"projection into the latent of run '{run.name}' ({steps} steps){failing}", numbers,
           captions=captions)
