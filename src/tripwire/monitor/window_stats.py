"""The one place where window evaluation meets the statistics kernels.

Window evaluation calls only :func:`column_drift`, :func:`drift_decision` and
:func:`realized_metric`; which kernel answers is decided here, so moving to another test or
metric implementation is one edit in this file.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> ref, cur = pd.Series(rng.normal(size=500)), pd.Series(rng.normal(0.5, 1, size=500))
>>> d = column_drift(ref, cur, "numeric")
>>> d["test"], d["p_value"] < 1e-6
('ks', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.stats.multiple_testing import holm

MIN_ROWS = 20


def column_drift(ref: pd.Series, cur: pd.Series, kind: str) -> dict[str, Any]:
    """Two-sample test of one column: KS for numeric, chi-square for categorical values.

    ``effect`` is on a 0..1 scale for both kinds (KS distance, total variation distance), so a
    single minimum effect can keep very large windows from flagging negligible shifts.
    """
    r, c = ref.dropna(), cur.dropna()
    if len(r) < MIN_ROWS or len(c) < MIN_ROWS:
        return {"test": None, "statistic": None, "p_value": None, "effect": None, "n": len(c)}
    if kind == "numeric":
        res = stats.ks_2samp(r.to_numpy(float), c.to_numpy(float))
        return {
            "test": "ks",
            "statistic": float(res.statistic),
            "p_value": float(res.pvalue),
            "effect": float(res.statistic),
            "n": len(c),
        }
    rs, cs = r.astype(str).value_counts(), c.astype(str).value_counts()
    table = pd.concat([rs, cs], axis=1).fillna(0.0).to_numpy().T
    table = table[:, table.sum(axis=0) > 0]
    tvd = 0.5 * float(np.abs(table[0] / table[0].sum() - table[1] / table[1].sum()).sum())
    if table.shape[1] < 2:
        return {"test": "chi2", "statistic": 0.0, "p_value": 1.0, "effect": tvd, "n": len(c)}
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return {"test": "chi2", "statistic": float(chi2), "p_value": float(p), "effect": tvd, "n": len(c)}


def drift_decision(
    results: dict[str, dict[str, Any]], *, alpha: float, min_effect: float
) -> dict[str, Any]:
    """Holm-adjust p-values across columns; a column drifts when adjusted p < alpha and its
    effect is at least ``min_effect``. Adds ``p_adjusted`` and ``drift`` to each result."""
    names = [n for n, r in results.items() if r.get("p_value") is not None]
    adjusted = holm(np.array([results[n]["p_value"] for n in names], dtype=float))
    drifted = []
    for name, p_adj in zip(names, adjusted):
        res = results[name]
        res["p_adjusted"] = float(p_adj)
        res["drift"] = bool(p_adj < alpha and res["effect"] >= min_effect)
        if res["drift"]:
            drifted.append(name)
    for name in results:
        results[name].setdefault("drift", False)
    return {
        "flag": bool(drifted),
        "drifted": sorted(drifted, key=lambda n: results[n]["p_adjusted"]),
        "tested": len(names),
        "share": len(drifted) / len(names) if names else 0.0,
        "alpha": alpha,
        "min_effect": min_effect,
        "correction": "holm",
    }


def realized_metric(
    task: str, y_true: Sequence[Any], y_pred: Sequence[Any], level: float = 0.95
) -> dict[str, Any]:
    """Accuracy (classification, Wilson interval) or MAE (regression, t interval)."""
    n = len(y_true)
    z = float(stats.norm.ppf(0.5 + level / 2))
    if task == "classification":
        correct = np.array([str(a) == str(b) for a, b in zip(y_true, y_pred)], dtype=float)
        p = float(correct.mean())
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return {
            "metric": "accuracy",
            "value": p,
            "low": float(centre - half),
            "high": float(centre + half),
            "n": n,
            "se": float(np.sqrt(max(p * (1 - p), 1e-12) / n)),
        }
    err = np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))
    mae = float(err.mean())
    se = float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return {"metric": "mae", "value": mae, "low": mae - z * se, "high": mae + z * se, "n": n, "se": se}
