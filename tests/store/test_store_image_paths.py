"""A store whose image cells name paths instead of holding the images (a downloaded store
edited so) is refused on load: ``data export`` copied ``/etc/passwd`` into its images, and a
store written from it (``data subset``) embedded the file's bytes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from tests.store.tiny_store import tiny_store

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.images import decode


def _point_row_at(store_dir: Path, row: int, target: Path) -> None:
    """Rewrite the store's data file with ``row``'s image cell ``{bytes: None, path: target}``."""
    (data_file,) = store_dir.glob("data-*.arrow")
    with pa.memory_map(str(data_file)) as source:
        table = pa.ipc.open_stream(source).read_all()
    cells = table.column("image").to_pylist()
    cells[row] = {"bytes": None, "path": str(target)}
    table = table.set_column(table.schema.get_field_index("image"), table.schema.field("image"),
                             pa.array(cells, type=table.schema.field("image").type))
    with pa.OSFile(str(data_file), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def test_a_store_naming_a_file_instead_of_an_image_is_refused(tmp_path: Path, cli) -> None:  # noqa: ANN001
    secret = tmp_path / "secret.txt"
    secret.write_text("key=hunter2\n")
    tiny_store(tmp_path / "s", n=6)
    _point_row_at(tmp_path / "s", 3, secret)
    with pytest.raises(UserError, match=r"row 3's image is a path \(.*secret.txt\) without the image"):
        st.load(tmp_path / "s")
    for args in (["data", "export", tmp_path / "s", "--to", tmp_path / "x"],
                 ["data", "subset", tmp_path / "s", "--out", tmp_path / "sub", "--n", "4"]):
        result = cli(*args)
        assert result.code == 2 and "without the image" in result.err
    assert not (tmp_path / "x").exists() and not (tmp_path / "sub").exists()
    with pytest.raises(UserError, match="no image stored, only a path"):
        decode({"bytes": None, "path": str(secret)}, row=3)


def test_stores_that_hold_their_images_load_as_before(tmp_path: Path) -> None:
    store = tiny_store(tmp_path / "s", n=6)
    assert len(st.load(store.path)) == 6


def test_names_read_from_files_cannot_steer_where_outputs_go(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """A downloaded latentplay.json or annotator naming an attribute ``g/../../x`` flowed into
    output file names (``distribution_<attr>.csv``); both are refused when read."""
    import json

    import numpy as np

    store = tiny_store(tmp_path / "s", n=6)
    schema_file = store.path / st.SCHEMA_FILE
    schema = json.loads(schema_file.read_text())
    schema["attributes"][0]["name"] = "g/../../x"
    schema_file.write_text(json.dumps(schema))
    result = cli("data", "info", store.path)
    assert result.code == 2 and "attribute 'g/../../x' cannot name a file" in result.err

    from latentplay.audit.annotate import FORMAT, FORMAT_VERSION, load_annotator

    meta = {"format": FORMAT, "version": FORMAT_VERSION, "attribute": "..", "classes": ["a"]}
    np.savez(tmp_path / "a.npz", meta=np.array(json.dumps(meta)))
    with pytest.raises(UserError, match=r"attribute '\.\.' cannot name a file"):
        load_annotator(tmp_path / "a.npz")
