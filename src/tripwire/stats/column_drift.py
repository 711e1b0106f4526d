"""The result of comparing one column between two samples, shared by every per-column test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Fewer values than this on a side: the column is reported as not tested.
MIN_VALUES = 5


@dataclass(frozen=True)
class ColumnDrift:
    """The result of comparing one column between a reference and a current sample.

    ``effect`` is on the scale named by ``effect_name`` (``ks_distance``, ``total_variation``,
    ``missing_rate_change``, ``unseen_share_excess``, ``wasserstein_sd``, ``psi``), with a 95 %
    interval ``[effect_low, effect_high]``. ``p_value`` is NaN when no test could be run
    (``extra["reason"]`` says why).
    """

    column: str
    kind: str
    method: str
    statistic: float
    p_value: float
    effect_name: str
    effect: float
    effect_low: float
    effect_high: float
    n_ref: int
    n_cur: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tested(self) -> bool:
        return bool(np.isfinite(self.p_value))

    def to_dict(self) -> dict[str, Any]:
        from tripwire.findings import to_jsonable

        return to_jsonable(
            {
                "column": self.column,
                "kind": self.kind,
                "method": self.method,
                "statistic": self.statistic,
                "p_value": self.p_value,
                "effect_name": self.effect_name,
                "effect": self.effect,
                "effect_low": self.effect_low,
                "effect_high": self.effect_high,
                "n_ref": self.n_ref,
                "n_cur": self.n_cur,
                "extra": self.extra,
            }
        )


def untested(column: str, kind: str, n_ref: int, n_cur: int, reason: str) -> ColumnDrift:
    nan = float("nan")
    return ColumnDrift(
        column, kind, "none", nan, nan, "none", nan, nan, nan, n_ref, n_cur, {"reason": reason}
    )
