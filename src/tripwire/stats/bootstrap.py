"""Bootstrap confidence intervals, vectorised over resamples.

The percentile bootstrap (Efron and Tibshirani, 1993) resamples row indices with replacement
and recomputes the statistic on each resample. Metrics that are means of per-row values
(accuracy, losses, errors) take the fast path: one weighted sum per resample, computed as a
matrix product of resample counts with the per-row values.

References
----------
Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def resample_counts(
    n: int, n_boot: int, rng: np.random.Generator, strata: np.ndarray | None = None
) -> np.ndarray:
    """How often each of ``n`` rows appears in each of ``n_boot`` resamples (n_boot x n).

    With ``strata`` rows are resampled within each stratum, keeping stratum sizes fixed.

    Examples
    --------
    >>> c = resample_counts(5, 3, np.random.default_rng(0))
    >>> c.shape, c.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    counts = np.zeros((n_boot, n), dtype=np.int32)
    groups = (
        [np.arange(n)]
        if strata is None
        else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    )
    for idx in groups:
        draws = rng.integers(0, len(idx), size=(n_boot, len(idx)))
        rows = np.repeat(np.arange(n_boot), len(idx))
        np.add.at(counts, (rows, idx[draws].ravel()), 1)
    return counts


def mean_interval(
    values: np.ndarray, *, level: float = 0.95, n_boot: int = 1000, random_state: int = 0
) -> Interval:
    """Percentile-bootstrap interval of the mean of per-row ``values`` (e.g. 0/1 errors).

    Examples
    --------
    >>> x = np.r_[np.ones(80), np.zeros(20)]
    >>> iv = mean_interval(x, random_state=1)
    >>> round(iv.estimate, 2), iv.low < 0.8 < iv.high
    (0.8, True)
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        raise ValueError("mean_interval needs at least one value")
    rng = np.random.default_rng(random_state)
    counts = resample_counts(n, n_boot, rng)
    stats = counts @ values / n
    return _percentile(float(values.mean()), stats, level)


def statistic_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    level: float = 0.95,
    n_boot: int = 500,
    random_state: int = 0,
    strata: np.ndarray | None = None,
) -> Interval:
    """Percentile-bootstrap interval of any ``statistic(indices)`` over ``n`` rows.

    ``statistic`` receives an index array (a resample, or ``arange(n)`` for the estimate) and
    returns a float; resamples where it is undefined (NaN) are dropped.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=300)
    >>> iv = statistic_interval(lambda i: float(np.median(x[i])), len(x), random_state=0)
    >>> iv.low < 0 < iv.high
    True
    """
    rng = np.random.default_rng(random_state)
    estimate = float(statistic(np.arange(n)))
    groups = (
        [np.arange(n)]
        if strata is None
        else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    )
    stats = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        stats[b] = statistic(idx)
    return _percentile(estimate, stats[np.isfinite(stats)], level)


def _percentile(estimate: float, stats: np.ndarray, level: float) -> Interval:
    if stats.size == 0:
        return Interval(estimate, float("nan"), float("nan"), level)
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Interval(estimate, float(low), float(high), level)
