"""Perturbation, coverage, split optimism, shortcuts and the test-set ledger, on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tripwire
from tests import realdata
from tripwire.ledger import expected_max_normal


@pytest.fixture(scope="module")
def wine() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = realdata.wine("white")
    df["good"] = np.where(df.pop("quality") >= 6, "yes", "no")
    perm = np.random.default_rng(0).permutation(len(df))
    return df.iloc[perm[:2500]].reset_index(drop=True), df.iloc[perm[2500:4000]].reset_index(
        drop=True
    )


def test_perturbation_ranks_first_the_feature_the_model_depends_on(wine):
    tr, te = wine
    feats = [c for c in tr.columns if c != "good"]
    # a model built to depend on alcohol: it is fitted on alcohol alone, scaled up
    model = make_pipeline(StandardScaler(), LogisticRegression(C=100.0))
    Xtr = tr[feats].copy()
    Xtr.loc[:, [c for c in feats if c != "alcohol"]] = 0.0
    model.fit(Xtr, tr["good"])
    report = tripwire.audit(tr, te, target="good", model=model, checks=["robustness.perturbation"])
    found = report.by_check("robustness.perturbation")
    info = next(f for f in found if "ranking" in f.evidence)
    ranking = info.evidence["ranking"]
    assert ranking[0]["column"] == "alcohol"
    assert ranking[0]["max_flip_rate"] > 0.2
    table = {(r["column"], r["perturbation"]): r for r in info.evidence["table"]}
    assert table[("alcohol", "x1000")]["flip_rate"] > 0.2
    assert table[("alcohol", "noise")]["drop"] < 0.05
    assert table[("pH", "x1000")]["flip_rate"] == 0.0


def test_coverage_finds_rows_outside_training_range(wine):
    tr, te = wine
    clean = tripwire.audit(tr, te, target="good", checks=["robustness.coverage"])
    assert clean.by_check("robustness.coverage")[0].sev.value == "info"
    shifted = te.copy()
    out = np.arange(0, 150)
    shifted.loc[out, "alcohol"] = tr["alcohol"].max() * 1.5
    report = tripwire.audit(tr, shifted, target="good", checks=["robustness.coverage"])
    f = report.by_check("robustness.coverage")[0]
    assert f.sev.value == "warning"
    assert set(out) <= set(f.rows["test"])
    assert f.evidence["by_reason"]["alcohol"] == 150
    assert "error_outside" in f.evidence


@pytest.fixture(scope="module")
def elec() -> pd.DataFrame:
    return realdata.elec2().iloc[::6].reset_index(drop=True)


def test_time_split_optimism_on_elec2_and_quiet_when_time_is_random(elec):
    r = tripwire.audit(
        elec, target="class", time_column="date", checks=["robustness.split_optimism_time"]
    )
    f = r.by_check("robustness.split_optimism_time")[0]
    assert f.sev.value == "warning"
    assert f.evidence["random"] > f.evidence["structured"] + 0.03
    lo, hi = f.evidence["gap_interval"]
    assert 0 < lo < hi
    shuffled = elec.drop(columns=["date"]).copy()
    shuffled["order"] = np.random.default_rng(0).permutation(len(shuffled))
    r2 = tripwire.audit(
        shuffled, target="class", time_column="order", checks=["robustness.split_optimism_time"]
    )
    assert r2.by_check("robustness.split_optimism_time")[0].sev.value == "info"


def test_shortcut_planted_feature_flagged(elec):
    df = elec.copy()
    rng = np.random.default_rng(1)
    up = (df["class"] == "UP").to_numpy(dtype=float)
    period = pd.qcut(df["date"].rank(method="first"), 5, labels=False).to_numpy()
    # a proxy of the label whose sign flips in the last period
    sign = np.where(period == 4, -1.0, 1.0)
    df["proxy"] = sign * (up - 0.5) + rng.normal(0, 0.15, len(df))
    r = tripwire.audit(df, target="class", time_column="date", checks=["robustness.shortcut"])
    f = r.by_check("robustness.shortcut")[0]
    assert f.sev.value == "warning"
    assert f.columns == ("proxy",)
    assert f.evidence["sign_flip"]


def test_ledger_counts_models_and_explains_best_score(wine, tmp_path):
    tr, te = wine
    ledger = tmp_path / "ledger.jsonl"
    feats = [c for c in tr.columns if c != "good"]
    last = None
    for i, c in enumerate([0.001, 0.01, 0.1, 1, 10, 100, 0.003, 0.03, 0.3, 3]):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
        model.fit(tr[feats], tr["good"])
        rep = tripwire.audit(
            tr,
            te,
            target="good",
            model=model,
            checks=["robustness.test_reuse"],
            options={"ledger": str(ledger)},
        )
        last = rep.by_check("robustness.test_reuse")[0]
        assert last.evidence["models"] == i + 1
        assert (last.sev.value == "warning") == (i + 1 >= 10)
    assert last is not None
    n = len(te)
    se = last.evidence["standard_error"]
    assert se == pytest.approx(
        np.sqrt(last.evidence["this_score"] * (1 - last.evidence["this_score"]) / n)
    )
    assert last.evidence["selection_optimism"] == pytest.approx(se * expected_max_normal(10))
    # Blom's approximation against simulation
    sims = np.random.default_rng(0).standard_normal((20000, 10)).max(axis=1).mean()
    assert expected_max_normal(10) == pytest.approx(sims, abs=0.02)
    # a different test set starts a new count
    rep = tripwire.audit(
        tr,
        te.iloc[:1000],
        target="good",
        checks=["robustness.test_reuse"],
        options={"ledger": str(ledger)},
    )
    assert rep.by_check("robustness.test_reuse")[0].evidence["models"] == 1


def test_clean_bike_sharing_control_is_not_fragile_to_whole_hour_steps():
    # a clean control of the failure zoo: random split of bike-sharing hours, nothing planted.
    # 5% of the spread of `hr` is below one hour, so "small noise" on it is a whole-hour step;
    # the default model reacts to that (rush hours), which is no fragility warning.
    df = realdata.bike_hour().drop(columns=["instant", "casual", "registered", "dteday"])
    perm = np.random.default_rng(0).permutation(len(df))
    tr = df.iloc[perm[:2000]].reset_index(drop=True)
    te = df.iloc[perm[2000:3000]].reset_index(drop=True)
    report = tripwire.audit(
        tr, te, target="cnt", task="regression", checks=["robustness.perturbation"]
    )
    found = report.by_check("robustness.perturbation")
    assert [f.severity for f in found] == ["info"]
    table = {(r["column"], r["perturbation"]): r for r in found[0].evidence["table"]}
    assert table[("hr", "noise")].get("whole_steps") is True
    assert table[("temp", "noise")].get("whole_steps") is None
