"""Two-sample tests and divergences on numpy arrays: the kernels behind column drift.

Every function takes plain arrays (sorted values or category counts) and returns numbers, so
the same kernels serve the batch drift report, the monitor's windows and saved profiles.

References
----------
Kolmogorov, A. (1933); Smirnov, N. (1948). The two-sample Kolmogorov-Smirnov test.
Dvoretzky, A., Kiefer, J. and Wolfowitz, J. (1956); Massart, P. (1990). The tight constant in
the DKW inequality. Ann. Probab. 18(3), 1269-1283.
Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Trans. Inf. Theory 37(1).
Yurdakul, B. (2018). Statistical properties of population stability index. PhD thesis, Western
Michigan University (PSI is the Jeffreys divergence; n_eff * PSI is asymptotically chi-squared).
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions. Stat. Med. 17, 873-890.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: Above this many values per side the KS distance is evaluated on a fixed grid of pooled
#: quantiles instead of at every value (the error is at most 1 / KS_GRID of probability mass).
KS_EXACT_MAX = 200_000
KS_GRID = 4096


def ks_sorted(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    """Two-sample KS distance and p-value from two *sorted* arrays without NaN.

    Returns ``(D, p_value, how)``. Small samples use scipy's exact distribution, large ones
    the asymptotic Kolmogorov distribution; beyond :data:`KS_EXACT_MAX` values per side, D is
    evaluated on a grid of :data:`KS_GRID` pooled quantiles (a lower bound within 1/KS_GRID).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = np.sort(rng.normal(size=500)), np.sort(rng.normal(0.5, 1, size=400))
    >>> d, p, how = ks_sorted(a, b)
    >>> bool(abs(d - stats.ks_2samp(a, b).statistic) < 1e-12), p < 1e-6, how
    (True, True, 'exact')
    """
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return float("nan"), float("nan"), "empty"
    if max(n, m) <= KS_EXACT_MAX:
        if n * m <= 10_000:
            res = stats.ks_2samp(a, b, method="exact")
            return float(res.statistic), float(res.pvalue), "exact"
        points = np.concatenate([a, b])
        how = "exact"
    else:
        qs = np.linspace(0.0, 1.0, KS_GRID + 1)[1:-1]
        points = np.concatenate([a[(qs * (n - 1)).astype(int)], b[(qs * (m - 1)).astype(int)]])
        how = f"grid{KS_GRID}"
    fa = np.searchsorted(a, points, side="right") / n
    fb = np.searchsorted(b, points, side="right") / m
    d = float(np.max(np.abs(fa - fb)))
    return d, ks_pvalue(d, n, m), how


def ks_pvalue(d: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS distance (Stephens' correction).

    Examples
    --------
    >>> round(ks_pvalue(0.05, 1000, 1000), 3)
    0.16
    """
    en = math.sqrt(n * m / (n + m))
    return float(stats.kstwobign.sf((en + 0.12 + 0.11 / en) * d)) if d > 0 else 1.0


def dkw_interval(d: float, n: int, m: int, level: float = 0.95) -> tuple[float, float]:
    """A finite-sample interval for the population KS distance around the sample one.

    By the DKW inequality with Massart's constant each empirical CDF is within
    ``sqrt(log(4 / alpha) / (2 n))`` of its population CDF with probability ``1 - alpha / 2``;
    the population distance is then within the sum of both bounds of ``d``. Conservative and
    valid at any sample size, with no resampling.

    Examples
    --------
    >>> lo, hi = dkw_interval(0.1, 5000, 5000)
    >>> round(lo, 3), round(hi, 3)
    (0.058, 0.142)
    """
    alpha = 1 - level
    c = math.sqrt(math.log(4 / alpha) / 2)
    eps = c * (1 / math.sqrt(n) + 1 / math.sqrt(m))
    return max(0.0, d - eps), min(1.0, d + eps)


