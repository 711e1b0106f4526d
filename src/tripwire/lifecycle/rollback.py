"""Automatic rollback: a promoted model whose live metric breaches a rule is replaced.

The rule compares each window's metric after a promotion with the metric the previous
champion had before it; ``windows`` consecutive breaches trigger the rollback, so one noisy
window does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RollbackRule:
    max_drop: float = 0.05
    windows: int = 2
    min_rows: int = 50
    #: live labelled rows per window when the loop measures a champion itself
    window_rows: int = 200


@dataclass(frozen=True)
class RollbackDecision:
    rollback: bool
    reason: str
    breaches: int


def check_rollback(
    reference_metric: float,
    window_metrics: Sequence[float],
    window_rows: Sequence[int],
    rule: RollbackRule,
) -> RollbackDecision:
    """Whether the last ``rule.windows`` windows (with enough rows) all breach the rule.

    Examples
    --------
    >>> check_rollback(0.85, [0.84, 0.70, 0.69], [200, 200, 200], RollbackRule()).rollback
    True
    >>> check_rollback(0.85, [0.84, 0.70, 0.83], [200, 200, 200], RollbackRule()).rollback
    False
    """
    usable = [m for m, n in zip(window_metrics, window_rows) if n >= rule.min_rows]
    breaches = 0
    for m in reversed(usable):
        if reference_metric - m > rule.max_drop:
            breaches += 1
        else:
            break
    if breaches >= rule.windows:
        return RollbackDecision(
            True,
            f"live metric below {reference_metric - rule.max_drop:.3f} (previous champion "
            f"{reference_metric:.3f} minus {rule.max_drop:g}) for {breaches} consecutive window(s)",
            breaches,
        )
    return RollbackDecision(
        False, f"{breaches} consecutive breach(es) of {rule.windows} needed", breaches
    )
