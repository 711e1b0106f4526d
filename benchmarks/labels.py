"""Label benchmarks: tripwire vs cleanlab on the same out-of-fold probabilities, false alarms
on clean data, Dawid-Skene on the crowdsourcing data, and speed at 100,000 rows.

    python benchmarks/labels.py noise  [--datasets german_credit,spambase,adult,wine_red,wine_white]
    python benchmarks/labels.py clean  [--seeds 5]
    python benchmarks/labels.py split  [--seeds 6] [--split-datasets ...]
    python benchmarks/labels.py crowd
    python benchmarks/labels.py speed  [--rows 100000] [--features 20]
    python benchmarks/labels.py outdated [--seeds 5]
    python benchmarks/labels.py conflicts
    python benchmarks/labels.py all

Run from the repository root with PYTHONPATH=src:. ; cleanlab runs in /work/venv-peers (or
--peer PYTHON) through a subprocess on the same saved probabilities, never imported here.
Results are printed and saved under benchmarks/results/labels-*.json.
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
RESULTS = ROOT / "benchmarks" / "results"

from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402
from tests import realdata  # noqa: E402

from tripwire.checks.labels import is_material, noise_floor, ordinal_ranks  # noqa: E402
from tripwire.data import Roles, prepare  # noqa: E402
from tripwire.models import make_baseline  # noqa: E402
from tripwire.stats.confident_learning import find_label_issues  # noqa: E402

PEER = "/work/venv-peers/bin/python"
CLEANLAB = """
import sys, time, numpy as np
from cleanlab.filter import find_label_issues
d = np.load(sys.argv[1]); times = []
for jobs in (None, 1):  # default (a process pool on Linux), then one process
    t = time.perf_counter()
    m = find_label_issues(d["y"], d["p"], n_jobs=jobs)
    times.append(time.perf_counter() - t)
print(*times); np.save(sys.argv[2], m)
"""


def load(name: str) -> tuple[pd.DataFrame, str]:
    if name == "german_credit":
        return realdata.german_credit(), "class"
    if name == "spambase":
        df = realdata.spambase()
        return df, str(df.columns[-1])
    if name == "adult":
        return realdata.adult().sample(10_000, random_state=0), "income"
    if name == "elec2":
        return realdata.elec2(), "class"
    if name == "bank":  # without duration, a documented target leak
        return realdata.bank_full().drop(columns=["duration"]), "y"
    if name in ("wine_red", "wine_white"):
        return realdata.wine(name.split("_")[1]), "quality"
    raise SystemExit(f"unknown dataset {name}")


def encoded(name: str) -> tuple[pd.DataFrame, np.ndarray, dict, tuple]:
    """Features, integer labels (classes with fewer than 10 rows dropped: 5 folds), kinds,
    class values."""
    df, target = load(name)
    df = df.reset_index(drop=True)
    frames, schema = prepare({"train": df}, Roles(target=target))
    X = frames["train"][list(schema.features)]
    kinds = {c: schema.kinds[c] for c in schema.features}
    y0, classes = pd.factorize(df[target].astype(str), sort=True)
    keep = np.bincount(y0)[y0] >= 10
    kept = np.unique(y0[keep])
    y = np.searchsorted(kept, y0[keep])
    return X[keep].reset_index(drop=True), y, kinds, tuple(np.asarray(classes)[kept])


def oof(
    X: pd.DataFrame, y: np.ndarray, kinds: dict, seed: int = 0, fast: bool = False
) -> np.ndarray:
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    model = make_baseline("multiclass", kinds, seed, fast=fast)
    return cross_val_predict(model, X, y.astype(str), cv=cv, method="predict_proba")


def inject(y: np.ndarray, rate: float, pattern: str, rng: np.random.Generator):
    k = int(y.max()) + 1
    y = y.copy()
    if pattern == "uniform":
        flip = rng.random(len(y)) < rate
        y[flip] = (y[flip] + rng.integers(1, k, flip.sum())) % k
    else:  # class-conditional: each class flips to its next class, rates 0.5x..1.5x
        scale = np.linspace(0.5, 1.5, k)[y]
        flip = rng.random(len(y)) < rate * scale
        y[flip] = (y[flip] + 1) % k
    return y, flip


def cleanlab(y: np.ndarray, p: np.ndarray, peer: str) -> tuple[np.ndarray, float, float]:
    """cleanlab's mask, and its time with default n_jobs and with n_jobs=1."""
    with tempfile.TemporaryDirectory() as d:
        np.savez(f"{d}/in.npz", y=y, p=p)
        out = subprocess.run(
            [peer, "-c", CLEANLAB, f"{d}/in.npz", f"{d}/out.npy"],
            capture_output=True,
            text=True,
            check=True,
        )
        t_default, t_one = map(float, out.stdout.strip().splitlines()[-1].split())
        return np.load(f"{d}/out.npy"), t_default, t_one


