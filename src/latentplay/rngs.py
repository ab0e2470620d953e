"""Random number generators that the ground truths of disentanglement metrics accept: NumPy's
``Generator`` (latentplay's) and ``RandomState`` (disentanglement_lib's); and torch's global
state, kept for a Python caller across the functions that seed it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

Random = np.random.Generator | np.random.RandomState


def integers(random_state: Random, high: int, size: int) -> np.ndarray:
    """``(size,)`` uniform integers in ``[0, high)`` from a Generator or a RandomState."""
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(0, high, size)
    return random_state.integers(0, high, size)


class EitherRandom:
    """A NumPy ``Generator`` that answers ``RandomState``'s names too (``randint``,
    ``random_sample``, ``rand``), drawing from the same stream: what the metrics hand a ground
    truth, which may be one of disentanglement_lib's (those call ``random_state.randint``)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def randint(self, low: int, high: int | None = None, size: Any = None) -> Any:
        return self.rng.integers(low, high, size)

    def random_sample(self, size: Any = None) -> Any:
        return self.rng.random(size)

    def rand(self, *shape: int) -> Any:
        return self.rng.random(shape or None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rng, name)


@contextmanager
def torch_state_kept() -> Iterator[None]:
    """Run a block that seeds torch's global generators or sets its thread count (training,
    building a model's layers) and put both back afterwards, so that a notebook's own
    ``torch.rand`` draws and threads are what they would have been without the call. CUDA
    generators are kept when CUDA was in use before the block."""
    import torch

    threads = torch.get_num_threads()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        torch.set_num_threads(threads)
