"""The loop: watch the champion, retrain when a trigger fires, gate, promote, roll back.

One :func:`run_once` call is one pass:

1. **Rollback.** When the champion was promoted and its live metric (logged predictions
   joined with feedback, in consecutive windows of ``window_rows`` labelled rows) falls below
   the metric the previous champion had by more than ``max_drop`` for ``windows`` windows in a
   row, the previous champion is put back.
2. **Triggers.** Schedule, an open drift incident, a drop of the live metric below the
   champion's own baseline, enough new labelled rows since the last training.
3. **Retrain.** The latest ``holdout_share`` of labelled rows is kept back for the gate; the
   rest, with the original training data, goes to the user's entry point.
4. **Audit.** The candidate is audited on its training set; a critical finding rejects it.
5. **Gate.** Champion and candidate predict the holdout; the paired comparison decides.

Every step is recorded in the registry's trail with its evidence, whatever the outcome.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tripwire.lifecycle.config import LoopConfig
from tripwire.lifecycle.gate import compare_models
from tripwire.lifecycle.registry import Registry
from tripwire.lifecycle.retrain import assemble_training_set, train_candidate
from tripwire.lifecycle.rollback import check_rollback
from tripwire.lifecycle.triggers import LoopState, due_triggers

ACTOR = "loop"


class LoopSource(Protocol):
    """What the loop reads from the monitor."""

    def labelled(self, model: str) -> pd.DataFrame:
        """Logged champion-served predictions joined with feedback, oldest first.

        Columns: ``timestamp`` (UTC), ``model_version``, ``prediction``, ``label`` and one
        column per input feature.
        """
        ...

    def open_drift_incidents(self, model: str) -> int: ...

    def open_performance_incidents(self, model: str) -> int: ...


@dataclass
class PassResult:
    """What one pass did."""

    actions: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    gate: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    candidate_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": self.actions,
            "triggers": self.triggers,
            "gate": self.gate,
            "rollback": self.rollback,
            "candidate_version": self.candidate_version,
        }


def _accuracy(y: pd.Series, pred: pd.Series, task: str) -> float:
    if task == "regression":
        return -float(np.mean(np.abs(np.asarray(y, float) - np.asarray(pred, float))))
    return float(np.mean(np.asarray(y).astype(str) == np.asarray(pred).astype(str)))


def live_windows(rows: pd.DataFrame, window_rows: int, task: str) -> tuple[list[float], list[int]]:
    """Metric of consecutive windows of ``window_rows`` labelled rows (the last may be short)."""
    metrics: list[float] = []
    sizes: list[int] = []
    for start in range(0, len(rows), window_rows):
        block = rows.iloc[start : start + window_rows]
        metrics.append(_accuracy(block["label"], block["prediction"], task))
        sizes.append(len(block))
    return metrics, sizes


def _last_event(registry: Registry, name: str, actions: set[str]) -> Any:
    for e in reversed(registry.trail(name)):
        if e.action in actions:
            return e
    return None


def _task(registry: Registry, name: str, labelled: pd.DataFrame) -> str:
    try:
        task = registry.get(name, "champion").task
    except Exception:
        task = None
    if task:
        return task
    y = labelled["label"] if "label" in labelled else pd.Series(dtype=object)
    return "regression" if y.dtype.kind == "f" and y.nunique() > 20 else "classification"


def check_live_rollback(
    config: LoopConfig, registry: Registry, labelled: pd.DataFrame, task: str
) -> dict[str, Any] | None:
    """Roll back a promoted champion whose live metric breaches the rule; the evidence."""
    name = config.name
    champion = registry.aliases(name).get("champion")
    promoted = _last_event(registry, name, {"promote"})
    if champion is None or promoted is None or promoted.version != champion:
        return None
    previous = promoted.from_version
    if previous is None:
        return None
    at = pd.Timestamp(promoted.at)
    ts = pd.to_datetime(labelled["timestamp"], utc=True)
    before = labelled[(ts < at) & (labelled["model_version"] == previous)]
    after = labelled[(ts >= at) & (labelled["model_version"] == champion)]
    reference = None
    if promoted.evidence and isinstance(promoted.evidence.get("gate"), dict):
        reference = promoted.evidence["gate"].get("champion")
    if reference is None and len(before) >= config.rollback.min_rows:
        tail = before.tail(config.rollback.window_rows * config.rollback.windows)
        reference = _accuracy(tail["label"], tail["prediction"], task)
    if reference is None:
        # the previous champion never served live: use what it scored when it was registered
        stored = registry.get(name, previous).metrics or {}
        for key in ("holdout_score", "accuracy"):
            if isinstance(stored.get(key), (int, float)):
                reference = float(stored[key])
                break
    if reference is None:
        return None
    metrics, sizes = live_windows(after, config.rollback.window_rows, task)
    decision = check_rollback(float(reference), metrics, sizes, config.rollback)
    evidence = {
        "reference_metric": float(reference),
        "window_metrics": metrics,
        "window_rows": sizes,
        "rule": {
            "max_drop": config.rollback.max_drop,
            "windows": config.rollback.windows,
            "min_rows": config.rollback.min_rows,
            "window_rows": config.rollback.window_rows,
        },
        "breaches": decision.breaches,
        "champion": champion,
        "previous": previous,
    }
    if not decision.rollback:
        return None
    registry.rollback(
        name, actor=f"{ACTOR}:rollback-rule", reason=decision.reason, evidence=evidence
    )
    return evidence


def _holdout_split(labelled: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = int(round(len(labelled) * (1 - share)))
    return labelled.iloc[:cut], labelled.iloc[cut:]


def run_once(
    config: LoopConfig,
    registry: Registry,
    source: LoopSource,
    *,
    now: float | None = None,
    original: pd.DataFrame | None = None,
    audit_candidate: bool = True,
    echo: Callable[[str], None] = lambda s: None,
) -> PassResult:
    """One pass of the loop (see the module docstring); every decision goes to the trail."""
    name, target = config.name, config.target
    now = time.time() if now is None else now
    result = PassResult()
    labelled = source.labelled(name)
    task = _task(registry, name, labelled)

    # 1. rollback
    rolled = check_live_rollback(config, registry, labelled, task)
    if rolled is not None:
        result.rollback = rolled
        result.actions.append(f"rolled back v{rolled['champion']} -> v{rolled['previous']}")
        echo(result.actions[-1])
        return result

    # 2. triggers
    last_train = _last_event(registry, name, {"retrain", "register"})
    last_at = last_train.at.timestamp() if last_train is not None else 0.0
    ts = pd.to_datetime(labelled["timestamp"], utc=True) if len(labelled) else pd.Series([])
    new_labels = int((ts > pd.Timestamp(last_at, unit="s", tz="UTC")).sum()) if len(ts) else 0
    champion_version = registry.aliases(name).get("champion")
    baseline = latest = None
    if champion_version is not None and len(labelled):
        mine = labelled[labelled["model_version"] == champion_version]
        w = config.rollback.window_rows
        if len(mine) >= 2 * w:
            baseline = _accuracy(mine["label"].iloc[:w], mine["prediction"].iloc[:w], task)
            latest = _accuracy(mine["label"].iloc[-w:], mine["prediction"].iloc[-w:], task)
    state = LoopState(
        now=now,
        last_trained_at=last_at,
        open_drift_incidents=source.open_drift_incidents(name),
        open_performance_incidents=source.open_performance_incidents(name),
        baseline_metric=baseline,
        latest_metric=latest,
        new_labels=new_labels,
    )
    fired = due_triggers(state, config.triggers)
    result.triggers = [f"{t.kind}: {t.reason}" for t in fired]
    if not fired:
        result.actions.append("no trigger fired")
        return result
    registry.record(
        name,
        "trigger",
        actor=ACTOR,
        reason="; ".join(result.triggers),
        evidence={"state": state.__dict__},
    )
    echo(f"triggers: {'; '.join(result.triggers)}")
    if config.retrain.entry is None and config.retrain.command is None:
        result.actions.append("no [retrain] entry or command configured; nothing retrained")
        return result
    min_rows = max(50, config.rollback.min_rows)
    if len(labelled) < 2 * min_rows:
        result.actions.append(f"only {len(labelled)} labelled rows; waiting for more")
        return result

    # 3. retrain
    train_part, holdout = _holdout_split(labelled, config.gate.holdout_share)
    feature_cols = [
        c
        for c in labelled.columns
        if c not in ("timestamp", "model_version", "prediction", "label", "id")
    ]
    logged = train_part[feature_cols + ["label"]].rename(columns={"label": target})
    train_set = assemble_training_set(logged, target, original, config.retrain)
    with tempfile.TemporaryDirectory() as tmp:
        candidate = train_candidate(config.retrain, train_set, target, Path(tmp))
    echo(f"trained a candidate on {len(train_set)} rows")

    # 4. audit the candidate on its own training data
    audit_dict = None
    if audit_candidate:
        from tripwire.audit import audit

        rep = audit(
            train_set,
            holdout[feature_cols + ["label"]].rename(columns={"label": target}),
            target=target,
            model=candidate,
            # Drift between the assembled training set (original data plus recent labels) and
            # the recent holdout is the reason for retraining, not a defect of the candidate;
            # the gate measures the candidate on that holdout instead.
            skip=["deployment", "drift."],
        )
        audit_dict = rep.to_dict()
        critical = [f for f in audit_dict["findings"] if f["severity"] == "critical"]
        if critical:
            reason = "candidate audit has critical findings: " + "; ".join(
                f["title"] for f in critical[:3]
            )
            registry.record(
                name, "reject", actor=ACTOR, reason=reason, evidence={"audit": critical}
            )
            result.actions.append(f"rejected candidate: {reason}")
            return result

    # 5. gate
    X_hold = holdout[feature_cols]
    y_hold = holdout["label"].to_numpy()
    challenger_pred = np.asarray(candidate.predict(X_hold))
    if champion_version is None:
        champ_pred = holdout["prediction"].to_numpy()
    else:
        _, champion_model = registry.load(name, champion_version)
        champ_pred = np.asarray(champion_model.predict(X_hold))
    slices = {
        f"{col}={val}": (X_hold[col] == val).to_numpy()
        for col in config.gate.slice_columns
        if col in X_hold
        for val in X_hold[col].dropna().unique()[:50]
    }
    decision = compare_models(
        y_hold.astype(str) if task != "regression" else y_hold.astype(float),
        champ_pred.astype(str) if task != "regression" else champ_pred.astype(float),
        challenger_pred.astype(str) if task != "regression" else challenger_pred.astype(float),
        task=task,
        margin=config.gate.margin,
        level=config.gate.level,
        slices=slices,
        slice_tolerance=config.gate.slice_tolerance,
    )
    result.gate = decision.to_dict()
    mv = registry.add(
        name,
        candidate,
        actor=ACTOR,
        train=train_set,
        target=target,
        task=task,
        metrics={"holdout_score": decision.challenger, "holdout_rows": decision.n},
        audit=audit_dict,
        alias="challenger",
        note="retrained by the loop: " + "; ".join(result.triggers),
    )
    result.candidate_version = mv.version
    registry.record(
        name,
        "retrain",
        actor=ACTOR,
        version=mv.version,
        reason="; ".join(result.triggers),
        evidence={"train_rows": len(train_set), "holdout_rows": len(holdout)},
    )
    if decision.promote:
        registry.promote(
            name,
            mv.version,
            actor=f"{ACTOR}:gate",
            reason=decision.reason,
            evidence={"gate": result.gate},
        )
        result.actions.append(f"promoted v{mv.version}: {decision.reason}")
    else:
        registry.record(
            name,
            "reject",
            actor=f"{ACTOR}:gate",
            version=mv.version,
            reason=decision.reason,
            evidence={"gate": result.gate},
        )
        result.actions.append(
            f"kept v{champion_version}; rejected v{mv.version}: {decision.reason}"
        )
    echo(result.actions[-1])
    return result


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class FrameSource:
    """A :class:`LoopSource` over a table of logged, labelled predictions (offline replay).

    The table needs ``timestamp``, ``model_version``, ``prediction``, ``label`` and the
    feature columns; ``drift_incidents`` is the number of open drift incidents to report.
    """

    def __init__(
        self, frame: pd.DataFrame, drift_incidents: int = 0, performance_incidents: int = 0
    ) -> None:
        self.frame = frame
        self.drift_incidents = drift_incidents
        self.performance_incidents = performance_incidents

    def labelled(self, model: str) -> pd.DataFrame:
        return self.frame.sort_values("timestamp", kind="stable").reset_index(drop=True)

    def open_drift_incidents(self, model: str) -> int:
        return self.drift_incidents

    def open_performance_incidents(self, model: str) -> int:
        return self.performance_incidents
