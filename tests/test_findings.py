from __future__ import annotations

import json

import numpy as np
import pytest

from tripwire.findings import MODE_KEYS, CheckRun, Finding, Report


def test_finding_normalises_rows_and_evidence():
    f = Finding(
        "data.x",
        "data",
        "warning",
        "t",
        rows={"train": np.array([5, 3, 3, 1])},
        evidence={"p": np.float64(0.5), "n": np.int64(3), "bad": float("nan"), "arr": np.arange(3)},
    )
    assert f.rows == {"train": [1, 3, 5]}
    assert f.evidence == {"p": 0.5, "n": 3, "bad": None, "arr": [0, 1, 2]}
    json.dumps(f.to_dict(), allow_nan=False)


def test_unknown_mode_and_severity_are_refused():
    with pytest.raises(ValueError, match="unknown mode"):
        Finding("x.y", "vibes", "info", "t")
    with pytest.raises(ValueError):
        Finding("x.y", "data", "fatal", "t")


def test_report_orders_by_mode_then_worst_first_and_round_trips():
    findings = [
        Finding("drift.a", "drift", "info", "a"),
        Finding("labels.b", "labels", "info", "b"),
        Finding("labels.c", "labels", "critical", "c"),
        Finding("data.d", "data", "warning", "d"),
    ]
    r = Report("audit", findings, checks=[CheckRun("labels.c", "labels", "ran", findings=1)])
    assert [f.check for f in r.findings] == ["data.d", "labels.c", "labels.b", "drift.a"]
    again = Report.from_json(r.to_json())
    assert again.to_dict() == r.to_dict()
    assert set(r.to_dict()["summary"]["modes"]) == set(MODE_KEYS)


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ((), "critical", 0),
        (("info", "warning"), "critical", 0),
        (("warning",), "warning", 1),
        (("critical",), "critical", 1),
    ],
)
def test_exit_code(severities, fail_on, code):
    r = Report("audit", [Finding(f"data.s{i}", "data", s, "t") for i, s in enumerate(severities)])
    assert r.exit_code(fail_on) == code
