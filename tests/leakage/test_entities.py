from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage
from tripwire.checks.leakage.entities import label_concentration


def _districts() -> pd.DataFrame:
    df = realdata.california().sample(6000, random_state=0)
    # a district: 0.25 degree cells, a real entity whose houses share prices
    cell = (
        (df["latitude"] // 0.25).astype(int).astype(str)
        + "_"
        + (df["longitude"] // 0.25).astype(int).astype(str)
    )
    return df.assign(district=cell).reset_index(drop=True)


def test_group_overlap_with_concentrated_labels_is_found() -> None:
    df = _districts()
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(
        leakage(tr, te, "median_house_value", checks="leakage.entity", group="district"),
        "leakage.entity_overlap",
    )
    assert found and found[0].severity == "critical"
    ev = found[0].evidence
    assert ev["test_share"] > 0.9 and ev["label_concentration_eta2"] > 0.3
    assert set(found[0].rows["test"]) <= set(range(len(df)))


def test_group_split_is_clean() -> None:
    df = _districts()
    a, b = next(
        GroupShuffleSplit(1, test_size=0.3, random_state=0).split(df, groups=df["district"])
    )
    found = leakage(
        df.iloc[a], df.iloc[b], "median_house_value", checks="leakage.entity", group="district"
    )
    assert not alarms(found)


def test_identifier_columns_are_found_without_group() -> None:
    df = realdata.german_credit().reset_index(drop=True)
    rng = np.random.default_rng(0)
    # customers with several loans: the label follows the customer
    customer = rng.integers(0, 150, len(df))
    good = df.groupby(customer)["class"].transform(lambda s: s.mode().iloc[0])
    df = df.assign(
        customer_id=[f"C{c:04d}" for c in customer],
        **{"class": np.where(rng.random(len(df)) < 0.85, good, df["class"])},
    )
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    found = by_check(leakage(tr, te, "class", checks="leakage.entity"), "leakage.entity_overlap")
    assert (
        found
        and list(found[0].columns) == ["customer_id"]
        and found[0].severity in ("warning", "critical")
    )


def test_label_concentration_matches_anova_eta_squared() -> None:
    from scipy import stats

    rng = np.random.default_rng(1)
    g = rng.integers(0, 20, 500)
    y = g * 0.3 + rng.normal(size=500)
    eta2 = label_concentration(pd.Series(y), pd.Series(g), classification=False)
    groups = [y[g == k] for k in range(20)]
    f, _ = stats.f_oneway(*groups)
    # eta^2 = F (k-1) / (F (k-1) + N - k)
    assert np.isclose(eta2, f * 19 / (f * 19 + 500 - 20))
