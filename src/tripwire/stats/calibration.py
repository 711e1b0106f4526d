"""Calibration of predicted probabilities: expected calibration error and reliability bins.

ECE (Naeini et al., 2015; Guo et al., 2017) is the weighted mean gap between confidence and
accuracy over equal-width confidence bins, on the top-label confidence (the probability of
the predicted class), so binary and multiclass models are measured the same way. Its
interval is a percentile bootstrap over rows, vectorised: the per-bin sums of every resample
are one matrix product of resample counts with per-row values.

ECE is biased upward on small samples (a perfectly calibrated model has ECE > 0), so
:func:`ece_interval` also reports the ECE expected from a calibrated model of the same
confidences (simulated labels drawn from the probabilities): only the excess over that is
evidence of miscalibration.

References
----------
Naeini, M. P., Cooper, G. and Hauskrecht, M. (2015). Obtaining well calibrated probabilities
using Bayesian binning. AAAI.
Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration of modern neural
networks. ICML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tripwire.stats.bootstrap import resample_counts


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin: its edges, total weight, mean confidence and observed frequency."""

    low: float
    high: float
    count: float
    confidence: float
    frequency: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 6) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ECEResult:
    """ECE with a bootstrap interval and the ECE a calibrated model would show by chance."""

    value: float
    low: float
    high: float
    null_mean: float
    null_high: float
    n_bins: int

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 6) for k, v in asdict(self).items()}


def _top_label(
    y_true: Any, proba: Any, labels: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the confidence of the predicted class, and whether it was right."""
    yt = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1:
        p = np.column_stack([1 - p, p])
    classes = np.asarray(list(labels) if labels is not None else np.unique(yt))
    if len(classes) != p.shape[1]:
        raise ValueError(f"proba has {p.shape[1]} columns for {len(classes)} classes")
    top = p.argmax(axis=1)
    return p[np.arange(len(p)), top], (classes[top] == yt).astype(float)


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    return np.clip((conf * n_bins).astype(int), 0, n_bins - 1)


def expected_calibration_error(
    y_true: Any,
    proba: Any,
    *,
    labels: Sequence[Any] | None = None,
    sample_weight: Any = None,
    n_bins: int = 10,
) -> float:
    """Top-label ECE with ``n_bins`` equal-width bins.

    Examples
    --------
    >>> y = np.array([1, 1, 0, 0]); p = np.array([0.9, 0.9, 0.1, 0.1])
    >>> round(expected_calibration_error(y, p), 3)
    0.1
    """
    conf, correct = _top_label(y_true, proba, labels)
    w = np.ones(len(conf)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    b = _bin_index(conf, n_bins)
    wsum = np.bincount(b, weights=w, minlength=n_bins)
    gap = np.bincount(b, weights=w * correct, minlength=n_bins) - np.bincount(
        b, weights=w * conf, minlength=n_bins
    )
    return float(np.abs(gap).sum() / wsum.sum())


def _ece_from_counts(
    weights: np.ndarray, conf: np.ndarray, correct: np.ndarray, b: np.ndarray, n_bins: int
) -> np.ndarray:
    """ECE of each row of ``weights`` (resamples x rows)."""
    onehot = np.zeros((len(b), n_bins))
    onehot[np.arange(len(b)), b] = 1.0
    gap = weights @ (onehot * (correct - conf)[:, None])
    return np.asarray(np.abs(gap).sum(axis=1) / weights.sum(axis=1))


def ece_interval(
    y_true: Any,
    proba: Any,
    *,
    labels: Sequence[Any] | None = None,
    sample_weight: Any = None,
    n_bins: int = 10,
    n_boot: int = 500,
    level: float = 0.95,
    random_state: int = 0,
) -> ECEResult:
    """ECE with a percentile-bootstrap interval, and the chance level of a calibrated model.

    ``null_mean``/``null_high`` are the mean and upper ``level`` quantile of the ECE when the
    labels are drawn from the model's own probabilities (the model is calibrated by
    construction): an ECE below ``null_high`` is what sampling noise alone produces.

    Examples
    --------
    >>> rng = np.random.default_rng(0); p = rng.uniform(size=2000)
    >>> y = (rng.uniform(size=2000) < p).astype(int)
    >>> r = ece_interval(y, p, n_boot=200)
    >>> r.value < r.null_high
    True
    """
    conf, correct = _top_label(y_true, proba, labels)
    n = len(conf)
    if n == 0:
        raise ValueError("ece_interval needs at least one row")
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    b = _bin_index(conf, n_bins)
    rng = np.random.default_rng(random_state)
    counts = resample_counts(n, n_boot, rng) * w[None, :]
    boot = _ece_from_counts(counts, conf, correct, b, n_bins)
    est = float(_ece_from_counts(w[None, :], conf, correct, b, n_bins)[0])
    # calibrated by construction: the top label is right with probability ``conf``
    sim_correct = (rng.uniform(size=(n_boot, n)) < conf[None, :]).astype(float)
    onehot = np.zeros((n, n_bins))
    onehot[np.arange(n), b] = 1.0
    gaps = ((sim_correct - conf[None, :]) * w[None, :]) @ onehot
    null = np.abs(gaps).sum(axis=1) / w.sum()
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return ECEResult(
        value=est,
        low=float(lo),
        high=float(hi),
        null_mean=float(null.mean()),
        null_high=float(np.quantile(null, level)),
        n_bins=n_bins,
    )


def reliability_bins(
    y_true: Any,
    proba: Any,
    *,
    labels: Sequence[Any] | None = None,
    sample_weight: Any = None,
    n_bins: int = 10,
    positive: Any = None,
) -> list[ReliabilityBin]:
    """The points of a reliability diagram (non-empty bins only).

    For two classes the bins are on the positive class's probability (the last class, or
    ``positive``) and ``frequency`` is the share of positives; otherwise on the top-label
    confidence and ``frequency`` is the share of correct predictions.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1]); p = np.array([0.05, 0.15, 0.85, 0.95])
    >>> [(b.confidence, b.frequency) for b in reliability_bins(y, p, n_bins=2)]
    [(0.1, 0.0), (0.9, 1.0)]
    """
    yt = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    classes = list(labels) if labels is not None else list(np.unique(yt))
    w = np.ones(len(yt)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if p.ndim == 1 or p.shape[1] == 2:
        pos_idx = 1 if positive is None else classes.index(positive)
        conf = p if p.ndim == 1 else p[:, pos_idx]
        hit = (yt == classes[pos_idx]).astype(float)
    else:
        conf, hit = _top_label(yt, p, classes)
    b = _bin_index(conf, n_bins)
    wsum = np.bincount(b, weights=w, minlength=n_bins)
    csum = np.bincount(b, weights=w * conf, minlength=n_bins)
    hsum = np.bincount(b, weights=w * hit, minlength=n_bins)
    out = []
    for i in np.flatnonzero(wsum > 0):
        out.append(
            ReliabilityBin(
                low=i / n_bins,
                high=(i + 1) / n_bins,
                count=float(wsum[i]),
                confidence=round(float(csum[i] / wsum[i]), 6),
                frequency=round(float(hsum[i] / wsum[i]), 6),
            )
        )
    return out
