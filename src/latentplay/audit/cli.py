"""``latentplay audit ...``: annotate generated faces, compare with training, measure fidelity
and coverage, sample groups, verify faces per group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from latentplay.cliargs import COLUMNS_WHY, MAX_COLUMNS, UPSAMPLE_HELP, at_most, parse_condition, split_names
from latentplay.errors import UserError
from latentplay.outputs import figure_text, gaps_text, progress_bar, say, warn

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("annotator")
def annotator_cmd(
    store: Path = typer.Argument(..., help="Labelled store to train on."),
    attribute: str = typer.Option(..., help="Categorical attribute to annotate."),
    out: Path = typer.Option(..., "--out", help="Annotator file to write (.npz)."),
    embedder: str = typer.Option("pixels-pca", help="pixels-pca | clip:PATH | vae:RUN | dlib."),
    option: list[str] = typer.Option([], "--option", "-o", help="Embedder option key=value "
                                     "(repeatable)."),
    test_size: float = typer.Option(0.25, "--test-fraction", "--test-size", help="Held-out share "
                                    "(stratified; whole persons when the store's identity or "
                                    "person repeats them) for its accuracy."),
    split: str = typer.Option("auto", "--split", help="auto (--test-fraction as above), rows, "
                              "persons, or store: test on the store's own split attribute's "
                              "test part (val where it has none: FairFace's protocol)."),
    max_rows: int = typer.Option(20000, help="Train on at most this many random rows."),
    c: float = typer.Option(1.0, "--c", help="Inverse L2 strength of the logistic regression "
                            "(finite, above 0)."),
    seed: int = typer.Option(0, help="Seed of the row sample, the split and the embedder."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out file."),
) -> None:
    """Train a classifier annotator (embedding + logistic regression) and save it; prints its
    held-out accuracy and confusion matrix."""
    from latentplay.audit.annotate import chance_text, effective_text, fit_classifier, refuse_existing

    if out.is_dir():  # found only after training, when the file could not replace the folder
        raise UserError(f"--out {out} is a directory; name the annotator file to write (.npz)")
    refuse_existing(out, overwrite)   # before training, not after minutes of it
    ann = fit_classifier(store, attribute, embedder=embedder, options=option,
                         test_size=test_size, max_rows=max_rows, c=c, seed=seed, split=split)
    ann.save(out, overwrite=overwrite)
    ev = ann.evaluation
    assert ev is not None
    persons = ""
    if ann.info.get("held_out") == "persons":
        count = f"{ev.persons} " if ev.persons else ""   # none: each held-out person once
        persons = f" of {count}persons it was not trained on"
    elif ann.info.get("held_out") == "store":
        persons = f" of the store's own {ann.info.get('held_out_part') or 'test'} part"
    print(f"{attribute}: held-out accuracy {ev.accuracy:.3f} on {ev.n} images{persons} "
          f"({len(ann.classes)} classes; {chance_text(ev.counts)})")
    width = max(len(c) for c in ann.classes)
    cell = max(5, min(width, 9))   # a column: its class named, cut to 9 characters
    print("confusion (rows true, columns predicted):")
    print(f"  {'':>{width}} " + " ".join(f"{c[:cell]:>{cell}}" for c in ann.classes))
    for name, row in zip(ann.classes, ev.confusion, strict=True):
        print(f"  {name:>{width}} " + " ".join(f"{v:{cell}.2f}" for v in row))
    if ev.effective is not None:
        print(f"  {effective_text(ev.counts.sum(axis=1), ev.effective)}")
    print(f"wrote {out}")


def refuse_with_images(images: Path | None, **given: object) -> None:
    """One line when an option of sampling a RUN (``--n``, ``--condition``) is given with
    ``--images``, where every image given is audited as it is."""
    used = [f"--{name}" for name, value in given.items() if value is not None]
    if images is not None and used:
        raise UserError(f"{' and '.join(used)} set how RUN is sampled; --images audits every "
                        "image it holds (take part of a store with `latentplay data subset`): "
                        f"leave {'them' if len(used) > 1 else 'it'} out")


@app.command("compare")
def compare_cmd(
    run: Path = typer.Argument(None, help="Run directory to sample from (or use --images)."),
    data: Path = typer.Option(..., help="Labelled store of real faces to compare with (the "
                              "training set or another reference; named by its folder)."),
    annotator: str = typer.Option(..., help="Comma-separated annotator files (latentplay "
                                  "audit annotator makes one), clip:WEIGHTS "
                                  "(or clip:IMAGE.onnx@TEXT.npz: CLIP exported), "
                                  "onnx:PATH (a classifier; give --heads), or labels (the "
                                  "labels the --images store has, e.g. measured)."),
    out: Path = typer.Option(..., "--out", help="Directory for summary, CSVs and figures."),
    attribute: str = typer.Option(None, help="Comma-separated attributes (default: the "
                                  "annotators')."),
    images: Path = typer.Option(None, help="Audit these images (a store or a folder) instead "
                                "of sampling RUN."),
    n: int = typer.Option(None, help="Images to sample from RUN (default: 2000)."),
    condition: str = typer.Option(None, help="Conditional runs: attribute=value,..."),
    prompt: list[str] = typer.Option(None, help="CLIP prompt template (default: 'a photo of a "
                                     "{} person'); repeat it for a prompt ensemble: each "
                                     "class's prompts averaged."),
    clip_model: str = typer.Option("ViT-B-32", help="open_clip architecture of the weights."),
    calibrate: int = typer.Option(None, help="CLIP or onnx: rows of --data to measure its "
                                  "confusion (default: 2000)."),
    heads: str = typer.Option(None, "--heads", help="onnx: the classes of its outputs, "
                              "NAME\\[@FIRST]=CLASS,... or NAME\\[@FIRST]:sigmoid, separated by "
                              "';', or a preset (fairface7, fairface4, celeba40); heads are "
                              "named like the attributes."),
    option: list[str] = typer.Option(None, "--option", "-o", help="onnx: network option "
                                     "key=value (repeatable)."),
    seed: int = typer.Option(0, help="Seed of the samples and the bootstrap."),
    joint: str = typer.Option(None, "--joint", help="Two annotated attributes, A,B: compare "
                              "their intersections too (distribution_A,B.*)."),
    psi: str = typer.Option(None, "--psi", help="Truncation psi values, e.g. 1,0.8,0.6,0.4: the "
                            "same draws audited at each (sampling temperature for a VAE or "
                            "DCGAN), and how the shares move (truncation_<attr>.png)."),
    device: str = typer.Option("cpu", help="Where RUN's samples are decoded: cpu, cuda or auto."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Sample n images from RUN (or read --images), annotate them, and compare their class
    distribution with the --data store's: counts, Wilson intervals, a chi-square test through
    the annotator's confusion, TV (beside what a faithful generator scores), JS, and
    proportions corrected for the annotator's confusion, and each class's ratio of shares with
    intervals that hold for all classes together; --joint A,B the intersections too. With
    --psi, once per truncation."""
    from latentplay import store as st
    from latentplay.audit.annotate import DEFAULT_TEMPLATE, chance_text, confidence_shift
    from latentplay.audit.distribution import (
        MAX_CONDITION,
        audited_images,
        chi_square_basis,
        data_name,
        faithful_text,
        imbalance_text,
        pinned_text,
        shift_text,
    )
    from latentplay.audit.run import (
        Audited,
        StoreImages,
        audit_images,
        check_joint,
        drawn_under,
        generate,
        label_annotators,
        read_images,
        resolve_annotators,
    )
    from latentplay.audit.share_ratio import ratio_interval, ratio_text
    from latentplay.audit.values import ks_persons_text, smd_text
    from latentplay.contingency import read_p
    from latentplay.measure.predict import error_text
    from latentplay.outputs import p_text
    from latentplay.train.summary import discriminator_wins

    if (run is None) == (images is None):
        raise UserError("give either a RUN to sample from or --images, not both or neither")
    refuse_with_images(images, n=n, condition=condition)
    specs = split_names(annotator)
    if not any(spec.startswith(("clip:", "onnx:")) for spec in specs):  # no network to read
        given = [flag for flag, value in (("--prompt", prompt or None), ("--calibrate", calibrate))
                 if value is not None]
        if given:
            raise UserError(f"{' and '.join(given)} set how a clip: (or onnx:) annotator reads "
                            "the images; these annotators have their confusion already: leave "
                            f"{'them' if len(given) > 1 else 'it'} out")
    n = 2000 if n is None else n
    prompt = prompt or [DEFAULT_TEMPLATE]
    calibrate = 2000 if calibrate is None else calibrate
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    store = st.load(data)
    labelled = st.load(images) if images is not None and (images / st.SCHEMA_FILE).exists() else None
    names = split_names(attribute)
    continuous: list[str] = []
    if "labels" in specs:
        if len(specs) > 1:
            raise UserError("--annotator labels takes no other annotator")
        if heads or option:
            raise UserError("--heads and -o describe an onnx: network annotator, not labels")
        annotators, continuous = label_annotators(store, names, labelled)
    else:
        annotators = resolve_annotators(specs, store, names, clip_template=prompt,
                                        clip_model=clip_model, calibrate=calibrate, seed=seed,
                                        heads=heads, network_options=option or [])
    pair = split_names(joint)
    check_joint(annotators, pair)
    if psi is not None:
        if run is None:  # (values, read from --images' labels, come only with --images)
            raise UserError("--psi samples a RUN at each truncation: give a RUN instead of --images")
        _truncation(run, store, annotators, psi, out, n, seed, parse_condition(condition), device,
                    overwrite, pair)
        return
    if run is not None:
        cond = parse_condition(condition)
        imgs = generate(run, n, seed=seed, condition=cond, device=device)
        source = {"run": str(run.resolve()), "n": n, "condition": cond or None}
    elif specs == ["labels"] and labelled is not None:   # labels read; a few images drawn
        imgs = StoreImages(labelled)
        source = {"images": str(images)}
    else:
        imgs = read_images(images)
        source = {"images": str(images)}
    summary = audit_images(imgs, store, annotators, out, seed=seed, overwrite=overwrite,
                           source=source, measured=labelled, continuous=continuous,
                           joint=pair)
    ref = data_name(store.path)
    audited = Audited.of(source).name
    if run is not None and (beaten := discriminator_wins(run)):
        warn(f"caution: {beaten}: the shares below are what the annotators make of them")
    if source.get("condition"):
        print(f"samples drawn under {drawn_under(source['condition'])}; {ref}'s shares are of "
              "all its rows")
    for name, s in summary["attributes"].items():
        if s["annotator"].get("requested"):
            warn(f"note: {name} of --images is the condition each image was generated under, "
                 "not what it shows: this compares what was asked of the generator; to compare "
                 "what it drew, annotate the images (--annotator FILE.npz, clip:, onnx:)")
        if s.get("kind") == "continuous":
            print(f"{name}: {ref} mean {s['mean_training']:.3g} (SD {s['sd_training']:.3g}), "
                  f"{audited} {s['mean_generated']:.3g} (SD {s['sd_generated']:.3g}); SMD "
                  f"{smd_text(s['smd'])}, KS {s['ks']:.3f} (p {p_text(s['ks_p'], 3)}), Wasserstein "
                  f"{s['wasserstein']:.3g}")
            if over := ks_persons_text(s, audited_images(audited)):
                print(f"  {over}")
            error = s["annotator"].get("error")
            if error:
                print(f"  read by the network on both sides; against {name}'s labels on "
                      f"{error['n']} {ref} images: {error_text(error)}")
            continue
        acc = s["annotator"]["evaluation"]
        acc_text = "" if acc is None else (
            f" (annotator accuracy {acc['accuracy']:.3f} on {acc['n']} labelled images; "
            f"{chance_text(acc['counts'])})")
        cond = s["confusion_condition"]
        if s["corrected_tv"] is not None:
            note = f"; corrected TV {s['corrected_tv']:.3f} (confusion condition number {cond:.3g})"
        elif cond is not None:
            note = (f"; no correction: the confusion matrix is singular or nearly so (condition "
                    f"number {cond:.3g}, above {MAX_CONDITION:g})")
        else:
            note = ""
        print(f"{name}{acc_text}: TV {s['tv']:.3f}, JS {s['js']:.3f} bits, chi-square p "
              f"{p_text(read_p(s['chi2']), 3)}{note}")
        basis = chi_square_basis(s, audited)
        if basis:
            print(f"  chi-square {s['chi2']['statistic']:.2f} on {s['chi2']['dof']} dof, {basis}")
        for row in s["per_class"]:
            corr = f", corrected {row['corrected']:.3f}" if "corrected" in row else ""
            ratio = ratio_interval(row)
            print(f"  {row['class']}: {ref} {row['training']:.3f} ({row['training_count']}), "
                  f"{audited} {row['generated']:.3f} ({row['generated_count']}){corr}"
                  + (f", ratio {ratio}" if ratio else ""))
        if s.get("corrected_pinned"):
            print(f"  corrected {pinned_text(s['corrected_pinned'])}")
        for line in (ratio_text(s, ref, audited), faithful_text(s), imbalance_text(s, ref, audited),
                     shift_text(s, audited)):
            if line:
                print(f"  {line}")
        shift = confidence_shift(s["annotator"])
        if shift is not None:
            print(f"  {shift}")
    print(f"wrote {out}")


