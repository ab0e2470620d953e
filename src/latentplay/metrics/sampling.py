"""Sampling codes from ground-truth data, and checking and splitting given arrays.

A *ground truth* is any object with ``num_factors``, ``factors_num_values``,
``sample_factors(n, rng) -> (n, K)`` and ``sample_observations_from_factors(factors, rng)``
(see :mod:`latentplay.store.groundtruth`); a *representation* is a function from a batch of
observations to ``(n, D)`` codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from latentplay.errors import UserError

Represent = Callable[[np.ndarray], np.ndarray]
TRAIN_PERCENTAGE = 0.9  # disentanglement_lib's ``*_validation.train_percentage`` on fixed data
FEW_ROWS_WARNING = "The number of unique classes is greater than 50% of the number of samples"


@contextmanager
def few_rows_quiet() -> Iterator[None]:
    """scikit-learn's ``UserWarning`` that a factor has more levels than half the training rows
    silenced (it came once per fitted classifier, a screenful for a small array; the command
    line says it once). Entered around the parallel fits, in the calling thread: the filters
    are the process's, and threads entering ``catch_warnings`` at once could drop them."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=FEW_ROWS_WARNING, category=UserWarning)
        yield


def as_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from a seed, a Generator (used as is), or None (seed 0)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(0 if random_state is None else random_state)


def represent_factors(
    ground_truth: Any,
    represent: Represent,
    factors: np.ndarray,
    rng: np.random.Generator,
    batch_size: int,
) -> np.ndarray:
    """Render ``(N, K)`` factors into observations and encode them ``batch_size`` at a time.

    Returns:
        ``(N, D)`` float codes (float32 stays float32).

    Raises:
        UserError: the representation returned NaN or infinite codes (metrics would otherwise
            drop such dimensions as inactive, or fail inside a classifier), or not one row of
            codes per observation (a transposed ``(D, n)`` batch would be silently scrambled).
    """
    batch_size = max(int(batch_size), 1)
    out = []
    for start in range(0, len(factors), batch_size):
        obs = ground_truth.sample_observations_from_factors(factors[start : start + batch_size], rng)
        codes = np.asarray(represent(obs))
        if codes.ndim == 0 or codes.shape[0] != len(obs):
            raise UserError(
                f"the representation returned an array of shape {codes.shape} for {len(obs)} "
                "observations; it must return one row of codes per observation, (n, D)"
            )
        out.append(_floats(codes).reshape(len(obs), -1))
    codes = np.concatenate(out, axis=0)
    if not np.all(np.isfinite(codes)):
        raise UserError("the representation returned NaN or infinite codes")
    return codes


