"""Metrics benchmarks: bootstrap interval coverage by simulation, and the false-alarm rate
of the metrics warnings (baseline, calibration, misleading accuracy) on clean random splits
of the datasets in data/.

Run: OMP_NUM_THREADS=1 PYTHONPATH=src:. python -m benchmarks.metrics [--splits N] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tests import realdata

import tripwire
from tripwire.stats.metrics import metric_panel

DATASETS: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "german_credit": (realdata.german_credit, "class"),
    "bank_marketing": (lambda: realdata.bank_additional().drop(columns=["duration"]), "y"),
    "adult": (lambda: realdata.adult("train"), "income"),
    "spambase": (realdata.spambase, "spam"),
    "wine_quality": (lambda: realdata.wine("white"), "quality"),
    "elec2": (lambda: realdata.elec2().drop(columns=["date"]), "class"),
    "sms_spam": (realdata.sms_spam, "label"),
    "california_housing": (realdata.california, "median_house_value"),
    "bike_sharing": (
        lambda: realdata.bike_hour().drop(columns=["casual", "registered", "dteday", "instant"]),
        "cnt",
    ),
}


def coverage(trials: int = 200, n: int = 300) -> dict[str, float]:
    """Share of 95% intervals that contain the true value, for three metrics."""
    hits = {"accuracy": 0, "roc_auc": 0, "mae": 0}
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        score = y + rng.normal(0, 1, n)  # true AUC = Phi(1/sqrt(2))
        pred = (score > 0.5).astype(int)
        p = np.clip((score + 1) / 3, 0, 1)
        panel = metric_panel(
            y,
            pred,
            p,
            task="binary",
            n_boot=300,
            random_state=seed,
            metrics=["accuracy", "roc_auc"],
        )
        from scipy.stats import norm

        hits["accuracy"] += panel["accuracy"].low <= norm.cdf(0.5) <= panel["accuracy"].high
        true_auc = norm.cdf(1 / np.sqrt(2))
        hits["roc_auc"] += panel["roc_auc"].low <= true_auc <= panel["roc_auc"].high
        yt = rng.normal(size=n)
        reg = metric_panel(
            yt,
            yt + rng.normal(0, 1, n),
            task="regression",
            n_boot=300,
            random_state=seed,
            metrics=["mae"],
        )
        hits["mae"] += reg["mae"].low <= np.sqrt(2 / np.pi) <= reg["mae"].high
    return {k: v / trials for k, v in hits.items()}


def text_model(train: pd.DataFrame, target: str) -> Any:
    """TF-IDF + logistic regression on the text column: the baseline model skips free text, so
    the text dataset is audited with a model of the user's kind."""
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    vec = make_column_transformer((TfidfVectorizer(min_df=2, sublinear_tf=True), "text"))
    model = make_pipeline(vec, LogisticRegression(C=10.0, max_iter=1000))
    return model.fit(train.drop(columns=target), train[target])


def false_alarms(
    splits: int, rows: int, only: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Warnings of the metrics checks on clean random 60/40 splits, and which checks ran."""
    out: dict[str, dict[str, Any]] = {}
    for name, (load, target) in DATASETS.items():
        if only and name not in only:
            continue
        df = load()
        counts: dict[str, Any] = {
            "runs": 0,
            "baseline": 0,
            "calibration": 0,
            "misleading_accuracy": 0,
            "seconds": 0.0,
            "checks_ran": {},
            "model": "baseline",
        }
        for s in range(splits):
            d = df.sample(min(rows, len(df)), random_state=s).reset_index(drop=True)
            cut = int(len(d) * 0.6)
            train, test = d.iloc[:cut], d.iloc[cut:].reset_index(drop=True)
            model = None
            if name == "sms_spam":
                model = text_model(train, target)
                counts["model"] = "TF-IDF + logistic regression"
            t0 = time.perf_counter()
            rep = tripwire.audit(
                train,
                test,
                target=target,
                model=model,
                options={"n_boot": 200},
                checks=["metrics."],
                random_state=s,
            )
            counts["seconds"] += time.perf_counter() - t0
            counts["runs"] += 1
            for run in rep.checks:
                if run.status == "ran":
                    counts["checks_ran"][run.check] = counts["checks_ran"].get(run.check, 0) + 1
                elif run.status == "error":
                    raise RuntimeError(f"{name}: {run.check} failed: {run.reason}")
            for f in rep.findings:
                key = f.check.split(".", 1)[1]
                if key in counts and f.severity.value != "info":
                    counts[key] += 1
        out[name] = counts
        print(name, counts, flush=True)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--datasets", default=None, help="comma-separated subset of the datasets")
    a = ap.parse_args()
    cov = coverage(a.trials) if a.trials else {}
    print("coverage", cov, flush=True)
    fa = false_alarms(a.splits, a.rows, a.datasets.split(",") if a.datasets else None)
    print(json.dumps({"coverage": cov, "false_alarms": fa}, indent=1))
