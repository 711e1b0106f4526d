"""Robustness benchmarks: slice-search speed (against brute force and SliceLine), planted
weak-slice recall and false alarms over clean random splits of UCI Adult (classification)
and California housing (regression).

    python benchmarks/robustness.py all [--splits 10]
    python benchmarks/robustness.py speed|brute|brute_big|regression|alarms

SliceLine is the `sliceline` package, run by subprocess in the Python named by
TRIPWIRE_PEERS_PYTHON (a venv with `pip install sliceline`); without it the comparison
records the error and the rest runs.

Results go to benchmarks/results/robustness.json (parts run separately are merged); the
Robustness section of benchmarks/RESULTS.md is written from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
OUT = ROOT / "benchmarks" / "results"


def big_table(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Adult resampled to ``rows`` rows plus numeric columns up to 20 features; errors with a
    planted weak slice (age > 50 and sex = Female) on a 12 % base rate."""
    df = realdata.adult("train").drop(columns="income")
    rng = np.random.default_rng(seed)
    X = df.iloc[rng.integers(0, len(df), rows)].reset_index(drop=True)
    for i in range(20 - X.shape[1]):
        X[f"noise_{i}"] = rng.normal(size=rows)
    member = ((X["age"] > 50) & (X["sex"].str.strip() == "Female")).to_numpy()
    err = (rng.random(rows) < np.where(member, 0.4, 0.12)).astype(float)
    return X, err


def speed(rows: int, peer_rows: int = 10_000) -> dict[str, Any]:
    from tripwire.stats.slices import encode, search

    X, err = big_table(rows)
    c0 = time.process_time()
    t0 = time.perf_counter()
    enc = encode(X)
    t1 = time.perf_counter()
    res = search(enc, err, max_level=3)
    t2 = time.perf_counter()
    cpu = time.process_time() - c0
    top = res.slices[0].rule if res.slices else None
    out = {
        "cpu_s": cpu,
        "rows": rows,
        "features": X.shape[1],
        "conditions": enc.matrix.shape[1],
        "encode_s": t1 - t0,
        "search_s": t2 - t1,
        "enumerated": res.enumerated,
        "evaluated": res.evaluated,
        "top_slice": top,
    }
    out["sliceline"] = sliceline_peer(enc, err)
    # side by side on a size the sliceline package can hold in memory
    Xs, es = big_table(peer_rows)
    t0 = time.perf_counter()
    enc_s = encode(Xs)
    res_s = search(enc_s, es, max_level=3)
    out["small"] = {
        "rows": peer_rows,
        "tripwire_s": time.perf_counter() - t0,
        "tripwire_top": res_s.slices[0].rule if res_s.slices else None,
        "sliceline": _decode(sliceline_peer(enc_s, es), enc_s),
        "conditions": enc_s.matrix.shape[1],
    }
    return out


def _decode(peer: dict[str, Any], enc: Any) -> dict[str, Any]:
    """SliceLine's top slice (a code per kept feature, None = any) as condition text."""
    top = peer.get("top")
    if top:
        codes = [c for c in top[0] if c is not None]
        peer["top_rule"] = " and ".join(enc.conditions[int(c) - 1].text for c in codes)
    return peer


def sliceline_peer(enc: Any, err: np.ndarray) -> dict[str, Any]:
    """SliceLine (the `sliceline` package) on the same one-hot condition matrix."""
    with tempfile.TemporaryDirectory() as tmp:
        codes = np.full((enc.matrix.shape[0], len(enc.features)), -1, dtype=np.int64)
        coo = enc.matrix.tocoo()
        codes[coo.row, enc.feature_of[coo.col]] = coo.col
        keep = [j for j in range(codes.shape[1]) if (codes[:, j] >= 0).any()]
        codes = codes[:, keep] + 1  # sliceline wants positive integer codes, 0 = none
        codes[codes == 0] = 0
        np.save(f"{tmp}/X.npy", codes)
        np.save(f"{tmp}/e.npy", err)
        script = f"""
import json, time, numpy as np
from sliceline.slicefinder import Slicefinder
X = np.load("{tmp}/X.npy"); X = np.where(X <= 0, 1_000_000, X); e = np.load("{tmp}/e.npy")
t = time.perf_counter()
sf = Slicefinder(alpha=0.95, k=5, max_l=3, min_sup={max(30, int(0.01 * len(err)))}, verbose=False)
sf.fit(X, e)
print(json.dumps({{"seconds": time.perf_counter() - t, "top": np.asarray(sf.top_slices_).tolist()[:1]}}))
"""
        try:
            done = subprocess.run(
                [PEERS_PY, "-c", script], capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"error": str(exc)[:200]}
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1][:300] if done.stderr else "?"}
        return json.loads(done.stdout.strip().splitlines()[-1])


