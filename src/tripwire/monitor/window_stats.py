"""The one place where window evaluation meets the statistics kernels.

Window evaluation calls only :func:`drift_table`, :func:`profile_drift_table`,
:func:`column_drift`, :func:`fit_calibration`, :func:`calibrate` and :func:`realized_metric`;
which kernel answers is decided here, so moving to another test or metric implementation is
one edit in this file.

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

from tripwire.stats.performance import wilson
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
    return _table(decision, alpha, min_effect)


def _table(decision: Any, alpha: float, min_effect: float) -> dict[str, Any]:
    columns = {}
    for r, q, status in zip(decision.results, decision.q_values, decision.statuses):
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
        if "sketch_error" in r.extra:
            columns[r.column]["sketch_error"] = _finite(r.extra["sketch_error"])
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


def profile_drift_table(
    reference: Any, current: pd.DataFrame, *, alpha: float, min_effect: float
) -> dict[str, Any]:
    """:func:`drift_table` against a reference kept as a profile (:mod:`tripwire.scale`).

    The window is profiled with the reference's sketch sizes and the two profiles compared by
    :func:`tripwire.scale.drift.compare_profiles`: Benjamini-Hochberg across the columns, and
    the effect net of the sketches' error must reach ``min_effect`` (missing values are the
    quality check's business, so no missing-rate tests here).

    Examples
    --------
    >>> from tripwire.scale import profile_frame
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_frame(pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=300)})
    >>> d = profile_drift_table(ref, cur, alpha=0.01, min_effect=0.1)
    >>> d["drifted"], d["columns"]["x"]["test"]
    (['x'], 'ks_sketch')
    """
    from tripwire.errors import InputError
    from tripwire.scale.drift import compare_profiles
    from tripwire.scale.profile import profile_frame

    frame = pd.DataFrame(
        {
            c: current[c].astype("string") if col.kind == "categorical" else current[c]
            for c, col in reference.columns.items()
            if c in current.columns
        }
    )
    try:
        window = profile_frame(frame, config=reference.config)
        decision = compare_profiles(
            reference,
            window,
            alpha=alpha,
            min_effect=_bars(min_effect),
            bar_on="point",
            missing=False,
        )
    except InputError:  # nothing comparable in this window (no shared, non-empty column)
        return {"columns": {}, "flag": False, "drifted": [], "tested": 0, "share": 0.0}
    return _table(decision, alpha, min_effect)


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


def fit_calibration(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> dict[str, Any] | None:
    """Map the model's confidence to P(correct) from labelled reference rows.

    Histogram binning on confidence quantiles (Zadrozny and Elkan, 2001), at least 50 rows a
    bin: bounded by what the reference showed, and stable when confidences pile up near 1,
    where a logistic (Platt) map fitted in logit space can diverge (it does on elec2).
    None with fewer than 50 rows.

    References
    ----------
    Zadrozny, B. and Elkan, C. (2001). Obtaining calibrated probability estimates from
    decision trees and naive Bayesian classifiers. ICML.
    """
    n = len(confidence)
    if n < 50:
        return None
    n_bins = max(1, min(bins, n // 50))
    edges = np.unique(np.quantile(confidence, np.linspace(0, 1, n_bins + 1)[1:-1]))
    idx = np.searchsorted(edges, confidence, side="right")
    overall = float(correct.mean())
    accuracy = [
        float(correct[idx == k].mean()) if np.any(idx == k) else overall
        for k in range(len(edges) + 1)
    ]
    return {"method": "histogram binning", "edges": edges.tolist(), "accuracy": accuracy}


def calibrate(confidence: np.ndarray, calibration: dict[str, Any] | None) -> np.ndarray:
    """Calibrated probability that each prediction is right (raw confidence without a map)."""
    if calibration is None:
        return confidence
    idx = np.searchsorted(np.asarray(calibration["edges"]), confidence, side="right")
    return np.asarray(calibration["accuracy"])[idx]
