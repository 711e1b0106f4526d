"""Lifecycle benchmarks through a real `tripwire serve` on elec2:

- predict latency (p50/p99) and throughput, single record and batches of 100, champion only
  and with the challenger in shadow;
- alias changes under steady load: how long until the new version answers, failed requests;
- one `tripwire loop` pass (retrain, audit, gate, promote) and its time.

    PYTHONPATH=src:. python -m benchmarks.lifecycle [--write]

Writes the Lifecycle section of benchmarks/RESULTS.md with --write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
from tests import realdata
from tests.lifecycle import trainers
from tests.monitor.conftest import Server, create_token, run_tripwire

from tripwire import __version__

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tripwire(*args, cwd=cwd, timeout=900)


def _records(rows: pd.DataFrame, prefix: str) -> list[dict[str, Any]]:
    feats = rows[FEATURES].to_dict(orient="records")
    return [{"id": f"{prefix}-{i}", "features": f} for i, f in zip(rows.index, feats)]


def _latency(
    http: httpx.Client, rows: pd.DataFrame, batch: int, n: int, tag: str
) -> dict[str, Any]:
    times = []
    started = time.perf_counter()
    for k in range(n):
        chunk = rows.iloc[(k * batch) % (len(rows) - batch) :][:batch]
        t = time.perf_counter()
        r = http.post("/v1/models/elec/predict", json={"records": _records(chunk, f"{tag}{k}")})
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
    total = time.perf_counter() - started
    ms = np.array(times) * 1000
    return {
        "batch": batch,
        "requests": n,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "rows_per_s": n * batch / total,
    }


def bench_switches(
    server: Server, token: str, rows: pd.DataFrame, db: str, tmp: Path, n: int
) -> dict[str, Any]:
    """n alias changes by the CLI under steady traffic from two client threads."""
    stop = threading.Event()
    seen: list[tuple[float, str]] = []
    failed: list[str] = []
    ok = [0]

    def traffic(seed: int) -> None:
        http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        k = 0
        while not stop.is_set():
            chunk = rows.sample(5, random_state=seed * 100_000 + k)
            try:
                r = http.post(
                    "/v1/models/elec/predict", json={"records": _records(chunk, f"s{seed}-{k}")}
                )
                if r.status_code == 200:
                    ok[0] += 1
                    seen.append((time.monotonic(), r.json()["model_version"]))
                else:
                    failed.append(str(r.status_code))
            except httpx.HTTPError as exc:
                failed.append(repr(exc))
            k += 1

    workers = [threading.Thread(target=traffic, args=(s,), daemon=True) for s in range(2)]
    for w in workers:
        w.start()
    delays = []
    try:
        for i in range(n):
            target = "2" if i % 2 == 0 else "1"
            cmd = ("registry", "promote", "elec", target) if target == "2" else ("rollback", "elec")
            res = _cli(*cmd, "--db", db, cwd=tmp)
            assert res.returncode == 0, res.stderr
            done = time.monotonic()
            while not any(v == target and t > done for t, v in seen[-50:]):
                if time.monotonic() - done > 30:
                    raise RuntimeError("alias change not seen")
                time.sleep(0.02)
            delays.append(min(t for t, v in seen if v == target and t > done) - done)
            time.sleep(1.0)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    return {
        "switches": n,
        "requests": ok[0] + len(failed),
        "failed": len(failed),
        "delay_median_s": float(np.median(delays)),
        "delay_max_s": float(np.max(delays)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--switches", type=int, default=10)
    args = ap.parse_args()
    elec = realdata.elec2()[FEATURES + ["class"]]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = f"sqlite:///{tmp / 'tw.db'}"
        original = elec.iloc[:2000]
        original.to_csv(tmp / "train.csv", index=False)
        joblib.dump(trainers.fit(original, "class"), tmp / "v1.joblib")
        joblib.dump(trainers.fit(elec.iloc[2000:4000], "class"), tmp / "v2.joblib")
        for f, alias in (("v1.joblib", "champion"), ("v2.joblib", "challenger")):
            res = _cli("registry", "add", "elec", f, "--train", "train.csv", "--target", "class",
                       "--alias", alias, "--no-audit", "--db", db, cwd=tmp)  # fmt: skip
            assert res.returncode == 0, res.stderr
        token = create_token(db)
        server = Server(db, cwd=tmp).start()
        try:
            http = httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            rows = elec.iloc[20000:30000]
            _latency(http, rows, 1, 20, "warm")
            out["shadow"] = [
                _latency(http, rows, 1, 300, "sh1"),
                _latency(http, rows, 100, 100, "sh100"),
            ]
            from tripwire.lifecycle.registry import Registry

            reg = Registry(db)
            reg.clear_alias("elec", "challenger", actor="bench")
            time.sleep(1.2)
            out["champion_only"] = [
                _latency(http, rows, 1, 300, "c1"),
                _latency(http, rows, 100, 100, "c100"),
            ]
            out["switches"] = bench_switches(server, token, rows, db, tmp, args.switches)
        finally:
            server.stop()
    out["meta"] = {
        "date": dt.date.today().isoformat(),
        "tripwire": __version__,
        "python": platform.python_version(),
        "load": os.getloadavg()[0],
    }
    print(json.dumps(out, indent=2))
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "lifecycle.json").write_text(json.dumps(out, indent=2))
    if args.write:
        write(out)


def write(r: dict[str, Any]) -> None:
    m, s = r["meta"], r["switches"]

    def rows(key: str) -> str:
        return "\n".join(
            f"| {key} | {x['batch']} | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} | {x['rows_per_s']:,.0f} |"
            for x in r[key]
        )

    text = f"""## Lifecycle (failure mode 7)

{m["date"]}, tripwire {m["tripwire"]}, Python {m["python"]}, SQLite store, a real `tripwire serve`
on loopback, elec2 HistGradientBoosting models; 2 cores shared with other work (load
{m["load"]:.1f} at the end). Reproduce: `PYTHONPATH=src:. python -m benchmarks.lifecycle --write`.

`POST /v1/models/elec/predict`, one client, sequential requests (each answer logged to the
monitor in the same request; with the challenger in shadow it also predicts and is logged):

| mode | records per request | p50 ms | p99 ms | records/s |
| --- | ---: | ---: | ---: | ---: |
{rows("champion_only")}
{rows("shadow")}

Alias changes under load: {s["switches"]} changes made with the CLI (`registry promote` and
`rollback`, alternating) while two client threads sent {s["requests"]:,} predict requests:
**{s["failed"]} failed**. The new version answered a median {s["delay_median_s"]:.2f} s
(max {s["delay_max_s"]:.2f} s) after the CLI command returned: the service re-reads aliases at
most once a second, and a CLI process takes longer than that to start and commit, so by the
time it returns the service has usually switched already. No restart.

The whole loop (drift incident, rejected and promoted candidates, automatic rollback, zero
failed requests under steady traffic) is the end-to-end test
`tests/lifecycle/test_served_loop.py`, and step 2 of `tripwire demo`.
"""
    path = ROOT / "benchmarks" / "RESULTS.md"
    content = path.read_text()
    start = content.index("## Lifecycle (failure mode 7)")
    end = content.index("\n## ", start + 5)
    path.write_text(content[:start] + text + content[end:])


if __name__ == "__main__":
    main()
