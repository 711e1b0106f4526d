"""Failure mode 1: bad or noisy labels.

Confident learning on out-of-fold probabilities (train) and on the fitted model's
probabilities (test, reported separately), and regression label outliers on a robust scale.
Conflicting labels on duplicate inputs live in ``label_conflicts``, several annotators in
``annotators``, labels that go out of date in ``outdated_labels``.

Severity is a statistical decision. Confident learning always reports some noise where
classes overlap, so its estimate alone never warns. A warning needs either

- the *noise floor* (the disagreement rate among the rows the model is most sure of, a Wilson
  lower bound) and the noise-rate interval both at 5% or more: noise that does not depend on
  the inputs, visible without a test set; or
- with labelled test data, a likelihood-ratio test that train and test labels follow different
  laws given the model's scores (the null of a random split: one law), rejected at 1%, and
  the two fitted laws at least 2 points apart; the warning goes to train. This
  catches noise that hides from the floor: class-conditional flips (the surest rows are of
  the clean class) and noise that grows with a feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.confident_learning import LabelIssues, find_label_issues

TOP_K = 20
#: A warning needs the lower bounds of the noise rate and of the noise floor at 5% or more.
#: Clean labels of hard tasks disagree with the model's surest decile at a few per cent
#: (German credit: 2-9% over random subsamples), so a lower bar warns on clean data.
FLOOR = 0.05
#: The train/test comparison: significance level, the smallest distance between the two
#: sides' fitted label laws (total variation averaged over rows), and the fewest labelled
#: rows on each side.
ALPHA = 0.01
DISTANCE = 0.02
MIN_COMPARE_ROWS = 100
COMPARE_ROWS = 20_000


def _codes(y: pd.Series, classes: tuple[Any, ...]) -> np.ndarray:
    lookup = {str(c): i for i, c in enumerate(classes)}
    return y.astype(str).map(lookup).fillna(-1).to_numpy(dtype=np.int64)


def _wilson_low(k: float, n: float, z: float = 1.96) -> float:
    if n <= 0:
        return 0.0
    p = k / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    return float(max(0.0, (centre - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / den))


def ordinal_ranks(classes: tuple[Any, ...], proba: np.ndarray | None = None) -> np.ndarray | None:
    """Rank of each class on its numeric scale when the classes form an ordinal rating, else
    None.

    The classes must be 3 or more integers (wine quality 3-9, star ratings). Integers are also
    used as plain codes of unordered classes, so with ``proba`` the model must confirm the
    order: for a rating, the two most probable classes of a row are mostly neighbours on the
    scale. The share of rows where they are must lie at least halfway between chance (2/K,
    for unordered classes) and 1.

    Examples
    --------
    >>> ordinal_ranks(("10", "3", "9")).tolist(), ordinal_ranks(("bad", "good"))
    ([2, 0, 1], None)
    >>> P = np.array([[0.6, 0.3, 0.1], [0.1, 0.5, 0.4], [0.5, 0.1, 0.4]] * 10)
    >>> ordinal_ranks(("1", "2", "3"), P) is None  # a third of rows mix the two ends
    True
    """
    try:
        values = np.array([float(c) for c in classes])
    except (TypeError, ValueError):
        return None
    k = len(values)
    if k < 3 or not np.all(np.mod(values, 1) == 0):
        return None
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    if proba is not None:
        top2 = np.argsort(-proba, axis=1, kind="stable")[:, :2]
        adjacent = float(np.mean(np.abs(ranks[top2[:, 0]] - ranks[top2[:, 1]]) == 1))
        chance = 2.0 / k
        if adjacent < chance + (1.0 - chance) / 2:
            return None
    return ranks


def noise_floor(
    labels: np.ndarray, proba: np.ndarray, share: float = 0.1, ranks: np.ndarray | None = None
) -> dict[str, float]:
    """Disagreement among the rows the model is most confident about (anchor rows).

    Where the model is sure, clean labels agree with it; label noise that does not depend on
    the inputs shows up there at its full rate. Returns the rate and its Wilson lower bound.
    On an ordinal scale (``ranks`` from :func:`ordinal_ranks`) only labels two or more steps
    from the model's class count: one step is within the uncertainty of a rating.

    Examples
    --------
    >>> P = np.tile([[0.9, 0.1]], (100, 1)); y = np.zeros(100, dtype=int); y[:20] = 1
    >>> noise_floor(y, P, share=1.0)["rate"]
    0.2
    """
    conf = proba.max(axis=1)
    m = max(30, int(share * len(conf)))
    top = np.argsort(-conf, kind="stable")[: min(m, len(conf))]
    pred = proba[top].argmax(axis=1)
    if ranks is None:
        off = pred != labels[top]
    else:
        off = np.abs(ranks[pred] - ranks[labels[top]]) >= 2
    k = float(off.sum())
    return {"rate": k / len(top), "low": _wilson_low(k, len(top)), "rows": float(len(top))}


def _score_features(proba: np.ndarray) -> np.ndarray:
    logp = np.log(np.clip(proba, 1e-6, 1.0))
    return logp[:, 1:] - logp[:, [0]]


def _recalibrate(X: np.ndarray, y: np.ndarray, k: int) -> tuple[float, Any]:
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
    y_train: np.ndarray, p_train: np.ndarray, y_test: np.ndarray, p_test: np.ndarray
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
    X_tr, X_te = _score_features(p_train), _score_features(p_test)
    X_all = np.vstack([X_tr, X_te])
    pooled, _ = _recalibrate(X_all, np.r_[y_train, y_test], k)
    ll_tr, q_tr = _recalibrate(X_tr, y_train, k)
    ll_te, q_te = _recalibrate(X_te, y_test, k)
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
        "alpha": ALPHA,
        "distance": distance,
        "noise_train": noise_train,
        "noise_test": noise_test,
        "excess": noise_train - noise_test,
        "rows_train": float(len(y_train)),
        "rows_test": float(len(y_test)),
    }


def side_differs(comparison: dict[str, float] | None, side: str) -> bool:
    """True for the train side when the comparison rejects one law for both sides at ALPHA
    and the two fitted laws are DISTANCE or more apart.

    Which side holds the wrong labels is not identified by the test (class-conditional flips
    towards the majority class make the noisy side look *less* noisy to confident learning),
    so the warning goes to train, whose rows are the ones flagged; the test side warns only
    by its own floor.
    """
    if side != "train" or comparison is None or comparison["p_value"] >= ALPHA:
        return False
    return bool(comparison["distance"] >= DISTANCE)


def is_material(
    res: LabelIssues,
    floor: dict[str, float],
    comparison: dict[str, float] | None = None,
    side: str = "train",
) -> bool:
    """The warning rule: at least five flagged rows, and either the noise-rate and noise-floor
    lower bounds at FLOOR or more, or ``side``'s labels differ from the other side's
    (:func:`side_differs`, train only). On the test side the floor does not count when the
    sides differ and train has the higher noise estimate."""
    by_floor = res.noise_interval[0] >= FLOOR and floor["low"] >= FLOOR
    if side == "test" and comparison is not None and side_differs(comparison, "train"):
        # test scores come from a model fit on train labels: when those are the noisier,
        # clean test labels disagree with its surest predictions, and the floor would blame test
        by_floor = by_floor and comparison["excess"] <= 0
    return bool(len(res.ranked) >= 5 and (by_floor or side_differs(comparison, side)))


def cross_fit_scores(
    ctx: AuditContext, train: np.ndarray, test: np.ndarray, k: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores of train rows ``train`` and test rows ``test`` from the same fold models.

    Each fold's baseline is fit on the other folds of train and scores its held-out train
    rows and the test rows assigned to it at random, so under a random split the two sides
    are exchangeable: the same models, trained on the same amount of data, score both. (The
    model fit on all of train is sharper on test than the fold models are on train, and a
    likelihood-ratio test between them rejects on clean splits.) Classification: codes (in
    the train classes' order; -1 for a test class unseen in train) and probabilities of each
    side; regression: targets and predictions.
    """
    from tripwire.models import cv_folds, make_baseline

    classify = ctx.is_classification
    y_all, t_all = ctx.y("train"), ctx.y("test")
    y_tr = (y_all.astype(str) if classify else y_all.astype(float)).to_numpy()[train]
    y_te = (t_all.astype(str) if classify else t_all.astype(float)).to_numpy()[test]
    classes = np.unique(y_tr) if classify else np.zeros(1)
    X_tr, X_te = ctx.X("train").iloc[train], ctx.X("test").iloc[test]
    folds, groups = cv_folds(ctx, pd.Series(y_tr), k)
    if groups is not None:
        groups = groups[train]
    k = folds.get_n_splits()
    p_tr = np.zeros((len(train), len(classes)))
    p_te = np.zeros((len(test), len(classes)))
    assign = ctx.rng(17).integers(0, k, len(test))
    kinds = {c: ctx.kinds[c] for c in ctx.features}
    for f, (fit_rows, held) in enumerate(folds.split(X_tr, y_tr, groups)):
        model = make_baseline(ctx.task or "binary", kinds, ctx.random_state)
        model.fit(X_tr.iloc[fit_rows], y_tr[fit_rows])
        mine = np.flatnonzero(assign == f)
        if not classify:
            p_tr[held, 0] = model.predict(X_tr.iloc[held])
            if mine.size:
                p_te[mine, 0] = model.predict(X_te.iloc[mine])
            continue
        cols = np.searchsorted(classes, model.classes_)
        p_tr[np.ix_(held, cols)] = model.predict_proba(X_tr.iloc[held])
        if mine.size:
            p_te[np.ix_(mine, cols)] = model.predict_proba(X_te.iloc[mine])
    if not classify:
        return y_tr, p_tr[:, 0], y_te, p_te[:, 0]
    code = {c: i for i, c in enumerate(classes)}
    c_te = np.array([code.get(c, -1) for c in y_te], dtype=np.int64)
    return np.searchsorted(classes, y_tr), p_tr, c_te, p_te


