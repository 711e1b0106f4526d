"""Leakage benchmarks.

speed: the near-duplicate search between two tables of 100,000 rows (20 features), step by
step, with the recall of the clustered search against the exact one.
compare: tripwire's leakage checks and deepchecks' leakage checks (default conditions; its own
venv, run by subprocess) on the same clean splits of 8 real datasets (false alarms) and the
same planted leaks (power): exact and near copies, a target-leak feature, a group overlap and a
random split of time-ordered data.

    python benchmarks/leakage.py speed [--rows 100000] [--features 20] [--no-exact]
    python benchmarks/leakage.py compare [--splits 10] [--trials 10] [--max-rows 5000]
        [--python /work/venv-dc/bin/python]

Results are printed as JSON and saved under benchmarks/results/leakage-*.json.
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


def _bike() -> pd.DataFrame:
    df = realdata_module().bike_hour().drop(columns=["instant", "casual", "registered"])
    when = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    return df.drop(columns=["dteday"]).assign(when=when.dt.strftime("%Y-%m-%d %H:%M"))


def realdata_module() -> Any:
    from tests import realdata

    return realdata


def _clean_datasets() -> dict[str, tuple[pd.DataFrame, str, str | None]]:
    """name -> (data, target, time column or None)."""
    rd = realdata_module()
    spam = rd.spambase()
    return {
        "adult": (rd.adult(), "income", None),
        "german_credit": (rd.german_credit(), "class", None),
        "bank_additional": (rd.bank_additional(), "y", None),
        "spambase": (spam, str(spam.columns[-1]), None),
        "wine_red": (rd.wine("red"), "quality", None),
        "wine_white": (rd.wine("white"), "quality", None),
        "california": (rd.california(), "median_house_value", None),
        "bike_hour": (_bike(), "cnt", "when"),
    }


#: planted task -> (tripwire check that must fire, deepchecks check that can catch it)
PLANTED = {
    "exact copies 1%": ("leakage.train_test_duplicates", "TrainTestSamplesMix"),
    "exact copies 10%": ("leakage.train_test_duplicates", "TrainTestSamplesMix"),
    "near copies 1%": ("leakage.near_duplicates", "TrainTestSamplesMix"),
    "near copies 10%": ("leakage.near_duplicates", "TrainTestSamplesMix"),
    "target-leak feature": ("leakage.target_leak_features", "FeatureLabelCorrelationChange"),
    "group overlap": ("leakage.entity_overlap", None),
    "random split of time data": ("leakage.train_after_test", "DateTrainTestLeakageOverlap"),
}


def _planted(task: str, seed: int, rows: int) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    rd = realdata_module()
    rng = np.random.default_rng(seed)
    if task.startswith(("exact", "near")):
        df = rd.adult().sample(rows, random_state=seed).reset_index(drop=True)
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        share = float(task.split()[-1].rstrip("%")) / 100
        copies = tr.sample(int(round(share * len(te))), random_state=seed).copy()
        if task.startswith("near"):
            num = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss"]
            num += ["hours_per_week"]
            iqr = (tr[num].quantile(0.75) - tr[num].quantile(0.25)).replace(0, 1).to_numpy()
            moved = copies[num].to_numpy(float) + rng.normal(0, 1e-3, (len(copies), 6)) * iqr
            copies[num] = moved
        return {"train": tr, "test": pd.concat([te, copies]), "target": "income"}
    if task == "target-leak feature":
        df = rd.adult().sample(rows, random_state=seed).reset_index(drop=True)
        positive = (df["income"] == ">50K").to_numpy()
        # an account flag set after the outcome: the label with 0.5% of rows flipped
        flag = np.where(rng.random(len(df)) < 0.995, positive, ~positive).astype(int)
        df["account_flag"] = flag * 3 + rng.integers(0, 2, len(df))
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        return {"train": tr, "test": te, "target": "income"}
    if task == "group overlap":
        df = rd.california().sample(rows, random_state=seed).reset_index(drop=True)
        cell = (df["latitude"] // 0.25).astype(int).astype(str)
        df["district"] = cell + "_" + (df["longitude"] // 0.25).astype(int).astype(str)
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        return {"train": tr, "test": te, "target": "median_house_value", "group": "district"}
    if task == "random split of time data":
        df = _bike().sample(rows, random_state=seed).reset_index(drop=True)
        tr, te = train_test_split(df, test_size=0.3, random_state=seed)
        return {"train": tr, "test": te, "target": "cnt", "time": "when"}
    raise ValueError(task)


def _tasks(splits: int, trials: int, rows: int) -> list[dict[str, Any]]:
    """Clean random splits (time-ordered for time data) of every dataset, then planted leaks."""
    from sklearn.model_selection import train_test_split

    tasks = []
    for name, (df, target, time_col) in _clean_datasets().items():
        if len(df) > rows:
            df = df.sample(rows, random_state=0)
        for seed in range(splits):
            if time_col:  # a clean split of time-ordered data keeps the order
                df = df.sort_values(time_col, kind="stable")
                start = seed * len(df) // (4 * splits)
                part = df.iloc[start : start + 3 * len(df) // 4]
                cut = int(len(part) * 0.7)
                tr, te = part.iloc[:cut], part.iloc[cut:]
            else:
                tr, te = train_test_split(df, test_size=0.3, random_state=seed)
            tasks.append(
                {"task": "clean", "dataset": name, "seed": seed, "train": tr, "test": te}
                | {"target": target, "time": time_col}
            )
    for task in PLANTED:
        for seed in range(trials):
            tasks.append({"task": task, "seed": seed} | _planted(task, seed, rows))
    return tasks


PEER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
# deepchecks 0.19.1 asks scikit-learn for a 'max_error' scorer that scikit-learn 1.9 no longer
# registers; give it one so that deepchecks imports (no leakage check uses it)
from sklearn.metrics import _scorer, make_scorer, max_error
_scorer._SCORERS.setdefault("max_error", make_scorer(max_error, greater_is_better=False))
import pandas as pd
import deepchecks
from deepchecks.tabular import Dataset
from deepchecks.tabular.checks import (DateTrainTestLeakageDuplicates, DateTrainTestLeakageOverlap,
    FeatureLabelCorrelationChange, TrainTestSamplesMix)
for line in open(sys.argv[1]):
    job = json.loads(line)
    tr, te = pd.read_csv(job["train"]), pd.read_csv(job["test"])
    if job["time"]:
        tr[job["time"]] = pd.to_datetime(tr[job["time"]]); te[job["time"]] = pd.to_datetime(te[job["time"]])
    cats = [c for c in tr.columns if c not in (job["target"], job["time"]) and tr[c].dtype == object]
    kw = dict(label=job["target"], cat_features=cats, datetime_name=job["time"])
    checks = {
        "TrainTestSamplesMix": TrainTestSamplesMix().add_condition_duplicates_ratio_less_or_equal(),
        "FeatureLabelCorrelationChange": FeatureLabelCorrelationChange()
            .add_condition_feature_pps_difference_less_than().add_condition_feature_pps_in_train_less_than(),
    }
    if job["time"]:
        checks["DateTrainTestLeakageOverlap"] = DateTrainTestLeakageOverlap().add_condition_leakage_ratio_less_or_equal()
        checks["DateTrainTestLeakageDuplicates"] = DateTrainTestLeakageDuplicates().add_condition_leakage_ratio_less_or_equal()
    t0 = time.perf_counter()
    out = {}
    for name, chk in checks.items():
        try:
            r = chk.run(Dataset(tr, **kw), Dataset(te, **kw))
            out[name] = {"passed": bool(r.passed_conditions())}
        except Exception as e:  # a check that cannot run raises no alarm; say why
            out[name] = {"passed": True, "error": repr(e)[:200]}
    print(json.dumps({"id": job["id"], "seconds": time.perf_counter() - t0, "checks": out,
                      "version": deepchecks.__version__}), flush=True)
"""


