"""The metric panel with bootstrap intervals, and the model against trivial baselines.

A baseline that ignores the features (majority class and class prior for classification,
train mean and median for regression) is evaluated on the same test rows. The model must be
significantly better on a metric that a trivial model cannot game: balanced accuracy,
ROC-AUC or Brier score (classification), MAE or RMSE (regression), by a paired bootstrap
interval of the difference at a Bonferroni share of the family level.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tripwire.checks import check
from tripwire.checks.metrics.inputs import (
    FAMILY_ALPHA,
    N_TESTS,
    EvalInputs,
    as_labels,
    eval_inputs,
)
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.metrics import MetricValue, metric_panel, paired_difference


def _baselines(inp: EvalInputs) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    n = len(inp.y)
    tw = np.ones(len(inp.train_y)) if inp.train_weight is None else inp.train_weight
    if inp.task == "regression":
        order = np.argsort(inp.train_y)
        cum = np.cumsum(tw[order])
        median = float(inp.train_y[order][np.searchsorted(cum, cum[-1] / 2)])
        mean = float(np.average(inp.train_y, weights=tw))
        return {"train mean": (np.full(n, mean), None), "train median": (np.full(n, median), None)}
    prior = np.array([tw[inp.train_y == c].sum() for c in inp.classes], dtype=float)
    prior = prior / prior.sum()
    majority = as_labels([inp.classes[int(prior.argmax())]] * n)
    proba = np.tile(prior, (n, 1)) if inp.proba is not None else None
    return {"majority class / class prior": (majority, proba)}


def _comparison_metrics(inp: EvalInputs) -> list[str]:
    if inp.task == "regression":
        return ["mae", "rmse"]
    return ["balanced_accuracy"] + (["roc_auc", "brier"] if inp.proba is not None else [])


def model_vs_baseline(ctx: AuditContext) -> dict[str, Any]:
    """Panels of the model and the baselines, and the paired differences (cached)."""

    def compute() -> dict[str, Any]:
        inp = eval_inputs(ctx)
        n_boot = int(ctx.option("n_boot", 300))
        labels = inp.classes or None
        ctx.progress("metric panel with bootstrap intervals")
        model = metric_panel(
            inp.y,
            inp.pred,
            inp.proba,
            task=inp.task,
            labels=labels,
            sample_weight=inp.weight,
            n_boot=n_boot,
            random_state=ctx.random_state,
        )
        baselines = {}
        diffs: dict[str, dict[str, MetricValue]] = {}
        level = 1 - FAMILY_ALPHA / N_TESTS
        for name, (bpred, bproba) in _baselines(inp).items():
            baselines[name] = metric_panel(
                inp.y,
                bpred,
                bproba,
                task=inp.task,
                labels=labels,
                sample_weight=inp.weight,
                n_boot=n_boot,
                random_state=ctx.random_state,
                metrics=[m for m in model if not m.startswith(("precision:", "recall:", "f1:"))],
            )
            diffs[name] = {
                m: paired_difference(
                    m,
                    inp.y,
                    (inp.pred, inp.proba),
                    (bpred, bproba),
                    labels=labels,
                    sample_weight=inp.weight,
                    n_boot=n_boot,
                    random_state=ctx.random_state,
                    level=level,
                    stratify=inp.task != "regression",
                )
                for m in _comparison_metrics(inp)
            }
        return {"model": model, "baselines": baselines, "diffs": diffs, "level": level}

    return ctx.cached("metrics:panel", compute)  # type: ignore[no-any-return]


def _fmt(m: MetricValue) -> str:
    if not np.isfinite(m.low):
        return f"{m.value:.4g}"
    return f"{m.value:.4g} [{m.low:.4g}, {m.high:.4g}]"


def _better(d: MetricValue) -> bool:
    return bool(np.isfinite(d.low) and (d.low > 0 if d.higher_is_better else d.high < 0))


@check("metrics.panel", mode="metrics", requires=("test", "target", "model"), order=60)
def check_panel(ctx: AuditContext) -> Iterator[Finding]:
    """The metric panel with bootstrap intervals, the model against trivial baselines."""
    inp = eval_inputs(ctx)
    res = model_vs_baseline(ctx)
    model: dict[str, MetricValue] = res["model"]
    table = {k: v.to_dict() for k, v in model.items()}
    base_tables = {b: {k: v.to_dict() for k, v in p.items()} for b, p in res["baselines"].items()}
    headline = ["accuracy", "balanced_accuracy", "roc_auc", "log_loss"]
    if inp.task == "regression":
        headline = ["mae", "rmse", "r2"]
    shown = ", ".join(f"{k} {_fmt(model[k])}" for k in headline if k in model)
    charts = _panel_chart(model, res["baselines"])
    yield Finding(
        check="metrics.panel",
        mode="metrics",
        severity="info",
        title=f"Metric panel on {len(inp.y):,} test rows ({inp.source}): {shown}",
        detail=(
            "Every metric with a 95% percentile-bootstrap interval"
            + (" (rows stratified by class)" if inp.task != "regression" else "")
            + (", weighted by the sample-weight column" if inp.weight is not None else "")
            + "; trivial baselines evaluated on the same rows for comparison."
        ),
        evidence={
            "n_test": len(inp.y),
            "weighted": inp.weight is not None,
            "model": table,
            "baselines": base_tables,
            "charts": charts,
        },
        action="Report metrics with their intervals; compare models by the interval of the difference.",
    )
    # the model against each baseline
    for bname, diffs in res["diffs"].items():
        better = {m: _better(d) for m, d in diffs.items()}
        ev = {
            "baseline": bname,
            "level": round(res["level"], 4),
            "differences": {m: d.to_dict() for m, d in diffs.items()},
            "significantly_better_on": [m for m, b in better.items() if b],
        }
        if not any(better.values()):
            listed = "; ".join(f"{m} difference {_fmt(d)}" for m, d in diffs.items())
            yield Finding(
                check="metrics.baseline",
                mode="metrics",
                severity="critical",
                title=f"The model is not significantly better than a trivial baseline ({bname})",
                detail=(
                    f"A model that ignores every feature ({bname}) does as well on {len(inp.y):,} "
                    f"test rows: {listed} ({res['level']:.1%} paired bootstrap intervals, "
                    "Bonferroni share of a 5% family level). The model has learned nothing "
                    "useful that the test set can show."
                ),
                evidence=ev,
                action=(
                    "Do not ship. Check the labels and features (leakage, noise), rebalance or "
                    "reweight classes, and compare on a metric the baseline cannot game."
                ),
            )
    if inp.task != "regression" and "accuracy" in model:
        base = res["baselines"]["majority class / class prior"]["accuracy"]
        acc = model["accuracy"]
        # a model that beats the baseline on a metric it cannot game is fine; only its
        # accuracy is uninformative, which is worth saying but not worth a warning
        learned = any(_better(d) for diffs in res["diffs"].values() for d in diffs.values())
        if base.low <= acc.value <= base.high:
            yield Finding(
                check="metrics.misleading_accuracy",
                mode="metrics",
                severity="info" if learned else "warning",
                title=(
                    f"Accuracy is misleading: {acc.value:.1%} is within the majority-class "
                    f"baseline's interval [{base.low:.1%}, {base.high:.1%}]"
                ),
                detail=(
                    f"Predicting the most frequent class for every row scores {base.value:.1%} "
                    "accuracy, so the model's accuracy says nothing about whether it learned"
                    + (
                        " (it is significantly better on a metric the baseline cannot game, so "
                        "the model is fine; its accuracy is the wrong headline). "
                        if learned
                        else ". "
                    )
                    + (
                        f"Balanced accuracy {_fmt(model['balanced_accuracy'])}"
                        + (f", PR-AUC {_fmt(model['pr_auc'])}" if "pr_auc" in model else "")
                        + " tell more."
                    )
                ),
                evidence={
                    "accuracy": acc.to_dict(),
                    "majority_accuracy": base.to_dict(),
                    "better_than_baseline": learned,
                },
                action="Report balanced accuracy, per-class recall and PR-AUC instead of accuracy.",
            )


def _panel_chart(model: dict[str, MetricValue], baselines: dict[str, Any]) -> list[dict[str, Any]]:
    from tripwire import charts

    names = [k for k, v in model.items() if ":" not in k and np.isfinite(v.value)]
    series = {"model": [model[k].value for k in names]}
    for b, panel in baselines.items():
        series[b] = [panel[k].value if k in panel else float("nan") for k in names]
    errors = {"model": ([model[k].low for k in names], [model[k].high for k in names])}
    return [charts.bar(names, series, title="Model and trivial baselines on test", errors=errors)]
