"""Shortcuts: one feature the model leans on far more than on the others, whose relation to
the target is unstable across time periods or groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.checks import check
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

#: The top feature's permutation importance must be this many times the runner-up's.
DOMINANCE = 1.5
MAX_ROWS = 4000


def _importance(ctx: AuditContext) -> dict[str, float]:
    from tripwire.checks.robustness.perturb import model_input, predictor

    side = "test" if ctx.test is not None and ctx.target in ctx.test.columns else "train"
    frame = ctx.frame(side)
    rng = ctx.rng(63)
    index = frame.index.to_numpy()
    if len(index) > MAX_ROWS:
        index = np.sort(rng.choice(index, MAX_ROWS, replace=False))
    X = model_input(ctx, side, index)
    y = frame.loc[index, ctx.target].to_numpy()
    predict = predictor(ctx)

    def score(pred: np.ndarray) -> float:
        if ctx.is_classification:
            return float(np.mean(pred == y.astype(str)))
        return -float(np.mean(np.abs(pred - y.astype(float))))

    base = score(predict(X))
    out = {}
    for c in ctx.features:
        Xp = X.copy()
        Xp[c] = X[c].to_numpy()[rng.permutation(len(X))]
        out[c] = base - score(predict(Xp))
    return out


def _association(x: pd.Series, y: np.ndarray, classification: bool) -> tuple[float, float]:
    """Spearman correlation of a (target-encoded when categorical) feature with the target,
    and its standard error (Fisher z scale)."""
    ok = x.notna().to_numpy()
    if ok.sum() < 20:
        return float("nan"), float("nan")
    r = stats.spearmanr(x.to_numpy()[ok], y[ok]).statistic
    return float(np.arctanh(np.clip(r, -0.999, 0.999))), 1 / np.sqrt(max(ok.sum() - 3, 1))


def instability(ctx: AuditContext, feature: str) -> dict[str, Any] | None:
    """Relation of ``feature`` to the target per time period (quintiles) or per large group;
    Cochran's Q test of heterogeneity of the Fisher-z correlations."""
    roles = ctx.schema.roles
    df = ctx.train
    y_raw = df[ctx.target]
    if ctx.is_classification:
        top = y_raw.value_counts().index[0]
        y = (y_raw == top).to_numpy(dtype=float)
    else:
        y = y_raw.to_numpy(dtype=float)
    x = df[feature]
    if ctx.kinds.get(feature) != "numeric":
        means = pd.Series(y, index=df.index).groupby(x.astype(str)).mean()
        x = x.astype(str).map(means)
    if roles.time:
        parts = pd.qcut(df[roles.time].rank(method="first"), 5, labels=False).to_numpy()
        by = f"time period ({roles.time})"
    elif roles.group:
        g = df[roles.group].astype(str)
        big = g.value_counts()
        big = big[big >= 50].index[:10]
        if len(big) < 3:
            return None
        parts = np.where(g.isin(big), g, None)
        by = f"group ({roles.group})"
    else:
        return None
    zs, ses, names = [], [], []
    for p in pd.unique(parts[pd.notna(parts)]):
        m = parts == p
        z, se = _association(x[m], y[m], ctx.is_classification)
        if np.isfinite(z):
            zs.append(z)
            ses.append(se)
            names.append(str(p))
    if len(zs) < 3:
        return None
    z_arr, w = np.array(zs), 1 / np.array(ses) ** 2
    pooled = float((w * z_arr).sum() / w.sum())
    q = float((w * (z_arr - pooled) ** 2).sum())
    p_value = float(stats.chi2.sf(q, len(zs) - 1))
    return {
        "by": by,
        "parts": names,
        "correlation": np.tanh(z_arr).tolist(),
        "pooled": float(np.tanh(pooled)),
        "cochran_q": q,
        "p_value": p_value,
        "sign_flip": bool((np.tanh(z_arr) > 0.05).any() and (np.tanh(z_arr) < -0.05).any()),
    }


@check(
    "robustness.shortcut",
    mode="robustness",
    requires=("target", "features", "model"),
    order=86,
)
def find_shortcut(ctx: AuditContext) -> Iterator[Finding]:
    """A feature the model leans on far more than the others whose relation to the target is
    unstable across time periods or groups."""
    if ctx.schema.roles.prediction or ctx.schema.roles.probabilities or len(ctx.features) < 2:
        return
    if not (ctx.schema.roles.time or ctx.schema.roles.group):
        return
    ctx.progress("shortcut search (permutation importance)")
    imp = _importance(ctx)
    ranked = sorted(imp.items(), key=lambda kv: -kv[1])
    (f1, i1), (_f2, i2) = ranked[0], ranked[1]
    dominance = i1 / max(i2, 1e-3)
    if i1 <= 0.01 or dominance < DOMINANCE:
        return
    inst = instability(ctx, f1)
    if inst is None:
        return
    unstable = inst["p_value"] < 0.001 and (inst["sign_flip"] or np.ptp(inst["correlation"]) > 0.3)
    corr = ", ".join(f"{p}: {c:+.2f}" for p, c in zip(inst["parts"], inst["correlation"]))
    yield Finding(
        check="robustness.shortcut",
        mode="robustness",
        severity="warning" if unstable else "info",
        title=(
            f"Possible shortcut: the model leans on {f1} ({dominance:.1f}x the next feature), "
            f"whose relation to the target changes across {inst['by']}"
            if unstable
            else f"The model leans on {f1} ({dominance:.1f}x the next feature); its relation "
            f"to the target is stable across {inst['by']}"
        ),
        detail=(
            f"Permutation importance of {f1} is {i1:.3g} against {i2:.3g} for the next feature. "
            f"Its rank correlation with the target per {inst['by']}: {corr} (Cochran's Q = "
            f"{inst['cochran_q']:.1f}, p = {inst['p_value']:.2g})."
        ),
        columns=[f1],
        evidence={
            "importance": dict(ranked[:10]),
            "dominance": dominance,
            **inst,
        },
        action=(
            f"Check whether {f1} is a proxy that will not hold in deployment; retrain without "
            "it and compare on a time or group split."
            if unstable
            else "Nothing to do."
        ),
    )