def _compared_rows(ctx: AuditContext) -> tuple[np.ndarray, np.ndarray] | None:
    """Train and test rows for a train/test comparison, or None when there is none to make.

    Test rows whose inputs repeat a train row are left out (a fold model may have seen them,
    so their labels agree with it more than a new row's would), unless they are half of the
    test rows or more: in a coarse table (vote counts, a few categories) repeated inputs are
    the norm and not copies. Above COMPARE_ROWS rows a side is sampled. A user's model or
    prediction columns are not used: they may have been fit on anything, test rows included.
    """
    if ctx.test is None or ctx.model is not None or ctx.target not in ctx.test.columns:
        return None
    if ctx.schema.roles.probabilities or ctx.schema.roles.prediction:
        return None
    y_te = ctx.y("test")
    seen = set(pd.util.hash_pandas_object(ctx.X("train"), index=False).to_numpy().tolist())
    new = ~pd.util.hash_pandas_object(ctx.X("test"), index=False).isin(seen).to_numpy()
    keep = y_te.notna().to_numpy() & (new if new.mean() > 0.5 else True)
    rng = ctx.rng(23)
    train = np.arange(len(ctx.train))
    test = np.flatnonzero(keep)
    if len(train) > COMPARE_ROWS:
        train = np.sort(rng.choice(train, COMPARE_ROWS, replace=False))
    if len(test) > COMPARE_ROWS:
        test = np.sort(rng.choice(test, COMPARE_ROWS, replace=False))
    if len(test) < MIN_COMPARE_ROWS or len(train) < MIN_COMPARE_ROWS:
        return None
    return train, test


