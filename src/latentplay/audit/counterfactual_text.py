"""What ``latentplay audit counterfactual`` prints: the lines of an edit's summary and of a
profile across edits."""

from __future__ import annotations

from typing import Any

from latentplay.audit.counterfactual import ALL


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The lines ``latentplay audit counterfactual`` prints of one edit's summary (from
    :func:`~latentplay.audit.counterfactual_run.audit_counterfactual`)."""
    out: list[str] = []
    e, c = s["edit"], s["classifier"]
    score = f" (its {e['score_name']} {e['score']:.3f})" if e["kind"] == "direction" else ""
    out.append(f"{c['attribute']} read on {len(s['rows'])} faces {e['text']}{score}; steps: "
               f"{e['unit']}")
    if e.get("caution"):  # the direction may be another run's
        out.append(f"  {e['caution']}")
    if e.get("weak"):
        out.append(f"  caution: the direction barely predicts {e['attribute']}, so moving "
                   "along it is no edit of that attribute; read the checks and faces.png")
    if s.get("persons"):
        out.append(f"  the faces show {s['persons']} persons, some several times: the "
                   "intervals are a bootstrap over persons")
    values = s["kind"] == "values"
    table = s["changes"] if values else s["flips"]
    if values and (s["reconstruction_difference"] or {}).get("mean") is not None:
        gap = s["reconstruction_difference"]
        out.append(f"  the decoding minus the face as the model sees it "
                   f"({s['image']['size']} px): {gap['mean']:+.3g} on average, "
                   f"{gap['mean_absolute']:.3g} absolute")
    elif not values:
        out.append(f"  the face as the model sees it ({s['image']['size']} px) and its "
                   f"decoding get the same class in {s['reconstruction_agreement']:.1%} of "
                   "faces")
    if s.get("accuracy"):
        a, d = s["accuracy"]["faces"], s["accuracy"]["decodings"]
        out.append(f"  right against the store's {c['attribute']} labels on "
                   f"{s['accuracy']['n']} faces: {a['accuracy']:.1%} [{a['low']:.1%}, "
                   f"{a['high']:.1%}] as the model sees them, {d['accuracy']:.1%} "
                   f"[{d['low']:.1%}, {d['high']:.1%}] decoded")
    shares = {(r["step"], r["class"]): r["share"] for r in s["check_shares"]
              if r["attribute"] == e["attribute"]}
    for r in (r for r in table if r["group"] == ALL):
        line = f"  step {r['step']}: " + (_change_text(r) if values else _flip_text(r))
        if e["positive"] is not None and (r["step"], e["positive"]) in shares:
            line += f"; check reads {e['positive']} in {shares[(r['step'], e['positive'])]:.0%}"
        out.append(line)
    ends = [s["steps"][0], s["reference"], s["steps"][-1]]
    if s["positions"] is None:  # classes: every one
        ends = s["steps"]
    for name, classes in _check_shares(s["check_shares"], ends).items():
        out.append(f"  check {name} at steps {' / '.join(ends)}: " + ", ".join(
            f"{k} {' / '.join(f'{v:.0%}' for v in vals)}" for k, vals in classes.items()))
    means = {(r["attribute"], r["step"]): r["mean"] for r in s.get("check_means") or []}
    for name in dict.fromkeys(r["attribute"] for r in s.get("check_means") or []):
        out.append(f"  check {name} (mean reading) at steps {' / '.join(ends)}: "
                   + " / ".join("-" if means.get((name, step)) is None
                                else f"{means[(name, step)]:.3g}" for step in ends))
    edges = [x for x in ends if x != s["reference"]]
    per_group = _group_values(table, edges, "change" if values else "rate")
    if per_group:
        out.append(f"  {'mean change' if values else 'class changed'} by {s['groups_by']} at steps "
                   f"{' / '.join(edges)}: " + ", ".join(
                  f"{g}{_faces(table, g)} {' / '.join(_number(v, values) for v in vs)}"
                  for g, vs in per_group.items()))
    if s.get("identity"):
        out.extend(identity_lines(s["identity"], edges))
    return out


def identity_lines(identity: dict[str, Any], steps: list[str]) -> list[str]:
    """The identity check at ``steps``: similarity to the unedited decoding, what is kept,
    and the loss beyond the random directions'."""
    rows = {r["step"]: r for r in identity["table"] if r["group"] == ALL}
    between = identity["between"]
    out = [f"  identity ({identity['embedder']}; cosine similarity to the unedited decoding"
           + ("" if between is None else f", {between:.3f} between different faces")
           + ("" if identity.get("reconstruction") is None
              else f", {identity['reconstruction']:.3f} between a face and its decoding")
           + "):"]
    for step in steps:
        r = rows[step]
        if r["similarity"] is None:
            out.append(f"    step {step}: no face found")
            continue
        line = (f"    step {step}: {r['similarity']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"
                + ("" if r["kept"] is None else f", kept {r['kept']:.0%}"))
        if r.get("random_similarity") is not None and r.get("loss") is not None:
            line += (f"; random directions {r['random_similarity']:.3f}, loss {r['loss']:+.3f} "
                     f"[{r['loss_low']:+.3f}, {r['loss_high']:+.3f}]")
        if r["not_found"]:
            line += f" ({r['not_found']} decodings without a face found)"
        out.append(line)
    return out


