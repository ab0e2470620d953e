"""A run refused at set-up leaves its --out free: fixing the typo and running again trains
(it said the run "stopped before its first checkpoint" and sent the user to delete it)."""

from __future__ import annotations

from pathlib import Path

from latentplay.train.api import STATE_FILE


def test_a_set_up_error_leaves_out_free(cli, shapes_store: Path, tiny: list[str],
                                         tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = cli("train", "vae", "--data", shapes_store, "--out", out, "--batch-size", "100000", *tiny)
    assert r.code == 2 and "fewer than one batch" in r.err and not out.exists()
    # 320 rows less the 32 held out (test_fraction 0.1): the largest batch that fits, as it says
    assert "give --batch-size 288 or fewer" in r.err
    r = cli("train", "cvae", "--data", shapes_store, "--out", out, "model.condition=[nothing]", *tiny)
    assert r.code == 2 and "not an attribute" in r.err and not out.exists()
    out.mkdir()  # a folder the user made stays, empty
    r = cli("train", "vae", "--data", shapes_store, "--out", out, "--batch-size", "100000", *tiny)
    assert r.code == 2 and list(out.iterdir()) == []
    r = cli("train", "vae", "--data", shapes_store, "--out", out, "--max-steps", "1",
            "--batch-size", "288", *tiny)
    assert r.code == 0, r.err
    assert (out / STATE_FILE).is_file()
