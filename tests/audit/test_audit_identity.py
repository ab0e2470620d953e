"""Does a counterfactual edit keep the person? Similarities counted by hand on a decoder whose
images show their code, and the identity check of ``audit counterfactual`` with dlib."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.audit.counterfactual import condition_edits, direction_edits
from latentplay.audit.identity import Identity, identity_along, identity_embedder, identity_table
from latentplay.embed.base import Embedder
from latentplay.errors import UserError

Z = np.array([[-1.5, 0.3, -0.2], [-0.5, -0.4, 0.6], [0.5, 0.8, 0.1], [1.5, -0.9, -0.5]])
AXIS = np.array([1.0, 0.0, 0.0])


def show_code(z: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
    """(m, 4, 4, 3) uint8 images whose channel c is 128 + 40 z[:, c] (+ 40 condition[:, 0] in
    channel 1) everywhere."""
    shown = z[:, :3].copy()
    if condition is not None:
        shown[:, 1] += condition[:, 0]
    values = np.clip(128 + 40 * shown, 0, 255).round().astype(np.uint8)
    return np.broadcast_to(values[:, None, None, :], (len(z), 4, 4, 3)).copy()


class CodeEmbedder(Embedder):
    """Embeds an image as its three channel values minus 128 (its code, times 40); finds no
    face where channel 0 is above ``blind`` (128 + 40 z0)."""

    kind = "test-code"
    config_type = dict

    def __init__(self, blind: int = 256) -> None:
        super().__init__({})
        self.blind = blind

    @property
    def dim(self) -> int:
        return 3

    def embed(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(images, np.float32)[:, 0, 0, :] - 128

    def embed_rows(self, images: np.ndarray, rows: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.embed(images)
        return vectors, vectors[:, 0] + 128 <= self.blind


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _shown(z: np.ndarray) -> np.ndarray:
    """The code as the decoder and the embedder round it."""
    return np.clip(128 + 40 * z, 0, 255).round() - 128


def test_similarities_by_hand() -> None:
    edits = direction_edits(Z, None, AXIS, 1.0, [-1, 1], random=2, seed=3)
    seen = Z + np.array([0, 0, 0.5])                          # the faces, unlike their decodings
    found = identity_along(show_code, edits, CodeEmbedder(), images=show_code(seen, None))
    np.testing.assert_allclose(found.reconstruction, [_cosine(_shown(a), _shown(b))
                                                      for a, b in zip(seen, Z, strict=True)],
                               atol=1e-6)
    assert found.labels == ["-1", "0", "+1"] and found.zero == 1
    assert found.similarity.shape == (4, 3) and found.random.shape == (2, 4, 3)
    np.testing.assert_allclose(found.similarity[:, 1], 1.0, atol=1e-6)
    for i in range(4):
        moved = Z[i] + AXIS
        assert found.similarity[i, 2] == pytest.approx(_cosine(_shown(moved), _shown(Z[i])),
                                                       abs=1e-6)
        other = edits.random[1, i, 0].astype(np.float64)
        assert found.random[1, i, 0] == pytest.approx(_cosine(_shown(other), _shown(Z[i])),
                                                      abs=1e-6)
    pairs = [_cosine(_shown(Z[i]), _shown(Z[j])) for i in range(4) for j in range(4) if i != j]
    assert found.between == pytest.approx(np.mean(pairs), abs=1e-6)
    table = identity_table(found, np.array([0, 0, 1, 1]), ["a", "b"], n_boot=200)
    every = {r["step"]: r for r in table if r["group"] == "all faces"}
    plus = every["+1"]
    assert plus["similarity"] == pytest.approx(found.similarity[:, 2].mean())
    assert plus["kept"] == pytest.approx((plus["similarity"] - found.between)
                                         / (1 - found.between))
    assert plus["random_similarity"] == pytest.approx(found.random[:, :, 2].mean())
    assert plus["loss"] == pytest.approx(found.random[:, :, 2].mean(0).mean()
                                         - found.similarity[:, 2].mean())
    assert plus["loss_low"] <= plus["loss"] <= plus["loss_high"]
    assert every["0"]["kept"] == pytest.approx(1.0) and every["0"]["loss"] == pytest.approx(0)
    assert str(every["0"]["loss_low"]) == "0.0"  # not -0.0 in the CSV
    a = next(r for r in table if r["group"] == "a" and r["step"] == "+1")
    assert a["n"] == 2 and a["similarity"] == pytest.approx(found.similarity[:2, 2].mean())


def test_faces_not_found_are_counted_and_left_out() -> None:
    """Channel 0 above 128 + 40 x 1.2: faces 3 and 4 at +1 (z0 1.5, 2.5), face 4 unedited
    too (its similarities are all lost)."""
    edits = direction_edits(Z, None, AXIS, 1.0, [1], random=0)
    found = identity_along(show_code, edits, CodeEmbedder(blind=128 + 48))
    assert np.isnan(found.similarity[3]).all() and np.isnan(found.similarity[2, 1])
    assert np.isfinite(found.similarity[:2]).all()
    every = {r["step"]: r for r in identity_table(found, np.zeros(4, int), ["a"], n_boot=50)
             if r["group"] == "all faces"}
    assert (every["+1"]["n"], every["+1"]["not_found"]) == (2, 2)
    assert every["+1"]["similarity"] == pytest.approx(np.nanmean(found.similarity[:, 1]))
    assert "loss" not in every["+1"]                         # no random directions


def test_condition_edits_and_the_embedder_spec() -> None:
    edits = condition_edits(Z, np.zeros((4, 1), np.float32), 0, shifts=[1.0])
    found = identity_along(show_code, edits, CodeEmbedder())
    moved = Z + np.array([0, 1.0, 0])
    expected = [_cosine(_shown(m), _shown(z)) for m, z in zip(moved, Z, strict=True)]
    np.testing.assert_allclose(found.similarity[:, 1], expected, atol=1e-6)
    assert found.random.shape == (0, 4, 2)
    assert identity_embedder("dlib").config.detect is False      # decodings are face crops
    assert identity_embedder("dlib", ["detect=true"]).config.detect is True
    with pytest.raises(UserError):
        identity_embedder("nosuch")


def test_command_checks_identity_with_dlib(cli, coded: Path, vae_run: Path,  # noqa: ANN001
                                           skin_annotator_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--n", "10",
            "--alphas=-2,2", "--random", "1", "--identity", "dlib", "--out", out)
    assert r.code == 0, r.err
    assert "identity (dlib; cosine similarity to the unedited decoding" in r.out
    s = json.loads((out / "counterfactual.json").read_text())
    identity = s["identity"]
    assert identity["embedder"] == "dlib" and identity["random"] == 1
    every = {x["step"]: x for x in identity["table"] if x["group"] == "all faces"}
    assert every["0"]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert every["0"]["n"] + every["0"]["not_found"] == 10
    for step in ("-2", "+2"):
        assert every[step]["similarity"] < 1 and -1 <= every[step]["similarity"]
        assert every[step]["low"] <= every[step]["similarity"] <= every[step]["high"]
    assert -1 < identity["between"] < 1 and -1 < identity["reconstruction"] <= 1
    lines = (out / "identity.csv").read_text().splitlines()
    assert lines[0].startswith("group,step,n,not_found,similarity")
    html_out = tmp_path / "report.html"
    assert cli("report", out, "--out", html_out).code == 0
    assert "Is the person kept?" in html_out.read_text()
    bad = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
              coded.parent / "skin.json", "--classifier", skin_annotator_file, "--identity",
              "nosuch", "--out", tmp_path / "bad")
    assert bad.code == 2 and bad.err.startswith("error: ")
    assert not (tmp_path / "bad").exists()


def test_reconstruction_identity_by_hand() -> None:
    from latentplay.audit.identity import reconstruction_identity

    faces = show_code(Z, None)
    moved = Z.copy()
    moved[1] += [0.5, -0.5, 0.25]
    redrawn = show_code(moved, None)
    found = reconstruction_identity(CodeEmbedder(), faces, redrawn)
    seen, again = _shown(Z), _shown(moved)
    want = [_cosine(a, b) for a, b in zip(seen, again, strict=True)]
    np.testing.assert_allclose(found["similarity"], want, atol=1e-9)
    assert found["similarity"][0] == pytest.approx(1.0)  # redrawn exactly
    pairs = [_cosine(seen[i], seen[j]) for i in range(4) for j in range(4) if i != j]
    assert found["between"] == pytest.approx(np.mean(pairs))
    kept = (np.array(want) - found["between"]) / (1 - found["between"])
    np.testing.assert_allclose(found["kept"], kept, atol=1e-9)
    assert found["mean_kept"] == pytest.approx(kept.mean()) and found["not_found"] == 0
    blind = reconstruction_identity(CodeEmbedder(blind=128 + 40), faces, redrawn)  # z0 > 1: none
    assert blind["similarity"][3] is None and blind["not_found"] == 1
    assert blind["mean_similarity"] == pytest.approx(np.mean(want[:3]))


def test_a_group_without_any_similarity_writes_no_nan() -> None:
    """Face 4's unedited decoding shows no face (channel 0 above 128 + 40 x 1.2): alone in
    its group, it has no similarity nor loss at any step, and its row holds None (JSON has
    no NaN) where it has no interval."""
    edits = direction_edits(Z, None, AXIS, 1.0, [1], random=2, seed=3)
    found = identity_along(show_code, edits, CodeEmbedder(blind=128 + 48))
    table = identity_table(found, np.array([0, 0, 0, 1]), ["a", "b"], n_boot=50)
    alone = [r for r in table if r["group"] == "b"]
    assert alone and all(r["similarity"] is None and r["loss"] is None for r in alone)
    assert all(r[key] is None for r in alone for key in ("low", "high", "loss_low", "loss_high"))
    json.dumps(table, allow_nan=False)              # every row is valid JSON
    assert any(r["loss_low"] is not None for r in table if r["group"] == "a")


def test_the_loss_interval_counts_the_spread_between_random_directions() -> None:
    """Three random directions keeping similarity 0.8 each, or one at 0.4 and two at 1.0: each
    face's mean over them is the same, yet only the second baseline depends on which
    directions were drawn, so its loss interval is wider."""
    n = 200
    sim = np.ones((n, 2))
    sim[:, 1] = np.linspace(0.5, 0.7, n)
    agree = np.ones((3, n, 2))
    agree[:, :, 1] = 0.8
    differ = np.ones((3, n, 2))
    differ[0, :, 1] = 0.4
    widths = []
    for random in (agree, differ):
        found = Identity("code", ["0", "+1"], 0, sim, random, between=0.1)
        row = next(r for r in identity_table(found, np.zeros(n, int), ["a"], n_boot=500)
                   if r["group"] == "all faces" and r["step"] == "+1")
        assert row["loss"] == pytest.approx(0.8 - 0.6)
        assert row["loss_low"] <= row["loss"] <= row["loss_high"]
        widths.append(row["loss_high"] - row["loss_low"])
    assert widths[1] > 5 * widths[0]


def test_the_loss_interval_pairs_the_faces_found_on_both_sides() -> None:
    """Half the faces lose their face along the attribute (NaN) yet not along the random
    directions, where they keep less of themselves: the loss and its interval are over the
    faces found on both sides, so the interval holds the loss (it did not when the random
    side's mean took in the faces the attribute's side had left out)."""
    n = 200
    lost = np.arange(n) % 2 == 0
    sim = np.ones((n, 2))
    sim[:, 1] = np.where(lost, np.nan, np.linspace(0.75, 0.85, n))
    random = np.ones((3, n, 2))
    random[:, :, 1] = np.where(lost, 0.3, 0.9) + np.linspace(-0.02, 0.02, 3)[:, None]
    found = Identity("code", ["0", "+1"], 0, sim, random, between=0.1)
    row = next(r for r in identity_table(found, np.zeros(n, int), ["a"], n_boot=300)
               if r["group"] == "all faces" and r["step"] == "+1")
    assert row["n"] == n // 2
    assert row["loss"] == pytest.approx(0.9 - np.nanmean(sim[:, 1]))
    assert row["loss_low"] <= row["loss"] <= row["loss_high"]


def test_between_faces_and_random_similarity_by_hand() -> None:
    """The similarity between faces averages the pairs of faces found (rows 0, 1, 3: cosines
    0, 0.6, 0.8); a random direction that found no face leaves the other's similarity as the
    face's; with ``between`` 1 nothing can be rescaled (no ``kept``)."""
    from latentplay.audit.identity import _between

    unit = np.array([[1.0, 0.0], [0.0, 1.0], [np.nan, np.nan], [0.6, 0.8]])
    assert _between(unit) == pytest.approx(1.4 / 3)
    assert np.isnan(_between(unit[[0, 2]]))
    random = np.array([[[1.0, np.nan], [1.0, 0.5]], [[1.0, 0.7], [1.0, 0.3]]])  # (R, n, A)
    identity = Identity("dlib", ["0", "+1"], 0, np.array([[1.0, 0.6], [1.0, 0.2]]), random, 1.0)
    step = [r for r in identity_table(identity, np.zeros(2, int), ["a"], n_boot=20)
            if r["group"] == "a" and r["step"] == "+1"][0]
    assert step["random_similarity"] == pytest.approx((0.7 + 0.4) / 2)
    assert step["loss"] == pytest.approx(((0.7 - 0.6) + (0.4 - 0.2)) / 2)
    assert step["kept"] is None
