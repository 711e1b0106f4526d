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


def test_rare_categories_on_clean_adult_splits_are_not_unseen_drift(adult):
    """native_country has a long tail (one country has a single row): on random splits like
    the zoo's (3,000 rows, 2,000 train vs 1,000 test) some rare countries fall only in the
    test side by chance. That must be as rare as the level says, and a real new value of 1 %
    of rows must still stand out."""
    df = adult.drop_duplicates().reset_index(drop=True)
    rng = np.random.default_rng(7)
    p_values, effects = [], []
    for _ in range(100):
        s = df["native_country"].iloc[rng.choice(len(df), 3000, replace=False)]
        ref, cur = s.iloc[1000:].reset_index(drop=True), s.iloc[:1000].reset_index(drop=True)
        u = uv.unseen_from(uv.test_column(ref, cur, "categorical"))
        p_values.append(1.0 if u is None else u.p_value)
        effects.append(0.0 if u is None else u.effect)
    p = np.array(p_values)
    assert np.mean(p < 1) > 0.2  # unseen rare values do occur on clean splits
    assert np.mean(p < 0.05) <= 0.08 and np.mean(p < 0.01) <= 0.03
    assert p.min() > 1e-5
    planted = cur.copy()
    planted.iloc[:10] = "Atlantis"
    u = uv.unseen_from(uv.test_column(ref, planted, "categorical"))
    assert u is not None and u.p_value < 1e-4
    assert u.extra["unseen_values"][0] == {"value": "Atlantis", "count": 10}


def test_unseen_null_matches_random_splits():
    """Both statistics against real random splits of a long-tailed pooled sample."""
    totals = np.array([500, 300, 1, 1, 1, 1, 2, 2, 3])
    labels = np.repeat(np.arange(len(totals)), totals)
    rng = np.random.default_rng(0)
    counts, largest = [], []
    for _ in range(4000):
        perm = rng.permutation(labels)
        ref = np.bincount(perm[411:], minlength=len(totals))
        cur = np.bincount(perm[:411], minlength=len(totals))
        counts.append(int(cur[ref == 0].sum()))
        largest.append(int(cur[ref == 0].max(initial=0)))
    k, big = np.array(counts), np.array(largest)
    mean, p = uv.unseen_null(totals, 400, 411, observed=6)  # the count alone (x2, Bonferroni)
    assert mean == pytest.approx(k.mean(), abs=0.1)
    assert p / 2 == pytest.approx(np.mean(k >= 6), abs=0.02)
    _, p = uv.unseen_null(totals, 400, 411, observed=1, largest=3)  # the largest category
    # a union bound: at or above the truth (up to the simulation noise of about 0.005)
    assert np.mean(big >= 3) - 0.015 <= p / 2 <= np.mean(big >= 3) + 0.03


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
