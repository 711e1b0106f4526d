"""Compare a reference and a current dataset: the `tripwire drift` entry point.

:func:`drift` reads both inputs, works out column kinds on a sample of the reference, and runs
every check registered for the ``drift`` command (the same checks the audit runs between train
and test). It is built for large inputs: pandas frames are used without copying, categories
are not re-encoded, and numeric columns go to the tests as numpy arrays.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tripwire.audit import Progress, run_checks
from tripwire.context import AuditContext
from tripwire.data import (
    Roles,
    Schema,
    _coerce,
    _kind_overrides,
    _list,
    describe_source,
    infer_kind,
    infer_task,
    read_table,
)
from tripwire.errors import InputError, UsageError
from tripwire.findings import Report

#: Kinds are inferred on this many reference rows (a seeded random sample).
KIND_SAMPLE = 5_000
SIDES = ("reference", "current")


def drift(
    reference: Any,
    current: Any,
    *,
    target: str | None = None,
    model: Any = None,
    prediction: str | None = None,
    probabilities: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    id: str | None = None,
    time_column: str | None = None,
    weight: str | None = None,
    task: str | None = None,
    alpha: float = 0.05,
    min_effect: Mapping[str, float] | None = None,
    methods: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    checks: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    random_state: int = 0,
    progress: Progress | None = None,
) -> Report:
    """Compare ``current`` with ``reference``: what moved, does it matter, and for the model.

    Parameters
    ----------
    reference, current
        Paths (CSV/Parquet) or pandas/polars/pyarrow/numpy tables with the same columns. The
        reference is the data the model is known to work on (ideally data it was not trained
        on, with labels); ``current`` is the new data. ``target`` may be absent from current.
    target
        Label column. With labels in current, realized performance change is measured.
    model
        A fitted scikit-learn estimator or Pipeline (or a joblib path) taking the feature
        columns: enables prediction drift, label-shift and performance estimation.
    prediction, probabilities
        Columns holding the model's outputs, instead of ``model``.
    kinds
        Column kind overrides, e.g. ``{"zip": "categorical"}``.
    alpha
        Level of the dataset-level decision: its false-alarm rate when nothing changed.
    min_effect
        Effect-size bars below which a significant shift is negligible (info), by effect name
        (see :data:`tripwire.stats.decision.DEFAULT_MIN_EFFECT`).
    methods
        Per-column test overrides, e.g. ``{"income": "psi"}``
        (see :mod:`tripwire.stats.univariate`).
    options
        Further check options: ``multivariate`` (False to skip the domain classifier),
        ``c2st_max_rows``, ``embedding_columns``.

    Returns
    -------
    Report
        Findings of mode ``drift``; rows are named ``reference`` and ``current``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"a": rng.normal(size=1000), "b": rng.choice(list("xyz"), 1000)})
    >>> cur = pd.DataFrame({"a": rng.normal(0.5, 1, 1000), "b": rng.choice(list("xyz"), 1000)})
    >>> report = drift(ref, cur, options={"multivariate": False})
    >>> [f.columns for f in report.by_check("drift.columns")]
    [('a',)]
    >>> report.exit_code(fail_on="warning")
    1
    """
    started = time.perf_counter()
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must be between 0 and 1 (exclusive); got {alpha}.")
    names = {"reference": describe_source(reference), "current": describe_source(current)}
    ref = _read(reference, "reference")
    cur = _read(current, "current")
    roles = Roles(
        target=target,
        time=time_column,
        id=id,
        prediction=prediction,
        probabilities=tuple(probabilities or ()),
        weight=weight,
    )
    ref, cur, schema = prepare_pair(
        ref,
        cur,
        roles,
        kinds=kinds,
        task=task,
        labels=(_label("reference", reference), _label("current", current)),
    )
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from tripwire.loading import load_model

        model = load_model(model)
    opts = dict(options or {})
    opts.setdefault("alpha", alpha)
    opts.setdefault("min_effect", dict(min_effect or {}))
    opts.setdefault("drift_methods", dict(methods or {}))
    ctx = AuditContext(
        train=ref,
        test=cur,
        schema=schema,
        raw={"train": ref, "test": cur},
        model=model,
        options=opts,
        random_state=random_state,
        names={"train": names["reference"], "test": names["current"]},
        sides=SIDES,
    )
    ctx._cache["profile"] = {}
    report = run_checks(ctx, "drift", checks=checks, skip=skip, progress=progress, started=started)
    inputs = dict(report.inputs)
    inputs["sources"] = names
    inputs["rows"] = {"reference": int(len(ref)), "current": int(len(cur))}
    inputs["options"] = {"alpha": alpha, "min_effect": dict(min_effect or {})}
    return Report(
        kind="drift",
        findings=report.findings,
        inputs=inputs,
        profile={},
        checks=report.checks,
        seconds=time.perf_counter() - started,
    )


def _label(side: str, source: Any) -> str:
    return f"{side} ({source})" if isinstance(source, (str, Path)) else side


def _read(source: Any, name: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        # No copy: the checks never mutate their inputs.
        if source.shape[0] == 0 or source.shape[1] == 0:
            raise InputError(f"{name} has no data rows. Pass a table with at least one row.")
        df = source
        if not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        if len(set(df.columns)) != df.shape[1]:
            raise InputError(f"{name} has duplicate column names. Rename them so each is unique.")
        if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
            df = df.reset_index(drop=True)
        return df
    if isinstance(source, (str, Path)):
        return read_table(source, name=str(source))
    return read_table(source, name=name)


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values))


def _coerce_by_value(values: pd.Series, kind: str) -> pd.Series:
    """Convert a boolean or datetime column by converting each distinct value once.

    Large columns repeat few distinct values; :func:`tripwire.data._coerce` semantics are
    applied to the distinct values and spread back by their codes (same result, far faster).
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return _coerce(values, kind)[0]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    converted = _coerce(pd.Series(uniques), kind)[0]
    if kind == "datetime":
        arr = converted.to_numpy(dtype="datetime64[ns]")
        out = np.where(codes >= 0, arr[np.maximum(codes, 0)], np.datetime64("NaT"))
        return pd.Series(out, index=values.index, name=values.name)
    num = converted.to_numpy(dtype=float, na_value=np.nan)
    out_f = np.where(codes >= 0, num[np.maximum(codes, 0)], np.nan)
    return pd.Series(out_f, index=values.index, name=values.name)


