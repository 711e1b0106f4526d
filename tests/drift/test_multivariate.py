"""Multivariate shift: the domain classifier's p-value is calibrated and it names the driving
features; MMD catches a shift spread over an embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

import tripwire
from tests import realdata
from tripwire.stats.c2st import classifier_two_sample_test


@pytest.fixture(scope="module")
def wine():
    return realdata.wine("white").drop(columns=["quality"])


def test_c2st_p_value_is_calibrated_on_clean_splits(wine):
    X = wine.to_numpy(dtype=float)
    p = []
    for seed in range(20):
        perm = np.random.default_rng(seed).permutation(len(X))
        r = classifier_two_sample_test(
            X[perm[:1200]], X[perm[1200:2400]], max_rows=1200, random_state=seed
        )
        p.append(r.p_value)
    assert np.mean(np.array(p) < 0.05) <= 0.15  # 1 of 20 expected
    assert 0.3 < np.median(p) < 0.7


def test_c2st_finds_a_joint_shift_no_column_shows(wine):
    X = wine[["alcohol", "density"]].to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    ref = X[perm[:2000]]
    cur = X[perm[2000:4000]].copy()
    cur[:, 1] = rng.permutation(cur[:, 1])  # same marginals, relation broken
    r = classifier_two_sample_test(ref, cur, feature_names=["alcohol", "density"])
    assert r.p_value < 1e-4 and r.auc_low > 0.5
    assert {d["feature"] for d in r.drivers} == {"alcohol", "density"}


def _embed(texts: pd.Series, n: int = 16) -> pd.DataFrame:
    tfidf = TfidfVectorizer(min_df=3).fit_transform(texts)
    emb = TruncatedSVD(n, random_state=0).fit_transform(tfidf)
    return pd.DataFrame(emb, columns=[f"emb_{i}" for i in range(n)])


def test_mmd_on_a_real_text_embedding():
    sms = realdata.sms_spam()
    emb = _embed(sms["text"])
    ham = emb[sms["label"].to_numpy() == "ham"].reset_index(drop=True)
    spam = emb[sms["label"].to_numpy() == "spam"].reset_index(drop=True)
    ref = ham.iloc[:1500]
    same = tripwire.drift(ref, ham.iloc[1500:3000], checks=["drift.embedding"])
    assert [f.sev.value for f in same.findings] == ["info"]
    mixed = pd.concat([ham.iloc[1500:2700], spam.iloc[:300]], ignore_index=True)
    moved = tripwire.drift(ref, mixed, checks=["drift.embedding"])
    f = moved.by_check("drift.embedding")[0]
    assert f.sev.value == "warning" and len(f.columns) == 16
    assert f.evidence["p_value"] < 0.01


def test_domain_classifier_reads_text_columns():
    # a text-only table: the domain classifier reads the message as TF-IDF components (before,
    # it had no column to learn from); spam mixed into ham is told apart and the driver named
    sms = realdata.sms_spam().drop_duplicates("text").reset_index(drop=True)
    ham = sms[sms["label"] == "ham"].sample(frac=1, random_state=0).reset_index(drop=True)
    spam = sms[sms["label"] == "spam"].reset_index(drop=True)
    ref = ham.iloc[:2000][["text"]]
    same = tripwire.drift(ref, ham.iloc[2000:4000][["text"]], checks=["drift.multivariate"])
    quiet = same.by_check("drift.multivariate")[0]
    assert quiet.sev.value == "info" and quiet.evidence["p_value"] > 0.01, quiet.title
    mixed = pd.concat([ham.iloc[2000:3700], spam.iloc[:300]], ignore_index=True)[["text"]]
    moved = tripwire.drift(ref, mixed, checks=["drift.multivariate"])
    f = moved.by_check("drift.multivariate")[0]
    assert f.sev.value == "warning" and f.columns == ("text",), f.title
    assert f.evidence["drivers"][0]["feature"] == "text"
