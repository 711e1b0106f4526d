"""Scale benchmark: profile and drift of a 100M-row x 20-column Parquet file in bounded memory,
side by side with whylogs, sketch drift on tens of millions of rows, and Dask vs local.

Data (once, outside the repo; see benchmarks/scale_data.py):
    python benchmarks/scale_data.py /work/bigdata/ref.parquet 100000000
    python benchmarks/scale_data.py /work/bigdata/cur.parquet 30000000 --shift --seed 1
    python benchmarks/scale_data.py /work/bigdata/same.parquet 30000000 --seed 2
Run:
    python benchmarks/scale.py all --data /work/bigdata --peers /work/venv-peers/bin/python

Side by side on one file (generated if missing): tripwire's local engine, whylogs, and
tripwire's Dask engine on a LocalCluster of 2 workers, then Dask vs local profile agreement:
    python benchmarks/scale.py side --data /work/scale-data --rows 100000000 \
        --peers /work/venv-peers/bin/python [--peers-path DIR] [--peer-limit SECONDS] \
        [--skip tripwire_dask,dask_vs_local]

``--peers-path`` is put on the peer interpreter's PYTHONPATH (e.g. a pyarrow built for
numpy 1.x, which whylogs 1.6 needs). ``--peer-limit`` stops whylogs after that many seconds
and records the rows it reached ("completed": false); whylogs prints its progress every 5M
rows. Results go to DATA/side{ROWS}_results.json; steps already there are not rerun. Every step runs in its own process, which reports its
own peak RSS (ru_maxrss); the Dask step also reports the largest worker's.
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

SHIFTED = ["c02", "f02", "f07", "i01"]
WHYLOGS_ROWS = 10_000_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_profile(src: str, out: str, engine: str = "local", max_rows: int = 0) -> dict:
    from tripwire.scale import profile
    from tripwire.scale.engines import DaskEngine

    t = time.perf_counter()
    if engine == "dask":
        prof = DaskEngine(n_workers=2).profile([src])
    else:
        prof = profile(src)
    prof.save(out)
    secs = time.perf_counter() - t
    out_ = {
        "rows": prof.rows,
        "seconds": secs,
        "rows_per_s": prof.rows / secs,
        "peak_mb": _rss_mb(),
        "profile_kb": Path(out).stat().st_size / 1024,
    }
    if engine == "dask":  # the worker processes have exited and been reaped by now
        out_["largest_worker_peak_mb"] = (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        )
    return out_


def step_slice(src: str, out: str, rows: int) -> dict:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    w = None
    done = 0
    for b in pf.iter_batches(batch_size=1_000_000):
        if w is None:
            w = pq.ParquetWriter(out, b.schema)
        w.write_batch(b, row_group_size=1_000_000)
        done += b.num_rows
        if done >= rows:
            break
    assert w is not None
    w.close()
    return {"rows": done}


def step_drift(ref: str, cur: str) -> dict:
    from tripwire.scale import compare_profiles, load_profile

    t = time.perf_counter()
    dec = compare_profiles(load_profile(ref), load_profile(cur))
    tests = [
        {"column": r.column, "test": r.method, "effect": r.effect, "low": r.effect_low,
         "sketch_error": r.extra.get("sketch_error"), "status": s}
        for r, s in zip(dec.results, dec.statuses)
    ]  # fmt: skip
    return {
        "seconds": time.perf_counter() - t,
        "drift": sorted(dec.columns("drift")),
        "negligible": sorted(dec.columns("negligible")),
        "tests": tests,
        "peak_mb": _rss_mb(),
    }


def step_compare(a: str, b: str) -> dict:
    from tripwire.scale import compare_profiles, load_profile

    pa_, pb_ = load_profile(a), load_profile(b)
    worst_mean, worst_rank, counts_equal = 0.0, 0.0, True
    import numpy as np

    for name, x in pa_.columns.items():
        y = pb_.columns[name]
        counts_equal &= (x.count, x.missing) == (y.count, y.missing)
        if x.kind == "numeric":
            worst_mean = max(worst_mean, abs(x.mean - y.mean) / max(abs(y.mean), 1e-12))
            # The largest gap between the two sketches' CDFs, on both quantile grids (a KS
            # distance between the sketches; comparing ranks of quantiles instead would count
            # the point masses of integer columns as error).
            qs = np.linspace(0, 1, 1001)
            grid = np.unique(np.concatenate([x.quantiles(qs), y.quantiles(qs)]))
            worst_rank = max(worst_rank, float(np.max(np.abs(x.cdf(grid) - y.cdf(grid)))))
        else:
            counts_equal &= x.category_counts() == y.category_counts() or x.share_error() > 0
    dec = compare_profiles(pa_, pb_)
    return {
        "counts_equal": bool(counts_equal),
        "worst_mean_rel_diff": worst_mean,
        "worst_cdf_diff": worst_rank,
        "rank_error_bound": max(c.rank_error() for c in pa_.columns.values())
        + max(c.rank_error() for c in pb_.columns.values()),
        "drift_flagged": dec.columns("drift"),
    }


WHYLOGS_CODE = r"""
import json, resource, sys, time
import pyarrow, pyarrow.parquet as pq
import whylogs as why
from importlib.metadata import version
src, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
limit = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0  # seconds; 0 = run to the end
# "1": buffered reads like tripwire's engine; "0": pyarrow's default reads (whole column chunks)
buffered = (sys.argv[5] if len(sys.argv) > 5 else "1") == "1"
t = time.perf_counter()
view = None
done = retries = 0
# The same reads as tripwire's local engine: 500,000-row batches, buffered, no pre-buffering.
opts = dict(buffer_size=1 << 20, pre_buffer=False) if buffered else {}
for b in pq.ParquetFile(src, **opts).iter_batches(batch_size=500_000):
    try:
        df = b.to_pandas()
    except pyarrow.ArrowException as e:  # seen once with pyarrow 17 after 25M rows; retry, counted
        retries += 1
        print(f"to_pandas failed after {done} rows: {e!r}; retrying", file=sys.stderr, flush=True)
        df = b.to_pandas()
    v = why.log(df).view()
    view = v if view is None else view.merge(v)
    done += len(df)
    if done % 5_000_000 < len(df):  # progress on stderr, so a run cut short still tells
        el = time.perf_counter() - t
        print(f"whylogs {done} rows {el:.0f} s {done / el:.0f} rows/s peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
              file=sys.stderr, flush=True)
    if done >= rows or (limit and time.perf_counter() - t > limit):
        break