def ks_detectable(n: int, m: int, alpha: float, power: float = 0.8) -> float:
    """The KS distance a test at level ``alpha`` detects with probability ``power``.

    The critical distance ``c(alpha) * sqrt(1/n + 1/m)`` plus ``z(power)`` standard errors of
    the empirical CDF difference at its largest point (at most 0.5 per unit of
    sqrt(1/n + 1/m)). The sample distance overestimates the population one, which makes this
    conservative for smooth data (about 90 % detection at the nominal 80 % for normal
    shifts); on real, skewed or tied columns benchmarks/drift.py measures 75-100 %.

    Examples
    --------
    >>> round(ks_detectable(5000, 5000, 0.05), 4)
    0.0356
    """
    scale = math.sqrt(1 / n + 1 / m)
    crit = float(stats.kstwobign.isf(alpha))
    return min(1.0, max(0.0, crit + 0.5 * float(stats.norm.ppf(power))) * scale)


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts, dtype=float)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Half the L1 distance between two distributions: the largest difference in the
    probability any set of categories gets.

    Examples
    --------
    >>> total_variation(np.array([0.5, 0.5]), np.array([0.7, 0.3]))
    0.2
    """
    return float(round(0.5 * np.abs(p - q).sum(), 12))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (square root of the divergence, base 2; in [0, 1]).

    Examples
    --------
    >>> round(jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])), 6)
    1.0
    """
    mid = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        ok = x > 0
        return float(np.sum(x[ok] * np.log2(x[ok] / mid[ok])))

    return float(math.sqrt(max(0.0, (kl(p) + kl(q)) / 2)))


