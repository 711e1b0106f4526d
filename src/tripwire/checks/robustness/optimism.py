"""Split optimism: a random cross-validation score against time-ordered and group splits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from tripwire.checks import check
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

MAX_ROWS = 20_000
#: A gap smaller than this (accuracy points, or relative MAE) is not reported as optimism.
MIN_GAP = 0.02


def _estimator(ctx: AuditContext) -> tuple[Any, Any]:
    from sklearn.base import clone

    from tripwire.models import make_baseline

    if ctx.model is not None:
        X = ctx.raw.get("train", ctx.train).loc[ctx.train.index, ctx.features]
        return clone(ctx.model), X
    feats = {c: ctx.kinds[c] for c in ctx.features}
    assert ctx.task is not None
    return make_baseline(ctx.task, feats, ctx.random_state, fast=True), ctx.X("train")


def _row_scores(ctx: AuditContext, splits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Per-row score (1/0 correct, or minus absolute error) of each row in a test fold."""
    from sklearn.base import clone

    est, X = _estimator(ctx)
    y = ctx.y("train").infer_objects().to_numpy()  # integer classes as objects: "unknown"
    y_fit = y.astype(str) if ctx.is_classification and ctx.model is None else y
    out = np.full(len(y), np.nan)
    for tr, te in splits:
        m = clone(est).fit(X.iloc[tr], y_fit[tr])
        pred = np.asarray(m.predict(X.iloc[te]))
        if ctx.is_classification:
            out[te] = (pred.astype(str) == y[te].astype(str)).astype(float)
        else:
            out[te] = -np.abs(pred.astype(float) - y[te].astype(float))
    return out


def split_scores(ctx: AuditContext, kind: str) -> dict[str, Any] | None:
    """Random CV against a ``time`` or ``group`` split, compared on the same rows (paired)."""
    from sklearn.model_selection import GroupKFold, KFold

    n = len(ctx.train)
    rng = ctx.rng(61)
    keep = np.sort(rng.choice(n, MAX_ROWS, replace=False)) if n > MAX_ROWS else np.arange(n)
    if kind == "time":
        col = ctx.schema.roles.time
        assert col is not None
        t = ctx.train[col].to_numpy()[keep]
        order = keep[np.argsort(t, kind="stable")]
        folds = np.array_split(order, 5)
        # expanding window: fit on all earlier blocks, test on the next one
        structured = [(np.concatenate(folds[:i]), folds[i]) for i in range(1, 5)]
        label = f"time-ordered ({col})"
    else:
        col = ctx.schema.roles.group
        assert col is not None
        g = ctx.train[col].astype(str).to_numpy()[keep]
        if len(np.unique(g)) < 5:
            return None
        structured = [(keep[a], keep[b]) for a, b in GroupKFold(5).split(keep, groups=g)]
        label = f"group ({col})"
    random = [
        (keep[a], keep[b])
        for a, b in KFold(5, shuffle=True, random_state=ctx.random_state).split(keep)
    ]
    ctx.progress(f"split optimism: random vs {label} folds")
    s_rand = _row_scores(ctx, random)
    s_struct = _row_scores(ctx, structured)
    both = np.isfinite(s_rand) & np.isfinite(s_struct)
    d = s_rand[both] - s_struct[both]
    if len(d) < 30:
        return None
    half = 1.96 * float(d.std(ddof=1)) / np.sqrt(len(d))
    r, s = float(s_rand[both].mean()), float(s_struct[both].mean())
    if not ctx.is_classification:
        r, s = -r, -s  # MAE
    return {
        "split": kind,
        "label": label,
        "random": r,
        "structured": s,
        "gap": float(d.mean()),
        "gap_interval": [float(d.mean() - half), float(d.mean() + half)],
        "rows_compared": int(len(d)),
        "metric": "accuracy" if ctx.is_classification else "MAE",
    }


def _finding(ctx: AuditContext, res: dict[str, Any]) -> Finding:
    metric = res["metric"]
    gap, (lo, hi) = res["gap"], res["gap_interval"]
    if metric == "accuracy":
        big = lo > 0 and gap >= MIN_GAP
        fmt = "{:.1%}"
    else:
        big = lo > 0 and gap >= MIN_GAP * max(res["structured"], 1e-12)
        fmt = "{:.4g}"
    r, s = fmt.format(res["random"]), fmt.format(res["structured"])
    return Finding(
        check=f"robustness.split_optimism_{res['split']}",
        mode="robustness",
        severity="warning" if big else "info",
        title=(
            f"Benchmark optimism: random CV {metric} {r} vs {res['label']} split {s}"
            if big
            else f"Random CV and {res['label']} split agree: {metric} {r} vs {s}"
        ),
        detail=(
            f"The same model was scored with shuffled 5-fold cross-validation and with a "
            f"{res['label']} split, on the same {res['rows_compared']:,} rows. The paired "
            f"difference is {gap:+.4g} [{lo:+.4g}, {hi:+.4g}] (95 %)."
            + (
                " Random splits let the model see the future or the same entities, so the "
                "random score overstates what deployment will see."
                if big
                else ""
            )
        ),
        columns=[str(ctx.schema.roles.time if res["split"] == "time" else ctx.schema.roles.group)],
        evidence=res,
        action=(
            f"Report the {res['label']} score; validate and tune with that split."
            if big
            else "Nothing to do."
        ),
    )


@check(
    "robustness.split_optimism_time",
    mode="robustness",
    requires=("target", "features", "time"),
    order=88,
)
def find_time_optimism(ctx: AuditContext) -> Iterator[Finding]:
    """Random cross-validation against a time-ordered split (benchmark optimism)."""
    res = split_scores(ctx, "time")
    if res is not None:
        yield _finding(ctx, res)


@check(
    "robustness.split_optimism_group",
    mode="robustness",
    requires=("target", "features", "group"),
    order=88,
)
def find_group_optimism(ctx: AuditContext) -> Iterator[Finding]:
    """Random cross-validation against a group split (benchmark optimism)."""
    res = split_scores(ctx, "group")
    if res is not None:
        yield _finding(ctx, res)
