from pathlib import Path

import datasets


def test_quickstart_builds_store_and_grids(cli, tmp_path: Path) -> None:
    out = tmp_path / "qs"
    result = cli("quickstart", "--out", out, "--n", "120")
    assert result.code == 0, result.err
    ds = datasets.load_from_disk(str(out / "synthfaces"))
    assert len(ds) == 120
    assert "gender" in result.out and "done" in result.out
    for attr in ("gender", "age_group", "skin_tone", "smile"):
        png = out / f"grid_{attr}.png"
        assert png.read_bytes()[:4] == b"\x89PNG"
    # running it again replaces its own store rather than failing
    assert cli("quickstart", "--out", out, "--n", "60").code == 0
    assert len(datasets.load_from_disk(str(out / "synthfaces"))) == 60
