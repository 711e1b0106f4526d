"""Features that give the target away.

- Single-feature out-of-fold scores: each feature alone, binned (100 quantile bins for numbers,
  the 200 most frequent values for categories, missing as its own bin), predicts the target by
  the class frequencies (or the mean) of its bin in the other folds. A feature that is almost
  perfect alone, or far better than every other, was probably computed from the label.
- A strong feature (AUC >= 0.9 or R2 >= 0.8 alone) that beats the baseline model fitted on all
  the other features together (paired bootstrap interval of the difference above 0): whatever
  the rest of the data knows, this one column knows more.
- A regression target that is an exact linear function of a few numeric features
  (out-of-fold R2 of a linear fit >= 0.999): a total computed from its parts.
- Missingness that predicts the target (Cramer's V of the missing indicator).
- Features that are near-deterministic functions of the target (correlation ratio of the
  feature given the target, or the uncertainty coefficient for categories).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE
from tripwire.context import AuditContext
from tripwire.findings import Finding

PERFECT_AUC = 0.99
PERFECT_R2 = 0.98
DOMINANT_AUC = 0.9
DOMINANT_R2 = 0.8
DOMINANCE = 2.0
BOOTSTRAP = 200
MODEL_ROWS = 10_000
FORMULA_R2 = 0.999
FORMULA_TERMS = 5
MISSING_V = 0.5
DETERMINISTIC = 0.95
MAX_ROWS = 50_000


def bin_codes(values: pd.Series, kind: str, bins: int = 100, top: int = 200) -> np.ndarray:
    """Small integer codes for one column: quantile bins or frequent values; -1 is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> bin_codes(pd.Series([1.0, 2.0, None, 4.0]), "numeric", bins=2).tolist()
    [0, 0, -1, 1]
    """
    if kind in ("numeric", "boolean"):
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        finite = x[np.isfinite(x)]
        if finite.size == 0:
            return np.full(len(x), -1)
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
        codes = np.searchsorted(edges, x, side="left")
        return np.where(np.isfinite(x), codes, -1)
    s = values.astype("string")
    keep = s.value_counts().index[:top]
    codes = pd.Categorical(s, categories=keep).codes.astype(np.int64)
    return np.where(s.isna().to_numpy(), -1, np.where(codes < 0, len(keep), codes))


def single_feature_oof(
    codes: np.ndarray, y: np.ndarray, folds: np.ndarray, n_classes: int
) -> np.ndarray:
    """Out-of-fold predictions from one coded feature: class frequencies (classification,
    ``y`` holds class indices) or the mean (``n_classes == 0``) of the code in other folds."""
    codes = codes - codes.min()
    m = int(codes.max()) + 1
    k = int(folds.max()) + 1
    if n_classes:
        table = np.zeros((k, m, n_classes))
        np.add.at(table, (folds, codes, y.astype(int)), 1.0)
        prior = np.bincount(y.astype(int), minlength=n_classes) / len(y)
        rest = table.sum(axis=0)[None] - table  # counts outside each fold
        probs = (rest + prior) / (rest.sum(axis=2, keepdims=True) + 1.0)
        return probs[folds, codes]
    sums = np.zeros((k, m))
    cnt = np.zeros((k, m))
    np.add.at(sums, (folds, codes), y)
    np.add.at(cnt, (folds, codes), 1.0)
    rs, rc = sums.sum(0)[None] - sums, cnt.sum(0)[None] - cnt
    mean = float(y.mean())
    return ((rs + mean) / (rc + 1.0))[folds, codes]


def _score(pred: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    from sklearn.metrics import r2_score, roc_auc_score

    if n_classes == 2:
        return float(roc_auc_score(y, pred[:, 1]))
    if n_classes > 2:
        present = np.unique(y)
        p = pred[:, present] / pred[:, present].sum(axis=1, keepdims=True)
        return (
            float(roc_auc_score(y, p, multi_class="ovr", labels=present))
            if len(present) > 2
            else 0.5
        )
    return float(r2_score(y, pred))


def _train_sample(ctx: AuditContext) -> pd.DataFrame:
    df = ctx.train[ctx.train[ctx.target].notna()]  # type: ignore[index]
    return df.sample(MAX_ROWS, random_state=ctx.random_state) if len(df) > MAX_ROWS else df


def _target_codes(ctx: AuditContext, y: pd.Series) -> tuple[np.ndarray, int]:
    if ctx.is_classification:
        codes, uniques = pd.factorize(y.astype(str))
        return codes, len(uniques)
    return pd.to_numeric(y, errors="coerce").to_numpy(dtype=float), 0


@check("leakage.target_leak_features", mode=MODE, requires=("target", "features"), order=30)
def find_target_leak_features(ctx: AuditContext) -> Iterator[Finding]:
    """A single feature that predicts the target almost perfectly or far better than all others."""
    df = _train_sample(ctx)
    y, n_classes = _target_codes(ctx, df[ctx.target])  # type: ignore[index]
    if n_classes == 1 or len(df) < 50:
        return
    folds = ctx.rng(3).permutation(np.arange(len(df)) % 5)
    scores = {}
    for col in ctx.features:
        if ctx.kinds[col] == "text":
            continue
        codes = bin_codes(df[col], ctx.kinds[col])
        scores[col] = _score(single_feature_oof(codes, y, folds, n_classes), y, n_classes)
    if not scores:
        return
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    chance = 0.5 if n_classes else 0.0
    metric = "AUC" if n_classes else "R2"
    best, best_score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else chance
    lift_ratio = (best_score - chance) / max(second - chance, 1e-3)
    perfect = best_score >= (PERFECT_AUC if n_classes else PERFECT_R2)
    strong = best_score >= (DOMINANT_AUC if n_classes else DOMINANT_R2)
    dominant = strong and lift_ratio >= DOMINANCE
    rest = None
    if strong and not (perfect or dominant) and len(ranked) > 1:
        ctx.progress(f"baseline model without {best}")
        rest = _alone_vs_rest(ctx, df, best, y, n_classes, folds)
    beats_rest = rest is not None and rest["difference_ci_low"] > 0
    top = [{"feature": c, metric: round(s, 4)} for c, s in ranked[:10]]
    if not (perfect or dominant or beats_rest):
        return
    flagged = [c for c, s in ranked if s >= (PERFECT_AUC if n_classes else PERFECT_R2)] or [best]
    if perfect:
        why = (
            "A single feature that is nearly perfect is usually computed from the label or "
            "recorded after it."
        )
    elif dominant:
        why = (
            "One feature far ahead of all others often carries information recorded after the "
            "outcome."
        )
    else:
        assert rest is not None
        why = (
            f"The baseline model fitted on all {rest['features']} other features together "
            f"reaches only {metric} {rest['score']:.3f} on the same folds; {best} alone is "
            f"{rest['difference']:+.3f} better (bootstrap 95% interval "
            f"{rest['difference_ci_low']:+.3f} to {rest['difference_ci_high']:+.3f}). A column "
            "that knows more than everything else in the data often carries the outcome itself."
        )
    yield Finding(
        check="leakage.target_leak_features",
        mode=MODE,
        severity="critical" if perfect else "warning",
        title=(f"{best} alone predicts {ctx.target} with out-of-fold {metric} {best_score:.3f}"),
        detail=(
            f"Scored alone with 5-fold out-of-fold binned predictions, {best} reaches {metric} "
            f"{best_score:.3f}; the next best feature reaches {second:.3f} "
            f"({lift_ratio:.1f}x the lift over chance). " + why
        ),
        columns=flagged,
        evidence={
            "metric": metric,
            "single_feature_scores": top,
            "lift_ratio": lift_ratio,
            "rows": len(df),
            "model_without_feature": rest,
        },
        action=(
            f"Check how {best} is produced and whether it is known at prediction time; if not, "
            "drop it and re-evaluate."
        ),
    )


def _paired_bootstrap(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, n_classes: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95% percentile interval of score(a) - score(b) over bootstrap resamples of the rows."""
    diffs = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(y), len(y))
        if n_classes and len(np.unique(y[i])) < 2:
            continue
        diffs.append(_score(a[i], y[i], n_classes) - _score(b[i], y[i], n_classes))
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return float(lo), float(hi)


