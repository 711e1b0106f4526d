"""Generate the failure zoo: seeded scenarios built from the real datasets in data/.

Each scenario is a folder with the inputs (train.csv + test.csv for ``audit``, reference.csv +
current.csv for ``drift``, optionally model.joblib), ``args.json`` (the command and its CLI
arguments, paths relative to the folder) and ``truth.json``::

    {"name", "family", "dataset", "command": "audit" | "drift",
     "modes": [modes expected to warn; empty for a clean control],
     "control": bool, "label_rows": [planted train rows] | null,
     "columns": [columns the failure is about], "note": "..."}

Usage: ``python -m benchmarks.zoo.generate --out DIR --seed S [--only PREFIX,...]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.zoo import datasets
from benchmarks.zoo.datasets import Base


@dataclass
class Scenario:
    name: str
    family: str
    dataset: str
    command: str
    frames: dict[str, pd.DataFrame]
    args: list[str]
    modes: list[str] = field(default_factory=list)
    label_rows: list[int] | None = None
    columns: list[str] = field(default_factory=list)
    model: Any = None
    note: str = ""

    @property
    def control(self) -> bool:
        return not self.modes

    def write(self, root: Path) -> Path:
        folder = root / self.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for fname, frame in self.frames.items():
            frame.to_csv(folder / fname, index=False)
        if self.model is not None:
            import joblib

            joblib.dump(self.model, folder / "model.joblib")
        (folder / "args.json").write_text(
            json.dumps({"command": self.command, "args": self.args}, indent=1)
        )
        truth = {
            "name": self.name,
            "family": self.family,
            "dataset": self.dataset,
            "command": self.command,
            "modes": self.modes,
            "control": self.control,
            "label_rows": self.label_rows,
            "columns": self.columns,
            "note": self.note,
        }
        (folder / "truth.json").write_text(json.dumps(truth, indent=1))
        return folder


# --------------------------------------------------------------------------- helpers


def split(df: pd.DataFrame, rng: np.random.Generator, test_frac: float = 1 / 3):
    idx = rng.permutation(len(df))
    n_test = int(round(len(df) * test_frac))
    test = df.iloc[np.sort(idx[:n_test])].reset_index(drop=True)
    train = df.iloc[np.sort(idx[n_test:])].reset_index(drop=True)
    return train, test


def audit_args(b: Base, *extra: str) -> list[str]:
    args = ["--train", "train.csv", "--test", "test.csv", "--target", b.target]
    if b.task == "regression":
        args += ["--task", "regression"]
    return args + list(extra)


def drift_args(*extra: str) -> list[str]:
    return ["--reference", "reference.csv", "--current", "current.csv", *extra]


def audit_scenario(name, family, b: Base, train, test, *extra, **kw) -> Scenario:
    return Scenario(
        name,
        family,
        b.name,
        "audit",
        {"train.csv": train, "test.csv": test},
        audit_args(b, *extra),
        **kw,
    )


def drift_scenario(name, family, dataset, ref, cur, *extra, **kw) -> Scenario:
    return Scenario(
        name,
        family,
        dataset,
        "drift",
        {"reference.csv": ref, "current.csv": cur},
        drift_args(*extra),
        **kw,
    )


def other_label(y: pd.Series, rows: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Replace the labels at ``rows`` by a different class drawn uniformly."""
    y = y.copy()
    classes = np.array(sorted(y.unique(), key=str), dtype=object)
    for r in rows:  # a few hundred rows at most
        choices = classes[classes != y.iat[r]]
        y.iat[r] = choices[rng.integers(len(choices))]
    return y


def numeric_features(b: Base, df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if c != b.target and pd.api.types.is_numeric_dtype(df[c]) and df[c].nunique() > 10
    ]