def psi(p: np.ndarray, q: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index, sum (q - p) ln(q / p), with empty bins floored at ``eps``.

    Examples
    --------
    >>> round(psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 4)
    0.0405
    """
    p = np.maximum(p, eps)
    q = np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_pvalue(value: float, n: int, m: int, bins: int) -> float:
    """p-value of a PSI from its asymptotic chi-squared law: n m / (n + m) * PSI ~ chi2(bins-1).

    Examples
    --------
    >>> round(psi_pvalue(0.01, 5000, 5000, 10), 4)
    0.003
    """
    if bins < 2:
        return 1.0
    return float(stats.chi2.sf(value * n * m / (n + m), bins - 1))


def merge_rare(ref: np.ndarray, cur: np.ndarray, min_expected: float = 5.0) -> np.ndarray:
    """Indices of categories to keep separate; the rest are pooled so every expected count
    in the 2 x K table is at least ``min_expected`` (Cochran's rule).

    Returns a mapping array: category i goes to output cell ``out[i]``.

    Examples
    --------
    >>> merge_rare(np.array([50, 40, 1, 1]), np.array([45, 45, 2, 0])).tolist()
    [0, 1, 1, 1]
    >>> merge_rare(np.array([50, 40, 9, 9]), np.array([45, 45, 2, 0])).tolist()
    [0, 1, 2, 2]
    """
    total = ref + cur
    n, m = ref.sum(), cur.sum()
    frac = min(n, m) / max(1, n + m)
    order = np.argsort(-total, kind="stable")
    mapping = np.empty(len(total), dtype=int)
    keep = total * frac >= min_expected
    big = order[keep[order]]
    small = order[~keep[order]]
    mapping[big] = np.arange(len(big))
    mapping[small] = len(big)
    if len(small) and total[small].sum() * frac < min_expected and len(big) > 1:
        # the pooled rest is itself too small: fold it into the smallest kept category
        mapping[small] = len(big) - 1
    return mapping


def chi2_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, int]:
    """Chi-squared test of homogeneity for category counts of two samples.

    Rare categories are pooled first (:func:`merge_rare`); a 2 x 2 table with a small
    expected count uses Fisher's exact test. Returns ``(statistic, p_value, dof)``.

    Examples
    --------
    >>> stat, p, dof = chi2_counts(np.array([30, 70]), np.array([50, 50]))
    >>> round(stat, 2), round(p, 4), dof
    (8.33, 0.0039, 1)
    """
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        return float("nan"), float("nan"), 0
    mapping = merge_rare(ref, cur)
    k = int(mapping.max()) + 1
    r = np.bincount(mapping, weights=ref, minlength=k)
    c = np.bincount(mapping, weights=cur, minlength=k)
    ok = (r + c) > 0
    r, c = r[ok], c[ok]
    if len(r) < 2:
        return 0.0, 1.0, 0
    table = np.vstack([r, c])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    if len(r) == 2 and expected.min() < 5:
        _, p = stats.fisher_exact(table.round().astype(np.int64))
        stat = float(np.sum((table - expected) ** 2 / expected))
        return stat, float(p), 1
    stat = float(np.sum((table - expected) ** 2 / expected))
    dof = len(r) - 1
    return stat, float(stats.chi2.sf(stat, dof)), dof


def g_test_pvalue(ref: np.ndarray, cur: np.ndarray) -> float:
    """p-value of the G-test (likelihood ratio), whose statistic is 2 (n + m) times the
    Jensen-Shannon divergence weighted by the sample sizes."""
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    mapping = merge_rare(ref, cur)
    k = int(mapping.max()) + 1
    table = np.vstack(
        [
            np.bincount(mapping, weights=ref, minlength=k),
            np.bincount(mapping, weights=cur, minlength=k),
        ]
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    ok = table > 0
    g = 2 * float(np.sum(table[ok] * np.log(table[ok] / expected[ok])))
    return float(stats.chi2.sf(g, table.shape[1] - 1))


def tvd_interval(
    ref: np.ndarray,
    cur: np.ndarray,
    *,
    level: float = 0.95,
    n_boot: int = 200,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """Percentile interval of the total variation distance by resampling both count vectors
    from their multinomial laws (cheap: no rows are touched).

    Examples
    --------
    >>> lo, hi = tvd_interval(np.array([300, 700]), np.array([500, 500]),
    ...                       rng=np.random.default_rng(0))
    >>> lo < 0.2 < hi
    True
    """
    rng = rng or np.random.default_rng(0)
    n, m = int(ref.sum()), int(cur.sum())
    p, q = shares(ref.astype(float)), shares(cur.astype(float))
    rb = rng.multinomial(n, p, size=n_boot) / max(n, 1)
    cb = rng.multinomial(m, q, size=n_boot) / max(m, 1)
    tv = 0.5 * np.abs(rb - cb).sum(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(tv, [a, 1 - a])
    return float(lo), float(hi)


def two_proportions(
    k1: int, n1: int, k2: int, n2: int, level: float = 0.95
) -> tuple[float, float, float, float]:
    """Difference of two proportions ``k2/n2 - k1/n1`` with Newcombe's hybrid score interval
    and a two-sided p-value (Fisher's exact test for small counts, else the pooled z-test).

    Returns ``(difference, low, high, p_value)``.

    Examples
    --------
    >>> d, lo, hi, p = two_proportions(50, 1000, 100, 1000)
    >>> round(d, 3), round(lo, 3), round(hi, 3), p < 1e-4
    (0.05, 0.027, 0.073, True)
    """
    z = float(stats.norm.ppf(1 - (1 - level) / 2))

    def wilson(k: int, n: int) -> tuple[float, float]:
        if n == 0:
            return 0.0, 1.0
        ph = k / n
        centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return centre - half, centre + half

    p1, p2 = k1 / n1 if n1 else 0.0, k2 / n2 if n2 else 0.0
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    if n1 == 0 or n2 == 0 or k1 + k2 == 0 or k1 + k2 == n1 + n2:
        p = 1.0
    elif min(k1, k2, n1 - k1, n2 - k2) < 5 and n1 + n2 < 100_000:
        p = float(stats.fisher_exact(table)[1])
    else:
        pooled = (k1 + k2) / (n1 + n2)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else 1.0
    return d, max(-1.0, low), min(1.0, high), p


def wasserstein_sorted(a: np.ndarray, b: np.ndarray, grid: int = 1000) -> float:
    """First Wasserstein distance between two sorted samples, by quantile functions on a
    grid of ``grid`` probabilities (exact for equal-size samples when grid >= n).

    Examples
    --------
    >>> a = np.sort(np.random.default_rng(0).normal(size=2000))
    >>> round(wasserstein_sorted(a, a + 0.3), 3)
    0.3
    """
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    u = (np.arange(grid) + 0.5) / grid
    qa = a[np.minimum((u * len(a)).astype(int), len(a) - 1)]
    qb = b[np.minimum((u * len(b)).astype(int), len(b) - 1)]
    return float(np.mean(np.abs(qa - qb)))
