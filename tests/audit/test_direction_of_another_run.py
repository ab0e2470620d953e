"""Readers of direction files other than ``latent edit`` (the counterfactual audit, the app's
Faces tab) refuse a direction fitted on codes of another run's weights."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from latentplay.app.faces import load_direction
from latentplay.audit.counterfactual_run import _direction
from latentplay.errors import UserError
from latentplay.latent.directions import Direction


def _saved(tmp_path: Path, sha: str | None) -> Path:
    """A 4-d direction file fitted on column ``vae_mu`` of a run whose weights hash to ``sha``."""
    d = Direction(vector=np.eye(4)[0], attribute="a", kind="categorical", positive="1",
                  negative="0", method="svm", offset=0.0, score=0.9, n=10, column="vae_mu",
                  run=str(tmp_path / "other"), run_sha256=sha)
    path = tmp_path / f"d_{sha}.json"
    d.to_json(path)
    return path


def _run(tmp_path: Path, sha: str) -> Path:
    run = tmp_path / f"run_{sha}"
    run.mkdir()
    (run / "model.json").write_text(json.dumps({"sha256": sha}))
    return run


def test_counterfactual_and_app_refuse_another_runs_direction(tmp_path: Path) -> None:
    other, same = _run(tmp_path, "bbb"), _run(tmp_path, "aaa")
    path = _saved(tmp_path, "aaa")
    model = SimpleNamespace(latent_dim=4)
    with pytest.raises(UserError, match="whose weights are not those of"):
        _direction(path, model, other)
    with pytest.raises(UserError, match="whose weights are not those of"):
        load_direction(SimpleNamespace(latent_dim=4, run=other), path)
    assert _direction(path, model, same).attribute == "a"          # same weights: accepted
    assert load_direction(SimpleNamespace(latent_dim=4, run=same), path).attribute == "a"
    assert load_direction(SimpleNamespace(latent_dim=4, run=None), path).attribute == "a"


def test_the_codes_own_weights_decide_over_the_run_folder_now(tmp_path: Path) -> None:
    """``direction --orthogonal-to`` compares the held direction with the weights its column's
    codes came from (recorded at embed time), not with a run folder retrained since."""
    retrained = _run(tmp_path, "bbb")
    found = Direction.from_json(_saved(tmp_path, "aaa"))
    assert found.check_run(retrained, "aaa") is None
    with pytest.raises(UserError, match="whose weights are not those of"):
        found.check_run(retrained)
