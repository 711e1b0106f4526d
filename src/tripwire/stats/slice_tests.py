"""The statistics of weak-slice candidates: does each slice err more than the rest?

:func:`slice_tests` turns the sums the lattice search (:mod:`tripwire.stats.slices`) gathered
for every candidate slice (weighted size, error sum, expected-error sum, squared-error sum) into
mean errors inside and outside the slice, a one-sided z-test of "the slice errs more than the
rest" (a pooled two-proportion z-test for 0/1 errors, Welch's z for continuous losses), its
p-value, Benjamini-Hochberg q-values over *all* lattice nodes that were enumerated (pruned
ones counting as p = 1, so the FDR holds for the whole search), the lift over the overall
error, and intervals of a slice's error and of its difference from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from tripwire.stats.multiple_testing import benjamini_hochberg


@dataclass
class SliceTests:
    """Per-candidate statistics, one entry per candidate slice (arrays aligned with the sums)."""

    n: np.ndarray  # weighted size
    error_sum: np.ndarray
    sq_sum: np.ndarray  # sum of squared errors (continuous losses)
    error: np.ndarray  # mean error in the slice
    error_rest: np.ndarray  # mean error outside it
    expected: np.ndarray | None  # mean error the model expects in the slice
    se: np.ndarray  # standard error of error - error_rest
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray  # Benjamini-Hochberg over every enumerated node
    lift: np.ndarray  # error / overall error
    zc: float  # two-sided normal quantile of ``alpha``
    binary: bool
    alpha: float

    def interval(self, k: int) -> tuple[float, float]:
        """Interval of candidate ``k``'s error: Wilson for 0/1 errors, normal otherwise."""
        ns, mean, zc = self.n, self.error, self.zc
        if self.binary:
            from tripwire.stats.performance import wilson

            return wilson(int(round(self.error_sum[k])), int(round(ns[k])), 1 - self.alpha)
        s = float(np.sqrt(max(self.sq_sum[k] / ns[k] - mean[k] ** 2, 0) / ns[k]))
        return (float(mean[k] - zc * s), float(mean[k] + zc * s))


def slice_tests(
    cand_n: np.ndarray,
    cand_e: np.ndarray,
    cand_q: np.ndarray,
    cand_v: np.ndarray,
    *,
    total: float,
    overall: float,
    tot_sq: float,
    expected: bool,
    binary: bool,
    enumerated: int,
    alpha: float,
) -> SliceTests:
    """Test every candidate slice against the rest of the rows.

    ``cand_n``, ``cand_e``, ``cand_q`` and ``cand_v`` are each candidate's weighted size, error
    sum, expected-error sum and squared-error sum; ``total`` is the total weight, ``overall``
    the overall mean error and ``tot_sq`` the total squared error (used for continuous losses
    only). ``expected`` says whether expected errors were given; ``enumerated`` counts the
    lattice nodes considered, evaluated or pruned.
    """
    ns = np.asarray(cand_n)
    es = np.asarray(cand_e)
    mean = es / np.maximum(ns, 1e-12)
    rest_n = total - ns
    rest = (overall * total - es) / np.maximum(rest_n, 1e-12)
    exp_mean = None
    if expected:
        exp_mean = np.asarray(cand_q) / np.maximum(ns, 1e-12)
    if binary:
        se = np.sqrt(
            mean * (1 - mean) / np.maximum(ns, 1) + rest * (1 - rest) / np.maximum(rest_n, 1)
        )
        pooled = np.sqrt(
            overall * (1 - overall) * (1 / np.maximum(ns, 1) + 1 / np.maximum(rest_n, 1))
        )
        z = (mean - rest) / np.maximum(pooled, 1e-12)
    else:
        sq = np.asarray(cand_v)
        var_in = np.maximum(sq / np.maximum(ns, 1) - mean**2, 0)
        var_out = np.maximum((tot_sq - sq) / np.maximum(rest_n, 1) - rest**2, 0)
        se = np.sqrt(var_in / np.maximum(ns, 1) + var_out / np.maximum(rest_n, 1))
        z = (mean - rest) / np.maximum(se, 1e-12)
    p = stats.norm.sf(z)
    # BH over every lattice node enumerated; pruned ones count as p = 1
    padded = np.concatenate([p, np.ones(max(enumerated - len(p), 0))])
    qv = benjamini_hochberg(padded)[: len(p)]
    zc = stats.norm.ppf(1 - alpha / 2)
    lift = mean / overall if overall > 0 else np.full(len(mean), np.inf)
    return SliceTests(
        n=ns,
        error_sum=es,
        sq_sum=cand_v,
        error=mean,
        error_rest=rest,
        expected=exp_mean,
        se=se,
        z=z,
        p=p,
        q=qv,
        lift=lift,
        zc=zc,
        binary=binary,
        alpha=alpha,
    )
