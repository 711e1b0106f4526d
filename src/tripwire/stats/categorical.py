"""Drift of categories: homogeneity tests on aligned counts, and categories never seen before.

:func:`from_counts` runs the chosen test on two aligned count vectors (chi-squared with rare
categories pooled, G-test, PSI, Jensen-Shannon, or the unseen-category test) and returns a
:class:`~tripwire.stats.column_drift.ColumnDrift` with the total variation distance as its effect.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.errors import UsageError
from tripwire.stats import two_sample as ts
from tripwire.stats.column_drift import MIN_VALUES, ColumnDrift, untested


def category_counts(
    reference: pd.Series, current: pd.Series
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Aligned counts of every category on both sides (reference categories first, by count)."""
    vr = reference.value_counts(dropna=True, sort=True)
    vc = current.value_counts(dropna=True, sort=True)
    vr.index = vr.index.map(str)
    vc.index = vc.index.map(str)
    vr = vr.groupby(level=0, sort=False).sum()
    vc = vc.groupby(level=0, sort=False).sum()
    labels = list(vr.index) + [k for k in vc.index if k not in vr.index]
    ref_counts = vr.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
    cur_counts = vc.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
    return labels, ref_counts, cur_counts


def categorical(
    column: str,
    kind: str,
    reference: pd.Series,
    current: pd.Series,
    method: str | None,
    rng: np.random.Generator,
) -> ColumnDrift:
    labels, ref_counts, cur_counts = category_counts(reference, current)
    res = from_counts(column, kind, labels, ref_counts, cur_counts, method or "chi2", rng)
    if method is None:
        res.extra["why"] = "categories: chi-squared test of homogeneity, rare categories pooled"
    return res


def from_counts(
    column: str,
    kind: str,
    labels: list[str],
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    method: str,
    rng: np.random.Generator,
) -> ColumnDrift:
    n, m = int(ref_counts.sum()), int(cur_counts.sum())
    if n < MIN_VALUES or m < MIN_VALUES:
        return untested(column, kind, n, m, f"fewer than {MIN_VALUES} values on a side")
    p, q = ts.shares(ref_counts.astype(float)), ts.shares(cur_counts.astype(float))
    unseen = ref_counts == 0
    k_unseen = int(cur_counts[unseen].sum())
    largest = int(cur_counts[unseen].max()) if unseen.any() else 0
    null_mean, p_unseen = unseen_null(ref_counts + cur_counts, n, m, k_unseen, largest)
    order = np.argsort(-np.abs(q - p), kind="stable")[:12]
    extra: dict[str, Any] = {
        "categories_ref": int(np.count_nonzero(ref_counts)),
        "top_ref": {"value": labels[int(np.argmax(p))], "share": float(p.max())},
        "categories_cur": int(np.count_nonzero(cur_counts)),
        "top_changes": [
            {"value": labels[i], "ref": float(p[i]), "cur": float(q[i])} for i in order
        ],
        "jensen_shannon": ts.jensen_shannon(p, q),
        "psi": ts.psi(p, q),
        "unseen_share": k_unseen / m,
        "unseen_expected": null_mean / m,
        "unseen_p_value": p_unseen,
        "unseen_values": [
            {"value": labels[i], "count": int(cur_counts[i])}
            for i in np.flatnonzero(unseen)[np.argsort(-cur_counts[unseen], kind="stable")][:10]
        ],
    }
    tv = ts.total_variation(p, q)
    if len(labels) > 1000:  # bootstrap the top categories; the tail moves as one
        keep = np.argsort(-(ref_counts + cur_counts), kind="stable")[:1000]
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        rc = np.r_[ref_counts[keep], ref_counts[rest].sum()]
        cc = np.r_[cur_counts[keep], cur_counts[rest].sum()]
    else:
        rc, cc = ref_counts, cur_counts
    lo, hi = ts.tvd_interval(rc, cc, rng=rng)
    if method == "chi2":
        stat, pval, dof = ts.chi2_counts(ref_counts, cur_counts)
        extra["dof"] = dof
        return ColumnDrift(
            column,
            kind,
            "chi2",
            stat,
            pval,
            "total_variation",
            tv,
            min(lo, tv),
            max(hi, tv),
            n,
            m,
            extra,
        )
    if method == "jensen_shannon":
        pval = ts.g_test_pvalue(ref_counts, cur_counts)
        js = extra["jensen_shannon"]
        return ColumnDrift(
            column,
            kind,
            "jensen_shannon",
            js,
            pval,
            "total_variation",
            tv,
            min(lo, tv),
            max(hi, tv),
            n,
            m,
            extra,
        )
    if method == "psi":
        value = extra["psi"]
        pval = ts.psi_pvalue(value, n, m, int(np.count_nonzero(ref_counts + cur_counts)))
        return ColumnDrift(
            column,
            kind,
            "psi",
            value,
            pval,
            "total_variation",
            tv,
            min(lo, tv),
            max(hi, tv),
            n,
            m,
            extra,
        )
    if method == "unseen":
        base = ColumnDrift(
            column, kind, "chi2", 0.0, 1.0, "total_variation", tv, lo, hi, n, m, extra
        )
        found = unseen_from(base)
        if found is None:
            return ColumnDrift(
                column, kind, "unseen", 0.0, 1.0, "unseen_share_excess", 0.0, 0.0, 0.0, n, m, extra
            )
        return found
    raise UsageError(f"drift method {method!r} does not apply to {kind} column {column!r}.")


