"""Several generators audited against one training set, side by side.

``latentplay audit versus A B ...`` reads the ``summary.json`` of ``audit compare`` runs and,
per attribute they share, puts their numbers in one table (TV beside what a faithful generator
would score there, corrected TV, chi-square p against the training set, amplification of
imbalance, the classes each draws more and less often than the training set) and tests
whether the generators differ from each other: Pearson's test of
homogeneity of their annotated counts (``G x K``; with sparse cells also its p-value simulated
with the margins fixed). When one annotator read every audit, its
errors are the same on both sides of that test, so no correction is needed for it to hold its
level (the same assumption as the correction's: it errs on each generator's images as on the
held-out ones); when the annotators differ, no test is made.

>>> found = compare_audits(["audits/vae", "audits/dcgan"], "audits/versus")
>>> found["attributes"]["skin_tone"]["test"]["p_value"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.audit.distribution import REFERENCE, data_name
from latentplay.audit.share_ratio import ratio_text
from latentplay.contingency import chi_square, read_p, simulated_note
from latentplay.errors import UserError
from latentplay.outputs import json_default, made_by, output_dir, read_json, staged_outputs, write_csv

PathLike = str | os.PathLike[str]


def _summary(path: Path) -> dict[str, Any]:
    """The ``summary.json`` of an ``audit compare`` directory."""
    file = path / "summary.json"
    if (path / "truncation.json").is_file() and not file.is_file():
        raise UserError(f"{path} is an audit compare --psi sweep: give its psi_<value> "
                        "directories (each a complete audit)")
    if not file.is_file():
        raise UserError(f"{path} holds no summary.json: give directories that latentplay "
                        "audit compare wrote")
    summary = read_json(file)
    if "attributes" not in summary:
        raise UserError(f"{file} is not an audit compare summary")
    return summary


def _reader(entry: dict[str, Any]) -> Any:
    """What identifies the annotator of an attribute's entry: its description without what
    depends on the images it read, and without fields that hold nothing (null) at any depth:
    an audit written before the description had a field (its evaluation's ``persons`` and
    ``effective``) names the same annotator as one written since with that field empty."""
    return _recorded({k: v for k, v in (entry.get("annotator") or {}).items()
                      if k != "confidence_generated"})


def _recorded(value: Any) -> Any:
    """``value`` with the null values of its dicts left out, at every depth."""
    if isinstance(value, dict):
        return {k: _recorded(v) for k, v in value.items() if v is not None}
    return value


def reference_name(stores: Sequence[str]) -> str:
    """What the ``--data`` store the audits compared with is called in lines and figures: its
    folder's name (:func:`~latentplay.audit.distribution.data_name`) where every audit compared
    with the same one, else :data:`~latentplay.audit.distribution.REFERENCE`."""
    return data_name(stores[0]) if len(stores) == 1 else REFERENCE


def _row(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """One audit's line of the table for one attribute (the classes it draws more and less
    often than the ``--data`` store, ``;``-separated, None where the audit has no ratios)."""
    faithful = entry.get("faithful") or {}
    imbalance = entry.get("imbalance") or {}
    corrected_imbalance = entry.get("corrected_imbalance") or {}
    ratios = entry.get("ratios")
    return {"audit": name, "n_generated": entry.get("n_generated"), "tv": entry.get("tv"),
            "faithful_tv": faithful.get("tv"), "corrected_tv": entry.get("corrected_tv"),
            "faithful_corrected_tv": faithful.get("corrected_tv"),
            "chi2_p": read_p(entry["chi2"]) if entry.get("chi2") else None,
            "chi2_p_simulated": "p_value_simulated" in (entry.get("chi2") or {}),
            "amplification": imbalance.get("amplification"),
            "corrected_amplification": corrected_imbalance.get("amplification"),
            "more_often": "; ".join(ratios["more"]) if ratios else None,
            "less_often": "; ".join(ratios["less"]) if ratios else None}


def _stores(summaries: list[dict[str, Any]]) -> list[str]:
    """The path of each training store the audits compared their images with, one per store:
    stores told apart by their digest where every audit records one (a store moved or copied
    between two audits is one store; one saved again at its path with other rows is two, its
    path listed twice), else by path."""
    if not all(s.get("data_digest") for s in summaries):   # audits written before the digest
        return sorted({str(s.get("data")) for s in summaries})
    first: dict[str, str] = {}
    for s in summaries:
        first.setdefault(s["data_digest"], str(s.get("data")))
    return sorted(first.values())


def _same_draws(labels: list[str], summaries: list[dict[str, Any]]) -> list[str]:
    """The audits (by label) of one run sampled with the same seed and number of draws as
    another's (a ``--psi`` sweep's ``psi_<value>`` audits, or one audit repeated): their
    images decode the same codes."""
    def draws(summary: dict[str, Any]) -> tuple[Any, ...] | None:
        source = summary.get("source") or {}
        return None if "run" not in source else (
            source["run"], source.get("n"), summary.get("seed"),
            json.dumps(source.get("condition"), sort_keys=True))

    keys = [draws(s) for s in summaries]
    return [label for label, key in zip(labels, keys, strict=True)
            if key is not None and keys.count(key) > 1]


def _measured_before(summary: dict[str, Any]) -> bool:
    """Whether audit compare ``summary`` was written before the distances from balance were
    measured as today (corrected for sampling bias, read plainly where the annotator confuses
    classes): an attribute's ``imbalance`` records no ``unsteady_classes``."""
    return any("unsteady_classes" not in entry["imbalance"]
               for entry in summary["attributes"].values() if entry.get("imbalance"))


