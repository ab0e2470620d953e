"""Wording of ``data measure`` and ``data bias``: counts in the singular for one, and ``--bins``
named in its error and explained in its help."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int) -> st.Store:
    """``n`` rows of 16x16 images with ``smile`` in [-1, 1] and ``gender``."""
    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1, 1)),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 16, 16, 3), np.uint8)],
             "smile": np.linspace(-1, 1, n).astype(np.float32), "gender": np.arange(n) % 2}
    return st.save(st.build([batch], schema, path), path)


def test_measure_counts_one_row_in_the_singular(cli, tmp_path: Path) -> None:  # noqa: ANN001
    _store(tmp_path / "s", 1)
    r = cli("data", "measure", tmp_path / "s", "--what", "quality", "--no-detect")
    assert r.code == 0, r.err
    assert "measured 1 row of" in r.out


def test_measure_line_keeps_a_long_path_whole(cli, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / ("a_store_with_a_long_descriptive_name_" * 4)
    _store(path, 2)
    r = cli("data", "measure", path, "--what", "quality", "--no-detect")
    assert r.code == 0, r.err
    assert f"measured 2 rows of {path}" in r.out.splitlines()


def test_bias_error_names_the_bins_option(cli, tmp_path: Path) -> None:  # noqa: ANN001
    _store(tmp_path / "s", 20)
    r = cli("data", "bias", tmp_path / "s", "--by", "gender", "--of", "smile", "--bins", "1",
            "--out", tmp_path / "b.png")
    assert r.code == 2
    assert r.err.strip().splitlines()[-1].endswith("--bins must be at least 2, got 1")


def test_bias_help_says_what_bins_does(cli) -> None:  # noqa: ANN001
    r = cli("data", "bias", "--help")
    text = " ".join(r.out.replace("│", " ").split())
    assert "equal-width bins a continuous --by or --of attribute is cut into" in text
    assert "2 or more" in text and "[default: 2]" in text


def test_info_says_what_wrote_each_vector_column(cli, tmp_path: Path) -> None:  # noqa: ANN001
    """Each vector column with its description (what wrote it), its size where the description
    lacks it; a long description cut to one line; a cached projection apart."""
    data = _store(tmp_path / "s", 6)
    zeros = np.zeros((6, 4), np.float32)
    data = st.add_column(data, "vae_mu", zeros, "vae:runs/vae (4-d)")
    data = st.add_column(data, "w", zeros, "imported from /data/latents\n" + "x" * 100)
    data = st.add_column(data, "plain", zeros[:, :2])
    data = st.add_column(data, "pca__plain", zeros[:, :2], '{"projection": "pca"}')
    st.save(data, tmp_path / "s")
    r = cli("data", "info", tmp_path / "s")
    assert r.code == 0, r.err
    line = next(line for line in r.out.splitlines() if line.startswith("vector columns:"))
    assert line == ("vector columns: vae_mu: vae:runs/vae (4-d); w (4-d): imported from "
                    "/data/latents " + "x" * 51 + "…; plain (2-d)")
    assert "cached projections (viz): pca__plain" in r.out


def test_paths_holding_brackets_are_printed_as_written(cli, tmp_path: Path) -> None:  # noqa: ANN001
    """rich read ``[red]`` in a path as a colour and left it out (``data info st[red]`` printed
    ``st: 3 rows``), and ``[/b]`` as a closing tag: a MarkupError traceback after the work."""
    (tmp_path / "a[").mkdir()
    for path in (tmp_path / "st[red]", tmp_path / "a[" / "b]x"):
        _store(path, 3)
        r = cli("data", "info", path)
        assert r.code == 0, r.err
        assert r.out.splitlines()[0].startswith(f"{path}: 3 rows")
    out = tmp_path / "ex[bold]"
    r = cli("data", "export", tmp_path / "st[red]", "--out", out)
    assert r.code == 0, r.err
    assert r.out.strip() == (f"exported 3 images to {out / 'images'} and the labels of 3 rows to "
                             f"{out / 'labels.csv'}")
