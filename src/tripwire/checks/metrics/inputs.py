"""The test-set labels, predictions, probabilities and weights every metrics check reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tripwire.context import AuditContext

#: Family-wise level of the metrics warnings that test a hypothesis (baseline, costs,
#: calibration): each uses a Bonferroni share of it.
FAMILY_ALPHA = 0.05
N_TESTS = 3


@dataclass(frozen=True)
class EvalInputs:
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]
    weight: np.ndarray | None
    task: str
    train_y: np.ndarray
    train_weight: np.ndarray | None
    source: str


def eval_inputs(ctx: AuditContext) -> EvalInputs:
    """Labels and model outputs on test, with classes in the column order of ``proba``."""

    def compute() -> EvalInputs:
        preds = ctx.test_predictions()
        y = ctx.y("test").to_numpy()
        wcol = ctx.schema.roles.weight
        weight = None if not wcol else ctx.frame("test")[wcol].to_numpy(dtype=float)
        tw = None if not wcol else ctx.frame("train")[wcol].to_numpy(dtype=float)
        task = ctx.task or "regression"
        if task == "regression":
            return EvalInputs(
                y.astype(float),
                np.asarray(preds.label, dtype=float),
                None,
                [],
                weight,
                task,
                ctx.y("train").to_numpy(dtype=float),
                tw,
                preds.source,
            )
        classes = list(preds.classes) if preds.proba is not None else list(ctx.schema.classes)
        y_obj = np.asarray(y, dtype=object)
        pred = np.asarray(preds.label, dtype=object)
        return EvalInputs(
            y_obj,
            pred,
            preds.proba,
            classes,
            weight,
            task,
            np.asarray(ctx.y("train").to_numpy(), dtype=object),
            tw,
            preds.source,
        )

    return ctx.cached("metrics:inputs", compute)  # type: ignore[no-any-return]


def minority_class(inputs: EvalInputs) -> Any:
    values, counts = np.unique(inputs.train_y.astype(str), return_counts=True)
    rare = values[counts.argmin()]
    return next(c for c in inputs.classes if str(c) == rare)


def class_shares(inputs: EvalInputs) -> dict[str, float]:
    w = np.ones(len(inputs.train_y)) if inputs.train_weight is None else inputs.train_weight
    total = w.sum()
    return {str(c): float(w[inputs.train_y == c].sum() / total) for c in inputs.classes}
