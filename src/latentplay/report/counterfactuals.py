"""The report sections of ``latentplay audit counterfactual``: one edit's
(``counterfactual.json``: the edit, classifier, checks, the class changes or reading changes
per step and group, the figures) and a profile across edits (``profile.json``, then each
edit's own section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.report.files import read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Facts, Section, Table, interval, number


def title(c: dict[str, Any]) -> str:
    """The page title of one edit's summary."""
    return (f"{c.get('classifier', {}).get('attribute')} under edits of "
            f"{c.get('edit', {}).get('label')}")


def profile_title(p: dict[str, Any]) -> str:
    """The page title of a profile."""
    return (f"{p.get('classifier', {}).get('attribute')} under "
            f"{len(p.get('edits') or [])} edits")


def profile_sections(run: Path, p: dict[str, Any]) -> list[Section]:
    """The profile's section, then each edit's (from its folder)."""
    out = [_profile(run, p)]
    for name in p.get("edits") or []:
        if (run / name / "counterfactual.json").exists():
            out.append(section(run / name, read_json(run / name / "counterfactual.json")))
    return out


def section(run: Path, c: dict[str, Any]) -> Section:
    """The section of ``counterfactual.json`` (``latentplay audit counterfactual``)."""
    if ("flips" not in c and "changes" not in c) or "edit" not in c:
        raise UserError(f"{run / 'counterfactual.json'} is not the output of `latentplay audit "
                        "counterfactual`")
    e, k = c["edit"], c["classifier"]
    facts = [("run, faces", f"{c.get('run')}; {number(len(c['rows']))} rows of {c.get('data')}")]
    if e["kind"] == "direction":
        facts += [("direction", f"{e['label']} ({e['score_name']} {number(e['score'])}), moved "
                                f"along its {e['along']}; a step is {number(e['sd'])} latent "
                                "units" + ("; it barely predicts its attribute, so moving "
                                           "along it is no edit of that attribute"
                                           if e.get("weak") else "")),
                  ("random directions", f"{e['random_directions']}, orthogonal to the "
                                        "attribute's, "
                                        + ("drawn uniformly on the sphere"
                                           if e.get("baseline") == "sphere"
                                           else "drawn as the codes vary")
                                        + ", taking the same steps in SDs of the codes along "
                                        "them")]
    else:
        facts.append(("edit", f"faces {e['text']}; steps: {e['unit']}"))
    if e.get("caution"):  # the direction may be another run's
        facts.append(("caution", e["caution"]))
    facts += [("classifier", f"{k['attribute']} ({k.get('kind')})"
                             + (f": {', '.join(k['classes'])}" if k.get("classes") else "")),
              ("checks", ", ".join(f"{x['attribute']} ({x.get('kind')})" for x in c["checks"])
               or "none")]
    if c.get("persons"):
        facts.append(("persons", f"{number(c['persons'])}, some with several faces: the "
                                 "intervals are a bootstrap over persons"))
    if c.get("kind") == "values":
        gap = c.get("reconstruction_difference") or {}
        facts.append(("decoding minus face", f"{number(gap.get('mean'))} on average, "
                                             f"{number(gap.get('mean_absolute'))} absolute"))
        return Section(f"Counterfactual: {k['attribute']} under {e['label']}", "counterfactual",
                       [Facts(facts), *_change_tables(c), *_check_shares_tables(c),
                        *_check_means_table(c),
                        *_identity_table(c), *_counterfactual_figures(run)])
    facts.append(("face and decoding agree", number(c.get("reconstruction_agreement"))))
    accuracy = c.get("accuracy")
    if accuracy:
        facts.append(("right against the labels",
                      f"{number(accuracy['faces']['accuracy'])} "
                      f"{interval(accuracy['faces']['low'], accuracy['faces']['high'])} on the "
                      f"faces, {number(accuracy['decodings']['accuracy'])} "
                      f"{interval(accuracy['decodings']['low'], accuracy['decodings']['high'])} "
                      f"on their decodings ({number(accuracy['n'])} faces)"))
    everyone = [r for r in c["flips"] if r["group"] == "all faces"]
    random = "random_rate" in everyone[0]
    ordered = "shift" in everyone[0]
    table = Table.of(["step", "faces", "class changed", "95% interval",
                      *(["random directions", "excess", "95% interval"] if random else []),
                      *(["mean shift (classes)", "95% interval"] if ordered else []),
                      "P(class unedited)"],
                     [[r["step"], r["n"], r["rate"], interval(r["low"], r["high"]),
                       *([r["random_rate"], r["excess"],
                          interval(r["excess_low"], r["excess_high"])] if random else []),
                       *([r["shift"], interval(r["shift_low"], r["shift_high"])]
                         if ordered else []),
                       r["p_reference"]] for r in everyone],
                     f"Share of faces whose class differs from the one read at step "
                     f"{c.get('reference')} ("
                     + ("bootstrap over persons" if c.get("persons") else "Wilson intervals")
                     + ")"
                     + (f"; excess: over the random directions' share (bootstrap over "
                        f"{_over_random(c)})." if random else "."))
    ends = {everyone[0]["step"], everyone[-1]["step"]} - {c.get("reference")}
    groups = Table.of(["group", "faces", "step", "class changed", "95% interval"],
                      [[r["group"], r["n"], r["step"], r["rate"], interval(r["low"], r["high"])]
                       for r in c["flips"] if r["group"] != "all faces" and r["step"] in ends],
                      f"At the first and last step, by {c['groups_by']}.")
    return Section(f"Counterfactual: {k['attribute']} under {e['label']}", "counterfactual",
                   [Facts(facts), table, groups, *_check_shares_tables(c),
                    *_check_means_table(c),
                    *_identity_table(c), *_counterfactual_figures(run)])


