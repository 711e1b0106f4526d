"""Weak slices: conjunctions of up to three conditions where the model errs far more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.robustness.common import Evaluation, evaluation
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext
    from tripwire.stats.slice_encoding import Encoding
    from tripwire.stats.slices import Slice

#: A slice is a warning when it is significant after FDR control, errs at least this many
#: times the overall rate, and reappears in at least this share of bootstrap resamples.
WARN_LIFT = 1.5
WARN_STABILITY = 0.6
#: The slice's error interval must clear the error the model expects there (its confidence,
#: or for regression the cross-validated error of such rows) by this much: 5 points of error
#: rate (classification), or this share of the overall absolute error (regression).
WARN_EXCESS = 0.05
WARN_EXCESS_REGRESSION = 0.25
#: ... or the model must know nothing about the slice's rows: inside it, the AUC of its
#: probability is under this (binary), or its prediction's Spearman correlation with the
#: target is under that (regression).
NO_SKILL_AUC = 0.6
NO_SKILL_RHO = 0.2
#: The model must vary its predictions inside the slice (their standard deviation at least
#: this share of the overall one) for "no skill" to mean anything: rows the model cannot
#: tell apart (equal vote counts in a crowd table) get one prediction and an AUC of 0.5.
MIN_SCORE_SPREAD = 0.25


def _searchable(ctx: AuditContext, frame: pd.DataFrame) -> pd.DataFrame:
    X = frame.copy()
    for c in X.columns:
        if ctx.kinds.get(c) == "datetime":
            X[c] = X[c].astype("int64", errors="ignore") if hasattr(X[c], "dt") else X[c]
    return X


def constant_error(
    ctx: AuditContext, ev: Evaluation, enc: Encoding, s: Slice
) -> tuple[float, str] | None:
    """The error, on the slice's evaluated rows, of the best constant prediction learnt from
    the training rows of the slice (majority class, or median target): what a model that
    knows only slice membership achieves. Also that constant, for the report."""
    from tripwire.stats.slice_encoding import slice_mask

    assert ctx.target is not None
    y_eval = ctx.frame(ev.side).loc[ev.X.index, ctx.target].to_numpy()[s.rows]
    if ev.side == "test":
        train = _searchable(ctx, ctx.X("train"))
        y_train = ctx.y("train").to_numpy()[slice_mask(enc, s.conditions, train)]
    else:
        y_train = y_eval  # out-of-fold errors on train: the slice's own training rows
    y_train = y_train[pd.notna(y_train)]
    if len(y_train) < 10 or not len(y_eval):
        return None
    if ev.binary:
        labels, counts = np.unique(y_train.astype(str), return_counts=True)
        const = labels[np.argmax(counts)]
        return float(np.mean(y_eval.astype(str) != const)), str(const)
    med = float(np.median(y_train.astype(float)))
    return float(np.mean(np.abs(y_eval.astype(float) - med))), f"{med:.4g}"


def rank_skill(ev: Evaluation, rows: np.ndarray) -> float | None:
    """How well the model orders the slice's rows: the AUC of its probability (binary) or
    the Spearman correlation of its prediction with the target (regression), inside the
    slice. Near 0.5 / 0 (or below) the model knows nothing there: its labels are noise to it
    or the relation is turned around."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    if ev.score is None or ev.y is None or len(rows) < 20:
        return None
    y, sc = ev.y[rows], ev.score[rows]
    if ev.binary:
        if min(y.sum(), len(y) - y.sum()) < 5:
            return None
        return float(roc_auc_score(y, sc))
    if np.std(y) == 0 or np.std(sc) == 0:
        return None
    return float(spearmanr(y, sc)[0])