def _truncation(run: Path, store: Any, annotators: list[Any], psi: str, out: Path, n: int, seed: int,
                condition: dict[str, Any] | None, device: str, overwrite: bool,
                joint: list[str]) -> None:
    """``audit compare --psi``: the sweep, and each class's share at each psi."""
    from latentplay.audit.distribution import data_name, pinned_text
    from latentplay.audit.share_ratio import not_ruled_out
    from latentplay.audit.truncation import (
        confidence_caution,
        off_reference,
        pinned_classes,
        ratio_basis,
        ratio_words,
        truncation_sweep,
    )

    try:
        values = [float(v) for v in split_names(psi)]
    except ValueError:
        raise UserError(f"--psi takes comma-separated numbers, got {psi!r}") from None
    summary = truncation_sweep(run, store, annotators, values, out, n=n, seed=seed,
                               condition=condition, device=device, overwrite=overwrite,
                               joint=joint)
    ref = data_name(store.path)
    for name, entry in summary["attributes"].items():
        print(f"{name} ({ref}: " + ", ".join(f"{c} {t:.3f}" for c, t in
                                             zip(entry["classes"], entry["training"], strict=True))
              + f"; {summary['n']} samples at each psi)")
        for k, value in enumerate(entry["psi"]):
            shares = ", ".join(f"{c} {g:.3f}" for c, g in zip(entry["classes"], entry["generated"][k],
                                                              strict=True))
            confidence = entry["confidence"][k]
            sure = "" if confidence is None else f", annotator confidence {confidence:.3f}"
            faithful = (entry.get("faithful_tv") or [None] * len(entry["psi"]))[k]
            beside = "" if faithful is None else f", a faithful generator {faithful:.3f}"
            print(f"  psi {value:g}: {shares} (TV {entry['tv'][k]:.3f}{beside}{sure})")
            if words := ratio_words(entry, k):
                print(f"    {words}")
        if basis := ratio_basis(entry):
            off = bool(off_reference(entry).any())  # type: ignore[union-attr]  # has ratios
            spans = not_ruled_out([{"ratio_low": low, "ratio_high": high}
                                   for per in entry["ratios"]["interval"] for low, high in per])
            print(f"  (more or less often than {ref}: {basis})" if off else
                  f"  no class drawn more or less often than {ref} at any psi: every interval "
                  f"spans 1{spans} ({basis})")
        if pinned := pinned_classes(entry):
            print(f"  (corrected {pinned_text(pinned)})")
        if entry["confidence_held_out"] is not None:
            print(f"  (the annotator's confidence on held-out training images: "
                  f"{entry['confidence_held_out']:.3f})")
        for line in confidence_caution(entry).splitlines():
            print(f"  {line}")
    print(f"wrote {out}")


