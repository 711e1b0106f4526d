"""Page-Hinkley test for a change in the mean of a stream.

The cumulative deviation of each value from the running mean (less a tolerance ``delta``) is
tracked with its running minimum (for increases) and maximum (for decreases); a change is
signalled when the gap exceeds ``threshold``.

References
----------
Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
Hinkley, D. V. (1971). Inference about the change-point from cumulative sum tests.
Biometrika 58(3), 509-523.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class PageHinkley:
    """Detect a shift in the mean of a stream.

    Parameters
    ----------
    delta
        Tolerated drift of the mean per value (in the data's units).
    threshold
        Detection threshold on the cumulative deviation (lambda), in the data's units summed
        over values: the cumulative deviation of an unchanged stream wanders like a random
        walk (about ``sd * sqrt(n)`` after ``n`` values), so scale it to the noise.
    min_instances
        Values to see before any detection.
    direction
        ``"up"``, ``"down"`` or ``"both"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> stream = np.r_[rng.normal(0, 0.5, 500), rng.normal(1, 0.5, 500)]
    >>> PageHinkley(threshold=50).update_many(stream).tolist()
    [546]
    """

    def __init__(
        self,
        delta: float = 0.005,
        threshold: float = 50.0,
        min_instances: int = 30,
        direction: str = "both",
    ) -> None:
        self.delta = delta
        self.threshold = threshold
        self.min_instances = min_instances
        self.direction = direction
        self.reset()

    def reset(self) -> None:
        self.n_ = 0
        self.mean_ = 0.0
        self.sum_up_ = 0.0
        self.min_up_ = 0.0
        self.sum_down_ = 0.0
        self.max_down_ = 0.0
        self.drift_detected = False

    def update(self, x: float) -> bool:
        """Add one value; True when a change is detected (the state then restarts)."""
        if self.direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both'; got {self.direction!r}")
        if self.drift_detected:
            self.reset()
        self.n_ += 1
        self.mean_ += (x - self.mean_) / self.n_
        self.sum_up_ += x - self.mean_ - self.delta
        self.min_up_ = min(self.min_up_, self.sum_up_)
        self.sum_down_ += x - self.mean_ + self.delta
        self.max_down_ = max(self.max_down_, self.sum_down_)
        if self.n_ < self.min_instances:
            return False
        up = self.sum_up_ - self.min_up_ > self.threshold
        down = self.max_down_ - self.sum_down_ > self.threshold
        hit = (up and self.direction != "down") or (down and self.direction != "up")
        self.drift_detected = bool(hit)
        return self.drift_detected

    def update_many(self, values: Iterable[float]) -> np.ndarray:
        """Feed many values; return the positions where changes were detected."""
        return np.array([i for i, x in enumerate(values) if self.update(float(x))], dtype=int)
