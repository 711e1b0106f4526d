"""Drift as the model sees it: prediction drift, label shift (BBSE), shift ranked by feature
importance, performance estimated without labels (CBPE) and realized when labels are there.

Reference-side predictions must come from rows the model did not train on: in an audit they
are out-of-fold predictions on train; in a drift comparison the reference is expected to be
held-out data (its labels calibrate the model's confidence).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tripwire import charts
from tripwire.checks import check
from tripwire.checks.drift import results
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.decision import decide
from tripwire.stats.univariate import test_column

IMPORTANCE_ROWS = 2000
IMPORTANCE_REPEATS = 3


@dataclass(frozen=True)
class Outputs:
    """A model's outputs on both sides, with labels where known (NaN-free, aligned)."""

    pred_ref: np.ndarray
    pred_cur: np.ndarray
    proba_ref: np.ndarray | None
    proba_cur: np.ndarray | None
    classes: tuple[str, ...]
    y_ref: np.ndarray | None
    y_cur: np.ndarray | None  # aligned with pred_cur; None when current has no labels
    labelled_cur: np.ndarray  # positions (in pred_cur) that have a label
    source: str
    regression: bool


def _str(a: Any) -> np.ndarray:
    return np.asarray(pd.Series(np.asarray(a, dtype=object)).astype(str).to_numpy(), dtype=object)


def _labels_of(ctx: AuditContext, frame: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
    t = ctx.target
    if not t or t not in frame.columns:
        return None, np.array([], dtype=int)
    y = frame[t]
    have = np.flatnonzero(y.notna().to_numpy())
    if len(have) == 0:
        return None, have
    return y.to_numpy(), have


def _user_side(ctx: AuditContext, side: str) -> tuple[np.ndarray, np.ndarray | None, tuple]:
    from tripwire.models import predict_side

    roles = ctx.schema.roles
    frame = ctx.frame(side)
    model = ctx.model
    if model is not None and not (roles.prediction or roles.probabilities):
        X = ctx.raw.get(side, frame)[list(ctx.features)]
        if hasattr(model, "predict_proba") and ctx.task != "regression":
            proba = np.asarray(model.predict_proba(X), dtype=float)
            classes = tuple(model.classes_)
            return np.asarray(classes, dtype=object)[proba.argmax(axis=1)], proba, classes
        return np.asarray(model.predict(X)), None, ()
    p = predict_side(ctx, side)
    return p.label, p.proba, p.classes


def _outputs(
    pred_ref: Any,
    pred_cur: Any,
    proba_ref: Any,
    proba_cur: Any,
    classes: Any,
    y_ref: Any,
    y_cur: Any,
    have_cur: np.ndarray,
    source: str,
    regression: bool,
) -> Outputs:
    return Outputs(
        pred_ref=np.asarray(pred_ref, dtype=float) if regression else _str(pred_ref),
        pred_cur=np.asarray(pred_cur, dtype=float) if regression else _str(pred_cur),
        proba_ref=proba_ref,
        proba_cur=proba_cur,
        classes=tuple(str(c) for c in classes),
        y_ref=None
        if y_ref is None
        else (np.asarray(y_ref, dtype=float) if regression else _str(y_ref)),
        y_cur=None
        if y_cur is None
        else (
            np.asarray(pd.to_numeric(pd.Series(y_cur), errors="coerce"), dtype=float)
            if regression
            else _str(np.where(pd.isna(y_cur), "", y_cur))
        ),
        labelled_cur=have_cur,
        source=source,
        regression=regression,
    )


def half_model(ctx: AuditContext) -> tuple[np.ndarray, Any]:
    """(positions of the train half held out, model fitted on the other half) — cached."""

    def fit() -> tuple[np.ndarray, Any]:
        from sklearn.base import clone
        from threadpoolctl import threadpool_limits

        from tripwire.models import make_baseline

        n = len(ctx.train)
        perm = ctx.rng(23).permutation(n)
        fit_pos, held_pos = np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])
        y = ctx.y("train").iloc[fit_pos]
        ctx.progress(f"fitting a model on half of train ({len(fit_pos):,} rows)")
        if ctx.model is not None:
            est = clone(ctx.model)
            X = ctx.raw.get("train", ctx.train).iloc[fit_pos][list(ctx.features)]
            y_fit = y.infer_objects().to_numpy()  # integer classes as objects: "unknown"
        else:
            kinds = {c: ctx.kinds[c] for c in ctx.features}
            assert ctx.task is not None
            est = make_baseline(ctx.task, kinds, ctx.random_state, fast=True)
            X = ctx.train.iloc[fit_pos][list(ctx.features)]
            y_fit = (
                y.to_numpy(dtype=float) if ctx.task == "regression" else y.astype(str).to_numpy()
            )
        with threadpool_limits(limits=1):
            est.fit(X, y_fit)
        return held_pos, est

    result: tuple[np.ndarray, Any] = ctx.cached("drift:half_model", fit)
    return result


