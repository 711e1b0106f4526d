"""Label checks on real data: planted noise is found, clean data raises no warning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata
from tripwire.stats.annotators import dawid_skene, krippendorff_alpha, majority_vote


@pytest.fixture(scope="module")
def spam():
    df = realdata.spambase().sample(n=2000, random_state=0).reset_index(drop=True)
    return df, df.columns[-1]


def _labels(report):
    return {f.check: f for f in report.findings if f.mode == "labels"}


def test_clean_data_does_not_warn(spam):
    df, target = spam
    rep = tripwire.audit(df, target=target, checks=["labels."])
    found = _labels(rep)
    assert found["labels.issues"].sev.value == "info"
    assert all(f.sev.value == "info" for f in found.values())


def test_clean_german_credit_does_not_warn():
    # the surest decile of a hard task disagrees with clean labels at a few per cent
    rep = tripwire.audit(realdata.german_credit(), target="class", checks=["labels.issues"])
    f = _labels(rep)["labels.issues"]
    assert f.sev.value == "info" and f.evidence["noise_floor"]["low"] < 0.05


def test_integer_codes_of_unordered_classes_are_not_read_as_ratings():
    from sklearn.datasets import load_digits  # real handwritten digits shipped with sklearn

    digits = load_digits(as_frame=True).frame
    rng = np.random.default_rng(0)
    flip = rng.random(len(digits)) < 0.15
    noisy = digits.copy()
    noisy.loc[flip, "target"] = (noisy.loc[flip, "target"] + rng.integers(1, 10, flip.sum())) % 10
    rep = tripwire.audit(noisy, target="target", checks=["labels.issues"])
    f = _labels(rep)["labels.issues"]
    assert not f.evidence["noise_floor"]["ordinal"]
    assert f.sev.value == "warning"


def test_ordinal_ratings_clean_quiet_and_planted_noise_warns():
    wine = realdata.wine("red")
    f = _labels(tripwire.audit(wine, target="quality", checks=["labels.issues"]))["labels.issues"]
    assert f.sev.value == "info" and f.evidence["noise_floor"]["ordinal"]
    rng = np.random.default_rng(2)
    noisy = wine.copy()
    flip = rng.random(len(wine)) < 0.3  # any rating, as by mistake (some land on the same)
    noisy.loc[flip, "quality"] = rng.integers(3, 9, flip.sum())
    flip &= (noisy["quality"] != wine["quality"]).to_numpy()
    f = _labels(tripwire.audit(noisy, target="quality", checks=["labels.issues"]))["labels.issues"]
    assert f.sev.value == "warning"
    flagged = np.zeros(len(wine), bool)
    flagged[f.rows["train"]] = True
    assert (flagged & flip).sum() / flagged.sum() > 0.4


def test_planted_noise_is_found(spam):
    df, target = spam
    rng = np.random.default_rng(1)
    noisy = df.copy()
    flip = rng.random(len(df)) < 0.15
    noisy.loc[flip, target] = 1 - noisy.loc[flip, target]
    rep = tripwire.audit(noisy, target=target, checks=["labels.issues"])
    f = _labels(rep)["labels.issues"]
    assert f.sev.value == "warning"
    flagged = np.zeros(len(df), bool)
    flagged[f.rows["train"]] = True
    precision = (flagged & flip).sum() / flagged.sum()
    recall = (flagged & flip).sum() / flip.sum()
    assert precision > 0.7 and recall > 0.5
    lo, hi = f.evidence["noise_rate"]["low"], f.evidence["noise_rate"]["high"]
    assert lo < 0.2 and hi > 0.08


def test_dawid_skene_beats_majority_on_crowd_dog():
    answers, truth = realdata.crowd("dog")
    item, items = pd.factorize(answers["question"])
    ann, _ = pd.factorize(answers["worker"])
    lab, classes = pd.factorize(answers["answer"].astype(str), sort=True)
    ds = dawid_skene(item, ann, lab)
    mv = majority_vote(item, lab, len(items), len(classes))
    gold = truth.set_index("question")["truth"].astype(str)
    common = np.flatnonzero(pd.Index(items).isin(gold.index))
    g = gold.loc[items[common]].map({c: i for i, c in enumerate(classes)}).to_numpy()
    assert (ds.labels[common] == g).mean() > (mv[common] == g).mean()
    assert 0 < krippendorff_alpha(item, lab) < 1


def test_label_columns_are_not_features(spam):
    df, target = spam
    df = df.copy()
    df["ann_a"] = df[target]
    df["ann_b"] = df[target]
    rep = tripwire.audit(
        df,
        target=target,
        checks=["labels.annotators"],
        options={"label_columns": ["ann_a", "ann_b"]},
    )
    assert "ann_a" not in rep.inputs["features"]
    assert _labels(rep)["labels.annotators"].evidence["krippendorff_alpha"] == 1.0


def test_consensus_labels_in_evidence_match_gold_better_than_majority():
    answers, truth = realdata.crowd("dog")
    ann = answers.rename(columns={"question": "item", "worker": "annotator", "answer": "label"})
    rep = tripwire.audit(truth, target="truth", annotations=ann, checks=["labels.annotators"])
    f = _labels(rep)["labels.annotators"]
    consensus = {c["item"]: c["label"] for c in f.evidence["consensus"]}
    assert len(consensus) == ann["item"].nunique()
    gold = truth.set_index("question")["truth"].astype(str)
    common = gold.index.intersection(list(consensus))
    acc = np.mean([str(consensus[q]) == gold[q] for q in common])
    item, items = pd.factorize(ann["item"])
    lab, classes = pd.factorize(ann["label"].astype(str), sort=True)
    mv = dict(zip(items, np.asarray(classes)[majority_vote(item, lab, len(items), len(classes))]))
    acc_mv = np.mean([mv[q] == gold[q] for q in common])
    assert acc > acc_mv > 0.7
    assert json.loads(rep.to_json())["findings"][0]["evidence"]["consensus"][0]["label"] is not None


def _twins(df: pd.DataFrame, target: str, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Append ``n`` near copies of random rows (one column moved by 0.1%) with flipped labels."""
    rng = np.random.default_rng(seed)
    src = rng.choice(len(df), n, replace=False)
    twins = df.iloc[src].copy()
    col = "capital_run_length_total"
    twins[col] = twins[col] * 1.001 + 0.01
    twins[target] = 1 - twins[target]
    out = pd.concat([df, twins], ignore_index=True)
    return out, np.arange(len(df), len(out))


