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
    #: The error cross-validation on train predicts for rows like this one (misclassification
    #: rate or absolute error; see :func:`expected_error`).
    expected: np.ndarray | None
    binary: bool
    metric: str  # "error" or "absolute error"
    source: str
    #: The labels (as strings for classification) and, to measure how well the model ranks
    #: rows inside a slice, a score: the probability of the second class of a binary target,
    #: or the prediction of a regressor (None for multiclass or without probabilities).
    y: np.ndarray | None = None
    score: np.ndarray | None = None


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
            y_s = y.astype(str)
            err = (label.astype(str) != y_s).astype(float)
            score = None
            if pred.proba is not None and len(pred.classes) == 2:
                score = np.asarray(pred.proba, dtype=float)[labelled][:, 1]
                y_s = (y_s == str(pred.classes[1])).astype(float)
            expected = expected_error(ctx, X, cross_fit=side == "train")
            return Evaluation(side, X, err, expected, True, "error", pred.source, y_s, score)
        err = np.abs(label.astype(float) - y.astype(float))
        expected = expected_error(ctx, X, cross_fit=side == "train")
        return Evaluation(
            side,
            X,
            err,
            expected,
            False,
            "absolute error",
            pred.source,
            y.astype(float),
            label.astype(float),
        )

    result: Evaluation | None = ctx.cached("robustness:evaluation", compute)
    return result


def expected_error(ctx: AuditContext, X: pd.DataFrame, *, cross_fit: bool) -> np.ndarray | None:
    """The error expected for each row of ``X`` from cross-validation on train: a model of
    the out-of-fold errors on train (0/1 misclassification, or absolute residual).

    Some regions are merely hard (married couples without capital gains in Adult, small
    districts): every model errs more there, and cross-validation on train already shows it.
    A classifier's own confidence is no such reference: a boosted model fitted on a thousand
    rows is overconfident everywhere, most of all where it is hard. A weak slice must err
    clearly more than this expectation. With ``cross_fit`` (``X`` is train itself) each row's
    expectation comes from a model fitted on the other folds.
    """
    from sklearn.model_selection import KFold, cross_val_predict

    from tripwire.models import make_baseline

    if ctx.missing("model") is not None or not ctx._baseline_can_fit():
        return None
    oof = np.asarray(ctx.oof().label)
    if ctx.is_classification:
        y_tr = ctx.y("train")
        resid = (oof.astype(str) != y_tr.astype(str).to_numpy()).astype(float)
        resid[y_tr.isna().to_numpy()] = np.nan
    else:
        resid = np.abs(ctx.y("train").to_numpy(dtype=float) - oof.astype(float))
    ok = np.isfinite(resid)
    if ok.sum() < 50:
        return None
    kinds = {c: ctx.kinds[c] for c in ctx.features}
    est = make_baseline("regression", kinds, ctx.random_state, fast=True)
    Xtr = ctx.X("train")
    ctx.progress("modelling the expected error from out-of-fold errors on train")
    if cross_fit:
        out = np.full(len(Xtr), np.nan)
        cv = KFold(5, shuffle=True, random_state=ctx.random_state)
        out[ok] = cross_val_predict(est, Xtr[ok], resid[ok], cv=cv)
        pos = Xtr.index.get_indexer(X.index)
        return np.clip(out[pos], 0, None)
    est.fit(Xtr[ok], resid[ok])
    return np.clip(np.asarray(est.predict(X), dtype=float), 0, None)
