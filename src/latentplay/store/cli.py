"""``latentplay data ...``: make, inspect, export and draw stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from latentplay.cliargs import (
    COLUMNS_WHY,
    DETECTOR_DEVICE_HELP,
    DETECTOR_HELP,
    MAX_COLUMNS,
    UPSAMPLE_HELP,
    at_least,
    at_most,
    check_file_kind,
    figure_out,
    refuse_inside,
)
from latentplay.errors import UserError
from latentplay.outputs import counted, figure_text, made_by, say, warn, write_atomic

if TYPE_CHECKING:
    from latentplay.store.io import Store

app = typer.Typer(no_args_is_help=True, add_completion=False)
console = Console(soft_wrap=True)


@app.command()
def make(
    dataset: str = typer.Argument(..., help="Built-in dataset: shapes or synthfaces."),
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    n: int = typer.Option(None, "--n", help="Number of images (default: the dataset's)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: 0)."),
    full: bool = typer.Option(False, "--full", help="shapes only: the whole 737,280-image grid."),
    preset: Path = typer.Option(None, "--preset", help="YAML of config values (see configs/datasets/)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
    overrides: list[str] = typer.Argument(None, help="Config overrides key=value, e.g. "
                                   "identities=1000 (synthfaces: the faces are photos of 1000 persons)."),
) -> None:
    """Generate a built-in dataset (shapes, synthfaces) into a store."""
    from latentplay.sources import make as make_store

    items = list(overrides or [])
    if full:
        if dataset != "shapes":
            raise UserError("--full applies to the shapes dataset only")
        items.append("full=true")
    store = make_store(dataset, out, n=n, seed=seed, overrides=items, preset=preset, overwrite=overwrite)
    console.print(f"made {dataset}: {len(store)} images in {store.path}", markup=False)


@app.command()
def info(
    path: Path = typer.Argument(..., metavar="store", help="Store directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    crosstab: str = typer.Option(None, help="Two attributes to cross-tabulate, e.g. gender,smile."),
) -> None:
    """Row count, per-attribute counts or histograms, and one cross-tab."""
    from latentplay import store as st
    pair = None
    if crosstab:
        parts = [p.strip() for p in crosstab.split(",")]
        if len(parts) != 2:
            raise UserError("--crosstab takes two attribute names separated by a comma")
        pair = (parts[0], parts[1])
    summary = st.info(st.load(path), crosstab_of=pair)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)


def class_counts(store: Store, name: str, empty: bool = True) -> str:
    """``"female 752, male 748"``: the rows of each class of categorical attribute ``name``
    (classes without rows left out unless ``empty``)."""
    import numpy as np

    attr = store.schema.attribute(name)
    codes = store.labels(name)
    counts = np.bincount(codes[codes >= 0], minlength=len(attr.level_names))
    text = ", ".join(f"{c} {k}" for c, k in zip(attr.level_names, counts, strict=True)
                     if k or empty)
    missing = int((codes < 0).sum())
    return text + (f"; {missing} without a value" if missing else "")


def _classes_with_rows(store: Store, name: str) -> int:
    """How many classes of categorical attribute ``name`` besides ``unknown`` have rows."""
    import numpy as np

    from latentplay.store.schema import UNKNOWN

    names = store.schema.attribute(name).level_names
    codes = np.unique(store.labels(name))
    return sum(1 for c in codes if c >= 0 and names[c] != UNKNOWN)


def _classes_without_matching_rows(source: Store, new: Store, name: str) -> list[str]:
    """Classes of categorical attribute ``name`` (not ``unknown``) that have rows in ``source``
    but none in its balanced subset ``new``: none of their rows matched ``--where``."""
    import numpy as np

    from latentplay.store.schema import UNKNOWN

    names = source.schema.attribute(name).level_names
    before, after = (np.bincount(codes[codes >= 0], minlength=len(names))
                     for codes in (source.labels(name), new.labels(name)))
    return [c for c, b, a in zip(names, before, after, strict=True) if b and not a and c != UNKNOWN]


def _balanced_counts(store: Store, name: str) -> str:
    """The rows of each class of categorical attribute ``name`` in a balanced subset: listed
    class by class (:func:`class_counts`), or, for an attribute of many classes (identities,
    :func:`~latentplay.store.summary.many_classes`), the classes kept and their rows."""
    import numpy as np

    from latentplay.store.summary import many_classes

    attr = store.schema.attribute(name)
    if not many_classes(attr):
        return class_counts(store, name, empty=False)
    codes = store.labels(name)
    kept = np.bincount(codes[codes >= 0], minlength=len(attr.level_names))
    kept = kept[kept > 0]  # (classes kept,) rows of each; select_rows keeps at least one
    rows = (f"{counted(int(kept[0]), 'row')} each" if kept.min() == kept.max()
            else f"{kept.min()} to {counted(int(kept.max()), 'row')} per class")
    return f"{counted(len(kept), 'class', 'classes')} kept, {rows}"


def _without(attr: dict) -> str:
    """``", 12 rows without a value"`` for an attribute summary with missing rows, else ``""``."""
    return f", {counted(attr['missing'], 'row')} without a value" if attr.get("missing") else ""


def _vector_text(name: str, dim: int, description: str | None, most: int = 80) -> str:
    """``cvae: vae:runs/cvae (20-d)`` — a vector column with what wrote it (its description,
    on one line, cut to ``most`` characters), its size where the description lacks it; ``pca
    (64-d)`` without a description."""
    if not description:
        return f"{name} ({dim}-d)"
    line = " ".join(description.split())
    line = line if len(line) <= most else line[:most - 1] + "…"
    return f"{name}: {line}" if f"({dim}-d)" in line else f"{name} ({dim}-d): {line}"


def print_summary(summary: dict) -> None:
    """Render :func:`latentplay.store.info` output as rich tables."""
    console.print(
        f"[bold]{escape(str(summary['path']))}[/bold]: {summary['rows']} rows "   # a path's [red] as written
        f"({summary['converter'].removeprefix('latentplay.sources.')} from "
        f"{escape(str(summary['source']))}, {summary['created']})"
    )
    if summary["vectors"]:
        described = summary.get("vector_descriptions") or {}
        vectors = [_vector_text(k, v, described.get(k)) for k, v in summary["vectors"].items()]
        console.print(f"vector columns: {'; '.join(vectors)}", highlight=False, markup=False)
    if summary.get("projections"):
        console.print(f"cached projections (viz): {', '.join(summary['projections'])}", markup=False)
    for name, attr in summary["attributes"].items():
        kind = attr["kind"] + (", ordered" if attr.get("ordered") else "")
        if attr["kind"] == "continuous":
            hist = attr["histogram"]
            lo, hi = attr["range"]
            console.print(
                f"[bold]{name}[/bold] (continuous in [{lo:g}, {hi:g}]): "
                + (f"mean {attr['mean']:.3f}, std {attr['std']:.3f}, " if attr["mean"] is not None
                   else "no value, ")
                + f"histogram {hist['counts']}"
                + (f"; {attr['outside']} outside the range (values {attr['span'][0]:g} to "
                   f"{attr['span'][1]:g}, in no bin)" if attr.get("outside") else "")
                + _without(attr)
            )
        elif "per_class" in attr:
            p = attr["per_class"]
            largest = ", ".join(f"{escape(k)}: {v}" for k, v in p["largest"].items())
            console.print(
                f"[bold]{name}[/bold] ({kind}, {p['classes']} classes): rows per class "
                f"{p['min']} to {p['max']} (median {p['median']:g}), {p['empty']} empty, "
                f"{p['single']} with one row; largest {largest}"
                + (f"; unknown: {p['unknown']} rows" if p.get("unknown") else "")
                + _without(attr)
            )
        else:
            counts = ", ".join(f"{escape(k)}: {v}" for k, v in attr["counts"].items())
            console.print(f"[bold]{name}[/bold] ({kind}): {counts}" + _without(attr))
    ct = summary.get("crosstab")
    if ct:
        table = Table(title=escape(f"{ct['rows']} x {ct['columns']}"))
        width = max(len(str(n)) for n in [ct["rows"], *ct["row_names"]])
        table.add_column(escape(ct["rows"]), no_wrap=True, min_width=width)
        for c in ct["column_names"]:
            table.add_column(escape(c), justify="right", overflow="fold")  # wrapped, never cut
        for rname, row in zip(ct["row_names"], ct["counts"], strict=True):
            table.add_row(escape(rname), *[str(v) for v in row])
        # piped or in a file (80 columns): as wide as its names and counts, never folded
        needed = console.measure(table, options=console.options.update(max_width=10**5)).maximum
        wide = console if console.is_terminal else Console(width=max(console.width, needed))
        wide.print(table)
        if ct.get("left_out"):   # a measured value missing (no face found): in no cell
            console.print(f"{counted(ct['left_out'], 'row')} without a value of {ct['rows']} or "
                          f"{ct['columns']} left out of the table", markup=False)


@app.command()
def export(
    path: Path = typer.Argument(..., metavar="store", help="Store directory."),
    to: Path = typer.Option(..., "--out", "--to", help="Directory for images/ and labels.csv."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into an existing directory."),
) -> None:
    """Write the images as files plus a labels CSV (for use outside latentplay)."""
    from latentplay import store as st
    from latentplay.store.export import export_store

    store = st.load(path)
    n = export_store(store, to, overwrite=overwrite)
    images = f"{n} images to {to / 'images'}" if n else "no images (the store has none)"
    console.print(f"exported {images} and the labels of {len(store)} rows to {to / 'labels.csv'}",
                  markup=False)


@app.command("import-vectors")
def import_vectors_cmd(
    path: Path = typer.Argument(..., metavar="store", help="Store directory (the column is added in place)."),
    source: Path = typer.Option(..., "--from", help="An .npy array (N, ...) in row order, or a "
                                "folder of <image name>.npy files, one per row."),
    column: str = typer.Option(..., "--column", help="Name of the new vector column."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing column."),
    codes_of: Path = typer.Option(None, "--codes-of", help="An imported StyleGAN2/StyleGAN3 run whose raw "
                                  "w (or W+) vectors these are: store its whitened codes."),
) -> None:
    """Add vectors computed elsewhere (embeddings, a projector's latent codes) as a vector
    column, matched to the rows by order or by image file name."""
    from latentplay import store as st
    from latentplay.store.vector_files import import_vectors

    made, found = import_vectors(st.load(path), column, source, overwrite=overwrite,
                                 codes_of=codes_of)
    made = st.save(made, made.path)
    extra = (f"; {found.unused} file{'s' if found.unused > 1 else ''} matched no row"
             if found.unused else "")
    typer.echo(f"wrote column {column!r} ({len(made)} x {found.vectors.shape[1]}) to "
               f"{made.path}{extra}")


@app.command()
def grid(
    path: Path = typer.Argument(..., metavar="store", help="Store directory."),
    out: Path = typer.Option(..., "--out", help="PNG file to write."),
    by: str = typer.Option(None, "--by", help="Attribute: one row per value (bins if continuous)."),
    per_row: int = typer.Option(10, "--per-row", help="Images per row."),
    seed: int = typer.Option(0, "--seed", help="Seed for choosing the images."),
    size: int = typer.Option(None, "--size", help="Show each image centre-cropped to a square "
                             "of N x N pixels, at most 512 (default: as stored; images of "
                             "different sizes are brought to the largest shorter side, at most "
                             "256)."),
    max_groups: int = typer.Option(40, "--max-groups", help="With --by: draw at most this many "
                                   "rows, the largest groups (the title says how many are left "
                                   "out)."),
) -> None:
    """Draw a labelled grid of images, one row per value of an attribute."""
    from latentplay import store as st
    from latentplay.viz.grid import SIZE_MAX, save_store_grid

    at_least(per_row, 1, "--per-row")
    at_most(per_row, MAX_COLUMNS, "--per-row", COLUMNS_WHY)
    if size is not None:
        at_least(size, 1, "--size")
        if size > SIZE_MAX:
            raise UserError(f"--size is at most {SIZE_MAX} pixels, got {size}")
    at_least(max_groups, 1, "--max-groups")
    png_out(out)
    notes = save_store_grid(st.load(path), out, by=by, per_row=per_row, seed=seed, size=size,
                            max_groups=max_groups)
    for note in notes:
        warn(f"note: {note}")
    typer.echo(f"wrote {out}")


def png_out(out: Path) -> None:
    """A :class:`UserError` unless ``out`` names a figure file (``.png``, ``.pdf`` or ``.svg``;
    not an existing directory) outside a store or run
    (:func:`~latentplay.cliargs.refuse_inside`)."""
    check_file_kind(out)
    refuse_inside(out, out.name)


app.command(name="convert")(__import__("latentplay.sources.cli", fromlist=["convert"]).convert)
app.command(name="align")(__import__("latentplay.embed.cli", fromlist=["align"]).align)


@app.command()
def generate(
    run: Path = typer.Argument(..., help="Trained run directory to sample from."),
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    n: int = typer.Option(1000, "--n", help="Number of images."),
    condition: str = typer.Option(None, "--condition", help="Conditional runs: the condition of "
                                  "every image, e.g. smile=0.5,gender=female."),
    like: Path = typer.Option(None, "--like", help="Conditional runs: give each image the "
                              "condition of a random row of this store (e.g. the training set)."),
    column: str = typer.Option("z", "--column", help="Vector column of the latent codes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draws."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
) -> None:
    """Write N images sampled from a trained run into a store, with the codes they were decoded
    from (and their conditions): measure, embed, project and edit them like any dataset
    (resumable: run the same command again to continue)."""
    from latentplay.cliargs import parse_condition
    from latentplay.sources.generated import generate_store

    store = generate_store(run, out, n, seed=seed, condition=parse_condition(condition),
                           like=like, column=column, overwrite=overwrite, progress=True)
    console.print(f"generated {len(store)} images from {run} into {store.path}", markup=False)


@app.command()
def measure(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (new attributes are added in place)."),
    what: str = typer.Option("quality,pose,skin,expression", "--what", help="Comma-separated: "
                             "quality (brightness, contrast, sharpness), pose (yaw, pitch, "
                             "roll), skin (ITA and skin group), expression (mouth lift and "
                             "opening), size (pixels between the eyes, and their share of the "
                             "image's side)."),
    detect: bool = typer.Option(True, "--detect/--no-detect", help="Find the face with dlib's "
                                "detector (the default; --no-detect: every image is a face crop)."),
    fallback: str = typer.Option("median", "--fallback", help="Where skin is read when no face "
                                 "is found: median (the median box of the faces found in 200 "
                                 "sample images), whole (the whole image) or nan (no value). "
                                 "Pose, expression and size are read only from a detected "
                                 "face."),
    upsample: int = typer.Option(-1, "--upsample", help=UPSAMPLE_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    device: str = typer.Option("cpu", "--device", help=DETECTOR_DEVICE_HELP),
    box_from: Path = typer.Option(None, "--box-from", help="Place the median box with this "
                                  "store's faces (e.g. the training set of generated images)."),
    prefix: str = typer.Option("", "--prefix", help="Put before each new attribute's name."),
    batch_size: int = typer.Option(64, "--batch-size", help="Images between resume points."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace attributes of the same names."),
) -> None:
    """Measure head pose, skin tone (ITA), expression and image quality of every image into new
    attributes (resumable: run again to continue)."""
    from latentplay.cliargs import split_names
    from latentplay.measure import measure_store, summary_lines

    new = measure_store(path, split_names(what), detect=detect, detector=detector, device=device,
                        fallback=fallback, upsample=upsample, box_from=box_from, prefix=prefix,
                        batch_size=batch_size, overwrite=overwrite)
    for line in summary_lines(new, new.schema.history[-1]["attributes"]):
        say(line, lambda text: console.print(text, markup=False))
    console.print(f"measured {counted(len(new), 'row')} of {path}", markup=False)


CLIP_SETTINGS = ("template", "model", "device")


def clip_settings(options: list[str]) -> dict[str, Any]:
    """``-o key=value`` items of ``data predict --with clip:`` as keyword arguments of
    :func:`~latentplay.measure.predict.clip_store` (:data:`CLIP_SETTINGS`): ``template``
    repeated is a prompt ensemble (a list), the others are given once."""
    settings: dict[str, Any] = {}
    for item in options:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in CLIP_SETTINGS:
            raise UserError(f"-o {item}: clip: takes {', '.join(k + '=...' for k in CLIP_SETTINGS)}")
        if key == "template":
            settings.setdefault(key, []).append(value)
        elif key in settings:
            raise UserError(f"-o {key}= is given twice ({settings[key]}, {value}): give it once")
        else:
            settings[key] = value
    return settings


@app.command()
def predict(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (new attributes are added in place)."),
    with_: str = typer.Option(..., "--with", help="The classifier: onnx:PATH (its logits), "
                              "clip:WEIGHTS or clip:IMAGE.onnx@TEXT.npz (CLIP zero-shot, a prompt "
                              "per class of --heads), or an annotator file from latentplay audit "
                              "annotator (.npz)."),
    heads: str = typer.Option(None, "--heads", help="For onnx: NAME\\[@FIRST]=CLASS,CLASS,... (softmax), "
                              "NAME\\[@FIRST]:sigmoid (no/yes), NAME\\[@FIRST]:value[*SCALE][+-OFFSET] "
                              "(a number) or NAME\\[@FIRST]:expectK[*SCALE][+-OFFSET] (the expected "
                              "bin of K outputs), separated by ';' (outputs in order), or a preset: "
                              "fairface7, fairface4, celeba40, insightface_genderage."),
    option: list[str] = typer.Option(None, "--option", "-o", help="Network option key=value "
                                     "(repeatable), e.g. align=none; for clip: template='a photo "
                                     "of a {} person' (repeated: a prompt ensemble), "
                                     "model=ViT-B-32, device=cpu."),
    prefix: str = typer.Option("predicted_", "--prefix", help="Put before each new attribute's "
                               "name."),
    batch_size: int = typer.Option(64, "--batch-size", help="Images between resume points."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace attributes of the same names."),
) -> None:
    """Classify every image with a network (e.g. FairFace's race, gender and age classifier)
    into new attributes: each head's class and its probability, or a value head's number
    (resumable); with CLIP zero-shot, one prompt per class; or with an annotator file from
    latentplay audit annotator."""
    from latentplay.measure import agreement_lines, parse_heads, predict_store, summary_lines
    from latentplay.measure.predict import Head, annotate_store, clip_store

    if with_.startswith("clip:"):
        if not heads:
            raise UserError("--heads is needed with clip: the classes to prompt for, e.g. "
                            "--heads 'gender=female,male' (or a preset: fairface7 ...)")
        settings = clip_settings(option or [])
        new = clip_store(path, with_[len("clip:"):], heads, **settings, prefix=prefix,
                         overwrite=overwrite)
        parsed = parse_heads(heads)
    elif with_.endswith(".npz"):
        if heads or option:
            raise UserError("an annotator file takes no --heads or -o: it knows its classes")
        new = annotate_store(path, with_, prefix=prefix, overwrite=overwrite)
        parsed = [Head(**{**h, "classes": tuple(h["classes"])})
                  for h in new.schema.history[-1]["heads"]]
    elif not with_.startswith("onnx:"):
        raise UserError(f"--with {with_}: give onnx:PATH (a network), clip:WEIGHTS or an "
                        "annotator file (.npz from latentplay audit annotator)")
    elif not heads:
        raise UserError("--heads is needed with a network: name its outputs, or give a preset "
                        "(fairface7, fairface4, celeba40, insightface_genderage)")
    else:
        new = predict_store(path, with_, heads, options=option or [], prefix=prefix,
                            batch_size=batch_size, overwrite=overwrite)
        parsed = parse_heads(heads)
    entry = new.schema.history[-1]
    for line in summary_lines(new, [prefix + h.name for h in parsed]):
        say(line, lambda text: console.print(text, markup=False))
    for line in agreement_lines(new, parsed, prefix):
        console.print(line, markup=False)
    if entry["not_found"]:
        console.print(f"{counted(len(entry['not_found']), 'row')} had no detected face")
    console.print(f"classified {counted(len(new), 'row')} of {path}", markup=False)


@app.command()
def bias(
    path: Path = typer.Argument(..., metavar="store", help="Store directory."),
    by: str = typer.Option(..., "--by", help="Grouping attribute, e.g. gender."),
    of: str = typer.Option(..., "--of", help="Attribute whose distribution to compare, e.g. smile."),
    out: Path = typer.Option(..., "--out", help="PNG to write (a JSON of the table beside it)."),
    bins: int = typer.Option(2, "--bins", help="How many equal-width bins a continuous --by or "
                             "--of attribute is cut into over its range (an integer, 2 or more); "
                             "categorical attributes keep their values."),
) -> None:
    """Dataset-bias chart: the share of each value of --of within each group of --by, with a
    chi-square test of independence and Cramér's V (and a trend test when both are ordered; two
    classes count as an order, r's sign following theirs)."""
    from latentplay import store as st
    from latentplay.store.bias import association
    from latentplay.viz.bias import association_bars
    from latentplay.viz.grid import save_figure

    figure_out(out)  # before any work: not into a store or run, no JSON not ours replaced
    found = association(st.load(path), by, of, bins=bins)
    save_figure(association_bars(found, "\n".join(found.test_lines)), out)
    write_atomic(out.with_suffix(".json"), json.dumps({**found.to_dict(), "made_by": made_by()}, indent=2))
    for line in found.test_lines:
        typer.echo(f"{of} by {by}: {line}")
    for note in found.notes:
        warn(f"note: {note}")
    typer.echo(f"wrote {out}")


@app.command()
def subset(
    path: Path = typer.Argument(..., metavar="store", help="Source store."),
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    where: list[str] = typer.Option(None, "--where", help="attribute=value[,value...] (a "
                                    "continuous one: attribute=low:high, an end left empty "
                                    "open); repeat to AND."),
    balance_by: str = typer.Option(None, "--balance-by", help="Categorical attribute to "
                                   "balance: as many rows of each class."),
    per_class: int = typer.Option(None, "--per-class", help="Rows per class of --balance-by "
                                  "(default: as many as the smallest class has)."),
    n: int = typer.Option(None, "--n", help="Rows in all (random; with --balance-by split "
                          "equally over the classes)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random choice."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
) -> None:
    """Write a subset of a store: rows filtered by attribute values, balanced over a class
    attribute, or a random sample; every column is kept."""

    from latentplay import store as st
    from latentplay.store.subset import parse_where, select_rows
    from latentplay.store.subset import subset as save_subset

    source = st.load(path)
    conditions = parse_where(where or [])
    rows = select_rows(source, where=conditions, balance_by=balance_by, per_class=per_class,
                       n=n, seed=seed)
    selection = {"where": conditions, "balance_by": balance_by, "per_class": per_class, "n": n,
                 "seed": seed}
    new = save_subset(source, out, rows, overwrite=overwrite, selection=selection)
    text = f"kept {len(new)} of {len(source)} rows"
    classes = _classes_with_rows(new, balance_by) if balance_by else 0
    if balance_by:
        text += f"; {balance_by}: {_balanced_counts(new, balance_by)}"
        if n is not None and len(new) < n:   # n // classes each
            text += f" (--n {n} over {classes} classes: {len(new) // max(classes, 1)} each)"
    console.print(text, markup=False)
    if classes == 1:
        warn(f"warning: only one class of {balance_by} has matching rows: the subset is "
             "balanced over nothing")
    elif balance_by:
        missing = _classes_without_matching_rows(source, new, balance_by)
        if missing:
            warn(f"warning: no row matching --where is of {balance_by} {', '.join(missing)}: "
                 f"the subset balances the other {classes} classes and has none of "
                 f"{'it' if len(missing) == 1 else 'them'}")
    typer.echo(f"wrote {out}")  # whole: rich would wrap a long path onto a line of its own


@app.command("bin")
def bin_cmd(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (the new attribute is added in place)."),
    attribute: str = typer.Argument(..., help="Continuous attribute to cut, e.g. age."),
    edges: str = typer.Option(None, "--edges", help="Comma-separated increasing inner edges, "
                              "e.g. 20,40,60 (four groups; each from its lower edge)."),
    quantiles: int = typer.Option(None, "--quantiles", help="Instead: this many groups of "
                                  "about equal counts (at most half the rows with a value)."),
    names: str = typer.Option(None, "--names", help="Comma-separated group names (default: "
                              "'<20', '[20, 40)', '[40, 60)', '>=60')."),
    name: str = typer.Option(None, "--name", help="New attribute's name (default: "
                             "ATTRIBUTE_group)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an attribute of that name."),
) -> None:
    """Cut a continuous attribute (age, skin angle, head yaw, a score) into groups: a new
    categorical attribute every --by can use; rows without a value are 'unknown'."""

    import numpy as np

    from latentplay.cliargs import split_names
    from latentplay.store import schema as st_schema
    from latentplay.store.binning import bin_store

    cuts = None
    if edges is not None:
        try:
            cuts = [float(e) for e in split_names(edges)]
        except ValueError:
            raise UserError(f"--edges takes numbers separated by commas, got {edges!r}") from None
    new = bin_store(path, attribute, edges=cuts, quantiles=quantiles,
                    names=split_names(names) if names else None, name=name, overwrite=overwrite)
    added = new.schema.history[-1]["column"]
    typer.echo(f"{added}: {class_counts(new, added)}")
    classes = new.schema.attribute(added).level_names
    empty = [c for c, k in zip(classes, np.bincount(new.labels(added), minlength=len(classes)),
                               strict=True) if k == 0]
    if empty:
        values = np.asarray(new.labels(attribute), np.float64)
        finite = values[np.isfinite(values)]
        span = f" ({attribute} runs from {finite.min():g} to {finite.max():g})" if len(finite) \
            else ""
        warn(f"warning: no rows fall in {', '.join(empty)}{span}; check --edges")
    groups = sum(c != st_schema.UNKNOWN for c in classes)
    if quantiles is not None and groups < quantiles:
        warn(f"note: {groups} groups, not {quantiles}: tied values of {attribute} share a "
             "group, so some quantiles' edges fell together")
    typer.echo(f"wrote {path}")


@app.command("combine")
def combine_cmd(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (the new attribute is added in place)."),
    attributes: str = typer.Argument(..., help="Comma-separated categorical attributes, e.g. "
                                     "race,gender."),
    name: str = typer.Option(None, "--name", help="New attribute's name (default: the names "
                             "joined by '_')."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an attribute of that name."),
) -> None:
    """Combine categorical attributes into one whose classes are their intersections (e.g.
    'Black / Female'), for any --by; rows missing a part are 'unknown'."""

    from latentplay.cliargs import split_names
    from latentplay.store.combine import combine_store

    new = combine_store(path, split_names(attributes), name=name, overwrite=overwrite)
    added = new.schema.history[-1]["column"]
    classes = _classes_with_rows(new, added)
    typer.echo(f"{added}: {counted(classes, 'class', 'classes')} with rows; "
               f"{class_counts(new, added)}")
    if classes < 2:   # no row holds every part (or all one intersection): nothing to compare
        warn(f"warning: {added} has {classes or 'no'} class with rows besides unknown: no "
             "group to compare with another")
    typer.echo(f"wrote {path}")


@app.command("order")
def order_cmd(
    path: Path = typer.Argument(..., metavar="store", help="Store directory (changed in place)."),
    attribute: str = typer.Argument(..., help="Categorical attribute (e.g. age), or a factor."),
    classes: str = typer.Option(None, "--classes", help="Every class, comma-separated, in "
                                "order (default: the present order)."),
    unordered: bool = typer.Option(False, "--unordered", help="Mark the classes unordered."),
) -> None:
    """Put a categorical attribute's classes in order and mark it ordered (projections colour
    it along a ramp, data bias tests for a trend along it).

    A factor's levels follow their values; --unordered marks them nominal (dSprites' shape:
    square, ellipse, heart), and no option ordered again."""

    from latentplay.cliargs import split_names
    from latentplay.store.order import order_classes

    new = order_classes(path, attribute, split_names(classes) if classes else None,
                        ordered=not unordered)
    kind = "unordered" if unordered else "ordered"
    typer.echo(f"{attribute}: {kind}; {class_counts(new, attribute)}")
    typer.echo(f"wrote {path}")


@app.command("concat")
def concat_cmd(
    paths: list[Path] = typer.Argument(..., metavar="store", help="Two or more store directories."),
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    names: str = typer.Option(None, "--names", help="Each store's class in --source, "
                              "comma-separated (default: the directory names)."),
    source: str = typer.Option("source", "--source", help="Name of the attribute saying which "
                               "store a row came from."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
) -> None:
    """Put stores together: their rows one after the other, an attribute naming each row's
    store, the attributes and comparable vector columns they share."""

    from latentplay.cliargs import split_names
    from latentplay.store.concat import concat_stores

    made = concat_stores(paths, out, names=split_names(names) or None, source=source,
                         overwrite=overwrite)
    typer.echo(f"{len(made.store)} rows; {source}: {class_counts(made.store, source)}")
    for reason in made.left_out:
        typer.echo(f"left out {reason}")
    for note in made.notes:
        warn(f"note: {note}")
    typer.echo(f"wrote {out}")


@app.command("split")
def split_cmd(
    path: Path = typer.Argument(..., metavar="store", help="Store directory (the split is added in place)."),
    test: float = typer.Option(0.2, "--test", help="Share of the rows for testing."),
    val: float = typer.Option(0.0, "--val", help="Share of the rows for validation (0: none)."),
    group: str = typer.Option(None, "--group", help="Keep every row of one value together, "
                              "e.g. identity: no person in two splits."),
    stratify: str = typer.Option(None, "--stratify", help="Attributes whose classes are split "
                                 "in the same proportions, comma-separated."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random assignment."),
    name: str = typer.Option("split", "--name", help="Name of the new attribute."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an attribute of that name."),
) -> None:
    """Add a train / (val /) test split as an attribute: by rows, by whole persons (--group),
    stratified; write the parts with data subset --where split=train, or hold out the test part
    in training (data.split=store) and concept models (metrics concepts --split store)."""

    from latentplay.cliargs import split_names
    from latentplay.store.bias import person_attribute, repeated_persons
    from latentplay.store.split import split_store, unstratified

    new = split_store(path, test, val, group=group, stratify=split_names(stratify), seed=seed,
                      name=name, overwrite=overwrite)
    typer.echo(f"{name}: {class_counts(new, name)}"
               + (f"; no {group} in two splits" if group else ""))
    parts = new.schema.attribute(name).names or []
    for part, asked in (("test", test), ("val", val)):
        got = float((new.labels(name) == parts.index(part)).mean()) if part in parts else 0.0
        if group and asked and abs(got - asked) > max(0.05, 0.25 * asked):
            warn(f"warning: the {part} part holds {got:.0%} of the rows, not the "
                 f"{asked:.0%} asked: the groups of {group} are too few or too unequal in "
                 "size to come nearer")
    for line in unstratified(new, name, split_names(stratify)):
        warn(f"warning: {line}")
    if group is None and repeated_persons(new) is not None:
        persons = person_attribute(new)
        warn(f"note: the store's {persons} shows persons in several rows, now on both "
             f"sides of the split; --group {persons} keeps each person in one")
    typer.echo(f"wrote {path}")


@app.command("persons")
def persons_cmd(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (the attribute is added in place)."),
    column: str = typer.Option(..., "--column", help="Face-descriptor vector column, e.g. dlib."),
    threshold: float = typer.Option(0.6, "--threshold", help="Largest distance of one person "
                                    "(dlib's rule: 0.6, Euclidean)."),
    metric: str = typer.Option("euclidean", "--metric", help="euclidean or cosine (1 - cosine "
                               "similarity: ArcFace columns)."),
    truth: str = typer.Option(None, "--truth", help="Attribute naming each row's real person: "
                              "precision and recall of the persons written, over all pairs of "
                              "rows (and of the pairs within --threshold)."),
    name: str = typer.Option("person", "--name", help="Name of the new attribute."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an attribute of that name."),
) -> None:
    """Find rows that show the same person (face vectors within --threshold) and add their
    clusters as an attribute; data split --group person then keeps each in one split."""

    from latentplay.store.persons import persons_store

    found = persons_store(path, column, threshold, metric=metric, name=name, truth=truth,
                          overwrite=overwrite)
    s = found.summary
    missing = ", ".join(f"{counted(s[key], 'row')} without a {what}" for key, what in
                        (("rows_without_face", "face"), ("rows_without_vector", "vector")) if s[key])
    typer.echo(f"{counted(s['pairs'], 'pair')} within {threshold:g} ({metric}); "
               f"{counted(s['persons'], 'person')} with two or more rows hold "
               f"{s['rows_in_persons']} of {counted(s['rows'], 'row')} (largest "
               f"{s['largest']})" + (f"; {missing}: no person" if missing else ""))
    faced = s["rows"] - s["rows_without_face"] - s["rows_without_vector"]
    share = s["pairs"] / max(1, faced * (faced - 1) // 2)
    if s["largest"] > max(2, faced // 2):  # single linkage chains close pairs into one cluster
        warn(f"warning: one person holds {s['largest']} of the {faced} rows with a face vector: "
             f"pairs chained within {threshold:g} may join different people; try a smaller "
             "--threshold (--truth scores the persons written)")
    elif faced >= 1000 and share > 0.01:  # a face collection's same-person pairs are far fewer
        warn(f"warning: {share:.1%} of all pairs of rows are within {threshold:g}: a face "
             "collection's photos of one person make a far smaller share; the threshold is "
             "likely too loose for this column (e.g. dlib's 0.6 on another network's "
             "vectors); try a smaller --threshold")
    if "pairs_across_split" in s:
        typer.echo(f"{s['pairs_across_split']} pairs cross the split (the same person in two parts)")
    if truth is not None:
        typer.echo(f"against {truth}, over the {counted(s['rows_scored'], 'row')} with a face vector "
                   f"and a named {truth}: {counted(s['identities_repeated'], 'identity', 'identities')} "
                   f"with two or more rows, {counted(s['true_pairs'], 'pair')} of rows of one identity")
        typer.echo(f"  persons written ({counted(s['persons'], 'person')} with two or more rows, joined "
                   f"by chains of pairs): {counted(s['pairs_in_persons'], 'pair')} of rows in one person, "
                   f"{s['true_pairs_in_persons']:,} of them one identity: precision "
                   f"{figure_text(s['person_precision'])}, recall {figure_text(s['person_recall'])}")
        typer.echo(f"  pairs within {threshold:g} (before chaining): {s['pairs_scored']:,}, "
                   f"{s['found_true_pairs']:,} of them one identity: precision "
                   f"{figure_text(s['pair_precision'])}, recall {figure_text(s['pair_recall'])}")
    typer.echo(f"wrote {path}")


@app.command("regroup")
def regroup_cmd(
    path: Path = typer.Argument(..., metavar="store",
                                help="Store directory (the new attribute is added in place)."),
    attribute: str = typer.Argument(..., help="Categorical attribute, e.g. skin_tone."),
    into: list[str] = typer.Option(..., "--into", help="group=class[,class...]; repeat for each "
                                   "group, e.g. --into light=monk_1,monk_2,monk_3."),
    name: str = typer.Option(None, "--name", help="New attribute's name (default: "
                             "ATTRIBUTE_groups)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an attribute of that name."),
) -> None:
    """Group a categorical attribute's classes into coarser ones (ten Monk tones into light,
    medium, dark) as a new attribute; classes in no group become 'unknown'."""

    from latentplay.store.regroup import parse_groups, regroup_store

    new = regroup_store(path, attribute, parse_groups(into), name=name, overwrite=overwrite)
    entry = new.schema.history[-1]
    added = entry["column"]
    ordered = " (ordered)" if new.schema.attribute(added).ordered else ""
    typer.echo(f"{added}{ordered}: {class_counts(new, added)}")
    if entry["left_out"]:
        typer.echo(f"in no group (unknown): {', '.join(entry['left_out'])}")
    typer.echo(f"wrote {path}")
