"""Label-noise benchmark: tripwire vs cleanlab on the same out-of-fold probabilities.

Run: PYTHONPATH=src:. OMP_NUM_THREADS=2 /work/venv/bin/python benchmarks/labels.py
cleanlab runs in /work/venv-peers through a subprocess on the same saved probabilities.
Also measures false alarms (warnings) on clean random subsamples of each dataset.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from tests import realdata

from tripwire.checks.labels import FLOOR, noise_floor
from tripwire.data import Roles, prepare
from tripwire.models import make_baseline
from tripwire.stats.confident_learning import find_label_issues

PEER = "/work/venv-peers/bin/python"
CLEANLAB = """
import sys, time, numpy as np
from cleanlab.filter import find_label_issues
d = np.load(sys.argv[1]); t = time.perf_counter()
m = find_label_issues(d["y"], d["p"])
print(time.perf_counter() - t); np.save(sys.argv[2], m)
"""


def datasets():
    yield "german_credit", realdata.german_credit(), "class"
    yield "spambase", realdata.spambase(), realdata.spambase().columns[-1]
    yield "adult_10k", realdata.adult().sample(10_000, random_state=0), "income"
    yield "wine_red", realdata.wine("red"), "quality"


def oof(X, y, kinds, seed=0):
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    model = make_baseline("multiclass", kinds, seed)
    return cross_val_predict(model, X, y.astype(str), cv=cv, method="predict_proba")


def inject(y, rate, pattern, rng):
    k = y.max() + 1
    y = y.copy()
    if pattern == "uniform":
        flip = rng.random(len(y)) < rate
        y[flip] = (y[flip] + rng.integers(1, k, flip.sum())) % k
    else:  # class-conditional: each class flips to its next class, rates 0.5x..1.5x
        scale = np.linspace(0.5, 1.5, k)[y]
        flip = rng.random(len(y)) < rate * scale
        y[flip] = (y[flip] + 1) % k
    return y, flip


def cleanlab(y, p):
    with tempfile.TemporaryDirectory() as d:
        np.savez(f"{d}/in.npz", y=y, p=p)
        out = subprocess.run(
            [PEER, "-c", CLEANLAB, f"{d}/in.npz", f"{d}/out.npy"],
            capture_output=True,
            text=True,
            check=True,
        )
        return np.load(f"{d}/out.npy"), float(out.stdout.strip().splitlines()[-1])


def f1(mask, truth):
    tp = (mask & truth).sum()
    return 2 * tp / max(1, mask.sum() + truth.sum())


def warns(y, p):
    res = find_label_issues(y, p)
    fl = noise_floor(y, p)
    return res.noise_interval[0] >= FLOOR and fl["low"] >= FLOOR and len(res.ranked) >= 5


def main() -> None:
    rows, alarms = [], []
    for name, df, target in datasets():
        df = df.reset_index(drop=True)
        frames, schema = prepare({"train": df}, Roles(target=target))
        X = frames["train"][list(schema.features)]
        kinds = {c: schema.kinds[c] for c in schema.features}
        y0 = pd.factorize(df[target].astype(str), sort=True)[0]
        keep = np.bincount(y0)[y0] >= 10  # classes with too few rows for 5 folds
        X, y0 = X[keep].reset_index(drop=True), pd.factorize(y0[keep], sort=True)[0]
        for seed in range(3):  # clean random 80% subsamples: false alarms
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(y0), int(0.8 * len(y0)), replace=False)
            alarms.append((name, seed, warns(y0[idx], oof(X.iloc[idx], y0[idx], kinds, seed))))
            print("clean", alarms[-1], flush=True)
        for pattern in ("uniform", "class_conditional"):
            for rate in (0.05, 0.1, 0.2):
                y, truth = inject(y0, rate, pattern, np.random.default_rng(7))
                p = oof(X, y, kinds)
                t = time.perf_counter()
                ours = find_label_issues(y, p, n_boot=0).mask
                t_ours = time.perf_counter() - t
                theirs, t_cl = cleanlab(y, p)
                rows.append(
                    dict(
                        dataset=name,
                        pattern=pattern,
                        rate=rate,
                        f1_tripwire=round(f1(ours, truth), 3),
                        f1_cleanlab=round(f1(theirs, truth), 3),
                        time_ratio=round(t_cl / max(t_ours, 1e-9), 1),
                        warns=warns(y, p),
                    )
                )
                print(rows[-1], flush=True)
    out = Path(__file__).parent / "results" / "labels.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"noise": rows, "clean": alarms}, indent=1))
    fa = sum(a[2] for a in alarms)
    print(f"false alarms on clean data: {fa}/{len(alarms)}", file=sys.stderr)


if __name__ == "__main__":
    main()
