from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from tests import realdata
from tripwire.errors import InputError
from tripwire.lifecycle.gate import compare_models, mcnemar_p_value
from tripwire.lifecycle.rollback import RollbackRule, check_rollback
from tripwire.lifecycle.triggers import LoopState, TriggerConfig, due_triggers


def test_mcnemar_matches_scipy_binomial():
    from scipy.stats import binomtest

    rng = np.random.default_rng(1)
    a, b = rng.random(500) < 0.7, rng.random(500) < 0.75
    only_b, only_a = int(np.sum(b & ~a)), int(np.sum(a & ~b))
    assert mcnemar_p_value(a, b) == pytest.approx(binomtest(only_b, only_a + only_b).pvalue)


def test_equal_models_are_rarely_promoted():
    """Two models of equal skill: the gate promotes in at most ~2.5 % of trials (one-sided 95 %)."""
    rng = np.random.default_rng(0)
    promoted = 0
    trials = 120
    for t in range(trials):
        y = rng.integers(0, 2, 800)
        a = np.where(rng.random(800) < 0.8, y, 1 - y)
        b = np.where(rng.random(800) < 0.8, y, 1 - y)
        promoted += compare_models(y, a, b, n_boot=300, random_state=t).promote
    assert promoted / trials <= 0.05


def test_real_models_on_real_data():
    df = realdata.elec2().sample(n=6000, random_state=0)
    X = df[
        ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer", "period", "day"]
    ].to_numpy()
    y = df["class"].to_numpy()
    Xtr, Xte, ytr, yte = X[:3000], X[3000:], y[:3000], y[3000:]
    weak = LogisticRegression(max_iter=500).fit(Xtr[:, :1], ytr).predict(Xte[:, :1])
    strong = HistGradientBoostingClassifier(random_state=0).fit(Xtr, ytr).predict(Xte)
    assert compare_models(yte, weak, strong).promote
    rejected = compare_models(yte, strong, weak)
    assert not rejected.promote and "not better" in rejected.reason


def test_a_challenger_worse_on_a_critical_slice_is_rejected():
    rng = np.random.default_rng(2)
    n = 4000
    y = rng.integers(0, 2, n)
    region = rng.random(n) < 0.2
    champ = np.where(rng.random(n) < 0.80, y, 1 - y)
    # better overall, but much worse inside the slice
    chall = np.where(rng.random(n) < np.where(region, 0.6, 0.92), y, 1 - y)
    d = compare_models(y, champ, chall, slices={"region": region})
    assert d.difference.low > 0
    assert not d.promote and "region" in d.reason
    assert d.slices[0].worse


def test_regression_gate_uses_absolute_error():
    rng = np.random.default_rng(3)
    y = rng.normal(size=1000)
    assert compare_models(
        y, y + rng.normal(0, 1.0, 1000), y + rng.normal(0, 0.5, 1000), task="regression"
    ).promote


def test_gate_refuses_empty_or_misaligned_input():
    with pytest.raises(InputError, match="no labelled rows"):
        compare_models(np.array([]), np.array([]), np.array([]))
    with pytest.raises(InputError, match="same length"):
        compare_models(np.array([1, 0]), np.array([1]), np.array([1, 0]))


def test_triggers_fire_only_when_due():
    cfg = TriggerConfig(every_seconds=86400, performance_drop=0.05, min_new_labels=1000)
    quiet = LoopState(
        now=1000, last_trained_at=0, baseline_metric=0.8, latest_metric=0.78, new_labels=10
    )
    assert (
        due_triggers(
            quiet, TriggerConfig(every_seconds=86400, on_drift_incident=True, performance_drop=0.05)
        )
        == []
    )
    loud = LoopState(
        now=90000,
        last_trained_at=0,
        open_drift_incidents=2,
        baseline_metric=0.8,
        latest_metric=0.7,
        new_labels=5000,
    )
    assert [t.kind for t in due_triggers(loud, cfg)] == [
        "schedule",
        "drift",
        "performance",
        "labels",
    ]


def test_rollback_needs_consecutive_breaches_with_enough_rows():
    rule = RollbackRule(max_drop=0.05, windows=2, min_rows=50)
    assert check_rollback(0.9, [0.8, 0.8], [100, 100], rule).rollback
    assert not check_rollback(0.9, [0.8, 0.89], [100, 100], rule).rollback
    assert not check_rollback(0.9, [0.8, 0.8], [10, 10], rule).rollback  # too few rows to judge