def _predict(
    ctx: AuditContext, model: Any, frame: pd.DataFrame, side: str
) -> tuple[np.ndarray, np.ndarray | None, tuple]:
    from threadpoolctl import threadpool_limits

    X = (ctx.raw.get(side, frame) if ctx.model is not None else frame).loc[
        frame.index, list(ctx.features)
    ]
    with threadpool_limits(limits=1):
        if ctx.task != "regression" and hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(X), dtype=float)
            classes = tuple(str(c) for c in model.classes_)
            return np.asarray(classes, dtype=object)[proba.argmax(axis=1)], proba, classes
        return np.asarray(model.predict(X)), None, ()


def outputs(ctx: AuditContext) -> Outputs | None:
    """The model's outputs on both sides (cached)."""

    def compute() -> Outputs | None:
        regression = ctx.task == "regression"
        if ctx.sides[0] == "train":
            # Audit: one model fitted on half of train scores the other half and test, so both
            # sides are held out from the same model (out-of-fold and full-train predictions
            # come from different models and would differ even without drift).
            ref_pos, fitted = half_model(ctx)
            pred_ref, proba_ref, classes = _predict(ctx, fitted, ctx.train.iloc[ref_pos], "train")
            pred_cur, proba_cur, _ = _predict(ctx, fitted, ctx.frame("test"), "test")
            source = "model fitted on a random half of train, scoring the other half and test"
            y_all = ctx.y("train").to_numpy()
            y_ref = y_all[ref_pos]
            assert ctx.test is not None
            y_cur, have_cur = _labels_of(ctx, ctx.test)
            return _outputs(
                pred_ref,
                pred_cur,
                proba_ref,
                proba_cur,
                classes,
                y_ref,
                y_cur,
                have_cur,
                source,
                regression,
            )
        else:
            ctx.progress("model predictions on both sides")
            pred_ref, proba_ref, classes = _user_side(ctx, "train")
            pred_cur, proba_cur, _ = _user_side(ctx, "test")
            source = (
                "model outputs given as columns" if ctx.model is None else type(ctx.model).__name__
            )
        y_ref, have_ref = _labels_of(ctx, ctx.train)
        if y_ref is not None and len(have_ref) < len(y_ref):
            pred_ref = pred_ref[have_ref]
            proba_ref = proba_ref[have_ref] if proba_ref is not None else None
            y_ref = y_ref[have_ref]
        assert ctx.test is not None
        y_cur, have_cur = _labels_of(ctx, ctx.test)
        return _outputs(
            pred_ref,
            pred_cur,
            proba_ref,
            proba_cur,
            classes,
            y_ref,
            y_cur,
            have_cur,
            source,
            regression,
        )

    return ctx.cached("drift:outputs", compute)


