"""The metrics checks on real data: a majority-class model is critical, a good one is quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import tripwire
from tests import realdata
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
