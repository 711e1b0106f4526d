"""The loop's decisions on a replayed elec2 stream (the served version is in tests/monitor)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests import realdata
from tests.lifecycle import trainers
from tripwire.lifecycle.config import parse_config
from tripwire.lifecycle.loop import FrameSource, run_once
from tripwire.lifecycle.registry import Registry

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def _config(entry: str, **gate: object) -> object:
    return parse_config(
        {
            "model": {"name": "elec", "target": "class"},
            "retrain": {"entry": entry, "include_original": True},
            "triggers": {"min_new_labels": 1000, "performance_drop": 0.5},
            "gate": {"margin": 0.0, "holdout_share": 0.3, **gate},
            "rollback": {"max_drop": 0.05, "windows": 2, "window_rows": 200},
        }
    )


def _served(rows: pd.DataFrame, model: object, version: int, t0: pd.Timestamp) -> pd.DataFrame:
    out = rows[FEATURES].copy()
    out["prediction"] = model.predict(rows[FEATURES])  # type: ignore[attr-defined]
    out["label"] = rows["class"].to_numpy()
    out["model_version"] = version
    out["timestamp"] = t0 + pd.to_timedelta(np.arange(len(rows)), unit="s")
    return out


@pytest.fixture(scope="module")
def elec() -> pd.DataFrame:
    return realdata.elec2()[FEATURES + ["class"]]


def test_retrain_promote_reject_and_rollback(elec: pd.DataFrame, tmp_path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'tw.db'}")
    # The first champion knows only the first 2,000 half-hours; the market moves on.
    original = elec.iloc[:2000]
    champion = trainers.fit(original, "class")
    reg.add(
        "elec",
        champion,
        actor="test",
        train=original,
        target="class",
        task="classification",
        alias="champion",
    )
    t0 = pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=1)
    stream = _served(elec.iloc[20000:24000], champion, 1, t0)

    # A trainer that learns noise is rejected by the gate; the champion stays.
    bad = run_once(
        _config("tests.lifecycle.trainers:fit_bad"),
        reg,
        FrameSource(stream),
        original=original,
        audit_candidate=False,
    )
    assert bad.triggers and bad.triggers[0].startswith("labels")
    assert bad.gate is not None and not bad.gate["promote"]
    assert reg.aliases("elec") == {"champion": 1, "challenger": 2}

    # Retraining on the recent labelled stream gives a better model: promoted with evidence.
    good = run_once(
        _config("tests.lifecycle.trainers:fit"), reg, FrameSource(stream), original=original
    )
    assert good.gate is not None and good.gate["promote"], good.gate
    assert good.gate["difference"]["low"] > 0
    assert reg.aliases("elec")["champion"] == 3

    # Now a bad version is promoted by hand and serves the next rows: live accuracy drops
    # below the previous champion's and the loop puts v3 back by itself.
    _, bad_model = reg.load("elec", 2)
    reg.promote("elec", 2, actor="test", reason="mistake")
    after = _served(elec.iloc[24000:24800], bad_model, 2, pd.Timestamp.now(tz="UTC"))
    rolled = run_once(
        _config("tests.lifecycle.trainers:fit"),
        reg,
        FrameSource(pd.concat([stream, after])),
        original=original,
    )
    assert rolled.rollback is not None, rolled.actions
    assert reg.aliases("elec")["champion"] == 3
    actions = [e.action for e in reg.trail("elec")]
    assert actions[-1] == "rollback" and "reject" in actions and "promote" in actions
    last = reg.trail("elec")[-1]
    assert last.actor == "loop:rollback-rule" and last.evidence["breaches"] >= 2


def test_nothing_happens_without_a_trigger(elec: pd.DataFrame, tmp_path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'tw.db'}")
    model = trainers.fit(elec.iloc[:2000], "class")
    reg.add("elec", model, actor="test", alias="champion", task="classification")
    stream = _served(elec.iloc[2000:2300], model, 1, pd.Timestamp.now(tz="UTC"))
    result = run_once(_config("tests.lifecycle.trainers:fit"), reg, FrameSource(stream))
    assert result.actions == ["no trigger fired"]
    assert [e.action for e in reg.trail("elec")] == ["register", "alias"]


def test_monitor_incidents_trigger_retraining(elec: pd.DataFrame, tmp_path) -> None:
    """Open drift and performance incidents in a real store fire the loop's triggers."""
    import time

    from tripwire.lifecycle.source import MonitorSource
    from tripwire.lifecycle.triggers import LoopState, TriggerConfig, due_triggers
    from tripwire.monitor.store import Store

    store = Store(f"sqlite:///{tmp_path / 'tw.db'}").migrate()
    store.create_model("elec", task="classification", window_seconds=60)
    source = MonitorSource(store)
    assert source.open_drift_incidents("elec") == source.open_performance_incidents("elec") == 0
    model_id = store.get_model("elec").id
    for rule in ("performance", "input_drift"):
        store.upsert_incident(
            model_id,
            {"rule": rule, "status": "open", "severity": "warning", "first_window": 0,
             "last_window": 60, "title": rule, "evidence": {}},
        )  # fmt: skip
    assert source.open_drift_incidents("elec") == 1
    assert source.open_performance_incidents("elec") == 1
    state = LoopState(
        now=time.time(),
        last_trained_at=time.time(),
        open_drift_incidents=source.open_drift_incidents("elec"),
        open_performance_incidents=source.open_performance_incidents("elec"),
    )
    fired = due_triggers(state, TriggerConfig())
    assert [t.kind for t in fired] == ["drift", "performance"]
    assert "estimated before labels" in fired[1].reason
    off = TriggerConfig(on_drift_incident=False, on_performance_incident=False)
    assert due_triggers(state, off) == []