def _over_random(c: dict[str, Any]) -> str:
    """What an interval of an excess over the random directions resamples: the faces (persons
    when some repeat) and, in each draw, the random directions too."""
    return f"{'persons' if c.get('persons') else 'faces'} and random directions"


def _intervals(c: dict[str, Any]) -> str:
    """The kind of the summary's intervals of means: Student's t, or a bootstrap over persons
    when some repeat."""
    return "bootstrap over persons" if c.get("persons") else "t 95% intervals"


def _check_shares_tables(c: dict[str, Any]) -> list[Table]:
    """Per check that reads classes (``check_shares``), a table of the share of the faces it
    reads as each class at every step; classes it reads at no step are left out, but for the
    classes the edit moves towards or away from (none without such a check)."""
    shares = c.get("check_shares") or []
    share = {(r["attribute"], r["step"], r["class"]): r["share"] for r in shares}
    steps = list(dict.fromkeys(r["step"] for r in shares))
    edit = c["edit"]
    roles = {c["classifier"]["attribute"]: "another reader of the classifier's attribute",
             edit.get("attribute"): "the edited attribute: does the edit change it?"}
    tables = []
    for name in dict.fromkeys(r["attribute"] for r in shares):
        classes = [k for k in dict.fromkeys(r["class"] for r in shares if r["attribute"] == name)
                   if any(share.get((name, step, k)) for step in steps)
                   or (name == edit.get("attribute")
                       and k in (edit.get("positive"), edit.get("negative")))]
        role = f" ({roles[name]})" if name in roles else ""
        tables.append(Table.of(
            ["step", "faces", *classes],
            [[step, len(c["rows"]), *(share.get((name, step, k)) for k in classes)]
             for step in steps],
            f"Check {name}{role}: the share of the faces it reads as each class at every step"
            " (classes it reads at no step left out, but for those of the edit)."))
    return tables


def _check_means_table(c: dict[str, Any]) -> list[Table]:
    """The checks of values: mean reading per step (none without one)."""
    means = c.get("check_means") or []
    if not means:
        return []
    return [Table.of(["check", "step", "faces read", "mean reading", "95% interval"],
                     [[r["attribute"], r["step"], r["n"], r["mean"],
                       interval(r["mean_low"], r["mean_high"])] for r in means],
                     "Checks that read values (a network's value head): the mean reading at "
                     f"every step, {_intervals(c)}.")]


def _identity_table(c: dict[str, Any]) -> list[Table]:
    """The identity check per step over all faces (none without one)."""
    identity = c.get("identity")
    if not identity:
        return []
    everyone = [r for r in identity["table"] if r["group"] == "all faces"]
    random = "loss" in everyone[0]
    return [Table.of(["step", "faces", "similarity", "95% interval", "kept",
                      *(["random directions", "loss", "95% interval"] if random else []),
                      "no face found"],
                     [[r["step"], r["n"], r["similarity"], interval(r["low"], r["high"]),
                       r["kept"],
                       *([r["random_similarity"], r["loss"],
                          interval(r["loss_low"], r["loss_high"])] if random else []),
                       r["not_found"]] for r in everyone],
                     f"Is the person kept? Cosine similarity of each edited face to its "
                     f"unedited decoding ({identity['embedder']}); kept rescales it to 1 for "
                     f"the face itself and 0 for another face (similarity between different "
                     f"faces: {number(identity['between'])}; between a face and its "
                     f"unedited decoding: {number(identity.get('reconstruction'))})"
                     + ("; loss: the random directions' similarity minus the edit's "
                        f"(+: the edit changes the person more), bootstrap over "
                        f"{_over_random(c)}." if random else "."))]


