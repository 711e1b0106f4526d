"""Drift benchmarks: false alarms, power, sensitivity, performance estimation, speed and memory,
side by side with Evidently, alibi-detect and NannyML (run in /work/venv-peers by subprocess,
on the same data in the same run).

    python benchmarks/drift.py all [--trials 200] [--rows 1000000]   # everything, then RESULTS.md
    python benchmarks/drift.py calibration --trials 200
    python benchmarks/drift.py sensitivity
    python benchmarks/drift.py cbpe
    python benchmarks/drift.py speed --rows 1000000

Results are written to benchmarks/results/drift-*.json and the Drift section of
benchmarks/RESULTS.md is regenerated from them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
sys.path.insert(0, str(ROOT / "src"))

from tests import realdata  # noqa: E402

PEERS_PY = os.environ.get("TRIPWIRE_PEERS_PYTHON", "/work/venv-peers/bin/python")
PEERS = ("evidently", "alibi", "nannyml")
OUT = ROOT / "benchmarks" / "results"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------
# Real columns for calibration trials
# ---------------------------------------------------------------------------------------
def sources() -> dict[str, pd.DataFrame]:
    cal = realdata.california()
    elec = realdata.elec2()
    bike = realdata.bike_hour()
    bank = realdata.bank_full()
    return {
        "california": cal[
            [
                "longitude",
                "latitude",
                "housing_median_age",
                "total_rooms",
                "total_bedrooms",
                "population",
                "households",
                "median_income",
                "median_house_value",
            ]
        ],
        "elec2": elec[["date", "period", "nswprice", "nswdemand"]],
        "bike": bike[["temp", "hum", "windspeed", "cnt"]],
        "bank": bank[["age", "balance", "duration"]],
    }


def continuous(src: dict[str, pd.DataFrame]) -> list[str]:
    """Columns where an additive shift is a shift of the bulk, not of a few atoms: many
    distinct values and no value holding 1 % of the rows."""
    out = []
    for df in src.values():
        for c in df.columns:
            s = df[c].dropna()
            if s.nunique() > 500 and s.value_counts(normalize=True).iloc[0] < 0.01:
                out.append(c)
    return out


def trial(
    src: dict[str, pd.DataFrame], rng: np.random.Generator, n: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random split of real rows into two samples of ``n`` (each source drawn independently)."""
    ref_parts, cur_parts = [], []
    for df in src.values():
        pos = rng.choice(len(df), 2 * n, replace=False)
        ref_parts.append(df.iloc[pos[:n]].reset_index(drop=True))
        cur_parts.append(df.iloc[pos[n:]].reset_index(drop=True))
    return pd.concat(ref_parts, axis=1), pd.concat(cur_parts, axis=1)


def tripwire_decision(ref: pd.DataFrame, cur: pd.DataFrame, **kw: Any) -> dict[str, Any]:
    import tripwire

    report = tripwire.drift(ref, cur, **kw)
    summary = report.by_check("drift.dataset")[0]
    tests = summary.evidence["decision"]["tests"]
    return {
        "dataset": summary.sev.value != "info",
        "columns": sorted(
            {
                c
                for f in report.by_check("drift.columns")
                if f.sev.value != "info"
                for c in f.columns
            }
        ),
        "p_values": {
            t["column"]: t["p_value"]
            for t in tests
            if t["method"] not in ("missing_rate", "unseen")
        },
        "sensitivity": summary.evidence["sensitivity"]["columns"],
    }


def run_peer_trials(folder: Path, tool: str) -> list[dict[str, Any]]:
    out = folder / f"{tool}.json"
    subprocess.run(
        [
            PEERS_PY,
            str(ROOT / "benchmarks" / "drift_peers.py"),
            "trials",
            str(folder),
            tool,
            str(out),
        ],
        check=True,
        env=ENV,
    )
    return json.loads(out.read_text())


