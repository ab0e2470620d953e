"""Damaged or foreign files a user hands over end in one clear error, and nothing is lost: an
edited store schema that no longer describes the data, a read-only store, an array given as
an annotator or as vectors, a run whose config.yaml is not YAML."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from tests.store.tiny_store import tiny_store

from latentplay import store as st
from latentplay.audit.annotate import load_annotator
from latentplay.errors import UserError
from latentplay.outputs import shell_word
from latentplay.store.vector_files import load_array
from latentplay.train.config import load_run_config


def _edited(path: Path, change) -> None:
    schema = json.loads((path / "latentplay.json").read_text())
    change(schema)
    (path / "latentplay.json").write_text(json.dumps(schema))


@pytest.mark.parametrize("change, words", [
    (lambda s: s["attributes"][0].update(names=["f", "m", "x"]), "'gender' has 3 classes there, the data 2"),
    (lambda s: s["attributes"][0].update(kind="continuous", names=None), "'gender' holds numbers there"),
    (lambda s: s.update(latentplay_schema=999), "schema version 999"),
])
def test_a_schema_that_does_not_describe_the_data_is_refused_on_load(tmp_path: Path, change,
                                                                     words: str) -> None:
    path = tmp_path / "s"
    tiny_store(path, n=6)
    _edited(path, change)
    with pytest.raises(UserError, match=words):
        st.load(path)


def test_renamed_classes_of_the_same_count_still_load(tmp_path: Path) -> None:
    path = tmp_path / "s"
    tiny_store(path, n=6)
    _edited(path, lambda s: s["attributes"][0].update(names=["female", "male"]))
    assert st.load(path).schema.attribute("gender").names == ["female", "male"]


def test_a_read_only_store_is_refused_and_left_alone(tmp_path: Path, cli) -> None:
    path = tmp_path / "ro"
    tiny_store(path, n=6)
    before = sorted(os.listdir(path))
    path.chmod(0o555)
    try:
        result = cli("data", "regroup", path, "gender", "--into", "a=f", "--into", "b=m")
        assert result.code == 2 and "read-only" in result.err and "chmod u+w" in result.err
        assert sorted(os.listdir(path)) == before and oct(path.stat().st_mode & 0o777) == "0o555"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ro.")] == []
    finally:
        path.chmod(0o755)


def test_an_array_is_no_annotator_and_garbage_is_no_array(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros(3))
    (tmp_path / "fake.npz").write_bytes((tmp_path / "v.npy").read_bytes())
    for name in ("v.npy", "fake.npz"):
        with pytest.raises(UserError, match="not a latentplay annotator file"):
            load_annotator(tmp_path / name)
    (tmp_path / "bad.npy").write_bytes(b"garbage")
    with pytest.raises(UserError, match="no NumPy header"):
        load_array(tmp_path / "bad.npy")


def test_an_npz_declaring_more_than_memory_or_not_a_zip_is_one_clear_error(tmp_path: Path) -> None:
    """An annotator or CLIP text-embeddings .npz whose member's header declares 10**12 float64
    (8 TB; a dozen bytes of data), or a file opening as a zip but none: NumPy's MemoryError
    and zipfile's BadZipFile ended in tracebacks."""
    import zipfile

    from numpy.lib import format as npy

    from latentplay.audit.annotate import read_text_embeddings

    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for member in ("meta", "prompts"):
            archive.writestr(f"{member}.npy", header.getvalue() + bytes(16))
    (tmp_path / "notzip.npz").write_bytes(b"PK\x03\x04garbage")
    for name in ("huge.npz", "notzip.npz"):
        with pytest.raises(UserError, match="is not a latentplay annotator file"):
            load_annotator(tmp_path / name)
        with pytest.raises(UserError, match="is not an .npz of 'prompts' and 'embeddings'"):
            read_text_embeddings(tmp_path / name)


def test_a_run_s_damaged_latents_npy_is_one_clear_error(tmp_path: Path) -> None:
    """A run's latents.npy of objects, cut short, or whose header declares 10**12 rows (a
    dozen bytes of data): traverse and the app ended in NumPy's ValueError or MemoryError."""
    from numpy.lib import format as npy

    from latentplay.latent.traverse import latents_table

    rows = np.zeros(4, dtype=[("index", "<i8"), ("mu", "<f4", (2,))])
    np.save(tmp_path / "whole.npy", rows)
    whole = (tmp_path / "whole.npy").read_bytes()
    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": rows.dtype.descr, "fortran_order": False,
                                        "shape": (10**12,)})
    latents = tmp_path / "latents.npy"
    for data, says in ((header.getvalue() + whole[-16:], "Unable to allocate"),
                       (whole[:-8], "Failed to read all data .* could only read 3 elements"),
                       (None, "Object arrays")):
        if data is None:
            np.save(latents, np.array([{"mu": 1}], dtype=object), allow_pickle=True)
        else:
            latents.write_bytes(data)
        with pytest.raises(UserError, match=f"latents.npy is not a readable .npy array: {says}"):
            latents_table(tmp_path)


