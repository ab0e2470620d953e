import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.io import SCHEMA_FILE


def _schema() -> Schema:
    return Schema(
        attributes=[
            Attribute("gender", "categorical", names=["female", "male"], description="presentation"),
            Attribute("smile", "continuous", range=(-1, 1)),
            Attribute("scale", "factor", values=[0.5, 0.75, 1.0]),
        ],
        provenance=Provenance(
            source="/data/x",
            converter="unit",
            arguments={"resize": 64},
            counts={"inputs": 7, "converted": 6, "rejected": 1},
        ),
    )


def _small_store(path: Path, n: int = 12, schema: Schema | None = None) -> st.Store:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    batch = {
        "image": [st.encode_png(im) for im in images],
        "gender": rng.integers(0, 2, n),
        "smile": rng.uniform(-1, 1, n).astype(np.float32),
        "factor_scale": np.arange(n) % 3,
        "scale": np.array([0.5, 0.75, 1.0], dtype=np.float32)[np.arange(n) % 3],
    }
    return st.build([batch], schema or _schema(), path)


def test_schema_round_trip(tmp_path: Path) -> None:
    schema = _schema()
    assert Schema.from_dict(schema.to_dict()) == schema
    # the same schema object: two calls to _schema() may fall in different seconds
    store = _small_store(tmp_path / "s", schema=schema)
    assert st.load(tmp_path / "s").schema == schema
    assert store.schema.attribute("factor_scale").name == "scale"
    info = datasets.load_from_disk(str(tmp_path / "s")).info
    assert '"latentplay_schema": 1' in info.description


