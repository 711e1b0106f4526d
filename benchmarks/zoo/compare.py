"""tripwire and the peer tools side by side on the failure zoo, in one run.

Every tool is scored by the same judge (``score.py``) on the scenarios of the tasks it covers
(``score.TASKS``): cleanlab on the label-noise scenarios, Evidently, alibi-detect, NannyML and
whylogs on the drift scenarios, deepchecks on the leakage scenarios, each with the clean
controls of that command. tripwire runs once per scenario on all of them. The tables give,
per task and tool: recall of the task's mode, label-row precision/recall/F1 (labels),
clean controls with an alarm of the task's mode and of any mode, crashes and time (wall time
of each scenario's subprocess, interpreter start and imports included, summed; the median
per scenario in brackets). tripwire's time is that of its whole audit, all checks.

tripwire runs on every scenario (all five modes), so the same run also gives the full zoo
table: recall per mode and family, label rows, false alarms on the clean controls, crashes and
time (``zoo_markdown``). It is scored first and its results are written as soon as it is done
(``--tripwire-out``, and the ``zoo-tripwire`` block of ``--results-md``), before the peers run.

Usage::

    python -m benchmarks.zoo.compare --scenarios DIR [--tools tripwire,cleanlab,...]
        [--jobs 2] [--only PREFIX,...] [--out FILE.json] [--tripwire-out FILE.json]
        [--results-md benchmarks/RESULTS.md]

With ``--results-md`` the tables replace the blocks between the ``zoo-tripwire`` and the
``zoo-peers`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.zoo import score

START, END = "<!-- zoo-peers:start -->", "<!-- zoo-peers:end -->"
ZOO_START, ZOO_END = "<!-- zoo-tripwire:start -->", "<!-- zoo-tripwire:end -->"
LIBS = ("numpy", "pandas", "scikit-learn", "scipy")
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
    scenarios: Path,
    tools: list[str],
    jobs: int,
    reuse: dict[str, Path] | None = None,
    only: list[str] | None = None,
    on_tripwire: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score ``tools`` on the tasks they cover; ``reuse`` maps a tool to an earlier result file
    (``score.py --out`` or ``compare.py --out``) to take its records from instead of running it.

    tripwire runs on every scenario (all modes); ``on_tripwire`` is called with the run's
    metadata and tripwire's score as soon as it is scored, before the peers run."""
    tasks = sorted({score.PEERS[t][0] for t in tools if t in score.PEERS}) or list(score.TASKS)
    started = datetime.now(timezone.utc)
    meta: dict[str, Any] = {
        "started": started.isoformat(timespec="minutes"),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "commit": _commit(),
        "jobs": jobs,
        "command": _command(),
        "versions": _versions(tools),
    }
    results: dict[str, Any] = {}
    peers = []
    for tool in tools:
        if reuse and tool in reuse:
            saved = json.loads(reuse[tool].read_text())
            records = saved["records"]
            if isinstance(records, dict):  # a compare.py result
                records = records[tool]
            results[tool] = {"records": records, "reused": str(reuse[tool])}
            continue
        if tool in score.PEERS:
            peers.append(tool)
            continue
        print(f"scoring {tool} ...", flush=True)
        t0 = time.perf_counter()
        # tripwire runs once per scenario on every scenario: the zoo table of all its modes
        # comes from the same run as the side-by-side tables
        results[tool] = score.score(
            scenarios, tool, jobs, only=only, tasks=None if tool == "tripwire" else tasks
        )
        results[tool]["minutes"] = round((time.perf_counter() - t0) / 60, 1)
        if tool == "tripwire" and on_tripwire is not None:
            on_tripwire(
                {
                    **meta,
                    "minutes": results[tool]["minutes"],
                    "load_at_end": [round(x, 2) for x in os.getloadavg()],
                    "tripwire": results[tool],
                }
            )
    if peers:
        print(f"scoring {', '.join(peers)} ...", flush=True)
        results.update(_score_peers(scenarios, peers, jobs, only))
    table = {
        task: {
            tool: task_row(res["records"], task)
            for tool, res in results.items()
            if tool not in score.PEERS or score.PEERS[tool][0] == task
        }
        for task in tasks
    }
    return {
        **meta,
        "minutes": round((datetime.now(timezone.utc) - started).total_seconds() / 60, 1),
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
        "minutes_per_tool": {t: r["minutes"] for t, r in results.items() if "minutes" in r},
        "tasks": table,
        "reused": {tool: res["reused"] for tool, res in results.items() if "reused" in res},
        "records": {tool: res["records"] for tool, res in results.items()},
    }


