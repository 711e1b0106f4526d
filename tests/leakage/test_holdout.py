from __future__ import annotations

from sklearn.model_selection import train_test_split

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage


def test_no_test_set_is_said() -> None:
    df = realdata.german_credit()
    found = by_check(leakage(df, None, "class", checks="leakage.no_holdout"), "leakage.no_holdout")
    assert found and found[0].severity == "warning"


def test_test_equal_to_train_is_critical() -> None:
    df = realdata.german_credit()
    found = by_check(
        leakage(df, df.sample(frac=1.0, random_state=0), "class", checks="leakage.no_holdout"),
        "leakage.no_holdout",
    )
    assert found and found[0].severity == "critical" and found[0].evidence["share_in_train"] == 1.0


def test_real_holdout_is_quiet() -> None:
    df = realdata.german_credit()
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    assert not alarms(leakage(tr, te, "class", checks="leakage.no_holdout"))


def test_random_split_of_few_distinct_inputs_is_quiet() -> None:
    # four categorical columns, 448 distinct rows in 32,561: a random split shares nearly all
    df = realdata.adult()[["sex", "race", "relationship", "workclass", "income"]]
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    assert not alarms(leakage(tr, te, "income", checks="leakage.no_holdout"))
