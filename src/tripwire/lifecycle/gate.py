"""The promotion gate: is the challenger better than the champion, with confidence?

Both models are scored on the same latest labelled rows, so the comparison is paired: per-row
score differences (challenger minus champion; accuracy for classification, absolute error for
regression) are bootstrapped for an interval of the mean difference, and McNemar's exact test
on the discordant pairs gives a p-value for classification. The challenger is promoted only
when the whole interval lies above the margin and it is not materially worse on any critical
slice.

References
----------
McNemar, Q. (1947). Note on the sampling error of the difference between correlated
proportions or percentages. Psychometrika 12(2), 153-157.
Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from tripwire.errors import InputError
from tripwire.stats.bootstrap import Interval, mean_interval


@dataclass(frozen=True)
class SliceComparison:
    name: str
    n: int
    difference: Interval
    worse: bool


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, why, and the evidence."""

    promote: bool
    reason: str
    metric: str
    n: int
    champion: float
    challenger: float
    difference: Interval
    margin: float
    p_value: float
    slices: tuple[SliceComparison, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reason": self.reason,
            "metric": self.metric,
            "n": self.n,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference.to_dict(),
            "margin": self.margin,
            "p_value": self.p_value,
            "slices": [
                {"name": s.name, "n": s.n, "difference": s.difference.to_dict(), "worse": s.worse}
                for s in self.slices
            ],
        }


def _scores(y: np.ndarray, pred: np.ndarray, task: str) -> np.ndarray:
    """Per-row scores where higher is better."""
    if task == "regression":
        return -np.abs(np.asarray(y, dtype=float) - np.asarray(pred, dtype=float))
    return (np.asarray(y).astype(str) == np.asarray(pred).astype(str)).astype(float)


def mcnemar_p_value(champion_correct: np.ndarray, challenger_correct: np.ndarray) -> float:
    """Exact two-sided McNemar p-value from paired 0/1 outcomes.

    Examples
    --------
    >>> a = np.array([1, 1, 0, 0, 1, 0, 1, 0, 0, 0])
    >>> b = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1])
    >>> round(mcnemar_p_value(a, b), 4)
    0.0625
    """
    a = np.asarray(champion_correct, dtype=bool)
    b = np.asarray(challenger_correct, dtype=bool)
    only_b = int(np.sum(b & ~a))
    only_a = int(np.sum(a & ~b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)


def compare_models(
    y_true: np.ndarray,
    champion_pred: np.ndarray,
    challenger_pred: np.ndarray,
    *,
    task: str = "classification",
    margin: float = 0.0,
    level: float = 0.95,
    slices: Mapping[str, np.ndarray] | None = None,
    slice_tolerance: float = 0.02,
    min_slice_rows: int = 30,
    n_boot: int = 2000,
    random_state: int = 0,
) -> GateDecision:
    """Decide whether the challenger replaces the champion.

    Parameters
    ----------
    y_true, champion_pred, challenger_pred
        Labels and both models' predictions on the same rows.
    task
        ``classification`` (score: accuracy) or ``regression`` (score: minus absolute error).
    margin
        How much better (in the score's units) the challenger must be, at the lower end of the
        interval, to be promoted.
    slices
        Critical slices as boolean masks. The challenger is rejected when, on a slice of at
        least ``min_slice_rows`` rows, it is worse by more than ``slice_tolerance`` on average
        and the whole interval of the difference lies below zero.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> champ = np.where(rng.random(2000) < 0.75, y, 1 - y)
    >>> chall = np.where(rng.random(2000) < 0.85, y, 1 - y)
    >>> d = compare_models(y, champ, chall)
    >>> d.promote, d.difference.low > 0
    (True, True)
    >>> compare_models(y, chall, champ).promote
    False
    """
    y = np.asarray(y_true)
    if not (len(y) == len(champion_pred) == len(challenger_pred)):
        raise InputError("gate: labels and both models' predictions must have the same length.")
    if len(y) == 0:
        raise InputError("gate: no labelled rows to compare the models on. Wait for feedback.")
    s_champ = _scores(y, np.asarray(champion_pred), task)
    s_chall = _scores(y, np.asarray(challenger_pred), task)
    diff = s_chall - s_champ
    interval = mean_interval(diff, level=level, n_boot=n_boot, random_state=random_state)
    if task == "regression":
        p = float(stats.wilcoxon(diff).pvalue) if np.any(diff != 0) else 1.0
        metric = "mean absolute error (negated: higher is better)"
    else:
        p = mcnemar_p_value(s_champ > 0, s_chall > 0)
        metric = "accuracy"
    compared = []
    for name, mask in (slices or {}).items():
        m = np.asarray(mask, dtype=bool)
        if m.sum() < min_slice_rows:
            continue
        iv = mean_interval(diff[m], level=level, n_boot=n_boot, random_state=random_state + 1)
        worse = iv.estimate < -slice_tolerance and iv.high < 0
        compared.append(SliceComparison(name, int(m.sum()), iv, bool(worse)))
    worse_slices = [s.name for s in compared if s.worse]
    if worse_slices:
        promote, reason = (
            False,
            f"challenger is worse on critical slice(s): {', '.join(worse_slices)}",
        )
    elif interval.low > margin:
        promote = True
        reason = (
            f"challenger better by {interval.estimate:+.4f} ({level:.0%} interval "
            f"{interval.low:+.4f} to {interval.high:+.4f}), above the margin {margin:g}"
        )
    else:
        promote = False
        reason = (
            f"not better with confidence: difference {interval.estimate:+.4f} ({level:.0%} "
            f"interval {interval.low:+.4f} to {interval.high:+.4f}) does not clear the margin {margin:g}"
        )
    return GateDecision(
        promote=promote,
        reason=reason,
        metric=metric,
        n=len(y),
        champion=float(s_champ.mean()),
        challenger=float(s_chall.mean()),
        difference=interval,
        margin=margin,
        p_value=p,
        slices=tuple(compared),
    )