def test_near_duplicate_conflicts_found_and_quiet_on_clean(spam):
    df, target = spam
    clean = tripwire.audit(df, target=target, checks=["labels.near_conflicts"])
    found = _labels(clean).get("labels.near_conflicts")
    assert found is None or found.sev.value == "info"
    noisy, planted = _twins(df, target, 60, seed=3)
    rep = tripwire.audit(noisy, target=target, checks=["labels.near_conflicts"])
    f = _labels(rep)["labels.near_conflicts"]
    assert f.sev.value == "warning"
    assert f.evidence["near_conflict_rate"] > f.evidence["control_conflict_rate"] + 0.2
    assert len(set(planted) & set(f.rows["train"])) >= 45


@pytest.fixture(scope="module")
def elec():
    return realdata.elec2().iloc[::6].reset_index(drop=True)


def test_outdated_labels_fire_on_elec2_and_stay_quiet_when_time_is_random(elec):
    rep = tripwire.audit(elec, target="class", time_column="date", checks=["labels.outdated"])
    f = _labels(rep)["labels.outdated"]
    assert f.sev.value == "warning"
    periods = f.evidence["periods"]
    assert len(periods) == 5 and all("interval" in p for p in periods[1:])
    changed = [p for p in periods[1:] if p["interval"][0] > 0]
    assert changed and changed[0]["early_weighted"] < changed[0]["within"] - 0.05
    # the outdated rows: every labelled row older than the first period that changed
    older = np.flatnonzero(elec["date"] < float(changed[0]["start"]))
    assert f.rows["train"] == older.tolist()
    assert len(older) >= 0.95 * sum(p["rows"] for p in periods[: changed[0]["period"] - 1])
    shuffled = elec.drop(columns=["date"]).copy()
    shuffled["order"] = np.random.default_rng(0).permutation(len(shuffled))
    rep = tripwire.audit(shuffled, target="class", time_column="order", checks=["labels.outdated"])
    quiet = _labels(rep)["labels.outdated"]
    assert quiet.sev.value == "info" and not quiet.rows
    assert all(p["interval"][0] <= 0 for p in quiet.evidence["periods"][1:])


