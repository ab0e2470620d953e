"""`audit annotator` and `ClassifierAnnotator.save` keep an existing annotator file unless told
to replace it (a gender annotator written over a skin-tone one used to pass silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay.audit import ClassifierAnnotator, load_annotator
from latentplay.errors import UserError


def test_a_second_annotator_into_one_file_is_refused_before_training(
        cli, faces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "skin.npz"
    assert cli("audit", "annotator", faces, "--attribute", "skin_tone", "--out", path,
               "-o", "dim=8").code == 0
    before = path.read_bytes()

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained before refusing the existing --out")

    with monkeypatch.context() as m:
        m.setattr("latentplay.audit.annotate.fit_classifier", no_training)
        r = cli("audit", "annotator", faces, "--attribute", "gender", "--out", path)
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert lines == [f"error: {path} already exists; pass --overwrite (overwrite=True in Python) "
                     "to replace it"], r.err
    assert path.read_bytes() == before and load_annotator(path).attribute == "skin_tone"

    r = cli("audit", "annotator", faces, "--attribute", "gender", "--out", path, "-o", "dim=8",
            "--overwrite")
    assert r.code == 0, r.err
    assert load_annotator(path).attribute == "gender"


def test_save_keeps_an_existing_file_unless_overwrite(skin_annotator: ClassifierAnnotator,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "ann.npz"
    path.write_bytes(b"not an annotator")
    with pytest.raises(UserError, match=r"already exists; pass --overwrite \(overwrite=True in "
                                        r"Python\) to replace it"):
        skin_annotator.save(path)
    assert path.read_bytes() == b"not an annotator"
    assert skin_annotator.save(path, overwrite=True) == path
    assert load_annotator(path).attribute == "skin_tone"
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(UserError, match="is a directory; name the annotator file"):
        skin_annotator.save(tmp_path / "folder.npz", overwrite=True)