def _change_tables(c: dict[str, Any]) -> list[Table]:
    """The tables of a value reader's changes: per step over all faces, per group at the
    first and last step."""
    everyone = [r for r in c["changes"] if r["group"] == "all faces"]
    random = "random_abs_change" in everyone[0]
    steps = Table.of(["step", "faces", "mean change", "95% interval", "mean absolute change",
                      *(["random directions", "excess", "95% interval"] if random else [])],
                     [[r["step"], r["n"], r["change"],
                       interval(r["change_low"], r["change_high"]), r["abs_change"],
                       *([r["random_abs_change"], r["excess"],
                          interval(r["excess_low"], r["excess_high"])] if random else [])]
                      for r in everyone],
                     f"The reading minus each face's reading at step {c.get('reference')} "
                     f"({_intervals(c)})" + ("; excess: of the absolute change over the "
                                             "random directions' (bootstrap over "
                                             f"{_over_random(c)})." if random else "."))
    ends = {everyone[0]["step"], everyone[-1]["step"]} - {c.get("reference")}
    groups = [[r["group"], r["n"], r["step"], r["change"],
               interval(r["change_low"], r["change_high"])]
              for r in c["changes"] if r["group"] != "all faces" and r["step"] in ends]
    return [steps] + ([Table.of(["group", "faces", "step", "mean change", "95% interval"],
                                groups, f"At the first and last step, by {c['groups_by']}.")]
                      if groups else [])


def _counterfactual_figures(run: Path) -> list[Any]:
    """The edit's figures that exist (a missing one is left out)."""
    captions = {
        "counterfactual.png": "Per step: the classifier's changes by group with the random "
                              "directions' (or its reading's change), its mean probabilities, "
                              "what each check reads and, with --identity, the similarity to "
                              "the unedited face beside its references.",
        "faces.png": "The faces whose reading changes at the most steps: each face, then its "
                     "decoding at every step with what the classifier reads (-> marks a "
                     "changed class)."}
    return [file_figure(run / name, caption) for name, caption in captions.items()
            if (run / name).exists()]


def _profile(run: Path, p: dict[str, Any]) -> Section:
    """The section of ``profile.json`` (``latentplay audit counterfactual`` with several
    directions)."""
    if "profile" not in p or "edits" not in p:
        raise UserError(f"{run / 'profile.json'} is not the profile of `latentplay audit "
                        "counterfactual`")
    values = p.get("kind") == "values"
    facts = [("run, faces", f"{p.get('run')}; {number(len(p['rows']))} rows of {p.get('data')}"),
             ("classifier", f"{p['classifier']['attribute']} ({p['classifier'].get('kind')})"),
             ("edits", ", ".join(p["edits"]) + f"; moved along the {p.get('along')}")]
    if values:
        table = Table.of(["direction", "step", "faces", "mean change", "95% interval",
                          "mean absolute change", "random directions", "excess",
                          "95% interval"],
                         [[r["label"], r["step"], r["n"], r["change"],
                           interval(r.get("change_low"), r.get("change_high")),
                           r["abs_change"], r.get("random_abs_change"), r.get("excess"),
                           interval(r.get("excess_low"), r.get("excess_high"))]
                          for r in p["profile"]],
                         "The reading minus each face's unedited reading, at each direction's "
                         "first and last step.")
    else:
        table = Table.of(["direction", "step", "faces", "class changed", "95% interval",
                          "random directions", "excess", "95% interval"],
                         [[r["label"], r["step"], r["n"], r["rate"],
                           interval(r["low"], r["high"]), r.get("random_rate"),
                           r.get("excess"), interval(r.get("excess_low"), r.get("excess_high"))]
                          for r in p["profile"]],
                         "Share of faces whose class changed, at each direction's first and "
                         "last step (Wilson intervals, or a bootstrap over persons); excess: "
                         "over random directions of the same size, its interval a bootstrap "
                         "over the faces (or persons) and the random directions.")
    return Section(f"Profile: {p['classifier']['attribute']} across {len(p['edits'])} edits",
                   "profile", [Facts(facts), table] + (
                       [file_figure(run / "profile.png", "Per direction and end step.")]
                       if (run / "profile.png").exists() else []))
