"""Clean, subsampled base tables for the failure zoo.

Each base table is one real dataset from data/ with the problems it carries in the wild
removed (known leaking columns dropped, exact duplicate rows removed, California's censored
house values dropped), so that a random split of it is a clean control and anything a scenario
plants is the only thing to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tests import realdata

MAX_ROWS = 3000  # train 2/3, test 1/3: keeps the whole zoo to minutes on two cores


@dataclass
class Base:
    name: str
    df: pd.DataFrame
    target: str
    task: str  # binary | multiclass | regression
    positive: object = None  # the minority / positive class for binary tasks


def _sample(
    df: pd.DataFrame, rng: np.random.Generator, n: int | None = None, dedupe: bool = True
) -> pd.DataFrame:
    n = MAX_ROWS if n is None else min(n, MAX_ROWS)
    if dedupe:
        df = df.drop_duplicates().reset_index(drop=True)
    if len(df) > n:
        df = df.iloc[np.sort(rng.choice(len(df), n, replace=False))].reset_index(drop=True)
    return df


def _crowd_table(name: str, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """One row per item: vote counts of all but one worker as features, one worker's answer.

    Returns the table (label = the held-out worker's answer) and the gold label per row, so a
    scenario can use the real annotation noise (answer != gold) or the gold label as a control.
    """
    answers, truth = realdata.crowd(name)
    answers = answers[answers["question"].isin(truth["question"])]
    answers = answers.sample(frac=1.0, random_state=int(rng.integers(1 << 31)))
    first = answers.groupby("question", sort=False).head(1).set_index("question")["answer"]
    rest = answers.drop(answers.groupby("question", sort=False).head(1).index)
    counts = pd.crosstab(rest["question"], rest["answer"])
    counts.columns = [f"votes_{c}" for c in counts.columns]
    gold = truth.set_index("question")["truth"]
    items = counts.index.intersection(first.index).intersection(gold.index)
    table = counts.loc[items].reset_index(drop=True)
    table["label"] = first.loc[items].to_numpy()
    return table, gold.loc[items].reset_index(drop=True)


def load(name: str, rng: np.random.Generator) -> Base:
    if name == "adult":
        df = _sample(realdata.adult("train"), rng)
        return Base(name, df, "income", "binary", ">50K")
    if name == "german_credit":
        return Base(name, _sample(realdata.german_credit(), rng), "class", "binary", "bad")
    if name == "bank_marketing":
        df = realdata.bank_additional().drop(columns=["duration"])  # known target leak
        return Base(name, _sample(df, rng), "y", "binary", "yes")
    if name == "elec2":
        df = realdata.elec2().iloc[17424:]  # before: constant Victoria placeholders
        return Base(name, _sample(df, rng), "class", "binary", "UP")
    if name == "bike_sharing":
        df = realdata.bike_hour().drop(columns=["instant", "casual", "registered", "dteday"])
        return Base(name, _sample(df, rng), "cnt", "regression")
    if name == "wine_quality":
        df = realdata.wine("red")
        return Base(name, _sample(df, rng), "quality", "regression")
    if name == "california_housing":
        df = realdata.california()
        # values above $500,000 were recorded as 500,001: a censored target (data.target_capped)
        df = df[df["median_house_value"] < df["median_house_value"].max()]
        return Base(name, _sample(df, rng), "median_house_value", "regression")
    if name == "spambase":
        return Base(name, _sample(realdata.spambase(), rng), "spam", "binary", 1)
    if name == "sms_spam":
        df = realdata.sms_spam().drop_duplicates("text")
        return Base(name, _sample(df, rng, 2400), "label", "binary", "spam")
    if name in ("crowd_dog", "crowd_product_matching"):
        table, gold = _crowd_table("dog" if name == "crowd_dog" else "product", rng)
        table["label"] = gold.to_numpy()  # the control uses gold labels
        task = "multiclass" if name == "crowd_dog" else "binary"
        # Equal rows are different items with the same vote counts (3 votes per product pair
        # give 6 distinct rows in all): dropping them would leave no table to audit.
        sample = _sample(table, rng, dedupe=False)
        return Base(name, sample, "label", task, None if task == "multiclass" else 1)
    raise ValueError(f"unknown dataset {name!r}")


DATASETS = (
    "adult",
    "german_credit",
    "bank_marketing",
    "elec2",
    "bike_sharing",
    "wine_quality",
    "california_housing",
    "spambase",
    "sms_spam",
    "crowd_dog",
    "crowd_product_matching",
)
