"""Column tests: agreement with scipy, the choice of test, effect sizes and their intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests import realdata
from tripwire.errors import UsageError
from tripwire.stats import univariate as uv
from tripwire.stats.decision import decide


@pytest.fixture(scope="module")
def adult():
    return realdata.adult("train")


def test_ks_matches_scipy_on_real_column(adult):
    ref, cur = adult["age"].iloc[:3000], adult["age"].iloc[3000:7000] + 1
    r = uv.test_column(ref, cur, "numeric")
    sp = stats.ks_2samp(ref, cur)
    assert r.method == "ks"
    assert r.statistic == pytest.approx(sp.statistic, abs=1e-12)
    assert r.p_value == pytest.approx(sp.pvalue, rel=0.2)
    assert r.effect_low <= r.effect <= r.effect_high


def test_chi2_matches_scipy_on_real_column(adult):
    ref, cur = adult["race"].iloc[:5000], adult["race"].iloc[5000:10000]
    r = uv.test_column(ref, cur, "categorical")
    labels, rc, cc = uv.category_counts(ref, cur)
    table = np.vstack([rc, cc])
    # no rare categories here: the pooled table equals the raw one
    sp = stats.chi2_contingency(table, correction=False)
    assert r.method == "chi2"
    assert r.statistic == pytest.approx(sp.statistic)
    assert r.p_value == pytest.approx(sp.pvalue)


def test_discrete_numeric_uses_chi2(adult):
    ref = adult["education_num"].iloc[:4000]
    r = uv.test_column(ref, adult["education_num"].iloc[4000:8000], "numeric")
    assert r.method == "chi2" and "distinct" in r.extra["why"]


def test_missing_rate_and_unseen(adult):
    ref = adult["occupation"].iloc[:4000]
    cur = adult["occupation"].iloc[4000:8000].copy()
    cur.iloc[:400] = np.nan
    m = uv.test_column(ref, cur, "categorical", method="missing_rate")
    assert m.effect == pytest.approx(cur.isna().mean() - ref.isna().mean())
    assert m.p_value < 1e-10 and m.effect_low > 0.05
    cur.iloc[400:600] = "Drone-pilot"
    r = uv.test_column(ref, cur, "categorical")
    u = uv.unseen_from(r)
    assert u is not None and u.p_value < 1e-10
    assert u.extra["unseen_values"][0] == {"value": "Drone-pilot", "count": 200}


def test_datetime_compared_by_calendar():
    days = pd.Series(pd.date_range("2024-01-01", periods=700, freq="D"))
    later = days + pd.Timedelta(days=700)
    r = uv.test_column(days, later, "datetime")
    assert r.method == "calendar" and r.p_value > 0.05  # time moved on, the weekly pattern did not
    weekdays_only = later[later.dt.day_of_week < 5]
    assert uv.test_column(days, weekdays_only, "datetime").p_value < 1e-6


def test_text_and_identifier():
    sms = realdata.sms_spam()
    ham, spam = sms[sms.label == "ham"].text, sms[sms.label == "spam"].text
    r = uv.test_column(ham.iloc[:400], spam.iloc[:400], "text")
    assert r.method == "ks_length" and r.p_value < 1e-10
    assert r.extra["out_of_vocabulary_cur"] > r.extra["out_of_vocabulary_baseline"]
    ident = uv.test_column(pd.Series(range(50)), pd.Series(range(50, 100)), "identifier")
    assert not ident.tested and "unique" in ident.extra["reason"]


@pytest.mark.parametrize("method", ["psi", "wasserstein", "jensen_shannon"])
def test_overrides(adult, method):
    col = "hours_per_week" if method != "jensen_shannon" else "workclass"
    kind = "numeric" if method != "jensen_shannon" else "categorical"
    same = uv.test_column(adult[col].iloc[:3000], adult[col].iloc[3000:6000], kind, method=method)
    moved = adult[col].iloc[3000:6000]
    moved = moved + 5 if kind == "numeric" else moved.where(moved != "Private", "Self-emp-inc")
    shifted = uv.test_column(adult[col].iloc[:3000], moved, kind, method=method)
    assert same.method == method
    assert same.p_value > 0.01 and shifted.p_value < 0.01  # permutation p >= 1/201
    assert shifted.effect > same.effect


def test_bad_method_refused():
    with pytest.raises(UsageError, match="is not one of"):
        uv.test_column(pd.Series([1.0] * 10), pd.Series([1.0] * 10), "numeric", method="magic")


def test_negligible_shift_on_huge_sample_is_not_drift():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(size=400_000), name="x")
    cur = pd.Series(rng.normal(0.02, 1, size=400_000))  # real but tiny
    r = uv.test_column(ref, cur, "numeric")
    assert r.p_value < 1e-6 and r.extra["ks_evaluation"].startswith("grid")
    d = decide([r])
    assert d.statuses == ("negligible",) and not d.drifted
    assert d.to_dict()["negligible_columns"] == ["x"]


def test_same_seed_same_result(adult):
    a = uv.test_column(adult["sex"].iloc[:2000], adult["sex"].iloc[2000:4000], "categorical")
    b = uv.test_column(adult["sex"].iloc[:2000], adult["sex"].iloc[2000:4000], "categorical")
    assert a.to_dict() == b.to_dict()
