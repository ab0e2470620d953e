"""The reports of concept models (``latentplay metrics concepts glancenet|vae|cbm``: the scores
of ``metrics.json``, per class the test images, accuracy and acceptance read from
``downstream.npy`` and ``accepted.npy``, the concept activations of ``concepts.npy``,
``recon.png``, ``traverse.png`` and ``traverse.gif``; over several seeds, ``seeds.json`` and
``seeds.png``) and of concept-leakage tests
(``latentplay leakage run``: ``leakage.csv`` and ``leakage.png``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.report.files import read_csv, read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Code, Facts, Page, Section, Table, number, to_float
from latentplay.store.split import HELD_OUT
from latentplay.store.vector_files import load_array

KINDS = {"glancenet": "GlanceNet: concept-supervised VAE with the conditional prior and open-set "
                      "rejection",
         "vae": "concept-supervised VAE without the conditional prior (GlanceNets' leakage-test "
                "VAE), with open-set rejection: reconstruction error and concept-space distance "
                "to the training data's class means",
         "cbm": "joint concept bottleneck model (no decoder, accepts every input)"}
SCORES = (("accuracy", "task accuracy, all test images"),
          ("accepted", "share of test images accepted"),
          ("accuracy_accepted", "task accuracy, accepted test images"),
          ("alignment", "concept alignment (DCI disentanglement of the concept activations)"),
          ("explicitness", "explicitness (DCI informativeness on the test images)"))
LEAKAGE_COLUMNS = ("experiment", "model", "accuracy", "leak_accuracy", "chance", "leakage",
                   "accepted", "domain_accepted")
DECODER_KINDS = ("glancenet", "vae")
"""The kinds with a decoder: only their folders' recon.png and traverse pictures are shown."""
SPREAD_COLUMNS = ("leakage_sd", "splits", "leakage_acceptance_only", "concept_acc", "concept_r2",
                  "concepts", "flag")


def page(run: Path) -> Page:
    """The report page of concept-model directory ``run`` (``latentplay metrics concepts``)."""
    metrics = read_json(run / "metrics.json")
    if "kind" not in metrics or "accuracy" not in metrics:
        raise UserError(f"{run / 'metrics.json'} is not the output of `latentplay metrics concepts`")
    down = load_array(run / "downstream.npy")
    accepted = load_array(run / "accepted.npy") if (run / "accepted.npy").exists() else None
    if (down.ndim != 2 or down.shape[1] != 2
            or (accepted is not None and accepted.shape != (len(down),))):
        raise UserError(f"{run} holds a downstream.npy that is not (N, 2) predictions and labels, "
                        "or an accepted.npy that is not (N,) beside it")
    kind = str(metrics["kind"])
    data = metrics.get("data") or {}  # a store's (folders of shapes: none)
    facts = [("model", KINDS.get(kind, kind)), *_data_facts(data),
             ("rows whose concepts were used in training", f"{number(metrics.get('masking_fact'))} %"),
             ("test images", number(len(down)))]
    if (run / "latents.npy").exists():
        facts.append(("latent dimensions", number(load_array(run / "latents.npy").shape[-1])))
    concepts = load_array(run / "concepts.npy") if (run / "concepts.npy").exists() else None
    if concepts is not None:
        if concepts.ndim != 2:
            raise UserError(f"{run / 'concepts.npy'} is not (N, k) concept activations")
        facts.append(("concepts", number(concepts.shape[1])))
    if metrics.get("task_chance") is not None:
        facts.append(("task accuracy by chance", number(metrics["task_chance"])))
    if metrics.get("flag"):  # folders written before the flag was recorded have none
        facts.append(("caution", f"{metrics['flag']}: the scores below say little of a working "
                                 "model (flagged where the task accuracy is within 0.1 of chance "
                                 "or no concept is learned)"))
    blocks: list[Any] = [
        Facts(facts),
        Table.of(["score", "value"], [*([label, metrics.get(key)] for key, label in SCORES
                                        if key in metrics),
                                      *_concept_score_rows(metrics.get("concept_scores"))],
                 "On the held-out test images; — where a score is undefined (no test image "
                 "accepted). Alignment and explicitness are DCI's disentanglement and test "
                 "informativeness of the concept activations against the concepts' levels. A "
                 "categorical concept's accuracy: its largest one-hot activation names the value "
                 "(one of two values in one column: on above 0.5); "
                 "a continuous concept's R² and mean absolute error against its levels scaled to "
                 "[0, 1]. Not learned: accuracy less than 0.1 above chance, or R² below 0.1."),
        _class_table(down, accepted, data.get("classes"))]
    if concepts is not None:
        blocks.append(_concept_table(concepts, metrics.get("concepts")))
    if metrics.get("leakage"):
        blocks.append(_store_leakage_table(metrics["leakage"]))
    if metrics.get("intervention"):
        blocks += _intervention_blocks(metrics["intervention"], run)
    figures = (("recon.png", "Held-out test images (top) and their reconstructions from the "
                             "decoded means (bottom)."),
               ("traverse.png", "Each latent (row) of held-out image 0 moved by the multiple "
                                "of its held-out means' standard deviation above each column; "
                                "concept latents are named, c: the range of the concept "
                                "activation their row covers."),
               ("traverse.gif", "The same traversal animated: every latent's image at one step "
                                "per frame, from -2 to +2 SDs and back."))
    sections = [Section("Concept model", "concepts", blocks)]
    # a CBM has no decoder: pictures left in its folder by another kind's run are not its own
    shown = [file_figure(run / name, caption) for name, caption in figures
             if (run / name).exists() and kind in DECODER_KINDS]
    if shown:
        sections.append(Section("Decoder", "decoder", shown))
    configs = [Code(json.dumps(metrics[key], indent=2), caption)
               for key, caption in (("training", "training settings (metrics.json)"),
                                    ("model", "the model's settings (metrics.json)"))
               if metrics.get(key)]
    if configs:
        sections.append(Section("Config", "config", configs))
    return Page("concept model", f"Concept model {kind}", str(run), sections)


