"""Concept drift: does the target follow another law given the inputs in current?

Column tests see the inputs move; they cannot see the same inputs come to mean something
else (a fraud pattern that stops being fraud, a relabelled category, a price rule that
changed). When current has labels, ``tripwire drift --target`` compares the two label laws:
fold models of the baseline, fit on the reference, score held-out reference rows and current
rows alike, so under no change the two sides are exchangeable.

- Classification: a likelihood-ratio test that one logistic recalibration of the scores fits
  both sides (:func:`tripwire.stats.label_law.compare_sides`); the effect is the total
  variation between the two fitted laws, averaged over rows (bar: 0.02).
- Regression: a two-sample test of the residuals (target minus prediction) of both sides, on
  the KS distance (bar: the KS bar of the column tests).

The test joins the dataset-level Benjamini-Hochberg family, so the drift decision keeps its
false-alarm rate. In an audit, the same comparison between train and test is made by the
label checks (``labels.issues``, ``labels.outliers``), which read a difference as label noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from tripwire import charts
from tripwire.checks import check
from tripwire.checks.cross_fit import MIN_COMPARE_ROWS, scored_sides
from tripwire.checks.drift import columns, results
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.column_drift import ColumnDrift
from tripwire.stats.label_law import compare_sides

KIND = "concept"
#: Confidence bins of the accuracy chart.
BINS = 10


def concept_results(ctx: AuditContext) -> list[ColumnDrift]:
    """The label-law comparison of reference and current, or nothing when it cannot be made
    (no target, current unlabelled or under MIN_COMPARE_ROWS labelled rows, an audit)."""

    def compute() -> list[ColumnDrift]:
        if ctx.sides[0] != "reference" or not ctx.target or not ctx.features:
            return []
        scored = scored_sides(ctx, "label law of reference and current", with_model=True)
        if scored is None:
            return []
        y_ref, p_ref, y_cur, p_cur = scored
        if ctx.is_classification:
            return [_classification(ctx, y_ref, p_ref, y_cur, p_cur)]
        return [_regression(ctx, y_ref, p_ref, y_cur, p_cur)]

    found: list[ColumnDrift] = ctx.cached("drift:concept", compute)
    return found


def _accuracy_by_confidence(
    y_ref: np.ndarray, p_ref: np.ndarray, y_cur: np.ndarray, p_cur: np.ndarray
) -> dict[str, Any]:
    """Share of rows whose label is the fold model's top class, by bins of its confidence
    (bin edges at deciles of both sides' confidence)."""
    conf = np.r_[p_ref.max(axis=1), p_cur.max(axis=1)]
    edges = np.unique(np.quantile(conf, np.linspace(0, 1, BINS + 1)))
    out: dict[str, Any] = {"confidence": [], "reference": [], "current": []}
    for name, y, p in (("reference", y_ref, p_ref), ("current", y_cur, p_cur)):
        right = p.argmax(axis=1) == y
        which = np.clip(np.searchsorted(edges, p.max(axis=1), side="right") - 1, 0, None)
        which = np.minimum(which, len(edges) - 2)
        out[name] = [
            float(right[which == b].mean()) if (which == b).any() else None
            for b in range(len(edges) - 1)
        ]
    out["confidence"] = [float((a + b) / 2) for a, b in zip(edges[:-1], edges[1:])]
    return out


def _classification(
    ctx: AuditContext, y_ref: np.ndarray, p_ref: np.ndarray, y_cur: np.ndarray, p_cur: np.ndarray
) -> ColumnDrift:
    known = y_cur >= 0  # a class never seen in the reference is the column tests' to report
    y_cur, p_cur = y_cur[known], p_cur[known]
    assert ctx.target is not None
    if known.sum() < MIN_COMPARE_ROWS:
        from tripwire.stats.column_drift import untested

        return untested(
            ctx.target,
            KIND,
            len(y_ref),
            int(known.sum()),
            f"fewer than {MIN_COMPARE_ROWS} current rows of a reference class",
        )
    c = compare_sides(y_ref, p_ref, y_cur, p_cur, alpha=float(ctx.option("alpha", 0.05)))
    extra = {
        "df": c["df"],
        "accuracy_ref": float(np.mean(p_ref.argmax(axis=1) == y_ref)),
        "accuracy_cur": float(np.mean(p_cur.argmax(axis=1) == y_cur)),
        "noise_ref": c["noise_train"],
        "noise_cur": c["noise_test"],
        "unseen_class_rows": int((~known).sum()),
        "by_confidence": _accuracy_by_confidence(y_ref, p_ref, y_cur, p_cur),
    }
    nan = float("nan")
    return ColumnDrift(
        ctx.target,
        KIND,
        "label_law_lr",
        c["statistic"],
        c["p_value"],
        "label_law_distance",
        c["distance"],
        nan,
        nan,
        len(y_ref),
        len(y_cur),
        extra,
    )


def _regression(
    ctx: AuditContext, y_ref: np.ndarray, p_ref: np.ndarray, y_cur: np.ndarray, p_cur: np.ndarray
) -> ColumnDrift:
    from tripwire.stats.univariate import test_column

    assert ctx.target is not None
    r_ref, r_cur = y_ref - p_ref, y_cur - p_cur
    r = test_column(pd.Series(r_ref), pd.Series(r_cur), "numeric", random_state=ctx.random_state)
    extra = {
        **r.extra,
        "mae_ref": float(np.mean(np.abs(r_ref))),
        "mae_cur": float(np.mean(np.abs(r_cur))),
        "bias_ref": float(np.mean(r_ref)),
        "bias_cur": float(np.mean(r_cur)),
    }
    return ColumnDrift(
        ctx.target,
        KIND,
        f"residual_{r.method}",
        r.statistic,
        r.p_value,
        r.effect_name,
        r.effect,
        r.effect_low,
        r.effect_high,
        r.n_ref,
        r.n_cur,
        extra,
    )


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-300 else "<1e-300"


def _detail(r: ColumnDrift, q: float, n_tests: int, bar: float) -> str:
    e = r.extra
    if r.effect_name == "label_law_distance":
        what = (
            f"Fold models fit on the reference are right on {e['accuracy_ref']:.1%} of held-out "
            f"reference rows and {e['accuracy_cur']:.1%} of current rows. A likelihood-ratio "
            f"test that one recalibration of their scores fits the labels of both sides gives "
            f"{r.statistic:.1f} on {int(e['df'])} degrees of freedom"
        )
        effect = f"the two fitted label laws are {r.effect:.1%} apart (total variation)"
    else:
        what = (
            f"Fold models fit on the reference miss by {e['mae_ref']:.4g} on average on held-out "
            f"reference rows and by {e['mae_cur']:.4g} on current rows (mean residual "
            f"{e['bias_ref']:+.4g} and {e['bias_cur']:+.4g}). A two-sample test of the "
            f"residuals ({r.method.removeprefix('residual_')}) gives {r.statistic:.4g}"
        )
        effect = f"the residual laws are {r.effect:.3f} apart ({r.effect_name.replace('_', ' ')})"
    return (
        f"{what}, p={_p(r.p_value)}, q={_p(q)} after Benjamini-Hochberg over {n_tests} drift "
        f"tests; {effect}, against a negligible bar of {bar:.3f}. Compared: {r.n_ref:,} "
        f"reference and {r.n_cur:,} current labelled rows."
    )


def _chart(r: ColumnDrift, sides: tuple[str, str]) -> list[dict[str, Any]]:
    e = r.extra
    a, b = sides
    if "by_confidence" in e:
        c = e["by_confidence"]
        return [
            charts.line(
                [round(x, 3) for x in c["confidence"]],
                {f"{a} (held out)": c["reference"], b: c["current"]},
                title=f"{r.column}: how often the label is the reference model's top class",
                x_label="model confidence",
                y_label="share of rows",
            )
        ]
    if "histogram" in e:
        h = e["histogram"]
        return [
            charts.histogram(
                h["edges"],
                {f"{a} (held out)": h["ref"], b: h["cur"]},
                title=f"{r.column}: residuals of models fit on the {a}",
                x_label="target minus prediction",
            )
        ]
    return []


@check(
    "drift.concept",
    mode="drift",
    requires=("test", "target", "features"),
    commands=("drift",),
    order=62,
)
def find_concept_drift(ctx: AuditContext) -> Iterator[Finding]:
    """Concept drift: labels in current follow another law given the inputs (labelled current)."""
    from tripwire.stats.decision import bar_for

    dec = results.decision(ctx)
    a, b = ctx.sides
    for r, q, status in zip(dec.results, dec.q_values, dec.statuses):
        if r.kind != KIND or status == "untested":
            continue
        bar = bar_for(r.effect_name, dec.min_effect)
        drifted = status == "drift"
        if drifted:
            title = (
                f"The relation between the inputs and {r.column!r} changed: the same inputs "
                f"carry other labels in {b} (q={_p(q)})"
            )
        elif status == "negligible":
            title = f"{r.column!r} given the inputs changed, but negligibly (q={_p(q)})"
        else:
            title = f"{r.column!r} follows the {a}'s law given the inputs (q={_p(q)})"
        yield Finding(
            check="drift.concept",
            mode="drift",
            severity="warning" if drifted else "info",
            title=title,
            detail=_detail(r, q, dec.n_tests, bar)
            + (
                " Inputs moving into regions the reference barely covers can look the same "
                "(the model extrapolates): read this with the column and domain-classifier "
                "findings."
                if drifted
                else ""
            ),
            columns=[r.column],
            evidence={
                **columns.evidence(r, q, ctx.sides),
                "bar": bar,
                "charts": _chart(r, ctx.sides),
            },
            action=(
                f"Retrain on recent labelled {b} data (the old labels teach the old relation); "
                "if the labelling process or its definitions changed, fix or document that "
                "first, and check the rows the model now gets wrong most often."
                if drifted
                else ""
            ),
        )
