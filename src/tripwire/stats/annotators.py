"""Several annotators: agreement, consensus and per-annotator quality.

Input is always a long table of observations as integer arrays ``(item, annotator, label)``
with codes 0..I-1, 0..A-1, 0..K-1. Krippendorff's alpha (nominal) measures agreement beyond
chance; the Dawid-Skene EM model estimates each annotator's confusion matrix and the
posterior of each item's true class, whose argmax is the consensus label.

References
----------
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, University of Pennsylvania.
Dawid, A. P. and Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
using the EM algorithm. Journal of the Royal Statistical Society C 28(1), 20-28.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _counts(item: np.ndarray, label: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    flat = np.bincount(item * n_classes + label, minlength=n_items * n_classes)
    return flat.reshape(n_items, n_classes).astype(float)


def krippendorff_alpha(item: np.ndarray, label: np.ndarray, n_classes: int | None = None) -> float:
    """Krippendorff's alpha for nominal labels (1 perfect, 0 chance, < 0 worse than chance).

    Items with a single label are not pairable and are left out, as the method prescribes.

    Examples
    --------
    >>> item = np.array([0, 0, 1, 1, 2, 2])
    >>> round(krippendorff_alpha(item, np.array([0, 0, 1, 1, 0, 0])), 3)
    1.0
    >>> round(krippendorff_alpha(item, np.array([0, 1, 1, 0, 0, 1])), 3)
    -0.667
    """
    item = np.asarray(item, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    k = int(label.max()) + 1 if n_classes is None else n_classes
    n_uc = _counts(item, label, int(item.max()) + 1, k)
    m_u = n_uc.sum(axis=1)
    keep = m_u >= 2
    n_uc, m_u = n_uc[keep], m_u[keep]
    if n_uc.size == 0:
        return float("nan")
    observed_agree = (n_uc * (n_uc - 1)).sum(axis=1) / (m_u - 1)
    n = m_u.sum()
    n_c = n_uc.sum(axis=0)
    d_o = 1.0 - observed_agree.sum() / n
    d_e = 1.0 - (n_c * (n_c - 1)).sum() / (n * (n - 1))
    if d_e <= 0:
        return 1.0 if d_o <= 0 else float("nan")
    return float(1.0 - d_o / d_e)


def majority_vote(
    item: np.ndarray, label: np.ndarray, n_items: int, n_classes: int, seed: int = 0
) -> np.ndarray:
    """The most frequent label per item; ties broken at random (seeded)."""
    counts = _counts(item, label, n_items, n_classes)
    jitter = np.random.default_rng(seed).random(counts.shape) * 1e-3
    return np.asarray((counts + jitter).argmax(axis=1))


@dataclass(frozen=True)
class Consensus:
    """Dawid-Skene result: ``posterior`` (items x K), ``labels`` (argmax), ``confusion``
    (annotators x true K x given K, rows sum to 1), ``accuracy`` per annotator (expected
    share of their labels that match the true class), ``prior`` over classes."""

    posterior: np.ndarray
    labels: np.ndarray
    confusion: np.ndarray
    accuracy: np.ndarray
    prior: np.ndarray
    iterations: int
    converged: bool


def dawid_skene(
    item: np.ndarray,
    annotator: np.ndarray,
    label: np.ndarray,
    *,
    n_items: int | None = None,
    n_annotators: int | None = None,
    n_classes: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> Consensus:
    """Consensus labels by the Dawid-Skene EM model of annotator reliability.

    Starts from the vote shares, then alternates: each annotator's confusion matrix from the
    current posteriors (M step), each item's posterior from the annotators' confusion
    matrices (E step), until the posteriors stop moving. ``smoothing`` is a small Dirichlet
    pseudo-count that keeps confusion entries of rarely seen annotators away from zero.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 2, 300)
    >>> item = np.repeat(np.arange(300), 3); ann = np.tile([0, 1, 2], 300)
    >>> good = np.array([0.95, 0.9, 0.55])[ann]  # the third annotator nearly guesses
    >>> lab = np.where(rng.random(900) < good, truth[item], 1 - truth[item])
    >>> res = dawid_skene(item, ann, lab)
    >>> mv = majority_vote(item, lab, 300, 2)
    >>> bool((res.labels == truth).mean() >= (mv == truth).mean()), res.accuracy.round(1).tolist()
    (True, [1.0, 0.9, 0.6])
    """
    item = np.asarray(item, dtype=np.int64)
    annotator = np.asarray(annotator, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    n_i = int(item.max()) + 1 if n_items is None else n_items
    n_a = int(annotator.max()) + 1 if n_annotators is None else n_annotators
    k = int(label.max()) + 1 if n_classes is None else n_classes
    post = _counts(item, label, n_i, k) + 1e-9
    post /= post.sum(axis=1, keepdims=True)
    cell = annotator * k + label  # index into (annotator, given label)
    converged = False
    iterations = 0
    for step in range(1, max_iter + 1):
        iterations = step
        # M step: confusion[a, true, given] and the class prior
        conf = np.zeros((n_a * k, k))
        np.add.at(conf, cell, post[item])
        conf = conf.reshape(n_a, k, k).transpose(0, 2, 1) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        prior = post.mean(axis=0) + 1e-12
        # E step: log posterior = log prior + sum over the item's labels of log confusion
        log_conf = np.log(conf)  # a, true, given
        contrib = log_conf[annotator, :, label]  # obs x true
        logp = np.tile(np.log(prior), (n_i, 1))
        np.add.at(logp, item, contrib)
        logp -= logp.max(axis=1, keepdims=True)
        new = np.exp(logp)
        new /= new.sum(axis=1, keepdims=True)
        delta = float(np.abs(new - post).max())
        post = new
        if delta < tol:
            converged = True
            break
    weights = np.zeros((n_a, k))
    np.add.at(weights, annotator, post[item])
    diag = np.einsum("akk->ak", conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (weights * diag).sum(axis=1) / weights.sum(axis=1)
    return Consensus(
        posterior=post,
        labels=post.argmax(axis=1),
        confusion=conf,
        accuracy=accuracy,
        prior=prior,
        iterations=iterations,
        converged=converged,
    )


def disagreement(item: np.ndarray, label: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    """Per item, the share of its labels that differ from its most frequent label."""
    counts = _counts(item, label, n_items, n_classes)
    total = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 1.0 - counts.max(axis=1) / total, 0.0)