@app.command("versus")
def versus_cmd(
    audits: list[Path] = typer.Argument(..., help="Directories audit compare wrote (two or more)."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    name: str = typer.Option(None, "--names", "--name", help="Comma-separated names of the audits "
                             "(default: their directories' names)."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Put several generators' audits of one training set side by side: per attribute, each
    one's TV (beside a faithful generator's), corrected TV, test against the --data store,
    amplification of imbalance and the classes it draws more and less often, and a test of the
    generators against each other."""
    from latentplay.audit.versus import compare_audits, counted_text, ratio_line, reference_name
    from latentplay.contingency import read_p, simulated_note
    from latentplay.outputs import p_text

    found = compare_audits(audits, out, names=split_names(name) or None, overwrite=overwrite)
    ref = reference_name(found["data"])
    if found.get("note"):
        warn(f"note: {found['note']}")

    def number(value: float | None, form: str = ".3f") -> str:
        return "-" if value is None else format(value, form)

    for attribute, table in found["attributes"].items():
        test = table["test"]
        print(f"{attribute}: the generators against each other: " + (
            f"chi-square {test['statistic']:.2f} on {test['dof']} dof, p "
            f"{p_text(read_p(test), 3)}{simulated_note(test)}{counted_text(test)}" if test
            else f"no test ({table['test_note']})"))
        for pair in table["pairs"]:
            print(f"  {' vs '.join(pair['audits'])}: chi-square {pair['statistic']:.2f}, p "
                  f"{p_text(read_p(pair), 3)}{simulated_note(pair)} (Holm {p_text(pair['p_holm'], 3)})")
        for row in table["rows"]:
            print(f"  {row['audit']}: TV {number(row['tv'])} (a faithful generator "
                  f"{number(row['faithful_tv'])}), corrected {number(row['corrected_tv'])}; "
                  f"against {ref} p {p_text(row['chi2_p'], 3)}"
                  f"{' (simulated)' if row.get('chi2_p_simulated') else ''}; amplification "
                  f"{number(row['amplification'], '+.3f')}")
            ratios = ratio_line(table, row["audit"], ref)
            if ratios:
                print(f"    {ratios}")
    for attribute, why in found["skipped"].items():
        print(f"{attribute}: left out, {why}")
    print(f"wrote {out}")


@app.command("sample-groups")
def sample_groups_cmd(
    run: Path = typer.Argument(..., help="Run directory: an autoencoder-family run, or any run "
                               "with --column."),
    data: Path = typer.Option(..., help="Labelled store to encode (usually the training data)."),
    attribute: str = typer.Option(..., "--by", "--attribute", help="Categorical attribute "
                                  "defining the groups, e.g. skin_tone."),
    out: Path = typer.Option(..., "--out", help="Directory for groups.png and groups.json."),
    column: str = typer.Option(None, help="Vector column of --data holding RUN's codes of its "
                               "faces (e.g. from embed --with invert:RUN) instead of encoding."),
    covariance: str = typer.Option("full", help="Covariance of each mixture component: full or "
                                   "diag (for codes of thousands of values, such as W+)."),
    n: int = typer.Option(8, help="Faces drawn per group in the grid."),
    annotator: str = typer.Option(None, help="Annotator of --by (a file, clip:WEIGHTS or "
                                  "onnx:PATH with --heads): measure each group's share."),
    heads: str = typer.Option(None, "--heads", help="onnx: the classes of its outputs (see "
                              "`audit compare`), one head named like --by."),
    option: list[str] = typer.Option(None, "--option", "-o", help="onnx: network option "
                                     "key=value (repeatable)."),
    components: int = typer.Option(None, help="Mixture components per group (default: BIC)."),
    measure: int = typer.Option(200, help="Samples per group annotated to measure it."),
    seed: int = typer.Option(0, help="Seed of the mixtures and the draws."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Fit a Gaussian mixture to the latent codes of each group of --by and draw faces of
    every group from it (one grid row per group)."""
    from latentplay import store as st
    from latentplay.audit.annotate import Annotator
    from latentplay.audit.groups import CHOSEN_BY
    from latentplay.audit.run import resolve_annotators, sample_groups

    at_most(n, MAX_COLUMNS, "--n", COLUMNS_WHY)  # 100,000 fitted, drew, then failed in the figure
    if annotator is None and (heads or option):
        raise UserError("--heads and -o describe an onnx: network --annotator; none was given")
    ann = None if annotator is None else resolve_annotators(
        [annotator], st.load(data), [attribute], heads=heads, network_options=option or [],
        seed=seed)[0]
    if ann is not None and not isinstance(ann, Annotator):
        raise UserError(f"the network's head {attribute!r} gives values; sample-groups needs "
                        "an annotator of classes")
    summary = sample_groups(run, data, attribute, n, out, annotator=ann, components=components,
                            measure=measure, seed=seed, overwrite=overwrite, column=column,
                            covariance=covariance)
    if summary["caution"]:
        warn(f"caution: {summary['caution']}")

    def interval(g: dict[str, Any], key: str) -> str:
        """``g[key]`` and its 95 % Wilson interval as ``groups.json`` holds them."""
        return f"{g[key]:.3f} [{g[key + '_low']:.3f}, {g[key + '_high']:.3f}]"

    for g in summary["groups"]:
        share = "" if "share_annotated" not in g else (
            f"; annotated as {g['class']}: {interval(g, 'share_annotated')} of its {measure} "
            f"samples, {interval(g, 'prior_share')} of prior samples")
        if g.get("annotator_recall") is not None:
            share += (f", {interval(g, 'annotator_recall')} of real faces of the group "
                      f"({g['annotator_recall_n']} held out)")
        print(f"{g['class']}: {g['rows']} rows, {g['components']} component(s) "
              f"({CHOSEN_BY[g['chosen_by']]}), base rate {g['base_rate']:.3f}{share}")
        if g["note"]:
            warn(f"  note: {g['class']}: {g['note']}")
    if summary["skipped"]:
        print(f"skipped (no row with a code): {', '.join(summary['skipped'])}")
    if summary["rows_without_class"]:
        print(f"{summary['rows_without_class']} rows with an unknown {attribute} left out: the "
              f"base rates are shares of the {sum(g['rows'] for g in summary['groups'])} rows "
              "with a class")
    print(f"wrote {out}")


@app.command("fidelity")
def fidelity_cmd(
    run: Path = typer.Argument(None, help="Run directory to sample from (or use --images)."),
    data: Path = typer.Option(..., help="Store of real images to compare with: the training "
                              "store, or another reference."),
    out: Path = typer.Option(..., "--out", help="Directory for fidelity.json, CSVs and figures."),
    features: str = typer.Option("pixels-pca", help="Embedder of both image sets: pixels-pca, "
                                 "dlib, vae:RUN, clip:PATH."),
    option: list[str] = typer.Option(None, "--option", "-o", help="Embedder option key=value "
                                     "(repeatable), e.g. -o dim=64."),
    images: Path = typer.Option(None, help="Audit these images (a store or a folder of equal-"
                                "size images) instead of sampling RUN."),
    n: int = typer.Option(None, help="Images to sample from RUN (default: 2000)."),
    real: int = typer.Option(None, help="Training images compared (default: as many as "
                             "generated)."),
    k: int = typer.Option(5, help="Neighbourhood size of precision, recall, density, coverage."),
    by: str = typer.Option(None, help="Comma-separated categorical attributes: coverage and "
                           "recall per class."),
    annotator: str = typer.Option(None, help="Annotators of --by attributes (comma-separated "
                                  "files, clip:WEIGHTS or onnx:PATH with --heads): precision "
                                  "and density per annotated class."),
    heads: str = typer.Option(None, "--heads", help="onnx: the classes of its outputs (see "
                              "`audit compare`); heads named like --by attributes annotate them."),
    annotator_option: list[str] = typer.Option(None, "--annotator-option", help="onnx: network "
                                               "option key=value (repeatable; -o is the "
                                               "features')."),
    condition: str = typer.Option(None, help="Conditional runs: sample at attribute=value,... "
                                  "(default: under the conditions of random rows of --data, "
                                  "its own mix)."),
    crop: float = typer.Option(None, help="Centre crop of the training images (default: the "
                               "run's data.crop, else 1)."),
    seed: int = typer.Option(0, help="Seed of the samples and the subsets."),
    device: str = typer.Option("cpu", help="Where RUN's samples are decoded: cpu, cuda or auto."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Compare generated images with the training images in a feature space: precision, recall,
    density, coverage, Frechet and kernel distances, coverage per group, and the least covered
    training images."""
    from latentplay import store as st
    from latentplay.audit.annotate import Annotator
    from latentplay.audit.distribution import data_name
    from latentplay.audit.fidelity import (
        COMMON_REPEATS,
        Samples,
        audit_fidelity,
        check_counts,
        sample_run,
    )
    from latentplay.audit.run import Audited, read_images, resolve_annotators
    from latentplay.outputs import refuse_nonempty
    from latentplay.train.checkpoint import read_meta

    if (run is None) == (images is None):
        raise UserError("give either a RUN to sample from or --images, not both or neither")
    refuse_with_images(images, n=n, condition=condition)
    n = 2000 if n is None else n
    if n < 2:
        raise UserError(f"--n must be at least 2, got {n}")
    if crop is not None and not 0 < crop <= 1:  # 2 and NaN cropped nothing, 0 to one pixel
        raise UserError(f"--crop must be in (0, 1] (the share of the shorter side kept), got {crop:g}")
    store = st.load(data)
    if run is not None:   # --images: counted once read, in audit_fidelity
        check_counts(k, n, min(n if real is None else real, len(store)))
    refuse_nonempty(out, overwrite)   # before the samples; audit_fidelity makes --out
    if annotator is None and (heads or annotator_option):
        raise UserError("--heads and --annotator-option describe an onnx: network --annotator; "
                        "none was given")
    by_names, specs = split_names(by), split_names(annotator)
    for name in by_names:
        store.schema.attribute_or_error(name)
    clip = any(s.startswith("clip:") for s in specs)  # CLIP annotates whatever it is asked
    annotators = [] if annotator is None else resolve_annotators(
        specs, store, by_names if clip else [], heads=heads,
        network_options=annotator_option or [], seed=seed)
    if annotators and not {a.attribute for a in annotators} & set(by_names):
        raise UserError(f"the annotators are for {', '.join(a.attribute for a in annotators)}; "
                        "name those attributes in --by")
    annotators = [a for a in annotators if a.attribute in by_names
                  and isinstance(a, Annotator)]  # a network's value heads give no classes
    if run is not None:
        cond = parse_condition(condition)
        samples = sample_run(run, store, n, seed=seed, condition=cond, device=device)
        source = {"run": str(run), "n": n, "condition": cond or None}
        crop = read_meta(run).get("crop", 1.0) if crop is None else crop
    else:
        imgs = read_images(images)
        if isinstance(imgs, list):
            raise UserError(f"--images {images}: the images differ in size; resize them first")
        samples = Samples(imgs)
        source = {"images": str(images)}
    summary = audit_fidelity(samples.images, store, out, features=features,
                             options=option or [], n_real=real,
                             crop=1.0 if crop is None else crop, k=k, by=by_names,
                             annotators=annotators, sample_rows=samples.rows,
                             conditioned_on=samples.conditioned_on, seed=seed,
                             overwrite=overwrite, source=source)
    audited = Audited.of(source)   # "generated", or --images named by its folder
    them = audited.label
    kid = summary["kernel_distance"]
    skipped = summary["not_embedded"]
    store = f"images of {data_name(summary['data'])} (--data)"
    if skipped["real"] or skipped["generated"]:
        print(f"{summary['features']['embedder']} could not embed {skipped['generated']} "
              f"{them} and {skipped['real']} {store} (e.g. no face found); they are "
              "left out, so a group the embedder misses is missing from the comparison too")
    print(f"{summary['n_generated']} {them} vs {summary['n_real']} {store} in "
          f"{summary['features']['embedder']} features ({summary['features']['dim']}-d):")
    print(f"  precision {summary['precision']:.3f}, recall {summary['recall']:.3f}, density "
          f"{summary['density']:.3f}, coverage {summary['coverage']:.3f}, authenticity "
          f"{summary['authenticity']:.3f} (k={summary['k']})")
    print(f"  Frechet distance {summary['frechet_distance']:.4g}, kernel distance "
          f"{kid['mean']:.4g} (SD {kid['std']:.2g} over random subsets: their spread, not an "
          "interval; lower is closer for both)")
    if off := summary.get("off_subspace"):
        held = "" if off["held_out_share"] is None else f"; held-out: {off['held_out_share']:.1%}"
        print(f"  off the subspace of the {store}: {off['count']} of {summary['n_generated']} "
              f"{them} ({off['share']:.1%}{held}) lie farther from their principal components "
              "than 99 % of unseen ones: unlike any of them (noise, artefacts), however near the "
              "components alone would put them")
        if off.get("caution"):
            warn(f"  caution: {off['caution']}")
    if flat := summary.get("flat"):
        print(f"  flat: {flat['count']} of {summary['n_generated']} {them} ({flat['share']:.1%}) "
              f"have a lower pixel contrast than 99 % of the {store} (SD below "
              f"{flat['threshold']:.3g}): blank or faint images, however near the data they score")
        if flat.get("caution"):
            warn(f"  caution: {flat['caution']}")
    ref = summary["reference"]
    if ref:
        print(f"  {ref['n']} held-out {store} score: precision {ref['precision']:.3f}, "
              f"recall {ref['recall']:.3f}, density {ref['density']:.3f}, coverage "
              f"{ref['coverage']:.3f}, authenticity {ref['authenticity']:.3f}, Frechet "
              f"{ref['frechet_distance']:.4g}")
        at = ref.get("generated_at_n")
        if at:
            print(f"  {at['n']} of the {them}, the held-out count, score: precision "
                  f"{at['precision']:.3f}, recall {at['recall']:.3f}, density {at['density']:.3f}, "
                  f"coverage {at['coverage']:.3f}, authenticity {at['authenticity']:.3f}, "
                  f"Frechet {at['frechet_distance']:.4g}")
    else:
        print(f"  no held-out reference: the {summary['n_real']} {store} sampled leave "
              "too few others to score (a smaller --real leaves some)")
    for name, groups in summary["groups"].items():
        print(f"  coverage by {name}: " + ", ".join(_fidelity_class(g, "coverage") for g in groups))
        held = " (held-out)" if ref else ""   # none without a held-out reference
        print(f"  authenticity of the {'samples' if not audited.images else them} nearest to each "
              f"{name}{held}: " + ", ".join(
                  f"{g['class']} {g['authenticity']:.2f}"
                  + (f" ({g['reference_authenticity']:.2f})"
                     if g.get("reference_authenticity") is not None else "")
                  if g.get("authenticity") is not None else f"{g['class']} -" for g in groups))
        trend = (summary.get("trends") or {}).get(name)
        if trend:
            print(f"  along {name}'s order{gaps_text(trend.get('gaps'))}: coverage "
                  f"{_step(trend['coverage'])}, recall {_step(trend['recall'])}")
        if "conditional_coverage" in groups[0]:
            print(f"  coverage of each {name} by the samples drawn for it: " + ", ".join(
                f"{g['class']} {g['conditional_coverage']:.3f} (of {g['n_real']} by "
                f"{g['n_generated_for']})" if g["conditional_coverage"] is not None
                else f"{g['class']} -" for g in groups))
            if groups[0].get("conditional_common_n_real") is not None:
                print(f"  the same with every {name} cut to {groups[0]['conditional_common_n_real']} "
                      f"{store} and {groups[0]['conditional_common_n_generated']} samples (mean of "
                      f"{COMMON_REPEATS} cuts), the numbers to compare between classes (the ones "
                      "above move with the counts): " + ", ".join(
                          f"{g['class']} {g['conditional_coverage_common']:.3f}"
                          if g["conditional_coverage_common"] is not None else f"{g['class']} -"
                          for g in groups))
    print(f"wrote {out}")


def _fidelity_class(group: dict[str, Any], measure: str) -> str:
    """``"monk_2 0.843 (held-out 0.948)"``: a class's ``measure`` beside what held-out images
    score for it (where there is a reference); ``"monk_1 -"`` for a class with no images."""
    if not group["n_real"]:
        return f"{group['class']} -"
    held = group.get(f"reference_{measure}")
    return (f"{group['class']} {group[measure]:.3f}"
            + ("" if held is None else f" (held-out {held:.3f})"))


@app.command("verify")
def verify_cmd(
    data: Path = typer.Argument(..., metavar="store",
                                help="Store with the embedding column (and pairs.csv or "
                                "an identity attribute)."),
    column: str = typer.Option(..., help="Embedding column to verify with, e.g. dlib; several, "
                               "comma-separated, to compare them on the same pairs."),
    out: Path = typer.Option(..., "--out", help="Directory for verification.json, CSVs and "
                             "figures (several columns: a folder each and the comparison)."),
    by: str = typer.Option(None, help="Categorical attribute: measures per class (e.g. race); "
                           "several, comma-separated: per intersection (race,gender)."),
    pairs: Path = typer.Option(None, help="Pairs CSV (row_a, row_b, same); default: the "
                               "store's pairs.csv."),
    identity: str = typer.Option(None, "--persons", "--identity", help="Attribute naming the "
                                 "persons to draw pairs from instead (default: identity, when the "
                                 "store has no pairs.csv)."),
    n_pairs: int = typer.Option(3000, help="Genuine and impostor pairs drawn per group."),
    metric: str = typer.Option("euclidean", help="euclidean | cosine."),
    threshold: float = typer.Option(None, help="Common threshold: d < T is a match (dlib: 0.6)"
                                    "; default: the threshold of --fmr over all impostors."),
    fmr: float = typer.Option(1e-3, help="False match rate that sets the common threshold."),
    folds: int = typer.Option(10, help="Folds of the accuracy protocol (LFW/RFW: 10)."),
    file_folds: bool = typer.Option(False, help="Folds are the pairs file's own (a protocol's "
                                    "fixed splits): its fold column, else consecutive runs of "
                                    "the file; not random ones."),
    keep_flagged: bool = typer.Option(False, help="Keep pairs with a face the embedder did not "
                                      "find."),
    adjust: str = typer.Option(None, help="Standardize each group's FNMR over quantile strata "
                               "of measured attributes, ATTR[:min|max|mean|diff] (the pair's "
                               "value), e.g. pose_yaw:diff,face_score."),
    strata: int = typer.Option(4, help="Quantile strata per --adjust covariate."),
    seed: int = typer.Option(0, help="Seed of the drawn pairs and the folds."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Face verification per group: accuracy (10-fold protocol), ROC AUC, EER and TAR at FMR
    per class of --by, and each group's false match and non-match rates at one common
    threshold, with the differentials between groups (and the FNMR gap left among comparable
    photos, --adjust)."""
    from latentplay import store as st
    from latentplay.audit.verification import verify_columns, verify_store

    columns = split_names(column)
    options = {"by": by, "pairs": pairs, "identity": identity, "n_pairs": n_pairs,
               "metric": metric, "threshold": threshold, "fmr": fmr, "folds": folds,
               "file_folds": file_folds, "keep_flagged": keep_flagged, "seed": seed,
               "adjust": split_names(adjust), "strata": strata, "overwrite": overwrite}
    if len(columns) > 1:
        summary = verify_columns(st.load(data), columns, out, **options)
        _print_comparison(summary)
    else:
        summary = verify_store(st.load(data), column, out, **options)
        _print_verification(summary)
    if summary["unbalanced"]:
        print(f"accuracy is balanced, 1 - (FMR + FNMR) / 2: {', '.join(summary['unbalanced'])} "
              "hold unequal numbers of genuine and impostor pairs, which weigh alike")
    print(f"wrote {out}")


@app.command("detection")
def detection_cmd(
    data: Path = typer.Argument(..., metavar="store", help="Store of face images with the attribute --by."),
    by: str = typer.Option(..., help="Categorical attribute whose groups are compared (e.g. "
                           "skin_tone); several, comma-separated: their intersections."),
    out: Path = typer.Option(..., "--out", help="Directory for detection.json and detection.png."),
    detector: str = typer.Option("cnn", help="dlib's hog or cnn detector, or scrfd:PATH\\[@SIDE] (an "
                                 "SCRFD network)."),
    lowest: float = typer.Option(None, help="Lowest score threshold swept (default: -1 for dlib's "
                                 "detectors, 0.05 for SCRFD's probabilities)."),
    highest: float = typer.Option(None, help="Highest score threshold swept (default: the best "
                                  "score seen)."),
    steps: int = typer.Option(51, help="Thresholds from --lowest to --highest."),
    upsample: int = typer.Option(-1, help=UPSAMPLE_HELP),
    device: str = typer.Option("cpu", help="Where dlib's CNN detector runs: cpu, cuda or auto."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Who the face detector finds, at every cut: the share of images with a face found in
    each group as its score threshold moves, with 95 % intervals (one detector pass)."""

    from latentplay import store as st
    from latentplay.audit.detection import detection_sweep, write_sweep

    store = st.load(data)
    with progress_bar() as bar:
        task = bar.add_task("detecting", total=len(store))
        sweep = detection_sweep(store, by, detector=detector, lowest=lowest, highest=highest,
                                steps=steps, upsample=upsample, device=device,
                                progress=lambda n: bar.advance(task, n))
    directory = write_sweep(sweep, out, overwrite)
    cut = sweep["cut"]
    print(f"faces found by {sweep['label']} in {len(store)} images, by {by} (its cut: {cut:g}):")
    for name, g in [*sweep["groups"].items(), ("all", sweep["all"])]:
        low, high = g["at_cut_interval"]
        matched = "" if name == "all" else (
            f"; as often as the best group at the cut from cuts <= {figure_text(g['matched_at'], 2)}"
            if g["matched_at"] is not None else "; never as often as the best group at the cut in range")
        print(f"  {name} (n={g['n']}): {100 * g['at_cut']:.1f} % at the cut "
              f"[{100 * low:.1f}, {100 * high:.1f}]{matched}")
    if sweep["persons"] is not None:
        print(f"  (rows are photos of {sweep['persons']} persons; the intervals come from a "
              "bootstrap over them)")
    print("  (below the cut the best window need not be a face: false alarms count too)")
    print(f"wrote {directory}")


@app.command("reconstruction")
def reconstruction_cmd(
    run: Path = typer.Argument(..., help="Run directory: an autoencoder-family run, or any run "
                               "with --column."),
    data: Path = typer.Option(..., help="Store of photos with the attribute --by."),
    by: str = typer.Option(..., help="Categorical attribute whose groups are compared (e.g. "
                           "skin_tone); several, comma-separated: their intersections."),
    out: Path = typer.Option(..., "--out", help="Directory for reconstruction.json, the CSV and "
                             "the figures."),
    column: str = typer.Option(None, help="Vector column of --data holding RUN's codes of its "
                               "photos (embed --with invert:RUN), instead of encoding them."),
    n: int = typer.Option(None, help="Photos to measure, drawn at random (default: all with a group)."),
    identity: str = typer.Option(None, help="Face embedder (dlib) reading how much of each person "
                                 "the redrawing keeps."),
    seed: int = typer.Option(0, help="Seed of the draw of --n and of the bootstrap."),
    device: str = typer.Option("cpu", help="Where RUN encodes and redraws the photos: cpu, cuda or auto."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Whose faces the model redraws worse: per group, the pixel error of each photo's
    redrawing and the share of the photo's own pixel variance it misses, the share of failed
    redrawings and (with --identity) how much of the person is kept, with 95 % intervals and
    a test across the groups (and the slope along ordered groups)."""
    from latentplay.audit.reconstruction import WORDS, across_text, audit_reconstruction

    with progress_bar() as bar:
        task = bar.add_task("redrawing", total=None)
        found = audit_reconstruction(run, data, by, out, column=column, n=n, identity=identity,
                                     seed=seed, device=device, overwrite=overwrite,
                                     progress=lambda k: bar.advance(task, k))
    if found.get("caution"):
        warn(found["caution"])

    def mean(g: dict[str, Any], measure: str, digits: int = 3) -> str:
        if g[f"{measure}_low"] is None and g[measure] is not None:   # one photo (or person)
            return f"{figure_text(g[measure], digits)} (no interval from one)"
        return (f"{figure_text(g[measure], digits)} [{figure_text(g[f'{measure}_low'], digits)}, "
                f"{figure_text(g[f'{measure}_high'], digits)}]")

    print(f"how well {run} redraws {found['photos']} photos of {data} ({found['codes']} codes), "
          f"by {by}: share of each photo's pixel variance missed, pixel MSE, failed (no better "
          "than the run's average face)" + (", identity kept" if identity else ""))
    for name, g in [*found["groups"].items(), ("all", found["all"])]:
        print(f"  {name} (n={g['n']}): missed {mean(g, 'unexplained')}, MSE {mean(g, 'mse', 4)}, "
              f"failed {figure_text(g['failed'], 3)}" + (f", kept {mean(g, 'kept')}" if identity else ""))
    for measure, test in found["tests"].items():
        print(f"  {WORDS[measure]} by group: {across_text(test)}")
    if found["persons"] is not None:
        tests = {t.get("test") for t in found["tests"].values() if t is not None}
        how = ("the test compares each person's photos across the groups" if "wald" in tests
               else "the test ranks each person's mean")
        print(f"  (photos of {found['persons']} persons: the intervals come from a bootstrap over "
              f"them, {how})")
    print(f"wrote {out}")


def _step(trend: dict) -> str:
    """``"+0.0120 per step [+0.0080, +0.0160]"``: a rate's change per step of the order; ``-`` for
    a slope or bound that could not be taken (null in the JSON, NaN in older outputs)."""
    def text(x: float | None) -> str:
        return "-" if x is None or x != x else f"{x:+.4f}"

    if trend["slope"] is None or trend["slope"] != trend["slope"]:
        return "-"
    return f"{text(trend['slope'])} per step [{text(trend['low'])}, {text(trend['high'])}]"


def _along(trend: dict, key: str) -> str:
    """``monk_1 .. monk_6 (no pairs in monk_3)``: the ordered groups the ``key`` rate of a
    trend was fitted on (outputs older than its ``groups``: the trend's)."""
    groups = trend[key].get("groups") or trend["groups"]
    return f"{groups[0]} .. {groups[-1]}" + gaps_text(trend[key].get("gaps"), "pairs")


def _trend_line(trend: dict) -> str:
    """The printout's line of a trend along ordered groups: ``along A .. B: FMR ...; FNMR
    ...``, or each rate with its own groups where they differ."""
    spans = {key: _along(trend, key) for key in ("fmr", "fnmr")}
    if spans["fmr"] == spans["fnmr"]:
        return (f"  along {spans['fmr']}: "
                + "; ".join(f"{key.upper()} {_step(trend[key])}" for key in ("fmr", "fnmr")))
    return "  " + "; ".join(f"{key.upper()} along {spans[key]}: {_step(trend[key])}"
                            for key in ("fmr", "fnmr"))


def _print_notes(summary: dict) -> None:
    """The ``note:`` and ``caution:`` lines of ``verification.json`` (or of the comparison: a
    caution per column), when it has any."""
    for note in summary.get("notes") or []:
        warn(f"note: {note}")
    for caution in [summary.get("caution"), *(summary.get("cautions") or {}).values()]:
        if caution:
            warn(f"caution: {caution}")


def _bounded(values: dict, key: str, digits: int) -> str:
    """``values[key]`` to ``digits`` significant digits with its interval (``key_low``,
    ``key_high``) where the summary has one: a group's FMR ``0.0100 [0.0034, 0.0290]`` (4), an
    FMR ratio across groups ``1.50 [1.00, 2.70]`` (2)."""
    low, high = values.get(f"{key}_low"), values.get(f"{key}_high")
    bounds = "" if low is None or high is None else \
        f" [{figure_text(low, digits)}, {figure_text(high, digits)}]"
    return figure_text(values.get(key), digits) + bounds


def _print_verification(summary: dict) -> None:
    p = summary["pairs"]
    print(f"{p['used']} pairs ({summary['overall']['genuine']} genuine) in {summary['column']} "
          f"({summary['metric']} distance); common threshold d < {summary['threshold']:.4g}")
    _print_notes(summary)
    if p["unconverted"] or p["flagged_dropped"]:
        print(f"left out: {p['unconverted']} pairs with an unconverted image, "
              f"{p['flagged_dropped']} with a face the embedder did not find")
    if summary.get("intervals"):
        print(f"  (FMR and FNMR with 95 % intervals: {summary['intervals']})")
    for r in [*summary["groups"], summary["overall"]] if summary["by"] else [summary["overall"]]:
        no_face = "" if r["no_face_share"] is None else \
            f", no face found in {100 * r['no_face_share']:.1f} %"
        print(f"  {r['group']}: accuracy {figure_text(r['accuracy'], 4)}, AUC {figure_text(r['auc'], 4)}, "
              f"FMR {_bounded(r, 'fmr', 4)}, FNMR {_bounded(r, 'fnmr', 4)} "
              f"({r['genuine']} + {r['impostor']} pairs{no_face})")
    diff = summary["differentials"]
    if diff:
        from latentplay.audit.verification import left_out_note

        left = left_out_note(diff)
        print(f"  across groups{f' ({left})' if left else ''}: accuracy sd "
              f"{figure_text(diff['accuracy_std'], 4)}, skewed error ratio "
              f"{figure_text(diff['skewed_error_ratio'], 2)}, FMR ratio "
              f"{_bounded(diff, 'fmr_ratio', 2)}, FNMR ratio {_bounded(diff, 'fnmr_ratio', 2)}")
    trend = summary.get("trend")
    if trend:
        print(_trend_line(trend))
    adjusted = summary.get("adjusted")
    if adjusted:
        from latentplay.audit.standardize import sparse_note, strata_heading

        print("FNMR " + strata_heading(adjusted, f"{adjusted['pairs']} genuine pairs"))
        for g in adjusted["groups"]:
            low, high = g["interval"]
            sparse = sparse_note(g.get("sparse_weight"), "pairs")
            print(f"  {g['group']}: FNMR {figure_text(g['fnmr'], 4)} -> {figure_text(g['standardized'], 4)} "
                  f"[{figure_text(low, 4)}, {figure_text(high, 4)}]"
                  + (f"; no pairs in {g['strata_without_pairs']} strata"
                     if g["strata_without_pairs"] else "")
                  + (f"; {sparse}" if sparse and g["standardized"] is not None else ""))
        print(f"  FNMR ratio {figure_text(adjusted['fnmr_ratio'], 2)} -> "
              f"{figure_text(adjusted['standardized_ratio'], 2)}")


def _print_comparison(comparison: dict) -> None:
    print(f"{comparison['pairs_used']} pairs, the same for every column; each column at its own "
          f"threshold of FMR {comparison['fmr']:g} over all impostor pairs")
    _print_notes(comparison)
    p = comparison.get("pairs") or {}
    if p.get("unconverted") or p.get("flagged_dropped"):
        print(f"left out: {p['unconverted']} pairs with an unconverted image, "
              f"{p['flagged_dropped']} with a face an embedder did not find")
    if comparison.get("groups_without_pairs"):
        warn(f"caution: no genuine or no impostor pairs left in "
             f"{', '.join(comparison['groups_without_pairs'])}: they are not compared")
    for column, r in comparison["per_column"].items():
        diff = r["differentials"] or {}
        print(f"  {column}: accuracy {figure_text(r['overall']['accuracy'], 4)}, AUC "
              f"{figure_text(r['overall']['auc'], 4)}, skewed error ratio "
              f"{figure_text(diff.get('skewed_error_ratio'), 2)}, FMR ratio "
              f"{_bounded(diff, 'fmr_ratio', 2)}, FNMR ratio {_bounded(diff, 'fnmr_ratio', 2)}")


@app.command("accuracy")
def accuracy_cmd(
    data: Path = typer.Argument(..., metavar="store",
                                help="Store holding predictions beside labels (e.g. after "
                                "latentplay data predict)."),
    predicted: str = typer.Option(..., "--predicted", help="Attribute of predictions, e.g. "
                                  "predicted_gender."),
    truth: str = typer.Option(..., "--truth", help="Attribute of labels, e.g. gender."),
    by: str = typer.Option(..., "--by", help="Groups to compare, e.g. skin_tone; several, "
                           "comma-separated: their intersections."),
    out: Path = typer.Option(..., "--out", help="Directory for accuracy.json, CSVs and "
                             "accuracy.png."),
    confidence: str = typer.Option("auto", help="Attribute of each prediction's probability, "
                                   "for calibration per group: auto (<predicted>_p when the "
                                   "store has it, as data predict writes) | a name | none."),
    threshold: float = typer.Option(None, help="Confidence at or above which answers pass "
                                    "unreviewed: per group the share answered, their accuracy "
                                    "and the share of errors passed."),
    binning: str = typer.Option("width", help="ECE bins: width (ten equal-width bins) | mass "
                                "(ten bins of equal rows per group: for confidences crowded "
                                "near 1)."),
    adjust: str = typer.Option(None, help="Measured covariates (continuous attributes, comma-"
                               "separated: face_score,pose_yaw) over whose strata each "
                               "group's error is standardized: the gap among comparable "
                               "photos."),
    strata: int = typer.Option(4, help="Quantile strata of each --adjust covariate."),
    positive: str = typer.Option(None, help="A class as the outcome (female, smile): per "
                                 "group its selection rate, base rate, TPR and FPR, and the "
                                 "demographic parity, equal opportunity and equalized odds "
                                 "differences."),
    seed: int = typer.Option(0, help="Seed of the bootstraps and draws (persons, "
                             "calibration, parity, --adjust)."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Accuracy of predictions per group (Gender Shades): each group's accuracy with its
    interval (or a regressor's error and bias), the gaps between groups, a trend along an
    ordered --by; with --adjust the gap among comparable photos, with --positive the parity
    of selection and error rates, and with confidences the calibration within each group."""
    from latentplay.audit.accuracy import group_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines

    s = group_accuracy(data, predicted, truth, by, out, overwrite=overwrite, seed=seed,
                       confidence=None if confidence == "none" else confidence,
                       threshold=threshold, adjust=split_names(adjust), strata=strata,
                       positive=positive, binning=binning)
    for line in [*accuracy_lines(s), f"wrote {out}"]:
        say(line)


@app.command("counterfactual")
def counterfactual_cmd(
    run: Path = typer.Argument(..., help="Run directory whose codes the direction was fitted "
                               "on (a VAE's encoder means, a generator's codes)."),
    data: Path = typer.Option(..., help="Store of the faces to edit (real faces, or the run's "
                              "own samples from `latentplay data generate`)."),
    classifier: str = typer.Option(..., help="Classifier under audit: an annotator file from "
                                   "`latentplay audit annotator`, clip:WEIGHTS or onnx:PATH "
                                   "(with --heads and --attribute)."),
    out: Path = typer.Option(..., "--out", help="Directory for counterfactual.json, CSVs and "
                             "figures."),
    direction: str = typer.Option(None, help="Direction JSON from `latentplay latent "
                                  "direction`: the attribute to change (several, comma-"
                                  "separated: each in its own folder, and a profile)."),
    condition: str = typer.Option(None, help="Or a condition of the run to change: a "
                                  "continuous one is shifted by --alphas, a categorical one set "
                                  "to each class (several, comma-separated: each in its own "
                                  "folder, and a profile)."),
    attribute: str = typer.Option(None, help="The attribute the classifier reads (required "
                                  "for clip: and onnx:; a file knows its own)."),
    check: str = typer.Option(None, help="Comma-separated annotators read at every step too: "
                              "of the edited attribute (does the edit move it?) or an "
                              "independent reader of the classifier's (does the edit change "
                              "that attribute itself?); ATTRIBUTE=onnx:PATH reads another "
                              "attribute, a value head too (age=onnx:NET: mean age read)."),
    rows: str = typer.Option(None, help="Rows of --data (START:STOP or a comma list); default: "
                             "--n random rows."),
    n: int = typer.Option(200, help="Random rows of --data to edit."),
    steps: str = typer.Option(None, "--alphas", "--steps", help="Values to step to (0 is added): "
                              "along a direction in SDs of the codes along it, as latent edit's "
                              "--alphas (default: -2:2:0.5); of a continuous condition, shifts "
                              "of each face's own value (default: -1:1:0.5)."),
    along: str = typer.Option("pattern", help="pattern (how codes move with the attribute) | "
                              "normal (the boundary's normal, InterFaceGAN)."),
    random: int = typer.Option(3, help="Random directions (orthogonal to the attribute's) "
                               "taking the same steps: the baseline of a direction."),
    baseline: str = typer.Option("codes", help="How they are drawn: codes (as the faces' codes "
                                 "vary) | sphere (uniformly)."),
    by: str = typer.Option(None, help="Categorical attribute of --data to group faces by "
                           "(several, comma-separated: their intersections; default: the "
                           "class read unedited)."),
    heads: str = typer.Option(None, "--heads", help="onnx: the classes of its outputs (see "
                              "`audit compare`)."),
    option: list[str] = typer.Option(None, "--option", "-o", help="onnx: network option "
                                     "key=value (repeatable)."),
    show: int = typer.Option(8, help="Faces drawn in faces.png (those whose class changes "
                             "most)."),
    identity: str = typer.Option(None, help="Face embedder that checks whether each edit "
                                 "keeps the person (dlib, onnx:ARCFACE.onnx): similarity to "
                                 "the unedited decoding at every step, against the random "
                                 "directions' and between different faces."),
    identity_option: list[str] = typer.Option(None, "--identity-option", help="Its options "
                                              "key=value (repeatable)."),
    seed: int = typer.Option(0, help="Seed of the rows, random directions and bootstrap."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Counterfactual sensitivity of a classifier: change one attribute of faces (along its
    latent direction, or through the run's condition), decode them, and count how often the
    classifier's answer changes, against the same steps along random directions."""
    from latentplay.audit.counterfactual_run import audit_counterfactual, check_spec
    from latentplay.audit.counterfactual_text import profile_lines, summary_lines
    from latentplay.latent.cli import parse_rows, parse_values

    checks = split_names(check)
    networks = [classifier, *(check_spec(c)[1] for c in checks)]
    if (heads or option) and not any(s.startswith("onnx:") for s in networks):
        raise UserError("--heads and -o describe an onnx: network; none was given")
    if random < 0:
        raise UserError(f"--random must be 0 or more, got {random}")
    s = audit_counterfactual(run, data, classifier, out,
                             direction=split_names(direction) or None,
                             condition=split_names(condition) or None, attribute=attribute,
                             rows=None if rows is None else parse_rows(rows), n=n,
                             steps=None if steps is None else parse_values(steps), along=along,
                             random=random, baseline=baseline, checks=checks, by=by, heads=heads,
                             network_options=option or [], show=show, seed=seed,
                             identity=identity, identity_options=identity_option or [],
                             overwrite=overwrite)
    lines = profile_lines(s) if "profile" in s else summary_lines(s)
    for line in [*lines, f"wrote {out}"]:
        say(line)