def calibration(trials: int, n: int = 5000, shifted: int = 2, delta: float = 0.1) -> dict[str, Any]:
    """False alarms over ``trials`` clean random splits, power on the same splits with a
    ``delta``-SD mean shift planted in ``shifted`` continuous columns of current."""
    src = sources()
    eligible = continuous(src)
    columns = [c for df in src.values() for c in df.columns]
    rng = np.random.default_rng(2026)
    results: dict[str, Any] = {
        "trials": trials,
        "rows_per_side": n,
        "columns": columns,
        "eligible": eligible,
    }
    with tempfile.TemporaryDirectory() as tmp:
        null_dir, alt_dir = Path(tmp, "null"), Path(tmp, "alt")
        null_dir.mkdir()
        alt_dir.mkdir()
        planted = []
        for i in range(trials):
            ref, cur = trial(src, rng, n)
            ref.to_csv(null_dir / f"trial_{i:04d}_ref.csv", index=False)
            cur.to_csv(null_dir / f"trial_{i:04d}_cur.csv", index=False)
            moved = cur.copy()
            chosen = sorted(rng.choice(eligible, shifted, replace=False).tolist())
            for c in chosen:
                moved[c] = moved[c] + delta * ref[c].std()
            planted.append(chosen)
            ref.to_csv(alt_dir / f"trial_{i:04d}_ref.csv", index=False)
            moved.to_csv(alt_dir / f"trial_{i:04d}_cur.csv", index=False)
        tools: dict[str, dict[str, list[dict[str, Any]]]] = {}
        t0 = time.perf_counter()
        rows = {"null": [], "alt": []}
        for kind, folder in (("null", null_dir), ("alt", alt_dir)):
            for i in range(trials):
                ref = pd.read_csv(folder / f"trial_{i:04d}_ref.csv")
                cur = pd.read_csv(folder / f"trial_{i:04d}_cur.csv")
                s = time.perf_counter()
                r = tripwire_decision(ref, cur)
                r["seconds"] = time.perf_counter() - s
                r.pop("sensitivity")
                rows[kind].append(r)
        tools["tripwire"] = rows
        print(f"tripwire trials done in {time.perf_counter() - t0:.0f}s", flush=True)
        for tool in PEERS:
            t0 = time.perf_counter()
            tools[tool] = {
                kind: run_peer_trials(folder, tool)
                for kind, folder in (("null", null_dir), ("alt", alt_dir))
            }
            print(f"{tool} trials done in {time.perf_counter() - t0:.0f}s", flush=True)
    summary = {}
    for tool, rows in tools.items():
        null, alt = rows["null"], rows["alt"]
        fa = float(np.mean([r["dataset"] for r in null]))
        power = float(np.mean([r["dataset"] for r in alt]))
        col_fa = {c: float(np.mean([c in r["columns"] for r in null])) for c in columns}
        hit = [len(set(r["columns"]) & set(p)) / len(p) for r, p in zip(alt, planted)]
        wrong = [len(set(r["columns"]) - set(p)) > 0 for r, p in zip(alt, planted)]
        summary[tool] = {
            "false_alarm_rate": fa,
            "false_alarm_ci": wilson(int(round(fa * trials)), trials),
            "power": power,
            "power_ci": wilson(int(round(power * trials)), trials),
            "planted_columns_found": float(np.mean(hit)),
            "trials_with_a_wrong_column": float(np.mean(wrong)),
            "column_false_alarm_mean": float(np.mean(list(col_fa.values()))),
            "column_false_alarm_max": float(max(col_fa.values())),
            "seconds_per_comparison": float(np.median([r["seconds"] for r in null + alt])),
        }
    # per-column calibration of tripwire's own tests: unadjusted p < 0.05 under no drift
    tw_null = tools["tripwire"]["null"]
    summary["tripwire"]["column_p_below_005"] = {
        c: float(np.mean([r["p_values"].get(c, 1.0) < 0.05 for r in tw_null])) for c in columns
    }
    summary["tripwire"]["c2st_p_below_005"] = float(
        np.mean([r["p_values"].get("(all features)", 1.0) < 0.05 for r in tw_null])
    )
    results["tools"] = summary
    return results


