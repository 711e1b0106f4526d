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
        proba = preds.proba
        # a class seen only in test gets probability 0 from the model: a column of zeros keeps
        # the panel and the calibration defined (and charges the model for missing it)
        unseen = [c for c in ctx.schema.classes if c not in classes and np.any(y == c)]
        if unseen:
            classes = classes + unseen
            if proba is not None:
                proba = np.hstack([proba, np.zeros((len(proba), len(unseen)))])
        return EvalInputs(
            as_labels(y),
            as_labels(preds.label),
            proba,
            classes,
            weight,
            task,
            as_labels(ctx.y("train").to_numpy()),
            tw,
            preds.source,
        )

    return ctx.cached("metrics:inputs", compute)  # type: ignore[no-any-return]


def as_labels(values: Any) -> np.ndarray:
    """Class labels as numbers when they all are (scikit-learn's metrics reject object arrays
    of ints), else as objects.

    Examples
    --------
    >>> as_labels(np.array([3, 9], dtype=object)).dtype.kind, as_labels(["a", "b"]).dtype.kind
    ('i', 'O')
    """
    obj = np.asarray(values, dtype=object)
    native = np.asarray(obj.tolist())
    return native if native.dtype.kind in "biuf" else obj


def minority_class(inputs: EvalInputs) -> Any:
    values, counts = np.unique(inputs.train_y.astype(str), return_counts=True)
    rare = values[counts.argmin()]
    return next(c for c in inputs.classes if str(c) == rare)


def class_shares(inputs: EvalInputs) -> dict[str, float]:
    w = np.ones(len(inputs.train_y)) if inputs.train_weight is None else inputs.train_weight
    total = w.sum()
    return {str(c): float(w[inputs.train_y == c].sum() / total) for c in inputs.classes}
