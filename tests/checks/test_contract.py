"""Invariants every registered check must keep (in the spirit of scikit-learn's estimator checks).

Each check runs on the same small real dataset: the same seed gives the same findings, the inputs
are not mutated, findings round-trip through JSON and name only rows that exist.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata
from tripwire.checks import registered
from tripwire.findings import Report


@pytest.fixture(scope="module")
def frames():
    df = realdata.german_credit().sample(n=400, random_state=3).reset_index(drop=True)
    rng = np.random.default_rng(0)
    df["applied_at"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 700, len(df))), "D"
    )
    df["branch"] = rng.choice([f"b{i}" for i in range(25)], len(df))
    return df.iloc[:300].reset_index(drop=True), df.iloc[300:].reset_index(drop=True)


def _run(frames, seed=0):
    train, test = frames
    return tripwire.audit(
        train, test, target="class", time_column="applied_at", group="branch", random_state=seed
    )


@pytest.fixture(scope="module")
def reports(frames):
    train, test = frames
    before = (train.copy(), test.copy())
    first = _run(frames)
    second = _run(frames)
    return first, second, before


def test_no_check_errors(reports):
    first, _, _ = reports
    errors = [(c.check, c.reason) for c in first.checks if c.status == "error"]
    assert not errors


def test_same_seed_same_findings(reports):
    first, second, _ = reports

    def strip(r):
        return [{k: v for k, v in f.to_dict().items() if k != "evidence"} for f in r.findings]

    assert strip(first) == strip(second)


def test_inputs_are_not_mutated(reports, frames):
    _, _, (train_before, test_before) = reports
    pd.testing.assert_frame_equal(frames[0], train_before)
    pd.testing.assert_frame_equal(frames[1], test_before)


def test_findings_round_trip_and_name_real_rows(reports, frames):
    first, _, _ = reports
    again = Report.from_json(first.to_json())
    assert json.loads(again.to_json()) == json.loads(first.to_json())
    sizes = {"train": len(frames[0]), "test": len(frames[1])}
    for f in first.findings:
        assert f.check.split(".")[0] == f.mode, f.check
        assert f.title and (f.sev.value == "info" or f.action), f.check
        for side, rows in f.rows.items():
            assert side in sizes
            assert all(0 <= r < sizes[side] for r in rows), f.check


def test_every_registered_check_was_considered(reports):
    first, _, _ = reports
    assert {c.check for c in first.checks} == {c.id for c in registered("audit")}


def test_every_mode_is_reported(reports):
    first, _, _ = reports
    modes = first.to_dict()["summary"]["modes"]
    assert len(modes) == 8