with open(out, "wb") as fh:
    fh.write(view.serialize())
secs = time.perf_counter() - t
print(json.dumps({"rows": done, "completed": done >= rows, "seconds": secs, "rows_per_s": done / secs,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "whylogs": version("whylogs"), "pyarrow": pyarrow.__version__,
                  "to_pandas_retries": retries, "buffered_reads": buffered}))
"""


def _sub(args: list[str], python: str = sys.executable, path: str | None = None) -> dict:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    # stderr is passed through line by line (progress of long steps), its tail kept for errors.
    with tempfile.TemporaryFile("w+") as stdout:
        proc = subprocess.Popen(
            [python, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env
        )
        assert proc.stderr is not None
        tail: list[str] = []
        for line in proc.stderr:
            print(line, end="", file=sys.stderr, flush=True)
            tail = [*tail[-99:], line]
        if proc.wait():
            raise SystemExit(f"{' '.join(args[:2])} failed:\n{''.join(tail)[-3000:]}")
        stdout.seek(0)
        res = json.loads(stdout.read().strip().splitlines()[-1])
    res["load_after"] = os.getloadavg()[0]
    return res


def side_by_side(
    d: Path,
    rows: int,
    peers: str,
    peers_path: str | None,
    peer_limit: float = 0.0,
    skip: tuple[str, ...] = (),
    peer_buffered: bool = True,
) -> dict:
    """tripwire (local), whylogs and tripwire (Dask) profiling the same Parquet file.

    ``peer_limit`` stops whylogs after that many seconds (its result then says how many rows
    it reached, with "completed": false); ``skip`` leaves out steps by key; ``peer_buffered``
    False gives whylogs pyarrow's default reads (pyarrow 17's buffered reads crashed twice).
    """
    src = d / f"side{rows}.parquet"
    if not src.exists():
        here = Path(__file__).resolve().parent
        subprocess.run(
            [sys.executable, str(here / "scale_data.py"), str(src), str(rows)], check=True
        )
    res_path = d / f"side{rows}_results.json"
    res: dict = json.loads(res_path.read_text()) if res_path.exists() else {}
    me = [__file__]
    steps = [
        ("tripwire_local", [*me, "profile", str(src), str(d / f"side{rows}.local.json")], None),
        ("whylogs", ["-c", WHYLOGS_CODE, str(src), str(rows), str(d / f"side{rows}.wl.bin"),
                     str(peer_limit), "1" if peer_buffered else "0"], peers),
        ("tripwire_dask", [*me, "profile", str(src), str(d / f"side{rows}.dask.json"), "dask"], None),
        ("dask_vs_local", [*me, "compare", str(d / f"side{rows}.dask.json"),
                           str(d / f"side{rows}.local.json")], None),
    ]  # fmt: skip
    for key, args, python in steps:
        if key in res or key in skip:
            continue
        load = os.getloadavg()[0]
        print(f"{key} ... (load {load:.1f})", flush=True)
        res[key] = _sub(args, python or sys.executable, peers_path if python else None)
        res[key]["load_before"] = load
        res_path.write_text(json.dumps(res, indent=1))
        print(key, json.dumps(res[key])[:400], flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("step")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--data", default="/work/bigdata")
    ap.add_argument("--peers", default="/work/venv-peers/bin/python")
    ap.add_argument("--peers-path", default=None)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--peer-limit", type=float, default=0.0, help="seconds for whylogs (side)")
    ap.add_argument("--skip", default="", help="side: comma-separated steps to leave out")
    ap.add_argument("--peer-default-reads", action="store_true", help="side: whylogs unbuffered")
    a = ap.parse_args()
    steps = {
        "profile": step_profile,
        "drift": step_drift,
        "compare": step_compare,
        "slice": step_slice,
    }
    if a.step in steps:
        fn = steps[a.step]
        conv = [int(x) if x.isdigit() else x for x in a.args]
        print(json.dumps(fn(*conv)))
        return
    d = Path(a.data)
    if a.step == "side":
        skip = tuple(x for x in a.skip.split(",") if x)
        res = side_by_side(
            d, a.rows, a.peers, a.peers_path, a.peer_limit, skip, not a.peer_default_reads
        )
        print(json.dumps(res, indent=1))
        return
    res_path = d / "scale_results.json"
    res: dict = json.loads(res_path.read_text()) if res_path.exists() else {}

    def run(key: str, args: list[str], python: str = sys.executable) -> None:
        if key in res:
            return
        print(f"{key} ...", flush=True)
        res[key] = _sub(args, python, a.peers_path if python != sys.executable else None)
        res_path.write_text(json.dumps(res, indent=1))
        print(key, json.dumps(res[key])[:300], flush=True)

    me = [__file__]
    run("profile_ref_100M", [*me, "profile", str(d / "ref.parquet"), str(d / "ref.twp.json")])
    run("profile_cur_30M", [*me, "profile", str(d / "cur.parquet"), str(d / "cur.twp.json")])
    run("profile_same_30M", [*me, "profile", str(d / "same.parquet"), str(d / "same.twp.json")])
    run("drift_shifted", [*me, "drift", str(d / "ref.twp.json"), str(d / "cur.twp.json")])
    run("drift_unchanged", [*me, "drift", str(d / "ref.twp.json"), str(d / "same.twp.json")])
    run(
        "slice_10M",
        [*me, "slice", str(d / "ref.parquet"), str(d / "ref10M.parquet"), str(WHYLOGS_ROWS)],
    )
    run(
        "profile_10M_tripwire",
        [*me, "profile", str(d / "ref10M.parquet"), str(d / "ref10M.twp.json")],
    )
    run(
        "profile_10M_whylogs",
        [
            "-c",
            WHYLOGS_CODE,
            str(d / "ref10M.parquet"),
            str(WHYLOGS_ROWS),
            str(d / "ref10M.wl.bin"),
        ],
        a.peers,
    )
    run(
        "profile_10M_dask",
        [*me, "profile", str(d / "ref10M.parquet"), str(d / "ref10M.dask.json"), "dask"],
    )
    run("dask_vs_local", [*me, "compare", str(d / "ref10M.dask.json"), str(d / "ref10M.twp.json")])
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
