"""Reports of stores: where they go, the attribute counts, vectors, rejected rows, the grid,
cross-tabs, and escaping of strings that come from the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from report_html import assert_self_contained, decode_image, row_of, value

from latentplay import store as st
from latentplay.report import build_report


def test_store_report(faces: Path, tmp_path: Path) -> None:
    data = shutil.copytree(faces, tmp_path / "faces")
    (data / st.REJECTED_FILE).write_text("file,reason\na.png,unreadable\nb.png,no face\n")
    (data / "pairs.csv").write_text("row_a,row_b,same\n0,1,1\n0,2,0\n3,-1,1\n")
    out = build_report(data)
    assert out == tmp_path / "faces.report.html"  # beside the store, not inside it
    text = out.read_text(encoding="utf-8")
    html = assert_self_contained(out)
    assert html.sections == ["store", "attributes", "vectors", "grid", "crosstabs"]
    assert all(decode_image(s).format == "PNG" for s in html.images)
    store = st.load(data)
    attributes = store.schema.attributes
    assert len(html.images) == len(attributes) + 1  # a chart per attribute and the grid
    info = st.info(store)
    tables = html.tables["attributes"]
    gender = tables[[a.name for a in attributes].index("gender")]
    for name, count in info["attributes"]["gender"]["counts"].items():
        assert value(row_of(gender, name)[1]) == count
    assert row_of(html.tables["vectors"][0], "emb")[1] == "4"
    assert "<dd>160</dd>" in text and "2 (listed in" in text
    assert "3 (2 genuine, 1 impostor; 1 with an unconverted image)" in text
    cross = html.tables["crosstabs"][0]
    assert cross[0][0] == "skin_tone \\ gender"
    total = sum(value(r[-1]) for r in cross[1:])
    assert total == len(store)
    # the cross-tab's caption carries data bias's tests (skin tone is ordered: a trend too)
    from latentplay.store.bias import association

    found = association(store, "skin_tone", "gender")
    assert f"Chi-square {found.chi2:.1f} on {found.dof} dof" in text
    assert ("trend along skin_tone" in text) == (found.trend is not None)
    # a continuous attribute's test is over the bins the table shows
    row, col = html.tables["crosstabs"][1][0][0].split(" \\ ")
    binned = association(store, row, col, bins=4)
    assert binned.dof == (len(html.tables["crosstabs"][1][0]) - 3) * (len(html.tables["crosstabs"][1]) - 2)
    assert f"Chi-square {binned.chi2:.1f} on {binned.dof} dof" in text


def test_store_strings_are_escaped(faces: Path, tmp_path: Path) -> None:
    data = shutil.copytree(faces, tmp_path / "evil")
    schema = json.loads((data / st.SCHEMA_FILE).read_text())
    gender = next(a for a in schema["attributes"] if a["name"] == "gender")
    gender["names"][0] = "<script>alert('x')</script>"
    gender["description"] = "a & b <b>bold</b>"
    (data / st.SCHEMA_FILE).write_text(json.dumps(schema))
    text = build_report(data, tmp_path / "evil.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "a &amp; b &lt;b&gt;bold&lt;/b&gt;" in text


def test_identity_attribute_is_summarised_not_listed(tmp_path: Path) -> None:
    """An attribute of many classes (identities) gets rows per class, not a row per class,
    and stays out of the default cross-tab."""
    from latentplay import sources

    store = sources.make("synthfaces", tmp_path / "persons", n=90, overrides=["identities=40"])
    info = st.info(store)
    per_class = info["attributes"]["identity"]["per_class"]
    assert per_class["classes"] == 40 and (per_class["min"], per_class["max"]) == (2, 3)
    assert sum(info["attributes"]["identity"]["counts"].values()) == 90  # still in the JSON
    assert "identity" not in (info["crosstab"]["rows"], info["crosstab"]["columns"])
    assert "per_class" not in info["attributes"]["skin_tone"]
    text = build_report(store.path).read_text(encoding="utf-8")
    assert "person_00039" not in text.split("largest", 1)[0]  # no row per person before it
    assert "rows per class" in text and "2 to 3, median 2" in text


def test_store_report_of_measured_attributes(tmp_path: Path) -> None:
    from latentplay import sources
    from latentplay.measure import measure_store

    data = tmp_path / "measured"
    sources.make("synthfaces", data, n=40, seed=0)
    store = measure_store(data, ["pose"], progress=False)
    missing = int(np.isnan(store.labels("pose_yaw")).sum())
    assert missing  # pose is read only where the detector finds a face (measured: 32 of 40 rows)
    # groups cut from a measured value are listed with their source and edges
    st.bin_store(data, "pose_yaw", edges=[-10, 10], names=["left", "front", "right"])
    out = build_report(data)
    html = assert_self_contained(out)
    history = html.tables["vectors"][-1]
    row = row_of(history, "measure")
    assert row[1] == "pose_yaw, pose_pitch, pose_roll, face_score, face_found"
    found = int((store.labels("face_found") == 1).sum())
    assert row[2] == f"measure pose (faces found in {found:,})"
    assert f"rows without a value</dt><dd>{missing:,}</dd>" in out.read_text(encoding="utf-8")
    assert row_of(history, "bin")[1:3] == ["pose_yaw_group", "pose_yaw cut at -10, 10"]


def test_count_chart_greys_unknown(tmp_path: Path, monkeypatch) -> None:
    """A class ``unknown`` (rows without a value) is a hatched grey bar in the store report's
    count chart, like in every figure; the other classes keep the chart's colour."""
    from latentplay.report import stores
    from latentplay.store import Attribute, Provenance, Schema
    from latentplay.viz import distribution
    from latentplay.viz.style import UNKNOWN_FILL

    schema = Schema(attributes=[Attribute("smile", "categorical", ordered=True,
                                          names=["frown", "neutral", "smile", "unknown"])],
                    provenance=Provenance(source="test", converter="unit"))
    images = np.random.default_rng(0).integers(0, 256, (8, 6, 6, 3), np.uint8)
    st.build([{"image": [st.encode_png(im) for im in images],
               "smile": np.array([0, 1, 2, 3, 3, 3, 0, 1])}], schema, tmp_path / "s")
    drawn = []
    original = distribution.count_bars

    def spy(*args, **kwargs):
        fig = original(*args, **kwargs)
        drawn.append([(p.get_facecolor(), p.get_hatch()) for p in fig.axes[0].patches])
        return fig

    monkeypatch.setattr(distribution, "count_bars", spy)
    stores.page(tmp_path / "s")
    (bars,) = drawn
    np.testing.assert_allclose(bars[3][0], UNKNOWN_FILL)
    assert bars[3][1] and not any(hatch for _, hatch in bars[:3])
    assert all(tuple(face) != tuple(UNKNOWN_FILL) for face, _ in bars[:3])