def _comparison(ctx: AuditContext) -> dict[str, float] | None:
    """Train against test labels (:func:`compare_sides`), when test is labelled."""
    picked = _compared_rows(ctx)
    if picked is None:
        return None
    train, test = picked
    counts = ctx.y("train").astype(str).iloc[train].value_counts()
    if len(counts) < 2 or counts.min() < 5:
        return None
    ctx.progress(f"train/test label comparison ({len(train):,} and {len(test):,} rows)")
    c_tr, p_tr, c_te, p_te = cross_fit_scores(ctx, train, test)
    known = c_te >= 0
    if known.sum() < MIN_COMPARE_ROWS:
        return None
    return compare_sides(c_tr, p_tr, c_te[known], p_te[known])


def _comparison_text(comparison: dict[str, float] | None, what: str) -> str:
    if comparison is None:
        return ", or labelled test data to compare with (none here)."
    c = comparison
    verdict = "differ" if c["p_value"] < ALPHA else "do not differ"
    return (
        f", or {what} labels that follow another law than the other side's given the model's "
        f"scores (both sides scored by the same fold models). They {verdict}: "
        f"likelihood-ratio statistic {c['statistic']:.1f} on {int(c['df'])} degrees of "
        f"freedom, p = {c['p_value']:.2g} against the null of one law for both sides (a "
        f"random split), at level {ALPHA:g}; the two fitted laws are {c['distance']:.1%} "
        f"apart (total variation; {DISTANCE:.0%} needed); estimated noise "
        f"{c['noise_train']:.1%} in train and {c['noise_test']:.1%} in test. When they "
        "differ the warning goes to train, whose rows are flagged; if the test labels were "
        "made by another process, check them too."
        + (
            " Train labels are the noisier: the model was fit on them, so test labels that "
            "disagree with its surest predictions do not count against test."
            if what == "test" and side_differs(c, "train") and c["excess"] > 0
            else ""
        )
    )


