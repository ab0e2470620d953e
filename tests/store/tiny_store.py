"""A store of a few random 8x8 images and a two-class ``gender``, for the store-writing tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema


def tiny_store(path: Path, n: int = 6, overwrite: bool = False) -> st.Store:
    """Build ``n`` rows at ``path`` (replacing a store there with ``overwrite``): random
    ``(8, 8, 3)`` images (seeded by ``n``), gender f/m."""
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.random.default_rng(n).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return st.build([{"image": [st.encode_png(im) for im in images], "gender": np.arange(n) % 2}],
                    schema, path, overwrite=overwrite)


def synthfaces_labels(path: Path, n: int, seed: int = 0, overrides: tuple[str, ...] = ()) -> Path:
    """A store of the labels ``sources.make("synthfaces", path, n=n, seed=seed, ...)`` draws,
    without the images: for the tests that read labels only (drawing the faces is most of a
    store's cost)."""
    from latentplay.config import resolve
    from latentplay.sources import synthfaces as sf

    config = resolve(sf.SynthfacesConfig, [f"n={n}", f"seed={seed}", *overrides])
    labels = sf.sample_labels(config, np.random.default_rng([config.seed, 0]), config.n)
    schema = Schema(attributes=sf.attributes(config.identities), image_column=None,
                    provenance=Provenance(source="generated", converter="synthfaces"))
    st.build([labels], schema, path)
    return path
