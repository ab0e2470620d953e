"""The chi-square line names audited images of a folder as ``images of DIR``, as the docs
promise, never ``the DIR images``: a folder called ``images`` (what ``data export`` writes)
read "the images images' annotated class counts"."""

from __future__ import annotations

from latentplay.audit.distribution import chi_square_basis, chi_square_compares


def test_a_folder_named_images_is_read_as_images_of_images() -> None:
    text = chi_square_compares(True, "images")
    assert "images images" not in text
    assert text.startswith("the annotated class counts of the images of images against")
    assert chi_square_compares(False, "pngs").startswith("the class counts of the images of pngs ")
    assert chi_square_compares(True).startswith("the generated images' annotated class counts")


def test_the_persons_and_left_out_notes_name_the_folder_as_images_of_it() -> None:
    summary = {"chi2": {"dof": 1, "through_annotator": True}, "generated_persons": 10,
               "without_class": {"training": 2, "generated": 3}}
    basis = chi_square_basis(summary, "images")
    assert basis is not None and "images images" not in basis
    assert "taking the images of images as independent although they show 10 persons" in basis
    assert "3 images of images without a class" in basis
