"""drift.concept on real data: labels that change meaning while the inputs stay put are found,
clean random splits are not flagged, and the comparison is made only where it can be."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata
from tests.conftest import run_cli


def _split(df: pd.DataFrame, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    perm = np.random.default_rng(seed).permutation(len(df))
    return (
        df.iloc[perm[:n]].reset_index(drop=True),
        df.iloc[perm[n : 2 * n]].reset_index(drop=True),
    )


def _concept(report):
    found = report.by_check("drift.concept")
    assert len(found) == 1, [f.title for f in report.findings]
    return found[0]


def _no_errors(report):
    broken = [c for c in report.to_dict()["checks"] if c["status"] == "error"]
    assert not broken, broken


@pytest.fixture(scope="module")
def spam():
    return _split(realdata.spambase(), 1500, 3)


def test_relabelled_region_is_concept_drift(spam):
    ref, cur = spam
    cur = cur.copy()
    # mails with '$' signs: a third of their labels flipped; no input changes
    region = (cur["char_freq_$"] > 0).to_numpy()
    flip = region & (np.random.default_rng(0).random(len(cur)) < 0.33)
    cur["spam"] = np.where(flip, 1 - cur["spam"], cur["spam"])
    report = tripwire.drift(ref, cur, target="spam")
    _no_errors(report)
    f = _concept(report)
    assert f.sev.value == "warning" and f.columns == ("spam",)
    ev = f.evidence
    assert ev["test"] == "label_law_lr" and ev["q_value"] < 1e-6
    assert ev["effect"] > ev["bar"] and ev["accuracy_cur"] < ev["accuracy_ref"] - 0.05
    assert ev["charts"][0]["type"] == "line"
    assert "Retrain" in f.action
    summary = report.by_check("drift.dataset")[0]
    assert summary.sev.value == "warning" and "another law" in summary.title
    # the inputs did not move, so no column and no domain classifier alarm
    assert not [g for g in report.by_check("drift.columns") if g.sev.value != "info"]


def test_clean_split_is_not_concept_drift(spam):
    ref, cur = spam
    report = tripwire.drift(ref, cur, target="spam")
    f = _concept(report)
    assert f.sev.value == "info" and f.evidence["q_value"] > 0.05, f.detail
    assert report.exit_code(fail_on="warning") == 0


@pytest.fixture(scope="module")
def housing():
    df = realdata.california()
    df = df[df["median_house_value"] < df["median_house_value"].max()]  # censored values
    return _split(df, 2000, 5)


def test_regression_target_moved_in_a_region(housing):
    ref, cur = housing
    cur = cur.copy()
    # inland homes now sell for 0.5 SD more at the same inputs
    inland = (cur["ocean_proximity"] == "INLAND").to_numpy()
    cur.loc[inland, "median_house_value"] += 0.5 * ref["median_house_value"].std()
    report = tripwire.drift(ref, cur, target="median_house_value")
    _no_errors(report)
    f = _concept(report)
    assert f.sev.value == "warning", f.detail
    ev = f.evidence
    assert ev["test"].startswith("residual_") and ev["effect_name"] == "ks_distance"
    assert ev["bias_cur"] - ev["bias_ref"] > 0.05 * ref["median_house_value"].std()
    assert ev["charts"][0]["type"] == "histogram"


def test_regression_clean_split(housing):
    ref, cur = housing
    f = _concept(tripwire.drift(ref, cur, target="median_house_value"))
    assert f.sev.value == "info", f.detail


def test_word_booleans_and_unlabelled_current():
    # german credit keeps yes/no columns as words in a drift comparison; the fold models
    # must get them converted (an all-missing column made the model fit fail)
    ref, cur = _split(realdata.german_credit(), 500, 1)
    report = tripwire.drift(ref, cur, target="class")
    _no_errors(report)
    assert _concept(report).sev.value == "info"
    # no labels in current: nothing to compare, and nothing claimed
    unlabelled = tripwire.drift(ref, cur.drop(columns=["class"]), target="class")
    _no_errors(unlabelled)
    assert unlabelled.by_check("drift.concept") == []
    few = cur.assign(**{"class": cur["class"].where(cur.index < 50)})  # 50 labels arrived
    assert tripwire.drift(ref, few, target="class").by_check("drift.concept") == []


def test_not_in_an_audit_and_cli(tmp_path, spam):
    ref, cur = spam
    # an audit compares train and test labels in labels.issues; drift.concept is drift-only
    audit = tripwire.audit(ref, cur, target="spam", checks=["drift"])
    assert audit.by_check("drift.dataset") and audit.by_check("drift.concept") == []
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.assign(spam=1 - cur["spam"]).to_csv(tmp_path / "cur.csv", index=False)
    out = tmp_path / "r.json"
    res = run_cli(
        "drift", "--reference", "ref.csv", "--current", "cur.csv", "--target", "spam",
        "--json", str(out), "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode in (0, 1), res.stderr
    found = [f for f in json.loads(out.read_text())["findings"] if f["check"] == "drift.concept"]
    assert found and found[0]["severity"] == "warning"
