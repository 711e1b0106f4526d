"""Scores of two labelled samples from the same fold models, for comparing their label laws.

:func:`cross_fit_scores` fits the baseline on folds of the first sample and scores the held-out
rows of both, so under a random split the two are exchangeable; :func:`compared_rows` picks
the rows to compare. The label checks compare train with test, the drift checks reference with
current.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tripwire.context import AuditContext

#: The fewest labelled rows on each side, and the most rows compared (larger sides are sampled).
MIN_COMPARE_ROWS = 100
COMPARE_ROWS = 20_000


def model_input(ctx: AuditContext, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` as the baseline model takes it: in a drift comparison boolean columns written as
    words (yes/no) keep their words (they are compared as categories) and are converted
    here; an audit's tables are converted already, so they come back as they are."""
    words = [
        c
        for c in X.columns
        if ctx.kinds.get(c) == "boolean" and not pd.api.types.is_numeric_dtype(X[c])
    ]
    if not words:
        return X
    from tripwire.data import _coerce

    return X.assign(**{c: _coerce(X[c], "boolean")[0] for c in words})


def cross_fit_scores(
    ctx: AuditContext, train: np.ndarray, test: np.ndarray, k: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores of train rows ``train`` and test rows ``test`` from the same fold models.

    Each fold's baseline is fit on the other folds of train and scores its held-out train
    rows and the test rows assigned to it at random, so under a random split the two sides
    are exchangeable: the same models, trained on the same amount of data, score both. (The
    model fit on all of train is sharper on test than the fold models are on train, and a
    likelihood-ratio test between them rejects on clean splits.) Classification: codes (in
    the train classes' order; -1 for a test class unseen in train) and probabilities of each
    side; regression: targets and predictions.
    """
    from tripwire.models import cv_folds, make_baseline

    classify = ctx.is_classification
    y_all, t_all = ctx.y("train"), ctx.y("test")
    y_tr = (y_all.astype(str) if classify else y_all.astype(float)).to_numpy()[train]
    y_te = (t_all.astype(str) if classify else t_all.astype(float)).to_numpy()[test]
    classes = np.unique(y_tr) if classify else np.zeros(1)
    X_tr = model_input(ctx, ctx.X("train").iloc[train])
    X_te = model_input(ctx, ctx.X("test").iloc[test])
    folds, groups = cv_folds(ctx, pd.Series(y_tr), k)
    if groups is not None:
        groups = groups[train]
    k = folds.get_n_splits()
    p_tr = np.zeros((len(train), len(classes)))
    p_te = np.zeros((len(test), len(classes)))
    assign = ctx.rng(17).integers(0, k, len(test))
    kinds = {c: ctx.kinds[c] for c in ctx.features}
    for f, (fit_rows, held) in enumerate(folds.split(X_tr, y_tr, groups)):
        model = make_baseline(ctx.task or "binary", kinds, ctx.random_state)
        model.fit(X_tr.iloc[fit_rows], y_tr[fit_rows])
        mine = np.flatnonzero(assign == f)
        if not classify:
            p_tr[held, 0] = model.predict(X_tr.iloc[held])
            if mine.size:
                p_te[mine, 0] = model.predict(X_te.iloc[mine])
            continue
        cols = np.searchsorted(classes, model.classes_)
        p_tr[np.ix_(held, cols)] = model.predict_proba(X_tr.iloc[held])
        if mine.size:
            p_te[np.ix_(mine, cols)] = model.predict_proba(X_te.iloc[mine])
    if not classify:
        return y_tr, p_tr[:, 0], y_te, p_te[:, 0]
    code = {c: i for i, c in enumerate(classes)}
    c_te = np.array([code.get(c, -1) for c in y_te], dtype=np.int64)
    return np.searchsorted(classes, y_tr), p_tr, c_te, p_te


def compared_rows(
    ctx: AuditContext, *, with_model: bool = False
) -> tuple[np.ndarray, np.ndarray] | None:
    """Train and test rows for a train/test comparison, or None when there is none to make.

    Test rows whose inputs repeat a compared train row are left out (a fold model may have
    seen them, so their labels agree with it more than a new row's would), unless they are
    half of the labelled test rows or more: in a coarse table (vote counts, a few categories)
    repeated inputs are the norm and not copies. Above COMPARE_ROWS rows a side is sampled
    first, so the cost does not grow with the tables. Unless ``with_model``, a user's model or
    prediction columns mean no comparison: the label checks then judge the user's model,
    which may have been fit on anything, test rows included.
    """
    if ctx.test is None or ctx.target not in ctx.test.columns:
        return None
    roles = ctx.schema.roles
    if not with_model and (ctx.model is not None or roles.probabilities or roles.prediction):
        return None
    rng = ctx.rng(23)
    train = np.arange(len(ctx.train))
    test = np.flatnonzero(ctx.y("test").notna().to_numpy())
    if len(train) > COMPARE_ROWS:
        train = np.sort(rng.choice(train, COMPARE_ROWS, replace=False))
    if len(test) > COMPARE_ROWS:
        test = np.sort(rng.choice(test, COMPARE_ROWS, replace=False))
    if len(test) < MIN_COMPARE_ROWS or len(train) < MIN_COMPARE_ROWS:
        return None
    seen = pd.util.hash_pandas_object(ctx.X("train").iloc[train], index=False)
    new = ~pd.util.hash_pandas_object(ctx.X("test").iloc[test], index=False).isin(set(seen))
    if new.mean() > 0.5:
        test = test[new.to_numpy()]
    if len(test) < MIN_COMPARE_ROWS:
        return None
    return train, test


def scored_sides(
    ctx: AuditContext, what: str, *, with_model: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`cross_fit_scores` of the :func:`compared_rows`, or None when there is no
    comparison to make (too few rows, or a class with fewer than 5 compared train rows).
    ``what`` names the comparison in the progress line."""
    picked = compared_rows(ctx, with_model=with_model)
    if picked is None:
        return None
    train, test = picked
    if ctx.is_classification:
        counts = ctx.y("train").astype(str).iloc[train].value_counts()
        if len(counts) < 2 or counts.min() < 5:
            return None
    elif ctx.task != "regression":
        return None
    ctx.progress(f"{what} ({len(train):,} and {len(test):,} rows)")
    return cross_fit_scores(ctx, train, test)
