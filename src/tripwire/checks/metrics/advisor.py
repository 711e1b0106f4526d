"""Which metric fits this task, its class balance and its costs, and why."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tripwire.checks import check
from tripwire.checks.metrics.inputs import class_shares, eval_inputs
from tripwire.context import AuditContext
from tripwire.findings import Finding


def advise(
    task: str, shares: dict[str, float], costs: dict[str, object] | None, y: np.ndarray
) -> tuple[str, str]:
    """The recommended metric and the reason.

    Examples
    --------
    >>> advise("binary", {"no": 0.9, "yes": 0.1}, None, np.array([]))[0]
    'PR-AUC and recall/precision of class yes'
    """
    if costs and "matrix" in costs and task != "regression":
        return (
            "expected cost per decision, deciding by the lowest expected cost",
            "you gave a cost matrix: errors between classes cost different amounts, and "
            "accuracy (and argmax decisions) treat every error the same",
        )
    if costs and ({"fn", "fp"} & set(costs) or {"over", "under"} & set(costs)):
        if task == "regression":
            over, under = float(costs.get("over", 1.0)), float(costs.get("under", 1.0))  # type: ignore[arg-type]
            q = under / (over + under)
            return (
                f"pinball loss at {q:.2f} (expected asymmetric cost)",
                "you gave asymmetric costs; the metric that equals your loss is the cost itself, "
                f"minimised by the {q:.0%} quantile, not the mean that RMSE rewards",
            )
        return (
            "expected cost per decision at the cost-optimal threshold",
            "you gave a cost matrix: it converts errors into money directly; accuracy weighs a "
            "false negative and a false positive the same",
        )
    if task == "regression":
        y = y[np.isfinite(y)]
        if len(y) and y.min() > 0 and np.quantile(y, 0.99) / max(np.quantile(y, 0.01), 1e-12) > 100:
            return (
                "MAPE (or RMSE of log target)",
                "the target is positive and spans two orders "
                "of magnitude: relative errors matter more than absolute ones",
            )
        if len(y) > 3:
            from scipy.stats import kurtosis

            if kurtosis(y) > 3:
                return (
                    "MAE",
                    "the target is heavy-tailed: RMSE is dominated by a few extreme rows",
                )
        return ("RMSE, with MAE alongside", "errors are roughly symmetric with no cost given")
    minority = min(shares.values()) if shares else 0.5
    rare = min(shares, key=lambda k: shares[k]) if shares else ""
    if task == "binary":
        if minority < 0.2:
            return (
                f"PR-AUC and recall/precision of class {rare}",
                f"class {rare} is {minority:.1%} of the data: accuracy and ROC-AUC look good "
                "for a model that rarely finds it; give --costs to pick a threshold",
            )
        return (
            "ROC-AUC, with log loss if probabilities are used as risks",
            "classes are reasonably balanced, so ranking quality is the headline",
        )
    if minority < 0.5 / max(len(shares), 1):
        return (
            "macro F1 and balanced accuracy",
            f"the rarest class ({rare}) is {minority:.1%}: accuracy is carried by frequent classes",
        )
    return ("accuracy with macro F1 alongside", "classes are reasonably balanced")


@check("metrics.advisor", mode="metrics", requires=("target",), order=59)
def check_advisor(ctx: AuditContext) -> Iterator[Finding]:
    """Names the metric that fits the task, the class balance and the costs, and why."""
    from tripwire.checks.metrics.costs import parse_costs

    costs = parse_costs(ctx.option("costs")) if ctx.option("costs") else None
    task = ctx.task or "regression"
    if ctx.test is not None and ctx.missing("model") is None:
        inp = eval_inputs(ctx)
        shares = class_shares(inp) if task != "regression" else {}
        y = inp.train_y.astype(float) if task == "regression" else np.array([])
    else:
        y_tr = ctx.y("train")
        shares = (
            {str(k): float(v) for k, v in y_tr.value_counts(normalize=True).items()}
            if task != "regression"
            else {}
        )
        y = y_tr.to_numpy(dtype=float) if task == "regression" else np.array([])
    metric, why = advise(task, shares, costs, y)
    yield Finding(
        check="metrics.advisor",
        mode="metrics",
        severity="info",
        title=f"Use {metric} for this {task} task",
        detail=f"Because {why}.",
        evidence={"task": task, "class_shares": shares, "costs": costs, "recommended": metric},
        action=f"Optimise and report {metric}; keep the others in the panel for context.",
    )
