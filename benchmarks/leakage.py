"""Leakage benchmarks: near-duplicate search speed and memory, false alarms on clean splits of
every real dataset, detection power for planted copies, and deepchecks' train-test samples mix
check on the same data when deepchecks is installed (its own venv, run by subprocess).

    python benchmarks/leakage.py speed [--rows 100000] [--features 20] [--no-exact]
    python benchmarks/leakage.py false-alarms [--splits 10]
    python benchmarks/leakage.py power [--trials 20]
    python benchmarks/leakage.py peer [--python /work/venv-dc/bin/python]
    python benchmarks/leakage.py all

Results are printed as Markdown and saved under benchmarks/results/leakage-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def synthetic(
    rows: int, features: int, copies: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Correlated Gaussian rows (one latent factor plus noise), two sides of ``rows`` each;
    a share ``copies`` of test rows are train rows moved by 0.1% of a column's IQR."""
    rng = np.random.default_rng(seed)

    def draw(n: int) -> np.ndarray:
        z = rng.normal(size=(n, 1))
        return z @ rng.uniform(0.3, 1.0, (1, features)) + rng.normal(size=(n, features))

    train, test = draw(rows), draw(rows)
    k = int(rows * copies)
    planted = rng.choice(rows, k, replace=False)
    test[planted] = train[rng.choice(rows, k, replace=False)] + rng.normal(
        0, 1e-3 * 1.35, (k, features)
    )
    cols = [f"x{i}" for i in range(features)]
    return pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols), planted


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_speed(rows: int, features: int, exact: bool = True) -> dict[str, Any]:
    """The steps of the near-duplicate check timed one by one (wall and CPU seconds), then the
    whole check through ``tripwire.audit``; with ``exact`` also the exact brute-force search,
    against which the recall of the clustered search is measured."""
    from tripwire.checks.leakage.duplicates import CALIBRATION_ROWS
    from tripwire.stats.neighbors import ClusteredNeighbours, encode_rows, near_threshold, nearest

    tr, te, planted = synthetic(rows, features, 0.01, 0)
    before = _peak_mib()
    steps: dict[str, dict[str, float]] = {}

    def timed(name: str, fn: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        steps[name] = {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c}
        return out

    a, b = timed("encode", lambda: encode_rows(tr, [te], list(tr.columns), []))
    n_cal = min(len(a), CALIBRATION_ROWS)
    sample = np.sort(np.random.default_rng(0).choice(len(a), n_cal, replace=False))
    within = timed(
        "calibration (exact)",
        lambda: nearest(a, a[sample], exclude_self=True, query_rows=sample),
    )
    tau = near_threshold(within.distance)
    index = timed("k-means cells", lambda: ClusteredNeighbours(random_state=0).fit(a))
    timed("recall probe on calibration rows", lambda: index.query(a[sample], exclude=sample))
    cross = timed("clustered search, test vs train", lambda: index.query(b))
    near = cross.distance <= tau
    out: dict[str, Any] = {
        "rows": rows,
        "features": features,
        "cells": len(index.centers_),
        "probes": index.probes_,
        "threshold": tau,
        "planted": len(planted),
        "planted_found": int(near[planted].sum()),
        "flagged": int(near.sum()),
    }
    if exact:
        truth = timed("exact brute-force search, test vs train", lambda: nearest(a, b))
        true_near = truth.distance <= tau
        out |= {
            "exact_flagged": int(true_near.sum()),
            "recall_vs_exact": float(near[true_near].mean()),
            "false_pairs": int((near & ~true_near).sum()),
            "same_nearest_row": float(np.mean(np.abs(cross.distance - truth.distance) < 1e-4)),
        }
    import tripwire

    y = np.random.default_rng(1).integers(0, 2, rows)
    report = timed(
        "whole leakage.near_duplicates check (tripwire.audit)",
        lambda: tripwire.audit(
            tr.assign(y=y), te.assign(y=y), target="y", checks=["leakage.near_duplicates"]
        ),
    )
    f = [x for x in report.findings if x.check == "leakage.near_duplicates"]
    out |= {
        "steps": steps,
        "peak_rss_mib": _peak_mib(),
        "rss_before_mib": before,
        "finding": f[0].title if f else None,
        "severity": str(f[0].severity.value) if f else None,
        "search": f[0].evidence.get("search") if f else None,
        "load_average": os.getloadavg(),
    }
    return out


def _datasets() -> dict[str, tuple[pd.DataFrame, str, dict[str, Any]]]:
    from tests import realdata

    bike = realdata.bike_hour().drop(columns=["instant", "casual", "registered"])
    return {
        "adult": (realdata.adult(), "income", {}),
        "german_credit": (realdata.german_credit(), "class", {}),
        "bank_additional": (realdata.bank_additional(), "y", {}),
        "spambase": (realdata.spambase(), realdata.spambase().columns[-1], {}),
        "wine_red": (realdata.wine("red"), "quality", {}),
        "wine_white": (realdata.wine("white"), "quality", {}),
        "california": (realdata.california(), "median_house_value", {}),
        "bike_hour": (bike, "cnt", {}),
        "elec2": (realdata.elec2(), "class", {"time": "date"}),
    }


def bench_false_alarms(splits: int, max_rows: int = 8000) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    import tripwire

    out: dict[str, Any] = {}
    for name, (df, target, kw) in _datasets().items():
        if len(df) > max_rows:
            df = df.sample(max_rows, random_state=0)
        alarms: dict[str, int] = {}
        any_alarm = 0
        seconds = []
        for seed in range(splits):
            if "time" in kw:  # a clean split of time-ordered data is a time-ordered one
                df = df.sort_values(kw["time"], kind="stable")
                start = seed * len(df) // (4 * splits)
                part = df.iloc[start : start + 3 * len(df) // 4]
                cut = int(len(part) * 0.7)
                tr, te = part.iloc[:cut], part.iloc[cut:]
            else:
                tr, te = train_test_split(df, test_size=0.3, random_state=seed)
            t0 = time.perf_counter()
            report = tripwire.audit(
                tr, te, target=target, checks=["leakage"], random_state=seed, **kw
            )
            seconds.append(time.perf_counter() - t0)
            hits = {
                f.check
                for f in report.findings
                if f.mode == "leakage" and f.severity.value != "info"
            }
            for h in hits:
                alarms[h] = alarms.get(h, 0) + 1
            any_alarm += bool(hits)
        out[name] = {
            "rows": len(df),
            "splits": splits,
            "splits_with_alarm": any_alarm,
            "alarms_by_check": alarms,
            "median_seconds": float(np.median(seconds)),
        }
        print(name, out[name], flush=True)
    return out


def bench_power(trials: int) -> dict[str, Any]:
    """Detection rate of planted exact and near copies (share of test rows) on adult."""
    from sklearn.model_selection import train_test_split
    from tests import realdata

    import tripwire

    df = realdata.adult().sample(10_000, random_state=0).reset_index(drop=True)
    num = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    out: dict[str, Any] = {}
    for kind in ("exact", "near"):
        for share in (0.005, 0.01, 0.02, 0.05):
            hits = 0
            for seed in range(trials):
                tr, te = train_test_split(df, test_size=0.3, random_state=seed)
                copies = tr.sample(int(share * len(te)), random_state=seed).copy()
                if kind == "near":
                    rng = np.random.default_rng(seed)
                    iqr = (tr[num].quantile(0.75) - tr[num].quantile(0.25)).replace(0, 1).to_numpy()
                    copies[num] = copies[num] + rng.normal(0, 1e-3, (len(copies), len(num))) * iqr
                te2 = pd.concat([te, copies], ignore_index=True)
                check = (
                    "leakage.train_test_duplicates"
                    if kind == "exact"
                    else "leakage.near_duplicates"
                )
                report = tripwire.audit(tr, te2, target="income", checks=[check], random_state=seed)
                hits += any(
                    f.check == check and f.severity.value != "info" for f in report.findings
                )
            out[f"{kind}@{share:.1%}"] = hits / trials
            print(kind, share, hits / trials, flush=True)
    return out


PEER = r"""
import json, sys, time, resource
import numpy as np, pandas as pd
from deepchecks.tabular import Dataset
from deepchecks.tabular.checks import TrainTestSamplesMix
import deepchecks
tr = pd.read_parquet(sys.argv[1]); te = pd.read_parquet(sys.argv[2])
feats = [c for c in tr.columns if c != "y"]
t0 = time.perf_counter()
res = TrainTestSamplesMix(n_samples=None).run(
    Dataset(tr, label="y", features=feats, cat_features=[]),
    Dataset(te, label="y", features=feats, cat_features=[]),
)
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "value": res.value if not hasattr(res.value, "keys") else {k: (v if isinstance(v, (int, float)) else str(v)[:200]) for k, v in res.value.items()},
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "version": deepchecks.__version__}))
"""


def bench_peer(python: str, rows: int, features: int) -> dict[str, Any]:
    """deepchecks TrainTestSamplesMix (exact train-test duplicates) on the speed data, with
    1% near copies and 1% exact copies planted."""
    import tripwire

    if not Path(python).exists():
        return {"skipped": f"{python} not found: deepchecks is not installed"}
    tr, te, planted = synthetic(rows, features, 0.01, 0)
    rng = np.random.default_rng(5)
    k = rows // 100
    exact_at = rng.choice(np.setdiff1d(np.arange(rows), planted), k, replace=False)
    te.iloc[exact_at] = tr.iloc[rng.choice(rows, k, replace=False)].to_numpy()
    y = rng.integers(0, 2, rows)
    tr, te = tr.assign(y=y), te.assign(y=y)
    with tempfile.TemporaryDirectory() as tmp:
        a, b, script = Path(tmp, "tr.parquet"), Path(tmp, "te.parquet"), Path(tmp, "peer.py")
        tr.to_parquet(a)
        te.to_parquet(b)
        script.write_text(PEER)
        proc = subprocess.run(
            [python, str(script), str(a), str(b)], capture_output=True, text=True, timeout=3600
        )
        if proc.returncode != 0:
            return {"error": proc.stderr[-2000:]}
        peer = json.loads(proc.stdout.strip().splitlines()[-1])
    t0 = time.perf_counter()
    report = tripwire.audit(tr, te, target="y", checks=["leakage.train_test", "leakage.near"])
    ours = {
        f.check: {"flagged": len(f.rows.get("test", [])), "title": f.title} for f in report.findings
    }
    return {
        "planted_exact": k,
        "planted_near": len(planted),
        "deepchecks": peer,
        "tripwire_seconds": time.perf_counter() - t0,
        "tripwire": ours,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["speed", "false-alarms", "power", "peer", "all"])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--no-exact", action="store_true", help="skip the exact search (recall)")
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument(
        "--python", default=os.environ.get("DEEPCHECKS_PYTHON", "/work/venv-dc/bin/python")
    )
    args = p.parse_args()
    RESULTS.mkdir(exist_ok=True)
    jobs = {
        "speed": lambda: bench_speed(args.rows, args.features, not args.no_exact),
        "false-alarms": lambda: bench_false_alarms(args.splits),
        "power": lambda: bench_power(args.trials),
        "peer": lambda: bench_peer(args.python, args.rows, args.features),
    }
    for name, job in jobs.items():
        if args.what not in (name, "all"):
            continue
        result = job()
        (RESULTS / f"leakage-{name}.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