def prepare_pair(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    roles: Roles,
    *,
    kinds: Mapping[str, str] | None = None,
    task: str | None = None,
    labels: tuple[str, str] = SIDES,
) -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    """Check that two tables can be compared and bring their columns to their kinds.

    Kinds are inferred on a sample of :data:`KIND_SAMPLE` reference rows. Numeric, boolean
    and datetime columns are converted; categories keep their own values (tests compare
    their string forms). The target may be missing from ``cur`` (labels not arrived yet).
    """
    lr, lc = labels
    target = roles.target
    ref_cols = [c for c in ref.columns if c != target]
    cur_cols = [c for c in cur.columns if c != target]
    missing = [c for c in ref_cols if c not in set(cur_cols)]
    extra = [c for c in cur_cols if c not in set(ref_cols)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from {lc}: {_list(missing)}")
        if extra:
            parts.append(f"only in {lc}: {_list(extra)}")
        raise InputError(
            f"{lr} and {lc} have different columns ({'; '.join(parts)}). "
            "Give both the same columns (the target may be absent from the current data)."
        )
    for role in ("target", "time", "id", "prediction", "weight"):
        col = getattr(roles, role)
        if col is not None and col not in ref.columns:
            raise InputError(
                f"{role} column {col!r} is not in {lr} (columns: {_list(list(ref.columns))}). "
                f"Pass --{role} with one of them."
            )
    for col in roles.probabilities:
        if col not in ref.columns:
            raise InputError(
                f"probability column {col!r} is not in {lr} (columns: {_list(list(ref.columns))})."
            )
    overrides = _kind_overrides(kinds, list(ref.columns), lr)
    sample = ref
    if len(ref) > KIND_SAMPLE:
        pos = np.sort(np.random.default_rng(0).choice(len(ref), KIND_SAMPLE, replace=False))
        sample = ref.iloc[pos]
    inferred: dict[str, str] = {}
    for col in ref.columns:
        if col in overrides:
            inferred[col] = overrides[col]
        elif col == roles.time:
            inferred[col] = "numeric" if pd.api.types.is_numeric_dtype(ref[col]) else "datetime"
        elif col == target:
            continue
        else:
            inferred[col] = infer_kind(sample[col], col)

    resolved_task = task
    classes: tuple[Any, ...] = ()
    out = {}
    for side, df in (("ref", ref), ("cur", cur)):
        changed: dict[str, Any] = {}
        for col in df.columns:
            if col == target:
                continue
            kind = inferred[col]
            s = df[col]
            if kind == "numeric":
                if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                    changed[col] = pd.to_numeric(s, errors="coerce").astype(float)
            elif kind == "datetime" or (kind == "boolean" and _is_numeric(s)):
                changed[col] = _coerce_by_value(s, kind)
            # Boolean columns written as words (yes/no) keep their words: they are compared as
            # categories, and models get them converted where they are encoded.
        # Only converted columns are replaced; the others are shared with the input, not copied.
        out[side] = df.assign(**changed) if changed else df
    if target is not None:
        y = ref[target].dropna()
        if y.nunique() < 2:
            raise InputError(
                f"target column {target!r} in {lr} has fewer than two distinct values; "
                "pass another --target or leave it out."
            )
        resolved_task = task or infer_task(y)
        if resolved_task != "regression":
            both = [y] + ([cur[target].dropna()] if target in cur.columns else [])
            classes = tuple(
                sorted(pd.concat(both).unique().tolist(), key=lambda v: (str(type(v)), v))
            )
        inferred[target] = "numeric" if resolved_task == "regression" else "categorical"
    features = tuple(c for c in ref.columns if c not in roles.columns())
    schema = Schema(
        kinds=inferred, roles=roles, task=resolved_task, classes=classes, features=features
    )
    return out["ref"], out["cur"], schema
