"""Confident learning: find label errors from out-of-fold predicted probabilities.

Given labels ``y`` (integer codes 0..K-1) and out-of-fold probabilities ``P`` (n x K), a row
is *confidently* of class j when ``P[i, j]`` reaches class j's threshold, the mean probability
of j over rows labelled j. Counting (given label, confident class) pairs gives the confident
joint; scaled to the class counts it estimates the joint of noisy and true labels, whose
off-diagonal mass is the noise rate. Rows are flagged per off-diagonal cell by margin, as many
as the cell's estimated count, and never when the model agrees with the given label.

Everything is vectorised numpy (no per-row loops); the interval on the noise rate is a
Poisson bootstrap over rows.

References
----------
Northcutt, C., Jiang, L. and Chuang, I. (2021). Confident learning: estimating uncertainty in
dataset labels. Journal of Artificial Intelligence Research 70, 1373-1411.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelIssues:
    """The result of :func:`find_label_issues`.

    ``mask`` flags suspected label errors; ``quality`` is the per-row label quality score
    (probability of the given label, higher is better); ``suggested`` the most likely class;
    ``ranked`` the flagged rows, worst first; ``noise_matrix[i, j]`` estimates
    P(given = i | true = j); ``joint`` the estimated joint of given and true labels.
    """

    mask: np.ndarray
    quality: np.ndarray
    suggested: np.ndarray
    ranked: np.ndarray
    thresholds: np.ndarray
    confident_joint: np.ndarray
    joint: np.ndarray
    noise_matrix: np.ndarray
    noise_rate: float
    noise_interval: tuple[float, float]


def _check(labels: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=float)
    labels = np.asarray(labels)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(f"proba must be n x K with K >= 2, got shape {proba.shape}")
    if labels.shape != (proba.shape[0],):
        raise ValueError(f"labels must have {proba.shape[0]} entries, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= proba.shape[1]:
        raise ValueError("labels must be integer codes 0..K-1 matching proba's columns")
    return labels.astype(np.int64), proba


def per_class_thresholds(
    labels: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Mean predicted probability of each class over the rows labelled with it.

    Examples
    --------
    >>> per_class_thresholds(np.array([0, 0, 1]), np.array([[.9, .1], [.7, .3], [.2, .8]]))
    array([0.8, 0.8])
    """
    k = proba.shape[1]
    w = np.ones(len(labels)) if weights is None else weights
    counts = np.bincount(labels, weights=w, minlength=k)
    sums = np.bincount(labels, weights=w * proba[np.arange(len(labels)), labels], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = sums / counts
    return np.where(counts > 0, t, 1.0)


def confident_joint(
    labels: np.ndarray,
    proba: np.ndarray,
    thresholds: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The confident joint C[given, confident class] and each row's confident class (-1: none).

    A row past one class's threshold is confidently of that class; a row past several is
    ambiguous between them, and the model's most probable class is the better guess. Every
    class keeps at least one row on the diagonal, so that a small class whose rows all look
    confidently like another is not estimated as entirely mislabelled.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> P = np.array([[.9, .1], [.2, .8], [.3, .7], [.1, .9]])
    >>> confident_joint(y, P)[0]
    array([[1., 1.],
           [0., 1.]])
    """
    k = proba.shape[1]
    t = per_class_thresholds(labels, proba, weights) if thresholds is None else thresholds
    above = proba >= t[None, :] - 1e-6
    n_above = above.sum(axis=1)
    conf = np.where(n_above > 1, proba.argmax(axis=1), above.argmax(axis=1))
    has = n_above > 0
    conf = np.where(has, conf, -1)
    w = np.ones(len(labels)) if weights is None else weights
    cells = labels[has] * k + conf[has]
    cj = np.bincount(cells, weights=w[has], minlength=k * k).reshape(k, k)
    np.fill_diagonal(cj, np.maximum(np.diagonal(cj), 1.0))
    return cj, conf


def calibrate_joint(cj: np.ndarray, class_counts: np.ndarray) -> np.ndarray:
    """Scale each row of the confident joint to its class count; divide by n (joint sums to 1)."""
    row = cj.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(row[:, None] > 0, cj / row[:, None] * class_counts[:, None], 0.0)
    total = scaled.sum()
    return scaled / total if total > 0 else scaled


def round_rows(counts: np.ndarray) -> np.ndarray:
    """Round a matrix of expected counts to integers whose row totals are the rounded row
    sums (largest remainder: floor every cell, then give the missing units of each row to its
    cells with the largest fractions). Plain rounding of each cell can lose or invent rows.

    Examples
    --------
    >>> round_rows(np.array([[2.5, 0.5, 1.0], [0.4, 0.4, 0.2]])).tolist()
    [[3, 0, 1], [1, 0, 0]]
    """
    base = np.floor(counts)
    missing = np.rint(counts.sum(axis=1) - base.sum(axis=1)).astype(np.int64)
    order = np.argsort(-(counts - base), axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(counts.shape[0])[:, None]
    ranks[rows, order] = np.arange(counts.shape[1])[None, :]
    return (base + (ranks < missing[:, None])).astype(np.int64)


def estimate_noise_rate(
    labels: np.ndarray, proba: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Estimated share of rows whose given label differs from the true one."""
    k = proba.shape[1]
    w = np.ones(len(labels)) if weights is None else weights
    cj, _ = confident_joint(labels, proba, weights=w)
    joint = calibrate_joint(cj, np.bincount(labels, weights=w, minlength=k))
    return float(1.0 - np.trace(joint))


def find_label_issues(
    labels: np.ndarray,
    proba: np.ndarray,
    *,
    n_boot: int = 100,
    level: float = 0.95,
    random_state: int = 0,
) -> LabelIssues:
    """Find label errors by confident learning (Northcutt et al., 2021).

    Parameters
    ----------
    labels
        Given labels as integer codes 0..K-1.
    proba
        Out-of-fold predicted probabilities, n x K, columns in code order.
    n_boot
        Poisson-bootstrap resamples for the interval on the noise rate (0: no interval).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> P = np.where(y[:, None] == np.arange(2), 0.9, 0.1)
    >>> y[:10] = 1 - y[:10]  # ten flipped labels the model disagrees with
    >>> res = find_label_issues(y, P)
    >>> sorted(res.ranked.tolist()) == list(range(10)), round(res.noise_rate, 2)
    (True, 0.05)
    """
    labels, proba = _check(labels, proba)
    n, k = proba.shape
    rows = np.arange(n)
    counts = np.bincount(labels, minlength=k).astype(float)
    thresholds = per_class_thresholds(labels, proba)
    cj, _ = confident_joint(labels, proba, thresholds)
    joint = calibrate_joint(cj, counts)
    prior_true = joint.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        noise_matrix = np.where(prior_true[None, :] > 0, joint / prior_true[None, :], 0.0)
    noise_rate = float(1.0 - np.trace(joint))

    # prune by noise rate: in each off-diagonal cell (i, j), the rows labelled i with the
    # largest margin p_j - p_i, as many as the cell's estimated count
    mask = np.zeros(n, dtype=bool)
    cell_counts = round_rows(joint * n)
    given_p = proba[rows, labels]
    for i in range(k):
        idx = np.flatnonzero(labels == i)
        if idx.size == 0:
            continue
        for j in range(k):
            m = int(min(cell_counts[i, j], idx.size))
            if i == j or m <= 0:
                continue
            margin = proba[idx, j] - given_p[idx]
            top = idx[np.argpartition(-margin, m - 1)[:m]] if m < idx.size else idx
            mask[top] = True
    suggested = proba.argmax(axis=1)
    mask &= suggested != labels
    quality = given_p
    flagged = np.flatnonzero(mask)
    ranked = flagged[np.argsort(quality[flagged], kind="stable")]
    interval = _noise_interval(labels, proba, n_boot, level, random_state, noise_rate)
    return LabelIssues(
        mask=mask,
        quality=quality,
        suggested=suggested,
        ranked=ranked,
        thresholds=thresholds,
        confident_joint=cj,
        joint=joint,
        noise_matrix=noise_matrix,
        noise_rate=noise_rate,
        noise_interval=interval,
    )


def _noise_interval(
    labels: np.ndarray, proba: np.ndarray, n_boot: int, level: float, seed: int, point: float
) -> tuple[float, float]:
    if n_boot <= 0:
        return (point, point)
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        w = rng.poisson(1.0, len(labels)).astype(float)
        stats[b] = estimate_noise_rate(labels, proba, w)
    a = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [a, 1.0 - a])
    return (float(min(low, point)), float(max(high, point)))


def null_noise_rates(proba: np.ndarray, n_sim: int = 20, random_state: int = 0) -> np.ndarray:
    """Noise-rate estimates when labels are drawn from ``proba`` itself.

    This is what the model's own uncertainty explains: if the labels were exactly as
    uncertain as the predicted probabilities say, confident learning would still report
    these rates. An observed rate well above them is label noise the model cannot explain.

    Examples
    --------
    >>> P = np.tile([[0.95, 0.05]], (500, 1))
    >>> float(np.round(null_noise_rates(P, 5).mean(), 2))
    0.05
    """
    proba = np.asarray(proba, dtype=float)
    rng = np.random.default_rng(random_state)
    cum = np.cumsum(proba / proba.sum(axis=1, keepdims=True), axis=1)
    out = np.empty(n_sim)
    for s in range(n_sim):
        u = rng.random(len(proba))[:, None]
        y = np.minimum((u > cum).sum(axis=1), proba.shape[1] - 1)
        out[s] = estimate_noise_rate(y, proba)
    return out