def _top_rows(res: LabelIssues, labels: np.ndarray, classes: tuple[Any, ...]) -> list[dict]:
    return [
        {
            "row": int(r),
            "given": classes[labels[r]],
            "suggested": classes[res.suggested[r]],
            "quality": round(float(res.quality[r]), 4),
        }
        for r in res.ranked[:TOP_K]
    ]


def _issues_finding(
    ctx: AuditContext, side: str, labels: np.ndarray, proba: np.ndarray, classes: tuple
) -> Finding:
    res = find_label_issues(labels, proba, random_state=ctx.random_state)
    ranks = ordinal_ranks(classes, proba)
    floor = noise_floor(labels, proba, ranks=ranks)
    comparison = ctx.cached("labels:compare", lambda: _comparison(ctx))
    n = len(labels)
    low, high = res.noise_interval
    material = is_material(res, floor, comparison, side)
    severity = "warning" if material else "info"
    index = ctx.frame(side).index.to_numpy()
    what = "training" if side == "train" else "test"
    title = (
        f"About {res.noise_rate:.0%} of {what} labels look wrong ({len(res.ranked):,} rows flagged)"
        if material
        else f"No material label noise in {what} data (confident-learning estimate "
        f"{res.noise_rate:.1%}, explained by class overlap)"
    )
    return Finding(
        check=f"labels.issues{'' if side == 'train' else '_test'}",
        mode="labels",
        severity=severity,
        title=title,
        detail=(
            f"Confident learning on {n:,} rows estimates a noise rate of {res.noise_rate:.1%} "
            f"(95% interval {low:.1%} to {high:.1%}). Among the {int(floor['rows']):,} rows the "
            f"model is most sure of, {floor['rate']:.1%} of labels disagree with it (lower bound "
            f"{floor['low']:.1%}); clean labels agree there, so this floor separates noise from "
            f"class overlap. A warning needs both lower bounds at {FLOOR:.0%} or more"
            + _comparison_text(comparison, what)
            + (
                " The classes are an ordinal scale: the floor counts only labels two or more "
                "steps from the model's class (one step is within a rating's uncertainty)."
                if ranks is not None
                else ""
            )
        ),
        columns=[ctx.target or ""],
        rows={side: [int(index[r]) for r in res.ranked]} if material else {},
        evidence={
            "noise_rate": {"estimate": res.noise_rate, "low": low, "high": high, "level": 0.95},
            "noise_floor": {**floor, "ordinal": ranks is not None},
            "train_vs_test": comparison,
            "flagged": int(len(res.ranked)),
            "rows": n,
            "classes": list(classes),
            "thresholds": res.thresholds.round(4).tolist(),
            "noise_matrix": res.noise_matrix.round(4).tolist(),
            "confident_joint": res.confident_joint.astype(int).tolist(),
            "top_rows": _top_rows(res, labels, classes),
        },
        action=(
            "Review the flagged rows worst first (evidence.top_rows); relabel or drop those "
            "confirmed wrong, then retrain."
            if material
            else ""
        ),
    )


@check("labels.issues", mode="labels", requires=("target", "classification", "features"), order=70)
def label_issues(ctx: AuditContext) -> Iterator[Finding]:
    """Label errors in train by confident learning on out-of-fold probabilities."""
    oof = ctx.oof()
    if oof.proba is None:
        return
    labels = _codes(ctx.y("train"), oof.classes)
    if (labels < 0).any():
        return
    yield _issues_finding(ctx, "train", labels, oof.proba, oof.classes)


@check(
    "labels.issues_test",
    mode="labels",
    requires=("test", "target", "classification", "features"),
    order=71,
)
def test_label_issues(ctx: AuditContext) -> Iterator[Finding]:
    """Label errors in test; the headline metric with and without the suspect rows."""
    pred = ctx.test_predictions()
    if pred.proba is None or ctx.target not in ctx.test.columns:  # type: ignore[union-attr]
        return
    labels = _codes(ctx.y("test"), pred.classes)
    keep = labels >= 0
    if keep.sum() < 30:
        return
    f = _issues_finding(ctx, "test", labels[keep], pred.proba[keep], pred.classes)
    suspect = np.zeros(len(labels), dtype=bool)
    res_rows = set(f.rows.get("test", []))
    index = ctx.test.index.to_numpy()  # type: ignore[union-attr]
    suspect[[i for i, r in enumerate(index) if int(r) in res_rows]] = True
    correct = pred.proba.argmax(axis=1) == labels
    acc_all = float(correct[keep].mean())
    clean = keep & ~suspect
    acc_clean = float(correct[clean].mean()) if clean.any() else acc_all
    ev = dict(f.evidence)
    ev["accuracy"] = {"all_rows": acc_all, "without_suspect_rows": acc_clean}
    detail = (
        f.detail + f" Accuracy on test: {acc_all:.3f} on all rows, {acc_clean:.3f} without the "
        f"{int(suspect.sum())} suspect rows; report both, never only the second."
    )
    yield Finding(f.check, f.mode, f.severity, f.title, detail, f.columns, f.rows, ev, f.action)


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