def prf(mask: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float((mask & truth).sum())
    precision = tp / max(1, mask.sum())
    recall = tp / max(1, truth.sum())
    return precision, recall, 2 * tp / max(1, mask.sum() + truth.sum())


def warns(y: np.ndarray, p: np.ndarray, classes: tuple) -> bool:
    res = find_label_issues(y, p)
    return is_material(res, noise_floor(y, p, ranks=ordinal_ranks(classes, p)))


def best_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run_noise(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for name in args.datasets.split(","):
        X, y0, kinds, classes = encoded(name)
        for pattern in ("uniform", "class_conditional"):
            for rate in (0.05, 0.1, 0.2):
                y, truth = inject(y0, rate, pattern, np.random.default_rng(7))
                p = oof(X, y, kinds)
                t_ours = best_time(lambda y=y, p=p: find_label_issues(y, p, n_boot=0))
                ours = find_label_issues(y, p, n_boot=0).mask
                theirs, t_cl, t_cl1 = cleanlab(y, p, args.peer)
                po, ro, fo = prf(ours, truth)
                pc, rc, fc = prf(theirs, truth)
                rows.append(
                    dict(
                        dataset=name,
                        rows=len(y),
                        classes=len(classes),
                        pattern=pattern,
                        rate=rate,
                        precision_tripwire=round(po, 3),
                        recall_tripwire=round(ro, 3),
                        f1_tripwire=round(fo, 3),
                        precision_cleanlab=round(pc, 3),
                        recall_cleanlab=round(rc, 3),
                        f1_cleanlab=round(fc, 3),
                        seconds_tripwire=round(t_ours, 4),
                        seconds_cleanlab=round(t_cl, 4),
                        seconds_cleanlab_one_process=round(t_cl1, 4),
                        warns=warns(y, p, classes),
                    )
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def run_clean(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Warnings of the real labels.issues check on clean random 80% subsamples."""
    import tripwire

    out = []
    for name in ("german_credit", "spambase", "adult", "wine_red", "wine_white"):
        df, target = load(name)
        df = df.reset_index(drop=True)
        for seed in range(args.seeds):
            sub = df.sample(frac=0.8, random_state=seed).reset_index(drop=True)
            rep = tripwire.audit(sub, target=target, checks=["labels.issues"], random_state=seed)
            f = rep.by_check("labels.issues")[0]
            fl = f.evidence["noise_floor"]
            out.append(
                dict(
                    dataset=name,
                    seed=seed,
                    rows=len(sub),
                    severity=f.sev.value,
                    noise_rate=round(f.evidence["noise_rate"]["estimate"], 3),
                    noise_low=round(f.evidence["noise_rate"]["low"], 3),
                    floor_rate=round(fl["rate"], 3),
                    floor_low=round(fl["low"], 3),
                    ordinal=fl["ordinal"],
                )
            )
            print(json.dumps(out[-1]), flush=True)
    return out


def run_split(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The train/test comparison of labels.issues on random splits (its null) and with noise
    planted in train (its power): 3,000 rows (all of German credit), two thirds train."""
    import tripwire

    out = []
    plans = [("clean", 0.0, args.seeds), ("uniform", 0.1, 2), ("class_conditional", 0.3, 2)]
    for name in args.split_datasets.split(","):
        df, target = load(name)
        for pattern, rate, seeds in plans:
            for seed in range(seeds):
                sub = df.sample(n=min(3000, len(df)), random_state=100 + seed)
                sub = sub.reset_index(drop=True)
                cut = 2 * len(sub) // 3
                train, test = sub.iloc[:cut].reset_index(drop=True), sub.iloc[cut:]
                classes = sorted(train[target].astype(str).unique())
                y = train[target].astype(str).to_numpy()
                rng = np.random.default_rng(seed)
                if pattern == "uniform":
                    flip = rng.random(len(y)) < rate
                else:  # the second class (sorted) relabelled as the first
                    flip = (y == classes[1]) & (rng.random(len(y)) < rate)
                if flip.any():
                    values = train[target].to_numpy(copy=True)
                    first = train[target][y == classes[0]].iloc[0]
                    second = train[target][y == classes[1]].iloc[0]
                    values[flip] = np.where(y[flip] == classes[0], second, first)
                    train = train.assign(**{target: values})
                rep = tripwire.audit(
                    train, test.reset_index(drop=True), target=target, random_state=seed,
                    checks=["labels.issues", "labels.issues_test"],
                )  # fmt: skip
                f = rep.by_check("labels.issues")[0]
                g = rep.by_check("labels.issues_test")[0]
                cmp = f.evidence.get("train_vs_test") or {}
                out.append(
                    dict(
                        dataset=name,
                        pattern=pattern,
                        rate=rate,
                        seed=seed,
                        flipped=int(flip.sum()),
                        rows_train=len(train),
                        rows_test=len(test),
                        severity=f.sev.value,
                        severity_test=g.sev.value,
                        floor_low=round(f.evidence["noise_floor"]["low"], 3),
                        p_value=cmp.get("p_value"),
                        excess=round(cmp["excess"], 3) if cmp else None,
                    )
                )
                print(json.dumps(out[-1]), flush=True)
    return out


def run_crowd(args: argparse.Namespace) -> list[dict[str, Any]]:
    from tripwire.stats.annotators import dawid_skene, krippendorff_alpha, majority_vote

    out = []
    for name in ("product", "dog"):
        answers, truth = realdata.crowd(name)
        item, items = pd.factorize(answers["question"])
        ann, anns = pd.factorize(answers["worker"])
        lab, classes = pd.factorize(answers["answer"].astype(str), sort=True)
        t = time.perf_counter()
        ds = dawid_skene(item, ann, lab)
        seconds = time.perf_counter() - t
        accs = {}
        for seed in range(5):  # majority-vote ties are broken at random
            mv = majority_vote(item, lab, len(items), len(classes), seed=seed)
            gold = truth.set_index("question")["truth"].astype(str)
            common = np.flatnonzero(pd.Index(items).isin(gold.index))
            g = gold.loc[items[common]].map({c: i for i, c in enumerate(classes)}).to_numpy()
            accs[seed] = float((mv[common] == g).mean())
        out.append(
            dict(
                dataset=name,
                answers=len(answers),
                items=len(items),
                annotators=len(anns),
                gold_items=int(len(common)),
                alpha=round(krippendorff_alpha(item, lab), 3),
                accuracy_dawid_skene=round(float((ds.labels[common] == g).mean()), 4),
                accuracy_majority_mean=round(float(np.mean(list(accs.values()))), 4),
                accuracy_majority_range=[
                    round(min(accs.values()), 4),
                    round(max(accs.values()), 4),
                ],
                iterations=ds.iterations,
                seconds=round(seconds, 3),
            )
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def run_speed(args: argparse.Namespace) -> dict[str, Any]:
    """End to end labels checks on rows x features, then both kernels on its probabilities."""
    from sklearn.datasets import make_classification

    import tripwire

    X, y = make_classification(
        n_samples=args.rows,
        n_features=args.features,
        n_informative=args.features // 2,
        n_classes=3,
        flip_y=0.0,
        random_state=0,
    )
    rng = np.random.default_rng(0)
    flip = rng.random(len(y)) < 0.1
    y_noisy = np.where(flip, (y + rng.integers(1, 3, len(y))) % 3, y)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(y=y_noisy)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    rep = tripwire.audit(df, target="y", checks=["labels."])
    e2e = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    f = rep.by_check("labels.issues")[0]
    flagged = np.zeros(len(y), bool)
    flagged[f.rows.get("train", [])] = True
    per_check = {c.check: round(c.seconds, 2) for c in rep.checks if c.mode == "labels"}
    # kernels on the same probabilities (a fresh OOF, as the audit's is internal; the fast
    # baseline, as the audit uses above 50,000 rows)
    kinds = {c: "numeric" for c in df.columns if c != "y"}
    p = oof(df.drop(columns="y"), y_noisy, kinds, fast=True)
    t_ours = best_time(lambda: find_label_issues(y_noisy, p, n_boot=0))
    t_ours_boot = best_time(lambda: find_label_issues(y_noisy, p), repeats=1)
    theirs, t_cl, t_cl1 = cleanlab(y_noisy, p, args.peer)
    ours = find_label_issues(y_noisy, p, n_boot=0).mask
    return dict(
        rows=args.rows,
        features=args.features,
        noise=0.1,
        end_to_end_seconds=round(e2e, 1),
        end_to_end_cpu_seconds=round(cpu, 1),
        threads=os.environ.get("OMP_NUM_THREADS", "all"),
        per_check_seconds=per_check,
        severity=f.sev.value,
        f1_end_to_end=round(prf(flagged, flip)[2], 3),
        kernel_seconds_tripwire=round(t_ours, 3),
        kernel_seconds_tripwire_with_interval=round(t_ours_boot, 3),
        kernel_seconds_cleanlab=round(t_cl, 3),
        kernel_seconds_cleanlab_one_process=round(t_cl1, 3),
        f1_tripwire=round(prf(ours, flip)[2], 3),
        f1_cleanlab=round(prf(theirs, flip)[2], 3),
    )


def run_outdated(args: argparse.Namespace) -> list[dict[str, Any]]:
    """labels.outdated on time-ordered real data, and on the same rows in random order."""
    import tripwire

    elec = realdata.elec2()
    bike = realdata.bike_hour().drop(columns=["casual", "registered", "instant"])
    cases: list[tuple[str, pd.DataFrame, str, str]] = [
        ("elec2 every 6th row, by date", elec.iloc[::6].reset_index(drop=True), "class", "date"),
        ("elec2 all rows (20,000 sampled), by date", elec, "class", "date"),
        ("bike sharing hourly, cnt (regression), by dteday", bike, "cnt", "dteday"),
    ]
    small = elec.iloc[::6].reset_index(drop=True).drop(columns=["date"])
    for seed in range(args.seeds):
        order = np.random.default_rng(seed).permutation(len(small))
        cases.append(
            (
                f"elec2 every 6th row, random order {seed}",
                small.assign(order=order),
                "class",
                "order",
            )
        )
    out = []
    for name, df, target, col in cases:
        t = time.perf_counter()
        rep = tripwire.audit(df, target=target, time_column=col, checks=["labels.outdated"])
        f = rep.by_check("labels.outdated")[0]
        out.append(
            dict(
                case=name,
                rows=len(df),
                severity=f.sev.value,
                seconds=round(time.perf_counter() - t, 1),
                metric=f.evidence["metric"],
                periods=[
                    {
                        k: (round(v, 4) if isinstance(v, float) else v)
                        for k, v in e.items()
                        if k not in ("effective_rows",)
                    }
                    for e in f.evidence["periods"]
                ],
            )
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def run_conflicts(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Exact and near-duplicate label conflicts on every real classification dataset as is."""
    import tripwire

    spam = realdata.spambase()
    cases = [
        ("german_credit", realdata.german_credit(), "class"),
        ("spambase", spam, str(spam.columns[-1])),
        ("adult", realdata.adult(), "income"),
        ("wine_red", realdata.wine("red"), "quality"),
        ("wine_white", realdata.wine("white"), "quality"),
        ("bank_additional", realdata.bank_additional(), "y"),
        ("bank_full", realdata.bank_full(), "y"),
        ("elec2", realdata.elec2(), "class"),
    ]
    out = []
    for name, df, target in cases:
        t = time.perf_counter()
        rep = tripwire.audit(
            df, target=target, checks=["labels.conflicts", "labels.near_conflicts"]
        )
        row: dict[str, Any] = {"dataset": name, "rows": len(df)}
        row["seconds"] = round(time.perf_counter() - t, 1)
        for f in rep.findings:
            ev = f.evidence
            row[f.check] = {
                "severity": f.sev.value,
                "rows": len(f.rows.get("train", [])),  # listed only when it warns
                **{
                    k: ev[k]
                    for k in (
                        "item_rows",
                        "groups",
                        "near_pairs",
                        "near_conflict_rate",
                        "control_conflict_rate",
                        "p_value",
                    )
                    if k in ev
                },
            }
        out.append(row)
        print(json.dumps(row), flush=True)
    return out


def environment(peer: str) -> dict[str, Any]:
    import sklearn

    import tripwire

    cl = subprocess.run(
        [peer, "-c", "import cleanlab; print(cleanlab.__version__)"], capture_output=True, text=True
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "tripwire": tripwire.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "cleanlab": cl.stdout.strip() or "not installed",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "what",
        choices=["noise", "clean", "split", "crowd", "speed", "outdated", "conflicts", "all"],
    )
    ap.add_argument("--datasets", default="german_credit,spambase,adult,wine_red,wine_white")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--split-datasets", default="german_credit,spambase,adult,elec2,bank")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--peer", default=PEER)
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    runs = {
        "noise": run_noise,
        "clean": run_clean,
        "split": run_split,
        "crowd": run_crowd,
        "speed": run_speed,
        "outdated": run_outdated,
        "conflicts": run_conflicts,
    }
    for what in runs if args.what == "all" else [args.what]:
        env = environment(args.peer)
        result = runs[what](args)
        env["load_average_after"] = os.getloadavg()
        print(json.dumps(result, indent=1) if isinstance(result, dict) else "", flush=True)
        out = RESULTS / f"labels-{what}.json"
        out.write_text(json.dumps({"environment": env, "results": result}, indent=1))
        print(f"saved {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