def test_a_store_made_before_its_command_was_recorded_names_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema saved without ``made_by`` reads as None, not as the command that reads it."""
    from latentplay import cliargs

    saved = _schema().to_dict()
    del saved["provenance"]["made_by"]
    monkeypatch.setattr(cliargs, "COMMAND_LINE", ["data", "info", "s"])
    assert Schema.from_dict(saved).provenance.made_by is None
    assert _schema().provenance.made_by["command"] == "latentplay data info s"   # a new one does


def test_images_and_labels_round_trip(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s")
    ds = datasets.load_from_disk(str(tmp_path / "s"))
    assert ds.features["gender"].names == ["female", "male"]
    assert isinstance(ds.features["image"], datasets.Image)
    first = np.asarray(ds[0]["image"])
    assert np.array_equal(st.load_images(store, [0])[0], first)
    assert store.labels("scale").tolist() == (np.arange(12) % 3).tolist()
    with pytest.raises(UserError, match="no attribute 'age'"):
        store.labels("age")


def test_a_stores_digest_names_its_save_wherever_it_lies(tmp_path: Path) -> None:
    """A result records the digest of each store it read beside its path: a moved or copied
    store keeps it (the path alone no longer named it); a save with another column, another
    store of other rows, and a store never saved do not share it."""
    import shutil

    from latentplay.store.io import store_digest

    store = _small_store(tmp_path / "s")
    digest = store_digest(st.load(tmp_path / "s"))
    assert digest is not None and len(digest) == 16 and int(digest, 16) >= 0
    shutil.copytree(tmp_path / "s", tmp_path / "copy")
    shutil.move(tmp_path / "s", tmp_path / "moved")
    assert store_digest(st.load(tmp_path / "copy")) == store_digest(st.load(tmp_path / "moved")) == digest
    wider = st.add_column(st.load(tmp_path / "moved"), "v", np.zeros((12, 2), np.float32), "zeros")
    st.save(wider, tmp_path / "wider")
    assert store_digest(st.load(tmp_path / "wider")) != digest
    assert store_digest(st.load(tmp_path / "moved")) == digest   # the store read is unchanged
    assert store_digest(st.load(_small_store(tmp_path / "fewer", n=10).path)) != digest
    assert store_digest(st.Store(store.dataset, store.schema)) is None


def test_builtin_stores_open_with_load_from_disk(tmp_path: Path) -> None:
    for name in ("shapes", "synthfaces"):
        sources.make(name, tmp_path / name, n=20)
        ds = datasets.load_from_disk(str(tmp_path / name))
        assert len(ds) == 20 and "image" in ds.column_names


def test_vector_column_round_trips_exactly(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s")
    rng = np.random.default_rng(1)
    z = rng.normal(size=(len(store), 5)).astype(np.float32)
    z[0, 0], z[1, 1], z[2, 2] = np.nan, np.inf, -0.0
    saved = st.save(st.add_column(store, "z", z, "test vectors"), store.path)
    back = st.vectors(st.load(saved.path), "z")
    assert back.dtype == np.float32 and back.shape == (len(store), 5)
    assert np.array_equal(back, z, equal_nan=True)
    assert np.signbit(back[2, 2])
    feature = datasets.load_from_disk(str(saved.path)).features["z"]
    assert isinstance(feature, datasets.List) and feature.length == 5
    assert saved.schema.vector("z").dim == 5
    # labels and images are untouched; a selection keeps row order
    assert np.array_equal(saved.labels("smile"), store.labels("smile"))
    sub = st.Store(saved.dataset.select([4, 2]), saved.schema)
    assert np.array_equal(st.vectors(sub, "z"), z[[4, 2]], equal_nan=True)
    # replacing a column, wrong shapes and non-vector columns are refused or handled
    again = st.add_column(saved, "z", z[:, :3])
    assert st.vectors(again, "z").shape == (len(store), 3)
    with pytest.raises(UserError, match="rows"):
        st.add_column(store, "w", z[:3])
    with pytest.raises(UserError, match="not a fixed-length vector"):
        st.vectors(store, "smile")
    with pytest.raises(UserError, match="no column"):
        st.vectors(store, "missing")


def test_saving_over_itself_keeps_the_converters_tables(tmp_path: Path) -> None:
    """rejected.csv and tables like RFW's pairs.csv outlive a new column; arrow files are the
    dataset's own and are not carried over."""
    store = st.save(_small_store(tmp_path / "s"), tmp_path / "s",
                    extra_files={"rejected.csv": "file,reason\n", "pairs.csv": "row_a,row_b\n"})
    (tmp_path / "s" / "cache-123.arrow").write_bytes(b"x")
    z = np.zeros((len(store), 2), np.float32)
    saved = st.save(st.add_column(store, "z", z), store.path)
    assert (saved.path / "pairs.csv").read_text() == "row_a,row_b\n"
    assert (saved.path / "rejected.csv").read_text() == "file,reason\n"
    assert not (saved.path / "cache-123.arrow").exists()
    # saved elsewhere, the tables stay behind (their row numbers belong to this store)
    other = st.save(saved, tmp_path / "t")
    assert not (other.path / "pairs.csv").exists()


_UNENCODABLE = {"PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0", "LC_ALL": "C"}
"""A locale whose encoding is ASCII (as cp1252 on Windows lacks 日本, it lacks ü too)."""


def _non_ascii_store(path: Path) -> st.Store:
    """30 rows of 8x8 images whose class names are not ASCII (and hold a space)."""
    schema = Schema(attributes=[Attribute("group", "categorical", names=["Müller", "日本", "a b"])],
                    provenance=Provenance(source="x", converter="unit"))
    images = np.random.default_rng(0).integers(0, 256, (30, 8, 8, 3), dtype=np.uint8)
    return st.build([{"image": [st.encode_png(im) for im in images], "group": np.arange(30) % 3}],
                    schema, path)