#: With labelled test data, a warning needs the train share beyond COMPARE_Z to exceed the
#: test share by this much, and a one-sided test at ALPHA (:func:`outlier_comparison`).
OUTLIER_EXCESS = 0.005
#: The comparison counts residuals beyond this many robust SDs: a two-sample test needs no
#: multiple-testing cut, and a lower one counts more of the wrong targets (power).
COMPARE_Z = 3.0
#: Absolute robust residuals are clipped here before their means are compared.
CLIP_Z = 10.0


def outlier_comparison(
    y_train: np.ndarray, p_train: np.ndarray, y_test: np.ndarray, p_test: np.ndarray
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
        "alpha": ALPHA,
    }


def _outlier_comparison(ctx: AuditContext) -> dict[str, float] | None:
    picked = _compared_rows(ctx)
    if picked is None:
        return None
    ctx.progress("train/test comparison of regression targets")
    return outlier_comparison(*cross_fit_scores(ctx, *picked))


@check("labels.outliers", mode="labels", requires=("target", "regression", "features"), order=70)
def regression_outliers(ctx: AuditContext) -> Iterator[Finding]:
    """Regression targets far from the out-of-fold prediction on a robust, local scale."""
    oof = ctx.oof()
    y = ctx.y("train").to_numpy(dtype=float)
    pred = np.asarray(oof.label, dtype=float)
    resid = y - pred
    z, scales = local_robust_z(resid, pred)
    if not scales.any():
        return
    n = len(z)
    cut = max(5.0, float(stats.norm.isf(0.01 / (2 * n))))
    flagged = np.flatnonzero(np.abs(z) > cut)
    order = flagged[np.argsort(-np.abs(z[flagged]))]
    share = len(order) / n
    index = ctx.train.index.to_numpy()
    comparison = _outlier_comparison(ctx)
    if comparison is None:
        material = share >= 0.01
        rule = "A warning needs 1% of rows or more (no labelled test data to compare with)."
    else:
        c = comparison
        material = c["p_value"] < ALPHA and c["excess"] >= OUTLIER_EXCESS
        rule = (
            f"Against test, with both sides scored by the same fold models on one scale: "
            f"{c['share_train']:.2%} of train and {c['share_test']:.2%} of test targets lie "
            f"beyond {c['cutoff_z']:.1f}; mean absolute robust residual (clipped at "
            f"{CLIP_Z:g}) {c['mean_abs_z_train']:.2f} in train against {c['mean_abs_z_test']:.2f}"
            f" in test, one-sided Welch p = {c['p_value']:.2g} against the null of one law "
            f"for both sides. A warning needs p < {ALPHA:g} and train "
            f"{OUTLIER_EXCESS:.1%} or more above test (targets heavy-tailed by nature are so "
            "in test too)."
        )
    yield Finding(
        check="labels.outliers",
        mode="labels",
        severity="warning" if material else "info",
        title=f"{len(order):,} regression targets are far from what the inputs predict",
        detail=(
            f"Out-of-fold residuals are scaled by their robust spread (MAD) within "
            f"{len(scales)} bins of the predicted value (scales {scales.min():.4g} to "
            f"{scales.max():.4g}), so large values with proportionally large errors are not "
            f"outliers; {len(order):,} rows ({share:.2%}) lie beyond {cut:.1f} robust standard "
            f"deviations. {rule}"
        ),
        columns=[ctx.target or ""],
        rows={"train": [int(index[r]) for r in order]},
        evidence={
            "scale": float(np.median(scales)),
            "bin_scales": [round(float(s), 6) for s in scales],
            "cutoff_z": cut,
            "share": share,
            "train_vs_test": comparison,
            "top_rows": [
                {
                    "row": int(index[r]),
                    "target": float(y[r]),
                    "predicted": float(pred[r]),
                    "z": round(float(z[r]), 2),
                }
                for r in order[:TOP_K]
            ],
        },
        action="Check the top rows for unit, typing or capping errors before training."
        if len(order)
        else "",
    )