def test_json_nested_deeper_than_python_recurses_is_one_clear_error(tmp_path: Path) -> None:
    """A store's latentplay.json, a run's model.json, a direction or any JSON read through
    read_json nesting 100,000 lists: json's RecursionError ended in a traceback."""
    from latentplay.latent.directions import Direction
    from latentplay.outputs import read_json
    from latentplay.train.checkpoint import read_meta

    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "s"
    tiny_store(path, n=6)
    (path / "latentplay.json").write_text(deep)
    with pytest.raises(UserError, match="latentplay.json is not a valid latentplay schema: nested too deep"):
        st.load(path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.json").write_text(deep)
    for read in (read_meta, lambda r: read_json(r / "model.json"),
                 lambda r: Direction.from_json(r / "model.json")):
        with pytest.raises(UserError, match="model.json is not valid JSON: nested too deep to read"):
            read(run)


def test_json_nested_too_deep_is_read_as_damaged_where_damage_is_passed_over(tmp_path: Path) -> None:
    """The readers that take an unreadable file for none (or for other settings) do so for
    one nesting 100,000 lists too, instead of ending in json's RecursionError; the run's
    held-out fidelity reference is one clear error."""
    from latentplay.cliargs import _holds_direction
    from latentplay.embed.column import PROGRESS_FILE, _Partial
    from latentplay.latent.directions import _model_json
    from latentplay.metrics.runs import SEEDS_STARTED, open_seeds
    from latentplay.report.kinds import _refuse_match_without_balance
    from latentplay.store.io import STATE_FILE, _complete, disk_stamp
    from latentplay.train.export import stale_export
    from latentplay.train.fidelity import REFERENCE_FILE, read_reference

    deep = "[" * 100_000 + "]" * 100_000
    for name in ("model.json", "summary.json", "onnx/export.json", STATE_FILE,
                 f"embedding/{PROGRESS_FILE}", f"seeds/{SEEDS_STARTED}", REFERENCE_FILE,
                 "direction.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(deep)
    assert _model_json(tmp_path) == {}
    assert _holds_direction(tmp_path / "direction.json") is False
    assert stale_export(tmp_path) is None
    assert _complete(tmp_path) is False
    assert len(disk_stamp(tmp_path)) > 0
    _refuse_match_without_balance(tmp_path)   # the audit page names an unreadable summary
    assert _Partial(tmp_path / "embedding", {"a": 1}, 10, 4).done == 0
    with pytest.raises(UserError, match="given other settings"):
        open_seeds(tmp_path / "seeds", {"seeds": 2})
    with pytest.raises(UserError, match=f"{REFERENCE_FILE} is not valid JSON: nested too deep to read"):
        read_reference(tmp_path)


@pytest.mark.parametrize("text, words", [(": : bad yaml [\n", "not valid YAML"),
                                         ("- a list\n", "a YAML mapping")])
def test_a_run_config_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(UserError, match=words):
        load_run_config(tmp_path / "config.yaml")


def test_printed_paths_are_quoted_for_the_shell() -> None:
    assert shell_word("runs/a b/ü") == "'runs/a b/ü'" and shell_word("runs/plain") == "runs/plain"


def test_a_vector_column_of_ragged_rows_is_named_so(tmp_path: Path, cli) -> None:
    """Rows of a vector column that differ in length (a column written by another tool): the
    message said the data had '-1' values, datasets' length of a list of no fixed length."""
    import datasets

    path = tmp_path / "s"
    store = tiny_store(path, n=4)
    st.save(st.add_column(store, "v", np.ones((4, 3), np.float32)), path)
    ragged = datasets.load_from_disk(str(path)).to_dict()
    ragged["v"] = [[1.0] * (k + 1) for k in range(4)]
    features = datasets.load_from_disk(str(path)).features.copy()
    features["v"] = datasets.Sequence(datasets.Value("float32"))
    datasets.Dataset.from_dict(ragged, features=features).save_to_disk(str(tmp_path / "r"))
    (tmp_path / "r" / "latentplay.json").write_bytes((path / "latentplay.json").read_bytes())
    result = cli("data", "info", tmp_path / "r")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "vector column 'v' has 3 values there, the data a varying number in its rows" in result.err
