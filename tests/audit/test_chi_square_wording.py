"""The chi-square test says what it compares: the generated images' counts against the
reference labels (through the annotator's reading of them when it errs)."""

from __future__ import annotations

import numpy as np

from latentplay.audit.distribution import chi_square_basis, compare


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