TILT = np.array([-2.0, -1.5, -0.5, 0.0, 0.5, 1.5, np.nan, 0.2], np.float32)


def _tilt_store(path: Path) -> Path:
    """A store of 8 tiny images: ``side`` (categorical) and ``tilt`` (:data:`TILT`, declared
    range -1 to 1: three values outside it, one missing)."""
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("side", "categorical", names=["left", "right"]),
                                Attribute("tilt", "continuous", range=(-1.0, 1.0))],
                    provenance=Provenance(source="test", converter="unit"))
    images = np.random.default_rng(0).integers(0, 256, (len(TILT), 6, 6, 3), np.uint8)
    st.build([{"image": [st.encode_png(im) for im in images], "side": np.arange(len(TILT)) % 2,
               "tilt": TILT}], schema, path)
    return path


def test_values_outside_the_declared_range_are_counted(tmp_path: Path) -> None:
    """Values outside a continuous attribute's declared range fall in no histogram bin: the
    report says how many and where they lie, and the bins' shares are of every row with a value
    (not only the binned ones), so they do not add up to 100 % as if the bins held them all."""
    out = build_report(_tilt_store(tmp_path / "s"))
    html = assert_self_contained(out)
    rows = html.tables["attributes"][1][1:]
    finite = TILT[np.isfinite(TILT)]
    inside = int(((finite >= -1) & (finite <= 1)).sum())
    assert sum(value(r[1]) for r in rows) == inside
    assert sum(float(r[2].rstrip("%")) for r in rows) == pytest.approx(100 * inside / finite.size,
                                                                      abs=0.2)
    text = out.read_text(encoding="utf-8")
    assert (f"rows outside the range (in no bin)</dt><dd>{finite.size - inside} "
            f"(values -2 to 1.5)</dd>") in text


def test_crosstab_says_how_many_rows_it_leaves_out(tmp_path: Path) -> None:
    """A row without a value of one side is in no cell of the cross-tab: its caption says how
    many such rows there are, so that its total need not equal the store's rows unexplained."""
    out = build_report(_tilt_store(tmp_path / "s"))
    table = assert_self_contained(out).tables["crosstabs"][0]
    total = sum(value(r[-1]) for r in table[1:])
    missing = int(np.isnan(TILT).sum())
    assert total == len(TILT) - missing
    assert f"left out: {missing:,} without a value of either." in out.read_text(encoding="utf-8")


def test_store_report_of_concatenated_stores(faces: Path, tmp_path: Path) -> None:
    """A concat history entry counts rows per store (a list): its history row sums them and
    names each store's share (the report failed with a TypeError on the list)."""
    from latentplay.store.concat import concat_stores

    made = concat_stores([faces, faces], tmp_path / "both", names=["real", "made"])
    html = assert_self_contained(build_report(made.store.path))
    row = row_of(html.tables["vectors"][-1], "concat")
    n = len(st.load(faces))
    assert row[1:4] == ["source", f"real ({n:,}) + made ({n:,})", f"{2 * n:,}"]


def test_history_and_cached_projections_are_said_in_words(faces: Path, tmp_path: Path) -> None:
    """The history's "with" cell was empty for regroup, order, split and subset, and a column
    of cached projection coordinates was described by its raw JSON record."""
    from latentplay.embed.coordinates import projections
    from latentplay.store.order import order_classes
    from latentplay.store.regroup import regroup_store
    from latentplay.store.split import split_store

    data = shutil.copytree(faces, tmp_path / "faces")
    classes = [c for c in st.load(data).schema.attribute("skin_tone").names if c != "unknown"]
    assert len(classes) >= 3
    regroup_store(data, "skin_tone", {"first": classes[:1], "second": classes[1:2]}, name="tone1")
    order_classes(data, "gender", ordered=False)
    split_store(data, test=0.25, seed=3, group="skin_tone")
    projections(st.load(data), ["emb"], ["pca"])
    html = assert_self_contained(build_report(data))
    history = html.tables["vectors"][-1]
    assert row_of(history, "regroup")[2] == (f"skin_tone: first = {classes[0]}; second = "
                                             f"{classes[1]}; {', '.join(classes[2:])} in no group")
    assert row_of(history, "order")[2] == ", ".join(st.load(data).schema.attribute("gender").names)
    assert row_of(history, "split")[2] == "test 0.25, each skin_tone in one part, seed 3"
    cached = row_of(html.tables["vectors"][0], "pca__emb")
    assert cached[2] == "PCA of emb (coordinates kept by viz projection): whiten False; seed 0"