def _floats(a: np.ndarray) -> np.ndarray:
    """Float arrays keep their precision (float32 codes are binned as float32, like
    disentanglement_lib does); anything else becomes float64."""
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def sample_factors_codes(
    ground_truth: Any,
    represent: Represent,
    num_points: int,
    rng: np.random.Generator,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``num_points`` factor combinations and their codes (disentanglement_lib's
    ``generate_batch_factor_code``); ``batch_size`` only sets how many observations are
    encoded at once.

    Returns:
        ``(factors (N, K) int64, codes (N, D) float)``.

    Raises:
        UserError: ``num_points`` is below 1.
    """
    if num_points < 1:
        raise UserError(f"sample sizes (num_train, num_test) must be at least 1, got {num_points}")
    factors = np.asarray(ground_truth.sample_factors(int(num_points), rng), dtype=np.int64)
    return factors, represent_factors(ground_truth, represent, factors, rng, batch_size)


def _constant_columns(factors: np.ndarray) -> list[int]:
    """Indices of the columns of ``(N, K)`` factors that take one value only."""
    return [k for k in range(factors.shape[1]) if np.all(factors[:, k] == factors[0, k])]


def _sorted_columns(factors: np.ndarray) -> list[int]:
    """Indices of the columns of ``(N, K)`` factors that vary and never decrease, or never
    increase, down the rows: the rows are sorted by that factor."""
    steps = np.diff(factors, axis=0)
    return [k for k in range(factors.shape[1]) if factors[:, k].min() < factors[:, k].max()
            and ((steps[:, k] >= 0).all() or (steps[:, k] <= 0).all())]


def check_arrays(factors: Any, codes: Any, what: str = "", *, varying: bool = True,
                 discrete: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(N, K)`` integer factors and ``(N, D)`` codes; returns int64 factors and
    float codes (float32 and float64 kept as they are, other types become float64). With
    ``varying`` every factor must take two values at least (a metric scores how codes follow
    factors that change; a constant one has no entropy to normalise by, nor classes to fit).
    With ``discrete=False`` factors may be any finite numbers and come back as float64."""
    f = np.asarray(factors)
    c = np.asarray(codes)
    if c.dtype.kind not in "fiub":
        raise UserError(f"{what}codes must be numbers, got dtype {c.dtype}")
    c = _floats(c)
    if f.ndim == 1:
        f = f[:, None]
    if c.ndim == 1:
        c = c[:, None]
    if f.ndim != 2 or c.ndim != 2:
        raise UserError(f"{what}factors must be (N, K) and codes (N, D); got {f.shape} and {c.shape}")
    if len(f) != len(c):
        raise UserError(f"{what}factors have {len(f)} rows but codes have {len(c)}")
    if f.shape[1] == 0 or c.shape[1] == 0:
        raise UserError(f"{what}factors and codes need at least one column each; got {f.shape} and {c.shape}")
    if len(f) < 2:
        raise UserError(f"{what}need at least 2 points, got {len(f)}")
    if not np.all(np.isfinite(c)):
        raise UserError(f"{what}codes contain NaN or infinite values")
    if not discrete:
        if f.dtype.kind not in "fiub" or not np.all(np.isfinite(f)):
            raise UserError(f"{what}continuous factors must be finite numbers")
    elif f.dtype.kind == "f":
        if not np.all(np.isfinite(f)) or np.any(f != np.round(f)):
            raise UserError(f"{what}factors must be integer levels (discrete factors)")
    elif f.dtype.kind not in "iub":
        raise UserError(f"{what}factors must be integer levels, got dtype {f.dtype}")
    constant = _constant_columns(f) if varying else []
    if constant:
        raise UserError(f"{what}factor column(s) {', '.join(map(str, constant))} take one value "
                        "only: every factor must vary")
    return f.astype(np.int64 if discrete else np.float64), c


def train_test(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    train_percentage: float = TRAIN_PERCENTAGE,
    *,
    discrete: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked train and test arrays; without test arrays, the first ``ceil(N * train_percentage)``
    rows train and the rest test (disentanglement_lib's ``split_train_test``). Every factor
    must vary within the training rows (the classifiers fitted on them need two classes), and
    the rows must not be sorted by a factor (the test rows would hold its last values only).

    Args:
        discrete: factors are integer levels (False: any finite numbers, see :func:`check_arrays`).

    Returns:
        ``(factors_train, codes_train, factors_test, codes_test)``.
    """
    f, c = check_arrays(factors, codes, discrete=discrete)
    if (factors_test is None) != (codes_test is None):
        raise UserError("give both factors_test and codes_test, or neither")
    if factors_test is not None:
        ft, ct = check_arrays(factors_test, codes_test, "test ", varying=False, discrete=discrete)
        if ft.shape[1] != f.shape[1] or ct.shape[1] != c.shape[1]:
            raise UserError(
                f"test arrays have {ft.shape[1]} factors / {ct.shape[1]} dims, "
                f"train arrays {f.shape[1]} / {c.shape[1]}"
            )
        return f, c, ft, ct
    if not 0.0 < train_percentage < 1.0:
        raise UserError(f"train_percentage must be in (0, 1), got {train_percentage}")
    n_train = int(np.ceil(len(f) * train_percentage))
    if n_train >= len(f):
        raise UserError(f"{len(f)} points are too few to split into train and test")
    constant = _constant_columns(f[:n_train])
    if constant:
        raise UserError(
            f"factor column(s) {', '.join(map(str, constant))} take one value in the first {n_train} "
            "rows, the training split: shuffle the rows, or give factors_test and codes_test"
        )
    ordered = _sorted_columns(f)
    if ordered:
        raise UserError(
            f"the rows are sorted by factor column(s) {', '.join(map(str, ordered))}: the last "
            f"{len(f) - n_train} rows, the test split, hold only its last values; shuffle the rows, "
            "or give factors_test and codes_test"
        )
    return f[:n_train], c[:n_train], f[n_train:], c[n_train:]
