"""The one place where window evaluation meets the statistics kernels.

Window evaluation calls only :func:`drift_table`, :func:`column_drift`,
:func:`fit_calibration`, :func:`calibrate` and :func:`realized_metric`; which kernel answers is decided here, so moving to another test or
metric implementation is one edit in this file.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> ref, cur = pd.Series(rng.normal(size=500)), pd.Series(rng.normal(0.5, 1, size=500))
>>> d = column_drift(ref, cur, "numeric", alpha=0.01, min_effect=0.1)
>>> d["test"], d["p_value"] < 1e-6, d["flag"]
('ks', True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.stats.performance import calibrated, fit_platt, wilson
from tripwire.stats.univariate import decide, test_column


def drift_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, str],
    *,
    alpha: float,
    min_effect: float,
) -> dict[str, Any]:
    """Test every column present on both sides and decide once for the window.

    Benjamini-Hochberg across the columns, then an effect-size bar (``min_effect`` on the KS
    distance and total variation scale), via :func:`tripwire.stats.univariate.decide`.
    """
    results = [
        test_column(reference[c].rename(c), current[c].rename(c), kind)
        for c, kind in kinds.items()
        if c in current.columns
    ]
    decision = decide(results, alpha=alpha, min_effect=_bars(min_effect))
    columns = {}
    for r, q, status in zip(results, decision.q_values, decision.statuses):
        columns[r.column] = {
            "test": r.method,
            "statistic": _finite(r.statistic),
            "p_value": _finite(r.p_value),
            "p_adjusted": _finite(q),
            "effect_name": r.effect_name,
            "effect": _finite(r.effect),
            "effect_low": _finite(r.effect_low),
            "effect_high": _finite(r.effect_high),
            "n": r.n_cur,
            "status": status,
            "drift": status == "drift",
        }
    drifted = decision.columns("drift")
    return {
        "columns": columns,
        "flag": bool(decision.drifted),
        "drifted": drifted,
        "tested": decision.n_tests,
        "share": len(drifted) / decision.n_tests if decision.n_tests else 0.0,
        "alpha": alpha,
        "min_effect": min_effect,
        "correction": decision.correction,
    }


def column_drift(
    reference: pd.Series, current: pd.Series, kind: str, *, alpha: float, min_effect: float
) -> dict[str, Any]:
    """One column (the model's outputs): the same test and bar as :func:`drift_table`."""
    table = drift_table(
        reference.rename("prediction").to_frame(),
        current.rename("prediction").to_frame(),
        {"prediction": kind},
        alpha=alpha,
        min_effect=min_effect,
    )
    res = table["columns"]["prediction"]
    return {**res, "flag": table["flag"], "tested": res["p_value"] is not None}


def _bars(min_effect: float) -> dict[str, float]:
    return {"ks_distance": min_effect, "total_variation": min_effect}


def _finite(v: float) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def realized_metric(
    task: str, y_true: Sequence[Any], y_pred: Sequence[Any], level: float = 0.95
) -> dict[str, Any]:
    """Accuracy (classification, Wilson interval) or MAE (regression, t interval)."""
    n = len(y_true)
    if task == "classification":
        correct = np.array([str(a) == str(b) for a, b in zip(y_true, y_pred)], dtype=float)
        p = float(correct.mean())
        low, high = wilson(int(correct.sum()), n, level)
        return {
            "metric": "accuracy",
            "value": p,
            "low": float(low),
            "high": float(high),
            "n": n,
            "se": float(np.sqrt(max(p * (1 - p), 1e-12) / n)),
        }
    z = float(stats.norm.ppf(0.5 + level / 2))
    err = np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))
    mae = float(err.mean())
    se = float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return {
        "metric": "mae",
        "value": mae,
        "low": mae - z * se,
        "high": mae + z * se,
        "n": n,
        "se": se,
    }


def fit_calibration(confidence: np.ndarray, correct: np.ndarray) -> tuple[float, float] | None:
    """Platt map from the model's confidence to P(correct), fitted on labelled reference rows
    (CBPE, :mod:`tripwire.stats.performance`); None with too few rows to fit."""
    if len(confidence) < 50 or correct.min() == correct.max():
        return None
    return fit_platt(confidence, correct)


def calibrate(confidence: np.ndarray, ab: tuple[float, float] | None) -> np.ndarray:
    """Calibrated probability that each prediction is right (raw confidence without a map)."""
    return confidence if ab is None else calibrated(confidence, ab)
