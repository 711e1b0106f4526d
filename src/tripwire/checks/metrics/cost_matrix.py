"""Multiclass costs: a cost matrix, the expected cost of the model's decisions, and the
decision rule that minimises expected cost.

With probabilities ``p`` over classes and a cost ``C[i, j]`` of predicting ``j`` when the
truth is ``i``, the expected cost of predicting ``j`` is ``sum_i p_i C[i, j]``; the Bayes
decision predicts the ``j`` that minimises it (Elkan, 2001). Argmax is that rule only for the
0-1 cost. The rule has no parameter fitted on test, so its saving over the current decisions is
estimated without tuning optimism: a bootstrap interval of the per-row difference in cost.

``--costs`` takes the matrix inline as ``TRUE->PRED=COST`` pairs (``'3->8=5,8->3=2'``) or from
a JSON file ``{"matrix": {"3": {"8": 5}, "8": {"3": 2}}}``. A pair not given costs 1 off the
diagonal and 0 on it (the 0-1 loss), so only the errors that cost more or less need naming.

References
----------
Elkan, C. (2001). The foundations of cost-sensitive learning. IJCAI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tripwire.errors import InputError
from tripwire.findings import Finding
from tripwire.stats.bootstrap import mean_interval

#: A saving is material at this share of the current cost per decision.
MIN_SAVING = 0.02


def cost_matrix(pairs: dict[str, dict[str, float]], classes: list[Any]) -> np.ndarray:
    """The full matrix ``C[true, pred]`` in the order of ``classes`` (0-1 loss by default).

    Examples
    --------
    >>> cost_matrix({"a": {"c": 5.0}}, ["a", "b", "c"]).tolist()
    [[0.0, 1.0, 5.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    names = [str(c) for c in classes]
    C = 1.0 - np.eye(len(classes))
    for true, row in pairs.items():
        for pred, cost in row.items():
            for side, value in (("true", true), ("predicted", pred)):
                if value not in names:
                    raise InputError(
                        f"--costs: {side} class {value!r} in '{true}->{pred}' is not a class of "
                        f"the target (classes: {', '.join(names)})."
                    )
            C[names.index(true), names.index(pred)] = float(cost)
    return C


def min_expected_cost(proba: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Index of the class with the lowest expected cost ``proba @ C`` for each row.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [10.0, 0.0]])  # missing class 1 costs 10
    >>> min_expected_cost(np.array([[0.8, 0.2], [0.95, 0.05]]), C).tolist()
    [1, 0]
    """
    return np.asarray((proba @ C).argmin(axis=1))


def multiclass_costs(
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray,
    classes: list[Any],
    pairs: dict[str, dict[str, float]],
    weight: np.ndarray,
    *,
    level: float,
    random_state: int,
) -> Iterator[Finding]:
    """The finding for a cost matrix: current decisions against the cost-minimising rule."""
    C = cost_matrix(pairs, classes)
    names = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(names)}
    yi = np.array([index[str(v)] for v in y.tolist()])
    cur = np.array([index.get(str(v), -1) for v in pred.tolist()])
    if (cur < 0).any():
        cur = proba.argmax(axis=1)  # labels outside the classes: fall back to argmax
    rule = min_expected_cost(proba, C)
    cur_rows, rule_rows = C[yi, cur], C[yi, rule]
    cur_cost = float(np.average(cur_rows, weights=weight))
    rule_cost = float(np.average(rule_rows, weights=weight))
    gain = (cur_rows - rule_rows) * weight / weight.mean()
    iv = mean_interval(gain, level=level, n_boot=1000, random_state=random_state)
    material = iv.low > 0 and iv.estimate >= MIN_SAVING * max(cur_cost, 1e-12)
    moved = cur != rule
    changes: dict[str, int] = {}
    for a, b in zip(cur[moved].tolist(), rule[moved].tolist()):
        key = f"{names[a]}->{names[b]}"
        changes[key] = changes.get(key, 0) + 1
    top = sorted(changes.items(), key=lambda kv: -kv[1])[:5]
    yield Finding(
        check="metrics.costs",
        mode="metrics",
        severity="warning" if material else "info",
        title=(
            f"Cost per decision {cur_cost:.4g} with the current decisions; {rule_cost:.4g} "
            "when predicting the class of lowest expected cost"
        ),
        detail=(
            f"With a {len(classes)}x{len(classes)} cost matrix (unnamed errors cost 1), "
            f"choosing per row the class that minimises expected cost under the model's "
            f"probabilities changes {moved.mean():.1%} of the decisions"
            + (f" (most often {', '.join(f'{k} ({v})' for k, v in top)})" if top else "")
            + f" and saves {iv.estimate:.4g} per decision [{iv.low:.4g}, {iv.high:.4g}]"
            + (", a material saving." if material else "; not a material, significant saving.")
        ),
        evidence={
            "classes": names,
            "cost_matrix": C.tolist(),
            "cost_per_decision_current": round(cur_cost, 6),
            "cost_per_decision_min_expected_cost": round(rule_cost, 6),
            "decisions_changed": float(moved.mean()),
            "changes": dict(top),
            "saving": {**iv.to_dict(), "level": level},
        },
        action=(
            "Predict argmin_j sum_i p_i C[i, j] instead of the most probable class "
            "(tripwire.checks.metrics.cost_matrix.min_expected_cost); calibrate first, since "
            "the rule trusts the probabilities."
            if material
            else "Keep the decisions; report expected cost per decision alongside accuracy."
        ),
    )