@pytest.fixture(scope="module")
def houses():
    df = realdata.california().sample(n=3000, random_state=0).reset_index(drop=True)
    return df.drop(columns=["ocean_proximity"])


def test_skewed_regression_targets_clean_quiet_and_unit_errors_warn(houses):
    # prices: errors grow with the value, so a raw-scale robust z flags dear districts
    rep = tripwire.audit(houses, target="median_house_value", checks=["labels.outliers"])
    f = _labels(rep)["labels.outliers"]
    assert f.sev.value == "info" and f.evidence["share"] < 0.01
    rng = np.random.default_rng(3)
    planted = rng.choice(len(houses), 60, replace=False)
    noisy = houses.copy()
    noisy.loc[planted, "median_house_value"] *= rng.choice([0.1, 10.0], len(planted))
    rep = tripwire.audit(noisy, target="median_house_value", checks=["labels.outliers"])
    f = _labels(rep)["labels.outliers"]
    assert f.sev.value == "warning"
    assert len(set(planted.tolist()) & set(f.rows["train"])) >= 30


def test_counts_target_clean_quiet():
    bike = realdata.bike_hour().sample(n=3000, random_state=0).reset_index(drop=True)
    bike = bike.drop(columns=["instant", "dteday", "casual", "registered"])
    f = _labels(tripwire.audit(bike, target="cnt", checks=["labels.outliers"]))["labels.outliers"]
    assert f.sev.value == "info"


def test_exact_conflicts_warn_on_relabelled_items_not_on_coarse_tables(spam):
    df, target = spam
    twins = df.iloc[:40].copy()
    twins[target] = 1 - twins[target]
    rep = tripwire.audit(
        pd.concat([df, twins], ignore_index=True), target=target, checks=["labels.conflicts"]
    )
    f = _labels(rep)["labels.conflicts"]
    assert f.sev.value == "warning" and len(f.rows["train"]) >= 80
    answers, truth = realdata.crowd("dog")
    votes = pd.crosstab(answers.iloc[:, 0], answers.iloc[:, 2]).add_prefix("votes_")
    table = votes.join(truth.set_index(truth.columns[0]).iloc[:, 0].rename("gold"), how="inner")
    f = _labels(tripwire.audit(table, target="gold", checks=["labels.conflicts"]))[
        "labels.conflicts"
    ]
    assert f.sev.value == "info" and not f.rows


@pytest.fixture(scope="module")
def spam_split():
    df = realdata.spambase().sample(n=3000, random_state=3).reset_index(drop=True)
    return df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True), "spam"


def test_class_conditional_noise_warns_by_train_test_comparison(spam_split):
    # 40% of the spam rows of train relabelled as ham: the surest rows are clean ham, so the
    # noise floor stays low; only the comparison with the clean test labels can see it
    train, test, target = spam_split
    rng = np.random.default_rng(4)
    noisy = train.copy()
    flip = (noisy[target] == 1).to_numpy() & (rng.random(len(noisy)) < 0.4)
    noisy.loc[flip, target] = 0
    rep = tripwire.audit(noisy, test, target=target, checks=["labels.issues", "labels.issues_test"])
    f = _labels(rep)["labels.issues"]
    assert f.evidence["noise_floor"]["low"] < 0.05  # the floor alone would not warn
    cmp = f.evidence["train_vs_test"]
    assert cmp["p_value"] < 0.01 and cmp["distance"] >= 0.02 and cmp["excess"] > 0
    assert f.sev.value == "warning"
    assert _labels(rep)["labels.issues_test"].sev.value == "info"  # the clean side is quiet
    flagged = np.zeros(len(noisy), bool)
    flagged[f.rows["train"]] = True
    assert (flagged & flip).sum() / flagged.sum() > 0.6


