"""Findings and reports: what every check returns and every renderer reads.

A :class:`Finding` is one claim about the inputs, with its evidence and the action to take.
A :class:`Report` is the ordered list of findings plus the facts needed to render them
(column profiles, which checks ran, timings). Both are plain data: renderers in
``tripwire.report`` turn them into JSON, HTML, terminal output or JUnit XML.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


class Severity(str, Enum):
    """How bad a finding is. ``info`` is a fact, ``warning`` a problem, ``critical`` a blocker."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


@dataclass(frozen=True)
class ModeInfo:
    key: str
    number: int
    title: str
    question: str


#: The failure modes in report order. ``data`` is mode 0: understanding the data comes first.
MODES: tuple[ModeInfo, ...] = (
    ModeInfo("data", 0, "Understanding the data", "What is in the data, and is it intact?"),
    ModeInfo("labels", 1, "Bad or noisy labels", "Are the labels the model learns from right?"),
    ModeInfo(
        "leakage", 2, "Data leakage", "Is the test set truly unseen, and are features honest?"
    ),
    ModeInfo("metrics", 3, "Wrong metrics", "Do the numbers reflect real impact?"),
    ModeInfo(
        "drift",
        4,
        "Distribution shift",
        "Does the data the model meets look like its training data?",
    ),
    ModeInfo(
        "robustness",
        5,
        "Overfitting to benchmarks",
        "Where does the model fail, and how fragile is it?",
    ),
    ModeInfo(
        "monitoring", 6, "No monitoring after deployment", "Will anyone notice when it breaks?"
    ),
    ModeInfo(
        "lifecycle",
        7,
        "Treating ML as a one-time task",
        "How is the model retrained, gated and rolled back?",
    ),
)
MODE_KEYS: tuple[str, ...] = tuple(m.key for m in MODES)
MODE_BY_KEY: dict[str, ModeInfo] = {m.key: m for m in MODES}


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN/inf become None)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows(rows: Mapping[str, Iterable[int]] | None) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for side, positions in (rows or {}).items():
        out[side] = sorted({int(p) for p in positions})
    return out


@dataclass(frozen=True)
class Finding:
    """One claim about the inputs.

    Parameters
    ----------
    check
        Dotted id of the check that made it, e.g. ``"data.duplicate_rows"``.
    mode
        Failure mode key: one of :data:`MODE_KEYS`.
    severity
        ``info`` (a fact), ``warning`` (a problem) or ``critical`` (do not ship).
    title
        One line a person reads first.
    detail
        A few sentences: what was measured and what it means.
    columns
        Columns the finding is about.
    rows
        Every 0-based data-row position the finding concerns, per input (``train``, ``test``,
        ``reference``, ``current``). Not a sample: ranked top-k lists go in ``evidence``.
    evidence
        The numbers behind the claim (statistic, sample size, p-value or interval, ...).
        JSON-serialisable. An optional ``"charts"`` list holds chart specs (see
        :mod:`tripwire.charts`) that the HTML report draws.
    action
        What to do about it.

    Examples
    --------
    >>> f = Finding("data.constant_column", "data", "info", "Column 'x' is constant",
    ...             detail="All 10 values are 1.", columns=["x"], action="Drop it.")
    >>> f.severity
    <Severity.INFO: 'info'>
    >>> f.to_dict()["rows"]
    {}
    """

    check: str
    mode: str
    severity: Severity | str
    title: str
    detail: str = ""
    columns: Sequence[str] = ()
    rows: Mapping[str, Any] = field(default_factory=dict)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    action: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODE_BY_KEY:
            raise ValueError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODE_KEYS)}")
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        object.__setattr__(self, "rows", _rows(self.rows))
        object.__setattr__(self, "evidence", to_jsonable(dict(self.evidence)))

    @property
    def sev(self) -> Severity:
        assert isinstance(self.severity, Severity)
        return self.severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "mode": self.mode,
            "severity": self.sev.value,
            "title": self.title,
            "detail": self.detail,
            "columns": list(self.columns),
            "rows": {k: list(v) for k, v in self.rows.items()},
            "evidence": self.evidence,
            "action": self.action,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            check=d["check"],
            mode=d["mode"],
            severity=d["severity"],
            title=d["title"],
            detail=d.get("detail", ""),
            columns=d.get("columns", ()),
            rows=d.get("rows", {}),
            evidence=d.get("evidence", {}),
            action=d.get("action", ""),
        )


