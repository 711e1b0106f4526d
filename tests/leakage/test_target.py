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
