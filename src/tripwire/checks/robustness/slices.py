"""Weak slices: conjunctions of up to three conditions where the model errs far more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tripwire.checks import check
from tripwire.checks.robustness.common import evaluation
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

#: A slice is a warning when it is significant after FDR control, errs at least this many
#: times the overall rate, and reappears in at least this share of bootstrap resamples.
WARN_LIFT = 1.5
WARN_STABILITY = 0.6
#: The slice's error interval must clear the error the model expects there (its confidence,
#: or for regression the cross-validated error of such rows) by this much: 5 points of error
#: rate (classification), or this share of the overall absolute error (regression).
WARN_EXCESS = 0.05
WARN_EXCESS_REGRESSION = 0.25


def _pct(x: float, binary: bool) -> str:
    return f"{x:.1%}" if binary else f"{x:.4g}"


@check("robustness.weak_slices", mode="robustness", requires=("target", "features"), order=80)
def find_weak_slices(ctx: AuditContext) -> Iterator[Finding]:
    """Weak slices: where the model errs far more than overall, with FDR control and stability."""
    from tripwire.stats.slices import encode, search, stability

    ev = evaluation(ctx)
    if ev is None or len(ev.err) < 100:
        return
    numeric = [c for c in ctx.features if ctx.kinds.get(c) in ("numeric", "datetime")]
    X = ev.X.copy()
    for c in X.columns:
        if ctx.kinds.get(c) == "datetime":
            X[c] = X[c].astype("int64", errors="ignore") if hasattr(X[c], "dt") else X[c]
    keep = [c for c in X.columns if ctx.kinds.get(c) in ("numeric", "categorical", "boolean")]
    if not keep:
        return
    ctx.progress(f"weak-slice search over {len(keep)} features, {len(ev.err):,} rows")
    enc = encode(
        X[keep], numeric=[c for c in keep if c in numeric], n_bins=int(ctx.option("slice_bins", 5))
    )
    kwargs = {
        "expected": ev.expected,
        "binary": ev.binary,
        "max_level": int(ctx.option("slice_depth", 3)),
        "min_support": ctx.option("slice_min_support"),
        "top_k": 5,
    }
    res = search(enc, ev.err, **kwargs)
    where = "test rows" if ev.side == "test" else "train rows (out-of-fold)"
    base = _pct(res.overall_error, ev.binary)
    if not res.slices:
        yield Finding(
            check="robustness.weak_slices",
            mode="robustness",
            severity="info",
            title=f"No weak slice: no subgroup errs significantly more than the {base} overall",
            detail=(
                f"Searched {res.enumerated:,} slices of up to {kwargs['max_level']} conditions "
                f"on {len(enc.features)} features ({res.evaluated:,} evaluated, "
                f"{res.pruned_support:,} pruned as too small, {res.pruned_bound:,} not extended "
                f"by the error bound) on {len(ev.err):,} {where}; none errs at least "
                f"{1.25:.2f}x the overall {ev.metric} with a Benjamini-Hochberg q <= 0.05."
            ),
            evidence={
                "overall_error": res.overall_error,
                "enumerated": res.enumerated,
                "evaluated": res.evaluated,
                "side": ev.side,
            },
            action="Nothing to do.",
        )
        return
    stab = stability(
        enc,
        ev.err,
        res.slices,
        n_boot=int(ctx.option("slice_bootstrap", 20)),
        random_state=ctx.random_state,
        **kwargs,
    )
    index = ev.X.index.to_numpy()
    for s, st in zip(res.slices, stab):
        s.stability = st
        # a merely hard region (the model knows it is unsure there) is not a weakness: the
        # slice must err clearly more than the model's own confidence predicts
        bar = WARN_EXCESS if ev.binary else WARN_EXCESS_REGRESSION * res.overall_error
        excess_ok = s.expected is None or s.interval[0] - s.expected >= bar
        warn = s.lift >= WARN_LIFT and st >= WARN_STABILITY and excess_ok
        why_not = []
        if s.lift < WARN_LIFT:
            why_not.append(f"its error is under {WARN_LIFT:g}x the overall")
        if st < WARN_STABILITY:
            why_not.append(f"it is found again in only {st:.0%} of bootstrap resamples")
        if not excess_ok:
            why_not.append(
                "its error is within what the model expects there (a hard region, not a blind spot)"
            )
        if s.expected is None:
            ref = f"{_pct(s.error_rest, ev.binary)} on the other rows"
        elif ev.binary:
            ref = f"the model's own confidence predicts {_pct(s.expected, True)}"
        else:
            ref = f"cross-validated errors on train predict {_pct(s.expected, False)} there"
        yield Finding(
            check="robustness.weak_slices",
            mode="robustness",
            severity="warning" if warn else "info",
            title=(
                f"Weak slice {s.rule}: {ev.metric} {_pct(s.error, ev.binary)} vs "
                f"{_pct(s.error_rest, ev.binary)}, n = {s.n:,.0f}"
            ),
            detail=(
                f"On {len(ev.err):,} {where}, the {s.n:,.0f} rows with {s.rule} have "
                f"{ev.metric} {_pct(s.error, ev.binary)} [{_pct(s.interval[0], ev.binary)}, "
                f"{_pct(s.interval[1], ev.binary)}] ({s.lift:.2f}x the overall {base}); {ref}. "
                f"q = {s.q_value:.2g} after Benjamini-Hochberg over {res.enumerated:,} slices "
                f"searched; found again in {st:.0%} of bootstrap resamples."
            ),
            columns=s.columns,
            rows={ev.side: index[s.rows].tolist()},
            evidence={
                "rule": s.rule,
                "n": s.n,
                "error": s.error,
                "error_interval": list(s.interval),
                "error_rest": s.error_rest,
                "error_expected": s.expected,
                "excess_bar": bar,
                "clears_expected": bool(excess_ok),
                "overall_error": res.overall_error,
                "lift": s.lift,
                "excess_errors": s.excess,
                "difference_interval": list(s.diff_interval),
                "p_value": s.p_value,
                "q_value": s.q_value,
                "stability": st,
                "slices_searched": res.enumerated,
                "slices_evaluated": res.evaluated,
                "side": ev.side,
                "metric": ev.metric,
            },
            action=(
                f"Look at rows where {s.rule}: collect more such data, check their labels and "
                "features, or report performance on this slice separately."
                if warn
                else "Worth a look; not a warning because " + "; ".join(why_not) + "."
            ),
        )
