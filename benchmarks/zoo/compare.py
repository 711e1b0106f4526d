"""tripwire and the peer tools side by side on the failure zoo, in one run.

Every tool is scored by the same judge (``score.py``) on the scenarios of the tasks it covers
(``score.TASKS``): cleanlab on the label-noise scenarios, Evidently, alibi-detect, NannyML and
whylogs on the drift scenarios, deepchecks on the leakage scenarios, each with the clean
controls of that command. tripwire runs once per scenario on all of them. The tables give,
per task and tool: recall of the task's mode, label-row precision/recall/F1 (labels),
clean controls with an alarm of the task's mode and of any mode, crashes and time (wall time
of each scenario's subprocess, interpreter start and imports included, summed; the median
per scenario in brackets). tripwire's time is that of its whole audit, all checks.

Usage::

    python -m benchmarks.zoo.compare --scenarios DIR [--tools tripwire,cleanlab,...]
        [--jobs 2] [--out FILE.json] [--results-md benchmarks/RESULTS.md]

With ``--results-md`` the tables replace the block between the ``zoo-peers`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.zoo import score

START, END = "<!-- zoo-peers:start -->", "<!-- zoo-peers:end -->"
TOOL_ORDER = ("tripwire", *score.PEERS, "silent", "alarmist")


def task_row(records: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """One tool's figures on one task (its scenarios and controls)."""
    recs = [r for r in records if score.in_task(r["truth"], task)]
    planted = [r for r in recs if not r["truth"]["control"]]
    controls = [r for r in recs if r["truth"]["control"]]
    hits = sum(r["hit"].get(task, False) for r in planted)
    row: dict[str, Any] = {
        "scenarios": len(planted),
        "hits": hits,
        "recall": round(hits / len(planted), 3) if planted else None,
        "controls": len(controls),
        "controls_mode_alarm": sum(task in r["raised_modes"] for r in controls),
        "controls_any_alarm": sum(bool(r["raised_modes"]) for r in controls),
        "crashes": sum(bool(r["crash"]) for r in recs),
        "seconds": round(sum(r["seconds"] for r in recs), 1),
        "median_seconds": round(statistics.median(r["seconds"] for r in recs), 1) if recs else 0,
        "families": {},
    }
    for r in planted:
        fam = row["families"].setdefault(r["family"], [0, 0])
        fam[0] += bool(r["hit"].get(task, False))
        fam[1] += 1
    labelled = [r for r in planted if "label" in r]
    if task == "labels" and labelled:
        tp = sum(r["label"]["tp"] for r in labelled)
        fl = sum(r["label"]["flagged"] for r in labelled)
        pl = sum(r["label"]["planted"] for r in labelled)
        row["label_rows"] = score.prf(tp, fl, pl)
        row["label_f1_per_scenario"] = {
            r["name"]: score.prf(r["label"]["tp"], r["label"]["flagged"], r["label"]["planted"])[
                "f1"
            ]
            for r in labelled
        }
    row["version"] = next((r["version"] for r in recs if r.get("version")), None)
    return row


def compare(
    scenarios: Path, tools: list[str], jobs: int, reuse: dict[str, Path] | None = None
) -> dict[str, Any]:
    """Score ``tools`` on the tasks they cover; ``reuse`` maps a tool to an earlier result file
    (``score.py --out`` or ``compare.py --out``) to take its records from instead of running it."""
    tasks = sorted({score.PEERS[t][0] for t in tools if t in score.PEERS}) or list(score.TASKS)
    started = datetime.now(timezone.utc)
    load = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, Any] = {}
    for tool in tools:
        if reuse and tool in reuse:
            saved = json.loads(reuse[tool].read_text())
            records = saved["records"]
            if isinstance(records, dict):  # a compare.py result
                records = records[tool]
            results[tool] = {"records": records, "reused": str(reuse[tool])}
            continue
        print(f"scoring {tool} ...", flush=True)
        results[tool] = score.score(scenarios, tool, jobs, tasks=tasks)
    table = {
        task: {
            tool: task_row(res["records"], task)
            for tool, res in results.items()
            if tool not in score.PEERS or score.PEERS[tool][0] == task
        }
        for task in tasks
    }
    return {
        "started": started.isoformat(timespec="minutes"),
        "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
        "load_at_start": load,
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "commit": _commit(),
        "jobs": jobs,
        "tasks": table,
        "reused": {tool: res["reused"] for tool, res in results.items() if "reused" in res},
        "records": {tool: res["records"] for tool, res in results.items()},
    }


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _frac(a: int, b: int) -> str:
    return f"{a}/{b}"


