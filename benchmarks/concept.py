"""Concept drift (``drift.concept``): false alarms on clean splits and power on planted changes.

Each trial draws a fresh base table (a seeded subsample of a real dataset, as in the failure
zoo) and splits it at random into reference and current halves.

- *Clean*: nothing else. A false alarm is a ``drift.concept`` warning (the label-law test
  significant after Benjamini-Hochberg over all drift tests, with an effect above its bar);
  the raw p-value's rejection rate at 5% is reported too.
- *Planted*: in current, among rows whose most informative numeric feature is above its
  median, a share of the labels changes: binary labels are flipped, regression targets move
  by half a standard deviation. The inputs are untouched, so only the label law changed.

Usage::

    python -m benchmarks.concept --trials 25 [--out benchmarks/results/concept.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import tripwire
from benchmarks.zoo.datasets import Base, load

DATASETS = (
    "adult",
    "german_credit",
    "bank_marketing",
    "elec2",
    "spambase",
    "bike_sharing",
    "wine_quality",
    "california_housing",
)
SHARES = (0.1, 0.2)


def _region_column(b: Base) -> str:
    """The numeric feature most correlated (in rank) with the target, among those whose
    values above the median are 30-70% of the rows."""
    y = b.df[b.target]
    y = (y == b.positive).astype(float) if b.task == "binary" else y.astype(float)
    best, score = "", -1.0
    for col in b.df.columns:
        if col == b.target or not pd.api.types.is_numeric_dtype(b.df[col]):
            continue
        x = b.df[col]
        if x.nunique() < 10 or not 0.3 <= float((x > x.median()).mean()) <= 0.7:
            continue  # the region (above the median) must hold a fair share of the rows
        r = abs(float(x.rank().corr(y.rank())))
        if np.isfinite(r) and r > score:
            best, score = col, r
    return best


def _plant(b: Base, cur: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    col = _region_column(b)
    region = (cur[col] > cur[col].median()).to_numpy()
    hit = region & (rng.random(len(cur)) < share)
    out = cur.copy()
    y = out[b.target]
    if b.task == "binary":
        other = [v for v in y.unique() if v != b.positive][0]
        out[b.target] = np.where(hit, np.where(y == b.positive, other, b.positive), y)
    else:
        out[b.target] = np.where(hit, y + 0.5 * float(y.std()), y)
    return out


def one(b: Base, rng: np.random.Generator, share: float | None) -> dict[str, Any]:
    order = rng.permutation(len(b.df))
    half = len(order) // 2
    ref, cur = b.df.iloc[order[:half]], b.df.iloc[order[half:]]
    if share:
        cur = _plant(b, cur, share, rng)
    t0 = time.perf_counter()
    report = tripwire.drift(
        ref.reset_index(drop=True),
        cur.reset_index(drop=True),
        target=b.target,
        task=b.task,  # wine quality 3-8 is read as classes otherwise
        checks=["drift.concept"],
        random_state=int(rng.integers(1 << 30)),
    )
    found = report.by_check("drift.concept")
    seconds = time.perf_counter() - t0
    if not found:
        return {"tested": False, "seconds": seconds}
    f = found[0]
    return {
        "tested": True,
        "warned": f.severity in ("warning", "critical"),
        "p_value": float(f.evidence["p_value"]),
        "effect": float(f.evidence["effect"]),
        "seconds": seconds,
    }


def run(trials: int, seed: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(DATASETS):
        for t in range(trials):
            rng = np.random.default_rng([seed, i, t])
            b = load(name, rng)
            for share in (None, *SHARES):
                rec = one(b, rng, share)
                rows.append({"dataset": name, "task": b.task, "share": share or 0.0, **rec})
        done = [r for r in rows if r["dataset"] == name]
        clean = [r for r in done if r["share"] == 0 and r["tested"]]
        print(
            f"{name}: {sum(bool(r.get('warned')) for r in clean)}/{len(clean)} clean warned; "
            + "; ".join(
                f"share {s}: {sum(bool(r.get('warned')) for r in done if r['share'] == s)}/{trials}"
                for s in SHARES
            ),
            flush=True,
        )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "tripwire": tripwire.__version__,
        "python": platform.python_version(),
        "trials": trials,
        "seed": seed,
        "rows": rows,
    }


def table(res: dict[str, Any]) -> str:
    from tripwire.stats.performance import wilson

    lines = [
        "| dataset | task | clean: warned | clean: raw p < 0.05 | "
        + " | ".join(f"{s:.0%} of region relabelled: warned" for s in SHARES)
        + " | s per run |",
        "|---|---|---|---|" + "---|" * len(SHARES) + "---|",
    ]
    rows = res["rows"]

    def rate(sel: list[dict[str, Any]], key: str) -> str:
        k = sum(bool(r.get(key)) for r in sel)
        return f"{k}/{len(sel)}"

    for name in DATASETS:
        mine = [r for r in rows if r["dataset"] == name and r["tested"]]
        if not mine:
            continue
        clean = [r for r in mine if r["share"] == 0]
        raw = [{"x": r["p_value"] < 0.05} for r in clean]
        cells = [rate([r for r in mine if r["share"] == s], "warned") for s in SHARES]
        secs = np.mean([r["seconds"] for r in mine])
        lines.append(
            f"| {name} | {mine[0]['task']} | {rate(clean, 'warned')} | {rate(raw, 'x')} | "
            + " | ".join(cells)
            + f" | {secs:.1f} |"
        )
    clean = [r for r in rows if r["share"] == 0 and r["tested"]]
    k = sum(r["warned"] for r in clean)
    lo, hi = wilson(k, len(clean))
    lines.append("")
    lines.append(
        f"All clean splits: {k}/{len(clean)} warned ({k / max(1, len(clean)):.1%}, 95% "
        f"interval {lo:.1%} to {hi:.1%})."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/concept.json")
    args = ap.parse_args()
    res = run(args.trials, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(table(res))


if __name__ == "__main__":
    main()
