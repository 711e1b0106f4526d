from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage

TARGET_CHECKS = ("leakage.target", "leakage.missing", "leakage.function")


def _all_target_checks(tr, te, target):  # type: ignore[no-untyped-def]
    return [f for c in TARGET_CHECKS for f in leakage(tr, te, target, checks=c)]


def test_feature_computed_from_the_label_is_critical() -> None:
    df = realdata.adult().sample(6000, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(0)
    positive = (df["income"] == ">50K").to_numpy()
    df["account_flag"] = np.where(rng.random(len(df)) < 0.995, positive, ~positive).astype(
        int
    ) * 3 + rng.integers(0, 2, len(df))
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "income", checks="leakage.target"), "leakage.target_leak_features"
    )
    assert found and found[0].severity == "critical" and list(found[0].columns) == ["account_flag"]
    scores = found[0].evidence["single_feature_scores"]
    assert (
        scores[0]["feature"] == "account_flag"
        and scores[0]["AUC"] > 0.99
        and scores[1]["AUC"] < 0.85
    )


def test_regression_leak_is_found() -> None:
    df = realdata.california().sample(5000, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(1)
    df["appraisal"] = df["median_house_value"] * rng.normal(1, 0.02, len(df))
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "median_house_value", checks="leakage.target"),
        "leakage.target_leak_features",
    )
    assert found and list(found[0].columns) == ["appraisal"]


def test_missingness_that_follows_the_label_is_found() -> None:
    df = realdata.adult().sample(6000, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(2)
    positive = (df["income"] == ">50K").to_numpy()
    df["bonus"] = rng.gamma(2, 1000, len(df))
    df.loc[positive & (rng.random(len(df)) < 0.9), "bonus"] = np.nan
    df.loc[~positive & (rng.random(len(df)) < 0.05), "bonus"] = np.nan
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "income", checks="leakage.missing"), "leakage.missingness_predicts_target"
    )
    assert found and list(found[0].columns) == ["bonus"] and found[0].evidence["association"] > 0.5


def test_function_of_a_multiclass_target_is_found() -> None:
    df = realdata.wine("red").reset_index(drop=True)
    df["band"] = np.where(df["quality"] >= 6, "high", "low")
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "quality", checks="leakage.function"), "leakage.function_of_target"
    )
    assert (
        found
        and list(found[0].columns) == ["band"]
        and found[0].evidence["determined_share"] > 0.95
    )


def test_clean_data_has_no_target_leak_alarm() -> None:
    for df, target in [
        (realdata.adult().sample(6000, random_state=2), "income"),
        (realdata.wine("red"), "quality"),
        (realdata.california().sample(5000, random_state=2), "median_house_value"),
    ]:
        tr, te = train_test_split(df, test_size=0.3, random_state=0)
        found = _all_target_checks(tr, te, target)
        assert not alarms(found), [f.title for f in found]


def _noisy_label_score(df, target, positive, seed):  # type: ignore[no-untyped-def]
    """A score equal to the label with 5% of rows flipped, plus noise: strong (AUC ~0.95)
    but neither perfect nor twice as good as the next feature on adult."""
    rng = np.random.default_rng(seed)
    y = (df[target] == positive).to_numpy().astype(float)
    flip = rng.random(len(df)) < 0.05
    return np.round(np.where(flip, 1 - y, y) * 2 + rng.normal(0, 0.5, len(df)), 3)


def test_feature_that_beats_all_others_together_is_found() -> None:
    df = realdata.adult().sample(3000, random_state=3).reset_index(drop=True)
    df["account_flag_score"] = _noisy_label_score(df, "income", ">50K", 3)
    tr, te = train_test_split(df, test_size=1 / 3, random_state=0)
    found = by_check(
        leakage(tr, te, "income", checks="leakage.target_leak"), "leakage.target_leak_features"
    )
    assert found and found[0].severity == "warning"
    assert list(found[0].columns) == ["account_flag_score"]
    ev = found[0].evidence
    assert ev["lift_ratio"] < 2  # not caught by the old dominance rule
    rest = ev["model_without_feature"]
    assert rest["difference_ci_low"] > 0 and rest["feature_alone"] > rest["score"]
    assert rest["features"] == len(df.columns) - 2


def test_strong_real_feature_weaker_than_the_rest_is_quiet() -> None:
    # spambase's best words are strong alone but far below the model on all other words
    df = realdata.spambase()
    for seed in range(2):
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        found = leakage(tr, te, "spam", checks="leakage.target_leak")
        assert not alarms(found), [f.title for f in found]


def test_target_that_is_a_sum_of_features_is_found() -> None:
    df = realdata.bike_hour().drop(columns=["instant", "dteday"]).sample(4000, random_state=0)
    tr, te = train_test_split(df, test_size=1 / 3, random_state=0)
    found = by_check(
        leakage(tr, te, "cnt", checks="leakage.target_formula", task="regression"),
        "leakage.target_formula",
    )
    assert found and found[0].severity == "critical"
    assert sorted(found[0].columns) == ["casual", "registered"]
    coef = found[0].evidence["coefficients"]
    assert abs(coef["casual"] - 1) < 1e-6 and abs(coef["registered"] - 1) < 1e-6
    assert found[0].evidence["r2_out_of_fold"] > 0.999


def test_bike_without_the_parts_has_no_formula() -> None:
    df = realdata.bike_hour().drop(columns=["instant", "dteday", "casual", "registered"])
    tr, te = train_test_split(df.sample(4000, random_state=0), test_size=1 / 3, random_state=0)
    found = leakage(tr, te, "cnt", checks="leakage.target", task="regression")
    assert not alarms(found), [f.title for f in found]
