"""Face alignment's arguments (latentplay.embed.align); the crops themselves:
``test_embed_ffhq.py`` and ``test_embed_onnx.py``."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.embed.align import align_faces
from latentplay.errors import UserError


def test_align_faces_refuses_an_unknown_template_or_size() -> None:
    """A misspelt template is not taken for dlib's crop."""
    image = np.zeros((1, 40, 40, 3), np.uint8)
    with pytest.raises(UserError, match="template must be one of"):
        align_faces(image, template="arcfce")
    with pytest.raises(UserError, match="size must be at least 16"):
        align_faces(image, size=8)
