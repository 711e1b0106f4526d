"""Alert rules and incidents: one incident per episode, not one alert per window.

Each rule reads one flag from a window result. An incident opens when a rule is flagged in
``consecutive`` complete windows in a row and resolves after ``resolve_after`` clean windows in
a row; an unknown flag (no labels yet, no history yet) neither extends nor clears it.

Incidents are *derived* from the whole window sequence on every evaluation and reconciled
with the stored ones, so late feedback that changes the realized metric of past windows
re-opens, resolves or withdraws incidents consistently, and notifiers hear about each change
once.

Requiring two flagged windows in a row also bounds false alarms across windows: with a
per-window false-flag rate alpha on independent windows, a false incident starts in a given
window with probability about alpha**2 (1e-4 at the default alpha 0.01).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tripwire.monitor.records import iso_time
from tripwire.monitor.store import ModelInfo, Store

log = logging.getLogger("tripwire.monitor")

RULES: dict[str, tuple[str, Callable[[Mapping[str, Any]], bool | None]]] = {
    "input_drift": ("warning", lambda r: r["drift"].get("flag")),
    "prediction_drift": ("warning", lambda r: r["prediction_drift"].get("flag")),
    "performance": ("critical", lambda r: r["performance"].get("flag")),
    "data_quality": ("warning", lambda r: r["quality"].get("flag")),
    "volume": ("warning", lambda r: r["volume"].get("flag")),
    "latency": ("warning", lambda r: r["latency"].get("flag")),
}


def derive_incidents(
    results: Sequence[Mapping[str, Any]], *, consecutive: int = 2, resolve_after: int = 2
) -> list[dict[str, Any]]:
    """Incidents implied by complete window results in time order.

    Examples
    --------
    >>> def w(i, flag):
    ...     return {"window_start": i, "window_end": i + 1, "n_predictions": 50, "complete": True, "drift": {"flag": flag, "drifted": []},
    ...             "prediction_drift": {}, "performance": {}, "quality": {}, "volume": {},
    ...             "latency": {}}
    >>> flags = [False, True, True, True, False, False, True]
    >>> [(i["rule"], i["first_window"], i["status"], i["resolved_window"])
    ...  for i in derive_incidents([w(i, f) for i, f in enumerate(flags)])]
    [('input_drift', 1, 'resolved', 5)]
    """
    windows = [r for r in results if r.get("complete")]
    incidents: list[dict[str, Any]] = []
    for rule, (severity, flag_of) in RULES.items():
        run: list[Mapping[str, Any]] = []
        clean = 0
        current: dict[str, Any] | None = None
        for r in windows:
            flag = flag_of(r)
            if flag is None:
                continue
            if current is None:
                run = [*run, r] if flag else []
                if len(run) >= consecutive:
                    current = {
                        "rule": rule,
                        "severity": severity,
                        "status": "open",
                        "first_window": run[0]["window_start"],
                        "last_window": r["window_start"],
                        "resolved_window": None,
                        "flagged_windows": len(run),
                        "latest": r,
                    }
                    incidents.append(current)
                continue
            if flag:
                clean = 0
                current["last_window"] = r["window_start"]
                current["flagged_windows"] += 1
                current["latest"] = r
            else:
                clean += 1
                if clean >= resolve_after:
                    current["status"] = "resolved"
                    current["resolved_window"] = r["window_start"]
                    current, run, clean = None, [], 0
    for inc in incidents:
        inc["title"], inc["evidence"] = describe(inc["rule"], inc.pop("latest"), inc)
    return incidents


def describe(rule: str, r: Mapping[str, Any], inc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The incident's title and evidence, taken from its latest flagged window."""
    ev: dict[str, Any] = {
        "window": {
            "start": iso_time(r["window_start"]),
            "end": iso_time(r["window_end"]),
            "n_predictions": r["n_predictions"],
        },
        "flagged_windows": inc["flagged_windows"],
    }
    if rule == "input_drift":
        d = r["drift"]
        cols = {
            c: {
                k: d["columns"][c].get(k)
                for k in ("test", "statistic", "p_value", "p_adjusted", "effect", "n")
            }
            for c in d["drifted"]
        }
        ev.update(
            drifted=cols,
            tested=d.get("tested"),
            alpha=d.get("alpha"),
            correction=d.get("correction"),
        )
        title = f"input drift in {len(cols)} of {d.get('tested')} features ({', '.join(list(cols)[:3])})"
        action = "Compare the drifted features with the reference; retrain on recent data if the shift persists."
    elif rule == "prediction_drift":
        p = r["prediction_drift"]
        ev.update({k: p.get(k) for k in ("test", "statistic", "p_value", "effect", "n")})
        title = "the distribution of predictions shifted"
        action = "Check the inputs feeding the model and the share of each predicted class."
    elif rule == "performance":
        perf = r["performance"]
        ev.update(
            metric=perf["metric"],
            blended=perf.get("blended"),
            realized=perf.get("realized"),
            estimated=perf.get("estimated"),
            baseline=perf.get("baseline"),
            label_coverage=perf.get("label_coverage"),
        )
        val = (perf.get("blended") or perf.get("realized") or {}).get("value")
        base = (perf.get("baseline") or {}).get("value")
        title = (
            f"{perf['metric']} {val:.3f} vs baseline {base:.3f}"
            if val is not None and base is not None
            else "performance below baseline"
        )
        action = "Inspect recent errors by slice; retrain or roll back to the previous champion."
    elif rule == "data_quality":
        q = r["quality"]
        ev.update(
            problems=q["problems"],
            missing_columns=q["missing_columns"],
            extra_columns=q["extra_columns"],
        )
        title = f"data quality: {q['problems'][0]}" if q["problems"] else "data quality problems"
        action = "Fix the upstream pipeline feeding the model; rows with bad values get unreliable predictions."
    elif rule == "volume":
        v = r["volume"]
        ev.update(n=v["n"], expected=v.get("expected"), z=v.get("z"))
        title = f"prediction volume {v['n']} vs usual {v.get('expected') or 0:.0f}"
        action = "Check the callers of the model and the logging client (spool files, errors)."
    else:
        lat = r["latency"]
        ev.update(p50=lat.get("p50"), p99=lat.get("p99"), usual_p99=lat.get("usual_p99"))
        title = (
            f"latency p99 {lat.get('p99') or 0:.1f} ms vs usual {lat.get('usual_p99') or 0:.1f} ms"
        )
        action = "Check the serving host's load and the model's input sizes."
    ev["action"] = action
    return title, ev


