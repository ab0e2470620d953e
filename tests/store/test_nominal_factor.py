"""A nominal factor (dSprites' shape: square, ellipse, heart) has no order: no trend test
along it, no ramp, named levels; ``data order`` marks a factor nominal or not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from latentplay import sources, store
from latentplay.store.schema import Attribute


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nominal") / "shapes"
    sources.make("shapes", path, n=240, seed=0)
    return path


def test_shape_is_a_nominal_factor_with_named_levels(shapes: Path) -> None:
    schema = store.load(shapes).schema
    shape, scale = schema.attribute("shape"), schema.attribute("scale")
    assert shape.nominal and not shape.has_order and shape.level_names == ["square", "ellipse", "heart"]
    assert scale.has_order and scale.level_names[0] == "0.5"
    assert [a.name for a in schema.factors] == ["shape", "scale", "orientation", "pos_x", "pos_y"]


def test_the_bias_chart_tests_no_trend_along_shape_until_it_is_ordered(cli, shapes: Path,
                                                                      tmp_path: Path) -> None:
    """`data bias --by shape` printed a trend along square, ellipse, heart. The orders are
    given to a copy: the module's store is read by the other tests."""
    shapes = shutil.copytree(shapes, tmp_path / "shapes")
    res = cli("data", "bias", shapes, "--by", "shape", "--of", "scale", "--out", tmp_path / "b.png")
    assert res.code == 0 and "chi-square" in res.out and "trend" not in res.out
    res = cli("data", "order", shapes, "shape")
    assert res.code == 0 and "shape: ordered; square" in res.out
    assert store.load(shapes).schema.attribute("shape").has_order
    res = cli("data", "bias", shapes, "--by", "shape", "--of", "scale", "--out", tmp_path / "b.png")
    assert "trend along shape" in res.out
    assert cli("data", "order", shapes, "shape", "--unordered").code == 0
    assert store.load(shapes).schema.attribute("shape").nominal
    res = cli("data", "order", shapes, "shape", "--classes", "heart,square,ellipse")
    assert res.code == 2 and "'shape' is a factor, whose levels follow their values" in res.err


def test_a_shapes_store_saved_before_nominal_factors_keeps_shape_unordered(
        cli, shapes: Path, tmp_path: Path) -> None:
    """An older shapes store (no 'nominal' saved, shape's levels unnamed) read shape as
    ordered: data bias tested a trend along square, ellipse, heart. A flag saved since is
    kept."""
    old = tmp_path / "shapes"
    shutil.copytree(shapes, old)
    saved = json.loads((old / "latentplay.json").read_text())
    for attr in saved["attributes"]:
        del attr["nominal"]  # the schema as latentplay wrote it then
    saved["attributes"][0]["names"] = None
    (old / "latentplay.json").write_text(json.dumps(saved))
    shape = store.load(old).schema.attribute("shape")
    assert shape.nominal and shape.level_names == ["1", "2", "3"]
    assert store.load(old).schema.attribute("scale").has_order
    res = cli("data", "bias", old, "--by", "shape", "--of", "scale", "--out", tmp_path / "b.png")
    assert res.code == 0 and "trend" not in res.out
    assert cli("data", "order", old, "shape").code == 0
    assert store.load(old).schema.attribute("shape").has_order


def test_only_a_factor_is_nominal_and_its_names_match_its_levels() -> None:
    with pytest.raises(ValueError, match="only a factor is marked nominal"):
        Attribute("g", "categorical", names=["a", "b"], nominal=True)
    with pytest.raises(ValueError, match="2 names for 3 levels"):
        Attribute("f", "factor", values=[1.0, 2.0, 3.0], names=["a", "b"])
