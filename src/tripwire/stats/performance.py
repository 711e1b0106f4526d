"""Performance without labels: confidence-based performance estimation (CBPE).

A classifier's confidence (its top probability), once calibrated on labelled reference data
by a logistic map in logit space, is the probability that its prediction is right. Under covariate shift (P(y | x) unchanged) the mean calibrated
confidence on current rows estimates the current accuracy. The interval combines the
uncertainty of the calibration map (refitted on bootstrap resamples of the reference) with
the sampling noise of the realized accuracy itself (a sum of Bernoulli outcomes).

References
----------
NannyML (2022). Confidence-based performance estimation (CBPE), documentation of the method.
Platt, J. (1999). Probabilistic outputs for support vector machines. Advances in Large
Margin Classifiers.
Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration of modern neural
networks. ICML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

REF_CAP = 50_000


@dataclass(frozen=True)
class PerformanceEstimate:
    accuracy_ref: float
    accuracy: float
    low: float
    high: float
    calibration_error_ref: float
    n_ref: int
    n_cur: int


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_platt(confidence: np.ndarray, correct: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """Logistic calibration P(correct) = sigmoid(a * logit(confidence) + b) (Platt, 1999).

    Newton steps on the log-likelihood with a weak ridge towards the identity map (a=1, b=0),
    each step halved until the penalised log-likelihood improves: the fit cannot diverge, also
    when confidences pile up near 1 (their logits sit at the clip bound) or the data separate.
    Platt's smoothed targets keep the slope finite when every prediction is right or wrong.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> c = rng.uniform(0.5, 1, 20000)
    >>> a, b = fit_platt(c, rng.random(20000) < c)
    >>> round(a, 1), abs(round(b, 1))
    (1.0, 0.0)
    >>> a, b = fit_platt(np.r_[np.full(900, 1.0), np.full(100, 0.6)], np.arange(1000) % 3 > 0)
    >>> bool(np.isfinite([a, b]).all()), round(float(calibrated(np.array([1.0]), (a, b))[0]), 2)
    (True, 0.67)
    """
    x = _logit(np.asarray(confidence, dtype=float))
    y = np.asarray(correct, dtype=float)
    pos = float(y.sum())
    neg = len(y) - pos
    # Platt's targets: a 1 counts as (N+ + 1) / (N+ + 2), a 0 as 1 / (N- + 2)
    t = np.where(y > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))
    ridge = 1e-3

    def loss(a: float, b: float) -> float:
        z = a * x + b
        return float(np.sum(np.logaddexp(0, z) - t * z) + ridge / 2 * ((a - 1) ** 2 + b**2))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(a * x + b, -50, 50)))
        w = p * (1 - p)
        g = np.array([np.sum((p - t) * x) + ridge * (a - 1), np.sum(p - t) + ridge * b])
        h = np.array(
            [[np.sum(w * x * x) + ridge, np.sum(w * x)], [np.sum(w * x), np.sum(w) + ridge]]
        )
        step = np.linalg.solve(h, g)
        scale = 1.0
        while scale > 1e-6:
            trial = loss(a - scale * step[0], b - scale * step[1])
            if trial <= current:
                break
            scale /= 2
        else:
            break  # no step improves: at the optimum up to rounding
        a, b, current = a - scale * step[0], b - scale * step[1], trial
        if scale * np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def calibrated(confidence: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    z = np.clip(ab[0] * _logit(confidence) + ab[1], -50, 50)
    return 1 / (1 + np.exp(-z))


def estimate_accuracy(
    conf_ref: np.ndarray,
    correct_ref: np.ndarray,
    conf_cur: np.ndarray,
    *,
    binary: bool = False,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int = 0,
) -> PerformanceEstimate:
    """Estimate accuracy on current rows from the model's confidence (its top probability).

    Parameters
    ----------
    conf_ref, correct_ref
        Confidence and 0/1 correctness on labelled reference rows the model did not train on.
    conf_cur
        Confidence on current rows.
    binary
        The arrays are instead the positive-class probability and 0/1 labels of a binary
        classifier predicting the positive class at 0.5: the probability itself is calibrated
        (both sides of the threshold get their own correction).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> conf = lambda n, a, b: rng.beta(a, b, n) * 0.5 + 0.5
    >>> c_ref = conf(5000, 5, 2); ok_ref = rng.random(5000) < c_ref
    >>> c_cur = conf(5000, 2, 3); ok_cur = rng.random(5000) < c_cur  # harder rows
    >>> est = estimate_accuracy(c_ref, ok_ref, c_cur)
    >>> round(est.accuracy, 3), round(float(ok_cur.mean()), 3), bool(est.low < ok_cur.mean() < est.high)
    (0.714, 0.697, True)
    """
    rng = np.random.default_rng(random_state)
    conf_ref = np.asarray(conf_ref, dtype=float)
    correct_ref = np.asarray(correct_ref, dtype=float)
    conf_cur = np.asarray(conf_cur, dtype=float)
    if len(conf_ref) > REF_CAP:
        keep = rng.choice(len(conf_ref), REF_CAP, replace=False)
        conf_ref, correct_ref = conf_ref[keep], correct_ref[keep]
    n, m = len(conf_ref), len(conf_cur)

    def expected(conf: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
        cal = calibrated(conf, ab)
        return np.where(conf >= 0.5, cal, 1 - cal) if binary else cal

    ab = fit_platt(conf_ref, correct_ref)
    cal_cur = expected(conf_cur, ab)
    estimate = float(cal_cur.mean())
    hits_ref = ((conf_ref >= 0.5) == (correct_ref > 0)) if binary else correct_ref
    ece = float(abs(np.mean(expected(conf_ref, (1.0, 0.0))) - np.mean(hits_ref)))
    # calibration uncertainty: refit the map on resampled reference rows
    grid_cur = conf_cur if m <= 20_000 else rng.choice(conf_cur, 20_000, replace=False)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        boots[b] = float(expected(grid_cur, fit_platt(conf_ref[idx], correct_ref[idx])).mean())
    boots += estimate - float(expected(grid_cur, ab).mean())
    # sampling noise of the realized accuracy given the calibrated probabilities
    noise_sd = math.sqrt(float(np.sum(cal_cur * (1 - cal_cur)))) / m
    draws = boots[rng.integers(0, n_boot, 2000)] + rng.normal(0, noise_sd, 2000)
    a = (1 - level) / 2
    lo, hi = np.quantile(draws, [a, 1 - a])
    return PerformanceEstimate(
        accuracy_ref=float(np.mean(hits_ref)),
        accuracy=estimate,
        low=float(max(0.0, lo)),
        high=float(min(1.0, hi)),
        calibration_error_ref=ece,
        n_ref=n,
        n_cur=m,
    )


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Examples
    --------
    >>> [round(v, 3) for v in wilson(80, 100)]
    [0.711, 0.867]
    """
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half
