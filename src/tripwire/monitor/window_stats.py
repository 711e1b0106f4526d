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

from tripwire.stats.metrics import compute_metric, metric_panel
from tripwire.stats.performance import wilson
from tripwire.stats.univariate import decide, test_column

#: Bootstrap resamples for the interval of a window's regression metric.
N_BOOT = 400


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
    """The realized metric of labelled rows, from :mod:`tripwire.stats.metrics`.

    Classification: accuracy (labels compared as text, so ``1`` and ``"1"`` match) with a
    Wilson interval. Regression: MAE with the metrics module's percentile-bootstrap interval
    (:func:`tripwire.stats.metrics.metric_panel`, seeded). ``se`` is the standard error the
    performance blend needs.

    Examples
    --------
    >>> realized_metric("classification", [1, 0, 1, 1], ["1", "0", "0", "1"])["value"]
    0.75
    >>> m = realized_metric("regression", [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 4.5])
    >>> m["metric"], m["value"], m["low"] <= m["value"] <= m["high"]
    ('mae', 0.5, True)
    """
    n = len(y_true)
    if task == "classification":
        yt = np.array([str(v) for v in y_true], dtype=object)
        yp = np.array([str(v) for v in y_pred], dtype=object)
        value = compute_metric("accuracy", yt, yp)
        low, high = wilson(int(round(value * n)), n, level)
        return {
            "metric": "accuracy",
            "value": value,
            "low": float(low),
            "high": float(high),
            "n": n,
            "se": float(np.sqrt(max(value * (1 - value), 1e-12) / n)),
        }
    yt_f, yp_f = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    mae = metric_panel(yt_f, yp_f, task="regression", metrics=["mae"], n_boot=N_BOOT, level=level)[
        "mae"
    ]
    z = float(stats.norm.ppf(0.5 + level / 2))
    finite = np.isfinite(mae.low) and np.isfinite(mae.high)
    return {
        "metric": "mae",
        "value": float(mae.value),
        "low": float(mae.low) if finite else float("-inf"),
        "high": float(mae.high) if finite else float("inf"),
        "n": n,
        "se": float((mae.high - mae.low) / (2 * z)) if finite else float("inf"),
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
