"""Vectors computed elsewhere as a vector column: an array in row order, or one file per image."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.vector_files import import_vectors, row_names


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """12 faces exported as files and converted back: rows know their images' file names."""
    from latentplay.sources import folder
    from latentplay.store.subset import subset

    root = tmp_path_factory.mktemp("files")
    small = subset(st.load(faces_store), root / "small", np.arange(12))
    st.export_store(small, root / "exported")
    folder.convert(root / "exported" / "labels.csv", root / "store",
                   columns={"file": "file", "gender": "gender"})
    return root / "store"


def test_one_file_per_image_matched_by_name(converted: Path, tmp_path: Path, cli) -> None:
    converted = shutil.copytree(converted, tmp_path / "store")  # the module's store stays as made
    store = st.load(converted)
    names = row_names(store)
    assert len(set(names)) == 12 and all(names)
    bare = dataclasses.replace(store, schema=dataclasses.replace(store.schema, text_columns=[]))
    assert row_names(bare) == names  # without a file column: the stored images' own names
    rng = np.random.default_rng(0)
    want = {}
    for k, name in enumerate(reversed(names)):  # written in another order, some nested
        want[name] = rng.standard_normal((3, 4)).astype(np.float32)
        (tmp_path / "lat" / ("deep" if k % 3 else "")).mkdir(parents=True, exist_ok=True)
        np.save(tmp_path / "lat" / ("deep" if k % 3 else "") / f"{name}.npy", want[name])
    np.save(tmp_path / "lat" / "stranger.npy", np.zeros((3, 4), np.float32))
    result = cli("data", "import-vectors", converted, "--from", tmp_path / "lat", "--column", "wplus")
    said = " ".join(result.out.split())  # as wrapped by the console
    assert result.code == 0 and "(12 x 12)" in said and "1 file matched no row" in said
    store = st.load(converted)
    got = st.vectors(store, "wplus")
    np.testing.assert_array_equal(got, np.stack([want[n].reshape(-1) for n in row_names(store)]))
    assert store.schema.history[-1]["command"] == "import-vectors"
    assert "imported from" in json.dumps(store.schema.to_dict())
    result = cli("data", "import-vectors", converted, "--from", tmp_path / "lat", "--column", "wplus")
    assert result.code == 2 and "--overwrite" in result.err


def test_refusals_name_what_does_not_fit(converted: Path, tmp_path: Path, faces_store: Path) -> None:
    store = st.load(converted)
    names = row_names(store)
    (tmp_path / "few").mkdir()
    for name in names[:10]:
        np.save(tmp_path / "few" / f"{name}.npy", np.zeros(4, np.float32))
    with pytest.raises(UserError, match=f"2 of 12 rows have no .npy.*{names[10]}"):
        import_vectors(store, "v", tmp_path / "few")
    np.save(tmp_path / "few" / f"{names[10]}.npy", np.zeros(5, np.float32))
    np.save(tmp_path / "few" / f"{names[11]}.npy", np.zeros(4, np.float32))
    with pytest.raises(UserError, match="same size"):
        import_vectors(store, "v", tmp_path / "few")
    (tmp_path / "twice" / "a").mkdir(parents=True)
    np.save(tmp_path / "twice" / f"{names[0]}.npy", np.zeros(4))
    np.save(tmp_path / "twice" / "a" / f"{names[0]}.npy", np.zeros(4))
    with pytest.raises(UserError, match="two files named"):
        import_vectors(store, "v", tmp_path / "twice")
    np.save(tmp_path / "short.npy", np.zeros((11, 4)))
    with pytest.raises(UserError, match=r"takes \(12, D\) vectors, a row each \(the store has 12 rows\)"):
        import_vectors(store, "v", tmp_path / "short.npy")
    (tmp_path / "text.npy").write_text("not an array")
    with pytest.raises(UserError, match=r"not a .npy array \(no NumPy header"):
        import_vectors(store, "v", tmp_path / "text.npy")
    with pytest.raises(UserError, match="carry no file names"):  # generated faces have none
        import_vectors(st.load(faces_store), "v", tmp_path / "few")
    with pytest.raises(UserError, match="column name"):
        import_vectors(store, "bad name", tmp_path / "short.npy")


def test_an_array_in_row_order(faces_store: Path, tmp_path: Path) -> None:
    store = st.load(faces_store)
    codes = np.random.default_rng(1).standard_normal((len(store), 2, 3))
    np.save(tmp_path / "codes.npy", codes)
    made, found = import_vectors(store, "codes", tmp_path / "codes.npy")
    assert found.unused == 0
    np.testing.assert_allclose(st.vectors(made, "codes"), codes.reshape(len(store), 6), rtol=1e-6)
    mine = st.vectors(made, "codes")
    mine[0] = 0  # a writable copy: the store's column is left as it was
    np.testing.assert_allclose(st.vectors(made, "codes")[0], codes[0].reshape(6), rtol=1e-6)


def test_rows_sharing_an_image_name_are_refused(tmp_path: Path) -> None:
    """Two rows whose images are ``cats/001.png`` and ``dogs/001.png`` cannot each get a file."""
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("animal", "categorical", names=["cat", "dog"])],
                    provenance=Provenance(source="test", converter="unit"))
    png = st.encode_png(np.zeros((4, 4, 3), np.uint8))["bytes"]
    cells = [{"bytes": png, "path": p} for p in ("cats/001.png", "dogs/001.png", "dogs/002.png")]
    store = st.build([{"image": cells, "animal": np.array([0, 1, 1])}], schema, tmp_path / "s")
    assert row_names(store) == ["001", "001", "002"]
    (tmp_path / "lat").mkdir()
    for name in ("001", "002"):
        np.save(tmp_path / "lat" / f"{name}.npy", np.zeros(3, np.float32))
    with pytest.raises(UserError, match="rows 0 and 1 both show an image named 001"):
        import_vectors(store, "v", tmp_path / "lat")


def test_paths_written_on_windows_are_matched_by_their_file_name(tmp_path: Path) -> None:
    """A label file written on Windows gives the converted rows' ``file`` backslashed paths
    (MORPH's ``C:\\MORPH\\Album2\\003023_0M20.JPG``): each row's file is ``003023_0M20.npy``,
    not the whole path, which no file is named."""
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("animal", "categorical", names=["cat", "dog"])],
                    provenance=Provenance(source="test", converter="unit"), text_columns=["file"])
    png = st.encode_png(np.zeros((4, 4, 3), np.uint8))["bytes"]
    files = ["C:\\MORPH\\Album2\\003023_0M20.JPG", "imgs\\0.png", "posix/dir/7.jpg"]
    store = st.build([{"image": [{"bytes": png, "path": None}] * 3, "file": files,
                       "animal": np.array([0, 1, 1])}], schema, tmp_path / "s")
    assert row_names(store) == ["003023_0M20", "0", "7"]
    (tmp_path / "lat").mkdir()
    for k, name in enumerate(("003023_0M20", "0", "7")):
        np.save(tmp_path / "lat" / f"{name}.npy", np.full(2, k, np.float32))
    made, found = import_vectors(store, "v", tmp_path / "lat")
    assert found.unused == 0
    np.testing.assert_array_equal(st.vectors(made, "v"), [[0, 0], [1, 1], [2, 2]])
