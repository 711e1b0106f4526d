"""Column drift: one finding per column whose distribution, missing rate or categories moved
materially, and one info finding for shifts that are significant but negligible."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tripwire import charts
from tripwire.checks import check
from tripwire.checks.drift import results
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.univariate import ColumnDrift

CRITICAL_EFFECT = 0.5


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return f"{x:.4g}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-300 else "<1e-300"


def describe(r: ColumnDrift) -> str:
    """One sentence on what moved, in the column's own terms."""
    e = r.extra
    if r.method == "missing_rate":
        return (
            f"Missing values went from {_pct(e['missing_ref'])} to {_pct(e['missing_cur'])} of rows "
            f"({100 * r.effect:+.1f} points, 95% interval {100 * r.effect_low:+.1f} to "
            f"{100 * r.effect_high:+.1f})."
        )
    if r.method == "unseen":
        vals = ", ".join(f"{v['value']!r} ({v['count']})" for v in e.get("unseen_values", [])[:5])
        return (
            f"{_pct(e['unseen_share'])} of current rows hold values never seen in the reference "
            f"(about {_pct(e['unseen_expected'])} expected by chance from rare values if both sides "
            f"came from one population): {vals}."
        )
    if r.method == "calendar":
        parts = "; ".join(
            f"{k.replace('_', ' ')}: total variation {v['total_variation']:.3f}"
            for k, v in e["parts"].items()
        )
        return (
            f"The calendar pattern moved ({parts}). Reference spans {e['range_ref'][0]} to "
            f"{e['range_ref'][1]}, current {e['range_cur'][0]} to {e['range_cur'][1]}."
        )
    if "mean_ref" in e and r.effect_name in ("ks_distance", "wasserstein_sd", "psi"):
        q = e["quantiles"]
        return (
            f"Mean {_num(e['mean_ref'])} → {_num(e['mean_cur'])} ({e['mean_shift_sd']:+.2f} SD), "
            f"median {_num(q['ref'][2])} → {_num(q['cur'][2])}, SD ratio {_num(e['std_ratio'])}, "
            f"5th-95th percentile {_num(q['ref'][0])}..{_num(q['ref'][4])} → "
            f"{_num(q['cur'][0])}..{_num(q['cur'][4])}; Wasserstein {e['wasserstein_sd']:.3f} SD, "
            f"PSI {e['psi']:.3f}."
        )
    if "top_changes" in e:
        moves = ", ".join(
            f"{c['value']!r} {_pct(c['ref'])} → {_pct(c['cur'])}" for c in e["top_changes"][:4]
        )
        return f"Largest changes in category shares: {moves}; PSI {e['psi']:.3f}, Jensen-Shannon {e['jensen_shannon']:.3f}."
    return ""


def effect_text(r: ColumnDrift) -> str:
    name = r.effect_name.replace("_", " ")
    return f"{name} {r.effect:.3f} [{r.effect_low:.3f}, {r.effect_high:.3f}]"


def chart(r: ColumnDrift, sides: tuple[str, str]) -> list[dict[str, Any]]:
    e = r.extra
    a, b = sides
    if "histogram" in e and r.method not in ("missing_rate", "unseen"):
        h = e["histogram"]
        return [
            charts.histogram(
                h["edges"],
                {a: h["ref"], b: h["cur"]},
                title=f"{r.column}: {a} vs {b}",
                x_label=r.column,
            )
        ]
    if "top_changes" in e and r.method not in ("missing_rate", "unseen"):
        top = e["top_changes"][:12]
        return [
            charts.bar(
                [c["value"] for c in top],
                {a: [c["ref"] for c in top], b: [c["cur"] for c in top]},
                title=f"{r.column}: category shares, {a} vs {b}",
                y_label="share of rows",
            )
        ]
    if r.method == "missing_rate":
        return [
            charts.bar(
                [a, b],
                {"missing share": [e["missing_ref"], e["missing_cur"]]},
                title=f"{r.column}: missing share",
            )
        ]
    return []


def evidence(r: ColumnDrift, q: float, sides: tuple[str, str]) -> dict[str, Any]:
    keep = {
        k: v
        for k, v in r.extra.items()
        if k not in ("histogram", "shift_curve", "quantiles") and not isinstance(v, (list, dict))
    }
    for k in ("quantiles", "top_changes", "unseen_values", "parts", "range_ref", "range_cur"):
        if k in r.extra:
            keep[k] = r.extra[k]
    return {
        "test": r.method,
        "statistic": r.statistic,
        "p_value": r.p_value,
        "q_value": q,
        "effect_name": r.effect_name,
        "effect": r.effect,
        "effect_interval": [r.effect_low, r.effect_high],
        f"n_{sides[0]}": r.n_ref,
        f"n_{sides[1]}": r.n_cur,
        **keep,
        "charts": chart(r, sides),
    }


