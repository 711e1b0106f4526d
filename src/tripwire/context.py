"""The inputs of one audit, as every check sees them.

:class:`AuditContext` holds the prepared tables (index = 0-based row position in the input),
the schema, the optional user model and options. Expensive shared results (out-of-fold
predictions, the fitted model, predictions on test) are computed once, on first use, and
cached here so that checks of different failure modes do not fit the same model twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tripwire.data import Schema

ProgressFn = Callable[[str], None]


@dataclass
class AuditContext:
    """Everything a check may read. Checks must not mutate the frames."""

    train: pd.DataFrame
    schema: Schema
    test: pd.DataFrame | None = None
    #: The tables exactly as read (before kind coercion), for user models that expect them.
    raw: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    model: Any = None
    options: Mapping[str, Any] = field(default_factory=dict)
    random_state: int = 0
    names: Mapping[str, str] = field(default_factory=dict)
    annotations: pd.DataFrame | None = None
    note: ProgressFn | None = None
    #: How findings name the two inputs: ("train", "test") in an audit, ("reference",
    #: "current") in a drift comparison (``train``/``test`` hold them either way).
    sides: tuple[str, str] = ("train", "test")
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- shortcuts -----------------------------------------------------------------------
    @property
    def target(self) -> str | None:
        return self.schema.roles.target

    @property
    def task(self) -> str | None:
        return self.schema.task

    @property
    def is_classification(self) -> bool:
        return self.schema.task in ("binary", "multiclass")

    @property
    def features(self) -> list[str]:
        return list(self.schema.features)

    @property
    def kinds(self) -> Mapping[str, str]:
        return self.schema.kinds

    def frame(self, side: str) -> pd.DataFrame:
        df = self.train if side == "train" else self.test
        if df is None:
            raise KeyError(f"no {side} data in this audit")
        return df

    def X(self, side: str = "train") -> pd.DataFrame:
        return self.frame(side)[self.features]

    def y(self, side: str = "train") -> pd.Series:
        assert self.target is not None
        return self.frame(side)[self.target]

    def option(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute ``compute()`` once per audit and share it between checks."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def progress(self, message: str) -> None:
        if self.note is not None:
            self.note(message)

    # -- requirements --------------------------------------------------------------------
    def missing(self, requirement: str) -> str | None:
        """Why ``requirement`` is not met, or None when it is."""
        roles = self.schema.roles
        if requirement == "test":
            return None if self.test is not None else "needs a test set (--test)"
        if requirement == "target":
            return None if roles.target else "needs a target column (--target)"
        if requirement == "classification":
            return None if self.is_classification else "applies to classification targets only"
        if requirement == "regression":
            return None if self.task == "regression" else "applies to regression targets only"
        if requirement == "time":
            return None if roles.time else "needs a time column (--time)"
        if requirement == "group":
            return None if roles.group else "needs a group column (--group)"
        if requirement == "user_model":
            return None if self.model is not None else "needs a fitted model (--model)"
        if requirement == "model":
            if self.model is not None or roles.prediction or roles.probabilities:
                return None
            if not (self.target and self.features):
                return "needs a target and features"
            return None if self._baseline_can_fit() else self._no_baseline_reason()
        if requirement == "predictions":
            # a model's outputs on both sides: the user's model or prediction columns, or (in
            # an audit, where train has labels) the baseline model
            if self.model is not None or roles.prediction or roles.probabilities:
                return None
            if self.sides[0] == "train" and self.target and self._baseline_can_fit():
                return None
            return "needs a model (--model) or prediction columns (--prediction/--probabilities)"
        if requirement == "annotations":
            ok = self.annotations is not None or bool(self.option("label_columns"))
            return None if ok else "needs several annotators (--annotations or --label-columns)"
        if requirement == "features":
            return None if self.features else "needs at least one feature column"
        return f"unknown requirement {requirement!r}"

    def _baseline_can_fit(self) -> bool:
        from tripwire.models import MODEL_KINDS

        return any(self.kinds.get(c) in MODEL_KINDS for c in self.features)

    def _no_baseline_reason(self) -> str:
        kinds = ", ".join(f"{c} ({self.kinds.get(c)})" for c in self.features[:5])
        return (
            f"the baseline model uses numeric, boolean, datetime and categorical columns; the "
            f"features here are {kinds}: pass a fitted model (--model) or prediction columns"
        )

    # -- shared model results ------------------------------------------------------------
    def oof(self) -> Any:
        """Out-of-fold predictions on train (see :func:`tripwire.models.out_of_fold`)."""
        from tripwire.models import out_of_fold

        return self.cached("oof", lambda: out_of_fold(self))

    def fitted_model(self) -> Any:
        """The user's model, or the baseline fitted on all of train."""
        from tripwire.models import fit_baseline

        if self.model is not None:
            return self.model
        return self.cached("baseline", lambda: fit_baseline(self))

    def test_predictions(self) -> Any:
        """The model's predictions on test (see :func:`tripwire.models.predict_side`)."""
        from tripwire.models import predict_side

        return self.cached("pred:test", lambda: predict_side(self, "test"))

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng(self.random_state + salt)