def _latentplay(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """``latentplay ARGS`` run in a new process with ``env`` added to this one's environment."""
    return subprocess.run([sys.executable, "-c", "from latentplay.cli import main; main()", *map(str, args)],
                          capture_output=True, timeout=300, env={**os.environ, **env})


def test_info_prints_class_names_that_the_output_cannot_encode(tmp_path: Path) -> None:
    """``data info`` to a Latin-1 pipe (a Windows pipe: cp1252) ended in a UnicodeEncodeError
    traceback at a class named 日本; what the encoding lacks is written escaped."""
    _non_ascii_store(tmp_path / "s")
    done = _latentplay("data", "info", tmp_path / "s", env={"PYTHONIOENCODING": "latin-1"})
    assert done.returncode == 0, done.stderr.decode("latin-1")
    out = done.stdout.decode("latin-1")
    assert "Müller" in out and "\\u65e5\\u672c" in out


def test_info_counts_and_crosstab(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s", n=30)
    summary = st.info(store, crosstab_of=("gender", "smile"))
    assert summary["rows"] == 30
    gender = summary["attributes"]["gender"]["counts"]
    assert sum(gender.values()) == 30
    assert gender["male"] == int(store.labels("gender").sum())
    assert sum(summary["attributes"]["smile"]["histogram"]["counts"]) == 30
    ct = np.array(summary["crosstab"]["counts"])
    assert ct.shape == (2, 4) and ct.sum() == 30
    assert ct.sum(axis=1).tolist() == [gender["female"], gender["male"]]


def test_per_class_summary_leaves_out_the_unknown_class(tmp_path: Path) -> None:
    """40 persons of 2 rows each plus 50 rows matched to none: ``unknown`` was reported as the
    largest person and counted among the classes."""
    names = [f"p{k}" for k in range(40)] + ["unknown"]
    schema = Schema(attributes=[Attribute("person", "categorical", names=names)],
                    provenance=Provenance(source="x", converter="unit"))
    codes = [*np.repeat(np.arange(40), 2), *[40] * 50]
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(codes), "person": codes}
    per_class = st.info(st.build([batch], schema, tmp_path / "s"))["attributes"]["person"]["per_class"]
    assert per_class["classes"] == 40 and per_class["unknown"] == 50
    assert (per_class["min"], per_class["max"], per_class["single"]) == (2, 2, 0)
    assert "unknown" not in per_class["largest"] and len(per_class["largest"]) == 5


def test_per_class_summary_of_persons_of_differing_sizes(tmp_path: Path) -> None:
    """40 persons of 0, 1, 9, 5, 4, 3 and then 2 rows each: median 2 (mean 2.25), one empty,
    one single, and the five largest in order of size (ties in code order)."""
    names = [f"p{k}" for k in range(40)]
    schema = Schema(attributes=[Attribute("person", "categorical", names=names)],
                    provenance=Provenance(source="x", converter="unit"))
    codes = np.repeat(np.arange(40), [0, 1, 9, 5, 4, 3] + [2] * 34)
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(codes), "person": codes}
    per_class = st.info(st.build([batch], schema, tmp_path / "s"))["attributes"]["person"]["per_class"]
    assert (per_class["classes"], per_class["min"], per_class["max"]) == (40, 0, 9)
    assert (per_class["median"], per_class["empty"], per_class["single"]) == (2.0, 1, 1)
    assert per_class["largest"] == {"p2": 9, "p3": 5, "p4": 4, "p5": 3, "p6": 2}
    assert list(per_class["largest"]) == ["p2", "p3", "p4", "p5", "p6"]


def test_rows_without_a_class_are_counted_everywhere(tmp_path: Path, cli, monkeypatch) -> None:
    """Rows of code -1 were dropped from ``data info`` without a word, a traceback in the CLI's
    class counts, and ``unknown`` a bar of the report's rows-per-person chart."""
    from latentplay.report.stores import page
    from latentplay.store.cli import class_counts

    names = [f"p{k}" for k in range(40)] + ["unknown"]
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"]),
                                Attribute("person", "categorical", names=names)],
                    provenance=Provenance(source="x", converter="unit"))
    person = [*np.repeat(np.arange(40), 2), *[40] * 50]
    gender = np.resize([0, 1, -1], len(person))
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(person),
             "gender": gender, "person": person}
    store = st.build([batch], schema, tmp_path / "s")
    missing = int((gender < 0).sum())
    info = st.info(store)["attributes"]
    assert info["gender"]["missing"] == missing and info["person"]["missing"] == 0
    assert class_counts(store, "gender").endswith(f"; {missing} without a value")
    shown = cli("data", "info", store.path)
    assert shown.code == 0 and f"{missing} rows without a value" in shown.out
    assert "unknown: 50 rows" in shown.out
    from latentplay.report import figures

    charts = []
    bars = figures.bars
    monkeypatch.setattr(figures, "bars",
                        lambda labels, *a, **k: charts.append(labels) or bars(labels, *a, **k))
    text = " ".join(str(block) for section in page(store.path).sections for block in section.blocks)
    assert "rows in 'unknown' (no class)" in text and "rows without a value" in text
    assert charts[-1] == ["2"]      # every person has 2 rows; the 50 unknown rows are no person


