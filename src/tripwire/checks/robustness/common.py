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
    expected: np.ndarray | None  # 1 - confidence in the predicted class (classification)
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
        return Evaluation(side, X, err, None, False, "absolute error", pred.source)

    result: Evaluation | None = ctx.cached("robustness:evaluation", compute)
    return result
