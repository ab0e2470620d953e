"""Which kind of directory a report is asked for: a training run, a match run, an audit run,
a probe run, an imported generator, runs of several seeds, a concept model, a leakage test
or a store, told apart by
the files each one always writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.store import SCHEMA_FILE
from latentplay.store.io import Store, located

Kind = Literal["train", "match", "audit", "probe", "store", "model", "seeds", "concepts",
               "leakage"]

# the files that identify each kind, checked in this order
SIGNATURES: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    ("store", (SCHEMA_FILE,)),
    ("train", ("config.yaml",)),
    ("match", ("summary.json", "balance.csv")),
    ("audit", ("summary.json", "groups.json", "fidelity.json", "verification.json",
               "verification_comparison.json", "accuracy.json", "counterfactual.json",
               "profile.json", "truncation.json", "detection.json", "versus.json",
               "reconstruction.json")),
    ("probe", ("probe.json",)),
    ("model", ("model.json",)),
    ("seeds", ("seeds.json",)),
    ("concepts", ("metrics.json", "downstream.npy")),
    ("leakage", ("leakage.csv",)),
)


def detect(path: str | os.PathLike[str] | Store) -> Kind:
    """The kind of directory ``path`` (a str, a Path or a saved store) is.

    - ``store``: holds ``latentplay.json`` (a dataset saved by latentplay);
    - ``train``: holds ``config.yaml`` (made by ``latentplay train``);
    - ``match``: holds ``summary.json`` and ``balance.csv`` (``latentplay match run``);
    - ``audit``: holds ``summary.json``, ``groups.json``, ``fidelity.json``,
      ``verification.json``, ``verification_comparison.json``, ``accuracy.json`` or
      ``counterfactual.json``, ``profile.json``, ``truncation.json``, ``detection.json``,
      ``versus.json`` or ``reconstruction.json`` (``latentplay audit compare`` /
      ``sample-groups`` / ``fidelity`` / ``verify`` / ``accuracy`` / ``counterfactual`` /
      ``detection`` / ``versus`` / ``reconstruction``);
    - ``probe``: holds ``probe.json`` (``latentplay latent probe``);
    - ``model``: holds ``model.json`` alone (a generator made by ``latentplay import``);
    - ``seeds``: holds ``seeds.json`` (``latentplay metrics concepts``, ``leakage run`` or
      ``metrics track`` with ``--seeds``);
    - ``concepts``: holds ``metrics.json`` and ``downstream.npy`` (``latentplay metrics
      concepts glancenet|vae|cbm``);
    - ``leakage``: holds ``leakage.csv`` (``latentplay leakage run``).

    Raises:
        UserError: ``path`` is missing, not a directory, or none of these.
    """
    path = located(path, "ask what it is")
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if not path.is_dir():
        raise UserError(f"{path} is not a directory; give a run directory, a match or audit "
                        "output directory, or a store")
    for kind, names in SIGNATURES:
        present = [(path / name).is_file() for name in names]
        if kind == "audit" and present == [True] + [False] * (len(names) - 1):
            _refuse_match_without_balance(path)
        if (kind == "audit" and any(present)) or all(present):
            return kind
    raise UserError(f"{path} is not a training run (config.yaml), a match run (summary.json + "
                    f"balance.csv), an audit run (summary.json, groups.json, fidelity.json, "
                    f"verification.json, accuracy.json, counterfactual.json, profile.json, "
                    f"truncation.json, detection.json, versus.json or reconstruction.json), a "
                    f"probe run (probe.json), an imported generator (model.json), runs of several "
                    f"seeds (seeds.json), a concept "
                    f"model (metrics.json + downstream.npy), a leakage test (leakage.csv) or a "
                    f"store ({SCHEMA_FILE}); nothing to report")


def _refuse_match_without_balance(path: Path) -> None:
    """A :class:`UserError` when ``path``'s only summary is a match run's (``treatment`` and
    ``counts``, no audit's ``attributes``) and its ``balance.csv`` is gone: it was read as an
    audit and refused as a summary without ``attributes``, which named the wrong command."""
    try:
        summary = parsed_json((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the audit page names an unreadable summary itself
    if (isinstance(summary, dict) and "attributes" not in summary
            and {"treatment", "counts"} <= summary.keys()):
        raise UserError(f"{path} is a match run (summary.json of `latentplay match run`) without "
                        f"its balance.csv, which the report needs; rerun `latentplay match run "
                        f"... --out {path} --overwrite` to write it again")
