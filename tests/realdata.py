"""Loaders for the real datasets copied into data/ (see data/README.md for sources and licences).

Shared by tests and benchmarks. Each returns a DataFrame with named columns and clean labels.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "data"

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


def adult(split: str = "train") -> pd.DataFrame:
    df = pd.read_csv(
        DATA / "adult" / f"adult-{split}.csv.gz",
        header=None,
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values=["?"],
    )
    df["income"] = df["income"].str.rstrip(".")
    return df


def german_credit() -> pd.DataFrame:
    return pd.read_csv(DATA / "german_credit" / "credit-g.csv", quotechar="'")


def bank_additional() -> pd.DataFrame:
    return pd.read_csv(DATA / "bank_marketing" / "bank-additional.csv", sep=";")


def bank_full() -> pd.DataFrame:
    df = pd.read_csv(DATA / "bank_marketing" / "bank-marketing-full.csv.gz")
    df.columns = [
        "age",
        "job",
        "marital",
        "education",
        "default",
        "balance",
        "housing",
        "loan",
        "contact",
        "day",
        "month",
        "duration",
        "campaign",
        "pdays",
        "previous",
        "poutcome",
        "y",
    ][: df.shape[1]]
    return df


def elec2() -> pd.DataFrame:
    return pd.read_csv(DATA / "elec2" / "electricity.csv.gz")


def wine(color: str = "red") -> pd.DataFrame:
    return pd.read_csv(DATA / "wine_quality" / f"winequality-{color}.csv", sep=";")


def california() -> pd.DataFrame:
    return pd.read_csv(DATA / "california_housing" / "housing.csv.gz")


def bike_hour() -> pd.DataFrame:
    return pd.read_csv(DATA / "bike_sharing" / "hour.csv.gz")


def spambase() -> pd.DataFrame:
    return pd.read_csv(DATA / "spambase" / "spambase.csv.gz")


def sms_spam() -> pd.DataFrame:
    import csv

    return pd.read_csv(
        DATA / "sms_spam" / "SMSSpamCollection.tsv.gz",
        sep="\t",
        header=None,
        names=["label", "text"],
        quoting=csv.QUOTE_NONE,
    )


def crowd(name: str = "dog") -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = DATA / ("crowd_dog" if name == "dog" else "crowd_product_matching")
    return pd.read_csv(folder / "answer.csv"), pd.read_csv(folder / "truth.csv")
