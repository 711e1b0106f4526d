"""Control of false discoveries across many tests (columns, slices, windows).

References
----------
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. JRSS B 57(1), 289-300.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat. 6, 65-70.
"""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (q-values); reject where ``q <= alpha`` to control the FDR at alpha.

    NaN p-values stay NaN and do not count as tests.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.clip(q, 0, 1)
    out[ok] = adjusted
    return out


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values: family-wise error control, valid under any dependence.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv)
    stepped = np.maximum.accumulate(pv[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.clip(stepped, 0, 1)
    out[ok] = adjusted
    return out