def excess_p_value(ev: Evaluation, rows: np.ndarray) -> float:
    """One-sided p-value of "the slice errs more than cross-validation on train predicts
    for its rows" (a z-test on the per-row differences error - expected)."""
    from scipy.stats import norm

    if ev.expected is None or len(rows) < 2:
        return 1.0
    d = ev.err[rows] - ev.expected[rows]
    se = float(np.std(d, ddof=1)) / np.sqrt(len(d))
    if se == 0:
        return 0.0 if d.mean() > 0 else 1.0
    return float(norm.sf(d.mean() / se))


def score_spread(ev: Evaluation, rows: np.ndarray) -> float | None:
    """Standard deviation of the model's score inside the slice over the overall one."""
    if ev.score is None or not len(rows):
        return None
    return float(np.std(ev.score[rows]) / max(float(np.std(ev.score)), 1e-12))


def _pct(x: float, binary: bool) -> str:
    return f"{x:.1%}" if binary else f"{x:.4g}"


@check("robustness.weak_slices", mode="robustness", requires=("target", "features"), order=80)
def find_weak_slices(ctx: AuditContext) -> Iterator[Finding]:
    """Weak slices: where the model errs far more than overall, with FDR control and stability."""
    from tripwire.stats.slice_encoding import encode
    from tripwire.stats.slices import search, stability

    ev = evaluation(ctx)
    if ev is None or len(ev.err) < 100:
        return
    numeric = [c for c in ctx.features if ctx.kinds.get(c) in ("numeric", "datetime")]
    X = _searchable(ctx, ev.X)
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
        const = constant_error(ctx, ev, enc, s)
        # a merely hard region (the model knows it is unsure there) is not a weakness: the
        # slice must err clearly more than the model's own confidence predicts
        bar = WARN_EXCESS if ev.binary else WARN_EXCESS_REGRESSION * res.overall_error
        p_excess = excess_p_value(ev, s.rows)
        # the excess must be large and beyond what searching this many slices finds by
        # chance: Bonferroni over every slice the search enumerated
        excess_ok = s.expected is None or (
            s.interval[0] - s.expected >= bar and p_excess * res.enumerated <= 0.05
        )
        skill = rank_skill(ev, s.rows)
        spread = score_spread(ev, s.rows)
        no_skill = (
            skill is not None
            and spread is not None
            and spread >= MIN_SCORE_SPREAD
            and skill < (NO_SKILL_AUC if ev.binary else NO_SKILL_RHO)
        )
        warn = s.lift >= WARN_LIFT and st >= WARN_STABILITY and (excess_ok or no_skill)
        why_not = []
        if s.lift < WARN_LIFT:
            why_not.append(f"its error is under {WARN_LIFT:g}x the overall")
        if st < WARN_STABILITY:
            why_not.append(f"it is found again in only {st:.0%} of bootstrap resamples")
        if not excess_ok and not no_skill:
            why_not.append(
                "its error is within what cross-validation on train expects there and the "
                "model still orders its rows (a hard region, not a blind spot)"
            )
        if s.expected is None:
            ref = f"{_pct(s.error_rest, ev.binary)} on the other rows"
        else:
            ref = f"cross-validated errors on train predict {_pct(s.expected, ev.binary)} there"
        if skill is not None:
            what = "AUC" if ev.binary else "Spearman correlation of prediction and target"
            ref += f"; inside the slice the model's {what} is {skill:.2f}"
        if warn and excess_ok:
            why = "it errs clearly more than cross-validation on train predicts there"
        elif warn:
            why = (
                "the model's predictions carry no information about the outcome there "
                "(labels that are noise to it, or a relation turned around)"
            )
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
                "excess_p_value": p_excess,
                "rank_skill": skill,
                "score_spread": spread,
                "no_skill": bool(no_skill),
                "error_constant": None if const is None else const[0],
                "constant": None if const is None else const[1],
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
                f"A blind spot: {why}. Look at rows where {s.rule}: check their labels, collect "
                "more such data or features that explain them, or report performance on this "
                "slice separately (and route it to review)."
                if warn
                else "Worth a look; not a warning because " + "; ".join(why_not) + "."
            ),
        )
