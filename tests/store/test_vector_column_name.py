"""``data import-vectors --column NAME`` where NAME is an attribute (or the image or a text
column) says at once that it cannot be a vector column: the hint asked for --overwrite, which
then refused with "already exists and is not a vector column"."""

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
    """``N`` rows, a ``gender`` attribute."""
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8)) for _ in range(N)]
    return st.build([{"image": images, "gender": np.arange(N) % 2}], schema, tmp_path / "s")


def test_a_column_named_as_an_attribute_is_refused_at_once(cli, small: st.Store, tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((N, 2)))
    for extra in ([], ["--overwrite"]):
        r = cli("data", "import-vectors", small.path, "--from", tmp_path / "v.npy", "--column",
                "gender", *extra)
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
        assert "'gender' is an attribute of" in r.err and "choose another --column" in r.err
        assert "--overwrite" not in r.err
    with pytest.raises(UserError, match="'image' is the image column"):
        import_vectors(small, "image", tmp_path / "v.npy", overwrite=True)
    made, _ = import_vectors(small, "v", tmp_path / "v.npy")  # a vector column is replaced
    st.save(made, made.path)
    r = cli("data", "import-vectors", small.path, "--from", tmp_path / "v.npy", "--column", "v")
    assert r.code == 2 and "pass --overwrite (overwrite=True in Python) to replace it" in r.err
    r = cli("data", "import-vectors", small.path, "--from", tmp_path / "v.npy", "--column", "v",
            "--overwrite")
    assert r.code == 0, r.err
