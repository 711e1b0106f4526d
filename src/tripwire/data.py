"""Loading tables and understanding their columns.

Everything tripwire audits becomes a pandas DataFrame whose index is the 0-based position of
each data row in the input (header excluded). Checks report rows by these index labels, so
positions stay true to the input even after rows are filtered or reordered internally.

Column *kinds* (what the values are) are inferred and can be overridden; column *roles* (what
the column is for: target, time, group, id, prediction, probabilities, weight) are given.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tripwire.errors import InputError, UsageError

KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "identifier")
TASKS = ("binary", "multiclass", "regression")
ROLES = ("target", "time", "group", "id", "prediction", "probabilities", "weight")

#: Strings read as missing in CSV files, besides pandas' defaults ('?' is common in UCI data).
NA_VALUES = ["?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", ""]
_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|index|instant|record|row)$|^id_|id$", re.I)
_DATE_NAME = re.compile(r"date|time|_at$|^ts$|timestamp|day$|dt$", re.I)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _sniff_delimiter(path: Path) -> str:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:  # type: ignore[operator]
        sample = fh.read(64 * 1024)
    if not sample.strip():
        return ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(source: Any, *, name: str = "data") -> pd.DataFrame:
    """Read a table from a path or an in-memory object into a DataFrame with a RangeIndex.

    Accepts CSV/TSV (optionally gzipped; the delimiter is sniffed), Parquet and Feather
    paths, and pandas, polars, pyarrow and numpy objects.

    Examples
    --------
    >>> import numpy as np
    >>> read_table(np.array([[1.0, 2.0], [3.0, 4.0]])).columns.tolist()
    ['x0', 'x1']
    """
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    elif isinstance(source, (str, Path)):
        df = _read_path(Path(source), name)
    elif isinstance(source, np.ndarray):
        if source.ndim != 2:
            raise InputError(
                f"{name}: a numpy array must be 2-D (rows x columns); got shape {source.shape}."
            )
        df = pd.DataFrame(source, columns=[f"x{i}" for i in range(source.shape[1])])
    elif type(source).__module__.startswith("polars"):
        df = source.to_pandas()
    elif type(source).__module__.startswith("pyarrow"):
        df = source.to_pandas()
    else:
        raise InputError(
            f"{name}: cannot read an object of type {type(source).__name__}. Pass a CSV or "
            "Parquet path, or a pandas/polars DataFrame, a pyarrow Table or a 2-D numpy array."
        )
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InputError(
            f"{name} has no data rows. Pass a file with a header line and at least one row."
        )
    df.columns = [str(c) for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise InputError(
            f"{name} has duplicate column names: {', '.join(dupes)}. Rename them so each is unique."
        )
    return df.reset_index(drop=True)


def _read_path(path: Path, name: str) -> pd.DataFrame:
    label = f"{name} ({path})" if name != str(path) else str(path)
    if not path.exists():
        raise InputError(f"{label} does not exist. Check the path.")
    if path.is_dir():
        raise InputError(f"{label} is a folder, not a file. Pass a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise InputError(f"{label} is empty. Pass a file with a header line and at least one row.")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if ".parquet" in suffixes or ".pq" in suffixes:
            return pd.read_parquet(path)
        if ".feather" in suffixes or ".arrow" in suffixes:
            return pd.read_feather(path)
        sep = _sniff_delimiter(path)
        return pd.read_csv(
            path,
            sep=sep,
            na_values=NA_VALUES,
            keep_default_na=True,
            skipinitialspace=True,
            low_memory=False,
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{label} has no columns or rows. Pass a file with a header line and data."
        ) from exc
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{label} could not be read as {'Parquet' if '.parquet' in suffixes else 'CSV'} ({first}). "
            "Check that it is a UTF-8 CSV with a header line, or a Parquet file."
        ) from exc


# ---------------------------------------------------------------------------------------
# Kinds
# ---------------------------------------------------------------------------------------
def _numeric_share(values: pd.Series) -> tuple[float, pd.Series]:
    """Share of non-missing values that parse as numbers, and the parsed series."""
    parsed = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    n = int(present.sum())
    if n == 0:
        return 0.0, parsed
    return float((parsed.notna() & present).sum() / n), parsed


_DATE_SHAPE = (
    r"(?:^|\D)\d{4}[-/.]\d{1,2}(?:\D|$)"  # 2024-01, 2024/1/5
    r"|(?:^|\D)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:\D|$)"  # 5/1/2024, 05.01.24
    r"|^\d{8}(?:T|$)"  # 20240105
    r"|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"  # Jan 5, 2024
    r"|\d\s+(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"  # 5 Jan 2024
    r"|^\d{1,2}:\d{2}"  # 13:45
)


def _looks_datetime(values: pd.Series, name: str) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty:
        return False
    # Plain numbers are numbers, not dates, unless the name says otherwise.
    if sample.str.fullmatch(r"[+-]?\d+(\.\d+)?").all() and not _DATE_NAME.search(name):
        return False
    # A date needs a date's shape: a year with a month, day/month/year, a compact yyyymmdd,
    # or a month name next to digits. Ordinals such as "10th" or "1st-4th" parse as dates in
    # dateutil but are categories.
    shaped = sample.str.contains(_DATE_SHAPE, regex=True)
    if shaped.mean() < 0.95:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def infer_kind(values: pd.Series, name: str | None = None) -> str:
    """Infer what a column holds: numeric, categorical, boolean, datetime, text or identifier.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_kind(pd.Series([1.5, 2.0, 3.25]))
    'numeric'
    >>> infer_kind(pd.Series(["yes", "no", "yes"]))
    'boolean'
    >>> infer_kind(pd.Series(["2024-01-01", "2024-02-03", "2024-03-05"]))
    'datetime'
    >>> infer_kind(pd.Series(range(100)), name="customer_id")
    'identifier'
    """
    name = str(name if name is not None else values.name)
    s = values.dropna()
    n = len(s)
    if n == 0:
        return "numeric" if pd.api.types.is_numeric_dtype(values) else "categorical"
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    nunique = int(s.nunique())
    if pd.api.types.is_numeric_dtype(values):
        if nunique <= 2 and set(np.unique(s.to_numpy())) <= {0, 1}:
            return "boolean"
        finite = s.to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        is_int = pd.api.types.is_integer_dtype(values) or bool(np.all(np.mod(finite, 1) == 0))
        if is_int and n >= 20 and nunique == n:
            sorted_vals = np.sort(s.to_numpy(dtype=float))
            consecutive = bool(np.all(np.diff(sorted_vals) == 1))
            if _ID_NAME.search(name) or consecutive:
                return "identifier"
        return "numeric"
    # strings / objects
    lowered = s.astype(str).str.strip().str.lower()
    if (
        nunique <= 2
        and set(lowered.unique()) <= (_TRUE | _FALSE)
        and len(set(lowered.unique())) >= 1
    ):
        return "boolean"
    share, _ = _numeric_share(s)
    if share >= 0.5:
        return "numeric"
    if _looks_datetime(s, name):
        return "datetime"
    text = s.astype(str)
    unique_ratio = nunique / n
    mean_len = float(text.str.len().mean())
    words = float(text.str.count(r"\s+").mean())
    if unique_ratio > 0.5 and (mean_len >= 25 or words >= 3):
        return "text"
    if n >= 20 and unique_ratio >= 0.95 and words < 1:
        return "identifier"
    if _ID_NAME.search(name) and unique_ratio >= 0.5:
        return "identifier"
    return "categorical"


# ---------------------------------------------------------------------------------------
# Schema: kinds, roles, task
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Roles:
    """Which columns play which part. ``probabilities`` may name several columns."""

    target: str | None = None
    time: str | None = None
    group: str | None = None
    id: str | None = None
    prediction: str | None = None
    probabilities: tuple[str, ...] = ()
    weight: str | None = None

    def columns(self) -> list[str]:
        cols = [self.target, self.time, self.group, self.id, self.prediction, self.weight]
        return [c for c in cols if c] + list(self.probabilities)


@dataclass(frozen=True)
class Schema:
    """What the columns are: kinds, roles, the task, the classes and the feature list."""

    kinds: Mapping[str, str]
    roles: Roles
    task: str | None
    classes: tuple[Any, ...] = ()
    features: tuple[str, ...] = ()
    #: Values that could not be read as the column's kind, per side and column:
    #: ``{("train", "age"): [row positions]}``. They are treated as missing.
    coerced: Mapping[tuple[str, str], Sequence[int]] = field(default_factory=dict)

    def features_of(self, *kinds: str) -> list[str]:
        return [c for c in self.features if self.kinds[c] in kinds]


def infer_task(target: pd.Series) -> str:
    """'binary', 'multiclass' or 'regression' from the target's values.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_task(pd.Series(["a", "b", "a"])), infer_task(pd.Series([0.1, 2.5, 3.7] * 10))
    ('binary', 'regression')
    """
    s = target.dropna()
    nunique = int(s.nunique())
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = s.to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        integral = bool(np.all(np.mod(vals, 1) == 0))
        if nunique > 20 or not integral:
            return "regression"
    return "binary" if nunique <= 2 else "multiclass"


def _coerce(series: pd.Series, kind: str) -> tuple[pd.Series, np.ndarray]:
    """Convert a column to its kind; return the converted column and the junk positions."""
    present = series.notna().to_numpy()
    if kind == "numeric":
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            out = series.astype(float)
        else:
            out = pd.to_numeric(series, errors="coerce").astype(float)
        bad = present & out.isna().to_numpy()
        return out, np.flatnonzero(bad)
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(series):
            return series.astype(float), np.array([], dtype=int)
        if pd.api.types.is_numeric_dtype(series):
            out = series.astype(float).where(series.isin([0, 1]))
        else:
            low = series.astype(str).str.strip().str.lower()
            out = pd.Series(
                np.where(low.isin(_TRUE), 1.0, np.where(low.isin(_FALSE), 0.0, np.nan)),
                index=series.index,
            )
            out = out.where(series.notna())
        bad = present & out.isna().to_numpy()
        return out.astype(float), np.flatnonzero(bad)
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            out = series
        else:
            out = pd.to_datetime(series, errors="coerce", format="mixed")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = present & out.isna().to_numpy()
        return out, np.flatnonzero(bad)
    # categorical, text, identifier: strings, missing kept missing
    notna = series.notna()
    out = pd.Series(np.full(len(series), np.nan, dtype=object), index=series.index)
    out[notna] = series[notna].astype(str).to_numpy(dtype=object)
    return out, np.array([], dtype=int)


def _kind_overrides(
    kinds: Mapping[str, str] | None, columns: Sequence[str], name: str
) -> dict[str, str]:
    out: dict[str, str] = {}
    for col, kind in (kinds or {}).items():
        if kind not in KINDS:
            raise UsageError(f"kind {kind!r} for column {col!r} is not one of: {', '.join(KINDS)}.")
        if col not in columns:
            raise UsageError(
                f"--kind names column {col!r}, which is not in {name} (columns: {_list(columns)})."
            )
        out[col] = kind
    return out


def _list(columns: Sequence[str], limit: int = 8) -> str:
    cols = list(columns)
    head = ", ".join(cols[:limit])
    return head + (", ..." if len(cols) > limit else "")


def _check_role(col: str | None, role: str, frame: pd.DataFrame, name: str) -> None:
    if col is not None and col not in frame.columns:
        flag = "probabilities" if role == "probabilities" else role
        raise InputError(
            f"{role} column {col!r} is not in {name} (columns: {_list(frame.columns)}). "
            f"Pass --{flag} with one of them."
        )


def prepare(
    frames: Mapping[str, pd.DataFrame],
    roles: Roles,
    *,
    kinds: Mapping[str, str] | None = None,
    task: str | None = None,
    names: Mapping[str, str] | None = None,
    require_target: bool = True,
) -> tuple[dict[str, pd.DataFrame], Schema]:
    """Validate several tables against each other and coerce columns to their kinds.

    ``frames`` maps a side (``train``, ``test``, ``reference``, ``current``) to a DataFrame
    from :func:`read_table`. The first side is the reference for kinds. Raises
    :class:`~tripwire.errors.InputError` with a message that says what to fix.
    """
    names = dict(names or {})
    sides = list(frames)
    first = sides[0]
    base = frames[first]
    label = {s: names.get(s, s) for s in sides}

    for side in sides[1:]:
        missing = [c for c in base.columns if c not in frames[side].columns]
        extra = [c for c in frames[side].columns if c not in base.columns]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing from {label[side]}: {_list(missing)}")
            if extra:
                parts.append(f"only in {label[side]}: {_list(extra)}")
            raise InputError(
                f"{label[first]} and {label[side]} have different columns ({'; '.join(parts)}). "
                "Give both files the same columns."
            )

    for role in ("target", "time", "group", "id", "prediction", "weight"):
        _check_role(getattr(roles, role), role, base, label[first])
    for col in roles.probabilities:
        _check_role(col, "probabilities", base, label[first])
    if task is not None and task not in TASKS:
        raise UsageError(f"task {task!r} is not one of: {', '.join(TASKS)}.")

    overrides = _kind_overrides(kinds, list(base.columns), label[first])
    inferred: dict[str, str] = {}
    for col in base.columns:
        if col in overrides:
            inferred[col] = overrides[col]
        elif col == roles.time:
            inferred[col] = (
                "datetime" if not pd.api.types.is_numeric_dtype(base[col]) else "numeric"
            )
        else:
            inferred[col] = infer_kind(base[col], col)

    resolved_task: str | None = task
    if roles.target is not None:
        present = base[roles.target].dropna()
        resolved_task = task or (infer_task(present) if len(present) else "binary")
        inferred[roles.target] = "numeric" if resolved_task == "regression" else "label"
        if roles.prediction is not None and roles.prediction not in overrides:
            # predictions are compared with the target, so they take its kind: a constant
            # prediction 'no' would otherwise be read as boolean 0 against labels 'no'/'yes'
            inferred[roles.prediction] = inferred[roles.target]

    out: dict[str, pd.DataFrame] = {}
    coerced: dict[tuple[str, str], list[int]] = {}
    for side in sides:
        df = frames[side]
        cols = {}
        for col in base.columns:
            kind = inferred[col]
            if kind == "label":  # class labels keep their own values
                cols[col] = df[col].astype(object).where(df[col].notna())
                continue
            series, bad = _coerce(df[col], kind)
            present = int(df[col].notna().sum())
            if kind in ("numeric", "boolean", "datetime") and len(bad):
                if present and len(bad) / present > 0.5 and col not in overrides:
                    examples = ", ".join(repr(v) for v in df[col].iloc[bad[:3]].tolist())
                    if col == roles.time:
                        raise InputError(
                            f"time column {col!r} in {label[side]} does not parse as dates: "
                            f"{len(bad)} of {present} values could not be read (e.g. {examples}). "
                            "Use ISO dates like 2024-01-31 or numbers, or pass another --time."
                        )
                    raise InputError(
                        f"column {col!r} is {kind} in {label[first]} but {len(bad)} of {present} values in "
                        f"{label[side]} are not (e.g. {examples}). Fix the values, or pass "
                        f"--kind {col}=categorical to treat it as categories."
                    )
                coerced[(side, col)] = df.index[bad].tolist()
            cols[col] = series
        out[side] = pd.DataFrame(cols, index=df.index)

    if roles.time is not None:
        for side in sides:
            t = out[side][roles.time]
            if t.isna().all():
                raise InputError(
                    f"time column {roles.time!r} in {label[side]} has no readable values. "
                    "Use ISO dates like 2024-01-31 or numbers."
                )

    classes: tuple[Any, ...] = ()
    if roles.target is not None:
        target = roles.target
        for side in sides:
            _validate_target(out[side], frames[side], target, label[side])
        y0 = out[first][target]
        if y0.nunique() < 2:
            raise InputError(
                f"target column {target!r} in {label[first]} has a single value ({y0.iloc[0]!r}); "
                "there is nothing to learn. Check the file or pass another --target."
            )
        if resolved_task != "regression":
            all_y = pd.concat([out[s][target] for s in sides])
            classes = tuple(sorted(all_y.unique().tolist(), key=lambda v: (str(type(v)), v)))
            for side in sides:  # class labels as plain python values, consistent across sides
                out[side][target] = out[side][target].astype(object)
        inferred[target] = "numeric" if resolved_task == "regression" else "categorical"
    elif require_target:
        raise UsageError("a target column is needed. Pass --target with the label column's name.")

    features = tuple(c for c in base.columns if c not in roles.columns())
    schema = Schema(
        kinds=inferred,
        roles=roles,
        task=resolved_task,
        classes=classes,
        features=features,
        coerced=coerced,
    )
    return out, schema


def _validate_target(df: pd.DataFrame, raw: pd.DataFrame, target: str, name: str) -> None:
    y = df[target]
    bad = y.isna().to_numpy().copy()
    if pd.api.types.is_numeric_dtype(y):
        bad |= ~np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        rows = df.index[bad][:5].tolist()
        more = " ..." if bad.sum() > 5 else ""
        raise InputError(
            f"target column {target!r} in {name} has {int(bad.sum())} missing or infinite values "
            f"(rows {', '.join(map(str, rows))}{more}). Drop or fill those rows before auditing."
        )


def parse_kind_overrides(items: Sequence[str]) -> dict[str, str]:
    """Parse ``col=kind`` strings from the command line.

    Examples
    --------
    >>> parse_kind_overrides(["zip=categorical", "note=text"])
    {'zip': 'categorical', 'note': 'text'}
    """
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--kind expects COLUMN=KIND (e.g. zip=categorical); got {item!r}.")
        col, kind = item.rsplit("=", 1)
        out[col.strip()] = kind.strip()
    return out


def frame_summary(df: pd.DataFrame) -> dict[str, Any]:
    return {"rows": int(len(df)), "columns": int(df.shape[1])}


def describe_source(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return f"<{type(source).__module__.split('.')[0]}.{type(source).__name__}>"


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()