def c2st_calibration(trials: int, n: int = 5000) -> dict[str, Any]:
    """The domain classifier's p-value on clean random splits: its share below each level
    should be that level (the held-out Mann-Whitney test is exact under no shift)."""
    from scipy import stats

    from tripwire.stats.c2st import classifier_two_sample_test

    src = sources()
    rng = np.random.default_rng(4242)
    p_values, aucs = [], []
    for i in range(trials):
        ref, cur = trial(src, rng, n)
        r = classifier_two_sample_test(
            ref.to_numpy(dtype=float),
            cur.to_numpy(dtype=float),
            feature_names=list(ref.columns),
            drivers=False,
            random_state=i,
        )
        p_values.append(r.p_value)
        aucs.append(r.auc)
    p = np.array(p_values)
    levels = (0.01, 0.05, 0.1)
    # the full report again on the very clean splits of the calibration table (same seed and
    # the same draws), with tripwire as it is now
    rng = np.random.default_rng(2026)
    eligible = continuous(src)
    same = []
    for _ in range(min(trials, 200)):
        ref, cur = trial(src, rng, n)
        rng.choice(eligible, 2, replace=False)  # the planted columns drawn there
        r = tripwire_decision(ref, cur)
        same.append((r["dataset"], r["p_values"].get("(all features)", 1.0)))
    k_dataset = sum(d for d, _ in same)
    k_c2st = sum(q < 0.05 for _, q in same)
    # and on fresh clean splits through the full report (its encoder, its default seed)
    rng = np.random.default_rng(99)
    fresh = []
    for _ in range(300):
        ref, cur = trial(src, rng, n)
        r = tripwire_decision(ref, cur)
        fresh.append((r["dataset"], r["p_values"].get("(all features)", 1.0)))
    pf = np.array([q for _, q in fresh])
    return {
        "fresh_splits": {
            "trials": len(fresh),
            "dataset_false_alarms": int(sum(d for d, _ in fresh)),
            "c2st_p_below_005": int(np.sum(pf < 0.05)),
            "c2st_p_below_005_ci": wilson(int(np.sum(pf < 0.05)), len(fresh)),
            "c2st_p_below_001": int(np.sum(pf < 0.01)),
            "uniform_ks_pvalue": float(stats.kstest(pf, "uniform").pvalue),
        },
        "same_splits": {
            "trials": len(same),
            "dataset_false_alarms": k_dataset,
            "dataset_false_alarm_ci": wilson(k_dataset, len(same)),
            "c2st_p_below_005": k_c2st,
            "c2st_p_below_005_ci": wilson(k_c2st, len(same)),
        },
        "trials": trials,
        "rows_per_side": n,
        "below": {
            str(a): {"rate": float(np.mean(p < a)), "ci": wilson(int(np.sum(p < a)), trials)}
            for a in levels
        },
        "uniform_ks_pvalue": float(stats.kstest(p, "uniform").pvalue),
        "auc_mean": float(np.mean(aucs)),
        "auc_sd": float(np.std(aucs)),
        "p_values": p.tolist(),
    }


def wilson(k: int, n: int) -> list[float]:
    from tripwire.stats.performance import wilson as w

    return [round(v, 4) for v in w(k, n)]


# ---------------------------------------------------------------------------------------
# Sensitivity: does a shift of the reported size get detected 80 % of the time?
# ---------------------------------------------------------------------------------------
def sensitivity(trials: int = 60, n: int = 5000) -> dict[str, Any]:
    src = sources()
    eligible = continuous(src)
    rng = np.random.default_rng(7)
    ref, cur = trial(src, rng, n)
    reported = {
        s["column"]: s["mean_shift_sd"]
        for s in tripwire_decision(ref, cur)["sensitivity"]
        if s.get("mean_shift_sd") is not None
    }
    picks = [
        c
        for c in ("median_income", "nswdemand", "total_rooms", "latitude", "duration")
        if c in eligible
    ]
    out = {}
    for col in picks:
        delta = reported[col]
        found = 0
        for _ in range(trials):
            r, c = trial(src, rng, n)
            c[col] = c[col] + delta * r[col].std()
            found += col in tripwire_decision(r, c)["columns"]
        out[col] = {
            "reported_mean_shift_sd": delta,
            "detection_rate": found / trials,
            "trials": trials,
        }
        print(col, out[col], flush=True)
    return {"rows_per_side": n, "target_power": 0.8, "columns": out}