def _rows(ctx: AuditContext, r: ColumnDrift) -> dict[str, Any]:
    """Current rows a finding concerns: missing values for a missing surge, never-seen values
    for unseen categories; a distribution shift concerns no particular row."""
    ref, cur = results.sides(ctx)
    side = ctx.sides[1]
    if r.column not in cur.columns:
        return {}
    if r.method == "missing_rate" and r.effect > 0:
        return {side: np.flatnonzero(cur[r.column].isna().to_numpy())}
    if r.method == "unseen":
        seen = set(ref[r.column].dropna().astype(str).unique())
        values = cur[r.column]
        present = values.notna().to_numpy()
        new = ~values.astype(str).isin(seen).to_numpy()
        return {side: np.flatnonzero(present & new)}
    return {}


def _action(r: ColumnDrift) -> str:
    if r.method == "missing_rate":
        return (
            f"Find why {r.column!r} is missing more (or less) often: a broken join, a new "
            "source or a form change. Fix the pipeline, or impute as in training."
        )
    if r.method == "unseen":
        return (
            f"Map the new values of {r.column!r} to known ones if they are renamings; otherwise "
            "check how the model treats unknown categories and retrain with examples of them."
        )
    return (
        f"Check the source of {r.column!r} for a pipeline or unit change. If the shift is real, "
        "see the estimated performance impact, then retrain on recent data or reweight the "
        "training data towards the current population."
    )


@check("drift.columns", mode="drift", requires=("test",), commands=("audit", "drift"), order=40)
def find_column_drift(ctx: AuditContext) -> Iterator[Finding]:
    """Per-column shift: distribution, missing rate and unseen categories, BH-controlled."""
    dec = results.decision(ctx)
    a, b = ctx.sides
    negligible = []
    for r, q, status in zip(dec.results, dec.q_values, dec.statuses):
        if r.kind in results.NOT_COLUMNS:
            continue
        if status == "negligible":
            negligible.append((r, q))
            continue
        if status != "drift":
            continue
        target = r.column == ctx.target
        big = r.effect_low >= CRITICAL_EFFECT and r.effect_name in (
            "ks_distance",
            "total_variation",
            "missing_rate_change",
        )
        what = {
            "missing_rate": "missing-value rate changed",
            "unseen": "has values never seen in the " + a,
            "calendar": "calendar pattern shifted",
        }.get(r.method, "distribution shifted")
        yield Finding(
            check="drift.columns",
            mode="drift",
            severity="critical" if big else "warning",
            title=(f"Target {r.column!r}" if target else f"Column {r.column!r}")
            + f" {what} ({effect_text(r)}, q={_p(q)})",
            detail=(
                describe(r)
                + f" Test: {r.method} on {r.n_ref:,} {a} and {r.n_cur:,} {b} values, p={_p(r.p_value)}, "
                f"q={_p(q)} after Benjamini-Hochberg over {dec.n_tests} tests; the effect is above "
                f"the negligible bar of {dec.min_effect.get(r.effect_name, 0):.3f}."
                + (
                    " A shift this large usually means a broken pipeline, a unit change or a different population."
                    if big
                    else ""
                )
                + (" The class balance moved: see the label-shift estimate." if target else "")
            ),
            columns=[r.column],
            rows=_rows(ctx, r),
            evidence=evidence(r, q, ctx.sides),
            action=_action(r),
        )
    if negligible:
        names = sorted({r.column for r, _ in negligible})
        yield Finding(
            check="drift.columns",
            mode="drift",
            severity="info",
            title=f"{len(names)} column(s) shifted significantly but negligibly",
            detail=(
                "These differences are real at these sample sizes but below the effect-size bar, "
                "so they are unlikely to matter: "
                + "; ".join(
                    f"{r.column} ({r.method}: {effect_text(r)})" for r, _ in negligible[:10]
                )
                + ("..." if len(negligible) > 10 else ".")
            ),
            columns=names,
            evidence={
                "tests": [
                    {
                        "column": r.column,
                        "test": r.method,
                        "effect_name": r.effect_name,
                        "effect": r.effect,
                        "effect_interval": [r.effect_low, r.effect_high],
                        "p_value": r.p_value,
                        "q_value": q,
                    }
                    for r, q in negligible
                ],
                "min_effect": dict(dec.min_effect),
            },
            action="No action needed; raise --min-effect bars only if smaller shifts matter for this model.",
        )