def format_markdown(result: dict[str, Any]) -> str:
    head = (
        f"Run {result['started'][:16].replace('T', ' ')} UTC, {result['minutes']} min, main at "
        f"`{result['commit']}`, {result['machine']}, `--jobs {result['jobs']}`, load average "
        f"{result['load_at_start'][0]} at start and {result['load_at_end'][0]} at end."
    )
    by_file: dict[str, list[str]] = {}
    for tool, path in result.get("reused", {}).items():
        by_file.setdefault(path, []).append(tool)
    if by_file:
        head = "Tables composed at " + head[4:].split(",")[0] + " from earlier runs of the same "
        head += "scenarios: " + "; ".join(f"{', '.join(t)} from `{f}`" for f, t in by_file.items())
        head += "."
    out = [head, ""]
    for task, rows in result["tasks"].items():
        any_row = next(iter(rows.values()))
        out.append(
            f"**{task}**: {any_row['scenarios']} scenarios with planted {task} failures, "
            f"{any_row['controls']} clean controls."
        )
        out.append("")
        label = task == "labels"
        cols = ["tool", "version", f"recall ({task})"]
        cols += ["label rows P / R / F1"] if label else []
        cols += [f"controls with a {task} alarm", "controls with any alarm", "crashes"]
        cols += ["time s (median per scenario)"]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for tool in sorted(rows, key=TOOL_ORDER.index):
            r = rows[tool]
            cells = [
                tool,
                str(r["version"] or "?"),
                f"{r['recall']:.2f} ({r['hits']}/{r['scenarios']})",
            ]
            if label:
                lr = r.get("label_rows", {"precision": 0, "recall": 0, "f1": 0})
                cells.append(f"{lr['precision']:.2f} / {lr['recall']:.2f} / {lr['f1']:.2f}")
            cells += [
                _frac(r["controls_mode_alarm"], r["controls"]),
                _frac(r["controls_any_alarm"], r["controls"]),
                str(r["crashes"]),
                f"{r['seconds']:.0f} ({r['median_seconds']:.1f})",
            ]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        tools = sorted(rows, key=TOOL_ORDER.index)
        out.append("| family | " + " | ".join(tools) + " |")
        out.append("|---|" + "---|" * len(tools))
        for fam in sorted(any_row["families"]):
            cells = [_frac(*rows[t]["families"].get(fam, [0, 0])) for t in tools]
            out.append(f"| {fam} | " + " | ".join(cells) + " |")
        if label:
            out.append("")
            out.append("| label scenario | " + " | ".join(f"F1 {t}" for t in tools) + " |")
            out.append("|---|" + "---|" * len(tools))
            for name in sorted(any_row.get("label_f1_per_scenario", {})):
                cells = [
                    f"{rows[t].get('label_f1_per_scenario', {}).get(name, 0):.2f}" for t in tools
                ]
                out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    crashes = {
        f"{tool}: {r['name']}": r["crash"]
        for tool, recs in result["records"].items()
        for r in recs
        if r["crash"]
    }
    if crashes:
        out.append("Crashes: " + "; ".join(f"{k} ({v[:120]})" for k, v in crashes.items()))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_block(path: Path, block: str) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} ... {END} block to replace")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n{block}{END}{after}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="tripwire and peer tools side by side on the zoo.")
    ap.add_argument("--scenarios", required=True, type=Path)
    ap.add_argument("--tools", default=",".join(("tripwire", *score.PEERS)))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the full result as JSON")
    ap.add_argument("--results-md", type=Path, default=None)
    ap.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="TOOL=FILE",
        help="take TOOL's records from an earlier score.py/compare.py --out file",
    )
    a = ap.parse_args(argv)
    reuse = {k: Path(v) for k, v in (r.split("=", 1) for r in a.reuse)}
    tools = [t for t in a.tools.split(",") if t]
    unknown = [t for t in tools if t not in score.TOOLS]
    if unknown:
        raise SystemExit(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(score.TOOLS)}")
    t0 = time.perf_counter()
    result = compare(a.scenarios, tools, a.jobs, reuse)
    md = format_markdown(result)
    print(md)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1, default=str))
    if a.results_md:
        write_block(a.results_md, md)


if __name__ == "__main__":
    main()
