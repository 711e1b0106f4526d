"""Calibration: ECE with its interval and chance level, the reliability diagram, and a
warning only when miscalibration changes decisions.

ECE alone is a poor alarm: it is biased upward on finite samples and a miscalibrated model
can still make the same decisions. The warning therefore asks whether recalibrating changes
the decisions for the better: the probabilities are recalibrated by logistic regression on
their logits (cross-fitted in 5 folds on test, so no row is scored by a map fitted on it), the
decisions (argmax, or the cost threshold with ``--costs``) are taken again, and the per-row
gain in correctness (or cost) gets a bootstrap interval at a Bonferroni share of the family
level. A warning needs the interval above zero and a material gain (1 accuracy point, or
2% of the cost).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tripwire.checks import check
from tripwire.checks.metrics.costs import parse_costs
from tripwire.checks.metrics.inputs import FAMILY_ALPHA, N_TESTS, EvalInputs, eval_inputs
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.bootstrap import mean_interval
from tripwire.stats.calibration import ece_interval, reliability_bins

MIN_ACCURACY_GAIN = 0.01
MIN_COST_GAIN = 0.02


def recalibrate_cross_fitted(
    y: np.ndarray, proba: np.ndarray, classes: list[Any], *, n_splits: int = 5, seed: int = 0
) -> np.ndarray:
    """Probabilities recalibrated by a logistic map of the log-probabilities, cross-fitted."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    logp = np.log(np.clip(proba, 1e-6, 1))
    X = logp[:, 1:2] - logp[:, :1] if len(classes) == 2 else logp
    yi = np.array([classes.index(v) for v in y.tolist()])
    out = proba.copy()
    counts = np.bincount(yi, minlength=len(classes))
    k = int(min(n_splits, counts[counts > 0].min()))
    if k < 2:
        return out
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    for fit, score in StratifiedKFold(k, shuffle=True, random_state=seed).split(X, yi):
        if len(np.unique(yi[fit])) < len(classes):
            continue
        with warnings.catch_warnings():  # a map short of convergence is still a fair recalibration
            warnings.simplefilter("ignore", ConvergenceWarning)
            lr = LogisticRegression(C=1.0, max_iter=500).fit(X[fit], yi[fit])
        out[score] = lr.predict_proba(X[score])
    return out


def decision_gain(ctx: AuditContext, inp: EvalInputs, recal: np.ndarray) -> dict[str, Any]:
    """Per-row gain of deciding with recalibrated probabilities, with an interval."""
    assert inp.proba is not None
    level = 1 - FAMILY_ALPHA / N_TESTS
    costs = ctx.option("costs")
    w = np.ones(len(inp.y)) if inp.weight is None else inp.weight
    if costs and len(inp.classes) == 2 and {"fn", "fp"} & set(parse_costs(costs)):
        from tripwire.checks.metrics.costs import decision_costs
        from tripwire.checks.metrics.inputs import minority_class

        num = {k: v for k, v in parse_costs(costs).items() if k != "positive"}
        pos = parse_costs(costs).get("positive")
        pc = next((c for c in inp.classes if str(c) == pos), None) if pos else minority_class(inp)
        j = inp.classes.index(pc)
        ypos = np.asarray(inp.y == pc, dtype=bool)
        c_fp, c_tn, c_fn, c_tp = (num.get(k, 0.0) for k in ("fp", "tn", "fn", "tp"))
        t = (c_fp - c_tn) / max((c_fp - c_tn) + (c_fn - c_tp), 1e-12)
        before = decision_costs(ypos, inp.proba[:, j], num, np.array([t]))[:, 0]
        after = decision_costs(ypos, recal[:, j], num, np.array([t]))[:, 0]
        gain = (before - after) * w / w.mean()
        base = float(np.average(before, weights=w))
        bar, kind = MIN_COST_GAIN * max(base, 1e-12), "cost per decision"
    else:
        cls = np.asarray(inp.classes, dtype=object)
        before = (cls[inp.proba.argmax(axis=1)] == inp.y).astype(float)
        after = (cls[recal.argmax(axis=1)] == inp.y).astype(float)
        gain = (after - before) * w / w.mean()
        bar, kind = MIN_ACCURACY_GAIN, "accuracy"
    iv = mean_interval(gain, level=level, n_boot=1000, random_state=ctx.random_state)
    changed = float(np.mean(np.abs(after - before) > 0))
    return {
        "kind": kind,
        "gain": iv.to_dict(),
        "bar": bar,
        "rows_changed": changed,
        "material": bool(iv.low > 0 and iv.estimate >= bar),
    }


