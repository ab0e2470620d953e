"""Rows chosen from Python: a boolean mask selects its rows (it was read as the row numbers 0
and 1), bad selections are one clear error, vectors come back writable, a store prints short."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.rows import row_numbers


def test_row_numbers_take_masks_and_refuse_what_is_no_selection() -> None:
    mask = np.array([True, False, True, False])
    np.testing.assert_array_equal(row_numbers(mask, 4), [0, 2])
    np.testing.assert_array_equal(row_numbers([3, 1, 1], 4), [3, 1, 1])
    np.testing.assert_array_equal(row_numbers(np.array([2.0]), 4), [2])
    assert row_numbers([], 4).dtype == np.int64
    for bad, words in [(5, "give a sequence"), ([1.5], "not a whole row"), ([4], "outside"),
                       ([-1], "outside"), (mask[:3], "boolean mask of 3"),
                       (np.zeros((2, 2), int), "shape (2, 2)"), (["a"], "whole row numbers")]:
        with pytest.raises(UserError, match=re.escape(words)):
            row_numbers(bad, 4)


def test_a_mask_loads_its_rows_images_and_vectors(faces_store: Path, tmp_path: Path) -> None:
    faces = st.load(faces_store)
    female = faces.labels("gender") == 0
    rows = np.flatnonzero(female)
    assert 0 < len(rows) < len(faces)
    np.testing.assert_array_equal(st.load_images(faces, female), st.load_images(faces, rows))
    values = np.random.default_rng(0).normal(size=(len(faces), 3)).astype(np.float32)
    coded = st.save(st.add_column(faces, "emb", values), tmp_path / "coded")
    picked = st.vectors(coded, "emb", rows=female)
    np.testing.assert_array_equal(picked, values[rows])
    picked -= picked.mean(0)  # writable: centring in place works
    with pytest.raises(UserError, match="outside"):
        st.vectors(coded, "emb", rows=[len(faces)])
    text = repr(coded)
    assert len(text) < 300 and f"{len(faces)} rows" in text and "emb (3)" in text and "gender" in text