def unseen_from(result: ColumnDrift) -> ColumnDrift | None:
    """The unseen-categories test derived from a categorical result's counts, or None when
    every current value was seen in the reference.

    The statistic is the number of current rows whose value never occurs in the reference;
    its null distribution is that of a random split of the pooled rows into the two sample
    sizes (see :func:`unseen_null`), so rare categories that land on the current side by
    chance are expected, and only an excess of them is evidence of new values.

    Examples
    --------
    >>> from tripwire.stats.univariate import test_column
    >>> ref = pd.Series(list("aabbcc") * 50)
    >>> r = test_column(ref, pd.Series(list("aabbcz") * 50), "categorical")
    >>> u = unseen_from(r)
    >>> u.method, round(u.effect, 3), u.p_value < 1e-6
    ('unseen', 0.167, True)
    """
    share = float(result.extra.get("unseen_share", 0.0))
    if not result.tested or share <= 0:
        return None
    n, m = result.n_ref, result.n_cur
    k = int(round(share * m))
    expected = float(result.extra.get("unseen_expected", 0.0))
    pval = float(result.extra.get("unseen_p_value", 1.0))
    half = 1.96 * math.sqrt(max(share * (1 - share), 1 / m) / m)
    excess = share - expected
    return ColumnDrift(
        result.column,
        result.kind,
        "unseen",
        float(k),
        pval,
        "unseen_share_excess",
        excess,
        excess - half,
        excess + half,
        n,
        m,
        {
            "unseen_share": share,
            "unseen_expected": expected,
            "unseen_values": result.extra.get("unseen_values", []),
        },
    )


def unseen_null(
    totals: np.ndarray, n: int, m: int, observed: int, largest: int = 0
) -> tuple[float, float]:
    """Null mean of the number of current rows whose value is absent from the reference, and
    the p-value of what was observed, when the pooled rows were split at random into ``n``
    reference and ``m`` current rows.

    A category with ``c`` rows in all lands entirely on the current side with probability
    ``C(m, c) / C(N, c)``. Two statistics are tested and combined by Bonferroni: ``observed``,
    the number of unseen current rows (many new rare values; its tail is computed by
    convolution over the distinct totals, treating categories as independent, which errs on
    the quiet side since a fixed split makes them slightly negatively dependent; a normal
    approximation when both are very large), and ``largest``, the rows of the biggest unseen
    category (one new value; the union bound over categories at least that big).

    Examples
    --------
    >>> totals = np.array([500, 300, 1, 1, 1, 1, 2, 2, 3])  # a long tail of rare values
    >>> mean, p = unseen_null(totals, 400, 411, observed=4, largest=2)
    >>> round(mean, 2), round(p, 3)  # 4 unseen current rows is unremarkable here
    (3.44, 0.892)
    >>> unseen_null(np.r_[totals, 40], 400, 451, observed=44, largest=40)[1] < 1e-9
    True
    """
    from scipy.special import gammaln

    totals = np.asarray(totals, dtype=np.int64)
    totals = totals[(totals > 0) & (totals <= m)]
    N = n + m
    if len(totals) == 0:
        return 0.0, 1.0 if observed <= 0 else 0.0
    c, n_c = np.unique(totals, return_counts=True)
    # log P(all c rows on the current side) = log m!/(m-c)! - log N!/(N-c)!
    log_p = gammaln(m + 1) - gammaln(m - c + 1) - gammaln(N + 1) + gammaln(N - c + 1)
    p_c = np.exp(log_p)
    keep = p_c > 1e-300
    c, n_c, p_c = c[keep], n_c[keep], p_c[keep]
    mean = float(np.sum(c * n_c * p_c))
    if observed <= 0:
        return mean, 1.0
    p_largest = min(1.0, float(np.sum((n_c * p_c)[c >= largest]))) if largest > 0 else 1.0
    return mean, min(1.0, 2 * min(_unseen_sum_tail(c, n_c, p_c, observed, mean), p_largest))


def _unseen_sum_tail(
    c: np.ndarray, n_c: np.ndarray, p_c: np.ndarray, observed: int, mean: float
) -> float:
    """P(sum of c * Binomial(n_c, p_c) >= observed), independent terms."""
    if observed > int(np.sum(c * n_c)):
        return 0.0
    if len(c) * (observed + 1) > 5_000_000:
        var = float(np.sum(c * c * n_c * p_c * (1 - p_c)))
        z = (observed - 0.5 - mean) / math.sqrt(var) if var > 0 else math.inf
        return float(stats.norm.sf(z))
    # distribution of the sum on 0..observed, mass at or above ``observed`` kept in the last bin
    dist = np.zeros(observed + 1)
    dist[0] = 1.0
    for ci, ni, pi in zip(c.tolist(), n_c.tolist(), p_c.tolist()):
        jmax = min(ni, observed // ci + 1)
        j = np.arange(jmax + 1)
        pmf = stats.binom.pmf(j, ni, pi)
        pmf[-1] += float(stats.binom.sf(jmax, ni, pi))  # j beyond jmax also reaches the end
        term = np.zeros(observed + 1)
        np.add.at(term, np.minimum(j * ci, observed), pmf)
        if observed > 2000:
            from scipy.signal import fftconvolve

            full = np.clip(fftconvolve(dist, term), 0, None)
        else:
            full = np.convolve(dist, term)
        dist = np.r_[full[:observed], full[observed:].sum()]
    return float(min(1.0, max(dist[-1], 0.0)))
