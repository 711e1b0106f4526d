"""Drift with a model: prediction drift, label shift (BBSE), performance estimated without
labels (CBPE) and realized, shift ranked by importance. Real sklearn models on UCI Adult."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

import tripwire
from tests import realdata


@pytest.fixture(scope="module")
def setup():
    df = realdata.adult("train")
    X = df.drop(columns="income")
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    perm = np.random.default_rng(1).permutation(len(df))
    model = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats),
            remainder="passthrough",
        ),
        HistGradientBoostingClassifier(max_iter=60, random_state=0),
    )
    model.fit(X.iloc[perm[:6000]], df["income"].iloc[perm[:6000]])
    ref = df.iloc[perm[6000:10000]].reset_index(drop=True)
    pool = df.iloc[perm[10000:]].reset_index(drop=True)
    return model, ref, pool


def test_covariate_shift_performance_estimated_without_labels(setup):
    model, ref, pool = setup
    cur = pool[pool["age"] > 40].iloc[:4000].reset_index(drop=True)
    realized = float(np.mean(model.predict(cur.drop(columns="income")) == cur["income"]))
    # labels not arrived yet
    report = tripwire.drift(ref, cur.drop(columns="income"), target="income", model=model)
    est = report.by_check("drift.performance")[0]
    lo, hi = est.evidence["interval"]
    assert abs(est.evidence["accuracy_estimated"] - realized) < 0.02
    assert lo - 0.01 <= realized <= hi + 0.01
    assert est.evidence["accuracy_realized"] is None
    assert report.by_check("drift.prediction")[0].sev.value == "warning"
    ranked = report.by_check("drift.importance")[0]
    assert "age" in ranked.columns


def test_label_shift_estimated_and_realized(setup):
    model, ref, pool = setup
    rich = pool[pool["income"] == ">50K"]
    cur = pd.concat([pool.iloc[:2000], rich.iloc[:1500]], ignore_index=True)
    report = tripwire.drift(ref, cur, target="income", model=model, options={"multivariate": False})
    ls = report.by_check("drift.label_shift")[0]
    assert ls.sev.value == "warning"
    i = ls.evidence["classes"].index(">50K")
    truth = float(np.mean(cur["income"] == ">50K"))
    assert ls.evidence["interval_low"][i] - 0.02 <= truth <= ls.evidence["interval_high"][i] + 0.02
    realized = [f for f in report.by_check("drift.performance") if "Realized" in f.title]
    assert realized and realized[0].evidence["labelled_rows"] == len(cur)


def test_no_shift_with_model_is_quiet(setup):
    model, ref, pool = setup
    report = tripwire.drift(ref, pool.iloc[:4000], target="income", model=model)
    loud = [f.title for f in report.findings if f.sev.value != "info"]
    assert not loud


def test_model_checks_skipped_without_model(setup):
    _, ref, pool = setup
    report = tripwire.drift(ref.drop(columns="income"), pool.iloc[:2000].drop(columns="income"))
    runs = {c.check: c for c in report.checks}
    assert runs["drift.performance"].status == "skipped"
    assert "--model" in runs["drift.prediction"].reason
