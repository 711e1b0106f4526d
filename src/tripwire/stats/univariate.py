"""Per-column drift: one test chosen by the column's kind and the sample sizes.

:func:`test_column` compares a reference and a current sample of one column and returns a
:class:`ColumnDrift`: the test that was run, its statistic and p-value, and an effect size
with an interval, so that a significant but negligible shift on a huge sample can be told
apart from a shift that matters. :func:`decide` (in :mod:`tripwire.stats.decision`, re-exported
here) turns many column results into one calibrated dataset-level decision.

Choice of test (``method=None``):

=============  ======================================================  ===================
kind           test                                                    effect size
=============  ======================================================  ===================
numeric        Kolmogorov-Smirnov (exact, asymptotic, or on a 4,096-   KS distance, DKW
               quantile grid beyond 200,000 values per side);          interval
               chi-squared when both sides have at most 20 distinct
               values (KS is conservative with ties)
categorical,   chi-squared with rare categories pooled (Fisher's       total variation,
boolean        exact test for small 2 x 2 tables)                      bootstrap interval
datetime       chi-squared on day of week and hour of day (absolute    total variation
               dates always move between windows)
text           KS on the character length                              KS distance
identifier     not compared (unique per row)                           --
=============  ======================================================  ===================

Overrides: ``method`` in ``ks``, ``wasserstein`` (permutation p-value), ``psi``, ``chi2``,
``jensen_shannon`` (G-test p-value), ``unseen`` (categories never seen in the reference,
against their number under a random split of the pooled rows) and ``missing_rate`` (two proportions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tripwire.errors import UsageError
from tripwire.stats import two_sample as ts
from tripwire.stats.categorical import (
    categorical,
    category_counts,
    from_counts,
    unseen_from,
    unseen_null,
)
from tripwire.stats.column_drift import MIN_VALUES, ColumnDrift, untested

METHODS = ("ks", "wasserstein", "psi", "chi2", "jensen_shannon", "unseen", "missing_rate")
#: Numeric columns with at most this many distinct values on both sides are compared as
#: categories.
DISCRETE_MAX = 20
#: Mean shifts (in reference standard deviations) injected to map a detectable KS distance to
#: a detectable shift.
SHIFT_GRID = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0)
#: Columns where one value holds more than this share of rows get no mean-shift sensitivity.
SPIKE_MAX = 0.05


def test_column(
    reference: pd.Series,
    current: pd.Series,
    kind: str,
    *,
    method: str | None = None,
    random_state: int = 0,
) -> ColumnDrift:
    """Compare one column between ``reference`` and ``current``.

    Parameters
    ----------
    reference, current
        The column's values on each side; missing values are left out of the distribution
        tests (``method="missing_rate"`` compares how many there are).
    kind
        ``numeric``, ``boolean``, ``categorical``, ``datetime``, ``text`` or ``identifier``.
    method
        Force a test (see the module docstring); by default it is chosen by kind and size.
    random_state
        Seed for resampled intervals and permutation p-values.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.Series(rng.normal(size=2000))
    >>> r = test_column(ref, pd.Series(rng.normal(0.3, 1, size=2000)), "numeric")
    >>> r.method, round(r.effect, 2), r.p_value < 1e-6, r.effect_low < r.effect < r.effect_high
    ('ks', 0.13, True, True)
    >>> r = test_column(pd.Series(["a"] * 60 + ["b"] * 40), pd.Series(["a"] * 40 + ["b"] * 60),
    ...                 "categorical")
    >>> r.method, r.effect_name, round(r.effect, 2), round(r.p_value, 4)
    ('chi2', 'total_variation', 0.2, 0.0047)
    """
    if method is not None and method not in METHODS:
        raise UsageError(f"drift method {method!r} is not one of: {', '.join(METHODS)}.")
    column = str(reference.name if reference.name is not None else current.name)
    rng = np.random.default_rng(random_state)
    if method == "missing_rate":
        return _missing_rate(column, kind, reference, current)
    if kind == "identifier":
        return untested(
            column,
            kind,
            len(reference),
            len(current),
            "identifiers are unique per row; not compared",
        )
    if kind == "datetime" and method is None:
        return _datetime(column, reference, current, rng)
    if kind == "text" and method is None:
        return _text(column, reference, current, rng)
    if (
        kind in ("numeric",)
        or (kind == "datetime")
        or (kind == "text" and method in ("ks", "wasserstein", "psi"))
    ):
        return _numeric(
            column, kind, _as_float(reference, kind), _as_float(current, kind), method, rng
        )
    return categorical(column, kind, reference, current, method, rng)


# ---------------------------------------------------------------------------------------
# Numeric
# ---------------------------------------------------------------------------------------
def _as_float(values: pd.Series, kind: str) -> np.ndarray:
    if kind == "datetime":
        t = pd.to_datetime(values, errors="coerce")
        out = t.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float) / 1e9
        out[t.isna().to_numpy()] = np.nan
        return out
    if kind == "text":
        return (
            values.astype(object)
            .where(values.notna())
            .str.len()
            .to_numpy(dtype=float, na_value=np.nan)
        )
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _sorted_finite(x: np.ndarray) -> np.ndarray:
    x = np.sort(x)  # NaN sort last
    x = x[: len(x) - int(np.count_nonzero(np.isnan(x)))]
    if len(x) and (np.isinf(x[0]) or np.isinf(x[-1])):
        x = x[np.isfinite(x)]
    return x


def _distinct(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and counts of a sorted array."""
    if len(a) == 0:
        return a, np.array([], dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(a[1:] != a[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(a)])
    return a[starts], counts


def _numeric(
    column: str,
    kind: str,
    x_ref: np.ndarray,
    x_cur: np.ndarray,
    method: str | None,
    rng: np.random.Generator,
) -> ColumnDrift:
    a, b = _sorted_finite(x_ref), _sorted_finite(x_cur)
    n, m = len(a), len(b)
    if n < MIN_VALUES or m < MIN_VALUES:
        return untested(column, kind, n, m, f"fewer than {MIN_VALUES} values on a side")
    extra = _numeric_facts(a, b)
    if method is None:
        # Few distinct values: KS is conservative with ties, a chi-squared test is exact-sized.
        few = extra["distinct_ref"] <= DISCRETE_MAX and extra["distinct_cur"] <= DISCRETE_MAX
        method = "chi2" if few else "ks"
        extra["why"] = f"{'at most' if few else 'more than'} {DISCRETE_MAX} distinct values: " + (
            "compared as categories" if few else "Kolmogorov-Smirnov"
        )
    if method in ("chi2", "jensen_shannon", "unseen"):
        va, ca = _distinct(a)
        vb, cb = _distinct(b)
        values = np.union1d(va, vb)
        ref_counts = np.zeros(len(values), dtype=np.int64)
        cur_counts = np.zeros(len(values), dtype=np.int64)
        ref_counts[np.searchsorted(values, va)] = ca
        cur_counts[np.searchsorted(values, vb)] = cb
        labels = [_fmt_num(v) for v in values]
        res = from_counts(column, kind, labels, ref_counts, cur_counts, method, rng)
        res.extra.update({k: v for k, v in extra.items() if k not in res.extra})
        return res
    if method == "ks":
        d, p, how = ts.ks_sorted(a, b)
        lo, hi = ts.dkw_interval(d, n, m)
        extra["ks_evaluation"] = how
        extra["shift_curve"] = _shift_curve(a, extra["std_ref"])
        return ColumnDrift(column, kind, "ks", d, p, "ks_distance", d, lo, hi, n, m, extra)
    if method == "psi":
        edges = np.unique(a[((np.arange(1, 10) / 10) * (n - 1)).astype(int)])
        p_ref = ts.shares(np.diff(np.r_[0, np.searchsorted(a, edges, "right"), n]).astype(float))
        p_cur = ts.shares(np.diff(np.r_[0, np.searchsorted(b, edges, "right"), m]).astype(float))
        value = ts.psi(p_ref, p_cur)
        p = ts.psi_pvalue(value, n, m, len(p_ref))
        lo, hi = _boot_interval(
            lambda ra, rb: ts.psi(_bin_shares(ra, edges), _bin_shares(rb, edges)), a, b, rng
        )
        return ColumnDrift(column, kind, "psi", value, p, "psi", value, lo, hi, n, m, extra)
    if method == "wasserstein":
        scale = extra["std_ref"] or 1.0
        w = ts.wasserstein_sorted(a, b) / scale
        p = _permutation_pvalue(a, b, lambda u, v: ts.wasserstein_sorted(u, v), rng)
        lo, hi = _boot_interval(lambda ra, rb: ts.wasserstein_sorted(ra, rb) / scale, a, b, rng)
        return ColumnDrift(
            column, kind, "wasserstein", w, p, "wasserstein_sd", w, lo, hi, n, m, extra
        )
    raise UsageError(f"drift method {method!r} does not apply to {kind} column {column!r}.")


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _bin_shares(a: np.ndarray, edges: np.ndarray) -> np.ndarray:
    a = np.sort(a)
    return ts.shares(np.diff(np.r_[0, np.searchsorted(a, edges, "right"), len(a)]).astype(float))


def _numeric_facts(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Summaries of both sorted samples: moments, quantiles, Wasserstein, PSI, a histogram."""
    n, m = len(a), len(b)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    sd_a = float(a.std(ddof=1)) if n > 1 else 0.0
    sd_b = float(b.std(ddof=1)) if m > 1 else 0.0
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    qa, qb = a[(q * (n - 1)).astype(int)], b[(q * (m - 1)).astype(int)]
    scale = sd_a if sd_a > 0 else 1.0
    deciles = np.unique(a[((np.arange(1, 10) / 10) * (n - 1)).astype(int)])
    p_ref = ts.shares(np.diff(np.r_[0, np.searchsorted(a, deciles, "right"), n]).astype(float))
    p_cur = ts.shares(np.diff(np.r_[0, np.searchsorted(b, deciles, "right"), m]).astype(float))
    lo = min(a[int(0.005 * (n - 1))], b[int(0.005 * (m - 1))])
    hi = max(a[int(0.995 * (n - 1))], b[int(0.995 * (m - 1))])
    edges = np.linspace(lo, hi, 31) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    inner = edges[1:-1]
    h_ref = np.diff(np.r_[0, np.searchsorted(a, inner, "left"), n]) / n
    h_cur = np.diff(np.r_[0, np.searchsorted(b, inner, "left"), m]) / m
    return {
        "mean_ref": mean_a,
        "mean_cur": mean_b,
        "std_ref": sd_a,
        "std_cur": sd_b,
        "mean_shift_sd": (mean_b - mean_a) / scale,
        "std_ratio": sd_b / sd_a if sd_a > 0 else float("nan"),
        "quantiles": {"p": q.tolist(), "ref": qa.tolist(), "cur": qb.tolist()},
        "wasserstein_sd": ts.wasserstein_sorted(a, b) / scale,
        "psi": ts.psi(p_ref, p_cur),
        "distinct_ref": int(np.count_nonzero(a[1:] != a[:-1]) + 1),
        "distinct_cur": int(np.count_nonzero(b[1:] != b[:-1]) + 1),
        "histogram": {"edges": edges.tolist(), "ref": h_ref.tolist(), "cur": h_cur.tolist()},
    }


def _shift_curve(a: np.ndarray, sd: float | None = None) -> dict[str, Any]:
    """KS distance between the reference and itself shifted by ``delta`` standard deviations,
    for each injected ``delta`` in :data:`SHIFT_GRID`: maps a detectable KS distance to the
    smallest detectable mean shift.

    Examples
    --------
    >>> x = np.sort(np.random.default_rng(0).normal(size=20000))
    >>> c = _shift_curve(x)
    >>> round(c["ks"][c["delta_sd"].index(0.1)], 2)  # normal: 2 * Phi(0.05) - 1 = 0.040
    0.04
    >>> ages = np.sort(np.random.default_rng(0).integers(18, 80, 20000)).astype(float)
    >>> round(_shift_curve(ages)["ks"][0], 4)  # ties smoothed: tiny for a tiny shift
    0.0016
    """
    if sd is None:
        sd = float(a.std()) if len(a) > 1 else 0.0
    if sd == 0 or len(a) < 2:
        return {"delta_sd": [], "ks": []}
    step = max(1, len(a) // 5000)
    values, counts = _distinct(a[::step])
    top = float(counts.max() / counts.sum())
    if top > SPIKE_MAX:
        # an additive shift of a column with a spike (zeros, a default value) moves the spike
        # and is trivially visible; a "mean shift" sensitivity would mislead there
        return {"delta_sd": [], "ks": [], "spike_share": top}
    # A piecewise-linear CDF: each distinct value's mass is spread up to the next value, so a
    # small shift of integer data moves part of each tied mass, not all of it.
    cdf = np.cumsum(counts) / counts.sum()
    gap = float(np.median(np.diff(values))) if len(values) > 1 else sd
    knots = np.r_[values, values[-1] + gap]
    levels = np.r_[0.0, cdf]
    ks = []
    for delta in SHIFT_GRID:
        shift = delta * sd
        points = np.r_[knots, knots + shift]
        gaps = np.interp(points, knots, levels) - np.interp(points - shift, knots, levels)
        ks.append(float(np.max(gaps)))
    return {"delta_sd": list(SHIFT_GRID), "ks": ks}


def _boot_interval(
    statistic: Any,
    a: np.ndarray,
    b: np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 100,
    cap: int = 5000,
) -> tuple[float, float]:
    """Percentile interval by resampling both sides (each capped at ``cap`` values and the
    resampled sizes kept, so the spread reflects the real sample sizes via sqrt scaling)."""
    n, m = len(a), len(b)
    sa, sb = min(n, cap), min(m, cap)
    stats_ = np.empty(n_boot)
    for i in range(n_boot):
        stats_[i] = statistic(a[rng.integers(0, n, sa)], b[rng.integers(0, m, sb)])
    est = statistic(a, b)
    # rescale the spread from the capped resample size to the full sample size
    factor = math.sqrt((1 / n + 1 / m) / (1 / sa + 1 / sb))
    centre = np.median(stats_)
    lo, hi = np.quantile(stats_, [0.025, 0.975])
    return float(max(0.0, est - (centre - lo) * factor)), float(est + (hi - centre) * factor)


def _permutation_pvalue(
    a: np.ndarray,
    b: np.ndarray,
    statistic: Any,
    rng: np.random.Generator,
    n_perm: int = 200,
    cap: int = 2000,
) -> float:
    if len(a) > cap:
        a = np.sort(rng.choice(a, cap, replace=False))
    if len(b) > cap:
        b = np.sort(rng.choice(b, cap, replace=False))
    observed = statistic(a, b)
    pooled = np.concatenate([a, b])
    hits = 0
    for _ in range(n_perm):
        perm = rng.permutation(pooled)
        hits += statistic(np.sort(perm[: len(a)]), np.sort(perm[len(a) :])) >= observed
    return (hits + 1) / (n_perm + 1)


# ---------------------------------------------------------------------------------------
# Missing values, dates, text
# ---------------------------------------------------------------------------------------
def _missing_rate(column: str, kind: str, reference: pd.Series, current: pd.Series) -> ColumnDrift:
    n, m = len(reference), len(current)
    k1, k2 = int(reference.isna().sum()), int(current.isna().sum())
    if n == 0 or m == 0:
        return untested(column, kind, n, m, "a side is empty")
    d, lo, hi, p = ts.two_proportions(k1, n, k2, m)
    extra = {"missing_ref": k1 / n, "missing_cur": k2 / m}
    return ColumnDrift(
        column, kind, "missing_rate", d, p, "missing_rate_change", d, lo, hi, n, m, extra
    )


def _datetime(
    column: str, reference: pd.Series, current: pd.Series, rng: np.random.Generator
) -> ColumnDrift:
    tr = pd.to_datetime(reference, errors="coerce").dropna()
    tc = pd.to_datetime(current, errors="coerce").dropna()
    if len(tr) < MIN_VALUES or len(tc) < MIN_VALUES:
        return untested(
            column, "datetime", len(tr), len(tc), f"fewer than {MIN_VALUES} values on a side"
        )
    parts = [("day_of_week", tr.dt.day_of_week, tc.dt.day_of_week, 7)]
    has_time = bool((tr.dt.hour != 0).any() or (tc.dt.hour != 0).any())
    if has_time:
        parts.append(("hour", tr.dt.hour, tc.dt.hour, 24))
    best: ColumnDrift | None = None
    details = {}
    for name, a, b, k in parts:
        rc = np.bincount(a.to_numpy(dtype=np.int64), minlength=k)
        cc = np.bincount(b.to_numpy(dtype=np.int64), minlength=k)
        r = from_counts(column, "datetime", [str(i) for i in range(k)], rc, cc, "chi2", rng)
        details[name] = {"p_value": r.p_value, "total_variation": r.effect}
        if best is None or r.effect > best.effect:
            best = r
    assert best is not None
    p = min(1.0, min(v["p_value"] for v in details.values()) * len(parts))  # Bonferroni
    extra = {
        "why": "absolute dates always move between windows; compared by "
        + (" and ".join(n for n, *_ in parts)),
        "parts": details,
        "range_ref": [tr.min().isoformat(), tr.max().isoformat()],
        "range_cur": [tc.min().isoformat(), tc.max().isoformat()],
    }
    return ColumnDrift(
        column,
        "datetime",
        "calendar",
        best.statistic,
        p,
        "total_variation",
        best.effect,
        best.effect_low,
        best.effect_high,
        len(tr),
        len(tc),
        extra,
    )


def _text(
    column: str, reference: pd.Series, current: pd.Series, rng: np.random.Generator
) -> ColumnDrift:
    res = _numeric(
        column, "text", _as_float(reference, "text"), _as_float(current, "text"), "ks", rng
    )
    if not res.tested:
        return res
    sample_r = reference.dropna().astype(str)
    sample_c = current.dropna().astype(str)
    sample_r = sample_r.sample(min(len(sample_r), 5000), random_state=0)
    sample_c = sample_c.sample(min(len(sample_c), 5000), random_state=1)
    vocab = set(sample_r.str.lower().str.findall(r"\w+").explode().dropna())
    tokens_c = sample_c.str.lower().str.findall(r"\w+").explode().dropna()
    half = len(sample_r) // 2
    tokens_r2 = sample_r.iloc[half:].str.lower().str.findall(r"\w+").explode().dropna()
    vocab_r1 = set(sample_r.iloc[:half].str.lower().str.findall(r"\w+").explode().dropna())
    extra = dict(res.extra)
    extra.pop("shift_curve", None)
    extra.update(
        why="free text: KS on the character length; vocabulary reported",
        out_of_vocabulary_cur=float((~tokens_c.isin(vocab)).mean()) if len(tokens_c) else 0.0,
        out_of_vocabulary_baseline=float((~tokens_r2.isin(vocab_r1)).mean())
        if len(tokens_r2)
        else 0.0,
    )
    return ColumnDrift(
        column,
        "text",
        "ks_length",
        res.statistic,
        res.p_value,
        res.effect_name,
        res.effect,
        res.effect_low,
        res.effect_high,
        res.n_ref,
        res.n_cur,
        extra,
    )


from tripwire.stats.decision import DatasetDecision, decide  # noqa: E402  (re-export)

__all__ = [
    "ColumnDrift",
    "DatasetDecision",
    "category_counts",
    "decide",
    "test_column",
    "unseen_from",
    "unseen_null",
]