def test_crosstab_names_binned_values_apart(tmp_path: Path) -> None:
    """Two significant digits named the bins of 120..130 [1.2e+02,1.2e+02) twice."""
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"]),
                                Attribute("height", "continuous", range=(120, 130))],
                    provenance=Provenance(source="x", converter="unit"))
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 4, "gender": [0, 1, 0, 1],
             "height": np.array([120, 124, 126, 130], np.float32)}
    ct = st.info(st.build([batch], schema, tmp_path / "s"), crosstab_of=("height", "gender"))
    assert ct["crosstab"]["row_names"] == ["[120,122)", "[122,125)", "[125,128)", "[128,130]"]


def test_values_outside_a_declared_range_are_counted_in_info(tmp_path: Path, cli) -> None:
    """np.histogram over a declared range drops the values outside it: ``data info`` and its
    JSON count them (with their span) rather than showing bins that hold fewer rows than have a
    value, unexplained."""
    schema = Schema(attributes=[Attribute("tilt", "continuous", range=(-1, 1))],
                    provenance=Provenance(source="x", converter="unit"))
    tilt = np.array([-2, -0.5, 0, 0.5, 1, 1.5, np.nan], np.float32)
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(tilt), "tilt": tilt}
    store = st.build([batch], schema, tmp_path / "s")
    summary = st.info(store)["attributes"]["tilt"]
    assert sum(summary["histogram"]["counts"]) == 4 and summary["missing"] == 1
    assert summary["outside"] == 2 and summary["span"] == [-2, 1.5]
    shown = cli("data", "info", store.path)
    assert shown.code == 0 and "2 outside the range (values -2 to 1.5, in no bin)" in shown.out


@pytest.mark.parametrize("values", [[-2.25, -1.5], [-1.15, -0.5], [-1.125, -0.75]])
def test_measured_extremes_fall_in_a_bin(tmp_path: Path, values: list[float]) -> None:
    """Round bin widths such as 0.05 are no exact doubles: a last edge an ulp below the largest
    value left it in no bin, and ``data info`` said it was outside a range nobody declared."""
    schema = Schema(attributes=[Attribute("tilt", "continuous")],
                    provenance=Provenance(source="x", converter="unit"))
    tilt = np.array([values[0], np.mean(values), values[1]], np.float32)
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(tilt), "tilt": tilt}
    summary = st.info(st.build([batch], schema, tmp_path / "s"))["attributes"]["tilt"]
    assert sum(summary["histogram"]["counts"]) == 3 and summary["outside"] == 0


def test_export_writes_images_and_labels(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s")
    st.export_store(store, tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "labels.csv").read_text().splitlines()))
    assert len(rows) == len(store)
    names = ["female", "male"]
    assert [r["gender"] for r in rows] == [names[g] for g in store.labels("gender")]
    assert [int(r["factor_scale"]) for r in rows] == store.labels("scale").tolist()
    levels = store.schema.attribute("scale").values  # each level's value beside it
    assert [float(r["scale"]) for r in rows] == [levels[k] for k in store.labels("scale")]
    image = st.load_images(store, [3])[0]
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / rows[3]["file"])), image)


