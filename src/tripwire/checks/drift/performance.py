"""Performance under shift: estimated without labels (CBPE) and realized when labels are there."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tripwire.checks import check
from tripwire.checks.drift.model import outputs
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.two_sample import two_proportions

#: A drop in the metric whose interval excludes 0 and that is at
#: least this large warns; a lower bound at least DROP_CRITICAL is critical.
DROP_WARN = 0.02
DROP_CRITICAL = 0.05


def _severity(drop: float, drop_low: float) -> str:
    if drop_low >= DROP_CRITICAL:
        return "critical"
    if drop_low > 0 and drop >= DROP_WARN:
        return "warning"
    return "info"


@check(
    "drift.performance",
    mode="drift",
    requires=("test", "predictions", "target"),
    commands=("audit", "drift"),
    order=72,
)
def find_performance_change(ctx: AuditContext) -> Iterator[Finding]:
    """Performance estimated without labels (CBPE) and realized when labels are present."""
    from tripwire.stats.bootstrap import mean_interval
    from tripwire.stats.performance import estimate_accuracy, wilson

    out = outputs(ctx)
    if out is None or out.y_ref is None:
        return
    a, b = ctx.sides
    if out.regression:
        if out.y_cur is None or not len(out.labelled_cur):
            return
        err_ref = np.abs(out.y_ref.astype(float) - out.pred_ref.astype(float))
        err_cur = np.abs(
            out.y_cur[out.labelled_cur].astype(float) - out.pred_cur[out.labelled_cur].astype(float)
        )
        ir = mean_interval(err_ref, random_state=ctx.random_state)
        ic = mean_interval(err_cur, random_state=ctx.random_state + 1)
        diff = ic.estimate - ir.estimate
        half = np.hypot(ir.high - ir.low, ic.high - ic.low) / 2
        rel = diff / ir.estimate if ir.estimate > 0 else 0.0
        worse = diff - half > 0 and rel >= 0.05
        yield Finding(
            check="drift.performance",
            mode="drift",
            severity="warning" if worse else "info",
            title=f"Realized MAE {ir.estimate:.4g} → {ic.estimate:.4g} ({rel:+.1%})",
            detail=(
                f"Mean absolute error on {len(err_ref):,} {a} rows {ir.estimate:.4g} "
                f"[{ir.low:.4g}, {ir.high:.4g}] and on {len(err_cur):,} labelled {b} rows "
                f"{ic.estimate:.4g} [{ic.low:.4g}, {ic.high:.4g}]; change {diff:+.4g} ± {half:.4g}."
            ),
            evidence={"mae_reference": ir.to_dict(), "mae_current": ic.to_dict(), "change": diff},
            action="Retrain on recent labelled data." if worse else "Nothing to do.",
        )
        return
    correct_ref = (out.pred_ref == out.y_ref).astype(float)
    if out.proba_ref is not None and out.proba_cur is not None:
        if len(out.classes) == 2 and out.proba_ref.shape[1] == 2:
            positive = out.classes[1]
            est = estimate_accuracy(
                out.proba_ref[:, 1],
                (out.y_ref == positive).astype(float),
                out.proba_cur[:, 1],
                binary=True,
                random_state=ctx.random_state,
            )
        else:
            est = estimate_accuracy(
                out.proba_ref.max(axis=1),
                correct_ref,
                out.proba_cur.max(axis=1),
                random_state=ctx.random_state,
            )
        drop = est.accuracy_ref - est.accuracy
        # interval of the drop: the estimate's interval shifted by the reference accuracy
        drop_low = est.accuracy_ref - est.high
        realized_txt = ""
        realized_acc = None
        if out.y_cur is not None and len(out.labelled_cur):
            hit = out.pred_cur[out.labelled_cur] == out.y_cur[out.labelled_cur]
            realized_acc = float(hit.mean())
            covered = est.low <= realized_acc <= est.high
            realized_txt = (
                f" Labels are present for {len(hit):,} {b} rows: realized accuracy "
                f"{realized_acc:.1%} ({'inside' if covered else 'outside'} the estimate's interval)."
            )
        yield Finding(
            check="drift.performance",
            mode="drift",
            severity=_severity(drop, drop_low),
            title=f"Estimated accuracy on {b}: {est.accuracy:.1%} [{est.low:.1%}, {est.high:.1%}] vs {est.accuracy_ref:.1%} on {a}",
            detail=(
                f"Confidence-based performance estimation: the model's confidence, calibrated "
                f"on {est.n_ref:,} labelled {a} rows (mean confidence off by "
                f"{est.calibration_error_ref:.1%} before calibration), predicts accuracy "
                f"{est.accuracy:.1%} on {est.n_cur:,} {b} rows without their labels: a change of "
                f"{-drop:+.1%} points. Valid under covariate shift (P(y | x) unchanged); under "
                f"label shift see the label-shift estimate.{realized_txt}"
            ),
            evidence={
                "method": "CBPE (logistic calibration of confidence)",
                "accuracy_reference": est.accuracy_ref,
                "accuracy_estimated": est.accuracy,
                "interval": [est.low, est.high],
                "accuracy_realized": realized_acc,
                "calibration_error_reference": est.calibration_error_ref,
                "source": out.source,
            },
            action=(
                "Expected performance dropped: collect labels for recent data to confirm, and "
                "plan a retrain on data like the current."
                if drop_low > 0 and drop >= DROP_WARN
                else "Nothing to do; confirm with labels when they arrive."
            ),
        )
    if out.y_cur is not None and len(out.labelled_cur):
        hit = out.pred_cur[out.labelled_cur] == out.y_cur[out.labelled_cur]
        k_ref, n_ref = int(correct_ref.sum()), len(correct_ref)
        k_cur, n_cur = int(hit.sum()), len(hit)
        diff, lo, hi, p = two_proportions(k_ref, n_ref, k_cur, n_cur)
        wl, wh = wilson(k_cur, n_cur)
        yield Finding(
            check="drift.performance",
            mode="drift",
            severity=_severity(-diff, -hi),
            title=f"Realized accuracy {k_ref / n_ref:.1%} on {a} → {k_cur / n_cur:.1%} on {b} ({100 * diff:+.1f} points)",
            detail=(
                f"On {n_cur:,} labelled {b} rows accuracy is {k_cur / n_cur:.1%} [{wl:.1%}, {wh:.1%}] "
                f"against {k_ref / n_ref:.1%} on {n_ref:,} {a} rows ({'out-of-fold' if ctx.sides[0] == 'train' else 'held-out'}); "
                f"change {100 * diff:+.1f} points, 95% interval {100 * lo:+.1f} to {100 * hi:+.1f}, p={p:.2g}."
            ),
            evidence={
                "accuracy_reference": k_ref / n_ref,
                "accuracy_current": k_cur / n_cur,
                "change": diff,
                "change_interval": [lo, hi],
                "p_value": p,
                "labelled_rows": n_cur,
            },
            action=(
                "Performance dropped on the new data: retrain on recent labelled data and gate the "
                "new model against the current one."
                if -hi > 0 and -diff >= DROP_WARN
                else "Nothing to do."
            ),
        )
