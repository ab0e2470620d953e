"""``latent direction``: the score of a direction held off others is its own, measured in the
same folds, and the figure says what the numbers are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.latent import directions as dr


def _other(path: Path, axis: int, dim: int) -> Path:
    """A direction file along coordinate ``axis`` of a ``dim``-d latent (of no run)."""
    vector = np.zeros(dim, np.float32)
    vector[axis] = 1
    dr.Direction(vector=vector, attribute="other", kind="continuous", positive=None, negative=None,
                 method="ridge", offset=0.0, score=1.0, n=10).to_json(path)
    return path


def _smile_store(faces_store: Path, tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A copy of the faces with a column whose dimension 0 holds most of the smile, dimension 1
    a little of it and dimension 2 none (each with noise)."""
    data = st.load(faces_store)
    smile = np.asarray(data.labels("smile"), np.float64)
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((len(data), 3))
    codes[:, 0] = smile + 0.3 * codes[:, 0]
    codes[:, 1] += 0.2 * smile
    return Path(st.save(st.add_column(data, "c", codes.astype(np.float32)), tmp_path / "faces").path), codes


def test_holding_the_direction_that_carries_the_attribute_scores_the_held_direction(
        cli, faces_store: Path, tmp_path: Path) -> None:
    """The smile lives on dimension 0; held off a direction along it, what is left predicts
    hardly anything. The score printed and saved was the unheld one's (R² about 0.8) as if it
    were the held direction's."""
    path, _ = _smile_store(faces_store, tmp_path)
    alone = tmp_path / "alone.json"
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "smile", "--out", alone)
    assert r.code == 0, r.err
    unheld = dr.Direction.from_json(alone).score
    assert unheld > 0.5
    held_json = tmp_path / "held.json"
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "smile",
            "--orthogonal-to", _other(tmp_path / "other.json", 0, 3), "--out", held_json)
    assert r.code == 0, r.err
    held = dr.Direction.from_json(held_json)
    assert held.score < 0.1 and held.weak
    assert f"smile: held-out R² {held.score:.3f} on 400 codes" in r.out
    assert "ridge; chance 0)" in r.out            # an R² beside what predicting the mean scores
    assert f"holding other fixed (held-out {unheld:.3f} before holding it)" in r.out
    assert "caution: near chance" in r.err


@pytest.mark.parametrize("kind", ["categorical", "continuous"])
def test_holding_an_unrelated_direction_keeps_the_score_of_the_same_folds(faces_store: Path,
                                                                          tmp_path: Path,
                                                                          kind: str) -> None:
    """Held off a direction the codes do not vary along at all, each fold's boundary is
    unchanged: the held score is the unheld one, exactly for the classifier (the same folds,
    the same sides) and within the refitted line's difference from ridge for R²."""
    data = st.load(faces_store)
    rng = np.random.default_rng(1)
    gender = np.asarray(data.labels("gender"), np.float64)
    codes = np.zeros((len(data), 4))
    codes[:, :3] = rng.standard_normal((len(data), 3))
    codes[:, 0] += gender
    codes[:, 1] += np.asarray(data.labels("smile"), np.float64)
    store = st.add_column(data, "c", codes.astype(np.float32))
    attribute = "gender" if kind == "categorical" else "smile"
    found, held = dr.fit_held_direction(store, "c", attribute, [dr.Direction.from_json(
        _other(tmp_path / "o.json", 3, 4))])
    if kind == "categorical":
        assert held.score == found.score
    else:
        assert held.score == pytest.approx(found.score, abs=0.01)
    assert held.conditioned_on == ["other"]


def test_the_figure_names_the_score_and_the_fit_on_all_rows(cli, faces_store: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The figure's title was the attribute alone; it gives the held-out score, the near-chance
    caution the printout gives and that the distances are of the boundary fitted on every row.
    The scatter's y label (one line taller than the axes) ran off the figure's top edge."""
    from matplotlib.figure import Figure

    from latentplay.viz import latent as viz

    path, _ = _smile_store(faces_store, tmp_path)
    figures: list[Figure] = []
    original = viz.distance_histogram

    def record(*args, **kwargs):  # the figure the command saves
        fig = original(*args, **kwargs)
        figures.append(fig)
        return fig

    monkeypatch.setattr(viz, "distance_histogram", record)
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "smile",
            "--orthogonal-to", _other(tmp_path / "other.json", 0, 3), "--out", tmp_path / "s.json")
    assert r.code == 0, r.err
    held = dr.Direction.from_json(tmp_path / "s.json")
    fig = figures[-1]
    ax = fig.axes[0]
    title = ax.get_title().replace("\n", " ")
    assert f"held-out R² {held.score:.3f} (5-fold)" in title
    assert "near chance: the boundary barely predicts smile" in title
    assert "holding other" in title and "fitted on all 400 labelled codes" in title
    fig.canvas.draw()
    box = ax.yaxis.label.get_window_extent()
    height = fig.get_figheight() * fig.dpi
    assert 0 <= box.y0 and box.y1 <= height  # the label inside the figure
    assert ax.title.get_window_extent().y1 <= height