def leakage_page(run: Path) -> Page:
    """The report page of concept-leakage directory ``run`` (``latentplay leakage run``)."""
    rows = read_csv(run / "leakage.csv")
    if not rows or not set(LEAKAGE_COLUMNS) <= set(rows[0]):
        raise UserError(f"{run / 'leakage.csv'} is not the output of `latentplay leakage run`: it "
                        f"needs rows with the columns {', '.join(LEAKAGE_COLUMNS)}")
    numeric = [k for k in (*LEAKAGE_COLUMNS[2:], *SPREAD_COLUMNS[:5]) if k in rows[0]]
    for line, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise UserError(f"{run / 'leakage.csv'}, line {line}: {'more' if None in row else 'fewer'} "
                            "fields than the header; the table is damaged")
        bad = next((k for k in numeric if row[k] not in ("", None) and to_float(row[k]) is None), None)
        if bad is not None:
            raise UserError(f"{run / 'leakage.csv'}, line {line}: {bad} is {row[bad]!r}, not a "
                            "number; the table is damaged")
    table = Table.of(
        ["experiment", "model", "task accuracy", "probe accuracy", "chance", "leakage",
         "probe images accepted", "task images accepted"],
        [[r["experiment"], r["model"], *(to_float(r[k]) for k in LEAKAGE_COLUMNS[2:])]
         for r in rows],
        "Task accuracy: on held-out images of the training domain. Probe accuracy: a logistic "
        "regression from the concept activations alone to a target the concepts were not meant "
        "to carry (dsprites: which of two opposite corners a sprite lies in, the models trained "
        "on centred sprites; parity: even or odd, digits other than 4 and 5), trained on half "
        "the probe images and tested on the other half, the mean over the halvings. Chance: the "
        "same probe without concepts (the most frequent target), one for every row. Leakage = "
        "(probe accuracy - chance) / (1 - chance): 0 is leak-free, 1 the target read perfectly. "
        "glancenet+rejection: a refused image gets a coin flip over the target's values; "
        "glancenet+random-rejection: the same model refusing as many images at random.")
    blocks: list[Any] = [table]
    if set(SPREAD_COLUMNS) <= set(rows[0]):  # folders written before they were recorded: none
        blocks.append(Table.of(
            ["experiment", "model", "leakage SD", "halvings", "leakage from acceptance alone",
             "concept accuracy (categorical)", "concept R² (continuous)", "concepts, held out",
             "flag"],
            [[r["experiment"], r["model"], *(to_float(r[k]) for k in SPREAD_COLUMNS[:5]),
              r["concepts"], r["flag"]] for r in rows],
            "Leakage SD: its standard deviation over the probe's halvings (training seeds move "
            "it more). Leakage from acceptance alone: the same rejection with no concepts. "
            "Concept scores on held-out images of the training domain: accuracy of categorical "
            "concepts (the largest one-hot activation), R² of continuous ones (levels scaled to "
            "[0, 1]). Flag: task accuracy within 0.1 of chance, or no concept learned; such a "
            "model's leakage says little."))
    if (run / "leakage.png").exists():
        blocks.append(file_figure(run / "leakage.png", "Leakage per model and experiment: error bars "
                                  "± 1 SD over the probe's halvings; kept: the probe images a "
                                  "rejecting row accepted; diamond: the same rejection without "
                                  "concepts; hatched: a flagged model."))
    experiments = list(dict.fromkeys(r["experiment"] for r in rows))
    sections = [Section("Leakage", "leakage", blocks)]
    if (run / "leakage.json").exists():  # the settings (folders written before it: none)
        sections.append(Section("Config", "config", [Code(json.dumps(read_json(run / "leakage.json"),
                                                                     indent=2), "leakage.json")]))
    return Page("leakage run", f"Concept leakage: {', '.join(experiments)}", str(run), sections)


