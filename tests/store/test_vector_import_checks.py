"""What ``data import-vectors`` refuses, in one line naming the file: arrays that are not real
numbers (complex, dates, text), vectors of no values, values beyond float32's range and arrays
with no finite value (they failed with tracebacks or were stored silently changed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.vector_files import import_vectors

N = 4


@pytest.fixture
def small(tmp_path: Path) -> st.Store:
    """``N`` rows whose images are named ``0``..``3``, a ``gender`` attribute."""
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    png = st.encode_png(np.zeros((4, 4, 3), np.uint8))["bytes"]
    cells = [{"bytes": png, "path": f"{i}.png"} for i in range(N)]
    return st.build([{"image": cells, "gender": np.arange(N) % 2}], schema, tmp_path / "s")


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((N, 0)), r"shape \(4, 0\): vectors of no values"),
    # a 1-d array of one number per row read as if its shape fitted ("expected (4, ...)")
    (np.arange(N, dtype="f4"), r"shape \(4,\); a vector column takes \(4, D\) vectors, a row "
                               r"each \(one number per row: give it as \(4, 1\), or as an attribute\)"),
    (np.zeros((N + 1, 2)), r"\(4, D\) vectors, a row each \(the store has 4 rows\)"),
    (np.full((N, 2), "a"), r"holds <U1 values \(text\); give real numbers"),
    (np.ones((N, 2)) * 1j, r"holds complex128 values \(complex numbers\)"),
    (np.zeros((N, 2), "datetime64[D]"), r"\(dates and times\)"),
    (np.full((N, 2), 1e300), r"holds 8 finite values beyond float32's range"),
    (np.full((N, 2), np.nan), "holds no finite value"),
    (np.full((N, 2), -np.inf), "holds no finite value"),
])
def test_an_array_that_cannot_be_float32_vectors_is_refused(cli, small: st.Store, tmp_path: Path,
                                                            array: np.ndarray, message: str) -> None:
    path = tmp_path / "v.npy"
    np.save(path, array)
    with pytest.raises(UserError, match=message) as caught:
        import_vectors(small, "v", path)
    assert str(path) in str(caught.value)
    r = cli("data", "import-vectors", small.path, "--from", path, "--column", "v")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and str(path) in r.err, r.err
    assert "v" not in st.load(small.path).columns


def test_a_file_of_a_folder_is_checked_and_named(small: st.Store, tmp_path: Path) -> None:
    folder = tmp_path / "lat"
    folder.mkdir()
    for i in range(N):
        np.save(folder / f"{i}.npy", np.array([1.0, 2.0]))
    np.save(folder / "2.npy", np.array([1e300, 1e300]))
    with pytest.raises(UserError, match=r"2\.npy holds 2 finite values beyond float32"):
        import_vectors(small, "v", folder)
    np.save(folder / "2.npy", np.array([1j, 2j]))
    with pytest.raises(UserError, match=r"2\.npy holds complex128"):
        import_vectors(small, "v", folder)
    for i in range(N):
        np.save(folder / f"{i}.npy", np.array([np.nan, np.nan]))
    with pytest.raises(UserError, match=f"{folder} holds no finite value"):
        import_vectors(small, "v", folder)
    for i in range(N):
        np.save(folder / f"{i}.npy", np.zeros(0))
    with pytest.raises(UserError, match=r"0\.npy holds an empty array"):
        import_vectors(small, "v", folder)


def test_booleans_integers_and_some_nan_rows_are_kept(small: st.Store, tmp_path: Path) -> None:
    for array, expected in ((np.array([[True, False]] * N), [[1.0, 0.0]] * N),
                            (np.arange(2 * N, dtype=np.int64).reshape(N, 2), np.arange(2 * N).reshape(N, 2)),
                            (np.array([[np.nan, np.nan]] + [[1.0, 3e38]] * (N - 1)),
                             [[np.nan, np.nan]] + [[1.0, 3e38]] * (N - 1))):
        np.save(tmp_path / "v.npy", array)
        made, _ = import_vectors(small, "v", tmp_path / "v.npy")
        np.testing.assert_allclose(st.vectors(made, "v"), np.asarray(expected, np.float32))
