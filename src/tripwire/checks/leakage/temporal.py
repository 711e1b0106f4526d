"""Temporal leakage (needs ``--time``): train rows from after the test period, features that
hold timestamps later than the row's own time, and the gap between a random and an
order-respecting evaluation of the baseline model on train.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE
from tripwire.context import AuditContext
from tripwire.findings import Finding

MIN_LATE_SHARE = 0.01
FUTURE_FEATURE_SHARE = 0.01
GAP_MIN = 0.02


def _as_time(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values
    return pd.to_datetime(values, errors="coerce")


@check("leakage.train_after_test", mode=MODE, requires=("test", "time"), order=20)
def find_train_after_test(ctx: AuditContext) -> Iterator[Finding]:
    """Train rows dated after the first test row."""
    col = ctx.schema.roles.time
    assert col is not None and ctx.test is not None
    t_tr, t_te = _as_time(ctx.train[col]), _as_time(ctx.test[col])
    start = t_te.min()
    late = (t_tr > start).to_numpy()
    share = float(late.mean())
    if share == 0:
        return
    leak = share >= MIN_LATE_SHARE
    yield Finding(
        check="leakage.train_after_test",
        mode=MODE,
        severity=("critical" if share >= 0.2 else "warning") if leak else "info",
        title=f"{share:.1%} of train rows are later than the start of test",
        detail=(
            f"Test starts at {start}; {int(late.sum()):,} of {len(t_tr):,} train rows are later "
            f"(train ends at {t_tr.max()}). The model is trained on the future of the rows it is "
            "evaluated on, which deployment never allows."
        ),
        columns=[col],
        rows={"train": ctx.train.index[late].tolist()},
        evidence={
            "test_start": str(start),
            "train_end": str(t_tr.max()),
            "late_rows": int(late.sum()),
            "share": share,
        },
        action="Split by time: train on rows before a cut-off date, test on rows after it.",
    )


@check("leakage.future_timestamps", mode=MODE, requires=("time",), order=20)
def find_future_timestamps(ctx: AuditContext) -> Iterator[Finding]:
    """Datetime features whose value is later than the row's own time."""
    col = ctx.schema.roles.time
    assert col is not None
    frames = [ctx.train] + ([ctx.test] if ctx.test is not None else [])
    df = pd.concat(frames, keys=["train", "test"][: len(frames)])
    t = _as_time(df[col])
    if not pd.api.types.is_datetime64_any_dtype(t):
        return
    for feat in ctx.schema.features_of("datetime"):
        v = pd.to_datetime(df[feat], errors="coerce")
        after = (v > t).to_numpy()
        known = v.notna().to_numpy() & t.notna().to_numpy()
        if known.sum() == 0:
            continue
        share = float(after.sum() / known.sum())
        if share < FUTURE_FEATURE_SHARE:
            continue
        lag = (v - t)[after].median()
        side = df.index.get_level_values(0)
        pos = df.index.get_level_values(1)
        rows = {s: pos[after & (side == s)].tolist() for s in ("train", "test")}
        yield Finding(
            check="leakage.future_timestamps",
            mode=MODE,
            severity="warning",
            title=f"{feat} is later than {col} in {share:.1%} of rows",
            detail=(
                f"In {int(after.sum()):,} of {int(known.sum()):,} rows the feature {feat} holds a "
                f"time after the row's own time {col} (median {lag} later). A value from the "
                "future is not available when the prediction is made."
            ),
            columns=[feat, col],
            rows={k: v for k, v in rows.items() if v},
            evidence={"share": share, "rows": int(after.sum()), "median_lead": str(lag)},
            action=f"Drop {feat} or replace it with a value known at prediction time.",
        )


@check("leakage.random_vs_temporal", mode=MODE, requires=("time", "target", "features"), order=85)
def find_random_vs_temporal(ctx: AuditContext) -> Iterator[Finding]:
    """A random evaluation compared with an order-respecting one on train."""
    from sklearn.model_selection import train_test_split

    from tripwire.models import make_baseline

    col = ctx.schema.roles.time
    assert col is not None and ctx.target is not None
    df = ctx.train
    if len(df) < 200:
        return
    if len(df) > 20_000:
        df = df.sample(20_000, random_state=ctx.random_state)
    order = np.argsort(_as_time(df[col]).to_numpy(), kind="stable")
    df = df.iloc[order]
    cut = int(len(df) * 0.8)
    X, y = df[ctx.features], df[ctx.target]
    y_codes = pd.factorize(y.astype(str))[0] if ctx.is_classification else y.to_numpy(float)
    splits = {
        "time": (np.arange(cut), np.arange(cut, len(df))),
        "random": tuple(
            train_test_split(np.arange(len(df)), test_size=0.2, random_state=ctx.random_state)
        ),
    }
    ctx.progress("random vs time-ordered evaluation")
    scores: dict[str, np.ndarray] = {}
    for name, (a, b) in splits.items():
        model = make_baseline(
            ctx.task or "binary", {c: ctx.kinds[c] for c in ctx.features}, fast=True
        )
        model.fit(X.iloc[a], y_codes[a])
        pred = model.predict(X.iloc[b])
        if ctx.is_classification:
            scores[name] = (pred == y_codes[b]).astype(float)
        else:
            scores[name] = -np.abs(pred - y_codes[b])
    gap = float(scores["random"].mean() - scores["time"].mean())
    rng = ctx.rng(7)
    boots = [
        rng.choice(scores["random"], len(scores["random"])).mean()
        - rng.choice(scores["time"], len(scores["time"])).mean()
        for _ in range(500)
    ]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    metric = "accuracy" if ctx.is_classification else "negative mean absolute error"
    if ctx.is_classification:
        big = gap >= GAP_MIN and lo > 0
    else:
        spread = float(np.mean(np.abs(y_codes - np.median(y_codes)))) or 1.0
        big = gap / spread >= GAP_MIN and lo > 0
    # a test set that follows train in time already gives the order-respecting score: the gap
    # then only concerns random cross-validation inside train (tuning), which is worth knowing
    # but is not a leak of the reported evaluation
    ordered = (
        ctx.test is not None
        and float((_as_time(ctx.train[col]) > _as_time(ctx.test[col]).min()).mean())
        < MIN_LATE_SHARE
    )
    yield Finding(
        check="leakage.random_vs_temporal",
        mode=MODE,
        severity="warning" if big and not ordered else "info",
        title=(
            f"A random split overstates {metric} by {gap:.3g} compared with a time-ordered split"
            if big
            else f"Random and time-ordered evaluation agree within {abs(gap):.3g} ({metric})"
        ),
        detail=(
            f"The baseline model scored {scores['random'].mean():.4g} on a random 20% of train and "
            f"{scores['time'].mean():.4g} on the latest 20% when trained on the earlier 80%; "
            f"difference {gap:.3g} (95% bootstrap interval {lo:.3g} to {hi:.3g})."
            + (
                " The given test set follows train in time, so its score is order-respecting; "
                "only random cross-validation inside train (for tuning) would be optimistic."
                if big and ordered
                else ""
            )
        ),
        columns=[col],
        evidence={
            "metric": metric,
            "random_score": float(scores["random"].mean()),
            "time_ordered_score": float(scores["time"].mean()),
            "gap": gap,
            "gap_ci": [float(lo), float(hi)],
            "rows": len(df),
            "test_follows_train": ordered,
        },
        action=(
            "Report the time-ordered score: it is what deployment will see. Random splits let "
            "the model use the future of each test row."
            if big and not ordered
            else "Tune with time-ordered folds (TimeSeriesSplit), not random K-fold."
            if big
            else "Nothing to do."
        ),
    )