def brute(rows: int = 5000) -> dict[str, Any]:
    from tripwire.stats.slices import brute_force, encode, search

    X, err = big_table(rows, seed=1)
    X = X[["age", "sex", "race", "education_num", "hours_per_week", "workclass", "relationship"]]
    enc = encode(X)
    t0 = time.perf_counter()
    ref = brute_force(enc, err, max_level=3, min_support=30)
    t1 = time.perf_counter()
    res = search(enc, err, min_support=30, alpha=1.0, min_lift=1.25, top_k=10**6)
    t2 = time.perf_counter()
    overall = err.mean()
    qualifying = {k for k, (n, e) in ref.items() if e / n >= 1.25 * overall}
    got = {s.conditions for s in res.all_candidates}
    return {
        "rows": rows,
        "features": X.shape[1],
        "brute_force_s": t1 - t0,
        "lattice_s": t2 - t1,
        "brute_force_slices": len(ref),
        "qualifying": len(qualifying),
        "missed_by_lattice": len(qualifying - got),
    }


def brute_big(rows: int) -> dict[str, Any]:
    """Brute-force enumeration against the lattice on the full speed table (rows x 20)."""
    from tripwire.stats.slices import brute_force, encode, search

    X, err = big_table(rows)
    enc = encode(X)
    support = max(30, int(0.01 * rows))
    c0, t0 = time.process_time(), time.perf_counter()
    ref = brute_force(enc, err, max_level=3, min_support=support)
    c1, t1 = time.process_time(), time.perf_counter()
    res = search(enc, err, min_support=support, alpha=1.0, min_lift=1.25, top_k=10**6)
    c2, t2 = time.process_time(), time.perf_counter()
    qualifying = {k for k, (n, e) in ref.items() if e / n >= 1.25 * err.mean()}
    got = {sl.conditions for sl in res.all_candidates}
    return {
        "rows": rows,
        "features": X.shape[1],
        "min_support": support,
        "brute_force_s": t1 - t0,
        "lattice_s": t2 - t1,
        "brute_force_cpu_s": c1 - c0,
        "lattice_cpu_s": c2 - c1,
        "brute_force_slices": len(ref),
        "qualifying": len(qualifying),
        "missed_by_lattice": len(qualifying - got),
    }


def _plant(te: pd.DataFrame, seed: int) -> pd.DataFrame:
    te = te.copy()
    rng = np.random.default_rng(seed)
    member = ((te["age"] > 45) & (te["sex"].str.strip() == "Female")).to_numpy()
    flip = member & (rng.random(len(te)) < 0.5)
    a, b = sorted(te["income"].unique())
    te.loc[flip, "income"] = np.where(te.loc[flip, "income"] == a, b, a)
    return te


def alarms(splits: int) -> dict[str, Any]:
    """Clean random splits: share with any warning; planted splits: share found on top."""
    import tripwire

    df = realdata.adult("train")
    clean_warn, found, times = [], [], []
    warned_by: dict[str, int] = {}
    for seed in range(splits):
        perm = np.random.default_rng(100 + seed).permutation(len(df))
        tr = df.iloc[perm[:6000]].reset_index(drop=True)
        te = df.iloc[perm[6000:9000]].reset_index(drop=True)
        t = time.perf_counter()
        rep = tripwire.audit(tr, te, target="income", checks=["robustness."])
        times.append(time.perf_counter() - t)
        bad = {f.check for f in rep.findings if f.sev.value != "info"}
        for c in bad:
            warned_by[c] = warned_by.get(c, 0) + 1
        clean_warn.append(bool(bad))
        rep = tripwire.audit(
            tr, _plant(te, seed), target="income", checks=["robustness.weak_slices"]
        )
        found.append(_recall(rep.by_check("robustness.weak_slices"), {"age", "sex"}))
    return {
        "splits": splits,
        "clean_splits_with_warning": int(sum(clean_warn)),
        "clean_warnings_by_check": warned_by,
        **_recall_counts(found),
        "seconds_per_audit": float(np.mean(times)),
    }


