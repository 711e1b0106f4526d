from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage


def _bike() -> pd.DataFrame:
    df = realdata.bike_hour().drop(columns=["instant", "casual", "registered"])
    when = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    return (
        df.drop(columns=["dteday"])
        .assign(when=when.dt.strftime("%Y-%m-%d %H:%M"))
        .iloc[::4]
        .reset_index(drop=True)
    )


def test_random_split_of_time_data_puts_the_future_in_train() -> None:
    df = _bike()
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "cnt", checks="leakage.train_after", time="when"),
        "leakage.train_after_test",
    )
    assert found and found[0].severity == "critical" and found[0].evidence["share"] > 0.9


def test_time_ordered_split_is_clean() -> None:
    df = _bike()
    cut = int(len(df) * 0.7)
    found = leakage(df.iloc[:cut], df.iloc[cut:], "cnt", checks="leakage.train_after", time="when")
    found += leakage(df.iloc[:cut], df.iloc[cut:], "cnt", checks="leakage.future", time="when")
    found += leakage(df.iloc[:cut], df.iloc[cut:], "cnt", checks="leakage.random_vs", time="when")
    assert not alarms(found), [f.title for f in found]


def test_feature_holding_a_later_timestamp_is_found() -> None:
    df = _bike()
    resolved = pd.to_datetime(df["when"]) + pd.Timedelta(days=2)
    df = df.assign(report_closed=resolved.dt.strftime("%Y-%m-%d %H:%M"))
    cut = int(len(df) * 0.7)
    found = by_check(
        leakage(df.iloc[:cut], df.iloc[cut:], "cnt", checks="leakage.future", time="when"),
        "leakage.future_timestamps",
    )
    assert (
        found and list(found[0].columns)[0] == "report_closed" and found[0].evidence["share"] == 1.0
    )


def test_random_evaluation_is_compared_with_time_ordered() -> None:
    df = realdata.elec2().iloc[:6000].reset_index(drop=True)
    cut = int(len(df) * 0.7)
    found = by_check(
        leakage(df.iloc[:cut], df.iloc[cut:], "class", checks="leakage.random_vs", time="date"),
        "leakage.random_vs_temporal",
    )
    assert found
    ev = found[0].evidence
    lo, hi = ev["gap_ci"]
    assert lo <= ev["gap"] <= hi
    # electricity prices are autocorrelated: a random split scores higher than the future
    assert ev["random_score"] > ev["time_ordered_score"]
    # the given test set follows train, so the reported score is order-respecting: info only
    assert ev["test_follows_train"] and found[0].severity == "info"
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    shuffled = by_check(
        leakage(tr, te, "class", checks="leakage.random_vs", time="date"),
        "leakage.random_vs_temporal",
    )
    assert shuffled[0].severity == "warning" and not shuffled[0].evidence["test_follows_train"]
