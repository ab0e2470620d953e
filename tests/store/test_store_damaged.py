"""A store whose files were damaged (truncated data, a rewritten state.json) is one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int = 200) -> st.Store:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="test"))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)
    return st.build([{"image": [st.encode_png(im) for im in images], "gender": np.arange(n) % 2}],
                    schema, path)


def _truncate_data(path: Path) -> None:
    data = path / "data-00000-of-00001.arrow"
    with open(data, "r+b") as fh:
        fh.truncate(data.stat().st_size // 2)


DAMAGES = {
    "truncated data": _truncate_data,
    "state {}": lambda p: (p / "state.json").write_text("{}"),
    "state []": lambda p: (p / "state.json").write_text("[]"),
    "dataset_info []": lambda p: (p / "dataset_info.json").write_text("[]"),
    "data file missing": lambda p: (p / "data-00000-of-00001.arrow").unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_store_is_one_line(tmp_path: Path, damage: str,
                                     cli: Callable[..., object]) -> None:
    """A truncated arrow file gave an OSError traceback and a state.json of ``{}`` a KeyError
    one (exit 1)."""
    _store(tmp_path / "c")
    DAMAGES[damage](tmp_path / "c")
    with pytest.raises(UserError, match=rf"^{tmp_path / 'c'} is damaged \(it could not be opened "
                       r"as a dataset\): .+; write it again or restore it from a copy$"):
        st.load(tmp_path / "c")
    result = cli("data", "info", tmp_path / "c")
    assert result.code == 2 and result.err.startswith(f"error: {tmp_path / 'c'} is damaged (")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