@check(
    "metrics.calibration",
    mode="metrics",
    requires=("test", "target", "classification", "model"),
    order=62,
)
def check_calibration(ctx: AuditContext) -> Iterator[Finding]:
    """ECE with interval, the reliability diagram, and whether miscalibration changes decisions."""
    inp = eval_inputs(ctx)
    if inp.proba is None:
        return
    ece = ece_interval(
        inp.y,
        inp.proba,
        labels=inp.classes,
        sample_weight=inp.weight,
        n_boot=int(ctx.option("n_boot", 300)),
        random_state=ctx.random_state,
    )
    bins = reliability_bins(inp.y, inp.proba, labels=inp.classes, sample_weight=inp.weight)
    recal = recalibrate_cross_fitted(inp.y, inp.proba, inp.classes, seed=ctx.random_state)
    impact = decision_gain(ctx, inp, recal)
    from tripwire import charts

    what = "positive-class probability" if len(inp.classes) == 2 else "top-label confidence"
    chart = charts.scatter(
        [b.confidence for b in bins],
        [b.frequency for b in bins],
        title=f"Reliability diagram ({what})",
        x_label="predicted",
        y_label="observed",
        labels=[f"n={b.count:.0f}" for b in bins],
        diagonal=True,
    )
    g = impact["gain"]
    ev = {
        "ece": ece.to_dict(),
        "reliability": [b.to_dict() for b in bins],
        "decision_impact": impact,
        "charts": [chart],
    }
    excess = ece.value > ece.null_high
    if impact["material"]:
        yield Finding(
            check="metrics.calibration",
            mode="metrics",
            severity="warning",
            title=(
                f"Miscalibrated probabilities change decisions: recalibrating improves "
                f"{impact['kind']} by {g['estimate']:.3g} [{g['low']:.3g}, {g['high']:.3g}]"
            ),
            detail=(
                f"ECE {ece.value:.3f} [{ece.low:.3f}, {ece.high:.3f}] against {ece.null_high:.3f} "
                "that a calibrated model would reach by chance. Cross-fitted recalibration on "
                f"test changes {impact['rows_changed']:.1%} of the decisions and improves "
                f"{impact['kind']} beyond the material bar ({impact['bar']:.3g})."
            ),
            evidence=ev,
            action=(
                "Calibrate the model (sklearn.calibration.CalibratedClassifierCV, method='sigmoid' "
                "or 'isotonic') on held-out data before thresholding its probabilities."
            ),
        )
        return
    yield Finding(
        check="metrics.calibration",
        mode="metrics",
        severity="info",
        title=(
            f"Calibration: ECE {ece.value:.3f} [{ece.low:.3f}, {ece.high:.3f}]"
            + (" (above chance level" if excess else " (within chance level")
            + f" {ece.null_high:.3f}); decisions would not materially change"
        ),
        detail=(
            f"Recalibrating (cross-fitted on test) changes {impact['rows_changed']:.1%} of the "
            f"decisions; {impact['kind']} gain {g['estimate']:.3g} [{g['low']:.3g}, {g['high']:.3g}], "
            f"below the material bar {impact['bar']:.3g} or not significant."
        ),
        evidence=ev,
        action=(
            "Calibrate before reading the probabilities as risks (CalibratedClassifierCV)."
            if excess
            else "None needed."
        ),
    )
