"""The chi-square test says what it compares: the generated images' counts against the
reference labels (through the annotator's reading of them when it errs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay.audit.distribution import chi_square_basis, chi_square_compares, compare


def test_the_summary_and_the_printed_basis_name_both_sides() -> None:
    labels = compare(np.array([30, 70]), np.array([40, 60]), ["a", "b"]).to_dict()
    assert labels["chi2"]["compares"] == ("the generated images' class counts against the "
                                          "reference labels' counts (homogeneity of the 2 x K "
                                          "table)")
    read = compare(np.array([30, 70]), np.array([40, 60]), ["a", "b"],
                   confusion=np.array([[0.9, 0.1], [0.2, 0.8]])).to_dict()
    assert read["chi2"]["compares"].startswith("the generated images' annotated class counts "
                                               "against what the annotator reads on the "
                                               "reference labels' shares")
    basis = chi_square_basis(read)
    assert basis is not None and basis.startswith(read["chi2"]["compares"])
    assert "reference distribution" not in basis


def test_docs_quote_both_wordings_and_say_where_they_are_printed() -> None:
    """docs/audit.md quotes ``chi2.compares`` as the summary writes it, and claims the printed
    line only for the test through the annotator (with labels on both sides nothing is
    printed: :func:`chi_square_basis` gives None)."""
    text = " ".join((Path(__file__).parents[2] / "docs" / "audit.md").read_text().split())
    for through in (True, False):
        assert f'"{chi_square_compares(through)}"' in text
    labels = compare(np.array([30, 70]), np.array([40, 60]), ["a", "b"]).to_dict()
    assert chi_square_basis(labels) is None
    assert "the printed chi-square line and the report name the first where it was made" in text
