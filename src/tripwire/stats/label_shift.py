"""Black-box shift estimation (BBSE): current class priors from the model's predictions.

Under label shift (class priors change, P(x | y) does not), the distribution of predicted
labels on current data is ``mu = C w`` where ``C[i, j] = P(yhat = i, y = j)`` is the joint
confusion matrix on labelled reference data and ``w[j] = q(y = j) / p(y = j)`` the prior
ratio. Solving for ``w`` gives the current priors ``q = w * p`` without current labels. The
interval resamples the reference confusion counts and the current predicted-label counts from
their multinomial laws.

References
----------
Lipton, Z., Wang, Y.-X. and Smola, A. (2018). Detecting and correcting for label shift with
black box predictors. ICML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelShiftEstimate:
    classes: tuple[str, ...]
    prior_ref: np.ndarray
    prior_cur: np.ndarray
    low: np.ndarray
    high: np.ndarray
    weights: np.ndarray
    condition_number: float
    #: Accuracy on current expected under pure label shift (per-class recall of the reference
    #: weighted by the estimated current priors), with an interval.
    accuracy: float
    accuracy_low: float
    accuracy_high: float


def _solve(C: np.ndarray, mu: np.ndarray, prior_ref: np.ndarray) -> np.ndarray:
    w, *_ = np.linalg.lstsq(C, mu, rcond=None)
    q = np.clip(w, 0, None) * prior_ref
    total = q.sum()
    return q / total if total > 0 else prior_ref.copy()


def estimate_label_shift(
    y_ref: np.ndarray,
    pred_ref: np.ndarray,
    pred_cur: np.ndarray,
    classes: list[str] | tuple[str, ...],
    *,
    n_boot: int = 300,
    level: float = 0.95,
    random_state: int = 0,
) -> LabelShiftEstimate:
    """Estimate current class priors from predicted labels (BBSE).

    ``y_ref`` and ``pred_ref`` are true and predicted labels on labelled reference rows the
    model did not train on; ``pred_cur`` are predicted labels on current rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y_ref = rng.choice(["a", "b"], 4000, p=[0.7, 0.3])
    >>> noisy = lambda y: np.where(rng.random(len(y)) < 0.85, y, np.where(y == "a", "b", "a"))
    >>> y_cur = rng.choice(["a", "b"], 4000, p=[0.4, 0.6])
    >>> est = estimate_label_shift(y_ref, noisy(y_ref), noisy(y_cur), ["a", "b"])
    >>> est.prior_cur.round(2).tolist(), bool(est.low[1] < 0.6 < est.high[1])
    ([0.4, 0.6], True)
    """
    classes = [str(c) for c in classes]
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    yi = np.array([index.get(str(v), -1) for v in y_ref])
    pi = np.array([index.get(str(v), -1) for v in pred_ref])
    ci = np.array([index.get(str(v), -1) for v in pred_cur])
    ok = (yi >= 0) & (pi >= 0)
    yi, pi, ci = yi[ok], pi[ok], ci[ci >= 0]
    n, m = len(yi), len(ci)
    counts = np.zeros((k, k))
    np.add.at(counts, (pi, yi), 1)
    mu_counts = np.bincount(ci, minlength=k).astype(float)

    def fit(cnt: np.ndarray, mu_cnt: np.ndarray) -> tuple[np.ndarray, float]:
        C = cnt / cnt.sum()
        prior = C.sum(axis=0)
        q = _solve(C, mu_cnt / mu_cnt.sum(), prior)
        recall = np.divide(np.diag(C), prior, out=np.zeros(k), where=prior > 0)
        return q, float(np.sum(q * recall))

    prior_ref = counts.sum(axis=0) / n
    q, acc = fit(counts, mu_counts)
    rng = np.random.default_rng(random_state)
    flat = (counts / n).ravel()
    qs = np.empty((n_boot, k))
    accs = np.empty(n_boot)
    for b in range(n_boot):
        cb = rng.multinomial(n, flat).reshape(k, k).astype(float)
        mb = rng.multinomial(m, mu_counts / m).astype(float)
        if cb.sum(axis=0).min() == 0:
            qs[b], accs[b] = np.nan, np.nan
            continue
        qs[b], accs[b] = fit(cb, mb)
    a = (1 - level) / 2
    good = ~np.isnan(accs)
    lo, hi = np.quantile(qs[good], [a, 1 - a], axis=0)
    alo, ahi = np.quantile(accs[good], [a, 1 - a])
    C = counts / n
    return LabelShiftEstimate(
        classes=tuple(classes),
        prior_ref=prior_ref,
        prior_cur=q,
        low=lo,
        high=hi,
        weights=np.divide(q, prior_ref, out=np.zeros(k), where=prior_ref > 0),
        condition_number=float(np.linalg.cond(C)),
        accuracy=acc,
        accuracy_low=float(alo),
        accuracy_high=float(ahi),
    )
