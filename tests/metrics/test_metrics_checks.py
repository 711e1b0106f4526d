"""The metrics checks on real data: a majority-class model is critical, a good one is quiet."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import tripwire
from tests import realdata
from tripwire.checks.metrics.cost_matrix import min_expected_cost
from tripwire.checks.metrics.costs import optimal_threshold, parse_costs
from tripwire.errors import InputError


class Majority(ClassifierMixin, BaseEstimator):
    """Always the most frequent class, with the training class shares as probabilities."""

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Majority:
        values, counts = np.unique(y.astype(str), return_counts=True)
        self.classes_ = values
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.full(len(X), self.prior_.argmax())]


@pytest.fixture(scope="module")
def bank() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = realdata.bank_additional().drop(columns=["duration"])
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return df.iloc[:2500], df.iloc[2500:]


def _metrics(report: tripwire.findings.Report) -> list[tripwire.findings.Finding]:  # type: ignore[name-defined]
    return [f for f in report.findings if f.mode == "metrics"]


def test_majority_model_is_critical_while_accuracy_looks_high(bank) -> None:
    train, test = bank
    model = Majority().fit(train.drop(columns="y"), train["y"])
    rep = tripwire.audit(
        train, test, target="y", model=model, options={"n_boot": 200}, checks=["metrics."]
    )
    found = {f.check: f for f in _metrics(rep)}
    assert found["metrics.baseline"].severity.value == "critical"
    acc = found["metrics.panel"].evidence["model"]["accuracy"]["value"]
    assert acc > 0.85  # looks high
    assert found["metrics.misleading_accuracy"].severity.value == "warning"


def test_good_model_raises_no_warning(bank) -> None:
    train, test = bank
    rep = tripwire.audit(
        train, test, target="y", options={"n_boot": 200, "costs": "fn=5,fp=1"}, checks=["metrics."]
    )
    found = _metrics(rep)
    bad = [f.title for f in found if f.severity.value != "info" and f.check != "metrics.costs"]
    assert bad == []
    costs = next(f for f in found if f.check == "metrics.costs")
    assert costs.evidence["positive_class"] == "yes"
    assert costs.evidence["cost_optimal_threshold"] < 0.5


def test_optimal_threshold_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(0)
    s = np.round(rng.uniform(size=500), 3)
    y = rng.uniform(size=500) < s
    c = {"fn": 5.0, "fp": 1.0}
    t, cost = optimal_threshold(y, s, c)
    grid = np.r_[np.unique(s), np.inf]
    brute = [np.mean(np.where(s >= g, np.where(y, 0, 1.0), np.where(y, 5.0, 0))) for g in grid]
    assert cost == pytest.approx(min(brute))
    assert brute[list(grid).index(t)] == pytest.approx(min(brute))


def test_costs_parsing_and_errors(tmp_path) -> None:
    assert parse_costs("fn=5,fp=1") == {"fn": 5.0, "fp": 1.0}
    p = tmp_path / "c.json"
    p.write_text('{"over": 1, "under": 3}')
    assert parse_costs(str(p)) == {"over": 1.0, "under": 3.0}
    with pytest.raises(InputError, match="unknown key"):
        parse_costs("fx=1")
    with pytest.raises(InputError, match="not a number"):
        parse_costs("fn=abc")


def test_regression_costs_and_panel() -> None:
    df = realdata.california().sample(3000, random_state=0).reset_index(drop=True)
    target = "median_house_value"
    rep = tripwire.audit(
        df.iloc[:2000],
        df.iloc[2000:],
        target=target,
        options={"n_boot": 100, "costs": "over=1,under=4"},
        checks=["metrics."],
    )
    found = {f.check: f for f in _metrics(rep)}
    assert "metrics.baseline" not in found
    assert found["metrics.costs"].evidence["quantile"] == pytest.approx(0.8)
    assert found["metrics.costs"].evidence["shift"] > 0


class Slow(ClassifierMixin, BaseEstimator):
    """A classifier that takes ``delay`` seconds per call, whatever the number of rows."""

    def __init__(self, delay: float = 0.004) -> None:
        self.delay = delay

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Slow:
        self.classes_ = np.array(sorted(y.astype(str).unique()))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        time.sleep(self.delay)
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.zeros(len(X), dtype=int)]


def test_latency_measures_the_model_and_enforces_the_budget(bank) -> None:
    train, test = bank
    model = Slow(0.004).fit(train.drop(columns="y"), train["y"])
    for budget, severity in ((2.0, "warning"), (200.0, "info")):
        rep = tripwire.audit(
            train,
            test.iloc[:300],
            target="y",
            model=model,
            options={"latency_budget_ms": budget},
            checks=["metrics.latency"],
        )
        (f,) = rep.by_check("metrics.latency")
        ev = f.evidence
        assert f.severity.value == severity, f.title
        assert ev["budget_ms"] == budget
        # every call sleeps 4 ms: one row and a batch of 300 take about as long
        assert 4.0 <= ev["single_p50_ms"] <= ev["single_p95_ms"] <= ev["single_p99_ms"]
        assert 4.0 <= ev["batch_p50_ms"] <= ev["batch_p95_ms"] <= ev["batch_p99_ms"]
        assert ev["batch_rows"] == 300
        assert ev["throughput_rows_per_s"] == pytest.approx(300 / ev["batch_p50_ms"] * 1000)
        assert ev["throughput_rows_per_s"] < 300 / 0.004
    assert (
        "over the 2 ms budget"
        in tripwire.audit(
            train,
            test.iloc[:300],
            target="y",
            model=model,
            options={"latency_budget_ms": 2.0},
            checks=["metrics.latency"],
        )
        .by_check("metrics.latency")[0]
        .title
    )


def test_min_expected_cost_rule_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(0)
    k = 4
    proba = rng.dirichlet(np.ones(k), size=400)
    C = rng.uniform(0, 10, (k, k))
    np.fill_diagonal(C, 0)
    rule = min_expected_cost(proba, C)
    for i in range(len(proba)):
        brute = [sum(proba[i, t] * C[t, j] for t in range(k)) for j in range(k)]
        assert rule[i] == int(np.argmin(brute))
    # with the 0-1 cost the rule is argmax
    assert (min_expected_cost(proba, 1 - np.eye(k)) == proba.argmax(axis=1)).all()


def test_cost_matrix_on_wine_and_its_errors() -> None:
    df = realdata.wine("white")
    perm = np.random.default_rng(0).permutation(len(df))
    tr, te = df.iloc[perm[:2000]], df.iloc[perm[2000:3000]]
    # missing a top wine (8 or 9) costs 20: the rule should predict 8 more often than argmax
    spec = ",".join(f"{t}->{p}=20" for t in (8, 9) for p in (3, 4, 5, 6, 7))
    rep = tripwire.audit(
        tr, te, target="quality", options={"costs": spec}, checks=["metrics.costs"]
    )
    (f,) = rep.by_check("metrics.costs")
    ev = f.evidence
    assert ev["cost_matrix"][ev["classes"].index("8")][ev["classes"].index("6")] == 20
    assert any(k.endswith("->8") for k in ev["changes"])
    assert ev["cost_per_decision_min_expected_cost"] < ev["cost_per_decision_current"]
    with pytest.raises(InputError, match=r"true class '10' in '10->3' is not a class"):
        tripwire.audit(
            tr, te, target="quality", options={"costs": "10->3=5"}, checks=["metrics.costs"]
        )
    with pytest.raises(InputError, match="a cost matrix .* is for classification"):
        df2 = realdata.california().sample(600, random_state=0)
        tripwire.audit(
            df2.iloc[:400],
            df2.iloc[400:],
            target="median_house_value",
            options={"costs": "a->b=1"},
            checks=["metrics.costs"],
        )


def test_integer_classes_and_a_class_seen_only_in_test() -> None:
    """Wine quality (integer labels 3-9): the panel and calibration run; a class missing from
    train gets probability 0 (a column of zeros), so log loss charges the model for it."""
    df = realdata.wine("white")
    perm = np.random.default_rng(0).permutation(len(df))
    nines = df["quality"] == 9
    tr = df.iloc[perm[:1500]]
    tr = tr[tr["quality"] != 9]
    te = pd.concat([df.iloc[perm[1500:2500]][lambda d: d["quality"] != 9], df[nines]])
    te = te.reset_index(drop=True)
    rep = tripwire.audit(
        tr, te, target="quality", options={"n_boot": 30}, checks=["metrics.panel", "metrics.cal"]
    )
    status = {r.check: r.status for r in rep.checks}
    assert status == {"metrics.panel": "ran", "metrics.calibration": "ran"}, rep.checks
    panel = rep.by_check("metrics.panel")[0].evidence["model"]
    assert "recall:9" in panel and panel["recall:9"]["value"] == 0.0
    assert 0 < panel["accuracy"]["value"] < 1


def test_user_model_with_integer_classes_runs_every_check_and_a_constant_model_is_not_read() -> (
    None
):
    """Spambase's 0/1 target with user models: integer classes held as Python objects read
    as an 'unknown' target to scikit-learn, and the label, drift and robustness checks
    crashed. A constant model must not make label noise (its minority class) or a label
    shift (a singular confusion matrix) out of nothing."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = realdata.spambase().sample(n=2400, random_state=0).reset_index(drop=True)
    train, test = df.iloc[:1600], df.iloc[1600:].reset_index(drop=True)
    X, y = train.drop(columns="spam"), train["spam"]

    class IntMajority(Majority):
        def fit(self, X: pd.DataFrame, y: pd.Series) -> IntMajority:
            values, counts = np.unique(np.asarray(y), return_counts=True)
            self.classes_, self.prior_ = values, counts / counts.sum()
            return self

    good = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    for model in (good, IntMajority().fit(X, y)):
        rep = tripwire.audit(train, test, target="spam", model=model, options={"n_boot": 50})
        errors = [(c.check, c.reason) for c in rep.checks if c.status == "error"]
        assert errors == [], errors
        labels = rep.by_check("labels.issues")[0]
        shift = rep.by_check("drift.label_shift")[0]
        if model is good:
            assert labels.title.startswith(("No material", "About"))
            continue
        assert labels.severity.value == "info" and "not judged" in labels.title, labels.title
        assert shift.severity.value == "info" and "cannot be estimated" in shift.title
        assert rep.by_check("metrics.baseline")[0].severity.value == "critical"
