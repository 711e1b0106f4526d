"""Data scaled with statistics of train + test before they were handed over (no model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from tests import realdata
from tests.leakage.helpers import alarms, leakage

TARGET = "quality"


def _wine_split() -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    df = realdata.wine("red")
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    cols = [c for c in df.columns if c != TARGET]
    return tr.reset_index(drop=True), te.reset_index(drop=True), cols


def _scaled(scaler, fit_on: str):  # type: ignore[no-untyped-def]
    tr, te, cols = _wine_split()
    rows = pd.concat([tr, te]) if fit_on == "all" else tr
    scaler.fit(rows[cols])
    tr[cols], te[cols] = scaler.transform(tr[cols]), scaler.transform(te[cols])
    return tr, te, cols


@pytest.mark.parametrize(
    "scaler", [StandardScaler(), MinMaxScaler(), RobustScaler()], ids=lambda s: type(s).__name__
)
def test_scaler_fitted_on_train_and_test_is_named(scaler) -> None:  # type: ignore[no-untyped-def]
    tr, te, cols = _scaled(scaler, "all")
    found = alarms(leakage(tr, te, TARGET, checks="leakage.scaled_with_test", task="regression"))
    assert len(found) == 1
    f = found[0]
    assert f.evidence["scaler"] == type(scaler).__name__
    # every column carries the StandardScaler fingerprint; MinMax only where an extreme fell
    # in test, Robust only where train's quartiles differ from the pooled ones (wine has ties)
    assert len(f.columns) >= (len(cols) if isinstance(scaler, StandardScaler) else 2)
    for c in f.evidence["columns"]:
        assert max(abs(c["train_plus_test"][0]), abs(c["train_plus_test"][1] - 1)) < 1e-9
        assert c["column"] in cols


def test_rounded_output_still_found() -> None:
    tr, te, cols = _scaled(StandardScaler(), "all")
    tr[cols], te[cols] = tr[cols].round(3), te[cols].round(3)
    found = alarms(leakage(tr, te, TARGET, checks="leakage.scaled_with_test", task="regression"))
    assert found and found[0].evidence["scaler"] == "StandardScaler"


@pytest.mark.parametrize(
    "scaler", [StandardScaler(), MinMaxScaler(), RobustScaler()], ids=lambda s: type(s).__name__
)
def test_scaler_fitted_on_train_only_is_quiet(scaler) -> None:  # type: ignore[no-untyped-def]
    tr, te, _ = _scaled(scaler, "train")
    assert not leakage(tr, te, TARGET, checks="leakage.scaled_with_test", task="regression")


@pytest.mark.parametrize("name", ["wine", "california", "spambase", "adult", "bank"])
def test_raw_data_is_quiet(name: str) -> None:
    df, target = {
        "wine": lambda: (realdata.wine("red"), TARGET),
        "california": lambda: (realdata.california(), "median_house_value"),
        "spambase": lambda: (realdata.spambase(), "spam"),
        "adult": lambda: (realdata.adult().sample(5000, random_state=0), "income"),
        "bank": lambda: (realdata.bank_additional(), "y"),
    }[name]()
    for seed in range(3):
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        assert not leakage(tr, te, target, checks="leakage.scaled_with_test")


def test_proportion_columns_in_unit_interval_are_quiet() -> None:
    # raw columns that live in [0, 1] (shares) hit 0 and 1 by nature; a split that leaves
    # an extreme in test must not look like a MinMaxScaler
    df = realdata.adult().sample(4000, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(0)
    for c in ("share_a", "share_b", "share_c"):
        df[c] = np.clip(rng.beta(0.5, 0.5, len(df)).round(4), 0, 1)
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    assert not alarms(leakage(tr, te, "income", checks="leakage.scaled_with_test"))


def test_columns_bounded_by_nature_in_a_time_split_are_quiet() -> None:
    # bike sharing ships humidity / 100 and a normalised feeling temperature: both reach 0 and
    # 1 in the data, and a time split can leave an extreme in test
    df = realdata.bike_hour().drop(columns=["instant", "dteday", "casual", "registered"])
    cut = len(df) // 3
    tr, te = df.iloc[cut:], df.iloc[:cut]
    for c in ("atemp", "hum"):
        both = pd.concat([tr[c], te[c]])
        assert both.min() == 0 and both.max() == 1
        assert tr[c].min() > 0 or tr[c].max() < 1  # train alone misses an extreme
    assert not alarms(leakage(tr, te, "cnt", checks="leakage.scaled_with_test", task="regression"))