def _alone_vs_rest(
    ctx: AuditContext,
    df: pd.DataFrame,
    best: str,
    y: np.ndarray,
    n_classes: int,
    folds: np.ndarray,
) -> dict[str, float] | None:
    """The best feature alone against the baseline model on all the other features, out of
    fold on the same rows and folds (at most ``MODEL_ROWS``), with a paired bootstrap."""
    from sklearn.model_selection import cross_val_predict

    from tripwire.models import MODEL_KINDS, make_baseline

    others = [c for c in ctx.features if c != best and ctx.kinds[c] in MODEL_KINDS]
    if not others or ctx.task is None:
        return None
    take = np.arange(len(df))
    if len(df) > MODEL_ROWS:
        take = np.sort(ctx.rng(17).choice(len(df), MODEL_ROWS, replace=False))
    sub, y_sub, f_sub = df.iloc[take], y[take], folds[take]
    if n_classes and np.bincount(y_sub.astype(int)).min() < 5:
        return None
    alone = single_feature_oof(bin_codes(sub[best], ctx.kinds[best]), y_sub, f_sub, n_classes)
    model = make_baseline(ctx.task, {c: ctx.kinds[c] for c in others}, ctx.random_state, True)
    cv = [(np.flatnonzero(f_sub != k), np.flatnonzero(f_sub == k)) for k in range(5)]
    X = ctx.X("train").loc[sub.index, others]
    if n_classes:
        rest = cross_val_predict(model, X, y_sub, cv=cv, method="predict_proba")
        if rest.shape[1] < n_classes:  # a class missing from every training fold
            return None
    else:
        rest = cross_val_predict(model, X, y_sub, cv=cv)
    s_alone, s_rest = _score(alone, y_sub, n_classes), _score(rest, y_sub, n_classes)
    lo, hi = _paired_bootstrap(alone, rest, y_sub, n_classes, ctx.rng(19))
    return {
        "feature_alone": s_alone,
        "score": s_rest,
        "difference": s_alone - s_rest,
        "difference_ci_low": lo,
        "difference_ci_high": hi,
        "features": len(others),
        "rows": len(take),
    }