# ---------------------------------------------------------------------------------------
# Performance estimation under covariate shift (CBPE) against realized accuracy
# ---------------------------------------------------------------------------------------
SELECTIONS = {
    "age > 40": lambda d: d["age"] > 40,
    "age < 30": lambda d: d["age"] < 30,
    "education_num >= 13": lambda d: d["education_num"] >= 13,
    "sex == Female": lambda d: d["sex"] == "Female",
    "hours_per_week > 45": lambda d: d["hours_per_week"] > 45,
    "never married": lambda d: d["marital_status"] == "Never-married",
    "self-employed": lambda d: d["workclass"].astype(str).str.startswith("Self-emp"),
    "not United-States": lambda d: d["native_country"] != "United-States",
}


def cbpe(seeds: int = 5) -> dict[str, Any]:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    import tripwire

    df = pd.concat([realdata.adult("train"), realdata.adult("test")], ignore_index=True)
    X = df.drop(columns="income")
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    rows = []
    for seed in range(seeds):
        perm = np.random.default_rng(seed).permutation(len(df))
        model = make_pipeline(
            make_column_transformer(
                (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats),
                remainder="passthrough",
            ),
            HistGradientBoostingClassifier(max_iter=150, random_state=seed),
        )
        model.fit(X.iloc[perm[:15000]], df["income"].iloc[perm[:15000]])
        ref = df.iloc[perm[15000:25000]].reset_index(drop=True)
        pool = df.iloc[perm[25000:]].reset_index(drop=True)
        for name, select in SELECTIONS.items():
            cur = pool[select(pool).to_numpy()].iloc[:5000].reset_index(drop=True)
            realized = float(np.mean(model.predict(cur.drop(columns="income")) == cur["income"]))
            report = tripwire.drift(
                ref,
                cur.drop(columns="income"),
                target="income",
                model=model,
                checks=["drift.performance"],
            )
            ev = report.by_check("drift.performance")[0].evidence
            lo, hi = ev["interval"]
            rows.append(
                {
                    "seed": seed,
                    "shift": name,
                    "rows": len(cur),
                    "reference_accuracy": ev["accuracy_reference"],
                    "estimated": ev["accuracy_estimated"],
                    "low": lo,
                    "high": hi,
                    "realized": realized,
                    "error": ev["accuracy_estimated"] - realized,
                    "covered": lo <= realized <= hi,
                }
            )
            print(rows[-1], flush=True)
    err = np.array([r["error"] for r in rows])
    return {
        "scenarios": len(rows),
        "mean_abs_error": float(np.mean(np.abs(err))),
        "max_abs_error": float(np.max(np.abs(err))),
        "within_2_points": float(np.mean(np.abs(err) <= 0.02)),
        "coverage": float(np.mean([r["covered"] for r in rows])),
        "mean_interval_width": float(np.mean([r["high"] - r["low"] for r in rows])),
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------
# Speed and memory on 1M rows x 25 columns per side
# ---------------------------------------------------------------------------------------
def big_table(n: int, seed: int) -> pd.DataFrame:
    """``n`` rows resampled from real data: bank marketing's 16 features and electricity's 9
    columns (15 numeric, 10 categorical)."""
    rng = np.random.default_rng(seed)
    bank = realdata.bank_full().drop(columns=["y"])
    elec = realdata.elec2().rename(columns={"day": "weekday", "class": "price_move"})
    bi, ei = rng.integers(0, len(bank), n), rng.integers(0, len(elec), n)
    return pd.concat(
        [bank.iloc[bi].reset_index(drop=True), elec.iloc[ei].reset_index(drop=True)], axis=1
    )


def run_tripwire(ref_path: str, cur_path: str) -> None:
    """One timed tripwire run in this process (called in a subprocess by ``speed``)."""
    t_start = time.perf_counter()
    import scipy.stats  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    import tripwire
    import tripwire.checks.drift

    t_import = time.perf_counter() - t_start
    ref = pd.read_csv(ref_path)
    cur = pd.read_csv(cur_path)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    report = tripwire.drift(ref, cur)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    drifted = {
        c for f in report.by_check("drift.columns") if f.sev.value != "info" for c in f.columns
    }
    print(
        json.dumps(
            {
                "tool": "tripwire",
                "seconds": seconds,
                "cpu_seconds": cpu,
                "import_seconds": t_import,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_after_load_mb": loaded,
                "drifted_columns": len(drifted),
                "dataset": report.by_check("drift.dataset")[0].sev.value != "info",
                "checks": {c.check: round(c.seconds, 3) for c in report.checks},
            }
        )
    )


def speed(
    rows: int, repeats: int = 3, tools: tuple[str, ...] = ("tripwire", *PEERS)
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp, "ref.csv"), Path(tmp, "cur.csv")
        ref, cur = big_table(rows, 1), big_table(rows, 2)
        cur["balance"] = cur["balance"] + 0.1 * ref["balance"].std()  # two real shifts
        cur["nswdemand"] = cur["nswdemand"] * 1.05
        ref.to_csv(ref_path, index=False)
        cur.to_csv(cur_path, index=False)
        del ref, cur
        runs: dict[str, list[dict[str, Any]]] = {}
        for rep in range(repeats):
            for tool in tools:
                if tool == "evidently" and rep > 0:
                    continue  # minutes per run: once is enough
                cmd = (
                    [sys.executable, __file__, "run-tripwire", str(ref_path), str(cur_path)]
                    if tool == "tripwire"
                    else [
                        PEERS_PY,
                        str(ROOT / "benchmarks" / "drift_peers.py"),
                        "speed",
                        str(ref_path),
                        str(cur_path),
                        tool,
                    ]
                )
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                res = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=3600)
                wall = time.perf_counter() - t0
                if res.returncode != 0:
                    print(tool, "failed:", res.stderr[-2000:], flush=True)
                    runs.setdefault(tool, []).append({"error": res.stderr[-500:]})
                    continue
                out = json.loads(res.stdout.strip().splitlines()[-1])
                out["process_wall_seconds"] = wall
                out["load_before"] = load
                out["repeat"] = rep
                runs.setdefault(tool, []).append(out)
                print(out, flush=True)
    summary = {}
    for tool, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        if not ok:
            summary[tool] = {"error": rs[0]["error"]}
            continue
        summary[tool] = {
            "seconds": float(np.median([r["seconds"] for r in ok])),
            "cpu_seconds": float(np.median([r.get("cpu_seconds", np.nan) for r in ok])),
            "load": [min(r["load_before"] for r in ok), max(r["load_before"] for r in ok)],
            "import_seconds": float(np.median([r["import_seconds"] for r in ok])),
            "process_wall_seconds": float(np.median([r["process_wall_seconds"] for r in ok])),
            "peak_rss_mb": float(max(r["peak_rss_mb"] for r in ok)),
            "rss_after_load_mb": float(max(r["rss_after_load_mb"] for r in ok)),
            "runs": len(ok),
            "drifted_columns": ok[0]["drifted_columns"],
            "dataset_drift": ok[0]["dataset"],
        }
    return {"rows_per_side": rows, "columns": 25, "tools": summary, "raw": runs}


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
def versions() -> dict[str, Any]:
    from importlib.metadata import version

    import tripwire

    peers = json.loads(
        subprocess.run(
            [PEERS_PY, str(ROOT / "benchmarks" / "drift_peers.py"), "versions"],
            capture_output=True,
            text=True,
            env=ENV,
        ).stdout
    )
    return {
        "tripwire": tripwire.__version__,
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "pandas": version("pandas"),
        "scipy": version("scipy"),
        "scikit-learn": version("scikit-learn"),
        "peers": peers,
        "cpus": os.cpu_count(),
    }


