"""How large a shift the column tests would have caught: silence that means something.

For a numeric column the reference sample is shifted by known multiples of its standard
deviation and the KS distance each injected shift produces is measured
(:func:`tripwire.stats.univariate.test_column` stores this curve). The KS distance a test
detects with 80 % power at the actual sample sizes and the per-test level (``alpha / m``: the
Benjamini-Hochberg threshold when a single column moves) is then mapped back through the
curve to the smallest detectable mean shift. For categories and missing values the same is
done for a change in the share of the most common category (or of missing values), with the
two-proportion power formula. benchmarks/drift.py checks these figures by injecting the
reported shifts into real data and counting detections.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from tripwire.stats.two_sample import ks_detectable

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.stats.univariate import ColumnDrift


def proportion_detectable(p: float, n: int, m: int, alpha: float, power: float = 0.8) -> float:
    """Smallest change in a share ``p`` a two-sided two-proportion test detects.

    Examples
    --------
    >>> round(proportion_detectable(0.5, 5000, 5000, 0.05), 4)
    0.028
    """
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return z * math.sqrt(max(p * (1 - p), 1e-4) * (1 / n + 1 / m))


def detectable(
    result: ColumnDrift, alpha: float, *, power: float = 0.8, bar: float = 0.0
) -> dict[str, Any] | None:
    """The smallest shift ``result``'s test detects with probability ``power`` at level
    ``alpha``, on its own effect scale and, for numeric columns, as a mean shift in SDs.

    Examples
    --------
    >>> import pandas as pd
    >>> from tripwire.stats.univariate import test_column
    >>> rng = np.random.default_rng(0)
    >>> r = test_column(pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(size=5000)),
    ...                 "numeric")
    >>> d = detectable(r, 0.05 / 20)
    >>> round(d["effect"], 3), round(d["mean_shift_sd"], 3)
    (0.045, 0.104)
    """
    if not result.tested:
        return None
    n, m = result.n_ref, result.n_cur
    extra = result.extra
    if result.effect_name == "ks_distance":
        need = max(ks_detectable(n, m, alpha, power), bar)
        curve = extra.get("shift_curve") or {}
        deltas, ks = np.asarray(curve.get("delta_sd", [])), np.asarray(curve.get("ks", []))
        out: dict[str, Any] = {"effect_name": "ks_distance", "effect": need}
        if len(ks) and ks.max() >= need:
            i = int(np.argmax(ks >= need))
            if i == 0:
                shift = float(deltas[0] * need / max(ks[0], 1e-12))
            else:
                shift = float(np.interp(need, ks[i - 1 : i + 1], deltas[i - 1 : i + 1]))
            out["mean_shift_sd"] = shift
        elif len(ks):
            out["mean_shift_sd"] = None  # more than the largest injected shift
        if "spike_share" in curve:
            out["spike_share"] = curve["spike_share"]
        return out
    if result.effect_name == "total_variation":
        top = extra.get("top_ref", {"value": None, "share": 0.5})
        change = max(proportion_detectable(top["share"], n, m, alpha, power), bar)
        return {
            "effect_name": "total_variation",
            "effect": change,
            "share_change": change,
            "category": top["value"],
        }
    if result.effect_name == "missing_rate_change":
        base = float(extra.get("missing_ref", 0.0))
        change = max(proportion_detectable(max(base, 1 / n), n, m, alpha, power), bar)
        return {"effect_name": "missing_rate_change", "effect": change}
    return None
