"""One dataset-level drift decision from many column tests.

Each column result is significant when its Benjamini-Hochberg q-value is at most ``alpha``.
When nothing changed, every hypothesis is null and BH then bounds the chance of *any*
rejection by ``alpha`` (Benjamini and Hochberg, 1995), so the dataset-level false-alarm rate
is at most ``alpha`` (measured in benchmarks/drift.py). A significant result is *material*
only when its effect size reaches a bar: on huge samples a tiny, harmless shift is
significant, and is reported as negligible rather than raised as drift.

References
----------
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tripwire.stats.multiple_testing import benjamini_hochberg

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.stats.univariate import ColumnDrift

#: Effect sizes below these are negligible, whatever the p-value. ``ks_distance`` and
#: ``total_variation`` are probabilities (the largest change in the share of rows below a
#: value, or in any set of categories): 0.025 is a 0.06-SD mean shift of a normal column.
DEFAULT_MIN_EFFECT: dict[str, float] = {
    "ks_distance": 0.025,
    "total_variation": 0.025,
    "missing_rate_change": 0.01,
    "unseen_share_excess": 0.005,
    "wasserstein_sd": 0.05,
    "psi": 0.01,
    "auc_excess": 0.02,
    "label_law_distance": 0.02,
    "mmd2": 0.0,
}

STATUSES = ("drift", "negligible", "ok", "untested")


@dataclass(frozen=True)
class DatasetDecision:
    """The dataset-level verdict and the status of every column test.

    ``statuses[i]`` and ``q_values[i]`` belong to ``results[i]``; a status is ``drift``
    (significant and material), ``negligible`` (significant, effect below the bar), ``ok``
    or ``untested``.
    """

    drifted: bool
    alpha: float
    results: tuple[ColumnDrift, ...]
    q_values: tuple[float, ...]
    statuses: tuple[str, ...]
    min_effect: Mapping[str, float] = field(default_factory=dict)
    correction: str = "benjamini-hochberg"

    @property
    def n_tests(self) -> int:
        return sum(s != "untested" for s in self.statuses)

    def columns(self, status: str) -> list[str]:
        """Columns with at least one test of ``status`` (in result order, no repeats)."""
        out: list[str] = []
        for r, s in zip(self.results, self.statuses):
            if s == status and r.column not in out:
                out.append(r.column)
        return out

    def to_dict(self) -> dict[str, Any]:
        from tripwire.findings import to_jsonable

        return to_jsonable(
            {
                "drifted": self.drifted,
                "alpha": self.alpha,
                "correction": self.correction,
                "n_tests": self.n_tests,
                "min_effect": dict(self.min_effect),
                "drifted_columns": self.columns("drift"),
                "negligible_columns": self.columns("negligible"),
                "tests": [
                    {
                        "column": r.column,
                        "method": r.method,
                        "p_value": r.p_value,
                        "q_value": q,
                        "effect_name": r.effect_name,
                        "effect": r.effect,
                        "effect_low": r.effect_low,
                        "effect_high": r.effect_high,
                        "status": s,
                    }
                    for r, q, s in zip(self.results, self.q_values, self.statuses)
                ],
            }
        )


def bar_for(effect_name: str, min_effect: Mapping[str, float] | None = None) -> float:
    """The negligible-effect bar for ``effect_name`` (user overrides first)."""
    merged = {**DEFAULT_MIN_EFFECT, **(min_effect or {})}
    return float(merged.get(effect_name, 0.0))


def decide(
    results: Sequence[ColumnDrift],
    *,
    alpha: float = 0.05,
    min_effect: Mapping[str, float] | None = None,
) -> DatasetDecision:
    """Benjamini-Hochberg across all tests, then an effect-size bar.

    Parameters
    ----------
    results
        Column results from :func:`tripwire.stats.univariate.test_column` (several per column
        are fine, e.g. distribution and missing rate), and any other test expressed as a
        ColumnDrift (the domain classifier's, for one).
    alpha
        Level of the dataset-level decision (false-alarm rate when nothing changed).
    min_effect
        Overrides of :data:`DEFAULT_MIN_EFFECT`, by effect name.

    Examples
    --------
    >>> import pandas as pd
    >>> from tripwire.stats.univariate import test_column
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    >>> cur = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    >>> cur["b"] += 0.3
    >>> d = decide([test_column(ref[c], cur[c], "numeric") for c in ref])
    >>> d.drifted, d.columns("drift"), d.statuses
    (True, ['b'], ('ok', 'drift', 'ok', 'ok'))
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}")
    p = np.array([r.p_value for r in results], dtype=float)
    q = benjamini_hochberg(p) if len(p) else np.array([])
    statuses = []
    for r, qv in zip(results, q):
        if not np.isfinite(qv):
            statuses.append("untested")
        elif qv <= alpha:
            material = abs(r.effect) >= bar_for(r.effect_name, min_effect)
            statuses.append("drift" if material else "negligible")
        else:
            statuses.append("ok")
    return DatasetDecision(
        drifted="drift" in statuses,
        alpha=alpha,
        results=tuple(results),
        q_values=tuple(float(v) for v in q),
        statuses=tuple(statuses),
        min_effect={**DEFAULT_MIN_EFFECT, **(min_effect or {})},
    )
