from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage
from tripwire.checks.leakage import duplicates


def test_exact_copies_of_train_in_test_are_found_with_pairs() -> None:
    df = realdata.adult().sample(4000, random_state=1)
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    copies = tr.sample(120, random_state=2)
    te = pd.concat([te, copies], ignore_index=True)
    tr = tr.reset_index(drop=True)
    found = by_check(
        leakage(tr, te, "income", checks="leakage.train_test"), "leakage.train_test_duplicates"
    )
    assert len(found) == 1 and found[0].severity == "critical"
    f = found[0]
    assert f.evidence["duplicates"] >= 120 and f.evidence["p_value"] < 1e-6
    planted = set(range(len(te) - 120, len(te)))
    assert planted <= set(f.rows["test"])
    a, b = f.evidence["pairs_train_test"][0]
    cols = [c for c in tr.columns if c != "income"]
    assert tr.loc[a, cols].astype(str).tolist() == te.loc[b, cols].astype(str).tolist()


@pytest.mark.parametrize("search", ["exact", "clustered"])
def test_near_copies_are_found_with_a_calibrated_threshold(
    search: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if search == "clustered":  # the search used above EXACT_PAIRS (large tables)
        monkeypatch.setattr(duplicates, "EXACT_PAIRS", 0)
    df = realdata.california().sample(5000, random_state=0)
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    tr, te = tr.reset_index(drop=True), te.reset_index(drop=True)
    rng = np.random.default_rng(0)
    near = tr.sample(150, random_state=3).copy()
    num = near.select_dtypes("number").columns.drop("median_house_value")
    iqr = (tr[num].quantile(0.75) - tr[num].quantile(0.25)).to_numpy()
    near[num] = near[num] + rng.normal(0, 1e-3, size=(len(near), len(num))) * iqr
    te2 = pd.concat([te, near], ignore_index=True)
    found = by_check(
        leakage(tr, te2, "median_house_value", checks="leakage.near"), "leakage.near_duplicates"
    )
    assert found and found[0].severity in ("warning", "critical")
    ev = found[0].evidence
    assert ev["threshold"] > 0 and ev["expected_share"] <= 0.02
    assert len(set(range(len(te), len(te2))) & set(found[0].rows["test"])) >= 140
    pair = ev["closest_pairs"][0]
    assert pair["distance"] <= ev["threshold"]
    assert ev["search"]["method"] == search
    if search == "clustered":
        assert ev["search"]["recall_at_threshold"] >= 0.9 and ev["search"]["probes"] >= 8
    # the same split without the copies is quiet
    assert not alarms(leakage(tr, te, "median_house_value", checks="leakage.near"))


def test_duplicates_inside_train_that_inflate_cv_are_measured() -> None:
    df = realdata.german_credit()
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    tr = pd.concat(
        [tr, tr.sample(500, random_state=1), tr.sample(300, random_state=2)], ignore_index=True
    )
    found = by_check(
        leakage(tr, te, "class", checks="leakage.train_duplicates"), "leakage.train_duplicates"
    )
    assert found and found[0].severity == "warning"
    cv = found[0].evidence["cross_validation"]
    assert cv["random_cv"] > cv["grouped_cv"] and cv["ci_low"] > 0


def test_clean_random_splits_raise_no_duplicate_alarm() -> None:
    df = realdata.adult().sample(5000, random_state=4)
    for seed in range(3):
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        found = leakage(tr, te, "income", checks="leakage.train_test")
        found += leakage(tr, te, "income", checks="leakage.near")
        assert not alarms(found), [f.title for f in found]


def test_clean_splits_of_data_with_many_repeated_rows_stay_quiet() -> None:
    # a fifth of red-wine rows repeat another row exactly: groups of copies move together,
    # which a plain binomial count mistakes for leakage on some splits
    df = realdata.wine("red")
    for seed in range(10):
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        found = leakage(tr, te, "quality", checks="leakage.train_test")
        assert found and not alarms(found), (seed, [f.detail for f in found])


def _jittered_copies(df: pd.DataFrame, rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Copies moved by 0.2% of each value; zeros get specks of 1e-9 (as float noise leaves)."""
    rng = np.random.default_rng(seed)
    out = rows.copy()
    for c in df.columns:
        if c != "spam" and df[c].nunique() > 10:
            scale = out[c].abs().to_numpy() * 0.002 + 1e-9
            out[c] = out[c] + rng.normal(0, 1, len(out)) * scale
    return out


def test_near_copies_in_sparse_data_are_found() -> None:
    # spambase: most word frequencies are 0 in the middle half of rows; the specks on the
    # copies' zeros must not become the column's scale (an IQR of 1e-9)
    df = realdata.spambase()
    tr, te = train_test_split(df, test_size=1 / 3, random_state=0)
    copies = _jittered_copies(df, te.sample(len(te) // 10, random_state=1), 2)
    tr = pd.concat([tr, copies], ignore_index=True)
    found = alarms(
        by_check(leakage(tr, te, "spam", checks="leakage.near"), "leakage.near_duplicates")
    )
    assert found, "planted near copies in spambase not found"
    ev = found[0].evidence
    # natural near-identical mails put the 1% quantile below the copies; the 5% one sees them
    assert ev["wide_p_value"] < 1e-6
    assert ev["wide_near_duplicates"] > 2 * ev["wide_expected_share"] * len(te) * 0.9


def test_clean_sparse_splits_raise_no_near_duplicate_alarm() -> None:
    df = realdata.spambase()
    for seed in range(3):
        tr, te = train_test_split(df, test_size=1 / 3, random_state=seed)
        assert not alarms(leakage(tr, te, "spam", checks="leakage.near"))


def test_a_table_of_few_distinct_rows_is_reported_without_cross_validation() -> None:
    # crowd vote counts: 3 votes per item give a handful of distinct rows, every one repeated;
    # grouped 5-fold CV needs 5 distinct inputs, so inflation is not measured (it crashed)
    rng = np.random.default_rng(0)
    votes = rng.integers(0, 4, 400)
    train = pd.DataFrame({"yes_votes": votes, "label": (votes + rng.integers(0, 2, 400)) >= 2})
    found = by_check(leakage(train, None, "label", checks="leakage.train_duplicates"),
                     "leakage.train_duplicates")  # fmt: skip
    assert len(found) == 1 and "4 groups" in found[0].detail, [f.detail for f in found]
    assert "random 5-fold" not in found[0].detail
