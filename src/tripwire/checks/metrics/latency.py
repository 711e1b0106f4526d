"""Latency of the user's model: single-row and batch predict times and throughput."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.findings import Finding


def measure_latency(
    predict: object, X: object, *, single_rows: int = 50, batch_size: int = 1000, repeats: int = 5
) -> dict[str, float]:
    """Wall-clock milliseconds of ``predict`` on one row at a time and on batches."""
    import pandas as pd

    assert callable(predict)
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    n = len(frame)
    predict(frame.iloc[:1])  # warm-up
    single = []
    for i in range(min(single_rows, n)):
        row = frame.iloc[i : i + 1]
        t0 = time.perf_counter()
        predict(row)
        single.append((time.perf_counter() - t0) * 1000)
    batch = frame.iloc[: min(batch_size, n)]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(batch)
        times.append((time.perf_counter() - t0) * 1000)
    s, b = np.asarray(single), np.asarray(times)
    return {
        "single_p50_ms": float(np.percentile(s, 50)),
        "single_p95_ms": float(np.percentile(s, 95)),
        "single_p99_ms": float(np.percentile(s, 99)),
        "batch_rows": int(len(batch)),
        "batch_p50_ms": float(np.percentile(b, 50)),
        "batch_p95_ms": float(np.percentile(b, 95)),
        "batch_p99_ms": float(np.percentile(b, 99)),
        "throughput_rows_per_s": float(len(batch) / (np.median(b) / 1000)),
    }


@check("metrics.latency", mode="metrics", requires=("test", "user_model"), order=63)
def check_latency(ctx: AuditContext) -> Iterator[Finding]:
    """Single-row and batch predict latency and throughput; a budget breach is a finding."""
    side = "test"
    frame = ctx.frame(side)
    X = ctx.raw.get(side, frame).loc[frame.index, ctx.features]
    model = ctx.model
    predict = getattr(model, "predict_proba", None) or model.predict
    ctx.progress("measuring predict latency")
    lat = measure_latency(predict, X)
    budget = ctx.option("latency_budget_ms")
    over = budget is not None and lat["single_p95_ms"] > float(budget)
    yield Finding(
        check="metrics.latency",
        mode="metrics",
        severity="warning" if over else "info",
        title=(
            f"Predict latency: one row p50 {lat['single_p50_ms']:.2f} ms, p95 "
            f"{lat['single_p95_ms']:.2f} ms; {lat['throughput_rows_per_s']:,.0f} rows/s in batches"
            + (f" — over the {float(budget):g} ms budget" if over else "")
        ),
        detail=(
            f"Measured on this machine: 50 single-row calls and 5 batches of "
            f"{lat['batch_rows']} rows (batch p95 {lat['batch_p95_ms']:.1f} ms)."
            + (f" Budget {float(budget):g} ms per row (p95)." if budget is not None else "")
        ),
        evidence={**lat, "budget_ms": budget},
        action=(
            "Batch requests, simplify the model or its preprocessing, or export it to ONNX."
            if over
            else "Measure again on the serving hardware; set --latency-budget-ms to enforce one."
        ),
    )
