"""Multivariate shift: a domain classifier over all features, MMD for embedding blocks.

Column tests miss shifts in how features relate (the joint distribution) and are weak on
embeddings spread over many dimensions; these two tests cover both, in the same
Benjamini-Hochberg family as the column tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tripwire import charts
from tripwire.checks import check
from tripwire.checks.drift import results
from tripwire.context import AuditContext
from tripwire.findings import Finding


def _status(ctx: AuditContext, column: str) -> tuple[str, float]:
    dec = results.decision(ctx)
    for r, q, s in zip(dec.results, dec.q_values, dec.statuses):
        if r.column == column:
            return s, q
    return "untested", float("nan")


@check(
    "drift.multivariate", mode="drift", requires=("test",), commands=("audit", "drift"), order=60
)
def find_multivariate_drift(ctx: AuditContext) -> Iterator[Finding]:
    """Domain classifier: can a model tell the two sides apart, and by which features?"""
    res = results.c2st(ctx)
    if res is None:
        return
    r = res["result"]
    status, q = _status(ctx, results.MULTIVARIATE)
    a, b = ctx.sides
    drivers = r.drivers[:10]
    drivers_text = (
        " Features that drive it (held-out AUC drop when permuted): "
        + ", ".join(f"{d['feature']} {d['auc_drop']:.3f}" for d in drivers[:5])
        + "."
        if drivers
        else ""
    )
    moved = status == "drift"
    detail = (
        f"A gradient-boosting classifier trained on {r.n_train:,} rows to tell {b} from {a} "
        f"reaches AUC {r.auc:.3f} (95% interval {r.auc_low:.3f}-{r.auc_high:.3f}) on "
        f"{r.n_test:,} held-out rows; 0.5 means indistinguishable. The Mann-Whitney p-value on "
        f"held-out scores is exact under no shift: p={r.p_value:.2g}, q={q:.2g} in the "
        f"Benjamini-Hochberg family of all drift tests.{drivers_text}"
    )
    # current rows the classifier finds most unlike the reference (held-out only)
    order = np.argsort(-r.scores_cur, kind="stable")[:20]
    rows_cur = res["cur_positions"][r.holdout_cur]
    top = [(float(r.scores_cur[i]), int(rows_cur[i])) for i in order]
    yield Finding(
        check="drift.multivariate",
        mode="drift",
        severity="warning" if moved else "info",
        title=(
            f"A classifier tells {b} from {a} (AUC {r.auc:.3f} [{r.auc_low:.3f}, {r.auc_high:.3f}])"
            if moved
            else f"A classifier cannot tell {b} from {a} materially (AUC {r.auc:.3f})"
        ),
        detail=detail,
        columns=[d["feature"] for d in drivers if d["auc_drop"] > 0][:10],
        evidence={
            "auc": r.auc,
            "auc_interval": [r.auc_low, r.auc_high],
            "p_value": r.p_value,
            "q_value": q,
            "rows_used": {a: r.n_ref, b: r.n_cur},
            "fit_rows": r.n_train,
            "holdout_rows": r.n_test,
            "drivers": drivers,
            "most_unlike_reference": [{"row": p, "score": s} for s, p in top],
            "charts": [
                charts.bar(
                    [d["feature"] for d in drivers],
                    {"AUC drop when permuted": [d["auc_drop"] for d in drivers]},
                    title="Features that separate the two sides",
                    horizontal=True,
                )
            ]
            if drivers
            else [],
        },
        action=(
            "The joint distribution moved. Look at the driving features first (and at "
            "combinations of them if no single column moved); rows most unlike the reference "
            "are listed in the evidence."
            if moved
            else "Nothing to do."
        ),
    )


@check("drift.embedding", mode="drift", requires=("test",), commands=("audit", "drift"), order=61)
def find_embedding_drift(ctx: AuditContext) -> Iterator[Finding]:
    """MMD two-sample test on embedding-like blocks of numeric columns."""
    for r in results.mmd_results(ctx):
        status, q = _status(ctx, r.column)
        moved = status == "drift"
        yield Finding(
            check="drift.embedding",
            mode="drift",
            severity="warning" if moved else "info",
            title=f"Embedding block {r.column} "
            + ("shifted" if moved else "did not shift")
            + f" (MMD² {r.effect:.4f}, p={r.p_value:.2g})",
            detail=(
                f"Gaussian-kernel MMD² between {r.n_ref:,} {ctx.sides[0]} and {r.n_cur:,} "
                f"{ctx.sides[1]} rows is {r.effect:.4f} (95% interval {r.effect_low:.4f} to "
                f"{r.effect_high:.4f}; the permutation null's 95th percentile is "
                f"{r.extra['null_q95']:.4f}), permutation p={r.p_value:.2g}, q={q:.2g}."
            ),
            columns=list(r.extra["columns"]),
            evidence={
                "mmd2": r.effect,
                "interval": [r.effect_low, r.effect_high],
                "p_value": r.p_value,
                "q_value": q,
                "bandwidth": r.extra["bandwidth"],
                "null_q95": r.extra["null_q95"],
            },
            action=(
                "The embedded inputs (text, images, users) changed as a whole; inspect samples "
                "from both sides and re-embed or retrain."
                if moved
                else "Nothing to do."
            ),
        )
