"""Coverage: test rows outside the support of the training data, and how the model does there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.robustness.common import evaluation
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

#: Distance to the nearest training row beyond this quantile of train-to-train distances
#: counts as outside the support.
NN_QUANTILE = 0.99
SAMPLE = 20_000


#: Random re-splits of train + test (same sizes) that give the share a clean split has.
NULL_SPLITS = 19
NULL_TEST_ROWS = 2000


def outside_support(
    ctx: AuditContext,
    tr: pd.DataFrame | None = None,
    te: pd.DataFrame | None = None,
    seed: int = 57,
) -> tuple[np.ndarray, dict[str, int], float]:
    """Per test row: outside the training support? Also per-column counts and the distance
    threshold. A row is outside when a numeric value lies beyond the training range, a
    category never occurs in train, or its nearest training row (standardised numeric
    features) is farther than the 99th percentile of train-to-train nearest distances."""
    from sklearn.neighbors import NearestNeighbors

    tr = ctx.train if tr is None else tr
    te = ctx.test if te is None else te
    assert te is not None
    out = np.zeros(len(te), dtype=bool)
    per_col: dict[str, int] = {}
    numeric = ctx.schema.features_of("numeric")
    for c in ctx.features:
        kind = ctx.kinds.get(c)
        if kind == "numeric":
            a = tr[c].to_numpy(dtype=float)
            b = te[c].to_numpy(dtype=float)
            lo, hi = np.nanmin(a), np.nanmax(a)
            bad = np.isfinite(b) & ((b < lo) | (b > hi))
        elif kind in ("categorical", "boolean"):
            seen = set(tr[c].dropna().astype(str))
            vals = te[c]
            bad = vals.notna().to_numpy() & ~vals.astype(str).isin(seen).to_numpy()
        else:
            continue
        if bad.any():
            per_col[c] = int(bad.sum())
        out |= bad
    threshold = float("nan")
    if numeric:
        rng = ctx.rng(seed)
        A = tr[numeric].to_numpy(dtype=float)
        mu, sd = np.nanmean(A, axis=0), np.nanstd(A, axis=0)
        sd[~np.isfinite(sd) | (sd == 0)] = 1.0
        mu[~np.isfinite(mu)] = 0.0
        A = np.nan_to_num((A - mu) / sd)
        Bm = np.nan_to_num((te[numeric].to_numpy(dtype=float) - mu) / sd)
        if len(A) > SAMPLE:
            A = A[rng.choice(len(A), SAMPLE, replace=False)]
        nn = NearestNeighbors(n_neighbors=2).fit(A)
        probe = A[rng.choice(len(A), min(len(A), 2000), replace=False)]
        d_tr = nn.kneighbors(probe, 2)[0][:, 1]  # nearest other training row
        threshold = float(np.quantile(d_tr, NN_QUANTILE))
        d_te = nn.kneighbors(Bm, 1)[0][:, 0]
        far = d_te > threshold
        if far.any():
            per_col["(far from every training row)"] = int(far.sum())
        out |= far
    return out, per_col, threshold


def random_split_shares(ctx: AuditContext) -> np.ndarray:
    """The share of test rows outside the training support when train and test are pooled
    and split again at random with the same sizes: what a clean split of these very data
    gives (the 99th-percentile distance rule alone marks about 1 % of such rows, and a
    long-tailed column puts a few test values beyond the training range)."""
    assert ctx.test is not None
    cols = ctx.features
    pool = pd.concat([ctx.train[cols], ctx.test[cols]], ignore_index=True)
    n_tr = len(ctx.train)
    rng = ctx.rng(58)
    shares = []
    for r in range(NULL_SPLITS):
        perm = rng.permutation(len(pool))
        tr = pool.iloc[perm[:n_tr]]
        te = pool.iloc[perm[n_tr:]]
        if len(te) > NULL_TEST_ROWS:
            te = te.iloc[:NULL_TEST_ROWS]
        out, _, _ = outside_support(ctx, tr, te, seed=100 + r)
        shares.append(float(out.mean()) if len(out) else 0.0)
    return np.asarray(shares)


@check("robustness.coverage", mode="robustness", requires=("test", "features"), order=82)
def find_coverage(ctx: AuditContext) -> Iterator[Finding]:
    """Test rows outside the training support, and the model's performance on them."""
    from tripwire.stats.performance import wilson

    out, per_col, threshold = outside_support(ctx)
    n = len(out)
    k = int(out.sum())
    share = k / n if n else 0.0
    assert ctx.test is not None
    positions = ctx.test.index.to_numpy()[out]
    evidence: dict = {
        "outside": k,
        "rows": n,
        "share": share,
        "by_reason": per_col,
        "nn_threshold": threshold,
    }
    perf_txt = ""
    worse = False
    ev = evaluation(ctx)
    if ev is not None and ev.side == "test" and k:
        pos = {p: i for i, p in enumerate(ev.X.index.to_numpy())}
        idx = np.array([pos[p] for p in positions if p in pos], dtype=int)
        inside = np.ones(len(ev.err), dtype=bool)
        inside[idx] = False
        if len(idx) and inside.any():
            e_out, e_in = float(ev.err[idx].mean()), float(ev.err[inside].mean())
            evidence.update({"error_outside": e_out, "error_inside": e_in})
            if ev.binary:
                lo, hi = wilson(int(ev.err[idx].sum()), len(idx))
                lo_in, hi_in = wilson(int(ev.err[inside].sum()), int(inside.sum()))
                evidence.update(
                    {"error_outside_interval": [lo, hi], "error_inside_interval": [lo_in, hi_in]}
                )
                worse = lo > hi_in
                perf_txt = (
                    f" The model's error there is {e_out:.1%} [{lo:.1%}, {hi:.1%}] against "
                    f"{e_in:.1%} [{lo_in:.1%}, {hi_in:.1%}] inside."
                )
            else:
                perf_txt = f" Mean absolute error there {e_out:.4g} against {e_in:.4g} inside."
                worse = e_out > 1.5 * e_in and len(idx) >= 30
    warn = share >= 0.01 and (worse or share >= 0.05)
    beyond = True
    ref_txt = ""
    if warn:
        # a clean random split of the same data is the reference: only a share beyond what
        # every such split gives is a coverage gap of this split (computed only when it
        # could turn a warning into info)
        ctx.progress(f"coverage: {NULL_SPLITS} random re-splits for the reference share")
        null = random_split_shares(ctx)
        p_split = float((1 + np.sum(null >= share)) / (1 + len(null)))
        evidence.update(
            {
                "random_split_share_median": float(np.median(null)),
                "random_split_share_max": float(null.max()),
                "random_splits": len(null),
                "p_value_vs_random_split": p_split,
            }
        )
        beyond = p_split <= 0.05
        warn = beyond
        ref_txt = (
            f" Random re-splits of the same rows with the same sizes leave a median "
            f"{np.median(null):.1%} (at most {null.max():.1%} in {len(null)}) outside"
            + ("; this split is beyond all of them." if beyond else "; this split is not unusual.")
        )
    reasons = ", ".join(f"{c} ({v:,})" for c, v in sorted(per_col.items(), key=lambda kv: -kv[1]))
    yield Finding(
        check="robustness.coverage",
        mode="robustness",
        severity="warning" if warn else "info",
        title=f"{k:,} test rows ({share:.1%}) lie outside the training data's support",
        detail=(
            "Outside means a numeric value beyond the training range, a category never seen in "
            f"training, or a nearest training row farther than the {NN_QUANTILE:.0%} quantile of "
            "train-to-train distances."
            + (f" By reason: {reasons}." if reasons else "")
            + perf_txt
            + ref_txt
        ),
        columns=[c for c in per_col if not c.startswith("(")][:10],
        rows={"test": positions.tolist()},
        evidence=evidence,
        action=(
            "The model extrapolates on these rows: collect training data that covers them, or "
            "route them to a fallback and flag their predictions."
            if warn
            else "Nothing to do: a clean random split of these data leaves as many rows outside."
            if not beyond
            else "Nothing to do."
        ),
    )