def seeds_page(run: Path) -> Page:
    """The report page of ``latentplay metrics concepts ... --seeds`` directory ``run``: each
    score over the seeds (``seeds.json``), ``seeds.png``, and each seed's flag."""
    record = read_json(run / "seeds.json")
    scores, seeds = record.get("scores"), record.get("seeds")
    if not isinstance(scores, dict) or not isinstance(seeds, list) or not seeds:
        raise UserError(f"{run / 'seeds.json'} is not the output of `latentplay metrics concepts "
                        "--seeds`: it needs its seeds and scores")
    kind = str(record.get("kind", ""))
    folders = record.get("runs") or [f"seed_{s}" for s in seeds]
    given = record.get("flags") or [None] * len(seeds)      # none recorded in early summaries
    flags = [[seed, f"{folder}/" + ("" if (run / folder).is_dir() else " (missing)"), flag or "—"]
             for seed, folder, flag in zip(seeds, folders, given, strict=False)]
    if kind in KINDS:
        what = ("model", KINDS[kind])
    elif kind == "leakage":
        what = ("test", "concept leakage (latentplay leakage run), experiments "
                + ", ".join(record.get("experiments", [])) + "; models "
                + ", ".join(record.get("models", [])))
    else:
        what = ("model", f"{kind} trained on {record.get('store')}; disentanglement metrics at "
                         "its last evaluation (latentplay metrics track)")
    facts = [what, ("seeds", ", ".join(map(str, seeds))), *_data_facts(record.get("data") or {})]
    table = Table.of(
        ["score", "mean", "SD", "lowest", "highest", *(f"seed {s}" for s in seeds)],
        [[name, s.get("mean"), s.get("sd"), s.get("min"), s.get("max"), *s.get("values", [])]
         for name, s in scores.items()],
        "Each score of the seeds' runs (a concept model's metrics.json, a leakage table's rows, "
        "the last evaluation of dis_metrics.csv) over the training seeds, on the same data: "
        "mean, sample standard deviation, lowest and highest, and each seed's value. A "
        "difference between two models or settings smaller than these spreads is not shown by "
        "one seed of each (latentplay metrics compare-seeds A B).")
    blocks: list[Any] = [Facts(facts), table]
    if (run / "seeds.png").exists():
        blocks.append(file_figure(run / "seeds.png", "The headline scores: a dot per seed, the "
                                  "mean (black) and ± one SD (grey); a diamond, where shown: "
                                  "chance."))
    blocks.append(Table.of(["seed", "folder", "flag"], flags,
                           "Each seed's run, in its own folder (a report of its own: "
                           "latentplay report FOLDER); a concept model is flagged where its "
                           "task accuracy is within 0.1 of chance or it learned no concept."))
    shared = {k: v for k, v in record.items() if k not in ("scores", "seeds", "runs", "data", "flags")}
    sections = [Section("Scores over seeds", "seeds", blocks),
                Section("Config", "config", [Code(json.dumps(shared, indent=2),
                                                  "the settings the seeds share (seeds.json)")])]
    title = (f"Concept model {kind}" if kind in KINDS else "Concept leakage" if kind == "leakage"
             else f"Disentanglement of {kind}")
    return Page("runs over seeds", f"{title} over {len(seeds)} seeds", str(run), sections)


def _intervention_blocks(result: dict[str, Any], run: Path) -> list[Any]:
    """``metrics.json``'s ``intervention``: task accuracy with m concepts set right, each
    concept set alone, and ``intervention.png``."""
    acc, sd = result.get("accuracy") or [], result.get("accuracy_sd") or []
    rows = [[m, a, s] for m, (a, s) in enumerate(zip(acc, sd, strict=False))]
    blocks: list[Any] = [Table.of(
        ["concepts set right", "task accuracy", "SD over orders"], rows,
        f"Test-time intervention (Koh et al. 2020) on the {number(result.get('images'))} test "
        "images with concept labels: the task accuracy of the model's own classifier when m "
        "concepts (in random orders, mean over "
        f"{result.get('orders')}) are set to their true values in the activations' own scale "
        "(a class: the 95th or 5th percentile of the training activations; a continuous "
        "concept: the training activation of its value's rank). Each concept alone: "
        + ", ".join(f"{name} {number(v)}" for name, v in (result.get("single") or {}).items())
        + f". A logistic regression refit on the training activations scores "
        f"{number(result.get('refit_head'))}: what the concepts allow with a head that reads "
        "them well.")]
    if (run / "intervention.png").exists():
        blocks.append(file_figure(run / "intervention.png", "Task accuracy against the concepts "
                                  "set right: mean over random orders ± SD; squares: one "
                                  "concept alone; dotted: a refit head; dashed: chance."))
    return blocks