def profile_lines(p: dict[str, Any]) -> list[str]:
    """The lines printed of several edits' profile: per edit and end step, its changes."""
    values = p["kind"] == "values"
    out = [f"{p['classifier']['attribute']} read on {len(p['rows'])} faces under "
          f"{len(p['edits'])} edits (each in its own folder):"]
    for r in p["profile"]:
        out.append(f"  {r['label']}, step {r['step']}: "
                   + (_change_text(r) if values else _flip_text(r))
                   + ("" if r.get("identity_similarity") is None else
                      f"; identity similarity {r['identity_similarity']:.3f}"
                      + ("" if r.get("identity_loss") is None else
                         f" (loss {r['identity_loss']:+.3f})")))
    out += [f"  {c}" for c in dict.fromkeys(r.get("caution") for r in p["profile"]) if c]
    weak = sorted({r["label"] for r in p["profile"] if r.get("weak")})
    if weak:
        out.append(f"  caution: {', '.join(weak)} barely predict(s) the attribute; moving "
                   "along it is no edit of that attribute")
    return out


def _flip_text(r: dict) -> str:
    """A step's class changes, random baseline and shift along the order."""
    line = f"class changed in {r['rate']:.1%} [{r['low']:.1%}, {r['high']:.1%}]"
    if "random_rate" in r:
        line += (f", random directions {r['random_rate']:.1%}, excess {r['excess']:+.1%} "
                 f"[{r['excess_low']:+.1%}, {r['excess_high']:+.1%}]")
    if r.get("shift") is not None and r.get("shift_low") is not None and r["flips"]:
        line += f"; mean shift {r['shift']:+.2f} classes [{r['shift_low']:+.2f}, " \
                f"{r['shift_high']:+.2f}]"
    return line


def _change_text(r: dict) -> str:
    """A step's mean and absolute change of a reading, and the random baseline."""
    if r["change"] is None:
        return "no readings"
    line = (f"reading changed by {r['change']:+.3g} on average"
            + ("" if r["change_low"] is None else
               f" [{r['change_low']:+.3g}, {r['change_high']:+.3g}]")
            + f", {r['abs_change']:.3g} absolute ({r['n']} faces)")
    if "random_abs_change" in r and r["random_abs_change"] is not None:
        line += (f"; random directions {r['random_abs_change']:.3g}, excess {r['excess']:+.3g}"
                 + ("" if r["excess_low"] is None else
                    f" [{r['excess_low']:+.3g}, {r['excess_high']:+.3g}]"))
    return line


def _number(value: float | None, values: bool) -> str:
    if value is None:
        return "-"
    return f"{value:+.3g}" if values else f"{value:.0%}"


def _check_shares(rows: list[dict], steps: list[str]) -> dict[str, dict[str, list[float]]]:
    """Each check's share of each class it reads anywhere, at ``steps``."""
    share = {(r["attribute"], r["class"], r["step"]): r["share"] for r in rows}
    out: dict[str, dict[str, list[float]]] = {}
    for name, cls in dict.fromkeys((r["attribute"], r["class"]) for r in rows):
        values = [share[(name, cls, step)] for step in steps]
        if any(values):
            out.setdefault(name, {})[cls] = values
    return out


def _faces(rows: list[dict], group: str) -> str:
    """`` (N faces)``: how many faces ``group``'s rates or changes rest on, the most of any of
    its steps ("" for rows written without their counts)."""
    counts = [r["n"] for r in rows if r["group"] == group and r.get("n") is not None]
    return f" ({max(counts)} faces)" if counts else ""


def _group_values(rows: list[dict], steps: list[str], key: str) -> dict[str, list]:
    """Each group's ``key`` (flip rate, mean change) at ``steps``."""
    value = {(r["group"], r["step"]): r[key] for r in rows}
    groups = dict.fromkeys(r["group"] for r in rows if r["group"] != ALL)
    return {g: [value.get((g, step)) for step in steps] for g in groups}
