"""Faces tab: interpolation between store faces, directions and edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from latentplay.app import faces
from latentplay.app.state import Playground
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def cvae(cvae_run: Path, coded_faces: Path) -> Playground:
    return Playground.open(cvae_run, coded_faces)


@pytest.fixture(scope="module")
def vae(vae_run: Path, coded_faces: Path) -> Playground:
    return Playground.open(vae_run, coded_faces)


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolation_ends_are_the_two_reconstructions(cvae: Playground, method: str) -> None:
    path = faces.interpolate(cvae, 3, 17, 6, method)
    assert path.shape == (6, 32, 32, 3) and path.dtype == np.uint8
    assert np.array_equal(path[0], faces.reconstruct(cvae, 3))
    assert np.array_equal(path[-1], faces.reconstruct(cvae, 17))
    assert not np.array_equal(path[0], path[-1])


def test_bad_rows_and_arguments_are_user_errors(cvae: Playground) -> None:
    with pytest.raises(UserError, match="out of range"):
        faces.interpolate(cvae, 3, 400, 6, "slerp")
    with pytest.raises(UserError, match="out of range"):
        cvae.image(-1)
    with pytest.raises(UserError, match=r"row 400 out of range; the store has 400 rows \(0..399\)"):
        cvae.image(400)
    with pytest.raises(UserError, match="whole number"):
        faces.reconstruct(cvae, 2.5)
    with pytest.raises(UserError, match="slerp or lerp"):
        faces.interpolate(cvae, 3, 4, 6, "spline")
    with pytest.raises(UserError, match="no store"):
        faces.reconstruct(Playground(run=None, store=None, model=cvae.model), 0)


def test_codes_are_cached_per_row(cvae: Playground) -> None:
    z, cond = cvae.codes([5, 6])
    assert z.shape == (2, 8) and cond is not None and cond.shape == (2, 3)
    assert (5, None) in cvae.row_codes and np.array_equal(cvae.codes([6])[0][0], z[1])


def test_edit_by_zero_is_the_reconstruction(cvae: Playground, tmp_path: Path) -> None:
    assert faces.direction_columns(cvae) == [faces.RUN_CODES, "vae_mu"]
    direction = faces.fit(cvae, faces.RUN_CODES, "gender", "male")
    assert direction.dim == 8 and direction.positive == "male"
    assert faces.fit(cvae, faces.RUN_CODES, "gender", "male") is direction  # cached
    assert "held-out balanced accuracy" in faces.describe(direction)
    assert f"balanced accuracy {direction.score:.3f} (chance 0.5)" in faces.describe(direction)
    for along in ("pattern", "normal"):
        assert np.array_equal(faces.edit(cvae, 4, direction, 0.0, along),
                              faces.reconstruct(cvae, 4))
    assert not np.array_equal(faces.edit(cvae, 4, direction, 3.0, "pattern"),
                              faces.reconstruct(cvae, 4))
    from latentplay.latent.directions import edit as move

    z, cond = cvae.codes([4], direction.column)
    for along, sd in (("pattern", direction.pattern_sd), ("normal", direction.sd)):
        assert abs(sd - 1) > 0.05  # a step in SDs tells itself from one in latent units
        moved = move(z, direction, [3.0 * sd], along=along)[:, 0]   # 3 SDs of the codes along it
        assert np.array_equal(faces.edit(cvae, 4, direction, 3.0, along), cvae.decode(moved, cond)[0])
    path = tmp_path / "gender.json"
    direction.to_json(path)
    assert faces.load_direction(cvae, path) == direction


def test_directions_from_a_store_column(vae: Playground) -> None:
    smile = faces.fit(vae, "vae_mu", "smile")
    assert smile.kind == "continuous" and "R²" in faces.describe(smile)
    assert faces.class_names(vae, "age_group")[:2] == ["child", "youth"]
    assert faces.class_names(vae, "smile") == []
    with pytest.raises(UserError, match="say which"):
        faces.fit(vae, "vae_mu", "hair_color")
    # ordered classes: one direction from the first to the last
    assert faces.fit(vae, "vae_mu", "age_group").label == "age_group: child to senior"
    # each class a direction points to is fitted once and kept apart (not the first one fitted)
    towards = [faces.fit(vae, "vae_mu", "gender", name) for name in ("female", "male", "female")]
    assert [d.positive for d in towards] == ["female", "male", "female"] and towards[2] is towards[0]
    assert float(towards[1].vector @ towards[0].vector) < -0.99   # unit normals, opposite ways
    with pytest.raises(UserError, match="choose the codes"):   # a cleared dropdown
        faces.fit(vae, None, "gender")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="choose the attribute"):   # a cleared dropdown
        faces.fit(vae, "vae_mu", None)  # type: ignore[arg-type]


def test_generator_faces_are_inverted(dcgan_run: Path, coded_faces: Path, tmp_path: Path,
                                      cvae: Playground) -> None:
    pg = Playground.open(dcgan_run, coded_faces)
    pg.invert_steps = 20
    assert faces.direction_columns(pg) == []  # vae_mu has 8 dims, the generator 16
    path = faces.interpolate(pg, 0, 1, 3, "lerp")
    assert np.array_equal(path[0], faces.reconstruct(pg, 0))
    with pytest.raises(UserError, match="no encoder"):
        faces.fit(pg, faces.RUN_CODES, "smile")
    other = tmp_path / "eight.json"
    faces.fit(cvae, "vae_mu", "smile").to_json(other)
    with pytest.raises(UserError, match="8 dimensions"):
        faces.load_direction(pg, other)


def test_a_classifier_reads_the_edit(coded_faces: Path, tmp_path: Path) -> None:
    """An annotator file reads the reconstruction and the edit: the same image gives the same
    class; a face of each gender (both read right) gives a changed class."""
    from latentplay import store as st
    from latentplay.audit.annotate import fit_classifier

    store = st.load(coded_faces)
    ann = fit_classifier(store, "gender")
    path = ann.save(tmp_path / "gender.npz")
    images = st.load_images(store, range(40))
    read = ann.predict(images)
    truth = store.labels("gender")[:40]
    right = np.flatnonzero(read == truth)
    woman = next(k for k in right if truth[k] == 0)
    man = next(k for k in right if truth[k] == 1)
    same = faces.read_edit(path, images[woman], images[woman])
    assert same.startswith("**gender** read on the reconstruction: female")
    assert same.endswith("the same class.")
    changed = faces.read_edit(path, images[woman], images[man])
    assert "on the edit: male" in changed and changed.endswith("the class changed.")
    with pytest.raises(UserError):
        faces.read_edit(tmp_path / "missing.npz", images[0], images[0])


def test_towards_class_offers_only_classes(coded_faces: Path, unknown_gender: Any) -> None:
    """Rows without a gender (class ``unknown``) are no class a direction can point to: every
    class the dropdown offers can be fitted."""
    path, gender = unknown_gender(coded_faces)
    pg = Playground.open(data=path)
    offered = faces.class_names(pg, "gender")
    assert offered == ["female", "male"]
    for name in offered:
        assert faces.fit(pg, "vae_mu", "gender", name).n == int((gender < 2).sum())


def test_an_attribute_with_one_class_is_one_clear_error(coded_faces: Path, tmp_path: Path) -> None:
    """An attribute whose labelled rows hold one class has no direction: one message says so,
    whether or not its class is chosen as the one to point to (not "say which one is
    positive", then "class 'rest' has 0 labelled rows")."""
    from latentplay import store as st

    loaded = st.load(coded_faces)
    only = st.Attribute("constant", "categorical", ["only"])
    one_used = st.Attribute("glasses2", "categorical", ["no", "yes"])
    zeros = np.zeros(len(loaded), dtype=np.int64)
    path = tmp_path / "one_class"
    st.save(st.add_attributes(loaded, {"constant": (only, zeros),
                                       "glasses2": (one_used, zeros)}), path)
    pg = Playground.open(data=path)
    for attribute, positive in [("constant", None), ("constant", "only"), ("glasses2", "yes")]:
        with pytest.raises(UserError, match=f"'{attribute}' has one class .* choose another"):
            faces.fit(pg, "vae_mu", attribute, positive)


def test_a_direction_s_class_names_show_as_written_not_as_markdown() -> None:
    """A direction between classes ``<b>x</b>`` and ``*a* [y](z)`` is described in the tab's
    Markdown box with every punctuation character of its names escaped, so that the box shows
    the names (before, a bold x, an italic a and a link); the escapes removed, the names
    come back whole."""
    import re

    from latentplay.latent.directions import Direction

    vector = np.array([1.0, 0.0], np.float32)
    found = Direction(vector, "kind", "categorical", "<b>x</b>", "*a* [y](z)", "svm", 0.0, 0.9, 40,
                      conditioned_on=["_held_"])
    text = faces.describe(found)
    assert re.search(r"(?<!\\)[<>*\[\]()_]", text.split(" (svm")[0]) is None  # nothing unescaped
    assert re.sub(r"\\(.)", r"\1", text).startswith("kind: <b>x</b> vs *a* [y](z) (svm, n=40)")
    assert text.endswith(r"held: \_held\_")
