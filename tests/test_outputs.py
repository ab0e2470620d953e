"""What every command's outputs share: parents made, p-values as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.outputs import make_parents, output_dir, p_text


def test_p_text():
    assert p_text(0.0123) == "0.012" and p_text(0.0123, 3) == "0.0123"
    assert p_text(0.0) == "< 1e-300"
    assert p_text(9.88e-324) == "< 1e-300"  # a subnormal's digits mean nothing
    assert p_text(2e-300) == "2e-300"


def test_parents_are_made_unless_a_file_is_in_the_way(tmp_path: Path):
    target = make_parents(tmp_path / "a" / "b" / "c.png")
    assert target.parent.is_dir() and not target.exists()
    assert output_dir(tmp_path / "x" / "y", overwrite=False).is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="a file is in the way"):
        make_parents(tmp_path / "file" / "c.png")
    with pytest.raises(UserError, match="exists and is not empty"):
        output_dir(tmp_path / "a", overwrite=False)