# slowest first, so that the workers finish together (per-scenario cost in earlier runs)
PEER_COST_ORDER = ("deepchecks", "cleanlab", "evidently", "nannyml", "alibi", "whylogs")


def _score_peers(
    scenarios: Path, peers: list[str], jobs: int, only: list[str] | None
) -> dict[str, Any]:
    """Every peer on its scenarios through one pool of ``jobs`` workers (no worker waits for
    the last scenario of one tool before starting the next tool); each scenario still runs in
    its own subprocess and is timed on its own."""
    order = sorted(peers, key=lambda t: PEER_COST_ORDER.index(t) if t in PEER_COST_ORDER else -1)
    work = [(tool, folder) for tool in order for folder in score.select(scenarios, tool, only)]
    done: dict[str, list[dict[str, Any]]] = {tool: [] for tool in peers}

    def one(item: tuple[str, Path]) -> tuple[str, dict[str, Any]]:
        return item[0], score.score_one(item[1], item[0])

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for i, (tool, rec) in enumerate(pool.map(one, work), start=1):
            done[tool].append(rec)
            if i % 20 == 0 or i == len(work):
                print(f"  {i}/{len(work)} peer scenarios scored", flush=True)
    return {tool: {"records": sorted(recs, key=lambda r: r["name"])} for tool, recs in done.items()}


def _command() -> str:
    args = " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"python -m benchmarks.zoo.compare {args}".strip()


def _versions(tools: list[str]) -> dict[str, str]:
    """Python and the numeric libraries of tripwire's environment and of each peer
    environment the run uses (asked of its interpreter; the tools' own versions are in the
    tables)."""
    from importlib.metadata import PackageNotFoundError, version

    def here(lib: str) -> str:
        try:
            return version(lib)
        except PackageNotFoundError:
            return "?"

    out = {
        "tripwire env": ", ".join(
            [f"tripwire {here('tripwire')}", f"Python {platform.python_version()}"]
            + [f"{lib} {here(lib)}" for lib in LIBS]
        )
    }
    probe = (
        "import platform; from importlib.metadata import version as v; "
        f"print(', '.join(['Python ' + platform.python_version()] + "
        f"[l + ' ' + v(l) for l in {LIBS!r}]))"
    )
    for python in sorted({score.PEERS[t][1] for t in tools if t in score.PEERS}):
        users = [t for t in tools if t in score.PEERS and score.PEERS[t][1] == python]
        try:
            res = subprocess.run(
                [python, "-c", probe], capture_output=True, text=True, timeout=120, check=True
            )
            out[f"{', '.join(users)} env"] = res.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out[f"{', '.join(users)} env"] = f"{python} not usable"
    return out


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


def _head(result: dict[str, Any], minutes: float, what: str) -> list[str]:
    """Date, duration, commit, machine, load, versions and command of a run."""
    lines = [
        f"{what} {result['started'][:16].replace('T', ' ')} UTC, {minutes} min, main at "
        f"`{result['commit']}`, {result['machine']} shared with other work, "
        f"`--jobs {result['jobs']}`, load average {result['load_at_start'][0]} at start and "
        f"{result['load_at_end'][0]} at end."
    ]
    for env, libs in result.get("versions", {}).items():
        lines.append(f"Versions ({env}): {libs}.")
    if result.get("command"):
        lines.append(f"Command: `{result['command']}`.")
    return [" ".join(lines)]


