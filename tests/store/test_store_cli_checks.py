"""What ``data grid`` and ``data bin`` refuse or warn about: a grid's --out names the PNG it
writes; bins that hold no rows are named, quantiles of one row each are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int = 20) -> st.Store:
    """``n`` rows of 6x6 images, ``smile`` in [-1, 1] (the last row without a value), ``gender``."""
    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1, 1)),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    smile = np.linspace(-1, 1, n).astype(np.float32)
    smile[-1] = np.nan
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 6, 6, 3), np.uint8)],
             "smile": smile, "gender": np.arange(n) % 2}
    return st.build([batch], schema, path)


def test_grid_writes_the_png_it_names(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")
    out = tmp_path / "figs" / "grid.PNG"
    r = cli("data", "grid", tmp_path / "s", "--out", out, "--by", "gender", "--per-row", "3")
    assert r.code == 0, r.err
    assert r.out.strip() == f"wrote {out}" and out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("out", "message"), [
    ("grid_noext", "--out must name a .png, .pdf or .svg file"),
    ("grid.jpg", "--out must name a .png, .pdf or .svg file"),
    ("s", "is a directory"),
])
def test_grid_refuses_an_out_that_is_no_png(cli, tmp_path: Path, out: str, message: str) -> None:
    _store(tmp_path / "s")
    r = cli("data", "grid", tmp_path / "s", "--out", tmp_path / out)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.jpg"))


def test_bias_refuses_a_directory(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")
    r = cli("data", "bias", tmp_path / "s", "--by", "gender", "--of", "smile", "--out",
            tmp_path / "s")
    assert r.code == 2 and "is a directory" in r.err


def test_bin_names_groups_without_rows(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")
    r = cli("data", "bin", tmp_path / "s", "smile", "--edges=5,6")
    assert r.code == 0, r.err
    assert "smile_group: <5 19, [5, 6) 0, >=6 0, unknown 1" in r.out
    assert "warning: no rows fall in [5, 6), >=6 (smile runs from -1 to" in r.err
    r = cli("data", "bin", tmp_path / "s", "smile", "--edges=0", "--overwrite")
    assert r.code == 0 and "warning" not in r.out


def test_bin_refuses_quantiles_of_single_rows(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")  # 19 rows with a value
    r = cli("data", "bin", tmp_path / "s", "smile", "--quantiles", "500")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "fewer than 2 rows per group" in r.err and "19 rows; give at most 9" in r.err
    assert "smile_group" not in st.load(tmp_path / "s").columns
    r = cli("data", "bin", tmp_path / "s", "smile", "--quantiles", "9")
    assert r.code == 0, r.err


@pytest.mark.parametrize("threshold", ["nan", "-0.5", "inf", "0"])
def test_persons_refuses_a_threshold_that_is_no_distance(cli, tmp_path: Path, threshold: str) -> None:
    """``data persons --threshold nan`` found no pair and still added a ``person`` attribute to
    the store (exit 0); the store is now left as it was."""
    _store(tmp_path / "s")
    before = (tmp_path / "s" / "latentplay.json").read_text()
    r = cli("data", "persons", tmp_path / "s", "--column", "v", "--threshold", threshold)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert r.err.startswith("error: threshold (--threshold) must be a distance above 0"), r.err
    assert (tmp_path / "s" / "latentplay.json").read_text() == before


def test_persons_names_a_mistyped_column_and_metric_before_a_taken_name(cli, tmp_path: Path) -> None:
    """With ``person`` already added, a mistyped --column was told to pass --overwrite."""
    store = _store(tmp_path / "s")
    x = np.random.default_rng(0).standard_normal((len(store), 4)).astype(np.float32)
    st.save(st.add_column(store, "v", x), tmp_path / "s")
    assert cli("data", "persons", tmp_path / "s", "--column", "v").code == 0
    r = cli("data", "persons", tmp_path / "s", "--column", "vv")
    assert r.code == 2 and r.err.startswith("error: no column 'vv' in store"), r.err
    r = cli("data", "persons", tmp_path / "s", "--column", "v", "--metric", "cosin")
    assert r.code == 2 and r.err.startswith("error: metric (--metric) must be one of"), r.err


def test_bin_says_when_ties_give_fewer_quantile_groups(cli, tmp_path: Path) -> None:
    """Half the rows at -1: four quantiles have edges that fall together; the command said
    nothing of the two groups it made. Rows without a value (unknown) are no group."""
    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1, 1))],
                    provenance=Provenance(source="test", converter="unit"))
    smile = np.r_[np.full(20, -1.0), np.linspace(0, 1, 20), np.full(4, np.nan)].astype(np.float32)
    st.build([{"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 44, "smile": smile}],
             schema, tmp_path / "s")
    r = cli("data", "bin", tmp_path / "s", "smile", "--quantiles", "4")
    assert r.code == 0, r.err
    groups = [c for c in st.load(tmp_path / "s").schema.attribute("smile_group").names if c != "unknown"]
    assert len(groups) < 4
    assert f"note: {len(groups)} groups, not 4: tied values of smile share a group" in r.err
    r = cli("data", "bin", tmp_path / "s", "smile", "--quantiles", "2", "--name", "halves")
    assert r.code == 0 and "note:" not in r.err  # as many groups as asked: nothing to say


@pytest.mark.parametrize("args", [
    ["bin", "yaw", "--edges=0", "--name", "yaw"],
    ["combine", "gender,eyeglasses", "--name", "gender"],
    ["split", "--group", "identity", "--name", "identity"],
    ["regroup", "gender", "--into", "a=female", "--into", "b=male", "--name", "gender"],
])
def test_a_new_attribute_cannot_replace_its_own_source(cli, tmp_path: Path, args: list[str]) -> None:
    """`--name yaw --overwrite` replaced the continuous yaw by its groups, for good."""
    from latentplay import sources

    path = tmp_path / "faces"
    sources.make("synthfaces", path, n=40, overrides=["identities=10"])
    before = st.load(path).schema.attribute(args[-1])
    r = cli("data", args[0], path, *args[1:], "--overwrite")
    assert r.code == 2 and f"the new attribute '{args[-1]}' would replace the attribute it is " \
        "made from" in r.err
    assert st.load(path).schema.attribute(args[-1]) == before