# ---------------------------------------------------------------------------------------
# Prediction drift
# ---------------------------------------------------------------------------------------
@check(
    "drift.prediction",
    mode="drift",
    requires=("test", "predictions"),
    commands=("audit", "drift"),
    order=70,
)
def find_prediction_drift(ctx: AuditContext) -> Iterator[Finding]:
    """Did the model's outputs shift? (scores, predicted classes or predicted values)"""
    out = outputs(ctx)
    if out is None:
        return
    a, b = ctx.sides
    tests = []
    if out.regression:
        tests.append(
            test_column(
                pd.Series(out.pred_ref, name="prediction", dtype=float),
                pd.Series(out.pred_cur, name="prediction", dtype=float),
                "numeric",
            )
        )
    else:
        tests.append(
            test_column(
                pd.Series(out.pred_ref, name="predicted class"),
                pd.Series(out.pred_cur, name="predicted class"),
                "categorical",
            )
        )
        if out.proba_ref is not None and out.proba_cur is not None:
            j = 1 if len(out.classes) == 2 else None
            name = f"P({out.classes[1]})" if j is not None else "confidence"
            sr = out.proba_ref[:, 1] if j is not None else out.proba_ref.max(axis=1)
            sc = out.proba_cur[:, 1] if j is not None else out.proba_cur.max(axis=1)
            tests.append(test_column(pd.Series(sr, name=name), pd.Series(sc, name=name), "numeric"))
    dec = decide(
        tests, alpha=float(ctx.option("alpha", 0.05)), min_effect=ctx.option("min_effect", {}) or {}
    )
    moved = dec.drifted
    parts = []
    for r, q, s in zip(dec.results, dec.q_values, dec.statuses):
        if r.kind == "numeric":
            parts.append(
                f"{r.column}: mean {r.extra['mean_ref']:.4g} → {r.extra['mean_cur']:.4g}, "
                f"KS {r.effect:.3f} [{r.effect_low:.3f}, {r.effect_high:.3f}], q={q:.2g} ({s})"
            )
        else:
            top = r.extra["top_changes"][:3]
            parts.append(
                f"{r.column}: "
                + ", ".join(f"{c['value']!r} {c['ref']:.1%} → {c['cur']:.1%}" for c in top)
                + f", total variation {r.effect:.3f} [{r.effect_low:.3f}, {r.effect_high:.3f}], q={q:.2g} ({s})"
            )
    chart = []
    num = next((r for r in tests if r.kind == "numeric" and "histogram" in r.extra), None)
    if num is not None:
        h = num.extra["histogram"]
        chart.append(
            charts.histogram(
                h["edges"], {a: h["ref"], b: h["cur"]}, title=f"{num.column}: {a} vs {b}"
            )
        )
    yield Finding(
        check="drift.prediction",
        mode="drift",
        severity="warning" if moved else "info",
        title=(
            "The model's outputs shifted"
            if moved
            else "The model's outputs did not shift materially"
        )
        + f" ({a} vs {b})",
        detail=f"Outputs from {out.source}. " + "; ".join(parts) + ".",
        evidence={
            "tests": dec.to_dict()["tests"],
            "source": out.source,
            "charts": chart,
        },
        action=(
            "The model now predicts differently: check whether this follows the input drift "
            "(see the importance-ranked shift) or a label shift, and watch estimated performance."
            if moved
            else "Nothing to do."
        ),
    )


# ---------------------------------------------------------------------------------------
# Label shift
# ---------------------------------------------------------------------------------------
#: Above this condition number the confusion matrix is treated as singular (no estimate).
SINGULAR = 1e3


