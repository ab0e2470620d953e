"""``invert:RUN`` refuses ``restarts`` and ``seed`` where the codes start from no random draw,
as ``latentplay latent invert`` refuses ``--restarts`` and ``--seed`` (they were ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay.embed import make_embedder


@pytest.mark.parametrize(("options", "init", "start"), [
    (["init=mean", "restarts=1"], "mean", "the zero code"),
    (["init=encoder", "seed=3"], "encoder", "this vae's encoder means"),
    (["restarts=2"], "auto", "this vae's encoder means"),  # auto: the encoder's means
])
def test_random_start_settings_without_random_starts_are_refused(
        options: list[str], init: str, start: str, vae_run: Path, faces_store: Path, cli) -> None:
    args = [a for option in options for a in ("-o", option)]
    result = cli("embed", faces_store, "--with", f"invert:{vae_run}", "--column", "c", *args)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"error: invert: restarts and seed set random starts; init={init!r} starts from {start}, "
        "so leave them out (or give init='random')"]


def test_random_starts_take_them_and_describe_them_as_used(vae_run: Path, dcgan_run: Path) -> None:
    given = make_embedder(f"invert:{vae_run}", ["init=random", "restarts=2", "seed=5"]).describe()
    assert (given["config"]["restarts"], given["config"]["seed"]) == (2, 5)
    for run in (vae_run, dcgan_run):  # defaults, whatever the start
        config = make_embedder(f"invert:{run}", []).describe()["config"]
        assert (config["restarts"], config["seed"]) == (4, 0)
    make_embedder(f"invert:{dcgan_run}", ["restarts=2"])  # auto: random draws for a DCGAN
