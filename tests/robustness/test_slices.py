"""Weak-slice discovery on UCI Adult: a planted weak slice is found and named by its
columns, a clean split stays quiet, and the lattice search agrees with brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata
from tripwire.stats.slices import brute_force, encode, search

OPTS = {"slice_bootstrap": 10}


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = realdata.adult("train")
    perm = np.random.default_rng(0).permutation(len(df))
    tr = df.iloc[perm[:6000]].reset_index(drop=True)
    te = df.iloc[perm[6000:9000]].reset_index(drop=True)
    return tr, te


def _plant(te: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Flip half the labels of older women in test: the model is confidently wrong there."""
    te = te.copy()
    rng = np.random.default_rng(seed)
    member = ((te["age"] > 45) & (te["sex"].str.strip() == "Female")).to_numpy()
    flip = member & (rng.random(len(te)) < 0.5)
    a, b = sorted(te["income"].unique())
    te.loc[flip, "income"] = np.where(te.loc[flip, "income"] == a, b, a)
    return te, member


def test_planted_weak_slice_found_and_named(split):
    tr, te = split
    planted, member = _plant(te)
    report = tripwire.audit(
        tr, planted, target="income", checks=["robustness.weak_slices"], options=OPTS
    )
    found = report.by_check("robustness.weak_slices")
    top = found[0]
    assert top.sev.value == "warning"
    assert set(top.columns) == {"age", "sex"}
    assert "sex = Female" in top.evidence["rule"]
    assert top.evidence["stability"] >= 0.8
    lo, hi = top.evidence["error_interval"]
    assert lo < top.evidence["error"] < hi
    rows = np.asarray(top.rows["test"])
    # the rows named are (almost all) planted rows
    assert member[rows].mean() > 0.9


def test_clean_split_raises_no_warning(split):
    tr, te = split
    report = tripwire.audit(
        tr, te, target="income", checks=["robustness.weak_slices"], options=OPTS
    )
    found = report.by_check("robustness.weak_slices")
    assert found and all(f.sev.value == "info" for f in found)


def test_lattice_matches_brute_force(split):
    tr, _ = split
    X = tr[["age", "sex", "race", "hours_per_week", "education_num", "workclass"]].iloc[:1500]
    err = (np.random.default_rng(3).random(len(X)) < 0.2).astype(float)
    enc = encode(X, n_bins=4)
    ref = brute_force(enc, err, max_level=3, min_support=30)
    res = search(enc, err, min_support=30, min_lift=1.25, alpha=1.0, top_k=1000)
    got = {s.conditions: s for s in res.all_candidates}
    overall = err.mean()
    qualifying = {k for k, (n, e) in ref.items() if e / n >= 1.25 * overall}
    # every qualifying slice is reached despite the pruning, with the same numbers
    assert qualifying and qualifying <= set(got)
    for k in qualifying:
        assert got[k].n == ref[k][0]
        assert got[k].error == pytest.approx(ref[k][1] / ref[k][0])
    assert res.enumerated >= len(ref)
