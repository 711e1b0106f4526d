"""Train/test duplicates (exact and near) and duplicates inside train.

Exact duplicates are found by hashing the feature values of each row. Near duplicates are
nearest neighbours closer than a threshold calibrated on train (see
:mod:`tripwire.stats.neighbors`). Both are compared with the rate expected under an honest
random split, measured inside train, so that datasets with naturally repeated rows (few
distinct values) do not raise false alarms: exact copies by a one-sided binomial test and by
random re-splits of the pooled rows (copies come in groups that move together), near copies
by a two-proportion test against the calibration rows (the calibrated rate is an estimate).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import stats as sps

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE, near_columns, row_columns
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.neighbors import (
    NEAR_QUANTILE,
    ClusteredNeighbours,
    encode_rows,
    hash_rows,
    near_threshold,
    nearest,
)

ALPHA = 1e-3
MIN_EXCESS_SHARE = 0.005
CRITICAL_SHARE = 0.05
TRAIN_DUP_WARN_SHARE = 0.05
MIN_INFLATION = 0.01
CALIBRATION_ROWS = 5_000
RESPLITS = 200
#: A second, tighter threshold: planted copies sit far below the 1% quantile, natural pairs not.
TIGHT_QUANTILE = 0.001
#: A third, wider one: many copies moved by more than the closest natural pairs still crowd
#: the near end of the distances (natural near-identical rows can set the 1% quantile below
#: the copies, as in spambase).
WIDE_QUANTILE = 0.05
THRESHOLDS = 3
#: Above this many train x test pairs, candidates come from a clustered (inverted-file) search.
EXACT_PAIRS = 1e9


def _excess(observed: int, n: int, expected_rate: float) -> tuple[float, float]:
    """One-sided binomial p-value of ``observed`` of ``n`` against ``expected_rate``."""
    rate = min(max(expected_rate, 1.0 / (10 * max(n, 1))), 1.0)
    p = float(sps.binom.sf(observed - 1, n, rate)) if observed else 1.0
    return p, observed / n - rate


def _two_sample_excess(
    observed: int, n: int, calibration: np.ndarray, partners: np.ndarray, rows: np.ndarray
) -> float:
    """One-sided p-value that ``observed`` of ``n`` test rows exceed the near rate of the
    calibration rows (``calibration`` flags them, ``partners`` are their neighbours): a
    two-proportion z-test, since the calibrated rate is itself an estimate, whose calibration
    variance is widened by the design effect of mutual pairs (both rows of a close pair are
    flagged, so they count as one observation)."""
    k, m = int(calibration.sum()), len(calibration)
    pairs = np.sort(np.stack([rows[calibration], partners[calibration]], axis=1), axis=1)
    deff = k / max(len(np.unique(pairs, axis=0)), 1) if k else 1.0
    pooled = (observed + k) / (n + m)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n + deff / m))
    return float(sps.norm.sf((observed / n - k / m) / se)) if se > 0 else 1.0


def _within_rate(hashes: np.ndarray) -> float:
    """Share of rows whose value repeats elsewhere in the same table."""
    return float(pd.Series(hashes).duplicated(keep=False).mean())


def _resplit_null(
    h_train: np.ndarray, h_test: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """Mean and standard deviation of (share of test rows found in train) minus (share of train
    rows repeated in train) over random re-splits of the pooled rows, sizes kept.

    Repeated values come in groups that move together, so the spread of this difference is
    wider than a binomial count assumes; the re-splits measure it on the data itself.
    """
    codes = pd.factorize(np.concatenate([h_train, h_test]))[0]
    n_te, n_codes = len(h_test), int(codes.max()) + 1
    diffs = np.empty(RESPLITS)
    for k in range(RESPLITS):
        perm = rng.permutation(codes)
        te, tr = perm[:n_te], perm[n_te:]
        count = np.bincount(tr, minlength=n_codes)
        diffs[k] = (count[te] > 0).mean() - (count[tr] > 1).mean()
    return float(diffs.mean()), float(diffs.std(ddof=1))


@check("leakage.train_test_duplicates", mode=MODE, requires=("test",), order=20)
def find_train_test_duplicates(ctx: AuditContext) -> Iterator[Finding]:
    """Test rows whose features repeat a train row exactly."""
    cols = row_columns(ctx)
    if not cols:
        return
    h_train = hash_rows(ctx.train[cols])
    h_test = hash_rows(ctx.test[cols])  # type: ignore[index]
    in_train = np.isin(h_test, h_train)
    n_dup, n_test = int(in_train.sum()), len(h_test)
    if n_dup == 0:
        return
    share = n_dup / n_test
    expected = _within_rate(h_train)
    p_binom, excess = _excess(n_dup, n_test, expected)
    # an honest split must also be unlikely under random re-splits of the same rows; the
    # larger p-value of the two decides (groups of repeated rows widen the re-split spread)
    null_mean, null_sd = _resplit_null(h_train, h_test, ctx.rng(13))
    z = (share - expected - null_mean) / null_sd if null_sd > 0 else np.inf
    p = max(p_binom, float(sps.norm.sf(z)))
    first = pd.Series(np.arange(len(h_train)), index=h_train)
    first = first[~first.index.duplicated()]
    partner = first.reindex(h_test[in_train]).to_numpy()
    test_rows = ctx.test.index[in_train].tolist()  # type: ignore[union-attr]
    train_rows = sorted(set(ctx.train.index[np.isin(h_train, h_test[in_train])].tolist()))
    pairs = [[int(ctx.train.index[a]), int(b)] for a, b in zip(partner[:10], test_rows[:10])]
    agree = None
    if ctx.target:
        y_tr = ctx.train[ctx.target].to_numpy()[partner]
        y_te = ctx.test[ctx.target].to_numpy()[in_train]  # type: ignore[index]
        agree = float(np.mean(y_tr == y_te))
    leak = p < ALPHA and excess >= MIN_EXCESS_SHARE
    severity = ("critical" if share >= CRITICAL_SHARE else "warning") if leak else "info"
    yield Finding(
        check="leakage.train_test_duplicates",
        mode=MODE,
        severity=severity,
        title=f"{n_dup:,} test row(s) ({share:.1%}) repeat a train row exactly",
        detail=(
            f"{n_dup:,} of {n_test:,} test rows have the same feature values as a train row; "
            f"an honest split of this data would give about {expected:.2%} (the share of train rows "
            f"repeated inside train), binomial p = {p_binom:.2g}; over {RESPLITS} random re-splits "
            f"of the pooled rows the test share exceeds the train share by {null_mean:+.2%} "
            f"(sd {null_sd:.2%}), here by {share - expected:+.2%}, p = {p:.2g}."
            + (
                f" Their labels agree with the train copy in {agree:.1%} of pairs."
                if agree is not None
                else ""
            )
            + (
                " The model is tested partly on rows it has seen."
                if leak
                else " This is what chance gives."
            )
        ),
        columns=cols,
        rows={"train": train_rows, "test": test_rows},
        evidence={
            "duplicates": n_dup,
            "share": share,
            "expected_share": expected,
            "p_value": p,
            "binomial_p_value": p_binom,
            "resplit_difference_mean": null_mean,
            "resplit_difference_sd": null_sd,
            "label_agreement": agree,
            "pairs_train_test": pairs,
        },
        action=(
            "Deduplicate before splitting, or split by group so that copies stay on one side; "
            "re-evaluate on test rows that are not in train."
            if leak
            else "Nothing to do; repeated values are expected at this rate."
        ),
    )


@check("leakage.near_duplicates", mode=MODE, requires=("test",), order=25)
def find_near_duplicates(ctx: AuditContext) -> Iterator[Finding]:
    """Test rows closer to a train row than rows of train are to each other."""
    numeric, categorical = near_columns(ctx)
    if not numeric:
        return  # without numeric columns a near duplicate is an exact one
    train, test = ctx.train, ctx.test
    assert test is not None
    cols = numeric + categorical
    h_train, h_test = hash_rows(train[cols]), hash_rows(test[cols])
    # exact copies are reported by the exact check; here only distinct-but-close rows count
    fresh_test = ~np.isin(h_test, h_train)
    uniq_train = ~pd.Series(h_train).duplicated().to_numpy()
    tr = train[uniq_train]
    te = test[fresh_test]
    if len(tr) < 20 or len(te) == 0:
        return
    ctx.progress("near-duplicate search")
    a, b = encode_rows(tr, [te], numeric, categorical)
    # the threshold is a quantile: a sample of train rows estimates it as well as all rows
    sample = np.arange(len(a))
    if len(a) > CALIBRATION_ROWS:
        sample = np.sort(ctx.rng(5).choice(len(a), CALIBRATION_ROWS, replace=False))
    within = nearest(a, a[sample], exclude_self=True, query_rows=sample)
    tau = near_threshold(within.distance)
    if tau <= 0:
        return
    exact_near = (within.distance <= tau) & (within.distance > 0)
    expected = float(np.mean(exact_near))
    calibration, partners, cal_dist = exact_near, within.index, within.distance
    search: dict[str, object] = {"method": "exact"}
    if float(len(a)) * len(b) <= EXACT_PAIRS:
        cross = nearest(a, b)
    else:
        index = ClusteredNeighbours(random_state=ctx.random_state).fit(a)
        # the same search on the calibration rows gives its recall at the threshold and the
        # rate of near pairs it finds on an honest split, so observed and expected match
        approx = index.query(a[sample], exclude=sample)
        approx_near = (approx.distance <= tau) & (approx.distance > 0)
        expected = float(np.mean(approx_near))
        calibration, partners, cal_dist = approx_near, approx.index, approx.distance
        search = {
            "method": "clustered",
            "cells": len(index.centers_),
            "probes": index.probes_,
            "recall_at_threshold": float(approx_near[exact_near].mean())
            if exact_near.any()
            else None,
            "recall_pairs": int(exact_near.sum()),
        }
        cross = index.query(b)
    near = (cross.distance <= tau) & (cross.distance > 0)
    n_near, n = int(near.sum()), len(te)
    if n_near == 0:
        return
    excess = n_near / n - expected
    # three thresholds, each tested at ALPHA / 3 (Bonferroni): the 1% one sees many near copies,
    # the 0.1% one a few copies much closer than natural neighbours, the 5% one many copies
    # moved further than the closest natural pairs
    tight = near_threshold(within.distance, TIGHT_QUANTILE)
    cal_tight = (cal_dist <= tight) & (cal_dist > 0)
    near_tight = (cross.distance <= tight) & (cross.distance > 0)
    n_tight = int(near_tight.sum())
    p_loose = _two_sample_excess(n_near, n, calibration, partners, sample)
    p_tight = _two_sample_excess(n_tight, n, cal_tight, partners, sample) if n_tight else 1.0
    excess_tight = n_tight / n - float(np.mean(cal_tight))
    wide = near_threshold(within.distance, WIDE_QUANTILE)
    cal_wide = (cal_dist <= wide) & (cal_dist > 0)
    n_wide = int(((cross.distance <= wide) & (cross.distance > 0)).sum())
    p_wide = _two_sample_excess(n_wide, n, cal_wide, partners, sample)
    excess_wide = n_wide / n - float(np.mean(cal_wide))
    p = min(1.0, THRESHOLDS * min(p_loose, p_tight, p_wide))
    share = n_near / n
    leak = any(
        THRESHOLDS * q < ALPHA and ex >= MIN_EXCESS_SHARE
        for q, ex in ((p_loose, excess), (p_tight, excess_tight), (p_wide, excess_wide))
    )
    test_rows = te.index[near].tolist()
    partner = tr.index[cross.index[near]]
    order = np.argsort(cross.distance[near])[:10]
    pairs = [
        {
            "train": int(partner[i]),
            "test": int(test_rows[i]),
            "distance": float(cross.distance[near][i]),
        }
        for i in order
    ]
    severity = ("critical" if share >= CRITICAL_SHARE else "warning") if leak else "info"
    yield Finding(
        check="leakage.near_duplicates",
        mode=MODE,
        severity=severity,
        title=f"{n_near:,} test row(s) ({share:.1%}) are near-copies of train rows",
        detail=(
            f"{n_near:,} of {n:,} test rows (exact copies excluded) lie within {tau:.3g} of a train "
            f"row on the robust scale, a distance that only {expected:.2%} of train rows reach "
            f"to their own nearest neighbour (threshold = the {NEAR_QUANTILE:.0%} quantile of "
            f"neighbour distances in train); two-proportion p = {p_loose:.2g}. Within the "
            f"tighter {tight:.3g} (the {TIGHT_QUANTILE:.1%} quantile): {n_tight:,} test rows "
            f"({n_tight / n:.2%}) against {np.mean(cal_tight):.2%} of train rows, p = {p_tight:.2g}"
            f". Within the wider {wide:.3g} (the {WIDE_QUANTILE:.0%} quantile): {n_wide:,} "
            f"({n_wide / n:.2%}) against {np.mean(cal_wide):.2%}, p = {p_wide:.2g}; combined "
            f"p = {p:.2g} (Bonferroni over the three thresholds)."
            + (
                f" Candidates came from the {search['probes']} nearest of {search['cells']} "
                f"k-means cells of train; that search found {search['recall_at_threshold']:.1%} "
                f"of the {search['recall_pairs']} near pairs an exact search finds in train."
                if search["method"] == "clustered" and search["recall_at_threshold"] is not None
                else ""
            )
        ),
        columns=cols,
        rows={"train": sorted(set(int(i) for i in partner)), "test": test_rows},
        evidence={
            "near_duplicates": n_near,
            "share": share,
            "expected_share": expected,
            "threshold": tau,
            "median_neighbour_distance": float(np.median(within.distance[within.distance > 0])),
            "p_value": p,
            "tight_threshold": tight,
            "tight_near_duplicates": n_tight,
            "tight_expected_share": float(np.mean(cal_tight)),
            "tight_p_value": p_tight,
            "loose_p_value": p_loose,
            "wide_threshold": wide,
            "wide_near_duplicates": n_wide,
            "wide_expected_share": float(np.mean(cal_wide)),
            "wide_p_value": p_wide,
            "search": search,
            "closest_pairs": pairs,
        },
        action=(
            "Look at the closest pairs: rounded, re-sampled or augmented copies of one record "
            "should be split together (--group) or removed from test."
            if leak
            else "Nothing to do; this many close pairs are expected."
        ),
    )


def cv_inflation(
    ctx: AuditContext, groups: np.ndarray, max_rows: int = 10_000
) -> dict[str, float] | None:
    """Score of 5-fold CV minus 5-fold CV that keeps duplicate groups together (baseline
    model), paired per row, with a normal 95% interval; None when there are fewer distinct
    inputs than folds (a table of a few repeated rows: nothing to cross-validate)."""
    from sklearn.model_selection import GroupKFold, KFold, cross_val_predict

    from tripwire.models import make_baseline

    assert ctx.target is not None and ctx.task is not None
    df = ctx.train
    take = np.arange(len(df))
    if len(df) > max_rows:
        take = np.sort(ctx.rng(11).choice(len(df), max_rows, replace=False))
    X = df[ctx.features].iloc[take]
    g = groups[take]
    if len(np.unique(g)) < 5:
        return None
    if ctx.is_classification:
        y = df[ctx.target].astype(str).to_numpy()[take]
    else:
        y = df[ctx.target].to_numpy(dtype=float)[take]
    kinds = {c: ctx.kinds[c] for c in ctx.features}
    per_row = []
    for cv in (KFold(5, shuffle=True, random_state=ctx.random_state), GroupKFold(5)):
        model = make_baseline(ctx.task, kinds, ctx.random_state, fast=True)
        pred = cross_val_predict(
            model, X, y, cv=cv, groups=g if isinstance(cv, GroupKFold) else None
        )
        per_row.append((pred == y).astype(float) if ctx.is_classification else -np.abs(pred - y))
    d = per_row[0] - per_row[1]
    scale = 1.0 if ctx.is_classification else float(np.mean(np.abs(y - np.median(y)))) or 1.0
    mean, se = float(d.mean()) / scale, float(d.std(ddof=1) / np.sqrt(len(d))) / scale
    return {
        "random_cv": float(per_row[0].mean()),
        "grouped_cv": float(per_row[1].mean()),
        "inflation": mean,
        "ci_low": mean - 1.96 * se,
        "ci_high": mean + 1.96 * se,
        "rows": float(len(d)),
    }


@check("leakage.train_duplicates", mode=MODE, order=60)
def find_train_duplicates(ctx: AuditContext) -> Iterator[Finding]:
    """Duplicated feature rows inside train, and how much they inflate cross-validation."""
    cols = row_columns(ctx)
    if not cols:
        return
    h = pd.Series(hash_rows(ctx.train[cols]))
    in_group = h.duplicated(keep=False).to_numpy()
    n_rows = int(in_group.sum())
    share = n_rows / len(h)
    if share < TRAIN_DUP_WARN_SHARE:
        return
    groups = int(h[in_group].nunique())
    cv = None
    if ctx.target and ctx.task and len(h) >= 100:
        ctx.progress("cross-validation with and without duplicate groups")
        cv = cv_inflation(ctx, pd.factorize(h)[0])
    inflated = cv is not None and cv["ci_low"] > 0 and cv["inflation"] >= MIN_INFLATION
    metric = "accuracy" if ctx.is_classification else "MAE (relative to the target's spread)"
    detail = (
        f"{n_rows:,} train rows ({share:.1%}) fall in {groups:,} groups of identical features. "
        "In random K-fold cross-validation most copies are validated against a twin seen in "
        "training."
    )
    if cv is not None:
        detail += (
            f" Measured with the baseline model: random 5-fold {metric} "
            f"{cv['random_cv']:.4g} vs {cv['grouped_cv']:.4g} when copies stay in one fold; "
            f"inflation {cv['inflation']:.3g} (95% interval {cv['ci_low']:.3g} to {cv['ci_high']:.3g})."
        )
    yield Finding(
        check="leakage.train_duplicates",
        mode=MODE,
        severity="warning" if inflated else "info",
        title=(
            f"Duplicates in train ({share:.1%} of rows) inflate CV {metric.split(' ')[0]} by {cv['inflation']:.3g}"
            if inflated and cv is not None
            else f"{share:.1%} of train rows have an exact copy in train"
        ),
        detail=detail,
        columns=cols,
        rows={"train": ctx.train.index[in_group].tolist()},
        evidence={
            "rows_with_copy": n_rows,
            "share": share,
            "groups": groups,
            "cross_validation": cv,
        },
        action=(
            "Deduplicate, or cross-validate with GroupKFold on the duplicate groups."
            if inflated
            else "No measurable effect on cross-validation; deduplicate if copies are not real repeats."
        ),
    )
