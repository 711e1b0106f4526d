"""Peer drift tools for benchmarks/drift.py, run inside the peers' environment (/work/venv-peers).

This file imports no tripwire code. Each tool runs with its documented defaults for a
reference-vs-current comparison:

- Evidently: ``Report([DataDriftPreset()])``; a column drifts by its default per-column test
  (K-S or chi-squared p < 0.05 up to 1,000 rows, Wasserstein / Jensen-Shannon distance >= 0.1
  above), the dataset drifts when at least half of the columns do.
- alibi-detect: ``TabularDrift`` (K-S for numeric, chi-squared for categorical features,
  p < 0.05 after its default Bonferroni correction); categories are integer-coded first.
- NannyML: ``UnivariateDriftCalculator`` with its default methods (Jensen-Shannon) and
  thresholds (mean + 3 SD of the statistic over reference chunks); reference and current are
  cut into chunks of ``chunk_size`` rows; the dataset drifts when any column alerts in any
  current chunk.

Usage:
    python drift_peers.py trials DIR TOOL OUT.json     # every trial_*.csv pair in DIR
    python drift_peers.py speed REF CUR TOOL            # one timed run, JSON on stdout
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
TOOLS = ("evidently", "alibi", "nannyml")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(tool: str) -> None:
    """Import the tool (kept out of the timed run, as for tripwire)."""
    if tool == "evidently":
        import evidently  # noqa: F401
        from evidently.presets import DataDriftPreset  # noqa: F401
    elif tool == "alibi":
        from alibi_detect.cd import TabularDrift  # noqa: F401
    elif tool == "nannyml":
        import nannyml  # noqa: F401


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    drifted, dataset = [], False
    for m in snap.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("DriftedColumnsCount"):
            dataset = m["value"]["share"] >= cfg.get("drift_share", 0.5)
        elif cfg.get("type", "").endswith("ValueDrift"):
            method, thr, val = cfg.get("method", ""), cfg.get("threshold"), m["value"]
            hit = val < thr if "p_value" in method else val >= thr
            if hit:
                drifted.append(cfg["column"])
    return {"dataset": bool(dataset), "columns": drifted}


def run_alibi(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    from alibi_detect.cd import TabularDrift

    cols = list(ref.columns)
    X_ref = np.empty((len(ref), len(cols)), dtype=np.float64)
    X_cur = np.empty((len(cur), len(cols)), dtype=np.float64)
    cats = {}
    for j, c in enumerate(cols):
        if pd.api.types.is_numeric_dtype(ref[c]):
            X_ref[:, j] = ref[c].to_numpy(dtype=float)
            X_cur[:, j] = cur[c].to_numpy(dtype=float)
        else:
            codes, uniques = pd.factorize(ref[c])
            X_ref[:, j] = codes
            X_cur[:, j] = pd.Categorical(cur[c], categories=uniques).codes
            cats[j] = None
    cd = TabularDrift(X_ref, p_val=0.05, categories_per_feature=cats or None)
    pred = cd.predict(X_cur, drift_type="batch", return_p_val=True)["data"]
    threshold = pred["threshold"]
    p = np.asarray(pred["p_val"])
    return {
        "dataset": bool(pred["is_drift"]),
        "columns": [c for c, pv in zip(cols, p) if pv < threshold],
    }


def run_nannyml(ref: pd.DataFrame, cur: pd.DataFrame, chunk_size: int | None = None) -> dict:
    import nannyml as nml

    cols = list(ref.columns)
    if chunk_size is None:
        calc = nml.UnivariateDriftCalculator(column_names=cols)
    else:
        calc = nml.UnivariateDriftCalculator(column_names=cols, chunk_size=chunk_size)
    calc.fit(ref)
    df = calc.calculate(cur).filter(period="analysis").to_df()
    drifted = [
        c
        for c in cols
        for m in ("jensen_shannon",)
        if (c, m, "alert") in df.columns and bool(df[(c, m, "alert")].any())
    ]
    return {"dataset": bool(drifted), "columns": drifted}


RUN = {"evidently": run_evidently, "alibi": run_alibi, "nannyml": run_nannyml}


def trials(folder: Path, tool: str, out: Path) -> None:
    load(tool)
    results = []
    for ref_path in sorted(folder.glob("trial_*_ref.csv")):
        name = ref_path.name.replace("_ref.csv", "")
        ref = pd.read_csv(ref_path)
        cur = pd.read_csv(folder / f"{name}_cur.csv")
        t0 = time.perf_counter()
        if tool == "nannyml":
            res = run_nannyml(ref, cur, chunk_size=1000)
        else:
            res = RUN[tool](ref, cur)
        res["seconds"] = time.perf_counter() - t0
        res["trial"] = name
        results.append(res)
    out.write_text(json.dumps(results))


def speed(ref_path: str, cur_path: str, tool: str) -> None:
    t_start = time.perf_counter()
    load(tool)
    t_import = time.perf_counter() - t_start
    ref = pd.read_csv(ref_path)
    cur = pd.read_csv(cur_path)
    loaded = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    res = RUN[tool](ref, cur)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "tool": tool,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "import_seconds": t_import,
                "peak_rss_mb": _rss_mb(),
                "rss_after_load_mb": loaded,
                "drifted_columns": len(res["columns"]),
                "dataset": res["dataset"],
            }
        )
    )


def versions() -> dict:
    from importlib.metadata import version

    return {
        name: version(dist)
        for name, dist in (
            ("evidently", "evidently"),
            ("alibi-detect", "alibi-detect"),
            ("nannyml", "nannyml"),
            ("pandas", "pandas"),
            ("numpy", "numpy"),
        )
    }


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "trials":
        trials(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    elif cmd == "speed":
        speed(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "versions":
        print(json.dumps(versions()))
    else:
        raise SystemExit(f"unknown command {cmd!r}")
