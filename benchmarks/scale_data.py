"""Generate the Parquet datasets for benchmarks/scale.py (outside the repo, e.g. /work/bigdata).

    python benchmarks/scale_data.py /work/bigdata/ref.parquet 100000000
    python benchmarks/scale_data.py /work/bigdata/cur.parquet 30000000 --shift --seed 1

20 columns: 12 float32 (normal, lognormal, uniform, bimodal), 4 int64 (counts and codes),
4 dictionary-encoded strings. ``--shift`` moves exactly SHIFTED columns.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000
SHIFTED = ("f02", "f07", "i01", "c02")
PLANS = ["f1", "f2"]


def make_chunk(rng: np.random.Generator, n: int, shift: bool) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for j in range(12):
        name = f"f{j:02d}"
        kind = j % 4
        if kind == 0:
            x = rng.standard_normal(n, dtype=np.float32) * (1 + j) + j
        elif kind == 1:
            x = np.exp(rng.standard_normal(n, dtype=np.float32) * 0.5).astype(np.float32)
        elif kind == 2:
            x = rng.random(n, dtype=np.float32) * 100
        else:
            x = rng.standard_normal(n, dtype=np.float32) + np.where(rng.random(n) < 0.3, 4, 0)
        if shift and name == "f02":
            x = x + np.float32(0.25 * 3)  # 0.25 SD of a N(2, 3^2) column
        if shift and name == "f07":
            x = x * np.float32(1.3)  # scale change of a lognormal column
        mask = rng.random(n) < 0.02 if j % 5 == 0 else None
        cols[name] = pa.array(x.astype(np.float32), mask=mask)
    for j in range(4):
        name = f"i{j:02d}"
        lam = 3.0 + 2 * j
        if shift and name == "i01":
            lam += 1.0
        cols[name] = pa.array(rng.poisson(lam, n).astype(np.int64))
    vocab_sizes = (5, 20, 200, 5000)
    for j, k in enumerate(vocab_sizes):
        name = f"c{j:02d}"
        p = 1.0 / np.arange(1, k + 1) ** 1.1
        if shift and name == "c02":
            p = p[::-1].copy() ** 0.0 + p  # flatter: rarer categories gain share
        p = p / p.sum()
        codes = rng.choice(k, size=n, p=p).astype(np.int32)
        dictionary = pa.array([f"{name}_v{v}" for v in range(k)])
        cols[name] = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)
    return pa.table(cols)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("rows", type=int)
    ap.add_argument("--shift", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    t = time.time()
    writer = None
    done = 0
    while done < a.rows:
        n = min(CHUNK, a.rows - done)
        table = make_chunk(rng, n, a.shift)
        if writer is None:
            writer = pq.ParquetWriter(a.out, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=CHUNK)
        done += n
        if done % (10 * CHUNK) == 0:
            print(f"{done:,} rows in {time.time() - t:.0f}s", flush=True)
    assert writer is not None
    writer.close()
    print(f"wrote {a.out}: {done:,} rows in {time.time() - t:.0f}s", flush=True)


if __name__ == "__main__":
    main()