def _refuse_mixed_measures(paths: Sequence[Path], summaries: list[dict[str, Any]]) -> None:
    """A :class:`UserError` naming the audits written before the distances from balance were
    measured as today (:func:`_measured_before`) when others were written since: their
    distances, amplification and tests are no measures of the same kind."""
    older = [str(path) for path, summary in zip(paths, summaries, strict=True)
             if _measured_before(summary)]
    if older and len(older) < len(paths):
        raise UserError(f"{', '.join(older)}: written by an older audit compare, which measured "
                        "the distance from balance and its amplification otherwise than the "
                        "other audits; run latentplay audit compare again to compare them")


def _homogeneity(counts: np.ndarray, seed: int = 0) -> dict[str, float] | None:
    """Pearson's test of homogeneity of ``(G, K)`` counts (classes no audit has left out),
    :func:`latentplay.contingency.chi_square` (with sparse cells also its simulated p-value);
    None with fewer than two classes left or an empty row."""
    counts = counts[:, counts.sum(axis=0) > 0]
    if counts.shape[1] < 2 or (counts.sum(axis=1) == 0).any():
        return None
    return chi_square(counts, seed)


def _pairs(labels: list[str], counts: np.ndarray) -> list[dict[str, Any]]:
    """Every two of the ``(G, K)`` audits' counts tested against each other
    (:func:`_homogeneity`), with Holm's adjustment over the pairs of the p-values they are
    read by (:func:`latentplay.contingency.read_p`)."""
    pairs = []
    for i, j in combinations(range(len(labels)), 2):
        test = _homogeneity(counts[[i, j]])
        if test is not None:
            pairs.append({"audits": [labels[i], labels[j]], **test})
    order = np.argsort([read_p(p) for p in pairs])
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (len(pairs) - rank) * read_p(pairs[k])))
        pairs[k]["p_holm"] = running
    return pairs


