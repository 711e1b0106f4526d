"""The dataset-level drift decision, and what the tests could have seen (sensitivity)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tripwire import charts
from tripwire.checks import check
from tripwire.checks.drift import results
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.decision import DatasetDecision, bar_for
from tripwire.stats.sensitivity import detectable

POWER = 0.8


def sensitivity(ctx: AuditContext, dec: DatasetDecision) -> list[dict[str, Any]]:
    """Smallest detectable shift of every tested column at the per-test level alpha / m."""
    level = dec.alpha / max(1, dec.n_tests)
    out = []
    for r in dec.results:
        if r.kind in results.NOT_COLUMNS:
            continue
        d = detectable(r, level, power=POWER, bar=bar_for(r.effect_name, dec.min_effect))
        if d is not None:
            out.append({"column": r.column, "test": r.method, **d})
    return out


def _sentence(s: dict[str, Any]) -> str:
    if s.get("mean_shift_sd") is not None:
        return f"{s['column']}: a mean shift of {s['mean_shift_sd']:.2f} SD (KS {s['effect']:.3f})"
    if s["effect_name"] == "ks_distance":
        return f"{s['column']}: a KS distance of {s['effect']:.3f}"
    if s["effect_name"] == "total_variation":
        return f"{s['column']}: a change of {100 * s['effect']:.1f} points in the share of {s['category']!r}"
    if s["effect_name"] == "missing_rate_change":
        return f"{s['column']}: a change of {100 * s['effect']:.1f} points in the missing rate"
    return f"{s['column']}: {s['effect_name']} {s['effect']:.3f}"


@check("drift.dataset", mode="drift", requires=("test",), commands=("audit", "drift"), order=85)
def decide_dataset(ctx: AuditContext) -> Iterator[Finding]:
    """Dataset-level decision over all drift tests, with the smallest shift it would catch."""
    dec = results.decision(ctx)
    a, b = ctx.sides
    sens = sensitivity(ctx, dec)
    shifts = [s["mean_shift_sd"] for s in sens if s.get("mean_shift_sd") is not None]
    drifted = dec.columns("drift")
    negligible = dec.columns("negligible")
    if shifts:
        reach = (
            f"At these sample sizes a mean shift of {np.median(shifts):.2f} SD in a single numeric "
            f"column (from {min(shifts):.2f} to {max(shifts):.2f} SD depending on the column) would "
            f"be flagged with {POWER:.0%} probability."
        )
    elif sens:
        reach = "Smallest detectable changes: " + "; ".join(_sentence(s) for s in sens[:5]) + "."
    else:
        reach = ""
    if dec.drifted:
        tested = {r.column for r in dec.results if r.kind not in results.NOT_COLUMNS}
        cols = sorted(
            {
                r.column
                for r, s in zip(dec.results, dec.statuses)
                if s == "drift" and r.kind not in results.NOT_COLUMNS
            }
        )
        title = (
            f"Drift between {a} and {b}: {len(cols)} of {len(tested)} tested column(s) moved "
            "materially"
            + (" and the joint distribution moved" if results.MULTIVARIATE in drifted else "")
            + (
                f"; {ctx.target!r} follows another law given the inputs"
                if any(
                    r.kind == "concept" and s == "drift" for r, s in zip(dec.results, dec.statuses)
                )
                else ""
            )
        )
        detail = (
            f"Benjamini-Hochberg at alpha={dec.alpha} over {dec.n_tests} tests (false-alarm rate "
            f"at most {dec.alpha:.0%} when nothing changed) flags: {', '.join(drifted[:12])}"
            + ("..." if len(drifted) > 12 else "")
            + f". {reach}"
        )
    else:
        title = f"No material drift between {a} and {b}"
        detail = (
            f"None of {dec.n_tests} tests is significant with an effect above its bar "
            f"(Benjamini-Hochberg at alpha={dec.alpha})"
            + (f"; {len(negligible)} column(s) moved negligibly" if negligible else "")
            + f". {reach}"
        )
    shown = [s for s in sens if s.get("mean_shift_sd") is not None][:25]
    chart = (
        [
            charts.bar(
                [s["column"] for s in shown],
                {"smallest detectable mean shift (SD)": [s["mean_shift_sd"] for s in shown]},
                title=f"Sensitivity: shift detected with {POWER:.0%} probability",
                y_label="SD",
            )
        ]
        if shown
        else []
    )
    yield Finding(
        check="drift.dataset",
        mode="drift",
        severity="warning" if dec.drifted else "info",
        title=title,
        detail=detail,
        columns=drifted,
        evidence={
            "decision": dec.to_dict(),
            "sensitivity": {
                "power": POWER,
                "level_per_test": dec.alpha / max(1, dec.n_tests),
                "columns": sens,
            },
            "charts": chart,
        },
        action=(
            "Review the drifted columns below, starting with those the model relies on most; "
            "estimate the performance impact before retraining."
            if dec.drifted
            else "Nothing to do; the sensitivity says how large a shift could have gone unseen."
        ),
    )
