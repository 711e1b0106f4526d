"""Outdated labels: does the relation between inputs and labels change over time?

With ``--time`` the labelled rows (train, and test when it has labels) are cut into periods of
equal size in time order, and each period into two contiguous halves. Three models of equal
training size score every row of a later period p:

- *within*: fit on the other half of period p (what the relation at p allows);
- *early*: fit on the second half of the first period (what the old labels teach);
- *early, input-weighted*: the same rows of the first period, importance-weighted towards
  period p's inputs by a domain classifier (what the old labels teach once the shift in the
  inputs is accounted for, as far as the inputs of the two periods overlap).

If only the inputs moved, the weighted early model scores about as well as the within model.
The part of the within model's lead that remains is label change the inputs do not explain:
the old labels describe a relation that no longer holds. Intervals use batch means over
contiguous blocks of each period (rows close in time are not independent), with a Bonferroni
correction across periods.

References
----------
Shimodaira, H. (2000). Improving predictive inference under covariate shift by weighting the
log-likelihood function. Journal of Statistical Planning and Inference 90(2), 227-244.
Gama, J., Zliobaite, I., Bifet, A., Pechenizkiy, M. and Bouchachia, A. (2014). A survey on
concept drift adaptation. ACM Computing Surveys 46(4), 44.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.findings import Finding

MAX_ROWS = 20_000
MAX_PERIODS = 5
MIN_PERIOD_ROWS = 200
#: A period's adjusted loss below this (accuracy points; share of MAE in regression) is ignored.
MIN_GAP = 0.02
WEIGHT_CLIP = 10.0
#: Above this AUC a domain classifier tells the periods apart almost surely: the inputs barely
#: overlap and weighting cannot separate input shift from label change.
NO_OVERLAP_AUC = 0.95


@dataclass(frozen=True)
class _Rows:
    X: pd.DataFrame
    y: np.ndarray
    t: np.ndarray


def _labelled_rows(ctx: AuditContext) -> _Rows:
    col, target = ctx.schema.roles.time, ctx.target
    parts = []
    for df in (ctx.train, ctx.test):
        if df is None or target not in df.columns or col not in df.columns:
            continue
        parts.append(df.loc[df[target].notna() & df[col].notna()])
    frame = pd.concat(parts, ignore_index=True)
    t = frame[col]
    t_num = (
        t.rank(method="first").to_numpy()
        if not pd.api.types.is_numeric_dtype(t)
        else t.to_numpy(dtype=float)
    )
    n = len(frame)
    keep = np.arange(n)
    if n > MAX_ROWS:
        keep = np.sort(ctx.rng(71).choice(n, MAX_ROWS, replace=False))
    order = keep[np.argsort(t_num[keep], kind="stable")]
    return _Rows(
        X=frame[ctx.features].iloc[order].reset_index(drop=True),
        y=frame[target].to_numpy()[order],
        t=t.to_numpy()[order],
    )


def _fit(ctx: AuditContext, X: pd.DataFrame, y: np.ndarray, w: np.ndarray | None = None) -> Any:
    from tripwire.models import make_baseline

    assert ctx.task is not None
    feats = {c: ctx.kinds[c] for c in ctx.features}
    est = make_baseline(ctx.task, feats, ctx.random_state, fast=True)
    y_fit = y.astype(str) if ctx.is_classification else y.astype(float)
    if w is None:
        return est.fit(X, y_fit)
    return est.fit(X, y_fit, model__sample_weight=w)


def _score(ctx: AuditContext, model: Any, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """Per-row score, higher is better: 1/0 correct, or minus the absolute error."""
    pred = np.asarray(model.predict(X))
    if ctx.is_classification:
        return (pred.astype(str) == y.astype(str)).astype(float)
    return -np.abs(pred.astype(float) - y.astype(float))


def _input_weights(
    ctx: AuditContext, old: pd.DataFrame, new: pd.DataFrame
) -> tuple[np.ndarray, float]:
    """Density-ratio weights p_new(x) / p_old(x) on the ``old`` rows, from out-of-fold
    probabilities of a classifier telling the two apart; clipped and scaled to mean 1. Also
    the classifier's AUC: near 1 the inputs barely overlap and weighting cannot adjust."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from tripwire.models import make_baseline

    feats = {c: ctx.kinds[c] for c in ctx.features}
    X = pd.concat([old, new], ignore_index=True)
    d = np.r_[np.zeros(len(old)), np.ones(len(new))].astype(int)
    cv = StratifiedKFold(3, shuffle=True, random_state=ctx.random_state)
    est = make_baseline("binary", feats, ctx.random_state, fast=True)
    q_all = cross_val_predict(est, X, d, cv=cv, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(d, q_all))
    q = np.clip(q_all[: len(old)], 1e-3, 1 - 1e-3)
    w = q / (1 - q) * len(old) / len(new)
    w = np.clip(w, 1 / WEIGHT_CLIP, WEIGHT_CLIP)
    return np.asarray(w / w.mean()), auc