def compare_audits(audits: Sequence[PathLike], out: PathLike, *,
                   names: Sequence[str] | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Compare ``audit compare`` directories ``audits`` (two or more) and write
    ``versus.json``, and per attribute they all have with the same classes
    ``versus_<attr>.csv`` (the table) and ``versus_<attr>.png`` (the shares of each).

    Args:
        names: what to call each audit (default: its directory's name).

    Returns:
        The summary (also ``versus.json``): ``audits``, ``data`` (the training stores),
        ``note`` where they differ or where audits decode the same draws of one run, and
        per attribute ``classes``, ``training`` shares, ``rows``, each
        audit's ``generated`` and ``corrected`` shares (``[share, low, high]`` per class, as
        the audit measured them), ``ratios`` (each audit's ratios of its shares to the
        ``--data`` store's: its summary's ``ratios`` and ``values``, ``[ratio, low, high]``
        per class), ``test`` (None where the annotators differ or nothing
        can be tested, ``test_note`` saying why; an audit of images that repeat persons enters
        it, and ``pairs``, at its counts over its design effect, rounded, which
        ``test.design_effects`` names) and, for three audits or more, ``pairs``:
        every two tested against each other, with Holm's adjusted ``p_holm``.
    """
    paths = [Path(p) for p in audits]
    if len(paths) < 2:
        raise UserError("audit versus compares two audits or more")
    if len({p.resolve() for p in paths}) < len(paths):
        raise UserError(f"an audit is given twice: {', '.join(map(str, paths))}")
    labels = list(names) if names else [p.name for p in paths]
    if len(labels) != len(paths):
        raise UserError(f"--names gives {len(labels)} name(s) for {len(paths)} audits")
    if len(set(labels)) != len(labels):
        raise UserError(f"give each audit its own name: {labels}"
                        + ("" if names else " (directories of one name: name them with --names)"))
    summaries = [_summary(p) for p in paths]
    _refuse_mixed_measures(paths, summaries)
    stores = _stores(summaries)
    found: dict[str, Any] = {"audits": dict(zip(labels, map(str, paths), strict=True)),
                             "data": stores, "attributes": {}, "skipped": {}}
    notes = []
    if len(stores) > 1:
        notes.append("the audits compared their images with different --data stores"
                     + (" (one path, saved again between them)" if len(set(stores)) == 1 else ""))
    paired = _same_draws(labels, summaries)
    if paired:
        notes.append(f"{', '.join(paired)} audit one run's draws of the same codes (one seed and "
                     "n), not independent samples as the tests between them assume")
    if notes:
        found["note"] = "; ".join(notes)
    common = [a for a in summaries[0]["attributes"]
              if all(a in s["attributes"] for s in summaries[1:])]
    for attribute in common:
        entries = [s["attributes"][attribute] for s in summaries]
        if any(e.get("kind") == "continuous" for e in entries):
            found["skipped"][attribute] = "continuous values (compare their SMD and KS)"
            continue
        classes = entries[0]["classes"]
        if any(e["classes"] != classes for e in entries[1:]):
            found["skipped"][attribute] = "the audits count different classes"
            continue
        found["attributes"][attribute] = _attribute(labels, entries, classes)
    if not found["attributes"]:
        raise UserError("the audits share no attribute counted over the same classes")
    with staged_outputs(output_dir(out, overwrite)) as out:   # moved in once all are written
        # the figure draws one reference bar, the first audit's --data store's shares: say so
        # where the others were compared with other stores
        reference = data_name(str(summaries[0].get("data")))
        if len(stores) > 1:
            reference += f" (the first audit's --data; the audits used {len(stores)} different stores)"
        for attribute, table in found["attributes"].items():
            write_csv(out / f"versus_{attribute}.csv", table["rows"], floats=".6g")
            _figure(out / f"versus_{attribute}.png", attribute, table, reference)
        (out / "versus.json").write_text(json.dumps({**found, "made_by": made_by()}, indent=2,
                                                    default=json_default), encoding="utf-8")
        return found


def _attribute(labels: list[str], entries: list[dict[str, Any]], classes: list[str]
               ) -> dict[str, Any]:
    """The table, shares and test of one attribute across the audits' ``entries``."""
    per_class = [{row["class"]: row for row in e["per_class"]} for e in entries]
    counts = np.array([[rows[c]["generated_count"] for c in classes] for rows in per_class])
    effects = {label: effect for label, e in zip(labels, entries, strict=True)
               if (effect := (e.get("chi2") or {}).get("generated_design_effect")) is not None}
    # audits of images that repeat persons: their counts at the size they are worth (whole
    # images, as the test of the table deals them)
    counts = np.array([np.round(row / effects.get(label, 1.0)).astype(np.int64)
                       for label, row in zip(labels, counts, strict=True)])
    same_reader = all(_reader(e) == _reader(entries[0]) for e in entries[1:])
    test = _homogeneity(counts) if same_reader else None
    if test is not None and effects:
        test["design_effects"] = effects
    pairs = _pairs(labels, counts) if same_reader and len(labels) > 2 else []
    note = (None if test is not None else
            "different annotators read the audits" if not same_reader else
            "fewer than two classes were generated")

    def shares(rows: dict[str, dict[str, Any]], key: str) -> list[list[float]]:
        """Per class: the share under ``key`` and its interval."""
        return [[rows[c][key], rows[c][f"{key}_low"], rows[c][f"{key}_high"]] for c in classes]

    return {"classes": classes, "training": shares(per_class[0], "training"),
            "rows": [_row(label, e) for label, e in zip(labels, entries, strict=True)],
            "generated": {label: shares(rows, "generated")
                          for label, rows in zip(labels, per_class, strict=True)},
            "corrected": {label: shares(rows, "corrected")
                          for label, rows in zip(labels, per_class, strict=True)
                          if all("corrected" in rows[c] for c in classes)},
            "ratios": {label: {**e["ratios"], "values": shares(rows, "ratio")}
                       for label, e, rows in zip(labels, entries, per_class, strict=True)
                       if e.get("ratios")},
            "test": test, "test_note": note, "pairs": pairs}


def counted_text(test: dict[str, Any] | None) -> str:
    """``"; the images of a over their persons (design effect 10.26)"`` where the test of the
    audits against each other counted the persons of audits whose images repeat them; ""
    otherwise."""
    effects = (test or {}).get("design_effects")
    if not effects:
        return ""
    return "; the images of " + ", ".join(f"{label} over their persons (design effect {effect:.2f})"
                                         for label, effect in effects.items())


def ratio_line(table: dict[str, Any], label: str, reference: str) -> str | None:
    """The classes audit ``label`` draws more and less often than ``reference`` has them, in
    the words of :func:`~latentplay.audit.share_ratio.ratio_text`, from an attribute's table of
    :func:`compare_audits`; None where that audit has no ratios (written before they were)."""
    r = (table.get("ratios") or {}).get(label)
    if r is None:
        return None
    rows = [{"class": c, "ratio": v[0], "ratio_low": v[1], "ratio_high": v[2]}
            for c, v in zip(table["classes"], r["values"], strict=True)]
    return ratio_text({"ratios": r, "per_class": rows}, reference, label)


def _figure(path: Path, attribute: str, found: dict[str, Any], reference: str) -> None:
    """The ``--data`` store's shares (the first audit's, labelled ``reference``: its name) beside each
    audit's generated shares (corrected where every audit could be), with the intervals the
    audits measured."""
    from latentplay.outputs import p_text
    from latentplay.viz.distribution import distribution_bars
    from latentplay.viz.grid import save_figure

    every = len(found["corrected"]) == len(found["generated"])   # each audit was corrected
    shares, kind = (found["corrected"], "corrected") if every else (found["generated"],
                                                                      "annotated")
    series = {name: (np.array(values, float)[:, 0], np.array(values, float)[:, 1:])
              for name, values in [(reference, found["training"]),
                                   *((f"{label}, {kind}", v) for label, v in shares.items())]}
    test = found["test"]
    title = (f"{attribute}: the generators against each other, chi-square p "
             f"{p_text(read_p(test))}{simulated_note(test)}" if test
             else f"{attribute}: {found['test_note']}")
    save_figure(distribution_bars(found["classes"], series, title=title), path)
