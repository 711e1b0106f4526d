"""Failure modes 6 and 7 as seen by an offline audit: what to set up, and how.

An audit cannot observe a deployed model, so these checks turn what the audit learned into a
concrete monitoring and retraining plan: which reference to log against, which metric and
baseline to alert on, and how often to retrain.
"""

from __future__ import annotations

from collections.abc import Iterator

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.findings import Finding


@check("monitoring.plan", mode="monitoring", requires=("target",), order=90)
def plan_monitoring(ctx: AuditContext) -> Iterator[Finding]:
    """A monitoring plan for this model: reference data, logged fields, alert rules."""
    task = ctx.task or "classification"
    metric = "balanced accuracy" if ctx.is_classification else "MAE"
    features = ctx.features
    yield Finding(
        check="monitoring.plan",
        mode="monitoring",
        severity="info",
        title="Set up monitoring before deploying: nothing watches this model yet",
        detail=(
            "An offline audit cannot see the model in production. Log every prediction with its "
            "features, join the true labels when they arrive, and compare each window with this "
            f"training set as the reference: input drift on {len(features)} feature(s), prediction "
            f"drift, estimated {metric} before labels arrive and realized {metric} after."
        ),
        columns=features[:20],
        evidence={
            "task": task,
            "reference_rows": int(len(ctx.train)),
            "features": features,
            "suggested_metric": metric,
            "commands": [
                "tripwire serve --db sqlite:///tripwire.db",
                "tripwire token create my-service",
            ],
            "python": (
                "from tripwire import Monitor\n"
                "mon = Monitor('http://127.0.0.1:8765', model='my-model', token=TOKEN)\n"
                "mon.log(id=request_id, features=row, prediction=y_hat, probabilities=proba)\n"
                "mon.feedback(id=request_id, label=y_true)  # when the label arrives"
            ),
        },
        action=(
            "Run `tripwire serve`, register the model with this training set as reference "
            "(POST /v1/models), and log predictions and feedback with tripwire.Monitor."
        ),
    )


@check("lifecycle.plan", mode="lifecycle", requires=("target",), order=90)
def plan_lifecycle(ctx: AuditContext) -> Iterator[Finding]:
    """A retraining plan: triggers, the champion/challenger gate, rollback."""
    has_time = bool(ctx.schema.roles.time)
    yield Finding(
        check="lifecycle.plan",
        mode="lifecycle",
        severity="info",
        title="Plan retraining: a model trained once degrades as the world moves",
        detail=(
            "Register this model as champion, retrain on fresh labelled data when drift or a "
            "performance drop is detected, promote a challenger only when it beats the champion "
            "on the latest labels with confidence, and roll back automatically when live metrics "
            "breach a rule after promotion."
            + ("" if has_time else " Give --time to measure how fast performance decays over time.")
        ),
        evidence={
            "commands": [
                "tripwire registry add my-model model.joblib --train train.csv --target "
                f"{ctx.target} --alias champion",
                "tripwire loop --config tripwire.toml",
                "tripwire rollback my-model",
            ],
        },
        action="Register the model and describe triggers, gate and rollback rules in tripwire.toml.",
    )