@check(
    "drift.label_shift",
    mode="drift",
    requires=("test", "predictions", "target", "classification"),
    commands=("audit", "drift"),
    order=71,
)
def find_label_shift(ctx: AuditContext) -> Iterator[Finding]:
    """Current class priors estimated from predictions (black-box shift estimation)."""
    from tripwire.stats.label_shift import estimate_label_shift

    out = outputs(ctx)
    if out is None or out.y_ref is None:
        return
    classes = out.classes or tuple(sorted(set(out.y_ref)))
    est = estimate_label_shift(
        out.y_ref, out.pred_ref, out.pred_cur, classes, random_state=ctx.random_state
    )
    a, b = ctx.sides
    realized = None
    if out.y_cur is not None and len(out.labelled_cur):
        yc = out.y_cur[out.labelled_cur]
        realized = np.array([np.mean(yc == c) for c in est.classes])
    moved_cls = [
        i for i in range(len(est.classes)) if not (est.low[i] <= est.prior_ref[i] <= est.high[i])
    ]
    tv = 0.5 * float(np.abs(est.prior_cur - est.prior_ref).sum())
    # a (near-)singular confusion matrix, as a constant model's, identifies no prior: its
    # "estimate" is an artefact and must not warn
    singular = not np.isfinite(est.condition_number) or est.condition_number > SINGULAR
    moved = bool(moved_cls) and tv >= 0.025 and not singular
    rows = [
        f"{c!r} {est.prior_ref[i]:.1%} → {est.prior_cur[i]:.1%} [{est.low[i]:.1%}, {est.high[i]:.1%}]"
        + (f" (realized {realized[i]:.1%})" if realized is not None else "")
        for i, c in enumerate(est.classes)
    ]
    yield Finding(
        check="drift.label_shift",
        mode="drift",
        severity="warning" if moved else "info",
        title=(
            f"Estimated class balance moved in {b} (total variation {tv:.3f})"
            if moved
            else f"The class balance of {b} cannot be estimated from this model's predictions"
            if singular
            else f"No material label shift estimated in {b}"
        ),
        detail=(
            "Black-box shift estimation from predicted labels (Lipton et al., 2018): "
            + "; ".join(rows)
            + f". Under pure label shift, expected accuracy on {b} is {est.accuracy:.1%} "
            f"[{est.accuracy_low:.1%}, {est.accuracy_high:.1%}]. The estimate assumes P(x | y) is "
            f"unchanged; the confusion matrix condition number is {est.condition_number:.1f}"
            + (
                " (singular: the model's predicted classes do not identify the true ones, as "
                "for a model that predicts one class, so no estimate is made)."
                if singular
                else " (ill-conditioned: a weak model makes the estimate unstable)."
                if est.condition_number > 20
                else "."
            )
        ),
        evidence={
            "classes": list(est.classes),
            "prior_reference": est.prior_ref,
            "prior_estimated": est.prior_cur,
            "interval_low": est.low,
            "interval_high": est.high,
            "prior_realized": realized,
            "weights": est.weights,
            "accuracy_under_label_shift": [est.accuracy, est.accuracy_low, est.accuracy_high],
            "condition_number": est.condition_number,
            "charts": [
                charts.bar(
                    list(est.classes),
                    {a: est.prior_ref.tolist(), f"{b} (estimated)": est.prior_cur.tolist()}
                    | ({f"{b} (realized)": realized.tolist()} if realized is not None else {}),
                    title="Class priors",
                    errors={f"{b} (estimated)": (est.low.tolist(), est.high.tolist())},
                )
            ],
        },
        action=(
            "Re-weight the training data by the estimated prior ratios (evidence.weights) or "
            "move the decision threshold; confirm with labels when they arrive."
            if moved
            else "Nothing to do."
        ),
    )


# ---------------------------------------------------------------------------------------
# Shift ranked by importance
# ---------------------------------------------------------------------------------------
def _split_baseline(model: Any) -> tuple[Any, Any]:
    """(encoder, final estimator) of tripwire's baseline pipeline, else (None, None)."""
    from sklearn.pipeline import Pipeline

    from tripwire.models import TabularEncoder

    if isinstance(model, Pipeline) and isinstance(model.steps[0][1], TabularEncoder):
        return model.steps[0][1], model.steps[-1][1]
    return None, None


def _importance(ctx: AuditContext, out: Outputs) -> dict[str, float] | None:
    """Permutation importance of each feature (drop in accuracy, or in -MAE) on labelled
    held-out rows: test rows in an audit, reference rows in a drift comparison."""
    from threadpoolctl import threadpool_limits

    if ctx.schema.roles.prediction or ctx.schema.roles.probabilities:
        return None
    model = half_model(ctx)[1] if ctx.sides[0] == "train" else ctx.model
    if model is None:
        return None
    side = "test" if ctx.sides[0] == "train" else "train"
    frame = ctx.frame(side)
    t = ctx.target
    if t is None or t not in frame.columns:
        return None
    labelled = frame[frame[t].notna()]
    if len(labelled) < 50:
        return None
    rng = ctx.rng(17)
    take = np.sort(rng.choice(len(labelled), min(len(labelled), IMPORTANCE_ROWS), replace=False))
    rows = labelled.iloc[take]
    X = (ctx.raw.get(side, frame) if ctx.model is not None else frame).loc[
        rows.index, list(ctx.features)
    ]
    y = _str(rows[t].to_numpy()) if not out.regression else rows[t].to_numpy(dtype=float)
    encoder, final = _split_baseline(model)
    # the baseline's encoder runs once; permutations then act on the encoded matrix
    data: Any = encoder.transform(X) if encoder is not None else X
    predictor = final if encoder is not None else model
    # encoded positions of each feature (a text column spans several components)
    position = dict(getattr(encoder, "blocks_", {})) if encoder is not None else {}

    def accuracy(pred: np.ndarray) -> float:
        if out.regression:
            return -float(np.mean(np.abs(pred.astype(float) - y)))
        return float(np.mean(_str(pred) == y))

    used = [c for c in ctx.features if encoder is None or c in position]
    # every permuted copy is stacked and predicted in one call: per-call overhead dominates
    # small predictions
    blocks = []
    for col in used:
        for _ in range(IMPORTANCE_REPEATS):
            perm = rng.permutation(len(X))
            if encoder is not None:
                Xp = data.copy()
                cols = position[col]
                Xp[:, cols] = data[perm][:, cols]
            else:
                Xp = X.copy()
                Xp[col] = X[col].to_numpy()[perm]
            blocks.append(Xp)
    with threadpool_limits(limits=1):
        base = accuracy(np.asarray(predictor.predict(data)))
        if blocks:
            stacked = np.vstack(blocks) if encoder is not None else pd.concat(blocks)
            preds = np.asarray(predictor.predict(stacked)).reshape(len(blocks), len(X))
        else:
            preds = np.empty((0, len(X)))
    out_imp: dict[str, float] = {c: 0.0 for c in ctx.features}  # unused by the model: 0
    for i, col in enumerate(used):
        rows_ = preds[i * IMPORTANCE_REPEATS : (i + 1) * IMPORTANCE_REPEATS]
        out_imp[col] = float(np.mean([base - accuracy(r) for r in rows_]))
    return out_imp


