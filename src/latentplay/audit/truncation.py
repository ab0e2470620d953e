"""How the demographic mix of a generator's samples moves with truncation.

The truncation trick (Karras et al.) draws ``w_mean + psi (w - w_mean)``: with ``psi`` below 1,
typical, cleaner faces and less variety, which is why published samples use it. What it does
to who is drawn is a question of its own: samples pulled towards the average face lose the
groups the average face is not (Maluleke et al. 2022 found a StyleGAN2's FFHQ samples whiter
as ``psi`` fell). :func:`truncation_sweep` audits the same prior draws at each ``psi`` with
:func:`latentplay.audit.run.audit_images` (one complete audit per value, in ``psi_<value>/``)
and draws how each class's share moves, against the training data's.

For an imported StyleGAN with codes in whitened W, scaling the draws by ``psi`` is the
truncation trick exactly; for a VAE or a DCGAN it is the sampling temperature, its nearest
analogue (draws pulled to the prior's centre).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay import store as st
from latentplay import train
from latentplay.audit.annotate import CONFIDENCE_DROP, Annotator
from latentplay.audit.distribution import data_name
from latentplay.audit.run import audit_images, generate
from latentplay.audit.share_ratio import ratio_interval
from latentplay.errors import UserError
from latentplay.outputs import json_default, made_by, output_dir, staged_outputs
from latentplay.store.io import opened, store_digest
from latentplay.viz.distribution import shares_by_setting
from latentplay.viz.grid import image_grid, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]
SHOWN = 8
"""Draws shown at every psi in ``truncation_samples.png``."""
PER_VALUE = ("psi_*", "truncation_*.png")
"""The audit folder per ψ and the figure per attribute :func:`truncation_sweep` writes: an
earlier run's of values and attributes this one does not write are removed from ``out``
(``--overwrite``)."""


def truncation_sweep(run: PathLike, data: st.Store | PathLike, annotators: Sequence[Annotator],
                     psis: Sequence[float], out: PathLike, *, n: int = 1000, seed: int = 0,
                     condition: Mapping[str, Any] | None = None, device: str = "cpu",
                     overwrite: bool = False, joint: Sequence[str] = ()) -> dict[str, Any]:
    """Audit ``n`` prior draws of ``run`` at each truncation ``psi`` (the same draws, scaled).

    Args:
        run: a run directory (a generator or a VAE).
        data: the training store (labelled).
        annotators: class annotators (:func:`latentplay.audit.run.resolve_annotators`).
        psis: values in [0, 1] (1: no truncation), each audited once.
        out: directory for ``psi_<value>/`` (each a complete ``audit compare`` output),
            ``truncation.json``, ``truncation_<attribute>.png`` and ``truncation_samples.png``.
        device: where the samples are decoded (``cpu``, ``cuda`` or ``auto``).
        joint: two annotated attributes whose intersections are audited too (``"A,B"``).

    Returns:
        The summary (also ``truncation.json``): per attribute the classes, the training shares
        and, per psi, the generated shares with Wilson intervals, the corrected shares when
        the annotator's confusion allows, the total variation from the training shares and
        the annotator's mean confidence on the samples (beside its held-out confidence: a
        drop says the images have left what it was trained on).
    """
    values = [float(p) for p in psis]
    if not values or any(not 0 <= p <= 1 for p in values) or len(set(values)) != len(values):
        raise UserError(f"psi values must be distinct numbers in [0, 1], got {list(psis)}")
    folders = [f"psi_{p:g}" for p in values]
    if len(set(folders)) != len(folders):  # one audit would overwrite another's
        raise UserError(f"psi values must differ in their first 6 digits, got {list(psis)}")
    if n < 1:
        raise UserError(f"n must be at least 1, got {n}")
    data = opened(data)
    with staged_outputs(output_dir(out, overwrite),
                        owned=PER_VALUE) as out:   # moved in once all are written
        device = train.resolve_device(device)
        model = train.load_model(run, device)
        audits, strips = [], []
        sampled = str(Path(run).resolve())   # as audit compare records it: one run, from any folder
        for psi, folder in zip(values, folders, strict=True):
            images = generate(model, n, seed=seed, condition=condition, temperature=psi, device=device)
            audits.append(audit_images(images, data, annotators, out / folder, seed=seed,
                                       overwrite=True, source={"run": sampled, "n": n, "psi": psi,
                                                               "condition": dict(condition or {}) or None},
                                       joint=joint))
            strips.append(images[:SHOWN])
        summary: dict[str, Any] = {"run": str(run), "data": str(data.path),
                                   "data_digest": store_digest(data), "n": n, "seed": seed,
                                   "psi": values, "attributes": {}}
        for name in [k for k, v in audits[0]["attributes"].items() if "per_class" in v]:  # classes
            summary["attributes"][name] = entry = _across(name, values, audits)
            ordered = data.schema.has_attribute(name) and data.schema.attribute(name).has_order
            save_figure(share_figure(name, entry, n, data_name(data.path), ordered),
                        out / f"truncation_{name}.png")
        save_figure(image_grid(strips, [f"ψ {p:g}" for p in values],
                               title="the same draws at each truncation ψ"), out / "truncation_samples.png")
        (out / "truncation.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                        default=json_default),
                                             encoding="utf-8")
        return summary


def share_figure(name: str, entry: dict[str, Any], n: int, reference: str = "reference",
                 ordered: bool = False) -> Figure:
    """One attribute's generated shares against psi (an entry of the summary), the psi values
    in decreasing order whatever order they were given in: lines join neighbouring values,
    each class in the colour it has in every figure (the ramp of ``ordered`` classes, skin
    colours for a skin scale);
    the ``reference`` store's shares (named by its folder) dotted; the title says at which
    psi the annotator was much less (or more) sure than on labelled images
    (:func:`confidence_caution`); a ring marks each psi at which a class is drawn more or less
    often than the data has it (:func:`off_reference`)."""
    order = np.argsort(entry["psi"], kind="stable")[::-1]
    caution = confidence_caution(entry)
    off = off_reference(entry)
    return shares_by_setting(np.asarray(entry["psi"], float)[order], entry["classes"],
                             np.array(entry["generated"])[order],
                             np.array(entry["generated_ci"])[order], np.array(entry["training"]),
                             title=f"{name}: annotated shares of {n} samples at each ψ "
                                   "(bands: 95 % Wilson)" + (f"\n{caution}" if caution else ""),
                             reference_label=reference, ordered=ordered, attribute=name,
                             marked=None if off is None else off[order],
                             marked_label=f"ringed: drawn more or less often than {reference} "
                                          f"({ratio_basis(entry)})")


def confidence_caution(entry: dict[str, Any]) -> str:
    """The psi values of a summary ``entry`` at which the annotator's mean confidence on the
    samples is ``CONFIDENCE_DROP`` or more below (or above) its confidence on held-out
    labelled images, in words; "" when none is, or either confidence is unknown."""
    held = entry.get("confidence_held_out")
    if held is None:
        return ""
    pairs = [(p, c) for p, c in zip(entry["psi"], entry["confidence"], strict=True) if c is not None]
    less = [f"ψ {p:g} ({c:.2f})" for p, c in pairs if held - c >= CONFIDENCE_DROP]
    more = [f"ψ {p:g} ({c:.2f})" for p, c in pairs if c - held >= CONFIDENCE_DROP]
    lines = []
    if less:
        lines.append(f"annotator less sure at {', '.join(less)} than on labelled images ({held:.2f}):"
                     " shares there are uncertain")
    if more:
        lines.append(f"annotator surer at {', '.join(more)} than on labelled images ({held:.2f}):\n"
                     "images unlike those (blank, noise) can do that; look at them")
    return "\n".join(lines)


def _across(name: str, psis: list[float], audits: list[dict[str, Any]]) -> dict[str, Any]:
    """One attribute's shares at every psi, from each psi's audit summary."""
    rows = [a["attributes"][name]["per_class"] for a in audits]
    first = audits[0]["attributes"][name]
    corrected = all("corrected" in r[0] for r in rows)
    return {
        "classes": first["classes"],
        "training": [r["training"] for r in rows[0]],
        "generated": [[r["generated"] for r in per] for per in rows],
        "generated_ci": [[[r["generated_low"], r["generated_high"]] for r in per] for per in rows],
        "corrected": [[r["corrected"] for r in per] for per in rows] if corrected else None,
        "tv": [a["attributes"][name]["tv"] for a in audits],
        # what a generator that follows the data scores with as many samples (None: no such
        # simulation for this audit)
        "faithful_tv": [(a["attributes"][name].get("faithful") or {}).get("tv") for a in audits],
        "confidence": [a["attributes"][name]["annotator"].get("confidence_generated")
                       for a in audits],   # None for intersections: two annotators read them
        "confidence_held_out": (first["annotator"]["evaluation"] or {}).get("confidence"),
        "corrected_tv": [a["attributes"][name]["corrected_tv"] for a in audits],
        "ratios": _ratios(name, audits),
        "pinned": [a["attributes"][name].get("corrected_pinned", []) for a in audits],
        "psi": psis,
    }


def _ratios(name: str, audits: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One attribute's ratios of shares at every psi (None where an audit has none): per psi
    ``of`` (corrected or annotated shares), ``pointwise`` confidence, the classes drawn
    ``more`` and ``less`` often, and per psi and class the ``ratio`` and its ``interval``
    (held with the other classes' at that psi; None for a class the data lacks or an
    unbounded end)."""
    found = [a["attributes"][name].get("ratios") for a in audits]
    if not all(found):
        return None
    rows = [a["attributes"][name]["per_class"] for a in audits]
    return {"confidence": found[0]["confidence"], "classes": found[0]["classes"],
            "of": [r["of"] for r in found], "pointwise": [r["pointwise"] for r in found],
            "more": [r["more"] for r in found], "less": [r["less"] for r in found],
            "ratio": [[row["ratio"] for row in per] for per in rows],
            "interval": [[[row["ratio_low"], row["ratio_high"]] for row in per] for per in rows]}