def reconcile(
    store: Store,
    model: ModelInfo,
    derived: Iterable[Mapping[str, Any]],
    notifiers: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """Bring stored incidents in line with the derived ones; notify each change once."""
    stored = {(i["rule"], i["first_window"]): i for i in store.incidents(model.id)}
    events = []
    seen = set()
    for inc in derived:
        key = (inc["rule"], iso_time(inc["first_window"]))
        seen.add(key)
        old = stored.get(key)
        if old is None:
            change = "opened" if inc["status"] == "open" else "opened and resolved"
        elif old["status"] != inc["status"]:
            change = {"open": "reopened", "resolved": "resolved"}[inc["status"]]
        else:
            change = None
        if old is None or change or old["last_window"] != iso_time(inc["last_window"]):
            store.upsert_incident(model.id, inc)
        if change:
            events.append({"event": change, "model": model.name, **_public(inc)})
    for key, old in stored.items():
        if key not in seen and old["status"] != "withdrawn":
            # Late data no longer supports it (e.g. labels showed performance was fine).
            first = _epoch(old["first_window"])
            withdrawn = {
                **old,
                "first_window": first,
                "last_window": _epoch(old["last_window"]),
                "status": "withdrawn",
                "resolved_window": None,
            }
            store.upsert_incident(model.id, withdrawn)
            events.append({"event": "withdrawn", "model": model.name, **_public(withdrawn)})
    for event in events:
        for notifier in notifiers:
            try:
                notifier.send(event)
            except Exception:  # a broken notifier must not stop evaluation
                log.exception("notifier %r failed", notifier)
    return events


def _epoch(iso: str | None) -> int | None:
    if iso is None:
        return None
    import datetime as dt

    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _public(inc: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: inc[k] for k in ("rule", "severity", "status", "title", "evidence")}
    for k in ("first_window", "last_window", "resolved_window"):
        v = inc.get(k)
        out[k] = iso_time(v) if isinstance(v, (int, float)) else v
    return out
