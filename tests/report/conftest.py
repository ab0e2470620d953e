"""Fixtures of the report tests: a tiny store and real run directories of every kind made
from it (a VAE, a CVAE, a DCGAN, a match run, an audit run).

Everything is generated here on one CPU thread in about 20 s; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import sources, train
from latentplay import store as st
from latentplay.audit import fit_classifier
from latentplay.audit.run import audit_images, sample_groups
from latentplay.match.pipeline import MatchConfig, run

torch.set_num_threads(1)

TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=8",
        "trainer.threads=1"]


@pytest.fixture(scope="session")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160 synthfaces with a 4-d vector column ``emb``."""
    path = tmp_path_factory.mktemp("report") / "faces"
    s = sources.make("synthfaces", path, n=160, seed=0)
    emb = np.random.default_rng(0).standard_normal((len(s), 4)).astype(np.float32)
    st.save(st.add_column(s, "emb", emb, "random test vectors"), path)
    return path


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "vae"
    return train.train("vae", data=faces, out=out, epochs=2, batch_size=32, seed=0,
                       progress=False, overrides=TINY)


@pytest.fixture(scope="session")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "cvae"
    return train.train("cvae", data=faces, out=out, epochs=2, batch_size=32, seed=0,
                       progress=False, overrides=[*TINY, "model.condition=[smile]"])


@pytest.fixture(scope="session")
def dcgan_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "dcgan"
    return train.train("dcgan", data=faces, out=out, epochs=2, batch_size=32, seed=0,
                       progress=False, overrides=["data.size=32", "model.latent_dim=16",
                                                  "model.ngf=16", "model.ndf=16",
                                                  "trainer.threads=1"])


@pytest.fixture(scope="session")
def match_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("match") / "m"
    config = MatchConfig(treatment="gender", covariates=["emb", "smile"], outcome="eyeglasses",
                         bootstrap=100, grid_pairs=4, partial=True)
    run(faces, config, out)
    return out


@pytest.fixture(scope="session")
def audit_run(tmp_path_factory: pytest.TempPathFactory, faces: Path, vae_run: Path) -> Path:
    """``audit compare`` of 60 training images, and ``sample-groups`` of the VAE, in one dir."""
    out = tmp_path_factory.mktemp("audit") / "a"
    annotator = fit_classifier(faces, "gender")
    audit_images(st.load_images(st.load(faces), range(60)), faces, [annotator], out,
                 source={"images": str(faces)})
    sample_groups(vae_run, faces, "gender", 3, out, annotator=annotator, components=1,
                  measure=20, overwrite=True)
    return out
