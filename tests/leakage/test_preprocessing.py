from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)

from tests import realdata
from tests.leakage.helpers import alarms, by_check, leakage

NUM = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CAT = ["native_country", "occupation", "workclass"]


def _clf() -> LogisticRegression:
    return LogisticRegression(max_iter=300)


def _num(step: Any, name: str) -> Pipeline:
    return Pipeline([(name, step), ("model", _clf())])


CASES: dict[str, tuple[Callable[[], Pipeline], list[str], set[str]]] = {
    "standard": (lambda: _num(StandardScaler(), "scale"), NUM, {"scale"}),
    "minmax": (lambda: _num(MinMaxScaler(), "scale"), NUM, {"scale"}),
    "robust": (lambda: _num(RobustScaler(), "scale"), NUM, {"scale"}),
    "imputer": (
        lambda: Pipeline(
            [
                ("impute", SimpleImputer(strategy="mean")),
                ("scale", StandardScaler()),
                ("model", _clf()),
            ]
        ),
        NUM,
        {"impute", "scale"},
    ),
    "select": (
        lambda: Pipeline(
            [("scale", StandardScaler()), ("select", SelectKBest(k=3)), ("model", _clf())]
        ),
        NUM,
        {"scale", "select"},
    ),
    "pca": (
        lambda: Pipeline(
            [
                ("scale", StandardScaler()),
                ("pca", PCA(n_components=3, random_state=0)),
                ("model", _clf()),
            ]
        ),
        NUM,
        {"scale", "pca"},
    ),
    "column_transformer": (
        lambda: Pipeline(
            [
                (
                    "prep",
                    ColumnTransformer(
                        [
                            ("num", StandardScaler(), NUM),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), CAT),
                        ]
                    ),
                ),
                ("model", _clf()),
            ]
        ),
        NUM + CAT,
        {"prep/num", "prep/cat"},
    ),
    "target_encoder": (
        lambda: Pipeline(
            [
                (
                    "prep",
                    ColumnTransformer(
                        [("te", TargetEncoder(cv=KFold(5, shuffle=True, random_state=0)), CAT)],
                        remainder=StandardScaler(),
                    ),
                ),
                ("model", _clf()),
            ]
        ),
        NUM + CAT,
        {"prep/te", "prep/remainder"},
    ),
}


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = realdata.adult().sample(3000, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(0)
    df.loc[rng.random(len(df)) < 0.05, "hours_per_week"] = np.nan
    df["y"] = (df["income"] == ">50K").astype(int)
    df = df.drop(columns=["income"])
    tr, te = train_test_split(df, test_size=0.3, random_state=0)
    return tr.reset_index(drop=True), te.reset_index(drop=True)


def _fit(case: str, frame: pd.DataFrame) -> tuple[Pipeline, list[str]]:
    make, cols, _ = CASES[case]
    X = frame[cols]
    if "imputer" not in case:
        X = X.fillna({"hours_per_week": 40.0})
    return make().fit(X, frame["y"]), cols


def _inputs(frame: pd.DataFrame, cols: list[str], case: str) -> pd.DataFrame:
    X = frame[[*cols, "y"]]
    return X if "imputer" in case else X.fillna({"hours_per_week": 40.0})


@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_fitted_on_test_are_named(
    case: str, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    tr, te = split
    model, cols = _fit(case, pd.concat([tr, te], ignore_index=True))
    found = by_check(
        leakage(
            _inputs(tr, cols, case),
            _inputs(te, cols, case),
            "y",
            checks="leakage.preprocessing",
            model=model,
        ),
        "leakage.preprocessing",
    )
    assert found and found[0].severity == "critical", [f.title for f in found]
    flagged = {s["step"] for s in found[0].evidence["steps"] if s["fitted_on"] == "train+test"}
    assert flagged == CASES[case][2]


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipelines_fitted_on_train_are_clean(
    case: str, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    tr, te = split
    model, cols = _fit(case, tr)
    found = leakage(
        _inputs(tr, cols, case),
        _inputs(te, cols, case),
        "y",
        checks="leakage.preprocessing",
        model=model,
    )
    assert not alarms(found), [f.title for f in found]
    steps = found[0].evidence["steps"]
    assert {s["step"] for s in steps} == CASES[case][2] and all(
        s["fitted_on"] == "train" for s in steps
    )