def ratio_words(entry: dict[str, Any], k: int) -> str:
    """The classes drawn more and less often than the data has them at the ``k``-th psi of a
    summary ``entry``: ``more often: monk_2 x1.34 (1.12-1.58); less often: monk_8 x0.20
    (0.15-0.26)``, then the classes whose corrected share is unknown there (``unknown:
    monk_9``: 0 in at least 97.5 % of resamples, the readings unlike the annotator's
    confusion); ``""`` where none is (or the entry has no ratios)."""
    r = entry.get("ratios")
    if not r:
        return ""
    rows = {c: {"ratio": ratio, "ratio_low": low, "ratio_high": high}
            for c, ratio, (low, high) in zip(entry["classes"], r["ratio"][k], r["interval"][k],
                                              strict=True)}
    parts = [f"{key} often: " + ", ".join(f"{c} {ratio_interval(rows[c])}" for c in r[key][k])
             for key in ("more", "less") if r[key][k]]
    pinned = entry["pinned"][k] if entry.get("pinned") else []   # summaries before it: none
    return "; ".join(parts + ([f"unknown: {', '.join(pinned)}"] if pinned else []))


def ratio_basis(entry: dict[str, Any]) -> str:
    """What :func:`ratio_words` rests on, once for all psi: ``ratios of corrected shares, 95 %
    intervals for all 2 classes together at each ψ``; ``""`` without ratios."""
    r = entry.get("ratios")
    if not r:
        return ""
    of = "corrected shares" if all(o == "corrected" for o in r["of"]) else (
        "annotated shares" if all(o == "annotated" for o in r["of"]) else
        "corrected shares where the annotator's confusion allowed, annotated ones elsewhere")
    return (f"ratios of {of}, {r['confidence']:.0%} intervals "
            f"for all {r['classes']} classes together at each ψ").replace("%", " %")


def pinned_classes(entry: dict[str, Any]) -> list[str]:
    """The classes whose corrected share is unknown (:func:`ratio_words`) at any psi of a
    summary ``entry``, in the entry's class order."""
    pinned = {c for per in entry.get("pinned") or [] for c in per}
    return [c for c in entry["classes"] if c in pinned]


def off_reference(entry: dict[str, Any]) -> np.ndarray | None:
    """``(S, K)`` bool: at each psi (in the entry's order), the classes drawn more or less
    often than the data has them; None without ratios."""
    r = entry.get("ratios")
    if not r:
        return None
    return np.array([[c in more or c in less for c in entry["classes"]]
                     for more, less in zip(r["more"], r["less"], strict=True)], bool).reshape(
        len(entry["psi"]), len(entry["classes"]))
