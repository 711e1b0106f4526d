"""`tripwire.toml`: the loop's configuration, validated once with messages that name the key.

A complete example (every key but ``[model]`` ``name`` has a default)::

    [model]
    name = "electricity"          # the model's name in the registry and the monitor
    target = "class"              # label column of the training data
    train = "data/train.csv"      # the original training data, appended to logged data

    [service]
    db = "sqlite:///tripwire.db"  # the monitor's store (SQLAlchemy URL)

    [retrain]
    entry = "mypackage.training:fit"   # fit(train: DataFrame, target: str) -> fitted model
    # command = "python train.py --train {train} --out {model}"   # or a shell command
    include_original = true       # original training data + logged rows joined with feedback
    max_rows = 200000             # newest rows kept when the assembled set is larger

    [triggers]
    every_hours = 168             # schedule; omit to switch off
    drift_incident = true         # an open drift incident
    performance_incident = true   # an open performance incident (estimated or realized)
    performance_drop = 0.05       # realized or estimated metric this far below the baseline
    min_new_labels = 1000         # this many new labelled rows since the last training

    [gate]
    margin = 0.0                  # challenger must beat the champion by this much (lower bound)
    level = 0.95                  # confidence level of the paired interval
    slice_columns = ["day"]       # critical slices: every value of these columns
    slice_tolerance = 0.02
    holdout_share = 0.3           # share of the latest labelled rows kept for the gate

    [rollback]
    max_drop = 0.05               # live metric below the previous champion's by this much ...
    windows = 2                   # ... for this many consecutive windows
    min_rows = 50                 # windows with fewer labelled rows do not count
    window_rows = 200             # labelled rows per live window measured by the loop

    [serving]
    shadow = true                 # run the challenger on every request, never returned
    canary_share = 0.0            # or return the challenger's answer on this share of traffic
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.errors import UsageError
from tripwire.lifecycle.rollback import RollbackRule
from tripwire.lifecycle.triggers import TriggerConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class GateConfig:
    margin: float = 0.0
    level: float = 0.95
    slice_columns: tuple[str, ...] = ()
    slice_tolerance: float = 0.02
    holdout_share: float = 0.3


@dataclass(frozen=True)
class RetrainConfig:
    entry: str | None = None
    command: str | None = None
    include_original: bool = True
    max_rows: int = 200_000


@dataclass(frozen=True)
class ServingConfig:
    shadow: bool = True
    canary_share: float = 0.0


@dataclass(frozen=True)
class LoopConfig:
    name: str
    target: str
    train: str | None = None
    db: str = "sqlite:///tripwire.db"
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    triggers: TriggerConfig = field(default_factory=TriggerConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    rollback: RollbackRule = field(default_factory=RollbackRule)
    serving: ServingConfig = field(default_factory=ServingConfig)


_SECTIONS: dict[str, set[str]] = {
    "model": {"name", "target", "train"},
    "service": {"db"},
    "retrain": {"entry", "command", "include_original", "max_rows"},
    "triggers": {
        "every_hours",
        "drift_incident",
        "performance_incident",
        "performance_drop",
        "min_new_labels",
    },
    "gate": {"margin", "level", "slice_columns", "slice_tolerance", "holdout_share"},
    "rollback": {"max_drop", "windows", "min_rows", "window_rows"},
    "serving": {"shadow", "canary_share"},
}


def _number(
    section: Mapping[str, Any], key: str, where: str, default: float, lo: float, hi: float
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise UsageError(
            f"{where}: [{key}] must be a number between {lo:g} and {hi:g}; got {value!r}."
        )
    return float(value)


def parse_config(data: Mapping[str, Any], where: str = "tripwire.toml") -> LoopConfig:
    """Validate a parsed TOML document into a :class:`LoopConfig`.

    Examples
    --------
    >>> cfg = parse_config({"model": {"name": "m", "target": "y"}, "retrain": {"entry": "a.b:fit"},
    ...                     "triggers": {"every_hours": 24}})
    >>> cfg.triggers.every_seconds, cfg.gate.level
    (86400.0, 0.95)
    """
    for section, keys in data.items():
        if section not in _SECTIONS:
            raise UsageError(
                f"{where}: unknown section [{section}]; expected one of {', '.join(sorted(_SECTIONS))}."
            )
        if not isinstance(keys, Mapping):
            raise UsageError(f"{where}: [{section}] must be a table of keys.")
        unknown = set(keys) - _SECTIONS[section]
        if unknown:
            raise UsageError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))} in [{section}]; "
                f"expected {', '.join(sorted(_SECTIONS[section]))}."
            )
    model = data.get("model", {})
    for key in ("name", "target"):
        if not isinstance(model.get(key), str) or not model.get(key):
            raise UsageError(f"{where}: [model] needs '{key}' (a string).")
    r = data.get("retrain", {})
    if r and bool(r.get("entry")) == bool(r.get("command")):
        raise UsageError(
            f"{where}: [retrain] needs exactly one of 'entry' (module:function) or 'command'."
        )
    if r.get("entry") and ":" not in str(r["entry"]):
        raise UsageError(
            f"{where}: [retrain] entry must look like 'package.module:function'; got {r['entry']!r}."
        )
    t = data.get("triggers", {})
    g = data.get("gate", {})
    rb = data.get("rollback", {})
    s = data.get("serving", {})
    every = t.get("every_hours")
    return LoopConfig(
        name=model["name"],
        target=model["target"],
        train=model.get("train"),
        db=data.get("service", {}).get("db", "sqlite:///tripwire.db"),
        retrain=RetrainConfig(
            entry=r.get("entry"),
            command=r.get("command"),
            include_original=bool(r.get("include_original", True)),
            max_rows=int(_number(r, "max_rows", where, 200_000, 100, 1e9)),
        ),
        triggers=TriggerConfig(
            every_seconds=None
            if every is None
            else _number(t, "every_hours", where, 0, 0, 1e6) * 3600,
            on_drift_incident=bool(t.get("drift_incident", True)),
            on_performance_incident=bool(t.get("performance_incident", True)),
            performance_drop=(
                None
                if t.get("performance_drop") is None and "performance_drop" in t
                else _number(t, "performance_drop", where, 0.05, 0, 1)
            ),
            min_new_labels=int(t["min_new_labels"])
            if t.get("min_new_labels") is not None
            else None,
        ),
        gate=GateConfig(
            margin=_number(g, "margin", where, 0.0, -1, 1),
            level=_number(g, "level", where, 0.95, 0.5, 0.999),
            slice_columns=tuple(g.get("slice_columns", ())),
            slice_tolerance=_number(g, "slice_tolerance", where, 0.02, 0, 1),
            holdout_share=_number(g, "holdout_share", where, 0.3, 0.05, 0.95),
        ),
        rollback=RollbackRule(
            max_drop=_number(rb, "max_drop", where, 0.05, 0, 1),
            windows=int(_number(rb, "windows", where, 2, 1, 1000)),
            min_rows=int(_number(rb, "min_rows", where, 50, 1, 1e9)),
            window_rows=int(_number(rb, "window_rows", where, 200, 10, 1e9)),
        ),
        serving=ServingConfig(
            shadow=bool(s.get("shadow", True)),
            canary_share=_number(s, "canary_share", where, 0.0, 0, 0.5),
        ),
    )


def load_config(path: str | Path) -> LoopConfig:
    """Read and validate a `tripwire.toml` file."""
    p = Path(path)
    if not p.exists():
        raise UsageError(
            f"config file {p} does not exist. Write a tripwire.toml (see docs/lifecycle.md) or pass --config."
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{p} is not valid TOML ({exc}). Fix the syntax.") from exc
    return parse_config(data, where=str(p))