def test_clean_split_is_quiet_on_both_sides(spam_split):
    train, test, target = spam_split
    rep = tripwire.audit(train, test, target=target, checks=["labels.issues", "labels.issues_test"])
    found = _labels(rep)
    assert found["labels.issues"].evidence["train_vs_test"]["p_value"] > 0.01
    assert all(f.sev.value == "info" for f in found.values())


def test_clean_adult_split_is_quiet_and_class_conditional_noise_warns():
    df = realdata.adult().sample(n=3000, random_state=5).reset_index(drop=True)
    train, test = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    rep = tripwire.audit(
        train, test, target="income", checks=["labels.issues", "labels.issues_test"]
    )
    assert all(f.sev.value == "info" for f in _labels(rep).values())
    rng = np.random.default_rng(6)
    noisy = train.copy()
    flip = (noisy["income"] == ">50K").to_numpy() & (rng.random(len(noisy)) < 0.4)
    noisy.loc[flip, "income"] = "<=50K"
    rep = tripwire.audit(noisy, test, target="income", checks=["labels.issues"])
    f = _labels(rep)["labels.issues"]
    assert f.evidence["noise_floor"]["low"] < 0.05
    assert f.sev.value == "warning" and f.evidence["train_vs_test"]["p_value"] < 0.01


def test_regression_targets_compared_with_test():
    # wine quality as a number: ratings are heavy-tailed on a robust scale in train and test
    # alike, so the comparison keeps a clean split quiet (1% of train beyond the cut is not
    # enough when test has as many); swapped California targets are more in train than test
    wine = realdata.wine("red").sample(frac=1.0, random_state=7).reset_index(drop=True)
    cut = 2 * len(wine) // 3
    rep = tripwire.audit(
        wine.iloc[:cut], wine.iloc[cut:], target="quality", task="regression",
        checks=["labels.outliers"],
    )  # fmt: skip
    f = _labels(rep)["labels.outliers"]
    assert f.evidence["train_vs_test"]["p_value"] > 0.01 and f.sev.value == "info"
    houses = realdata.california().sample(n=3000, random_state=8).reset_index(drop=True)
    target = "median_house_value"
    train, test = houses.iloc[:2000].copy(), houses.iloc[2000:].reset_index(drop=True)
    rep = tripwire.audit(train, test, target=target, task="regression", checks=["labels.outliers"])
    assert _labels(rep)["labels.outliers"].sev.value == "info"
    rng = np.random.default_rng(9)
    rows = rng.choice(len(train), 100, replace=False)
    y = train[target].to_numpy(copy=True)
    y[rows] = rng.permutation(y)[rows]
    train[target] = y
    rep = tripwire.audit(train, test, target=target, task="regression", checks=["labels.outliers"])
    f = _labels(rep)["labels.outliers"]
    assert f.sev.value == "warning" and f.evidence["train_vs_test"]["p_value"] < 0.01


def test_text_only_table_clean_quiet_and_planted_noise_found():
    # SMS spam has one free-text column: the baseline reads it as TF-IDF components (before,
    # a text-only table left the model without features and the label checks crashed)
    df = realdata.sms_spam().drop_duplicates("text").reset_index(drop=True)
    perm = np.random.default_rng(0).permutation(len(df))
    train = df.iloc[perm[:3000]].reset_index(drop=True)
    test = df.iloc[perm[3000:4500]].reset_index(drop=True)
    for rate in (0.0, 0.1):
        tr = train.copy()
        flip = np.random.default_rng(1).random(len(tr)) < rate
        tr.loc[flip, "label"] = np.where(tr.loc[flip, "label"] == "spam", "ham", "spam")
        report = tripwire.audit(tr, test, target="label", checks=["labels.issues"])
        assert not [c for c in report.checks if c.status == "error"]
        f = report.by_check("labels.issues")[0]
        if rate == 0:
            assert f.sev.value == "info", f.detail
            continue
        assert f.sev.value == "warning", f.detail
        flagged, planted = set(f.rows["train"]), set(np.flatnonzero(flip).tolist())
        tp = len(flagged & planted)
        assert tp / len(flagged) > 0.7 and tp / len(planted) > 0.7, (tp, len(flagged))