@check(
    "drift.importance",
    mode="drift",
    requires=("test", "predictions", "target"),
    commands=("audit", "drift"),
    order=73,
)
def rank_shift_by_importance(ctx: AuditContext) -> Iterator[Finding]:
    """Drifted columns ranked by how much the model relies on them."""
    out = outputs(ctx)
    if out is None:
        return
    ctx.progress("permutation importance")
    imp = _importance(ctx, out)
    if imp is None:
        return
    dec = results.decision(ctx)
    effect: dict[str, tuple[float, str, float]] = {}
    for r, q, s in zip(dec.results, dec.q_values, dec.statuses):
        if r.column in imp and r.method not in ("missing_rate", "unseen"):
            effect[r.column] = (r.effect, s, q)
    top = max(max(imp.values()), 1e-12)
    table: list[dict[str, Any]] = sorted(
        (
            {
                "column": c,
                "importance": imp[c],
                "importance_share": imp[c] / top,
                "drift_effect": effect.get(c, (float("nan"), "untested", float("nan")))[0],
                "drift_status": effect.get(c, (0, "untested", 0))[1],
                "q_value": effect.get(c, (0, "", float("nan")))[2],
            }
            for c in imp
        ),
        key=lambda d: -d["importance"],
    )
    drifted = [d for d in table if d["drift_status"] == "drift"]
    if not drifted:
        return
    key = [d for d in drifted if d["importance_share"] >= 0.2 and d["importance"] > 0.002]
    yield Finding(
        check="drift.importance",
        mode="drift",
        severity="warning" if key else "info",
        title=(
            f"Drift hits features the model relies on: {', '.join(d['column'] for d in key[:5])}"
            if key
            else "Drift is confined to features the model barely uses"
        ),
        detail=(
            "Permutation importance (drop in "
            + ("-MAE" if out.regression else "accuracy")
            + f" when a column is shuffled, on {min(IMPORTANCE_ROWS, len(ctx.frame('test' if ctx.sides[0] == 'train' else 'train'))):,} labelled rows) of the drifted columns: "
            + ", ".join(
                f"{d['column']} {d['importance']:.4f} (rank {table.index(d) + 1} of {len(table)}, drift {d['drift_effect']:.3f})"
                for d in drifted[:8]
            )
            + "."
        ),
        columns=[d["column"] for d in drifted],
        evidence={
            "ranking": table,
            "charts": [
                charts.bar(
                    [d["column"] for d in table[:15]],
                    {
                        "importance": [d["importance"] for d in table[:15]],
                    },
                    title="Feature importance (drifted columns marked in the table)",
                    horizontal=True,
                )
            ],
        },
        action=(
            "Prioritise these columns: investigate their source first and expect the model's "
            "performance to move with them."
            if key
            else "The shift is unlikely to move performance much; keep watching."
        ),
    )
