"""ADWIN: an adaptive window that drops its older part when the two parts' means differ.

Values are summarised in an exponential histogram (at most ``max_buckets`` buckets per size,
sizes doubling), so memory and time are logarithmic in the window length. Every ``clock``
values each split of the window into an older and a newer part is tested; when the means of
the two parts differ by more than the Hoeffding-style bound ``eps_cut`` the older buckets are
dropped and a change is signalled. The false-alarm probability over the window is at most
``delta``.

References
----------
Bifet, A. and Gavaldà, R. (2007). Learning from time-changing data with adaptive windowing.
SIAM International Conference on Data Mining, 443-448.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


class ADWIN:
    """Adaptive windowing change detector for a stream of values (e.g. 0/1 errors).

    Parameters
    ----------
    delta
        Confidence: the probability of a false detection over the window.
    max_buckets
        Buckets kept per size in the exponential histogram (memory/precision trade-off).
    clock
        Test for a change every ``clock`` values.
    min_window
        Neither part of a split may hold fewer values than this.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> errors = np.r_[rng.random(2000) < 0.1, rng.random(2000) < 0.3].astype(float)
    >>> detector = ADWIN(delta=0.002)
    >>> hits = detector.update_many(errors)
    >>> len(hits) >= 1 and 2000 <= int(hits[0]) < 2300, round(detector.estimation, 1)
    (True, 0.3)
    """

    def __init__(
        self, delta: float = 0.002, max_buckets: int = 5, clock: int = 32, min_window: int = 5
    ) -> None:
        self.delta = delta
        self.max_buckets = max_buckets
        self.clock = clock
        self.min_window = min_window
        self.reset()

    def reset(self) -> None:
        # rows[k] holds buckets of 2**k values, oldest first: (sum, variance-sum) pairs
        self._sums: list[list[float]] = [[]]
        self._vars: list[list[float]] = [[]]
        self.width = 0
        self.total = 0.0
        self.variance = 0.0  # sum of squared deviations over the window
        self._ticks = 0
        self.drift_detected = False

    @property
    def estimation(self) -> float:
        """Mean of the current window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> bool:
        """Add one value; True when the window was cut (a change in the mean)."""
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must be in (0, 1); got {self.delta}")
        x = float(x)
        if self.width:
            mean = self.total / self.width
            self.variance += self.width * (x - mean) ** 2 / (self.width + 1)
        self.width += 1
        self.total += x
        self._sums[0].append(x)
        self._vars[0].append(0.0)
        self._compress()
        self._ticks += 1
        self.drift_detected = False
        if self._ticks % self.clock == 0 and self.width > 2 * self.min_window:
            self.drift_detected = self._cut()
        return self.drift_detected

    def update_many(self, values: Iterable[float]) -> np.ndarray:
        """Feed many values; return the positions where changes were detected."""
        return np.array([i for i, x in enumerate(values) if self.update(x)], dtype=int)

    # -- internals ------------------------------------------------------------------------
    def _compress(self) -> None:
        k = 0
        while len(self._sums[k]) > self.max_buckets:
            if k + 1 == len(self._sums):
                self._sums.append([])
                self._vars.append([])
            size = 2**k
            s1, s2 = self._sums[k].pop(0), self._sums[k].pop(0)
            v1, v2 = self._vars[k].pop(0), self._vars[k].pop(0)
            m1, m2 = s1 / size, s2 / size
            var = v1 + v2 + size * size * (m1 - m2) ** 2 / (2 * size)
            self._sums[k + 1].append(s1 + s2)
            self._vars[k + 1].append(var)
            k += 1

    def _buckets_oldest_first(self) -> list[tuple[int, float, float]]:
        out: list[tuple[int, float, float]] = []
        for k in range(len(self._sums) - 1, -1, -1):
            out.extend((2**k, s, v) for s, v in zip(self._sums[k], self._vars[k]))
        return out

    def _drop_oldest(self) -> None:
        for k in range(len(self._sums) - 1, -1, -1):
            if self._sums[k]:
                size = 2**k
                s = self._sums[k].pop(0)
                v = self._vars[k].pop(0)
                mean_rest = (self.total - s) / max(self.width - size, 1)
                self.variance -= (
                    v + size * (self.width - size) * (s / size - mean_rest) ** 2 / self.width
                )
                self.width -= size
                self.total -= s
                self.variance = max(self.variance, 0.0)
                return

    def _cut(self) -> bool:
        cut_any = False
        changed = True
        while changed and self.width > 2 * self.min_window:
            changed = False
            var = self.variance / self.width
            log_term = math.log(2 * math.log(self.width) / self.delta)
            n0, s0 = 0, 0.0
            for size, s, _ in self._buckets_oldest_first()[:-1]:
                n0 += size
                s0 += s
                n1 = self.width - n0
                if n0 < self.min_window or n1 < self.min_window:
                    continue
                m = 1 / (1 / n0 + 1 / n1)
                eps = math.sqrt(2 * var * log_term / m) + 2 * log_term / (3 * m)
                if abs(s0 / n0 - (self.total - s0) / n1) > eps:
                    self._drop_oldest()
                    changed = cut_any = True
                    break
        return cut_any
