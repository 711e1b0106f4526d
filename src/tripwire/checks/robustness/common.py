"""Shared pieces of the robustness checks: the evaluation side and per-row errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext


@dataclass
class Evaluation:
    """Per-row errors of the model on the side it is judged on."""

    side: str  # "test" or "train" (out-of-fold)
    X: pd.DataFrame
    err: np.ndarray  # 0/1 misclassification, or absolute error
    #: The error the model expects per row: 1 - confidence in the predicted class
    #: (classification), or the absolute error that cross-validated errors on train predict
    #: for rows like this one (regression; see :func:`expected_absolute_error`).
    expected: np.ndarray | None
    binary: bool
    metric: str  # "error" or "absolute error"
    source: str


def evaluation(ctx: AuditContext) -> Evaluation | None:
    """Errors on labelled test rows when there are some, else out-of-fold errors on train."""

    def compute() -> Evaluation | None:
        if ctx.target is None or not ctx.features:
            return None
        if ctx.test is not None and ctx.target in ctx.test.columns:
            frame = ctx.test
            labelled = frame[ctx.target].notna().to_numpy()
            if labelled.sum() < 50:
                return None
            pred = ctx.test_predictions()
            side = "test"
        else:
            frame = ctx.train
            pred = ctx.oof()
            labelled = np.ones(len(frame), dtype=bool)
            side = "train"
        y = frame[ctx.target].to_numpy()[labelled]
        X = frame[ctx.features].iloc[np.flatnonzero(labelled)]
        label = np.asarray(pred.label)[labelled]
        if ctx.is_classification:
            err = (label.astype(str) != y.astype(str)).astype(float)
            expected = None
            if pred.proba is not None:
                proba = np.asarray(pred.proba)[labelled]
                expected = np.clip(1 - proba.max(axis=1), 0, 1)
            return Evaluation(side, X, err, expected, True, "error", pred.source)
        err = np.abs(label.astype(float) - y.astype(float))
        expected = expected_absolute_error(ctx, X, cross_fit=side == "train")
        return Evaluation(side, X, err, expected, False, "absolute error", pred.source)

    result: Evaluation | None = ctx.cached("robustness:evaluation", compute)
    return result


def expected_absolute_error(
    ctx: AuditContext, X: pd.DataFrame, *, cross_fit: bool
) -> np.ndarray | None:
    """The regression analogue of a classifier's confidence: the absolute error expected for
    each row of ``X``, from a model of the out-of-fold absolute residuals on train.

    Some regions are merely noisy (small districts, expensive houses): every model errs more
    there, and cross-validation on train already shows it. A weak slice must err clearly more
    than this expectation. With ``cross_fit`` (``X`` is train itself) each row's expectation
    comes from a model fitted on the other folds.
    """
    from sklearn.model_selection import KFold, cross_val_predict

    from tripwire.models import make_baseline

    if ctx.missing("model") is not None or not ctx._baseline_can_fit():
        return None
    y = ctx.y("train").to_numpy(dtype=float)
    resid = np.abs(y - np.asarray(ctx.oof().label, dtype=float))
    ok = np.isfinite(resid)
    if ok.sum() < 50:
        return None
    kinds = {c: ctx.kinds[c] for c in ctx.features}
    est = make_baseline("regression", kinds, ctx.random_state, fast=True)
    Xtr = ctx.X("train")
    ctx.progress("modelling the expected absolute error from out-of-fold residuals")
    if cross_fit:
        out = np.full(len(Xtr), np.nan)
        cv = KFold(5, shuffle=True, random_state=ctx.random_state)
        out[ok] = cross_val_predict(est, Xtr[ok], resid[ok], cv=cv)
        pos = Xtr.index.get_indexer(X.index)
        return np.clip(out[pos], 0, None)
    est.fit(Xtr[ok], resid[ok])
    return np.clip(np.asarray(est.predict(X), dtype=float), 0, None)