@check("leakage.target_formula", mode=MODE, requires=("target", "features"), order=30)
def find_target_formula(ctx: AuditContext) -> Iterator[Finding]:
    """A regression target that is an exact linear function of a few numeric features."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_predict

    if ctx.is_classification:
        return
    df = _train_sample(ctx)
    y = pd.to_numeric(df[ctx.target], errors="coerce").to_numpy(dtype=float)  # type: ignore[index]
    cols = [c for c in ctx.features if ctx.kinds[c] in ("numeric", "boolean")]
    X = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    keep = [j for j in range(X.shape[1]) if np.isfinite(X[:, j]).all() and np.ptp(X[:, j]) > 0]
    if len(df) < 50 or not keep or not np.isfinite(y).all() or np.ptp(y) == 0:
        return
    X, cols = X[:, keep], [cols[j] for j in keep]
    folds = ctx.rng(3).permutation(np.arange(len(df)) % 5)
    cv = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)]

    def oof_r2(j: list[int]) -> float:
        pred = cross_val_predict(LinearRegression(), X[:, j], y, cv=cv)
        return float(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))

    if oof_r2(list(range(len(cols)))) < FORMULA_R2:
        return
    chosen: list[int] = []  # the fewest columns that still give the target (forward selection)
    r2 = -np.inf
    while r2 < FORMULA_R2 and len(chosen) < min(FORMULA_TERMS, len(cols)):
        r2, j = max((oof_r2([*chosen, j]), j) for j in range(len(cols)) if j not in chosen)
        chosen.append(j)
    if r2 < FORMULA_R2:
        return
    names = [cols[j] for j in chosen]
    fit = LinearRegression().fit(X[:, chosen], y)
    formula = " + ".join(f"{b:.4g}*{c}" for b, c in zip(fit.coef_, names))
    formula += f" + {float(fit.intercept_):.4g}"
    yield Finding(
        check="leakage.target_formula",
        mode=MODE,
        severity="critical",
        title=f"{ctx.target} is a linear function of {', '.join(names)} (out-of-fold R2 {r2:.4f})",
        detail=(
            f"A linear fit on {', '.join(names)} alone predicts {ctx.target} with 5-fold "
            f"out-of-fold R2 {r2:.5f}: {ctx.target} = {formula}. A target computed from features "
            "(a total from its parts, a rate from its numerator) is not predicted but looked up; "
            "each part alone may look ordinary."
        ),
        columns=names,
        evidence={
            "r2_out_of_fold": r2,
            "coefficients": {c: float(b) for b, c in zip(fit.coef_, names)},
            "intercept": float(fit.intercept_),
            "rows": len(df),
        },
        action=(
            f"Check whether {', '.join(names)} are known before {ctx.target}; if they are its "
            "parts, drop them (or predict the parts) and re-evaluate."
        ),
    )


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats.contingency import association, crosstab

    table = crosstab(a, b).count
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))


@check("leakage.missingness_predicts_target", mode=MODE, requires=("target", "features"), order=30)
def find_missingness_leak(ctx: AuditContext) -> Iterator[Finding]:
    """Columns whose missing values predict the target."""
    df = _train_sample(ctx)
    y, n_classes = _target_codes(ctx, df[ctx.target])  # type: ignore[index]
    for col in ctx.features:
        miss = df[col].isna().to_numpy()
        n_miss = int(miss.sum())
        if n_miss < 10 or n_miss > len(df) - 10:
            continue
        if n_classes:
            v = _cramers_v(miss.astype(int), y)
        else:
            v = abs(float(np.corrcoef(miss.astype(float), y)[0, 1]))
        if not v >= MISSING_V:
            continue
        if n_classes:
            rates = (
                pd.Series(df[ctx.target].astype(str).to_numpy())
                .groupby(miss)
                .value_counts(normalize=True)
            )  # type: ignore[index]
            shape = {
                ("missing" if k[0] else "present") + f" -> {k[1]}": round(float(p), 3)
                for k, p in rates.items()
            }
        else:
            shape = {
                "mean_when_missing": float(y[miss].mean()),
                "mean_when_present": float(y[~miss].mean()),
            }
        yield Finding(
            check="leakage.missingness_predicts_target",
            mode=MODE,
            severity="warning",
            title=f"Whether {col} is missing predicts {ctx.target} (association {v:.2f})",
            detail=(
                f"{col} is missing in {n_miss:,} of {len(df):,} train rows, and the missing "
                f"indicator alone is associated with the target at {v:.2f} "
                f"({'Cramer V' if n_classes else '|correlation|'}). Values filled in only after "
                "the outcome (or only for one class) leak the label through their absence."
            ),
            columns=[col],
            rows={"train": df.index[miss].tolist()},
            evidence={"association": v, "missing": n_miss, "target_by_missingness": shape},
            action=f"Find out why {col} is missing; if missingness follows the outcome, drop it or fill it the same way for all rows.",
        )


def _determined_by(f: pd.Series, kind: str, y_codes: np.ndarray) -> float:
    """How much of the feature the target determines: eta squared (numeric) or the
    uncertainty coefficient U(f|y) (categorical)."""
    if kind in ("numeric", "boolean"):
        x = pd.to_numeric(f, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x)
        x, g = x[ok], y_codes[ok]
        total = float(((x - x.mean()) ** 2).sum())
        if total == 0 or len(x) < 10:
            return 0.0
        means = pd.Series(x).groupby(g).transform("mean").to_numpy()
        return 1 - float(((x - means) ** 2).sum()) / total
    s = f.astype("string").fillna("<missing>").to_numpy()
    joint = pd.crosstab(s, y_codes).to_numpy(dtype=float)
    p = joint / joint.sum()
    pf, py = p.sum(1), p.sum(0)
    h_f = -float(np.sum(pf[pf > 0] * np.log(pf[pf > 0])))
    nz = p > 0
    h_f_given_y = -float(np.sum(p[nz] * np.log((p / py[None, :])[nz])))
    return 0.0 if h_f == 0 else 1 - h_f_given_y / h_f


@check("leakage.function_of_target", mode=MODE, requires=("target", "features"), order=30)
def find_function_of_target(ctx: AuditContext) -> Iterator[Finding]:
    """Features that are near-deterministic functions of the target."""
    df = _train_sample(ctx)
    y, n_classes = _target_codes(ctx, df[ctx.target])  # type: ignore[index]
    if n_classes:
        groups = y
    else:
        groups = bin_codes(pd.Series(y), "numeric", bins=50)
    for col in ctx.features:
        kind = ctx.kinds[col]
        if kind in ("text", "identifier", "datetime"):
            continue
        if df[col].nunique() < 2:
            continue
        share = _determined_by(df[col], kind, groups)
        if share < DETERMINISTIC:
            continue
        yield Finding(
            check="leakage.function_of_target",
            mode=MODE,
            severity="critical",
            title=f"{col} is almost a function of {ctx.target} ({share:.1%} determined)",
            detail=(
                f"Given the target, {share:.1%} of the variation of {col} is fixed "
                f"({'correlation ratio eta squared' if kind in ('numeric', 'boolean') else 'uncertainty coefficient'}"
                f"{'' if n_classes else ', target in 50 quantile bins'}). Features derived from "
                "the label are not available when predicting."
            ),
            columns=[col],
            evidence={"determined_share": share, "rows": len(df)},
            action=f"Drop {col} unless it is truly known before the outcome.",
        )
