"""Preprocessing leakage seen in the data alone: columns scaled with statistics of train + test.

When the data handed over were already scaled (no fitted model to inspect), the scaler leaves
a fingerprint: the statistics it fixed hold exactly on the rows it was fitted on. A
StandardScaler gives mean 0 and standard deviation 1, a MinMaxScaler minimum 0 and maximum 1,
a RobustScaler median 0 and interquartile range 1. If these hold on train and test pooled but
not on train alone, the scaler was fitted on rows that include the test set. Columns scaled on
train alone (the right way) match on train; raw columns match nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE
from tripwire.context import AuditContext
from tripwire.findings import Finding

#: A statistic "holds" when it is within this of the scaler's value (in scaled units): exact
#: up to rounding of the written values to 3 decimals.
TOLERANCE = 1e-3
#: Columns that must carry the fingerprint on train + test and miss it on train alone.
MIN_COLUMNS = 2
#: Raw shares and values divided by a fixed maximum live in [0, 1] by nature (bike sharing's
#: humidity and feeling temperature); a MinMaxScaler leaves every column it scaled there, so
#: its fingerprint must hold in more than this share of the candidate columns.
MINMAX_MAJORITY = 0.5

SCALERS = {
    "StandardScaler": "mean 0 and standard deviation 1",
    "MinMaxScaler": "minimum 0 and maximum 1",
    "RobustScaler": "median 0 and interquartile range 1",
}


def scaler_deviations(x: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """For each scaler, the two statistics it fixes on ``x`` and how far they are from the
    values it fixes them at (the larger of the two deviations).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> dev = scaler_deviations((x - x.min()) / (x.max() - x.min()))
    >>> dev["MinMaxScaler"]
    (0.0, 1.0, 0.0)
    """
    mean = float(np.mean(x))
    sd0, sd1 = float(np.std(x)), float(np.std(x, ddof=1))
    sd = sd0 if abs(sd0 - 1) <= abs(sd1 - 1) else sd1  # either convention of the SD
    lo, hi = float(np.min(x)), float(np.max(x))
    q1, med, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    return {
        "StandardScaler": (mean, sd, max(abs(mean), abs(sd - 1))),
        "MinMaxScaler": (lo, hi, max(abs(lo), abs(hi - 1))),
        "RobustScaler": (med, q3 - q1, max(abs(med), abs(q3 - q1 - 1))),
    }


def _candidate(values: pd.Series) -> np.ndarray | None:
    """Finite values of a column a scaler could have produced: more than two distinct values,
    not all whole numbers (binary and count columns hit 0 and 1 by nature)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 10 or len(np.unique(x[:1000])) <= 2 or np.all(x == np.round(x)):
        return None
    return x


@check("leakage.scaled_with_test", mode=MODE, requires=("test",), order=40)
def find_scaled_with_test(ctx: AuditContext) -> Iterator[Finding]:
    """Numeric columns whose train + test statistics are exactly those a fitted scaler sets,
    while train alone's are not."""
    assert ctx.test is not None
    per_scaler: dict[str, list[dict[str, object]]] = {name: [] for name in SCALERS}
    on_train: dict[str, int] = {name: 0 for name in SCALERS}
    candidates = 0
    for col in ctx.features:
        if ctx.kinds[col] not in ("numeric", "boolean"):
            continue
        x_tr = _candidate(ctx.train[col])
        x_te = _candidate(ctx.test[col])
        if x_tr is None or x_te is None:
            continue
        candidates += 1
        pooled = scaler_deviations(np.concatenate([x_tr, x_te]))
        alone = scaler_deviations(x_tr)
        for name in SCALERS:
            if alone[name][2] < TOLERANCE:
                on_train[name] += 1
            elif pooled[name][2] < TOLERANCE:
                per_scaler[name].append(
                    {
                        "column": col,
                        "train_plus_test": [pooled[name][0], pooled[name][1]],
                        "train": [alone[name][0], alone[name][1]],
                    }
                )
    for name, cols in per_scaler.items():
        if len(cols) < MIN_COLUMNS:
            continue
        if name == "MinMaxScaler" and len(cols) + on_train[name] <= MINMAX_MAJORITY * candidates:
            continue
        names = [str(c["column"]) for c in cols]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield Finding(
            check="leakage.scaled_with_test",
            mode=MODE,
            severity="warning",
            title=(
                f"{len(names)} column(s) were scaled with statistics of train + test ({name} "
                "fingerprint)"
            ),
            detail=(
                f"On train and test pooled, {shown} have exactly {SCALERS[name]} (within "
                f"{TOLERANCE:g}), as a {name} fitted on those rows leaves them; on train alone "
                f"they do not. The scaler saw the test set before the split, so test rows "
                "shaped the features the model was trained on."
                + (
                    f" {on_train[name]} other column(s) carry the fingerprint on train alone."
                    if on_train[name]
                    else ""
                )
            ),
            columns=names,
            evidence={
                "scaler": name,
                "statistics": SCALERS[name],
                "tolerance": TOLERANCE,
                "columns": cols,
                "columns_matching_on_train_alone": on_train[name],
                "candidate_columns": candidates,
            },
            action=(
                "Split the raw data first, fit the scaler on train only (inside a Pipeline), "
                "then transform test with it and re-evaluate."
            ),
        )