def _batch_variance(d: np.ndarray) -> float:
    """Variance of the mean of ``d`` by batch means over contiguous blocks (rows close in
    time are not independent)."""
    blocks = max(5, min(20, len(d) // 20))
    means = np.array([b.mean() for b in np.array_split(d, blocks)])
    return float(means.var(ddof=1) / blocks)


def _training_variance(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Variance of a model's mean score that comes from the draw of its training rows.

    Two models fit on two random halves of the first period score the same rows; the squared
    difference of their mean scores, less its test-row part (batch means), estimates twice
    the training part. Pooled over periods.
    """
    excess = [(a.mean() - b.mean()) ** 2 - _batch_variance(a - b) for a, b in pairs]
    return max(0.0, float(np.mean(excess)) / 2)


def period_gaps(ctx: AuditContext) -> dict[str, Any] | None:
    """Per-period scores of the within, early and input-weighted early models."""
    rows = _labelled_rows(ctx)
    n = len(rows.y)
    n_periods = min(MAX_PERIODS, n // MIN_PERIOD_ROWS)
    if n_periods < 2:
        return None
    periods = np.array_split(np.arange(n), n_periods)
    halves = [np.array_split(p, 2) for p in periods]
    # the first period's halves are random, so that the two early models differ only by the
    # draw of their training rows (their disagreement measures it); later halves are
    # contiguous, so that the within model gains nothing from neighbours in time
    mixed = ctx.rng(72).permutation(periods[0])
    halves[0] = [np.sort(h) for h in np.array_split(mixed, 2)]
    if ctx.is_classification and any(len(np.unique(rows.y[h])) < 2 for p in halves for h in p):
        return None  # a half with a single class cannot teach a classifier
    ctx.progress(f"outdated labels: {n_periods} periods of about {len(periods[0]):,} rows")
    X, y = rows.X, rows.y
    first = np.concatenate(halves[0])  # weights below are in this order
    early = [_fit(ctx, X.iloc[h], y[h]) for h in halves[0]]
    z = float(stats.norm.isf(0.05 / 2 / max(1, n_periods - 1)))
    out: list[dict[str, Any]] = []
    diffs, pairs = [], []
    for p, (a, b) in enumerate(halves):
        rows_p = np.concatenate([a, b])
        within = np.concatenate(
            [
                _score(ctx, early[1] if p == 0 else _fit(ctx, X.iloc[b], y[b]), X.iloc[a], y[a]),
                _score(ctx, early[0] if p == 0 else _fit(ctx, X.iloc[a], y[a]), X.iloc[b], y[b]),
            ]
        )
        t = rows.t[rows_p]
        entry: dict[str, Any] = {
            "period": p + 1,
            "start": str(t[0]),
            "end": str(t[-1]),
            "rows": int(len(rows_p)),
            "within": float(within.mean()),
        }
        out.append(entry)
        if p == 0:
            continue
        Xp, yp = X.iloc[rows_p], y[rows_p]
        s_early = np.mean([_score(ctx, m, Xp, yp) for m in early], axis=0)
        w, auc = _input_weights(ctx, X.iloc[first], Xp)
        h0 = len(halves[0][0])
        s_w = [
            _score(ctx, _fit(ctx, X.iloc[h], y[h], part), Xp, yp)
            for h, part in zip(halves[0], (w[:h0], w[h0:]))
        ]
        pairs.append((s_w[0], s_w[1]))
        s_weighted = (s_w[0] + s_w[1]) / 2
        diffs.append(within - s_weighted)
        entry.update(
            early=float(s_early.mean()),
            early_weighted=float(s_weighted.mean()),
            loss=float((within - s_early).mean()),
            effective_rows=float(w.sum() ** 2 / (w**2).sum()),
            input_separability_auc=auc,
        )
    var_train = _training_variance(pairs)
    for entry, d in zip(out[1:], diffs):
        # the interval counts the test rows (batch means) and the draw of training rows: the
        # within and the weighted early scores each average two models (half the variance)
        gap = float(d.mean())
        half = z * float(np.sqrt(_batch_variance(d) + var_train))
        entry.update(loss_beyond_inputs=gap, interval=[gap - half, gap + half])
    if not ctx.is_classification:
        for e in out:  # scores are minus absolute errors: report MAE
            for k in ("within", "early", "early_weighted"):
                if k in e:
                    e[k] = -e[k]
    return {
        "periods": out,
        "rows": n,
        "metric": "accuracy" if ctx.is_classification else "MAE",
        "level": 0.95,
        "bonferroni_periods": n_periods - 1,
        "reference_rows": int(len(first)),
        "training_variance": var_train,
        "_starts": [rows.t[p[0]] for p in periods],
    }


def _amount(loss: float, metric: str) -> str:
    return f"{100 * loss:.1f} accuracy points" if metric == "accuracy" else f"{loss:.4g} of MAE"


def _material(e: dict[str, Any], metric: str) -> bool:
    if "interval" not in e:
        return False
    floor = MIN_GAP if metric == "accuracy" else MIN_GAP * max(e["within"], 1e-12)
    return bool(e["interval"][0] > 0 and e["loss_beyond_inputs"] >= floor)


@check("labels.outdated", mode="labels", requires=("target", "time", "features"), order=72)
def outdated_labels(ctx: AuditContext) -> Iterator[Finding]:
    """Whether the relation between inputs and labels changes over time (per period)."""
    res = period_gaps(ctx)
    if res is None:
        return
    starts = res.pop("_starts")
    metric = res["metric"]
    changed = [e for e in res["periods"] if _material(e, metric)]
    col = str(ctx.schema.roles.time)
    fmt = "{:.1%}" if metric == "accuracy" else "{:.4g}"
    rows: dict[str, list[int]] = {}
    if changed:  # the labels older than the first period that changed
        start = starts[changed[0]["period"] - 1]
        for name in ("train", "test"):
            df = ctx.train if name == "train" else ctx.test
            if df is not None and col in df.columns:
                older = (df[col] < start).to_numpy()
                if older.any():
                    rows[name] = [int(r) for r in df.index.to_numpy()[older]]
    worst = max(res["periods"][1:], key=lambda e: e["loss_beyond_inputs"])
    lines = "; ".join(
        f"period {e['period']} ({e['start']} to {e['end']}): within {fmt.format(e['within'])}, "
        f"early {fmt.format(e['early'])}, early input-weighted "
        f"{fmt.format(e['early_weighted'])}, loss beyond inputs "
        f"{e['loss_beyond_inputs']:+.3g} [{e['interval'][0]:+.3g}, {e['interval'][1]:+.3g}]"
        for e in res["periods"][1:]
    )
    apart = [e["period"] for e in changed if e["input_separability_auc"] >= NO_OVERLAP_AUC]
    caveat = (
        f" The inputs of period(s) {', '.join(map(str, apart))} barely overlap the first "
        "period's (domain classifier AUC >= 0.95), so weighting could not fully separate "
        "input shift there: part of the loss may be the early model extrapolating to inputs "
        "it never saw."
        if apart
        else ""
    )
    yield Finding(
        check="labels.outdated",
        mode="labels",
        severity="warning" if changed else "info",
        title=(
            f"Labels go out of date: from period {changed[0]['period']} on, a model taught by "
            f"the earliest labels loses up to {_amount(worst['loss_beyond_inputs'], metric)} "
            "beyond what the shift in inputs explains"
            if changed
            else f"The relation between inputs and labels holds over time ({col})"
        ),
        detail=(
            f"{res['rows']:,} labelled rows in {len(res['periods'])} periods by {col}. Each "
            "later period is scored by a model fit within it, by one fit on the first period's "
            "labels, and by the same one with the first period importance-weighted to the later "
            f"inputs ({metric}; intervals 95%, Bonferroni over periods, batch means over "
            f"blocks of time). {lines}.{caveat}"
        ),
        columns=[ctx.target or "", col],
        rows=rows,
        evidence={k: v for k, v in res.items()},
        action=(
            "The old labels describe a relation that no longer holds: train on a recent "
            "window or weight recent rows more, relabel or drop the outdated rows, and "
            "schedule retraining as the relation moves."
            if changed
            else ""
        ),
    )
