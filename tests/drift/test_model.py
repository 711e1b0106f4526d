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


def test_probability_columns_instead_of_a_model(setup):
    model, ref, pool = setup
    cur = pool[pool["hours_per_week"] > 45].iloc[:3000].reset_index(drop=True)

    def with_outputs(df):
        out = df.copy()
        proba = model.predict_proba(df.drop(columns="income"))
        for j, c in enumerate(model.classes_):
            out[f"p_{c}"] = proba[:, j]
        return out

    cols = [f"p_{c}" for c in model.classes_]
    report = tripwire.drift(
        with_outputs(ref),
        with_outputs(cur).drop(columns="income"),
        target="income",
        probabilities=cols,
        options={"multivariate": False},
    )
    est = report.by_check("drift.performance")[0]
    realized = float(np.mean(model.predict(cur.drop(columns="income")) == cur["income"]))
    assert abs(est.evidence["accuracy_estimated"] - realized) < 0.03
    assert not {"p_<=50K", "p_>50K"} & {
        c for f in report.by_check("drift.columns") for c in f.columns
    }


def test_regression_realized_error_change():
    from sklearn.ensemble import HistGradientBoostingRegressor

    df = realdata.california()
    X = df.drop(columns=["median_house_value", "ocean_proximity"])
    y = df["median_house_value"]
    model = HistGradientBoostingRegressor(max_iter=60, random_state=0).fit(
        X.iloc[:8000], y.iloc[:8000]
    )
    data = X.assign(median_house_value=y)
    ref = data.iloc[8000:12000].reset_index(drop=True)
    inland = data.iloc[12000:][df["ocean_proximity"].iloc[12000:].to_numpy() == "INLAND"]
    report = tripwire.drift(
        ref,
        inland.reset_index(drop=True),
        target="median_house_value",
        model=model,
        options={"multivariate": False},
    )
    perf = report.by_check("drift.performance")[0]
    assert perf.title.startswith("Realized MAE")
    pred = report.by_check("drift.prediction")[0]
    assert pred.sev.value == "warning"
