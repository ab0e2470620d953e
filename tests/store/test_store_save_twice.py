"""Saving in place again from one process: a store this process wrote itself since it was read
is saved when it keeps every column of the one on disk, and refused, naming them, when not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_store import tiny_store

from latentplay import store as st
from latentplay.store.io import StoreChanged


def test_one_object_saved_twice_and_one_derived_from_it_are_saved(tmp_path: Path) -> None:
    """Both were refused: '... changed on disk since this command read it (another command
    wrote it)', though this process wrote the store on disk and nothing was lost."""
    s = tiny_store(tmp_path / "s")
    s2 = st.add_column(s, "emb", np.ones((6, 2)))
    st.save(s2, s.path)
    st.save(s2, s.path)
    st.save(st.add_column(s2, "emb2", np.zeros((6, 3))), s2.path)
    assert {"emb", "emb2"} <= set(st.load(tmp_path / "s").columns)


def test_a_save_that_would_drop_what_this_process_wrote_names_it(tmp_path: Path) -> None:
    s = tiny_store(tmp_path / "s")
    st.save(st.add_column(s, "emb", np.ones((6, 2))), s.path)
    with pytest.raises(StoreChanged, match=r": this save would drop column\(s\) emb written since "
                       r"this store was read \(by an earlier save in this process.*\); load it "
                       r"again \(store.load\) and redo this change, or save the store that earlier "
                       r"save returned$"):
        st.save(st.add_column(s, "other", np.ones((6, 2))), s.path)
    assert "emb" in st.load(tmp_path / "s").columns


def test_another_process_writing_meanwhile_is_still_refused(tmp_path: Path) -> None:
    s = tiny_store(tmp_path / "s")
    s2 = st.save(st.add_column(s, "emb", np.ones((6, 2))), s.path)
    other = ("import sys, numpy as np; from latentplay import store as st; s = st.load(sys.argv[1]); "
             "st.save(st.add_column(s, 'pca', np.ones((len(s), 2))), s.path)")
    subprocess.run([sys.executable, "-c", other, str(tmp_path / "s")], check=True)
    with pytest.raises(StoreChanged, match=r"\(another command wrote it\); run this command again$"):
        st.save(st.add_column(s2, "emb2", np.ones((6, 2))), s2.path)
    assert "pca" in st.load(tmp_path / "s").columns
