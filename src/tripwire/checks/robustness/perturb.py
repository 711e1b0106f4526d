"""Perturbation tests: how far do predictions move when one column is disturbed?"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

#: Gaussian noise per numeric column, as a fraction of its standard deviation.
NOISE_FRACTION = 0.05
#: Small noise that flips more than this share of predictions makes the model fragile ...
WARN_FLIP = 0.10
#: ... when that is also at least this many times the share that refitting the model on a
#: bootstrap resample of train changes (the model's own variance).
RETRAIN_FACTOR = 2.0
MAX_ROWS = 5000


def model_input(ctx: AuditContext, side: str, index: np.ndarray) -> pd.DataFrame:
    """The feature table the model consumes (raw for a user model) for ``index`` rows."""
    frame = ctx.frame(side)
    if ctx.model is not None:
        return ctx.raw.get(side, frame).loc[index, ctx.features].copy()
    return frame.loc[index, ctx.features].copy()


def predictor(ctx: AuditContext) -> Callable[[pd.DataFrame], np.ndarray]:
    """Predicted labels (as strings for classification, floats for regression)."""
    model = ctx.fitted_model()

    def predict(X: pd.DataFrame) -> np.ndarray:
        out = np.asarray(model.predict(X))
        return out.astype(str) if ctx.is_classification else out.astype(float)

    return predict


def retrain_flip_rate(
    ctx: AuditContext, X: pd.DataFrame, base: np.ndarray, flips: Callable[[np.ndarray], float]
) -> float | None:
    """The share of predictions on ``X`` that change when the same model is fitted again on
    a bootstrap resample of train: how far the training data pin the predictions down.

    Noise that changes no more predictions than this is within the model's own variance
    (a district moved by 10 km, a date moved by two weeks, where the target really changes
    that fast); only noise that changes more is fragility of its own. None when the model
    cannot be refitted (a user model that is no scikit-learn estimator)."""
    from sklearn.base import clone

    rng = ctx.rng(56)
    n = len(ctx.train)
    boot = rng.choice(n, n, replace=True)
    y = ctx.y("train").iloc[boot]
    try:
        if ctx.model is not None:
            est = clone(ctx.model)
            Xtr = ctx.raw.get("train", ctx.train)[ctx.features].iloc[boot]
        else:
            from tripwire.models import _model_features, make_baseline

            assert ctx.task is not None
            est = make_baseline(ctx.task, _model_features(ctx), ctx.random_state)
            Xtr = ctx.X("train").iloc[boot]
        ok = y.notna().to_numpy()
        ctx.progress("refitting the model on a bootstrap resample of train")
        if ctx.is_classification:
            est.fit(Xtr[ok], y[ok].astype(str).to_numpy())
            pred = np.asarray(est.predict(X)).astype(str)
        else:
            est.fit(Xtr[ok], y[ok].to_numpy(dtype=float))
            pred = np.asarray(est.predict(X)).astype(float)
    except Exception:  # no refit, no reference
        return None
    return flips(pred)


def _perturbations(
    ctx: AuditContext, col: str, X: pd.DataFrame, rng: np.random.Generator
) -> dict[str, pd.Series]:
    s = X[col]
    kind = ctx.kinds.get(col)
    out: dict[str, pd.Series] = {}
    missing = pd.Series(np.nan, index=s.index, dtype="float64" if kind == "numeric" else "object")
    if kind == "numeric":
        v = pd.to_numeric(s, errors="coerce").astype(float)
        spread = float(np.nanstd(v.to_numpy())) or 1.0
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        out["noise"] = v + rng.normal(0, NOISE_FRACTION * spread, len(v))
        out["missing"] = missing
        out["x1000"] = v * 1000
        out["extreme"] = pd.Series(
            np.where(rng.random(len(v)) < 0.5, lo - 10 * spread, hi + 10 * spread), index=s.index
        )
    elif kind in ("categorical", "boolean"):
        text = s.astype("object")
        out["missing"] = missing
        out["unseen"] = pd.Series("__unseen__", index=s.index, dtype="object")
        out["misspelled"] = text.map(lambda x: x if pd.isna(x) else str(x).upper() + " ")
    return out


def _whole_steps(s: pd.Series) -> bool:
    """Integer-valued column whose noise (a fraction of its spread) is below one unit."""
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(v) or not np.all(v == np.round(v)):
        return False
    return bool(NOISE_FRACTION * float(np.std(v)) < 1.0)


def perturbation_table(ctx: AuditContext) -> dict[str, Any] | None:
    def compute() -> dict[str, Any] | None:
        side = "test" if ctx.test is not None else "train"
        frame = ctx.frame(side)
        rng = ctx.rng(55)
        index = frame.index.to_numpy()
        if len(index) > MAX_ROWS:
            index = np.sort(rng.choice(index, MAX_ROWS, replace=False))
        X = model_input(ctx, side, index)
        predict = predictor(ctx)
        base = predict(X)
        y = None
        if ctx.target and ctx.target in frame.columns:
            yy = frame.loc[index, ctx.target]
            if yy.notna().all():
                y = yy.to_numpy()
        if ctx.is_classification:
            y_s = None if y is None else y.astype(str)
            spread_y = 0.0
        else:
            y_s = None
            spread_y = float(np.std(ctx.y("train").to_numpy(dtype=float))) or 1.0

        def score(pred: np.ndarray) -> float | None:
            if y is None:
                return None
            if ctx.is_classification:
                return float(np.mean(pred == y_s))
            return float(np.mean(np.abs(pred - y.astype(float))))

        def flips(pred: np.ndarray) -> float:
            if ctx.is_classification:
                return float(np.mean(pred != base))
            return float(np.mean(np.abs(pred - base) > 0.1 * spread_y))

        base_score = score(base)
        rows: list[dict[str, Any]] = []
        for col in ctx.features:
            for name, values in _perturbations(ctx, col, X, rng).items():
                Xp = X.copy()
                try:
                    Xp[col] = values.astype(X[col].dtype) if name == "noise" else values
                    pred = predict(Xp)
                except Exception as exc:  # a model that refuses the input is a finding too
                    rows.append({"column": col, "perturbation": name, "error": str(exc)[:200]})
                    continue
                sc = score(pred)
                drop = None
                if sc is not None and base_score is not None:
                    drop = base_score - sc if ctx.is_classification else sc - base_score
                row = {"column": col, "perturbation": name, "flip_rate": flips(pred), "drop": drop}
                if name == "noise" and _whole_steps(X[col]):
                    # an integer column (hour, count) cannot move by less than one unit, so
                    # its "small" noise is a whole step: a fact about the model, not fragility
                    row["whole_steps"] = True
                rows.append(row)
        # the reference refit is needed only when some column's small noise flips enough
        noisy = [
            r
            for r in rows
            if r.get("perturbation") == "noise"
            and not r.get("whole_steps")
            and r.get("flip_rate", 0.0) > WARN_FLIP
        ]
        return {
            "rows": rows,
            "retrain_flip_rate": retrain_flip_rate(ctx, X, base, flips) if noisy else None,
            "side": side,
            "n": len(index),
            "base_score": base_score,
            "metric": "accuracy" if ctx.is_classification else "MAE",
        }

    result: dict[str, Any] | None = ctx.cached("robustness:perturb", compute)
    return result


@check(
    "robustness.perturbation",
    mode="robustness",
    requires=("target", "features", "model"),
    order=85,
)
def find_perturbation_sensitivity(ctx: AuditContext) -> Iterator[Finding]:
    """Per column: metric drop and prediction flips under noise, missing values, unseen or
    misspelled categories, x1000 unit changes and out-of-range extremes."""
    if ctx.schema.roles.prediction or ctx.schema.roles.probabilities:
        return  # predictions given as columns: there is no model to perturb
    ctx.progress("perturbation tests")
    table = perturbation_table(ctx)
    if table is None or not table["rows"]:
        return
    rows = table["rows"]
    ok = [r for r in rows if "flip_rate" in r]
    # sensitivity ranking: the largest flip rate of each column over all perturbations
    by_col: dict[str, float] = {}
    for r in ok:
        by_col[r["column"]] = max(by_col.get(r["column"], 0.0), r["flip_rate"])
    ranking = sorted(by_col.items(), key=lambda kv: -kv[1])
    noise = {
        r["column"]: r for r in ok if r["perturbation"] == "noise" and not r.get("whole_steps")
    }
    # small noise must change more predictions than refitting the model on a resample of
    # its own training data does: below that, the flips are the model's variance, not a
    # sharp edge on this column
    retrain = table.get("retrain_flip_rate")
    bar = max(WARN_FLIP, RETRAIN_FACTOR * (retrain or 0.0))
    fragile = [
        (c, r["flip_rate"])
        for c, r in sorted(noise.items(), key=lambda kv: -kv[1]["flip_rate"])
        if r["flip_rate"] > bar
    ]
    refused = [r for r in rows if "error" in r]
    metric, side, n = table["metric"], table["side"], table["n"]
    top = ", ".join(f"{c} ({f:.0%})" for c, f in ranking[:5])
    evidence = {
        "ranking": [{"column": c, "max_flip_rate": f} for c, f in ranking],
        "table": rows,
        "base_score": table["base_score"],
        "metric": metric,
        "rows_used": n,
        "side": side,
        "noise_fraction_of_sd": NOISE_FRACTION,
        "retrain_flip_rate": retrain,
    }
    yield Finding(
        check="robustness.perturbation",
        mode="robustness",
        severity="info",
        title=f"Most sensitive columns under perturbation: {top}",
        detail=(
            f"Each column was disturbed on {n:,} {side} rows (noise of {NOISE_FRACTION:.0%} of "
            "its standard deviation, all missing, x1000 units, out-of-range extremes; unseen, "
            "misspelled or missing categories) and the share of predictions that changed and "
            f"the drop in {metric} were measured. Columns ranked by their largest flip rate."
        ),
        columns=[c for c, _ in ranking[:5]],
        evidence=evidence,
        action=(
            "Validate these columns at serving time (range, units, allowed categories) and "
            "monitor them first."
        ),
    )
    if fragile:
        c0, f0 = fragile[0]
        yield Finding(
            check="robustness.perturbation",
            mode="robustness",
            severity="warning",
            title=f"Fragile to small noise: {f0:.0%} of predictions flip when {c0} moves by "
            f"{NOISE_FRACTION:.0%} of its spread",
            detail=(
                f"Noise of {NOISE_FRACTION:.0%} of a column's spread changes more than "
                f"{WARN_FLIP:.0%} of predictions for: "
                + ", ".join(f"{c} ({f:.0%})" for c, f in fragile)
                + (
                    f"; refitting the model on a bootstrap resample of train changes "
                    f"{retrain:.0%}, less than half as many"
                    if retrain is not None
                    else "; the model could not be refitted for a reference"
                )
                + ". The model draws sharp boundaries on these columns."
            ),
            columns=[c for c, _ in fragile],
            evidence={
                "fragile": [{"column": c, "flip_rate": f} for c, f in fragile],
                "retrain_flip_rate": retrain,
                "bar": bar,
            },
            action="Regularise (smoother model, monotonic constraints, binning) or add noise "
            "augmentation; check whether the column carries a shortcut.",
        )
    if refused:
        cols = sorted({r["column"] for r in refused})
        yield Finding(
            check="robustness.perturbation",
            mode="robustness",
            severity="warning",
            title=f"The model fails on perturbed input in {len(cols)} column(s): "
            + ", ".join(cols[:5]),
            detail="Prediction raised an error for: "
            + "; ".join(f"{r['column']} {r['perturbation']}: {r['error']}" for r in refused[:5]),
            columns=cols,
            evidence={"refused": refused},
            action="Handle missing values and unseen categories in the pipeline.",
        )
