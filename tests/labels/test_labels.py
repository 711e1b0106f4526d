"""Label checks on real data: planted noise is found, clean data raises no warning."""

from __future__ import annotations

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
