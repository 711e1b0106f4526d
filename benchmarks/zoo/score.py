"""Score a detection tool on the failure zoo.

For each scenario folder (see ``generate.py``) the tool runs the scenario's command and
returns its findings in tripwire's JSON shape. The scorer then reports:

- recall per failure mode: the share of scenarios expecting mode M in which the tool raised
  at least one warning or critical finding of mode M;
- label rows: precision, recall and F1 of the train rows named by label findings against the
  planted rows (micro-averaged over the label scenarios, and per scenario);
- false alarms: warnings and criticals raised on the clean controls (count, and how many
  controls had at least one);
- crashes (non-zero exit other than 0/1, unreadable output, timeout) and wall time.

Tools: ``tripwire`` (the CLI, ``--json``), two reference tools used by the tests to show
the scorer discriminates: ``silent`` (never flags anything) and ``alarmist`` (flags every mode
and every row), and the peer tools of ``PEERS`` (cleanlab, Evidently, alibi-detect, NannyML,
whylogs, deepchecks), each run by ``peers.py`` in its own environment through a subprocess on
the scenarios of its task (``TASKS``); ``compare.py`` puts them side by side.

Usage: ``python -m benchmarks.zoo.score --scenarios DIR [--tool tripwire] [--out FILE.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

MODES = ("labels", "leakage", "metrics", "drift", "robustness")
ALARM = ("warning", "critical")
TIMEOUT = int(os.environ.get("ZOO_TIMEOUT", "600"))


class ToolCrash(RuntimeError):
    pass


# --------------------------------------------------------------------------- tools


def run_tripwire(folder: Path) -> dict[str, Any]:
    spec = json.loads((folder / "args.json").read_text())
    out = folder / "tripwire.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "tripwire",
        spec["command"],
        *spec["args"],
        "--json",
        str(out),
        "--quiet",
    ]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    try:
        res = subprocess.run(
            cmd, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, env=env
        )
    except subprocess.TimeoutExpired:
        raise ToolCrash(f"timeout after {TIMEOUT}s") from None
    if res.returncode not in (0, 1) or not out.exists():
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise ToolCrash(f"exit {res.returncode}: {' | '.join(tail)[:400]}")
    report = json.loads(out.read_text())
    # a check that failed is a crash of the tool: its silence must not count as a clean verdict
    broken = [c for c in report.get("checks", []) if c.get("status") == "error"]
    if broken:
        raise ToolCrash(
            "check error: "
            + "; ".join(f"{c['check']}: {c.get('reason', '')}" for c in broken)[:400]
        )
    return report


def run_silent(folder: Path) -> dict[str, Any]:
    return {"tool": "silent", "findings": []}


def run_alarmist(folder: Path) -> dict[str, Any]:
    spec = json.loads((folder / "args.json").read_text())
    first = "train.csv" if spec["command"] == "audit" else "reference.csv"
    n = sum(1 for _ in open(folder / first)) - 1
    rows = {"train": list(range(n)), "test": []}
    return {
        "tool": "alarmist",
        "findings": [
            {"check": f"alarm.{m}", "mode": m, "severity": "critical", "rows": rows, "columns": []}
            for m in (*MODES, "data")
        ],
    }


# A task is a set of scenarios (its failure families plus the clean controls of its command)
# and the mode a tool must raise on them; each peer tool covers one task.
TASKS: dict[str, tuple[str, str]] = {  # task -> (family prefix, command of its controls)
    "labels": ("labels-", "audit"),
    "leakage": ("leakage-", "audit"),
    "drift": ("drift-", "drift"),
}
PEERS_PYTHON = os.environ.get("ZOO_PEERS_PYTHON", ".venv-peers/bin/python")
DC_PYTHON = os.environ.get("ZOO_DC_PYTHON", ".venv-dc/bin/python")
PEERS: dict[str, tuple[str, str]] = {  # tool -> (task, interpreter of its environment)
    "cleanlab": ("labels", PEERS_PYTHON),
    "evidently": ("drift", PEERS_PYTHON),
    "alibi": ("drift", PEERS_PYTHON),
    "nannyml": ("drift", PEERS_PYTHON),
    "whylogs": ("drift", PEERS_PYTHON),
    "deepchecks": ("leakage", DC_PYTHON),
}


def in_task(truth: dict[str, Any], task: str) -> bool:
    prefix, command = TASKS[task]
    if truth["control"]:
        return truth["command"] == command
    return truth["family"].startswith(prefix)


def run_peer(tool: str, folder: Path) -> dict[str, Any]:
    python = str(Path(PEERS[tool][1]).absolute())
    if not Path(python).exists():
        raise ToolCrash(f"{python} not found: build it with `make bench-peers`")
    script = Path(__file__).with_name("peers.py")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env.pop("PYTHONPATH", None)  # the peer sees its own environment only
    try:
        res = subprocess.run(
            [python, str(script), tool, str(folder.absolute())],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise ToolCrash(f"timeout after {TIMEOUT}s") from None
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise ToolCrash(f"exit {res.returncode}: {' | '.join(tail)[:400]}")
    return json.loads(lines[-1])


TOOLS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "tripwire": run_tripwire,
    "silent": run_silent,
    "alarmist": run_alarmist,
    **{name: (lambda folder, name=name: run_peer(name, folder)) for name in PEERS},
}


# --------------------------------------------------------------------------- scoring


def judge(truth: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """What one report got right and wrong on one scenario."""
    findings = report.get("findings", [])
    alarms = [f for f in findings if f.get("severity") in ALARM]
    raised = sorted({f.get("mode", "") for f in alarms})
    out: dict[str, Any] = {
        "raised_modes": raised,
        "alarms": [f"{f.get('check')}[{f.get('severity')}]" for f in alarms],
        "hit": {m: m in raised for m in truth["modes"]},
    }
    cols = set(truth.get("columns") or [])
    if cols and truth["modes"]:
        named = {
            c for f in alarms if f.get("mode") in truth["modes"] for c in f.get("columns") or []
        }
        out["column_hit"] = bool(cols & named)
    if truth.get("label_rows") is not None:
        flagged = set()
        for f in findings:
            if f.get("mode") == "labels":
                flagged.update((f.get("rows") or {}).get("train") or [])
        planted = set(truth["label_rows"])
        tp = len(flagged & planted)
        out["label"] = {"tp": tp, "flagged": len(flagged), "planted": len(planted)}
    return out


def prf(tp: int, flagged: int, planted: int) -> dict[str, float]:
    p = tp / flagged if flagged else 0.0
    r = tp / planted if planted else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3)}


def score_one(folder: Path, tool: str) -> dict[str, Any]:
    truth = json.loads((folder / "truth.json").read_text())
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"name": truth["name"], "family": truth["family"], "truth": truth}
    try:
        report = TOOLS[tool](folder)
        rec.update(judge(truth, report))
        rec["version"] = report.get("version")
        rec["crash"] = None
    except Exception as exc:  # a crash is a result, not a reason to stop the run
        rec["crash"] = f"{type(exc).__name__}: {exc}"
        rec.update({"raised_modes": [], "alarms": [], "hit": {m: False for m in truth["modes"]}})
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    return rec


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_mode: dict[str, list[bool]] = defaultdict(list)
    fam: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        for m, hit in r["hit"].items():
            by_mode[m].append(hit)
            fam[r["family"]].append(hit)
    controls = [r for r in records if r["truth"]["control"]]
    alarms_by_check = Counter(a for r in controls for a in r["alarms"])
    tp = sum(r["label"]["tp"] for r in records if "label" in r)
    fl = sum(r["label"]["flagged"] for r in records if "label" in r)
    pl = sum(r["label"]["planted"] for r in records if "label" in r)
    per_label = {
        r["name"]: prf(r["label"]["tp"], r["label"]["flagged"], r["label"]["planted"])
        for r in records
        if "label" in r
    }
    return {
        "scenarios": len(records),
        "recall": {
            m: {"recall": round(sum(v) / len(v), 3), "hits": sum(v), "n": len(v)}
            for m, v in sorted(by_mode.items())
        },
        "family_recall": {f: f"{sum(v)}/{len(v)}" for f, v in sorted(fam.items())},
        "label_rows": {**prf(tp, fl, pl), "tp": tp, "flagged": fl, "planted": pl},
        "label_rows_per_scenario": per_label,
        "controls": len(controls),
        "false_alarms": sum(len(r["alarms"]) for r in controls),
        "controls_with_alarm": sum(bool(r["alarms"]) for r in controls),
        "false_alarm_checks": dict(alarms_by_check.most_common()),
        "crashes": {r["name"]: r["crash"] for r in records if r["crash"]},
        "seconds_total": round(sum(r["seconds"] for r in records), 1),
        "seconds_max": max((r["seconds"] for r in records), default=0.0),
    }


def select(
    scenarios: Path, tool: str, only: list[str] | None = None, tasks: list[str] | None = None
) -> list[Path]:
    """The scenario folders ``tool`` runs on: those named by ``only`` (prefixes), of ``tasks``
    (a peer: always its own task's)."""
    # absolute: each tool runs with its scenario folder as working directory
    folders = sorted(p.parent.absolute() for p in scenarios.glob("*/truth.json"))
    if only:
        folders = [f for f in folders if any(f.name.startswith(p) for p in only)]
    if tool in PEERS:  # a peer runs only on the scenarios of its task
        tasks = [PEERS[tool][0]]
    if tasks:
        truths = {f: json.loads((f / "truth.json").read_text()) for f in folders}
        folders = [f for f in folders if any(in_task(truths[f], t) for t in tasks)]
    if not folders:
        raise SystemExit(f"no scenarios (folders with truth.json) under {scenarios}")
    return folders


def score(
    scenarios: Path,
    tool: str = "tripwire",
    jobs: int = 1,
    only: list[str] | None = None,
    tasks: list[str] | None = None,
) -> dict[str, Any]:
    folders = select(scenarios, tool, only, tasks)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        records = list(pool.map(lambda f: score_one(f, tool), folders))
    summary = summarise(records)
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return {"tool": tool, "summary": summary, "records": records}


def format_summary(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [f"tool: {result['tool']}  scenarios: {s['scenarios']}  wall: {s['wall_seconds']} s"]
    lines.append("recall per failure mode:")
    for m, v in s["recall"].items():
        lines.append(f"  {m:<11} {v['recall']:.2f}  ({v['hits']}/{v['n']})")
    lr = s["label_rows"]
    lines.append(
        f"label rows: precision {lr['precision']:.2f} recall {lr['recall']:.2f} F1 {lr['f1']:.2f}"
        f" ({lr['tp']} of {lr['planted']} planted found, {lr['flagged']} flagged)"
    )
    lines.append(
        f"clean controls: {s['false_alarms']} warnings/criticals on {s['controls_with_alarm']}"
        f" of {s['controls']} controls"
    )
    for chk, n in s["false_alarm_checks"].items():
        lines.append(f"  {n} x {chk}")
    lines.append(f"crashes: {len(s['crashes'])}")
    for name, msg in s["crashes"].items():
        lines.append(f"  {name}: {msg}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Score a tool on the failure zoo.")
    ap.add_argument("--scenarios", required=True, type=Path)
    ap.add_argument("--tool", default="tripwire", choices=sorted(TOOLS))
    ap.add_argument("--jobs", type=int, default=1, help="scenarios run in parallel")
    ap.add_argument("--only", default=None, help="comma-separated scenario name prefixes")
    ap.add_argument("--out", type=Path, default=None, help="write the full result as JSON")
    a = ap.parse_args(argv)
    only = [p for p in (a.only or "").split(",") if p]
    result = score(a.scenarios, a.tool, a.jobs, only or None)
    print(format_summary(result))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