def _concept_score_rows(scores: dict[str, dict[str, Any]] | None) -> list[list[Any]]:
    """Rows of the scores table for ``metrics.json``'s held-out concept scores (none in folders
    written before them)."""
    rows: list[list[Any]] = []
    for name, s in (scores or {}).items():
        learned = "" if s.get("learned") else ", not learned"
        if "accuracy" in s:
            chance = "—" if s.get("chance") is None else f"{s['chance']:.2f}"
            rows.append([f"concept {name}: accuracy (chance {chance}{learned})",
                         s.get("accuracy")])
        else:
            rows.append([f"concept {name}: R² (levels scaled to [0, 1]{learned})", s.get("r2")])
            rows.append([f"concept {name}: mean absolute error", s.get("mae")])
    return rows


def _data_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Facts of ``metrics.json``'s ``data`` (a store's attributes as concepts and task)."""
    if not data:
        return []
    facts = [("store", str(data.get("store"))), ("task", str(data.get("label"))),
             ("concept attributes", ", ".join(data.get("concept_attributes", []))),
             ("held out", HELD_OUT.get(data.get("split", "rows"), "random rows"))]
    if data.get("left_out"):
        facts.append(("rows left out", f"{number(data['left_out'])} without a value of the task"))
    if data.get("unlabelled"):
        facts.append(("rows without concept labels", f"{number(data['unlabelled'])}, trained on "
                      "without concept supervision, left out of the concept scores"))
    return facts


def _store_leakage_table(leakage: dict[str, dict[str, Any]]) -> Table:
    """``metrics.json``'s ``leakage``: per attribute, what the concept activations and the true
    concept values tell of it."""
    rows = [[name, s.get("images"), s.get("accuracy"), s.get("truth_accuracy"), s.get("chance"),
             s.get("leakage"), s.get("beyond")] if "skipped" not in s
            else [name, None, None, None, None, None, None] for name, s in leakage.items()]
    return Table.of(
        ["attribute", "test images", "from the activations", "from the true concepts", "chance",
         "leakage", "beyond the concepts"], rows,
        "Concept leakage: a logistic regression reads each attribute from the test images' "
        "concept activations, and from their true concept values, over 20 stratified halvings "
        "(of whole persons where the store repeats them; accuracy, mean). Chance: the most "
        "frequent class guessed. Leakage = (accuracy - chance) / (1 - chance); beyond the "
        "concepts = (accuracy - baseline) / (1 - baseline), the baseline being the accuracy from "
        "the true concepts or chance, whichever is higher: what the activations tell that the "
        "concepts they stand for do not.")


def _class_table(down: np.ndarray, accepted: np.ndarray | None,
                 classes: list[str] | None = None) -> Table:
    """Per true class of ``down`` ``(N, 2)`` (prediction, label): its test images, accuracy,
    its accepted share and accuracy on them (— without ``accepted`` ``(N,)``); then all classes.
    ``classes`` name the label codes (default: the codes)."""
    pred, label = down[:, 0], down[:, 1]
    rows = []
    named = classes is not None and len(classes) > int(label.max(initial=0))
    for name, rows_of in [*((classes[int(c)] if named else str(c), label == c)
                            for c in np.unique(label)),
                          ("all", np.ones(len(down), dtype=bool))]:
        right = pred[rows_of] == label[rows_of]
        kept = None if accepted is None else accepted[rows_of].astype(bool)
        rows.append([name, int(rows_of.sum()), float(right.mean()) if right.size else None,
                     float(kept.mean()) if kept is not None and kept.size else None,
                     float(right[kept].mean()) if kept is not None and kept.any() else None])
    return Table.of(["true class", "test images", "accuracy", "accepted", "accuracy, accepted"],
                    rows, "Read from downstream.npy (prediction, label) and accepted.npy.")


def _concept_table(concepts: np.ndarray, names: list[str] | None) -> Table:
    """Mean, sd, min and max of each column of ``concepts`` ``(N, k)`` (activations in [0, 1]),
    named by ``names`` (``metrics.json``'s ``concepts``; folders written before it was
    recorded: numbered)."""
    if not names or len(names) != concepts.shape[1]:
        names = [f"concept {j}" for j in range(concepts.shape[1])]
    return Table.of(
        ["concept", "mean", "sd", "min", "max"],
        [[name, *(float(f(concepts[:, j])) for f in (np.mean, np.std, np.min, np.max))]
         for j, name in enumerate(names)],
        "Concept activations on the test images (concepts.npy).")