def test_export_of_a_store_without_images_says_so(cli, tmp_path: Path) -> None:
    """A store of labels only printed 'exported 3 images to OUT/images' and wrote none."""
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    image_column=None, provenance=Provenance(source="x", converter="unit"))
    store = st.build([{"gender": np.array([1, 0, 1])}], schema, tmp_path / "s")
    assert st.export_store(store, tmp_path / "out") == 0
    rows = list(csv.DictReader((tmp_path / "out" / "labels.csv").read_text().splitlines()))
    assert [(r["file"], r["gender"]) for r in rows] == [("", "male"), ("", "female"), ("", "male")]
    res = cli("data", "export", tmp_path / "s", "--out", tmp_path / "again")
    assert res.code == 0 and "exported no images (the store has none) and the labels of 3 rows" \
        in " ".join(res.out.split())


def test_export_writes_labels_as_utf8_in_any_locale(tmp_path: Path) -> None:
    """Where the locale's encoding is not UTF-8 (Windows: cp1252), ``data export`` ended in a
    UnicodeEncodeError at a class named 日本 (or wrote Müller in the locale's bytes)."""
    _non_ascii_store(tmp_path / "s")
    done = _latentplay("data", "export", tmp_path / "s", "--out", tmp_path / "out", env=_UNENCODABLE)
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")[-2000:]
    labels = (tmp_path / "out" / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert [row.split(",")[1] for row in labels[1:4]] == ["Müller", "日本", "a b"]


def test_export_replaces_an_earlier_export_whole_or_not_at_all(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Exported again with --overwrite, no earlier image is left behind; an export that fails
    midway leaves the earlier one as it was (it had rewritten images under the old labels)."""
    from latentplay.store import export
    from latentplay.store.subset import subset

    store = _small_store(tmp_path / "s")
    st.export_store(store, tmp_path / "out")
    small = subset(store, tmp_path / "small", np.arange(7, 12))
    st.export_store(small, tmp_path / "out", overwrite=True)
    assert len(list((tmp_path / "out" / "images").iterdir())) == 5
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}

    def fail(value: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(export, "_cell", fail)
    with pytest.raises(OSError, match="disk full"):
        st.export_store(store, tmp_path / "out", overwrite=True)
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before and sorted(os.listdir(tmp_path / "out")) == ["images", "labels.csv"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="not a directory"):
        st.export_store(store, tmp_path / "file", overwrite=True)


_WRITER = """
import sys, numpy as np
from latentplay import store as st
s = st.load(sys.argv[1])
big = np.ones((len(s), 2_000_000), dtype=np.float32)  # ~100 MB per 12 rows: a slow write
st.save(st.add_column(s, "big", big), s.path)
"""


def test_killed_writer_leaves_previous_store_intact(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s")
    before = st.load_images(store)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(store.path)])
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".s.tmp-*")):
        time.sleep(0.01)
    assert list(tmp_path.glob(".s.tmp-*")), "writer never started writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    again = st.load(tmp_path / "s")
    assert "big" not in again.columns
    assert np.array_equal(st.load_images(again), before)
    assert len(datasets.load_from_disk(str(tmp_path / "s"))) == len(store)


def test_build_refuses_existing_target(tmp_path: Path) -> None:
    _small_store(tmp_path / "s")
    with pytest.raises(UserError, match="already exists"):
        _small_store(tmp_path / "s")
    with pytest.raises(UserError, match="does not exist"):
        st.load(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserError, match="not a latentplay store"):
        st.load(tmp_path / "plain")


@pytest.mark.parametrize("edit, message", [
    (lambda d: "{not json", "not a valid latentplay schema: Expecting"),
    (lambda d: "[]", "not a valid latentplay schema: it does not hold a JSON object"),
    (lambda d: {k: v for k, v in d.items() if k != "provenance"}, "missing field 'provenance'"),
    (lambda d: {**d, "attributes": [{**d["attributes"][0], "kind": "weird"}]}, "kind must be"),
    (lambda d: {**d, "attributes": [{**d["attributes"][0], "colour": 1}]}, "unexpected keyword"),
    (lambda d: {**d, "attributes": [*d["attributes"], {"name": "age", "kind": "continuous"}]},
     "names column\\(s\\) 'age' that the data lacks"),
    (lambda d: {**d, "vectors": [{"name": "z", "dim": 2}]}, "names column\\(s\\) 'z'"),
])
def test_a_damaged_schema_is_one_clear_line(tmp_path: Path, edit: object, message: str) -> None:
    import json

    _small_store(tmp_path / "s")
    schema_file = tmp_path / "s" / SCHEMA_FILE
    changed = edit(json.loads(schema_file.read_text()))  # type: ignore[operator]
    schema_file.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(UserError, match=message) as info:
        st.load(tmp_path / "s")
    assert "\n" not in str(info.value)


def test_text_columns_are_kept_and_exported(tmp_path: Path) -> None:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="x", converter="unit"), text_columns=["file"])
    images = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    files = ["train/1.jpg", "val/1.jpg"]
    batch = {"image": [st.encode_png(i) for i in images], "gender": [0, 1], "file": files}
    store = st.build([batch], schema, tmp_path / "s")
    assert datasets.load_from_disk(str(tmp_path / "s"))["file"] == files
    assert st.load(tmp_path / "s").schema.text_columns == ["file"]
    st.export_store(store, tmp_path / "e")
    rows = list(csv.DictReader((tmp_path / "e" / "labels.csv").read_text().splitlines()))
    assert [r["source_file"] for r in rows] == files


def test_an_empty_store_loads(tmp_path: Path) -> None:
    from latentplay.store.subset import subset

    store = _small_store(tmp_path / "s")
    empty = subset(store, tmp_path / "none", np.array([], np.int64))
    again = st.load(tmp_path / "none")
    assert len(empty) == len(again) == 0 and again.columns == store.columns
    assert st.load_images(again).shape[0] == 0


def test_overwrite_replaces_only_a_store(tmp_path: Path) -> None:
    store = _small_store(tmp_path / "s")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "mine.jpg").write_bytes(b"x")
    with pytest.raises(UserError, match="not a latentplay store"):
        st.save(store, tmp_path / "photos", overwrite=True)
    with pytest.raises(UserError, match="not a latentplay store"):
        st.save(store, tmp_path, overwrite=True)  # the folder holding the store
    assert (tmp_path / "photos" / "mine.jpg").read_bytes() == b"x"
    assert len(st.load(store.path)) == len(store)
    other = _small_store(tmp_path / "t", n=5)
    assert len(st.save(store, other.path, overwrite=True)) == len(store)


def _turned_jpeg() -> tuple[bytes, np.ndarray]:
    """JPEG bytes of a 16 x 8 image with EXIF Orientation 6, and its ``(16, 8, 3)`` upright
    pixels."""
    import io

    from PIL import Image, ImageOps

    pixels = np.zeros((8, 16, 3), np.uint8)
    pixels[:4] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=95, exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    return buf.getvalue(), upright


def test_images_decode_upright_as_datasets_does(tmp_path: Path) -> None:
    data, upright = _turned_jpeg()
    assert upright.shape == (16, 8, 3)
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="x", converter="unit"))
    store = st.build([{"image": [{"bytes": data, "path": None}], "gender": [0]}], schema,
                     tmp_path / "s")
    assert np.array_equal(st.load_images(store)[0], upright)
    assert np.array_equal(np.asarray(store.dataset[0]["image"]), upright)


def test_images_that_differ_name_the_difference(tmp_path: Path) -> None:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="x", converter="unit"))
    grey, rgb = np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.uint8)
    mixed = st.build([{"image": [st.encode_png(grey), st.encode_png(rgb)], "gender": [0, 1]}],
                     schema, tmp_path / "mixed")
    with pytest.raises(UserError, match=r"differ in channels \(1, 3; give a mode") as err:
        st.load_images(mixed, size=4)
    assert "size" not in str(err.value)
    assert st.load_images(mixed, mode="RGB").shape == (2, 8, 8, 3)
    wide = np.zeros((8, 12, 3), np.uint8)
    sizes = st.build([{"image": [st.encode_png(rgb), st.encode_png(wide)], "gender": [0, 1]}],
                     schema, tmp_path / "sizes")
    with pytest.raises(UserError, match=r"differ in size \(8x8, 12x8; give a size") as err:
        st.load_images(sizes)
    assert "channels" not in str(err.value)


def test_export_keeps_values_exact_and_the_users_files(tmp_path: Path) -> None:
    """labels.csv held floats to 6 digits (values crossed the edges of their own bins), and
    --overwrite deleted files put in images/ by hand; a killed export's hidden folder made the
    next export say the folder was not empty."""
    schema = Schema(attributes=[Attribute("yaw", "continuous", range=(-1, 1))],
                    provenance=Provenance(source="x", converter="unit"))
    yaw = np.random.default_rng(0).uniform(-1, 1, 50).astype(np.float32)
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 50, "yaw": yaw}
    store = st.build([batch], schema, tmp_path / "s")
    out = tmp_path / "out"
    (out / ".export-killed").mkdir(parents=True)          # an export killed outright
    (out / ".export-killed" / "labels.csv").write_text("partial")
    st.export_store(store, out)
    assert sorted(os.listdir(out)) == ["images", "labels.csv"]
    rows = list(csv.DictReader((out / "labels.csv").read_text().splitlines()))
    assert np.array_equal(np.array([float(r["yaw"]) for r in rows], np.float32), yaw)
    (out / "images" / "IMG_0001.jpg").write_text("the user's")
    with pytest.raises(UserError, match=r"holds 1 file\(s\) no earlier export wrote "
                                        r"\(images/IMG_0001\.jpg\)"):
        st.export_store(store, out, overwrite=True)
    assert (out / "images" / "IMG_0001.jpg").read_text() == "the user's"
    (out / "images" / "IMG_0001.jpg").unlink()
    st.export_store(store, out, overwrite=True)              # its own images: replaced


_TERMINATED_BUILD = """
import os, signal, sys
import numpy as np
from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema

def batches():
    for k in range(30):
        if k == 20:
            os.kill(os.getpid(), signal.SIGTERM)       # as `kill PID` mid-write
        yield {"image": [st.encode_png(np.full((8, 8, 3), k, np.uint8))], "n": [float(k)]}

schema = Schema(attributes=[Attribute("n", "continuous")],
                provenance=Provenance(source="x", converter="unit"))
st.build(batches(), schema, sys.argv[1], overwrite=True)
"""


def test_a_terminated_build_leaves_no_scratch_and_the_store_before(tmp_path: Path) -> None:
    """``kill PID`` during ``data make`` (any store write) left its hidden scratch folder
    beside --out until the next write there; now SIGTERM removes it (exit status 143)."""
    before = _small_store(tmp_path / "s")
    rows = len(before)
    done = subprocess.run([sys.executable, "-c", _TERMINATED_BUILD, str(tmp_path / "s")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]       # no scratch sibling
    assert len(st.load(tmp_path / "s")) == rows


def test_export_names_files_by_their_format_and_leaves_unknown_classes_empty(tmp_path: Path) -> None:
    """A row without a class (code -1) gets an empty cell, not the last class's name; a JPEG
    keeps its bytes under a .jpg name, a PNG under .png."""
    import io

    from PIL import Image

    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="x", converter="unit"))
    buf = io.BytesIO()
    Image.fromarray(np.full((4, 4, 3), 90, np.uint8)).save(buf, format="JPEG")
    jpeg = {"bytes": buf.getvalue(), "path": None}
    png = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    store = st.build([{"image": [jpeg, png, png], "gender": [0, -1, 1]}], schema, tmp_path / "s")
    st.export_store(store, tmp_path / "e")
    rows = list(csv.DictReader((tmp_path / "e" / "labels.csv").read_text().splitlines()))
    assert [(r["file"], r["gender"]) for r in rows] == [
        ("images/000000.jpg", "female"), ("images/000001.png", ""), ("images/000002.png", "male")]
    assert (tmp_path / "e" / "images" / "000000.jpg").read_bytes() == jpeg["bytes"]
