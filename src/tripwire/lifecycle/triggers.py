"""When to retrain: schedule, drift incidents, performance drops, enough new labels.

:func:`due_triggers` is a pure function of the loop's state and its configuration; the loop
reads the state from the monitor's store and acts on what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TriggerConfig:
    """Which triggers are on. ``None`` switches a trigger off."""

    every_seconds: float | None = None
    on_drift_incident: bool = True
    on_performance_incident: bool = True
    performance_drop: float | None = 0.05
    min_new_labels: int | None = None


@dataclass(frozen=True)
class LoopState:
    """What the loop knows at one moment (read from the store)."""

    now: float
    last_trained_at: float
    open_drift_incidents: int = 0
    open_performance_incidents: int = 0
    baseline_metric: float | None = None
    latest_metric: float | None = None
    latest_metric_kind: str = "realized"
    new_labels: int = 0


@dataclass(frozen=True)
class Trigger:
    kind: str
    reason: str


def due_triggers(state: LoopState, config: TriggerConfig) -> list[Trigger]:
    """The triggers that fire now, each with its reason.

    Examples
    --------
    >>> s = LoopState(now=10_000, last_trained_at=0, open_drift_incidents=1,
    ...               baseline_metric=0.80, latest_metric=0.71, new_labels=50)
    >>> [t.kind for t in due_triggers(s, TriggerConfig(every_seconds=3600, min_new_labels=100))]
    ['schedule', 'drift', 'performance']
    """
    fired: list[Trigger] = []
    if (
        config.every_seconds is not None
        and state.now - state.last_trained_at >= config.every_seconds
    ):
        age = (state.now - state.last_trained_at) / 3600
        fired.append(
            Trigger(
                "schedule",
                f"last training {age:.1f} h ago (every {config.every_seconds / 3600:.1f} h)",
            )
        )
    if config.on_drift_incident and state.open_drift_incidents > 0:
        fired.append(Trigger("drift", f"{state.open_drift_incidents} open drift incident(s)"))
    if config.on_performance_incident and state.open_performance_incidents > 0:
        fired.append(
            Trigger(
                "performance",
                f"{state.open_performance_incidents} open performance incident(s) in the monitor "
                "(estimated before labels, or realized)",
            )
        )
    elif (
        config.performance_drop is not None
        and state.baseline_metric is not None
        and state.latest_metric is not None
        and state.baseline_metric - state.latest_metric >= config.performance_drop
    ):
        fired.append(
            Trigger(
                "performance",
                f"{state.latest_metric_kind} metric {state.latest_metric:.3f} is "
                f"{state.baseline_metric - state.latest_metric:.3f} below the baseline {state.baseline_metric:.3f}",
            )
        )
    if config.min_new_labels is not None and state.new_labels >= config.min_new_labels:
        fired.append(
            Trigger(
                "labels",
                f"{state.new_labels} new labelled rows (threshold {config.min_new_labels})",
            )
        )
    return fired
