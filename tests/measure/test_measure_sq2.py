"""The ``--fallback`` help of ``data measure`` names every face measure a missed face lacks."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from latentplay.cli import app


def test_fallback_help_names_every_face_only_measure() -> None:
    result = CliRunner().invoke(app, ["data", "measure", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = re.sub(r"[\s│]+", " ", result.output)
    assert "Pose, expression and size are read only from a detected face" in text