def _load(name: str) -> dict[str, Any] | None:
    p = OUT / f"drift-{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _when(res: dict[str, Any]) -> list[str]:
    meta = _load("meta") or {}
    command = res.get("command") or meta.get("command", "")
    date = res.get("date") or meta.get("date", "")
    return [f"Command: `{command}` ({date}; this part took {res['seconds'] / 60:.0f} min).", ""]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _c2st_pooled(cc: dict[str, Any]) -> str:
    from scipy import stats

    same = cc["same_splits"]
    k = (
        int(round(cc["below"]["0.05"]["rate"] * cc["trials"]))
        + same["c2st_p_below_005"]
        + cc["fresh_splits"]["c2st_p_below_005"]
    )
    n = cc["trials"] + same["trials"] + cc["fresh_splits"]["trials"]
    chance = float(stats.binom.sf(same["c2st_p_below_005"] - 1, same["trials"], 0.05))
    return (
        f"Pooled over the {n} clean trials the domain classifier's p < 0.05 in {_pct(k / n)} "
        f"of them; the {_pct(same['c2st_p_below_005'] / same['trials'])} on the calibration "
        f"table's splits is within chance of 5% (one-sided binomial p = {chance:.2f})."
    )


def markdown() -> str:
    meta = _load("meta") or {}
    lines = ["## Drift (failure mode 4)", ""]
    if meta:
        v = meta["versions"]
        peers = v.get("peers", {})
        lines += [
            f"Measured on {v['cpus']} shared cores (other agents were running, so absolute times "
            "are pessimistic; ratios are same-machine, same-run); each part names its command "
            "and date. tripwire "
            f"{v['tripwire']} (numpy {v['numpy']}, pandas {v['pandas']}, scikit-learn "
            f"{v['scikit-learn']}); Evidently {peers.get('evidently')}, alibi-detect "
            f"{peers.get('alibi-detect')}, NannyML {peers.get('nannyml')} (pandas "
            f"{peers.get('pandas')}), each with its documented defaults "
            "(see benchmarks/drift_peers.py).",
            "",
        ]
    cal = _load("calibration")
    if cal:
        lines += [
            f"### False alarms and power ({cal['trials']} trials, {cal['rows_per_side']:,} rows per side, 20 real numeric columns)",
            "",
            "Each trial draws two disjoint random samples of real rows (California housing, "
            "electricity, bike sharing, bank marketing: 20 numeric columns). *False alarm*: the "
            "tool's dataset-level verdict says drift on a clean split. *Power*: the same splits "
            "with a 0.1-SD mean shift added to 2 randomly chosen continuous columns of current. "
            "95% Wilson intervals in brackets.",
            "",
            *_when(cal),
            "| tool | dataset false-alarm rate | power (0.1 SD in 2 of 20) | planted columns named | per-column false alarms (mean / max) | s per comparison |",
            "|---|---|---|---|---|---|",
        ]
        for tool, s in cal["tools"].items():
            lines.append(
                f"| {tool} | {_pct(s['false_alarm_rate'])} [{_pct(s['false_alarm_ci'][0])}, {_pct(s['false_alarm_ci'][1])}] "
                f"| {_pct(s['power'])} [{_pct(s['power_ci'][0])}, {_pct(s['power_ci'][1])}] "
                f"| {_pct(s['planted_columns_found'])} | {_pct(s['column_false_alarm_mean'])} / {_pct(s['column_false_alarm_max'])} "
                f"| {s['seconds_per_comparison']:.2f} |"
            )
        tw = cal["tools"]["tripwire"]
        per = tw["column_p_below_005"]
        lines += [
            "",
            "tripwire's per-column tests are calibrated: the share of clean trials with an "
            f"unadjusted p < 0.05 averages {_pct(float(np.mean(list(per.values()))))} across the 20 "
            f"columns (from {_pct(min(per.values()))} to {_pct(max(per.values()))}; discrete "
            "columns are conservative), and the domain classifier's p < 0.05 in "
            f"{_pct(tw['c2st_p_below_005'])} of clean trials. The dataset decision applies "
            "Benjamini-Hochberg over all column tests and the domain classifier.",
            "",
        ]
    cc = _load("c2st")
    if cc:
        b = cc["below"]
        lines += [
            f"### Domain classifier (C2ST) p-values on {cc['trials']} clean splits",
            "",
            "The same kind of clean random splits (20 real numeric columns, "
            f"{cc['rows_per_side']:,} rows per side, a new seed for the classifier's fit/test "
            "split in each trial); the p-value is the Mann-Whitney test of held-out scores, "
            "exact under no shift whatever the classifier learned. Share of trials below each "
            "level, with 95% Wilson intervals:",
            "",
            "| level | share of clean trials below it |",
            "|---|---|",
            *[
                f"| {a} | {_pct(v['rate'])} [{_pct(v['ci'][0])}, {_pct(v['ci'][1])}] |"
                for a, v in b.items()
            ],
            "",
            f"Kolmogorov-Smirnov test of the p-values against uniform: p = "
            f"{cc['uniform_ks_pvalue']:.2f}. Held-out AUC {cc['auc_mean']:.3f} on average "
            f"(SD {cc['auc_sd']:.3f}).",
            "",
            *(
                [
                    f"The full report rerun on the {cc['same_splits']['trials']} clean splits of "
                    "the false-alarm table above (same seed, same splits, tripwire as of this "
                    f"run): dataset-level false alarms {cc['same_splits']['dataset_false_alarms']} "
                    f"of {cc['same_splits']['trials']} "
                    f"({_pct(cc['same_splits']['dataset_false_alarms'] / cc['same_splits']['trials'])}, "
                    f"95% interval {_pct(cc['same_splits']['dataset_false_alarm_ci'][0])}-"
                    f"{_pct(cc['same_splits']['dataset_false_alarm_ci'][1])}); domain classifier "
                    f"p < 0.05 in {cc['same_splits']['c2st_p_below_005']} "
                    f"({_pct(cc['same_splits']['c2st_p_below_005'] / cc['same_splits']['trials'])}).",
                    "",
                ]
                if "same_splits" in cc
                else []
            ),
            *(
                [
                    f"And through the full report on {cc['fresh_splits']['trials']} fresh clean "
                    "splits (another seed): domain classifier p < 0.05 in "
                    f"{cc['fresh_splits']['c2st_p_below_005']} "
                    f"({_pct(cc['fresh_splits']['c2st_p_below_005'] / cc['fresh_splits']['trials'])}, "
                    f"95% interval {_pct(cc['fresh_splits']['c2st_p_below_005_ci'][0])}-"
                    f"{_pct(cc['fresh_splits']['c2st_p_below_005_ci'][1])}), p < 0.01 in "
                    f"{cc['fresh_splits']['c2st_p_below_001']}, uniformity p = "
                    f"{cc['fresh_splits']['uniform_ks_pvalue']:.2f}; dataset-level false alarms "
                    f"{cc['fresh_splits']['dataset_false_alarms']} of "
                    f"{cc['fresh_splits']['trials']}. {_c2st_pooled(cc)}",
                    "",
                ]
                if "fresh_splits" in cc
                else []
            ),
            *_when(cc),
        ]
    sens = _load("sensitivity")
    if sens:
        lines += [
            "### Sensitivity: the reported smallest detectable shift, injected",
            "",
            f"The report states, per column, the mean shift (in SD) it would detect with 80% "
            f"probability at the sample sizes ({sens['rows_per_side']:,} per side). Injecting "
            "exactly that shift into fresh real splits:",
            "",
            *_when(sens),
            "| column | reported smallest detectable shift | detection rate when injected |",
            "|---|---|---|",
        ]
        for col, s in sens["columns"].items():
            lines.append(
                f"| {col} | {s['reported_mean_shift_sd']:.3f} SD | {_pct(s['detection_rate'])} ({s['trials']} trials) |"
            )
        lines.append("")
    cb = _load("cbpe")
    if cb:
        lines += [
            f"### Performance without labels (CBPE) under covariate shift ({cb['scenarios']} scenarios)",
            "",
            "UCI Adult (train + test), a HistGradientBoosting pipeline trained on 15,000 rows, "
            "10,000 labelled held-out reference rows, and current data selected by a feature "
            "(8 selections x 5 seeds; P(y|x) unchanged). Estimated accuracy from `tripwire drift` "
            "without current labels against the accuracy realized on those labels:",
            "",
            f"- mean absolute error {100 * cb['mean_abs_error']:.2f} points, max {100 * cb['max_abs_error']:.2f} points; "
            f"{_pct(cb['within_2_points'])} of scenarios within 2 points;",
            f"- the 95% interval covers the realized accuracy in {_pct(cb['coverage'])} of scenarios "
            f"(mean width {100 * cb['mean_interval_width']:.1f} points).",
            "",
            *_when(cb),
            "| shift | rows | reference acc. | estimated [95% interval] | realized |",
            "|---|---|---|---|---|",
        ]
        for r in [r for r in cb["rows"] if r["seed"] == 0]:
            lines.append(
                f"| {r['shift']} | {r['rows']:,} | {_pct(r['reference_accuracy'])} | {_pct(r['estimated'])} "
                f"[{_pct(r['low'])}, {_pct(r['high'])}] | {_pct(r['realized'])} |"
            )
        lines += ["", "(seed 0 shown; all rows in benchmarks/results/drift-cbpe.json)", ""]
    sp = _load("speed")
    if sp:
        tools = sp["tools"]
        tw = tools.get("tripwire", {})
        lines += [
            f"### Speed and memory: {sp['rows_per_side']:,} rows x {sp['columns']} columns per side",
            "",
            "Rows resampled from bank marketing (16 features) and electricity (9 columns): 15 "
            "numeric, 10 categorical; two columns shifted. Each tool runs in its own process: "
            "read both CSV files, then one timed call producing the full default report "
            "(tripwire: column tests, missing rates, unseen categories, domain classifier on "
            "5,000 rows per side, sensitivity). Imports are timed separately. Peak memory is the "
            "process's peak RSS (including the loaded data; 'after load' is the RSS once the data "
            "is in memory, pandas 3 string columns are smaller than pandas 2 objects). Times are "
            "medians over the repeats (Evidently once); CPU time is the process's user + system "
            "time during the call (all threads), which other agents' load inflates less than "
            "wall time. The 1-minute load average before each run is given.",
            "",
            *_when(sp),
            "| tool | report time | tripwire faster by | CPU time | faster by (CPU) | import time | peak RSS | RSS after load | columns flagged | runs | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for tool in ("tripwire", *PEERS):
            s = tools.get(tool)
            if not s:
                continue
            if "error" in s:
                lines.append(f"| {tool} | failed: {s['error'][:80]} | | | | | |")
                continue
            ratio = s["seconds"] / tw["seconds"] if tw.get("seconds") else float("nan")
            cpu = s.get("cpu_seconds", float("nan"))
            cpu_ratio = cpu / tw["cpu_seconds"] if tw.get("cpu_seconds") else float("nan")
            load = s.get("load", [float("nan")] * 2)
            same = "—" if tool == "tripwire" else None
            lines.append(
                f"| {tool} | {s['seconds']:.1f} s | {same or f'{ratio:.1f}x'} | {cpu:.1f} s | "
                f"{same or f'{cpu_ratio:.1f}x'} | {s['import_seconds']:.1f} s | "
                f"{s['peak_rss_mb']:,.0f} MB | {s['rss_after_load_mb']:,.0f} MB | "
                f"{s['drifted_columns']} | {s['runs']} | {load[0]:.1f}-{load[1]:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_results() -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text()
    start = text.index("## Drift (failure mode 4)")
    end = text.index("\n## ", start + 5)
    path.write_text(text[:start] + markdown().rstrip() + "\n" + text[end:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "what",
        choices=[
            "all",
            "calibration",
            "c2st",
            "sensitivity",
            "cbpe",
            "speed",
            "report",
            "run-tripwire",
        ],
    )
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--tools", default="tripwire," + ",".join(PEERS))
    args = ap.parse_args()
    if args.what == "run-tripwire":
        run_tripwire(*args.paths)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    todo = (
        ["cbpe", "sensitivity", "speed", "c2st", "calibration"]
        if args.what == "all"
        else [args.what]
    )
    if args.what != "report":
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": "python benchmarks/drift.py " + " ".join(sys.argv[1:]),
            "versions": versions(),
        }
        (OUT / "drift-meta.json").write_text(json.dumps(meta, indent=1))
    else:
        write_results()
    for what in todo:
        if what == "report":
            break
        t0 = time.perf_counter()
        res = {
            "calibration": lambda: calibration(args.trials),
            "c2st": lambda: c2st_calibration(args.trials),
            "sensitivity": lambda: sensitivity(),
            "cbpe": lambda: cbpe(),
            "speed": lambda: speed(args.rows, tools=tuple(args.tools.split(","))),
        }[what]()
        res["seconds"] = time.perf_counter() - t0
        res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        res["command"] = (
            f"python benchmarks/drift.py {what}"
            + (f" --trials {args.trials}" if what in ("calibration", "c2st") else "")
            + (f" --rows {args.rows}" if what == "speed" else "")
        )
        (OUT / f"drift-{what}.json").write_text(json.dumps(res, indent=1, default=float))
        print(f"{what} done in {res['seconds']:.0f}s", flush=True)
        write_results()
    print(markdown())


if __name__ == "__main__":
    main()
