"""tripwire.drift and `tripwire drift` end to end on real data: planted shifts are named,
clean random splits raise nothing, bad input is refused with a clear message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata


@pytest.fixture(scope="module")
def halves():
    df = realdata.adult("train").drop(columns=["income"])
    perm = np.random.default_rng(7).permutation(len(df))
    ref = df.iloc[perm[:4000]].reset_index(drop=True)
    cur = df.iloc[perm[4000:8000]].reset_index(drop=True)
    return ref, cur


def _warned(report):
    return {c for f in report.findings if f.sev.value != "info" for c in f.columns}


def test_clean_split_raises_nothing(halves):
    ref, cur = halves
    report = tripwire.drift(ref, cur)
    assert report.exit_code(fail_on="warning") == 0, [f.title for f in report.findings]
    summary = report.by_check("drift.dataset")[0]
    assert summary.title.startswith("No material drift")
    sens = summary.evidence["sensitivity"]["columns"]
    assert {s["column"] for s in sens} >= {"age", "hours_per_week", "workclass"}
    age = next(s for s in sens if s["column"] == "age")
    assert 0.05 < age["mean_shift_sd"] < 0.25


def test_planted_shifts_are_named(halves):
    ref, cur = halves
    cur = cur.copy()
    cur["age"] = cur["age"] + 0.25 * ref["age"].std()  # mean shift
    cur["fnlwgt"] = ref["fnlwgt"].mean() + (cur["fnlwgt"] - ref["fnlwgt"].mean()) * 1.5  # scale
    women = cur.index[cur["sex"] == "Female"]
    cur.loc[women[: len(women) // 2], "sex"] = "Male"  # category frequencies
    cur.loc[cur.index[:600], "hours_per_week"] = np.nan  # missing surge
    report = tripwire.drift(ref, cur, options={"multivariate": False})
    assert _warned(report) == {"age", "fnlwgt", "sex", "hours_per_week"}
    missing = next(f for f in report.by_check("drift.columns") if "missing" in f.title)
    assert missing.rows["current"] == list(range(600))
    age = next(f for f in report.by_check("drift.columns") if f.columns == ("age",))
    assert age.evidence["charts"][0]["type"] == "histogram"
    assert age.evidence["q_value"] < 0.05 and age.action


def test_subpopulation_shift_is_found_by_the_domain_classifier(halves):
    ref, cur = halves
    # current over-represents young married people: a shift in a combination of columns
    young_married = (cur["age"] < 35) & (cur["marital_status"] == "Married-civ-spouse")
    extra = cur[young_married].sample(800, replace=True, random_state=0)
    moved = pd.concat([cur.iloc[:3200], extra], ignore_index=True)
    report = tripwire.drift(ref, moved)
    mv = report.by_check("drift.multivariate")[0]
    assert mv.sev.value == "warning"
    assert {"age", "marital_status", "relationship"} & set(mv.columns)


def test_cli_drift_outputs_and_exit_codes(tmp_path, cli, halves):
    ref, cur = halves
    ref.to_csv(tmp_path / "ref.csv", index=False)
    moved = cur.copy()
    moved["capital_gain"] = moved["capital_gain"] * 3 + 1000
    moved.to_csv(tmp_path / "cur.csv", index=False)
    res = cli(
        "drift",
        "--reference",
        str(tmp_path / "ref.csv"),
        "--current",
        str(tmp_path / "cur.csv"),
        "--json",
        str(tmp_path / "r.json"),
        "--html",
        str(tmp_path / "r.html"),
        "--junit",
        str(tmp_path / "r.xml"),
        "--fail-on",
        "warning",
        "--no-multivariate",
    )
    assert res.returncode == 1, res.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["tool"] == "tripwire" and doc["kind"] == "drift"
    assert any(f["columns"] == ["capital_gain"] for f in doc["findings"])
    page = (tmp_path / "r.html").read_text()
    assert "Distribution shift" in page and "capital_gain: reference vs current" in page
    assert "Wrong metrics" not in page  # a drift report shows the drift section only
    bad = cli(
        "drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "x.csv")
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    other = cli(
        "drift", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "r.json")
    )
    assert other.returncode == 2 and "tripwire:" in other.stderr


def test_different_columns_refused(halves):
    ref, cur = halves
    with pytest.raises(tripwire.TripwireError, match="missing from current: age"):
        tripwire.drift(ref, cur.drop(columns=["age"]))


def test_audit_runs_the_drift_checks_between_train_and_test():
    df = realdata.adult("train").sample(4000, random_state=0).reset_index(drop=True)
    train, test = df.iloc[:2500].copy(), df.iloc[2500:].reset_index(drop=True)
    test.loc[:700, "workclass"] = np.nan  # a missing surge that only test has
    report = tripwire.audit(train, test, target="income", checks=["drift."])
    found = [f for f in report.by_check("drift.columns") if f.columns == ("workclass",)]
    assert found and "missing" in found[0].title
    assert set(found[0].rows) == {"test"} and len(found[0].rows["test"]) >= 701
    perf = [f.title for f in report.by_check("drift.performance")]
    assert any(t.startswith("Realized accuracy") for t in perf)