@dataclass(frozen=True)
class CheckRun:
    """What happened to one registered check during a run."""

    check: str
    mode: str
    status: str  # "ran" | "skipped" | "error"
    reason: str = ""
    seconds: float = 0.0
    findings: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "mode": self.mode,
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 4),
            "findings": self.findings,
        }


def _sort_key(f: Finding) -> tuple[int, int, str]:
    return (MODE_KEYS.index(f.mode), -f.sev.rank, f.check)


@dataclass(frozen=True)
class Report:
    """Findings plus what is needed to render them.

    ``findings`` are kept in mode order, worst first within a mode. ``profile`` holds the
    column profiles per input (see :func:`tripwire.checks.data.profile_table`), ``checks``
    the status of every registered check, ``inputs`` a description of what was audited.

    Examples
    --------
    >>> r = Report(kind="audit", findings=[
    ...     Finding("a.x", "labels", "warning", "noisy"), Finding("a.y", "data", "info", "fact")])
    >>> [f.check for f in r.findings]
    ['a.y', 'a.x']
    >>> r.exit_code(), r.exit_code(fail_on="warning")
    (0, 1)
    """

    kind: str
    findings: Sequence[Finding] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    profile: Mapping[str, Any] = field(default_factory=dict)
    checks: Sequence[CheckRun] = ()
    seconds: float = 0.0
    version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(sorted(self.findings, key=_sort_key)))
        object.__setattr__(self, "checks", tuple(self.checks))
        if not self.version:
            from tripwire import __version__

            object.__setattr__(self, "version", __version__)

    # -- queries -----------------------------------------------------------------------
    def by_mode(self, mode: str) -> list[Finding]:
        return [f for f in self.findings if f.mode == mode]

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check or f.check.startswith(check + ".")]

    def worst(self, mode: str | None = None) -> Severity | None:
        fs = self.by_mode(mode) if mode else list(self.findings)
        return max((f.sev for f in fs), key=lambda s: s.rank, default=None)

    def mode_status(self, mode: str) -> str:
        """Worst severity found in ``mode``; "ok" when checks ran and found nothing;
        "not_checked" when no check of the mode could run on these inputs."""
        worst = self.worst(mode)
        if worst is not None:
            return worst.value
        ran = any(c.mode == mode and c.status == "ran" for c in self.checks)
        return "ok" if ran or not self.checks else "not_checked"

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.sev.value] += 1
        return out

    def exit_code(self, fail_on: str = "critical") -> int:
        """0 when nothing at or above ``fail_on`` was found, else 1."""
        threshold = Severity(fail_on).rank
        return int(any(f.sev.rank >= threshold for f in self.findings))

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "tool": "tripwire",
            "version": self.version,
            "kind": self.kind,
            "summary": {
                "counts": counts,
                "exit_code": self.exit_code(),
                "seconds": round(self.seconds, 3),
                "modes": {m.key: self.mode_status(m.key) for m in MODES},
            },
            "inputs": to_jsonable(dict(self.inputs)),
            "findings": [f.to_dict() for f in self.findings],
            "checks": [c.to_dict() for c in self.checks],
            "profile": to_jsonable(dict(self.profile)),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Report:
        return cls(
            kind=d.get("kind", "audit"),
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            inputs=d.get("inputs", {}),
            profile=d.get("profile", {}),
            checks=[CheckRun(**c) for c in d.get("checks", [])],
            seconds=d.get("summary", {}).get("seconds", 0.0),
            version=d.get("version", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))

    def save_json(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    def save_html(self, path: str | Path) -> Path:
        from tripwire.report.html import render_html

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render_html(self), encoding="utf-8")
        return p

    def save_junit(self, path: str | Path, fail_on: str = "critical") -> Path:
        from tripwire.report.junit import render_junit

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render_junit(self, fail_on=fail_on), encoding="utf-8")
        return p

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"<Report {self.kind}: {c['critical']} critical, {c['warning']} warning, "
            f"{c['info']} info>"
        )