def _recall(findings: list[Any], planted: set[str]) -> dict[str, bool]:
    """How the planted slice shows: the top warning names exactly its columns, or at least
    them (plus a refining condition), or some warning names at least them."""
    warns = [f for f in findings if f.sev.value == "warning"]
    top = findings[0] if findings else None
    return {
        "top_exact": bool(top in warns and set(top.columns) == planted),
        "top_superset": bool(top in warns and planted <= set(top.columns)),
        "any_warning": any(planted <= set(f.columns) for f in warns),
    }


def _recall_counts(found: list[dict[str, bool]]) -> dict[str, int]:
    return {f"planted_{k}": int(sum(r[k] for r in found)) for k in found[0]} if found else {}


def alarms_regression(splits: int) -> dict[str, Any]:
    """California housing: clean splits with a weak-slice warning; a bias planted in test
    (+100,000 on old inland districts) found on top; a region made noisy in train and test
    (hard, not weak) left at info by the expected-error check."""
    import tripwire

    df = realdata.california()
    target = "median_house_value"
    clean_warn = noisy_warn = 0
    found: list[dict[str, bool]] = []
    for seed in range(splits):
        perm = np.random.default_rng(200 + seed).permutation(len(df))
        tr = df.iloc[perm[:5000]].reset_index(drop=True)
        te = df.iloc[perm[5000:8000]].reset_index(drop=True)
        chk = ["robustness.weak_slices"]
        rep = tripwire.audit(tr, te, target=target, checks=chk)
        clean_warn += any(f.sev.value != "info" for f in rep.findings)
        planted = te.copy()
        m = (
            (planted["housing_median_age"] > 40) & (planted["ocean_proximity"] == "INLAND")
        ).to_numpy()
        planted.loc[m, target] += 100_000
        rep = tripwire.audit(tr, planted, target=target, checks=chk)
        found.append(_recall(rep.findings, {"housing_median_age", "ocean_proximity"}))
        rng = np.random.default_rng(seed)
        trn, ten = tr.copy(), te.copy()
        for d in (trn, ten):
            old = (d["housing_median_age"] > 40).to_numpy()
            d.loc[old, target] += rng.normal(0, 120_000, old.sum())
        rep = tripwire.audit(trn, ten, target=target, checks=chk)
        noisy_warn += any(f.sev.value != "info" for f in rep.findings)
    return {
        "splits": splits,
        "clean_splits_with_warning": int(clean_warn),
        **_recall_counts(found),
        "noisy_region_splits_with_warning": int(noisy_warn),
    }


def write_results(res: dict[str, Any]) -> None:
    """Merge ``res`` into results/robustness.json (parts run separately keep the others).
    The Robustness section of benchmarks/RESULTS.md is written from it by hand, with the
    machine load of the run."""
    OUT.mkdir(parents=True, exist_ok=True)
    path_json = OUT / "robustness.json"
    if path_json.exists():
        res = {**json.loads(path_json.read_text()), **res}
    path_json.write_text(json.dumps(res, indent=2))


def main() -> None:
    import scipy

    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["all", "speed", "brute", "brute_big", "alarms", "regression"])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--peer-rows", type=int, default=10_000)
    a = ap.parse_args()
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "python": platform.python_version(),
        "scipy": scipy.__version__,
    }
    if a.part in ("all", "speed"):
        load = os.getloadavg()[0]
        res["speed"] = {**speed(a.rows, a.peer_rows), "load_1min_before": load}
        print(res["speed"])
    if a.part in ("all", "brute"):
        load = os.getloadavg()[0]
        res["brute"] = {**brute(), "load_1min_before": load}
        print(res["brute"])
    if a.part in ("all", "brute_big"):
        load = os.getloadavg()[0]
        res["brute_big"] = {**brute_big(a.rows), "load_1min_before": load}
        print(res["brute_big"], flush=True)
    if a.part in ("all", "regression"):
        load = os.getloadavg()[0]
        res["regression"] = {**alarms_regression(a.splits), "load_1min_before": load}
        print(res["regression"])
    if a.part in ("all", "alarms"):
        load = os.getloadavg()[0]
        res["alarms"] = {**alarms(a.splits), "load_1min_before": load}
        print(res["alarms"])
    write_results(res)


if __name__ == "__main__":
    main()
