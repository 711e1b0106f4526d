"""Preprocessing leakage: steps of a fitted Pipeline or ColumnTransformer fitted on test data.

Each fitted step (inside Pipelines, ColumnTransformers and FeatureUnions) is refitted twice
from a clone, on the step's own input computed from train only and from train plus test. Its
learned attributes (``mean_``, ``scale_``, ``statistics_``, ``categories_``, ``scores_``,
``components_``, ``encodings_``, ``n_samples_seen_``...) are compared with both refits: a step
that matches train plus test, and not train, saw the test set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE
from tripwire.context import AuditContext
from tripwire.findings import Finding

MATCH = 1e-5
_SKIP_ATTRS = {"n_features_in_", "feature_names_in_", "n_jobs_", "output_indices_"}


@dataclass(frozen=True)
class StepVerdict:
    """How one fitted step compares with refits on train and on train plus test."""

    path: str
    estimator: str
    distance_train: float
    distance_train_test: float
    attributes: tuple[str, ...]

    @property
    def verdict(self) -> str:
        if self.distance_train <= MATCH:
            return "train"
        if self.distance_train_test <= MATCH:
            return "train+test"
        return "other"


def _diff(a: Any, b: Any, name: str) -> float | None:
    """Relative difference of two fitted attribute values (0 equal, 1 unrelated)."""
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return 1.0
        parts = [_diff(x, y, name) for x, y in zip(a, b)]
        known = [p for p in parts if p is not None]
        return max(known) if known else None
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return 1.0
        return 0.0 if all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a) else 1.0
    if np.isscalar(a) or isinstance(a, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return 1.0
        if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
            x, y = x.astype(float), y.astype(float)
            if name == "components_":
                x, y = np.abs(x), np.abs(y)  # the sign of a component is arbitrary
            both_nan = np.isnan(x) & np.isnan(y)
            x, y = np.where(both_nan, 0, x), np.where(both_nan, 0, y)
            denom = float(np.abs(x).sum() + np.abs(y).sum()) or 1.0
            return float(np.abs(x - y).sum() / denom)
        return 0.0 if np.array_equal(x.astype(str), y.astype(str)) else 1.0
    return None


def _distance(user: Any, refit: Any) -> tuple[float, list[str]]:
    total, names = 0.0, []
    for name, value in vars(user).items():
        if not name.endswith("_") or name.startswith("_") or name in _SKIP_ATTRS:
            continue
        if not hasattr(refit, name):
            continue
        d = _diff(value, getattr(refit, name), name)
        if d is not None:
            total = max(total, d)
            names.append(name)
    return total, names


def _fit_clone(step: Any, X: Any, y: Any) -> Any:
    from sklearn.base import clone

    return clone(step).fit(X, y)


def _concat(a: Any, b: Any) -> Any:
    if isinstance(a, pd.DataFrame):
        return pd.concat([a, b], ignore_index=True)
    if isinstance(a, pd.Series):
        return pd.concat([a, b], ignore_index=True)
    import scipy.sparse as sp

    if sp.issparse(a):
        return sp.vstack([a, b])
    return np.concatenate([np.asarray(a), np.asarray(b)])


def fitted_steps(
    est: Any, X_tr: Any, X_te: Any, path: str = ""
) -> Iterator[tuple[str, Any, Any, Any]]:
    """Every fitted preprocessing step with its input on train and on test."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.utils import _safe_indexing

    if isinstance(est, Pipeline):
        steps = est.steps
        for i, (name, step) in enumerate(steps):
            if step is None or step == "passthrough":
                continue
            last = i == len(steps) - 1
            if last and not hasattr(step, "transform"):
                return
            yield from fitted_steps(step, X_tr, X_te, f"{path}{name}")
            if not last:
                X_tr, X_te = step.transform(X_tr), step.transform(X_te)
        return
    if isinstance(est, ColumnTransformer):
        for name, trans, cols in est.transformers_:
            if isinstance(trans, str):
                continue
            sub_tr = _safe_indexing(X_tr, cols, axis=1)
            sub_te = _safe_indexing(X_te, cols, axis=1)
            yield from fitted_steps(trans, sub_tr, sub_te, f"{path}/{name}" if path else name)
        return
    if isinstance(est, FeatureUnion):
        for name, trans in est.transformer_list:
            if not isinstance(trans, str):
                yield from fitted_steps(trans, X_tr, X_te, f"{path}/{name}" if path else name)
        return
    if hasattr(est, "transform"):
        yield path or type(est).__name__, est, X_tr, X_te


