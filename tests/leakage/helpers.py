"""Shared helpers for the leakage tests: run leakage checks and pick findings."""

from __future__ import annotations

from typing import Any

import pandas as pd

import tripwire
from tripwire.findings import Finding


def leakage(
    train: pd.DataFrame, test: Any, target: str, *, checks: str = "leakage", **kw: Any
) -> list[Finding]:
    report = tripwire.audit(train, test, target=target, checks=[checks], **kw)
    errors = [(c.check, c.reason) for c in report.checks if c.status == "error"]
    assert not errors, errors
    return [f for f in report.findings if f.mode == "leakage"]


def alarms(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity in ("warning", "critical")]


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]
