"""Baseline models, out-of-fold predictions and adapters for user models.

The default model is scikit-learn's HistGradientBoosting: fast, strong on tables, and native
on missing values and categories. Features are encoded by :class:`TabularEncoder`, which turns
every column kind into numbers (categories become codes, dates become seconds, free text
becomes a fixed number of latent components of its TF-IDF matrix in the baseline model;
identifiers are left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.pipeline import Pipeline

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

MODEL_KINDS = ("numeric", "boolean", "datetime", "categorical")
MAX_CATEGORIES = 250  # HistGradientBoosting allows at most max_bins (255) categories
#: The baseline model reads each free-text column as this many components of a truncated SVD
#: of its word TF-IDF matrix (latent semantic analysis): trees need dense inputs.
TEXT_COMPONENTS = 64
TEXT_VOCABULARY = 50_000


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-kind DataFrame as a float matrix for tree models.

    Parameters
    ----------
    kinds
        Column name to kind (see :data:`tripwire.data.KINDS`). Columns of kind
        ``identifier`` are dropped, and so are ``text`` columns unless ``text_components``.
    text_components
        When positive, each text column becomes exactly this many columns (after the others):
        a truncated SVD of its word and word-pair TF-IDF matrix, zero-padded when the
        vocabulary is smaller. ``blocks_`` maps every used column to its output positions.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0, None], "c": ["x", "y", "x"]})
    >>> enc = TabularEncoder({"a": "numeric", "c": "categorical"}).fit(X)
    >>> enc.transform(X).tolist()
    [[1.0, 0.0], [2.0, 1.0], [nan, 0.0]]
    >>> enc.categorical_mask_.tolist()
    [False, True]
    """

    def __init__(
        self, kinds: dict[str, str] | None = None, text_components: int = 0, random_state: int = 0
    ) -> None:
        self.kinds = kinds
        self.text_components = text_components
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any = None) -> TabularEncoder:
        kinds = self.kinds or {c: "numeric" for c in X.columns}
        self.columns_ = [c for c in X.columns if kinds.get(c, "numeric") in MODEL_KINDS]
        texts = [c for c in X.columns if kinds.get(c) == "text"] if self.text_components else []
        self.text_: dict[str, Any] = {c: self._fit_text(X[c]) for c in texts}
        k = int(self.text_components)
        n = len(self.columns_)
        self.blocks_ = {c: [j] for j, c in enumerate(self.columns_)}
        self.blocks_.update(
            {c: list(range(n + i * k, n + (i + 1) * k)) for i, c in enumerate(texts)}
        )
        self.categories_: dict[str, dict[Any, int]] = {}
        for c in self.columns_:
            if kinds.get(c) == "categorical":
                counts = X[c].dropna().astype(str).value_counts()
                top = counts.index[:MAX_CATEGORIES]
                self.categories_[c] = {v: i for i, v in enumerate(sorted(top))}
        self.kinds_ = {c: kinds.get(c, "numeric") for c in self.columns_}
        self.categorical_mask_ = np.array(
            [self.kinds_[c] == "categorical" for c in self.columns_] + [False] * k * len(texts)
        )
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_text(self, col: pd.Series) -> Any:
        """A fitted TF-IDF + truncated SVD pipeline for one text column (None: no words)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = col.fillna("").astype(str)
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_features=TEXT_VOCABULARY,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            tfidf = vec.fit_transform(docs)
        except ValueError:  # empty vocabulary: no word occurs twice
            return None
        k = min(int(self.text_components), tfidf.shape[1] - 1, tfidf.shape[0] - 1)
        if k < 1:
            return None
        svd = TruncatedSVD(k, random_state=self.random_state).fit(tfidf)
        return Pipeline([("tfidf", vec), ("svd", svd)])

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        k = int(self.text_components)
        width = len(self.columns_) + k * len(self.text_)
        out = np.zeros((len(X), width), dtype=float)
        for i, (c, fitted) in enumerate(self.text_.items()):
            if fitted is not None:
                z = fitted.transform(X[c].fillna("").astype(str))
                start = len(self.columns_) + i * k
                out[:, start : start + z.shape[1]] = z
        for j, c in enumerate(self.columns_):
            col = X[c]
            kind = self.kinds_[c]
            if kind == "categorical":
                mapping = self.categories_[c]
                out[:, j] = (
                    col.astype(str)
                    .map(mapping)
                    .where(col.notna())
                    .to_numpy(dtype=float, na_value=np.nan)
                )
            elif kind == "datetime":
                t = pd.to_datetime(col, errors="coerce")
                secs = t.to_numpy(dtype="datetime64[s]").astype("int64").astype(float)
                secs[t.isna().to_numpy()] = np.nan
                out[:, j] = secs
            else:
                out[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(
                    dtype=float, na_value=np.nan
                )
        return out


def make_baseline(
    task: str, kinds: dict[str, str], random_state: int = 0, fast: bool = False
) -> Pipeline:
    """The default model for ``task``: encoder + HistGradientBoosting.

    Examples
    --------
    >>> make_baseline("binary", {"a": "numeric"}).steps[-1][0]
    'model'
    """
    enc = TabularEncoder(kinds, text_components=TEXT_COMPONENTS, random_state=random_state)
    # The categorical mask depends on the encoder's output order, known from the kinds: the
    # used columns in order, then TEXT_COMPONENTS numeric columns per text column.
    common = dict(
        max_iter=100 if fast else 200,
        learning_rate=0.1,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=random_state,
    )
    cat_mask = [k == "categorical" for k in kinds.values() if k in MODEL_KINDS]
    cat_mask += [False] * TEXT_COMPONENTS * sum(k == "text" for k in kinds.values())
    categorical = np.array(cat_mask) if any(cat_mask) else None
    model: Any
    if task == "regression":
        model = HistGradientBoostingRegressor(categorical_features=categorical, **common)
    else:
        model = HistGradientBoostingClassifier(categorical_features=categorical, **common)
    return Pipeline([("encode", enc), ("model", model)])


@dataclass(frozen=True)
class Predictions:
    """A model's predictions on one side, aligned with that side's rows.

    ``proba`` has one column per entry of ``classes`` (classification only); ``label`` is the
    predicted class or value; ``index`` holds the row positions in the input.
    """

    label: np.ndarray
    index: np.ndarray
    proba: np.ndarray | None = None
    classes: tuple[Any, ...] = ()
    source: str = "baseline"


def _model_features(ctx: AuditContext) -> dict[str, str]:
    return {c: ctx.kinds[c] for c in ctx.features}


def cv_folds(ctx: AuditContext, y: pd.Series, n_splits: int = 5) -> tuple[Any, np.ndarray | None]:
    """The cross-validation splitter for ``y`` (stratified and/or grouped by ``--group``) and
    the group of every train row (None without a group column)."""
    group = ctx.schema.roles.group
    groups = ctx.train[group].astype(str).to_numpy() if group else None
    if ctx.is_classification:
        min_count = int(y.value_counts().min())
        k = max(2, min(n_splits, min_count))
        if groups is not None and len(np.unique(groups)) >= k:
            return StratifiedGroupKFold(k, shuffle=True, random_state=ctx.random_state), groups
        return StratifiedKFold(k, shuffle=True, random_state=ctx.random_state), None
    if groups is not None and len(np.unique(groups)) >= n_splits:
        return GroupKFold(n_splits), groups
    return KFold(n_splits, shuffle=True, random_state=ctx.random_state), None


def out_of_fold(ctx: AuditContext, n_splits: int = 5) -> Predictions:
    """Out-of-fold predictions on train from a clone of the user's model or the baseline.

    Each row is predicted by a model that did not see it. With a group column the folds keep
    groups together.
    """
    assert ctx.target is not None and ctx.task is not None
    y = ctx.y("train")
    if ctx.model is not None:
        est = clone(ctx.model)
        X = ctx.raw.get("train", ctx.train).loc[ctx.train.index, ctx.features]
        source = "user model (cloned)"
    else:
        est = make_baseline(ctx.task, _model_features(ctx), ctx.random_state, fast=len(y) > 50_000)
        X = ctx.X("train")
        source = "baseline"
    cv, groups = cv_folds(ctx, y, n_splits)
    ctx.progress(f"out-of-fold predictions ({cv.get_n_splits()} folds, {len(y):,} rows)")
    if ctx.is_classification:
        # a user model gets the labels with their own type (integer classes held as Python
        # objects read as an "unknown" target to scikit-learn)
        y_str = y.astype(str).to_numpy() if ctx.model is None else y.infer_objects().to_numpy()
        proba = cross_val_predict(est, X, y_str, cv=cv, groups=groups, method="predict_proba")
        classes = tuple(np.unique(y_str))
        label_idx = proba.argmax(axis=1)
        mapping = _class_lookup(ctx)
        cls = tuple(mapping.get(str(c), c) for c in classes)
        return Predictions(
            label=np.asarray(cls, dtype=object)[label_idx],
            index=ctx.train.index.to_numpy(),
            proba=proba,
            classes=cls,
            source=source,
        )
    pred = cross_val_predict(est, X, y.to_numpy(dtype=float), cv=cv, groups=groups)
    return Predictions(
        label=np.asarray(pred, dtype=float), index=ctx.train.index.to_numpy(), source=source
    )


def _class_lookup(ctx: AuditContext) -> dict[str, Any]:
    return {str(c): c for c in ctx.schema.classes}


def fit_baseline(ctx: AuditContext) -> Pipeline:
    """The baseline fitted on all of train (classes as strings, mapped back on predict)."""
    assert ctx.target is not None and ctx.task is not None
    y = ctx.y("train")
    est = make_baseline(ctx.task, _model_features(ctx), ctx.random_state)
    ctx.progress(f"fitting the baseline model on {len(y):,} rows")
    if ctx.is_classification:
        est.fit(ctx.X("train"), y.astype(str).to_numpy())
    else:
        est.fit(ctx.X("train"), y.to_numpy(dtype=float))
    return est


def predict_side(ctx: AuditContext, side: str) -> Predictions:
    """Predictions on ``side``: from prediction/probability columns when given, else from the
    user's model, else from the baseline fitted on train."""
    frame = ctx.frame(side)
    roles = ctx.schema.roles
    index = frame.index.to_numpy()
    if roles.probabilities and ctx.is_classification:
        proba = frame[list(roles.probabilities)].to_numpy(dtype=float)
        classes = _classes_from_columns(ctx, roles.probabilities)
        label = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        if roles.prediction:
            label = frame[roles.prediction].to_numpy()
        return Predictions(label=label, index=index, proba=proba, classes=classes, source="columns")
    if roles.prediction:
        return Predictions(label=frame[roles.prediction].to_numpy(), index=index, source="columns")
    model = ctx.fitted_model()
    if ctx.model is not None:
        X = ctx.raw.get(side, frame).loc[frame.index, ctx.features]
        source = "user model"
    else:
        X = frame[ctx.features]
        source = "baseline"
    if ctx.is_classification and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        lookup = _class_lookup(ctx)
        classes = tuple(lookup.get(str(c), c) for c in model.classes_)
        label = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        return Predictions(label=label, index=index, proba=proba, classes=classes, source=source)
    pred = np.asarray(model.predict(X))
    if ctx.is_classification:
        lookup = _class_lookup(ctx)
        pred = np.asarray([lookup.get(str(p), p) for p in pred], dtype=object)
    return Predictions(label=pred, index=index, source=source)


def _classes_from_columns(ctx: AuditContext, columns: tuple[str, ...]) -> tuple[Any, ...]:
    """Map probability columns like ``proba_yes`` or ``p_1`` to classes by suffix."""
    lookup = _class_lookup(ctx)
    out = []
    for col in columns:
        match = next((c for s, c in lookup.items() if col == s or col.endswith("_" + s)), None)
        out.append(match if match is not None else col)
    return tuple(out)