def audit_pipeline(model: Any, X_tr: Any, X_te: Any, y_tr: Any, y_te: Any) -> list[StepVerdict]:
    """Compare each fitted step of ``model`` with refits on train and on train plus test.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    >>> leaky = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)  # all 200 rows
    >>> [v.verdict for v in audit_pipeline(leaky, X[:150], X[150:], y[:150], y[150:])]
    ['train+test']
    """
    out = []
    X_all = None
    for path, step, s_tr, s_te in fitted_steps(model, X_tr, X_te):
        try:
            on_train = _fit_clone(step, s_tr, y_tr)
            X_all = _concat(s_tr, s_te)
            y_all = None if y_tr is None or y_te is None else _concat(y_tr, y_te)
            on_all = _fit_clone(step, X_all, y_all)
        except Exception:  # a step that cannot be refitted is not judged
            continue
        d_tr, names = _distance(step, on_train)
        d_all, _ = _distance(step, on_all)
        if not names:
            continue
        out.append(StepVerdict(path, type(step).__name__, d_tr, d_all, tuple(names)))
    return out


def _model_inputs(ctx: AuditContext, side: str) -> tuple[Any, Any]:
    raw = ctx.raw.get(side)
    frame = raw if raw is not None else ctx.frame(side)
    cols = getattr(ctx.model, "feature_names_in_", None)
    cols = list(cols) if cols is not None else ctx.features
    X = frame[cols].reset_index(drop=True)
    y = frame[ctx.target].reset_index(drop=True) if ctx.target in frame.columns else None
    return X, y


@check("leakage.preprocessing", mode=MODE, requires=("test", "user_model"), order=40)
def find_preprocessing_leak(ctx: AuditContext) -> Iterator[Finding]:
    """Steps of the fitted pipeline whose statistics come from train plus test."""
    X_tr, y_tr = _model_inputs(ctx, "train")
    X_te, y_te = _model_inputs(ctx, "test")
    ctx.progress("refitting pipeline steps")
    verdicts = audit_pipeline(ctx.model, X_tr, X_te, y_tr, y_te)
    if not verdicts:
        return
    leaky = [v for v in verdicts if v.verdict == "train+test"]
    other = [v for v in verdicts if v.verdict == "other"]
    table = [
        {
            "step": v.path,
            "estimator": v.estimator,
            "fitted_on": v.verdict,
            "distance_to_train_refit": v.distance_train,
            "distance_to_train_test_refit": v.distance_train_test,
            "attributes": list(v.attributes),
        }
        for v in verdicts
    ]
    if leaky:
        names = ", ".join(f"{v.path} ({v.estimator})" for v in leaky)
        yield Finding(
            check="leakage.preprocessing",
            mode=MODE,
            severity="critical",
            title=f"{len(leaky)} pipeline step(s) were fitted on the test set: {names}",
            detail=(
                f"Refitted from scratch, {names} reproduce the model's fitted statistics only when "
                "given train plus test rows, not train alone. Statistics of the test set are "
                "inside the model, so the test score is optimistic."
            ),
            columns=[],
            evidence={"steps": table},
            action="Split first, then fit the whole Pipeline on train only (and inside each CV fold).",
        )
    elif other:
        names = ", ".join(v.path for v in other)
        yield Finding(
            check="leakage.preprocessing",
            mode=MODE,
            severity="info",
            title=f"Pipeline step(s) {names} match neither train nor train plus test",
            detail=(
                "These steps were fitted on other data (a different sample, a larger set, or "
                "randomly); whether they saw the test set cannot be told from their statistics."
            ),
            evidence={"steps": table},
            action="Make sure the pipeline was fitted on the train rows given here.",
        )
    else:
        yield Finding(
            check="leakage.preprocessing",
            mode=MODE,
            severity="info",
            title=f"All {len(verdicts)} fitted pipeline step(s) match train-only fitting",
            detail="Each step's statistics are reproduced by refitting it on train alone.",
            evidence={"steps": table},
            action="Nothing to do.",
        )