def tabular_model(train: pd.DataFrame, target: str, y: Any = None, scaler_data=None) -> Any:
    """A real scikit-learn pipeline (ordinal-encoded categoricals + HGB) fitted on train."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = train.drop(columns=[target])
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    pre = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                cats,
            )
        ],
        remainder="passthrough",
    )
    model = Pipeline(
        [("pre", pre), ("hgb", HistGradientBoostingClassifier(max_iter=100, random_state=0))]
    )
    model.fit(X, train[target] if y is None else y)
    return model


# --------------------------------------------------------------------------- controls


def controls(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    for name, b in bases.items():
        train, test = split(b.df, rng)
        yield audit_scenario(
            f"control-audit-{name}",
            "control",
            b,
            train,
            test,
            note="random split, nothing planted",
        )
        if name in ("crowd_dog", "crowd_product_matching", "sms_spam"):
            continue
        ref, cur = split(b.df, rng, 0.5)
        yield drift_scenario(
            f"control-drift-{name}",
            "control",
            name,
            ref,
            cur,
            "--target",
            b.target,
            note="random halves, nothing planted",
        )


# --------------------------------------------------------------------------- labels


def label_noise(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    def noisy(b: Base, family: str, rate_name: str, pick: Callable[[pd.DataFrame], np.ndarray]):
        train, test = split(b.df, rng)
        rows = np.sort(pick(train))
        train = train.copy()
        train[b.target] = other_label(train[b.target], rows, rng)
        return audit_scenario(
            f"labels-{family}-{b.name}-{rate_name}",
            f"labels-{family}",
            b,
            train,
            test,
            modes=["labels"],
            label_rows=[int(r) for r in rows],
            columns=[b.target],
            note=f"{len(rows)} of {len(train)} train labels changed ({family})",
        )

    for ds, rate in (("adult", 5), ("adult", 10), ("adult", 20), ("spambase", 10)):
        b = bases[ds]
        yield noisy(
            b,
            "uniform",
            f"{rate}pct",
            lambda t, r=rate: rng.choice(len(t), int(len(t) * r / 100), replace=False),
        )

    def class_conditional(b: Base, rate: int):
        def pick(t: pd.DataFrame) -> np.ndarray:
            pos = np.flatnonzero((t[b.target] == b.positive).to_numpy())
            n = int(len(t) * rate / 100)
            return rng.choice(pos, min(n, len(pos) // 2), replace=False)

        return noisy(b, "class-conditional", f"{rate}pct", pick)

    yield class_conditional(bases["spambase"], 20)
    yield class_conditional(bases["adult"], 10)
    yield class_conditional(bases["bank_marketing"], 5)

    def feature_dependent(b: Base, col: str, rate: int):
        def pick(t: pd.DataFrame) -> np.ndarray:
            z = t[col].rank(pct=True).to_numpy()
            p = z**3
            p = p / p.sum()
            return rng.choice(len(t), int(len(t) * rate / 100), replace=False, p=p)

        s = noisy(b, "feature-dependent", f"{rate}pct", pick)
        s.note += f"; flip probability rises with {col}"
        return s

    yield feature_dependent(bases["adult"], "age", 10)
    yield feature_dependent(bases["elec2"], "nswprice", 10)
    yield feature_dependent(bases["german_credit"], "credit_amount", 10)

    # real annotation noise: the label is one crowd worker's answer, gold known
    for ds in ("crowd_dog", "crowd_product_matching"):
        table, gold = datasets._crowd_table("dog" if ds == "crowd_dog" else "product", rng)
        b = bases[ds]
        order = rng.permutation(len(table))
        n_test = len(table) // 3
        test = table.iloc[np.sort(order[:n_test])].copy()
        test["label"] = gold.iloc[np.sort(order[:n_test])].to_numpy()
        train = table.iloc[np.sort(order[n_test:])].reset_index(drop=True)
        gtrain = gold.iloc[np.sort(order[n_test:])].reset_index(drop=True)
        rows = np.flatnonzero((train["label"] != gtrain).to_numpy())
        yield audit_scenario(
            f"labels-annotator-{ds}",
            "labels-annotator",
            b,
            train,
            test.reset_index(drop=True),
            modes=["labels"],
            label_rows=[int(r) for r in rows],
            columns=["label"],
            note=f"train label = one worker's answer; {len(rows)} of {len(train)} differ from gold",
        )

    # regression: label outliers
    b = bases["california_housing"]
    train, test = split(b.df, rng)
    rows = np.sort(rng.choice(len(train), int(0.05 * len(train)), replace=False))
    train = train.copy()
    y = train[b.target].to_numpy(dtype=float, copy=True)
    y[rows] = rng.permutation(y)[rows]  # another district's value
    train[b.target] = y
    yield audit_scenario(
        "labels-regression-swap-california_housing-5pct",
        "labels-regression-swap",
        b,
        train,
        test,
        modes=["labels"],
        label_rows=[int(r) for r in rows],
        columns=[b.target],
        note="5% of train targets replaced by another row's target",
    )


# --------------------------------------------------------------------------- leakage


def leakage(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    def leak(name, family, b, train, test, *extra, columns=(), note=""):
        return audit_scenario(
            name,
            family,
            b,
            train,
            test,
            *extra,
            modes=["leakage"],
            columns=list(columns),
            note=note,
        )

    # exact train/test duplicates
    for ds in ("adult", "spambase"):
        b = bases[ds]
        train, test = split(b.df, rng)
        copies = test.iloc[rng.choice(len(test), len(test) // 10, replace=False)]
        train = pd.concat([train, copies]).sample(frac=1.0, random_state=1).reset_index(drop=True)
        yield leak(
            f"leakage-duplicates-{ds}",
            "leakage-duplicates",
            b,
            train,
            test,
            note="10% of test rows copied into train",
        )

    # near duplicates: copies with tiny numeric jitter
    for ds in ("california_housing", "spambase"):
        b = bases[ds]
        train, test = split(b.df, rng)
        copies = test.iloc[rng.choice(len(test), len(test) // 10, replace=False)].copy()
        for c in numeric_features(b, copies):
            scale = copies[c].abs().to_numpy() * 0.002 + 1e-9
            copies[c] = copies[c] + rng.normal(0, 1, len(copies)) * scale
        train = pd.concat([train, copies]).sample(frac=1.0, random_state=2).reset_index(drop=True)
        yield leak(
            f"leakage-near-duplicates-{ds}",
            "leakage-near-duplicates",
            b,
            train,
            test,
            note="10% of test rows copied into train with 0.2% numeric jitter",
        )

    # entity overlap: many correlated rows per entity, random split across entities
    elec = datasets.realdata.elec2().iloc[17424:].reset_index(drop=True)
    elec["day_id"] = "d" + (np.arange(len(elec)) // 48).astype(str)
    days = rng.choice(elec["day_id"].unique(), max(10, datasets.MAX_ROWS // 40), replace=False)
    eb = Base("elec2", elec[elec["day_id"].isin(days)].reset_index(drop=True), "class", "binary")
    train, test = split(eb.df, rng)
    yield leak(
        "leakage-entity-elec2-days",
        "leakage-entity",
        eb,
        train,
        test,
        "--group",
        "day_id",
        columns=["day_id"],
        note="half-hours of the same day on both sides of a random split",
    )
    bike = datasets.realdata.bike_hour().drop(columns=["instant", "casual", "registered"])
    bdays = rng.choice(bike["dteday"].unique(), max(10, datasets.MAX_ROWS // 24), replace=False)
    bb = Base(
        "bike_sharing", bike[bike["dteday"].isin(bdays)].reset_index(drop=True), "cnt", "regression"
    )
    train, test = split(bb.df, rng)
    yield leak(
        "leakage-entity-bike_sharing-days",
        "leakage-entity",
        bb,
        train,
        test,
        "--group",
        "dteday",
        columns=["dteday"],
        note="hours of the same day on both sides of a random split",
    )
    b = bases["california_housing"]
    cal = b.df.copy()
    cal["block"] = (
        "b"
        + (cal["latitude"] * 5).round().astype(int).astype(str)
        + "_"
        + (cal["longitude"] * 5).round().astype(int).astype(str)
    )
    cb = Base(b.name, cal, b.target, b.task)
    train, test = split(cb.df, rng)
    yield leak(
        "leakage-entity-california_housing-blocks",
        "leakage-entity",
        cb,
        train,
        test,
        "--group",
        "block",
        columns=["block"],
        note="districts of the same 0.2-degree block on both sides of a random split",
    )

    # temporal: random split of a time series, and a reversed split
    elec = datasets.realdata.elec2().iloc[17424:].reset_index(drop=True)
    elec["timestamp"] = pd.Timestamp("1997-05-01") + pd.to_timedelta(
        np.arange(len(elec)) * 30, "min"
    )
    elec = elec.iloc[
        np.sort(rng.choice(len(elec), min(datasets.MAX_ROWS, len(elec)), replace=False))
    ]
    tb = Base("elec2", elec.reset_index(drop=True), "class", "binary")
    train, test = split(tb.df, rng)
    yield leak(
        "leakage-temporal-elec2-random-split",
        "leakage-temporal",
        tb,
        train,
        test,
        "--time",
        "timestamp",
        columns=["timestamp"],
        note="random split of a time series: train rows after test rows",
    )
    bike = datasets.realdata.bike_hour().drop(columns=["instant", "casual", "registered"])
    bike["timestamp"] = pd.to_datetime(bike["dteday"]) + pd.to_timedelta(bike["hr"], "h")
    bike = bike.drop(columns=["dteday"])
    bike = bike.iloc[np.sort(rng.choice(len(bike), datasets.MAX_ROWS, replace=False))]
    bike = bike.reset_index(drop=True)
    cut = int(len(bike) / 3)
    tb = Base("bike_sharing", bike, "cnt", "regression")
    yield leak(
        "leakage-temporal-bike_sharing-reversed",
        "leakage-temporal",
        tb,
        bike.iloc[cut:].reset_index(drop=True),
        bike.iloc[:cut].reset_index(drop=True),
        "--time",
        "timestamp",
        columns=["timestamp"],
        note="test is the first third in time, train the rest (training on the future)",
    )

    # target-leak features: the real ones and planted ones
    bank = datasets.realdata.bank_additional()
    bank = bank.iloc[
        np.sort(rng.choice(len(bank), min(datasets.MAX_ROWS, len(bank)), replace=False))
    ]
    lb = Base("bank_marketing", bank.reset_index(drop=True), "y", "binary", "yes")
    train, test = split(lb.df, rng)
    yield leak(
        "leakage-target-feature-bank_marketing-duration",
        "leakage-target-feature",
        lb,
        train,
        test,
        columns=["duration"],
        note="call duration, known only after the outcome (the dataset's documented leak)",
    )
    bike = datasets.realdata.bike_hour().drop(columns=["instant", "dteday"])
    bike = bike.iloc[np.sort(rng.choice(len(bike), datasets.MAX_ROWS, replace=False))]
    lb = Base("bike_sharing", bike.reset_index(drop=True), "cnt", "regression")
    train, test = split(lb.df, rng)
    yield leak(
        "leakage-target-feature-bike_sharing-casual-registered",
        "leakage-target-feature",
        lb,
        train,
        test,
        columns=["casual", "registered"],
        note="casual + registered = cnt",
    )
    for ds in ("adult", "german_credit"):
        b = bases[ds]
        df = b.df.copy()
        y = (df[b.target] == b.positive).to_numpy().astype(float)
        flip = rng.random(len(df)) < 0.05
        df["account_flag_score"] = np.round(
            np.where(flip, 1 - y, y) * 2 + rng.normal(0, 0.5, len(df)), 3
        )
        lb = Base(ds, df, b.target, b.task, b.positive)
        train, test = split(lb.df, rng)
        yield leak(
            f"leakage-target-feature-{ds}-planted",
            "leakage-target-feature",
            lb,
            train,
            test,
            columns=["account_flag_score"],
            note="a numeric feature = label (5% flipped) + noise",
        )

    # missingness that encodes the label
    for ds, col in (
        ("adult", "hours_per_week"),
        ("german_credit", "credit_amount"),
        ("spambase", "capital_run_length_average"),
    ):
        b = bases[ds]
        df = b.df.copy()
        pos = (df[b.target] == b.positive).to_numpy()
        miss = np.where(pos, rng.random(len(df)) < 0.6, rng.random(len(df)) < 0.03)
        df[col] = df[col].astype(float).where(~miss)
        lb = Base(ds, df, b.target, b.task, b.positive)
        train, test = split(lb.df, rng)
        yield leak(
            f"leakage-missingness-{ds}",
            "leakage-missingness",
            lb,
            train,
            test,
            columns=[col],
            note=f"{col} missing for 60% of positives and 3% of negatives",
        )

    # preprocessing fitted on all data (train + test) before the split
    for ds in ("california_housing", "wine_quality", "spambase"):
        b = bases[ds]
        train, test = split(b.df, rng)
        cols = numeric_features(b, train)
        both = pd.concat([train, test])
        mu, sd = both[cols].mean(), both[cols].std(ddof=0)
        train, test = train.copy(), test.copy()
        train[cols] = (train[cols] - mu) / sd
        test[cols] = (test[cols] - mu) / sd
        yield leak(
            f"leakage-preprocessing-scaled-{ds}",
            "leakage-preprocessing",
            b,
            train,
            test,
            columns=cols,
            note="numeric columns standardised with the mean and SD of train + test",
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    b = bases["spambase"]
    train, test = split(b.df, rng)
    X_all = pd.concat([train, test]).drop(columns=[b.target])
    scaler = StandardScaler().fit(X_all)
    clf = LogisticRegression(max_iter=2000).fit(
        scaler.transform(train.drop(columns=[b.target])), train[b.target]
    )
    model = make_pipeline(scaler, clf)
    yield audit_scenario(
        "leakage-preprocessing-model-spambase",
        "leakage-preprocessing",
        b,
        train,
        test,
        "--model",
        "model.joblib",
        modes=["leakage"],
        model=model,
        note="model.joblib: StandardScaler fitted on train + test, then the classifier on train",
    )


# --------------------------------------------------------------------------- metrics


def metrics(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    def m(name, family, b, train, test, *extra, model=None, note=""):
        return audit_scenario(
            name, family, b, train, test, *extra, modes=["metrics"], model=model, note=note
        )

    for ds in ("bank_marketing", "crowd_product_matching", "sms_spam"):
        b = bases[ds]
        train, test = split(b.df, rng)
        model = DummyClassifier(strategy="most_frequent").fit(
            train.drop(columns=[b.target]), train[b.target]
        )
        yield m(
            f"metrics-majority-model-{ds}",
            "metrics-majority-model",
            b,
            train,
            test,
            "--model",
            "model.joblib",
            model=model,
            note="model.joblib always predicts the majority class; accuracy looks high",
        )
    for ds in ("bank_marketing", "adult"):
        b = bases[ds]
        train, test = split(b.df, rng)
        majority = train[b.target].mode().iat[0]
        test = test.copy()
        test["prediction"] = majority
        train = train.copy()
        train["prediction"] = majority
        yield m(
            f"metrics-constant-prediction-{ds}",
            "metrics-constant-prediction",
            b,
            train,
            test,
            "--prediction",
            "prediction",
            note="a prediction column that is always the majority class",
        )
    for ds in ("bank_marketing", "adult"):
        b = bases[ds]
        train, test = split(b.df, rng)
        shuffled = rng.permutation(train[b.target].to_numpy())
        model = tabular_model(train, b.target, y=shuffled)
        yield m(
            f"metrics-no-skill-model-{ds}",
            "metrics-no-skill-model",
            b,
            train,
            test,
            "--model",
            "model.joblib",
            model=model,
            note="a real HGB pipeline trained on shuffled labels (no skill, plausible accuracy)",
        )
    for ds in ("california_housing", "bike_sharing"):
        b = bases[ds]
        train, test = split(b.df, rng)
        model = DummyRegressor().fit(train.drop(columns=[b.target]), train[b.target])
        yield m(
            f"metrics-mean-regressor-{ds}",
            "metrics-mean-regressor",
            b,
            train,
            test,
            "--model",
            "model.joblib",
            model=model,
            note="model.joblib predicts the training mean",
        )


# --------------------------------------------------------------------------- drift


COVARIATE_WEIGHT = 3.0  # drift-covariate-numeric: current sampled with weight exp(w * percentile)


def _weighted(df: pd.DataFrame, w: np.ndarray, n: int, rng: np.random.Generator) -> pd.DataFrame:
    p = w / w.sum()
    return df.iloc[np.sort(rng.choice(len(df), n, replace=False, p=p))].reset_index(drop=True)


def _own_stream(rng: np.random.Generator, name: str) -> np.random.Generator:
    """A stream of the family's seed and the scenario's name: changing how one scenario is
    drawn leaves the draws of the others as they were."""
    entropy = np.atleast_1d(rng.bit_generator.seed_seq.entropy).tolist()  # type: ignore[attr-defined]
    return np.random.default_rng([*entropy, zlib.crc32(name.encode())])


def drift(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    def d(name, family, ds, ref, cur, columns, note, *extra):
        return drift_scenario(
            name, family, ds, ref, cur, *extra, modes=["drift"], columns=columns, note=note
        )

    # covariate shift on a numeric column by selection: weight exp(3 * percentile) moves the
    # column's mean by about half a reference SD, a shift that matters;
    # the realised shift is stated in the note. (exp(1.5 * percentile), used before, moved adult's
    # age by 0.16 SD, below the 0.25 SD tripwire reports it detects with 80 % power there.)
    for ds, col in (
        ("california_housing", "median_income"),
        ("wine_quality", "alcohol"),
        ("elec2", "nswdemand"),
        ("adult", "age"),
    ):
        b = bases[ds]
        name = f"drift-covariate-numeric-{ds}"
        r = _own_stream(rng, name)
        ref, pool = split(b.df, r, 0.5)
        z = pool[col].rank(pct=True).to_numpy()
        cur = _weighted(pool, np.exp(COVARIATE_WEIGHT * z), len(pool) // 2, r)
        moved = (cur[col].mean() - ref[col].mean()) / ref[col].std()
        yield d(
            name,
            "drift-covariate-numeric",
            ds,
            ref,
            cur,
            [col],
            f"current sampled with weight exp({COVARIATE_WEIGHT:g} * percentile of {col}): "
            f"its mean moved by {moved:.2f} SD of the reference",
            "--target",
            b.target,
        )
    # categorical shift
    for ds, col, level in (
        ("adult", "sex", "Female"),
        ("bank_marketing", "job", "blue-collar"),
        ("german_credit", "purpose", "new car"),
    ):
        b = bases[ds]
        name = f"drift-categorical-{ds}"
        r = _own_stream(rng, name)
        ref, pool = split(b.df, r, 0.5)
        w = np.where(pool[col] == level, 4.0, 1.0)
        cur = _weighted(pool, w, len(pool) // 2, r)
        yield d(
            name,
            "drift-categorical",
            ds,
            ref,
            cur,
            [col],
            f"current sampled with {col} = {level!r} four times as likely: its share "
            f"{(ref[col] == level).mean():.2f} -> {(cur[col] == level).mean():.2f}",
            "--target",
            b.target,
        )
    # label shift
    for ds in ("bank_marketing", "adult", "spambase"):
        b = bases[ds]
        name = f"drift-label-shift-{ds}"
        r = _own_stream(rng, name)
        ref, pool = split(b.df, r, 0.5)
        pos = (pool[b.target] == b.positive).to_numpy()
        w = np.where(pos, 3.0, 1.0) if pos.mean() < 0.3 else np.where(pos, 0.3, 1.0)
        cur = _weighted(pool, w, len(pool) // 2, r)
        yield d(
            name,
            "drift-label-shift",
            ds,
            ref,
            cur,
            [b.target],
            f"class prior {pos.mean():.2f} -> {(cur[b.target] == b.positive).mean():.2f}",
            "--target",
            b.target,
        )
    # concept / time: the real elec2 stream, an early window vs a late one; bike 2011 vs 2012
    elec = datasets.realdata.elec2().iloc[17424:].reset_index(drop=True)
    r = _own_stream(rng, "drift-concept-elec2-time")
    early = elec.iloc[:6000].sample(datasets.MAX_ROWS // 2, random_state=int(r.integers(1 << 31)))
    late = elec.iloc[-6000:].sample(datasets.MAX_ROWS // 2, random_state=int(r.integers(1 << 31)))
    yield d(
        "drift-concept-elec2-time",
        "drift-concept-time",
        "elec2",
        early.reset_index(drop=True),
        late.reset_index(drop=True),
        ["class"],
        "elec2 first 6,000 half-hours (after Victoria data begins) vs the last 6,000",
        "--target",
        "class",
    )
    bike = datasets.realdata.bike_hour().drop(
        columns=["instant", "casual", "registered", "dteday", "yr"]
    )
    y0 = datasets.realdata.bike_hour()["yr"].to_numpy()
    yield d(
        "drift-concept-bike_sharing-year",
        "drift-concept-time",
        "bike_sharing",
        bike[y0 == 0].sample(datasets.MAX_ROWS // 2, random_state=1).reset_index(drop=True),
        bike[y0 == 1].sample(datasets.MAX_ROWS // 2, random_state=2).reset_index(drop=True),
        ["cnt"],
        "2011 vs 2012 (ridership grew)",
        "--target",
        "cnt",
    )
    # pure concept: same inputs, labels flipped in a region
    b = bases["spambase"]
    r = _own_stream(rng, "drift-concept-spambase-relabel")
    ref, cur = split(b.df, r, 0.5)
    cur = cur.copy()
    region = (cur["char_freq_!"] > 0).to_numpy()
    flip = region & (r.random(len(cur)) < 0.5)
    cur[b.target] = np.where(flip, 1 - cur[b.target], cur[b.target])
    yield d(
        "drift-concept-spambase-relabel",
        "drift-concept-relabel",
        "spambase",
        ref,
        cur,
        [b.target],
        "same inputs; half the labels of mails with '!' flipped (P(y|x) changed)",
        "--target",
        b.target,
    )


# --------------------------------------------------------------------------- robustness


def robustness(bases: dict[str, Base], rng: np.random.Generator) -> Iterator[Scenario]:
    def weak(name, family, b, train, test, col, note):
        return audit_scenario(
            name, family, b, train, test, modes=["robustness"], columns=[col], note=note
        )

    # categorical slice with random labels (train and test)
    for ds, col, level in (
        ("adult", "relationship", "Husband"),
        ("bank_marketing", "job", "admin."),
    ):
        b = bases[ds]
        df = b.df.copy()
        sl = (df[col] == level).to_numpy()
        classes = df[b.target].unique()
        df.loc[sl, b.target] = rng.choice(classes, sl.sum())
        train, test = split(df, rng)
        yield weak(
            f"robustness-slice-random-labels-{ds}",
            "robustness-slice-random-labels",
            b,
            train,
            test,
            col,
            f"labels random where {col} = {level!r} ({sl.mean():.0%} of rows)",
        )
    # numeric range slice with noisy targets (regression) / labels (binary)
    b = bases["california_housing"]
    df = b.df.copy()
    sl = (df["housing_median_age"] >= 40).to_numpy()
    y = df[b.target].to_numpy(dtype=float, copy=True)
    y[sl] = rng.permutation(y[sl])
    df[b.target] = y
    train, test = split(df, rng)
    yield weak(
        "robustness-range-noise-california_housing",
        "robustness-range-noise",
        b,
        train,
        test,
        "housing_median_age",
        "targets shuffled among districts with housing_median_age >= 40",
    )
    b = bases["elec2"]
    df = b.df.copy()
    sl = (df["period"] < 0.25).to_numpy()
    df.loc[sl, b.target] = rng.choice(df[b.target].unique(), sl.sum())
    train, test = split(df, rng)
    yield weak(
        "robustness-range-noise-elec2-night",
        "robustness-range-noise",
        b,
        train,
        test,
        "period",
        "labels random for the night half-hours (period < 0.25)",
    )
    # slice whose relation is different in test (model learns the majority rule)
    for ds, col in (("spambase", "word_freq_hp"), ("german_credit", "checking_status")):
        b = bases[ds]
        train, test = split(b.df, rng)
        test = test.copy()
        if pd.api.types.is_numeric_dtype(test[col]):
            sl = (test[col] > 0).to_numpy()
        else:
            sl = (test[col] == test[col].mode().iat[0]).to_numpy()
        classes = np.array(sorted(test[b.target].unique(), key=str), dtype=object)
        cur = test[b.target].to_numpy(dtype=object)
        test[b.target] = np.where(sl, np.where(cur == classes[0], classes[1], classes[0]), cur)
        yield weak(
            f"robustness-slice-inverted-{ds}",
            "robustness-slice-inverted",
            b,
            train,
            test,
            col,
            f"test labels inverted in one slice of {col} ({sl.mean():.0%} of test)",
        )


FAMILIES = {
    "control": controls,
    "labels": label_noise,
    "leakage": leakage,
    "metrics": metrics,
    "drift": drift,
    "robustness": robustness,
}


def generate(
    out: Path, seed: int = 0, only: list[str] | None = None, max_rows: int | None = None
) -> list[Path]:
    """Write the scenarios (all, or those whose name starts with one of ``only``).

    Each family draws from its own seeded stream, so a subset is identical to the same
    scenarios in a full run.
    """
    saved = datasets.MAX_ROWS
    if max_rows is not None:
        datasets.MAX_ROWS = max_rows
    try:
        return _generate(out, seed, only)
    finally:
        datasets.MAX_ROWS = saved


def _generate(out: Path, seed: int, only: list[str] | None) -> list[Path]:
    base_rng = np.random.default_rng([seed, 0])
    bases = {name: datasets.load(name, base_rng) for name in datasets.DATASETS}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (key, make) in enumerate(FAMILIES.items(), start=1):
        if only and not any(p.startswith(key) or key.startswith(p) for p in only):
            continue
        rng = np.random.default_rng([seed, i])
        for s in make(bases, rng):
            if only and not any(s.name.startswith(p) for p in only):
                continue
            written.append(s.write(out))
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default=None, help="comma-separated scenario name prefixes")
    ap.add_argument("--max-rows", type=int, default=None, help="rows per base table (3000)")
    a = ap.parse_args(argv)
    only = [p for p in (a.only or "").split(",") if p]
    paths = generate(a.out, a.seed, only or None, a.max_rows)
    print(f"wrote {len(paths)} scenarios to {a.out}")


if __name__ == "__main__":
    main()