def _run_deepchecks(python: str, tasks: list[dict[str, Any]], tmp: Path) -> dict[int, Any]:
    manifest = tmp / "jobs.jsonl"
    with manifest.open("w") as fh:
        for i, t in enumerate(tasks):
            a, b = tmp / f"{i}-train.csv", tmp / f"{i}-test.csv"
            t["train"].to_csv(a, index=False)
            t["test"].to_csv(b, index=False)
            job = {"id": i, "train": str(a), "test": str(b)}
            fh.write(json.dumps(job | {"target": t["target"], "time": t.get("time")}) + "\n")
    script = tmp / "peer.py"
    script.write_text(PEER)
    proc = subprocess.run(
        [python, str(script), str(manifest)], capture_output=True, text=True, timeout=4 * 3600
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return {r["id"]: r for r in map(json.loads, proc.stdout.strip().splitlines())}


def bench_compare(python: str, splits: int, trials: int, rows: int) -> dict[str, Any]:
    """tripwire's leakage checks and deepchecks' leakage checks (default conditions) on the same
    clean splits and planted leaks: the share of splits each tool raises an alarm on."""
    import tripwire

    tasks = _tasks(splits, trials, rows)
    for i, t in enumerate(tasks):
        t0 = time.perf_counter()
        kw = {k: t[k] for k in ("time", "group") if t.get(k)}
        report = tripwire.audit(
            t["train"],
            t["test"],
            target=t["target"],
            checks=["leakage"],
            random_state=t["seed"],
            **kw,
        )
        t["tripwire_seconds"] = time.perf_counter() - t0
        t["tripwire"] = sorted(
            {f.check for f in report.findings if f.mode == "leakage" and f.severity != "info"}
        )
        print(i, t["task"], t.get("dataset", ""), t["tripwire"], flush=True)
    peer: dict[int, Any] = {}
    if python and Path(python).exists():
        with tempfile.TemporaryDirectory() as tmp:
            peer = _run_deepchecks(python, tasks, Path(tmp))
    rows_out = []
    for i, t in enumerate(tasks):
        dc = peer.get(i)
        rows_out.append(
            {
                "task": t["task"],
                "dataset": t.get("dataset"),
                "seed": t["seed"],
                "train_rows": len(t["train"]),
                "test_rows": len(t["test"]),
                "tripwire_alarms": t["tripwire"],
                "tripwire_seconds": t["tripwire_seconds"],
                "deepchecks_alarms": sorted(k for k, v in dc["checks"].items() if not v["passed"])
                if dc
                else None,
                "deepchecks_errors": {
                    k: v["error"] for k, v in dc["checks"].items() if "error" in v
                }
                if dc
                else None,
                "deepchecks_seconds": dc["seconds"] if dc else None,
                "deepchecks_version": dc["version"] if dc else None,
            }
        )
    return {"summary": _summarise(rows_out), "runs": rows_out}


def reuse_peer(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Fill the deepchecks fields of ``new`` from an earlier run of the same tasks."""
    keys = ("task", "dataset", "seed", "train_rows", "test_rows")
    for n, o in zip(new["runs"], old["runs"], strict=True):
        if any(n[k] != o[k] for k in keys):
            raise ValueError(f"task mismatch: {[n[k] for k in keys]} vs {[o[k] for k in keys]}")
        for k in ("deepchecks_alarms", "deepchecks_errors", "deepchecks_seconds"):
            n[k] = o[k]
        n["deepchecks_version"] = o["deepchecks_version"]
    return {"summary": _summarise(new["runs"]), "runs": new["runs"]}


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in runs:
        key = f"clean: {r['dataset']}" if r["task"] == "clean" else r["task"]
        s = out.setdefault(key, {"runs": 0, "tripwire": 0, "deepchecks": 0, "tw_s": [], "dc_s": []})
        s["runs"] += 1
        for tool in ("tripwire", "deepchecks"):
            by_check = s.setdefault(f"{tool}_alarms_by_check", {})
            for c in r[f"{tool}_alarms"] or []:
                by_check[c] = by_check.get(c, 0) + 1
        want_tw, want_dc = PLANTED.get(r["task"], (None, None))
        if r["task"] == "clean":
            s["tripwire"] += bool(r["tripwire_alarms"])
            s["deepchecks"] += bool(r["deepchecks_alarms"])
        else:
            s["tripwire"] += want_tw in r["tripwire_alarms"]
            s["deepchecks"] += bool(want_dc) and want_dc in (r["deepchecks_alarms"] or [])
        s["tw_s"].append(r["tripwire_seconds"])
        if r["deepchecks_seconds"] is not None:
            s["dc_s"].append(r["deepchecks_seconds"])
    for s in out.values():
        s["tripwire_median_s"] = float(np.median(s.pop("tw_s")))
        dc_s = s.pop("dc_s")
        s["deepchecks_median_s"] = float(np.median(dc_s)) if dc_s else None
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["speed", "compare", "all"])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--no-exact", action="store_true", help="skip the exact search (recall)")
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--max-rows", type=int, default=5000, help="rows per dataset in compare")
    p.add_argument(
        "--python", default=os.environ.get("DEEPCHECKS_PYTHON", "/work/venv-dc/bin/python")
    )
    p.add_argument(
        "--reuse-peer",
        type=Path,
        help="re-run tripwire only; take deepchecks' runs from this earlier compare JSON",
    )
    args = p.parse_args()
    RESULTS.mkdir(exist_ok=True)
    jobs = {
        "speed": lambda: bench_speed(args.rows, args.features, not args.no_exact),
        "compare": lambda: bench_compare(
            "" if args.reuse_peer else args.python, args.splits, args.trials, args.max_rows
        ),
    }
    for name, job in jobs.items():
        if args.what not in (name, "all"):
            continue
        result = job()
        if name == "compare" and args.reuse_peer:
            result = reuse_peer(result, json.loads(args.reuse_peer.read_text()))
        (RESULTS / f"leakage-{name}.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
