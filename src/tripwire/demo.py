"""`tripwire demo`: the whole story on bundled real data.

The data is the UCI Adult census extract (CC BY 4.0, see datasets/adult/README.md). The demo
plants failures on purpose, each of a kind tripwire claims to catch, runs the audit through the
same code path as ``tripwire audit`` and writes the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]


def load_adult(split: str = "train") -> pd.DataFrame:
    """The bundled UCI Adult data with named columns, '?' as missing and clean labels.

    Examples
    --------
    >>> df = load_adult("test")
    >>> df.shape, sorted(df["income"].unique())
    ((16281, 15), ['<=50K', '>50K'])
    """
    path = resources.files("tripwire").joinpath(f"datasets/adult/adult-{split}.csv.gz")
    with resources.as_file(path) as p:
        df = pd.read_csv(p, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    df["income"] = df["income"].str.rstrip(".")
    return df


def make_demo_data(
    seed: int = 7, n_train: int = 6000, n_test: int = 3000
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Train and test tables from Adult with planted failures, and what was planted where."""
    rng = np.random.default_rng(seed)
    train = load_adult("train").sample(n=n_train, random_state=seed).reset_index(drop=True)
    pool = load_adult("test")
    # Distribution shift: the test population is older than the training one.
    w = np.where(pool["age"] > 45, 3.0, 1.0)
    test = pool.sample(n=n_test, weights=w / w.sum(), random_state=seed).reset_index(drop=True)

    # Target leak: a "review_flag" set after the outcome was known, agreeing with it 97 % of the time.
    for df in (train, test):
        agree = rng.random(len(df)) < 0.97
        positive = (df["income"] == ">50K").to_numpy()
        df["review_flag"] = np.where(agree, positive, ~positive).astype(int)

    # Label noise: 6 % of training labels flipped.
    flip = rng.choice(n_train, size=int(0.06 * n_train), replace=False)
    train.loc[flip, "income"] = np.where(train.loc[flip, "income"] == ">50K", "<=50K", ">50K")

    # Leakage through the split: 120 test rows also in train.
    copied = rng.choice(n_test, size=120, replace=False)
    train = pd.concat([train, test.iloc[copied]], ignore_index=True)

    # A broken export: a few "n/a-unknown" strings in a numeric column.
    junk = rng.choice(len(train), size=15, replace=False)
    train["hours_per_week"] = train["hours_per_week"].astype(object)
    train.loc[junk, "hours_per_week"] = "unknown"

    planted: dict[str, Any] = {
        "label_noise_rows": sorted(int(i) for i in flip),
        "target_leak_column": "review_flag",
        "train_rows_copied_from_test": list(range(n_train, n_train + len(copied))),
        "junk_rows": sorted(int(i) for i in junk),
        "shift": "test over-samples age > 45 three to one",
    }
    return train, test, planted


def run_demo(out: Path, echo: Callable[[str], None] = print) -> int:
    from tripwire.audit import audit
    from tripwire.report.terminal import print_summary

    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    data.mkdir(exist_ok=True)
    echo("tripwire demo — UCI Adult census data, with failures planted on purpose:")
    train, test, planted = make_demo_data()
    train.to_csv(data / "train.csv", index=False)
    test.to_csv(data / "test.csv", index=False)
    echo(f"  • {len(planted['label_noise_rows'])} training labels flipped (noisy labels)")
    echo("  • a 'review_flag' column that encodes the outcome (target leak)")
    echo(
        f"  • {len(planted['train_rows_copied_from_test'])} test rows copied into train (split leakage)"
    )
    echo(
        f"  • {len(planted['junk_rows'])} 'unknown' strings in the numeric hours_per_week (broken export)"
    )
    echo("  • a test population older than the training one (distribution shift)")
    echo("")
    echo("Step 1 — audit before deployment:")
    echo(
        f"  tripwire audit --train {data / 'train.csv'} --test {data / 'test.csv'} --target income"
    )
    report = audit(str(data / "train.csv"), str(data / "test.csv"), target="income")
    json_path = report.save_json(out / "report.json")
    html_path = report.save_html(out / "report.html")
    (out / "planted.json").write_text(pd.Series(planted).to_json(indent=2))
    if echo is print or getattr(echo, "__module__", "").startswith("click"):
        from rich.console import Console

        print_summary(report, Console())
    echo("")
    echo(f"HTML report: {html_path.resolve()}")
    echo(f"JSON report: {json_path.resolve()}")
    echo(f"What was planted: {(out / 'planted.json').resolve()}")
    echo("")
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        echo("Step 2 (monitor and loop) needs the service extra: pip install 'tripwire[service]'.")
        return 0
    from tripwire.demo_loop import run_loop_story

    story = run_loop_story(out, echo=echo)
    echo("")
    echo("See it on the dashboard (windows, incidents, versions and the trail):")
    echo(f"  tripwire serve --db {story.db}")
    echo(f"  then open http://127.0.0.1:8765/#token={story.token}")
    return 0 if story.failed == 0 else 1
