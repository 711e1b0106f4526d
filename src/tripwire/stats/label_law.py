"""Do two labelled samples follow one law of the label given a model's scores?

Both samples are scored by the same fold models
(:func:`tripwire.checks.cross_fit.cross_fit_scores`), so under a random split they are
exchangeable. :func:`compare_sides` tests classification labels by a likelihood ratio between
one logistic recalibration of the scores per side and one pooled; :func:`outlier_comparison`
tests whether one side's regression targets are wild more often than the other's, on a local
robust scale (:func:`local_robust_z`). The label checks use them between train and test (noisy
labels); the drift checks between reference and current (the relation between inputs and
target changed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression

from tripwire.stats.confident_learning import find_label_issues


def score_features(proba: np.ndarray) -> np.ndarray:
    logp = np.log(np.clip(proba, 1e-6, 1.0))
    return logp[:, 1:] - logp[:, [0]]


def recalibrate(X: np.ndarray, y: np.ndarray, k: int) -> tuple[float, Any]:
    """Log-likelihood of ``y`` under a multinomial logistic recalibration of the scores X,
    and a function giving the fitted class probabilities (k columns) of other scores."""
    present = np.unique(y)
    if present.size < 2:

        def const(Z: np.ndarray) -> np.ndarray:
            out = np.zeros((len(Z), k))
            out[:, present[0]] = 1.0
            return out

        return 0.0, const
    fit = LogisticRegression(C=1e4, max_iter=1000).fit(X, y)
    col = np.searchsorted(fit.classes_, y)
    ll = float(np.log(np.clip(fit.predict_proba(X)[np.arange(len(y)), col], 1e-12, 1)).sum())

    def proba(Z: np.ndarray) -> np.ndarray:
        out = np.zeros((len(Z), k))
        out[:, fit.classes_] = fit.predict_proba(Z)
        return out

    return ll, proba


def compare_sides(
    y_train: np.ndarray,
    p_train: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    alpha: float = 0.01,
) -> dict[str, float]:
    """Test whether train and test labels follow the same law given the model's scores.

    Both sides are scored by the same fold models (:func:`cross_fit_scores`). Each side's
    labels are regressed on the log-odds of the scores (a multinomial logistic
    recalibration, which absorbs the model's over- or under-confidence); the likelihood ratio
    of one fit per side against one pooled fit is chi-squared with (K-1)K degrees of freedom
    under the null of a random split. A model fit on noisy labels absorbs the noise, so it
    looks calibrated on its own out-of-fold labels; clean test labels then sit off that
    calibration (uniform noise: steeper; class-conditional: shifted). The confident-learning
    noise estimate of each side says which side is the noisier.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.02, 0.98, 2000); P = np.c_[1 - p, p]
    >>> y = (rng.random(2000) < p).astype(int)
    >>> bool(compare_sides(y[:1000], P[:1000], y[1000:], P[1000:])["p_value"] > 0.01)
    True
    >>> y2 = y[:1000].copy(); y2[(y2 == 1) & (rng.random(1000) < 0.4)] = 0  # 40% of 1s flipped
    >>> bool(compare_sides(y2, P[:1000], y[1000:], P[1000:])["p_value"] < 0.01)
    True
    """
    k = p_train.shape[1]
    X_tr, X_te = score_features(p_train), score_features(p_test)
    X_all = np.vstack([X_tr, X_te])
    pooled, _ = recalibrate(X_all, np.r_[y_train, y_test], k)
    ll_tr, q_tr = recalibrate(X_tr, y_train, k)
    ll_te, q_te = recalibrate(X_te, y_test, k)
    separate = ll_tr + ll_te
    # how far apart the two fitted laws are: total variation, averaged over both sides' rows
    distance = float(0.5 * np.abs(q_tr(X_all) - q_te(X_all)).sum(axis=1).mean())
    statistic = max(0.0, 2.0 * (separate - pooled))
    df = (k - 1) * k
    noise_train = find_label_issues(y_train, p_train, n_boot=0).noise_rate
    noise_test = find_label_issues(y_test, p_test, n_boot=0).noise_rate
    return {
        "statistic": statistic,
        "df": float(df),
        "p_value": float(stats.chi2.sf(statistic, df)),
        "alpha": alpha,
        "distance": distance,
        "noise_train": noise_train,
        "noise_test": noise_test,
        "excess": noise_train - noise_test,
        "rows_train": float(len(y_train)),
        "rows_test": float(len(y_test)),
    }


#: Residuals are scaled within this many bins of the out-of-fold prediction (at least
#: MIN_BIN_ROWS rows each), so targets whose error grows with the value (prices, counts) are
#: judged against the spread of their own range, not against that of the cheap rows.
OUTLIER_BINS = 10
MIN_BIN_ROWS = 100


def local_robust_z(resid: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust z-scores of residuals within quantile bins of the prediction, and bin scales.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pred = rng.uniform(1, 100, 5000)
    >>> z, scales = local_robust_z(rng.normal(0, 0.2 * pred), pred)  # error grows with value
    >>> bool((np.abs(z) > 5).mean() < 0.001), len(scales)
    (True, 10)
    """
    bins = max(1, min(OUTLIER_BINS, len(resid) // MIN_BIN_ROWS))
    edges = np.quantile(pred, np.linspace(0, 1, bins + 1)[1:-1])
    which = np.searchsorted(edges, pred, side="right")
    z = np.zeros(len(resid))
    scales = np.zeros(bins)
    for b in range(bins):
        m = which == b
        if not m.any():
            continue
        r = resid[m]
        scale = float(stats.median_abs_deviation(r, scale="normal")) or float(np.std(r))
        scales[b] = scale
        if scale:
            z[m] = (r - np.median(r)) / scale
    return z, scales


#: The comparison counts residuals beyond this many robust SDs: a two-sample test needs no
#: multiple-testing cut, and a lower one counts more of the wrong targets (power).
COMPARE_Z = 3.0
#: Absolute robust residuals are clipped here before their means are compared.
CLIP_Z = 10.0


def outlier_comparison(
    y_train: np.ndarray,
    p_train: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    alpha: float = 0.01,
) -> dict[str, float]:
    """Are train targets beyond the robust cut more often than test targets?

    Both sides' residuals (from the same fold models) are put on one local robust scale;
    under a random split both sides' absolute robust residuals have one law. A one-sided
    Welch test on their means (clipped at CLIP_Z, so one wild target does not decide)
    tests that null; the share beyond COMPARE_Z on each side measures how many more wild
    targets train has. Targets that are heavy-tailed by nature (ratings, counts) are so on
    both sides.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 10, 3000); y = x + rng.standard_t(3, 3000)
    >>> c = outlier_comparison(y[:2000], x[:2000], y[2000:], x[2000:])
    >>> bool(c["p_value"] > 0.01)
    True
    >>> y2 = y[:2000].copy(); y2[:60] = rng.permutation(y2)[:60] * 3  # 3% wild targets
    >>> bool(outlier_comparison(y2, x[:2000], y[2000:], x[2000:])["p_value"] < 0.01)
    True
    """
    n_tr = len(y_train)
    resid = np.r_[y_train - p_train, y_test - p_test]
    z, _ = local_robust_z(resid, np.r_[p_train, p_test])
    cut = COMPARE_Z
    far = np.abs(z) > cut
    k_tr, k_te = int(far[:n_tr].sum()), int(far[n_tr:].sum())
    n_te = len(z) - n_tr
    clipped = np.minimum(np.abs(z), CLIP_Z)
    test = stats.ttest_ind(clipped[:n_tr], clipped[n_tr:], equal_var=False, alternative="greater")
    return {
        "mean_abs_z_train": float(clipped[:n_tr].mean()),
        "mean_abs_z_test": float(clipped[n_tr:].mean()),
        "p_value": float(test.pvalue),
        "cutoff_z": cut,
        "beyond_train": float(k_tr),
        "beyond_test": float(k_te),
        "rows_train": float(n_tr),
        "rows_test": float(n_te),
        "share_train": k_tr / n_tr,
        "share_test": k_te / max(1, n_te),
        "excess": k_tr / n_tr - k_te / max(1, n_te),
        "alpha": alpha,
    }
