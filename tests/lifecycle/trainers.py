"""Retraining entry points used by the loop tests (as a user's `module:function`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier


def fit(train: pd.DataFrame, target: str) -> HistGradientBoostingClassifier:
    X = train.drop(columns=[target])
    return HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, train[target])


def fit_bad(train: pd.DataFrame, target: str) -> HistGradientBoostingClassifier:
    """A deliberately bad trainer: it learns from shuffled labels."""
    X = train.drop(columns=[target])
    y = np.random.default_rng(0).permutation(train[target].to_numpy())
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
