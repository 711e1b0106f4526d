"""The condition matrix of weak-slice discovery, and the rows a slice covers in any table.

A *slice* (:mod:`tripwire.stats.slices`) is a conjunction of conditions on features. Numeric
features are cut into quantile bins (plus a "missing" level), categorical features keep their
most frequent levels. Every condition is one column of a sparse 0/1 matrix ``B`` (rows x
conditions), built by :func:`encode`; :func:`condition_mask` and :func:`slice_mask` locate a
condition or a slice in another table (a slice found on test, in train).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class Condition:
    """One condition on one feature; ``text`` is how a person reads it."""

    feature: str
    text: str
    op: str  # "<=", ">", "range", "==", "missing", "other"
    low: float | None = None
    high: float | None = None
    value: Any = None


def _fmt(x: float) -> str:
    if abs(x) >= 1000 or x == int(x):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"
    return f"{x:.3g}"


def _numeric_conditions(
    name: str, values: np.ndarray, n_bins: int
) -> tuple[list[Condition], np.ndarray]:
    """Quantile bins of one numeric column: conditions and each row's bin code (-1: none)."""
    codes = np.full(len(values), -1, dtype=np.int64)
    finite = np.isfinite(values)
    conds: list[Condition] = []
    if finite.any():
        qs = np.quantile(values[finite], np.linspace(0, 1, n_bins + 1)[1:-1])
        edges = np.unique(qs)
        # a bin is (edges[i-1], edges[i]]; the last is > edges[-1]
        bins = np.searchsorted(edges, values[finite], side="left")
        codes[finite] = bins
        for i in range(len(edges) + 1):
            if i == 0:
                c = Condition(name, f"{name} <= {_fmt(edges[0])}", "<=", high=float(edges[0]))
            elif i == len(edges):
                c = Condition(name, f"{name} > {_fmt(edges[-1])}", ">", low=float(edges[-1]))
            else:
                lo, hi = float(edges[i - 1]), float(edges[i])
                c = Condition(name, f"{_fmt(lo)} < {name} <= {_fmt(hi)}", "range", lo, hi)
            conds.append(c)
        if not edges.size:  # constant column
            conds = [Condition(name, f"{name} = {_fmt(values[finite][0])}", "==")]
            codes[finite] = 0
    if (~finite).any():
        codes[~finite] = len(conds)
        conds.append(Condition(name, f"{name} is missing", "missing"))
    return conds, codes


def _categorical_conditions(
    name: str, values: pd.Series, max_levels: int, min_count: int
) -> tuple[list[Condition], np.ndarray]:
    s = values.astype("object")
    missing = s.isna().to_numpy()
    counts = s[~missing].astype(str).value_counts()
    keep = [lv for lv, c in counts.items() if c >= min_count][:max_levels]
    lookup = {lv: i for i, lv in enumerate(keep)}
    conds = [Condition(name, f"{name} = {lv}", "==", value=lv) for lv in keep]
    codes = np.full(len(s), -1, dtype=np.int64)
    strs = s.astype(str).to_numpy()
    mapped = np.array([lookup.get(v, -1) for v in strs], dtype=np.int64)
    codes[~missing] = mapped[~missing]
    rest = (~missing) & (codes == -1)
    if rest.sum() >= min_count:
        codes[rest] = len(conds)
        conds.append(Condition(name, f"{name} is another value", "other"))
    if missing.sum() >= min_count:
        codes[missing] = len(conds)
        conds.append(Condition(name, f"{name} is missing", "missing"))
    return conds, codes


@dataclass
class Encoding:
    """The condition matrix of a table: ``matrix`` is rows x conditions (CSC, 0/1)."""

    conditions: list[Condition]
    feature_of: np.ndarray  # condition -> feature index
    features: list[str]
    matrix: sparse.csc_matrix


def encode(
    X: pd.DataFrame,
    *,
    numeric: Sequence[str] | None = None,
    n_bins: int = 5,
    max_levels: int = 15,
    min_count: int = 1,
) -> Encoding:
    """Bin numeric columns by quantiles and keep frequent categorical levels.

    ``numeric`` names the numeric columns (default: those with a numeric dtype, booleans
    excepted). Each row belongs to exactly one condition per feature (or none when its
    level is too rare).
    """
    if numeric is None:
        numeric = [
            c
            for c in X.columns
            if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
        ]
    num = set(numeric)
    conditions: list[Condition] = []
    feature_of: list[int] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    n = len(X)
    for j, name in enumerate(X.columns):
        col = X[name]
        if name in num:
            vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            conds, codes = _numeric_conditions(str(name), vals, n_bins)
            if len([c for c in conds if c.op != "missing"]) > 1 and col.nunique() <= n_bins:
                # few distinct numbers: use the values themselves as levels
                conds, codes = _categorical_conditions(str(name), col, max_levels, min_count)
        else:
            conds, codes = _categorical_conditions(str(name), col, max_levels, min_count)
        if len(conds) < 2:
            continue  # a single level cannot separate anything
        ok = codes >= 0
        rows.append(np.flatnonzero(ok))
        cols.append(codes[ok] + len(conditions))
        conditions.extend(conds)
        feature_of.extend([j] * len(conds))
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    mat = sparse.csc_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(n, len(conditions)))
    return Encoding(
        conditions, np.asarray(feature_of, dtype=np.int64), list(map(str, X.columns)), mat
    )


def condition_mask(cond: Condition, values: pd.Series) -> np.ndarray:
    """Which rows of another table (``values`` is the condition's column) meet ``cond``.

    Bins keep the edges found on the searched rows, so a slice found on test can be located
    in train; a categorical "another value" level has no fixed meaning elsewhere and matches
    nothing.
    """
    if cond.op in ("<=", ">", "range"):
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            if cond.op == "<=":
                return np.asarray(v <= cond.high)
            if cond.op == ">":
                return np.asarray(v > cond.low)
            return np.asarray((v > cond.low) & (v <= cond.high))
    if cond.op == "missing":
        return values.isna().to_numpy()
    if cond.op == "==" and cond.value is not None:
        return (values.notna() & (values.astype(str) == str(cond.value))).to_numpy()
    if cond.op == "==":  # a constant numeric column: every row with a value
        return values.notna().to_numpy()
    return np.zeros(len(values), dtype=bool)


def slice_mask(enc: Encoding, conds: Sequence[int], frame: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` inside the slice made of conditions ``conds`` of ``enc``."""
    member = np.ones(len(frame), dtype=bool)
    for c in conds:
        cond = enc.conditions[c]
        member &= condition_mask(cond, frame[cond.feature])
    return member