def zoo_markdown(run: dict[str, Any]) -> str:
    """The full zoo table of tripwire (every mode) from a compare run's tripwire records."""
    res = run["tripwire"]
    s, records = res["summary"], res["records"]
    out = _head(run, run["minutes"], "tripwire's part of the run")
    controls = [r for r in records if r["truth"]["control"]]
    planted = [r for r in records if not r["truth"]["control"]]
    by_mode = {m: sum(m in r["truth"]["modes"] for r in planted) for m in s["recall"]}
    n_ctrl = {c: sum(r["truth"]["command"] == c for r in controls) for c in ("audit", "drift")}
    out += [
        "",
        f"{len(records)} scenarios: {len(controls)} clean controls ({n_ctrl['audit']} audit, "
        f"{n_ctrl['drift']} drift), " + ", ".join(f"{n} {m}" for m, n in by_mode.items()) + ".",
        "",
        "| mode | recall | caught / scenarios | families |",
        "|---|---|---|---|",
    ]
    for mode, v in s["recall"].items():
        fams = []
        for fam in sorted({r["family"] for r in planted if mode in r["truth"]["modes"]}):
            recs = [r for r in planted if r["family"] == fam]
            hits = sum(r["hit"].get(mode, False) for r in recs)
            fams.append(f"{fam.removeprefix(mode + '-')} {hits}/{len(recs)}")
        out.append(f"| {mode} | {v['recall']:.2f} | {v['hits']}/{v['n']} | {', '.join(fams)} |")
    lr = s["label_rows"]
    n_label = sum("label" in r for r in records)
    missed = [
        f"`{r['name']}` ({', '.join(m for m, h in r['hit'].items() if not h)})"
        for r in planted
        if not all(r["hit"].values())
    ]
    alarmed = [r for r in controls if r["alarms"]]
    out += [
        "",
        f"Label rows (every label finding, micro-averaged over the {n_label} label scenarios): "
        f"precision {lr['precision']:.2f}, recall {lr['recall']:.2f}, F1 {lr['f1']:.2f} "
        f"({lr['tp']:,} of {lr['planted']:,} planted rows found, {lr['flagged']:,} flagged).",
        "",
        "Missed: " + ("; ".join(missed) if missed else "none") + ".",
        "",
        f"Clean controls: {s['false_alarms']} warnings/criticals on {s['controls_with_alarm']} "
        f"of {s['controls']} controls"
        + (
            ": "
            + "; ".join(f"`{r['name']}` {', '.join(sorted(set(r['alarms'])))}" for r in alarmed)
            if alarmed
            else ""
        )
        + ".",
        "",
        "Crashes: "
        + (
            "; ".join(f"`{k}` ({v[:120]})" for k, v in s["crashes"].items())
            if s["crashes"]
            else "0"
        )
        + ".",
        "",
    ]
    slowest = max(records, key=lambda r: r["seconds"])
    out.append(
        f"Time: {s['wall_seconds'] / 60:.1f} min wall, {s['seconds_total']:.0f} s summed over "
        f"scenarios (median {statistics.median(r['seconds'] for r in records):.1f} s, slowest "
        f"{slowest['seconds']:.0f} s: `{slowest['name']}`), each a `tripwire audit` or "
        "`tripwire drift` subprocess with every check."
    )
    return "\n".join(out).rstrip() + "\n"


def format_markdown(result: dict[str, Any]) -> str:
    head = _head(result, result["minutes"], "Run")[0]
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


def write_block(path: Path, block: str, start: str = START, end: str = END) -> None:
    text = path.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{path} has no {start} ... {end} block to replace")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    path.write_text(f"{before}{start}\n{block}{end}{after}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="tripwire and peer tools side by side on the zoo.")
    ap.add_argument("--scenarios", required=True, type=Path)
    ap.add_argument("--tools", default=",".join(("tripwire", *score.PEERS)))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", default=None, help="comma-separated scenario name prefixes")
    ap.add_argument("--out", type=Path, default=None, help="write the full result as JSON")
    ap.add_argument(
        "--tripwire-out",
        type=Path,
        default=None,
        help="write tripwire's score (score.py --out format) as soon as it is scored",
    )
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
    if a.results_md:  # fail now, not after an hour of scoring
        text = a.results_md.read_text()
        for start, end in ((START, END), (ZOO_START, ZOO_END)):
            if start not in text or end not in text:
                raise SystemExit(f"{a.results_md} has no {start} ... {end} block to replace")
    t0 = time.perf_counter()
    only = [p for p in (a.only or "").split(",") if p]

    def on_tripwire(run: dict[str, Any]) -> None:
        md = zoo_markdown(run)
        print(md, flush=True)
        if a.tripwire_out:
            a.tripwire_out.parent.mkdir(parents=True, exist_ok=True)
            saved = {k: v for k, v in run.items() if k != "tripwire"}
            a.tripwire_out.write_text(json.dumps({**run["tripwire"], "run": saved}, indent=1))
        if a.results_md:
            write_block(a.results_md, md, ZOO_START, ZOO_END)

    result = compare(a.scenarios, tools, a.jobs, reuse, only or None, on_tripwire)
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
