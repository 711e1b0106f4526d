"""Column profiles as mergeable sketches, and the profile file format.

A :class:`DatasetProfile` summarises a table in a few kilobytes per column: exact counts,
missing values and moments (mean, variance, min, max), plus Apache DataSketches sketches --
KLL for the quantiles of numeric columns, frequent items for the categories of categorical
ones, HyperLogLog for distinct counts. Two profiles of the same columns merge into the profile
of the concatenated data (partitions, files, time windows), up to the sketches' error, which
each profile reports (:meth:`ColumnProfile.rank_error`, :meth:`ColumnProfile.share_error`).

Distinct counts of numeric columns: the DataSketches HLL has no vectorised update, so the
HLL of a numeric column is fed the values whose 64-bit hash falls in a fixed 1/16 sample
(the same value is always in or out, so the sample is mergeable), and the estimate is scaled
by 16 -- the distinct-sampling idea of Gibbons (2001). Below 1,024 distinct values the exact
set is kept instead.

References
----------
Karnin, Lang and Liberty (2016). Optimal quantile approximation in streams. FOCS.
Anderson et al. (2017). A high-performance algorithm for identifying frequent items in data
streams (the DataSketches frequent items sketch). IMC.
Flajolet, Fusy, Gandouet and Meunier (2007). HyperLogLog. AofA.
Gibbons (2001). Distinct sampling for highly-accurate answers to distinct values queries. VLDB.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.errors import InputError, require

FORMAT = "tripwire-profile"
#: Version of the file format; readers refuse newer versions with a clear message.
FORMAT_VERSION = 1
#: Default sketch sizes: KLL k=1000 has a 0.28% rank error (99% confidence), frequent items
#: keep up to 3,072 categories exactly (map 2^12), HLL lg_k=12 has a 1.6% relative error.
DEFAULT_CONFIG: dict[str, int] = {"kll_k": 1000, "freq_lg_max_map": 12, "hll_lg_k": 12}
SAMPLE_BITS = 4  # numeric distinct counts: HLL over a 1/16 hash sample
SMALL_DISTINCT = 1024


def _ds() -> Any:
    return require("datasketches", feature="Profiles", extra="scale")


def _hash64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 of the float64 bit patterns (``-0.0`` folded onto ``0.0``)."""
    bits = (x + 0.0).astype(np.float64).view(np.uint64)
    z = bits + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass
class ColumnProfile:
    """The mergeable summary of one column. ``kind`` is ``numeric`` or ``categorical``."""

    name: str
    kind: str
    config: Mapping[str, int]
    count: int = 0
    missing: int = 0
    n: int = 0  # finite values in the moments
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    small: set[Any] | None = field(default_factory=set)
    kll: Any = None
    freq: Any = None
    hll: Any = None

    def __post_init__(self) -> None:
        ds = _ds()
        if self.hll is None:
            self.hll = ds.hll_sketch(self.config["hll_lg_k"], ds.tgt_hll_type.HLL_8)
        if self.kind == "numeric" and self.kll is None:
            self.kll = ds.kll_doubles_sketch(self.config["kll_k"])
        if self.kind == "categorical" and self.freq is None:
            self.freq = ds.frequent_strings_sketch(self.config["freq_lg_max_map"])

    # -- updates ---------------------------------------------------------------------------
    def update_numeric(self, x: np.ndarray, n_null: int) -> None:
        """Add a chunk of float values (NaN = missing) with ``n_null`` further nulls."""
        nan = np.isnan(x)
        n_nan = int(nan.sum())
        self.count += len(x) + n_null
        self.missing += n_nan + n_null
        v = x[~nan] if n_nan else x
        if not len(v):
            return
        if not (v.flags.writeable and v.flags.c_contiguous):
            v = np.array(v, dtype=np.float64)  # the sketch binding takes writable arrays only
        self.kll.update(v)
        fin = v[np.isfinite(v)]
        if len(fin):
            self._add_moments(len(fin), float(fin.mean()), float(((fin - fin.mean()) ** 2).sum()))
            self.minimum = min(self.minimum, float(fin.min()))
            self.maximum = max(self.maximum, float(fin.max()))
        h = _hash64(v)
        sampled = v[(h & np.uint64((1 << SAMPLE_BITS) - 1)) == 0]
        for value in np.unique(sampled).tolist():
            self.hll.update(float(value))
        if self.small is not None:
            # Cheap test first: a chunk with many sampled distinct values is not small.
            if len(np.unique(sampled)) * 4 > SMALL_DISTINCT:
                self.small = None
            else:
                self.small.update(np.unique(v).tolist())
                if len(self.small) > SMALL_DISTINCT:
                    self.small = None

    def update_counts(self, values: Iterable[str], counts: Iterable[int], n_null: int) -> None:
        """Add a chunk of a categorical column given as distinct values and their counts."""
        total = 0
        for value, c in zip(values, counts):
            c = int(c)
            if c <= 0:
                continue
            self.freq.update(value, c)
            self.hll.update(value)
            total += c
            if self.small is not None:
                self.small.add(value)
                if len(self.small) > SMALL_DISTINCT:
                    self.small = None
        self.count += total + n_null
        self.missing += n_null
        self.n += total

    def _add_moments(self, n: int, mean: float, m2: float) -> None:
        # Chan, Golub and LeVeque (1979): pairwise combination of means and sums of squares.
        tot = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / tot
        self.m2 += m2 + delta * delta * self.n * n / tot
        self.n = tot

    # -- merge -----------------------------------------------------------------------------
    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """A new profile of both inputs (neither is changed)."""
        if other.kind != self.kind:
            raise InputError(
                f"Cannot merge profiles: column {self.name!r} is {self.kind} in one profile and "
                f"{other.kind} in the other. Profile both with the same column types."
            )
        ds = _ds()
        out = ColumnProfile(self.name, self.kind, self.config)
        out.count, out.missing = self.count + other.count, self.missing + other.missing
        if self.kind == "numeric":
            out.n, out.mean, out.m2 = self.n, self.mean, self.m2
            if other.n:
                out._add_moments(other.n, other.mean, other.m2)
            out.minimum = min(self.minimum, other.minimum)
            out.maximum = max(self.maximum, other.maximum)
            out.kll = ds.kll_doubles_sketch.deserialize(self.kll.serialize())
            out.kll.merge(other.kll)
        else:
            out.n = self.n + other.n
            out.freq = ds.frequent_strings_sketch.deserialize(self.freq.serialize())
            out.freq.merge(other.freq)
        union = ds.hll_union(self.config["hll_lg_k"])
        union.update(self.hll)
        union.update(other.hll)
        out.hll = union.get_result(ds.tgt_hll_type.HLL_8)
        if self.small is not None and other.small is not None:
            both = self.small | other.small
            out.small = both if len(both) <= SMALL_DISTINCT else None
        else:
            out.small = None
        return out

    # -- queries ---------------------------------------------------------------------------
    def n_values(self) -> int:
        """Non-missing values in the distribution sketch."""
        return self.n if self.kind == "categorical" else int(self.kll.n)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else float("nan")

    @property
    def missing_rate(self) -> float:
        return self.missing / self.count if self.count else float("nan")

    def distinct(self) -> float:
        """Estimated number of distinct non-missing values."""
        if self.small is not None:
            return float(len(self.small))
        scale = 1 << SAMPLE_BITS if self.kind == "numeric" else 1
        return float(self.hll.get_estimate()) * scale

    def distinct_bounds(self) -> tuple[float, float]:
        """About 95% bounds on :meth:`distinct` (HLL error; sampling error for numeric)."""
        if self.small is not None:
            return float(len(self.small)), float(len(self.small))
        d = self.distinct()
        scale = 1 << SAMPLE_BITS if self.kind == "numeric" else 1
        lo, hi = self.hll.get_lower_bound(2) * scale, self.hll.get_upper_bound(2) * scale
        if scale > 1:  # a binomial sample of the distinct values
            sd = math.sqrt(max(d, 1.0) * (scale - 1))
            lo, hi = lo - 2 * sd, hi + 2 * sd
        return max(0.0, float(lo)), float(hi)

    def rank_error(self) -> float:
        """KLL normalised rank error of this sketch (99% confidence); 0 when empty."""
        if self.kind != "numeric" or self.kll.is_empty():
            return 0.0
        return (
            0.0
            if self.kll.is_estimation_mode() is False
            else float(self.kll.normalized_rank_error(False))
        )

    def share_error(self) -> float:
        """Largest error of any category's share in the frequent items sketch (exactly 0 while
        the sketch holds every category)."""
        if self.kind != "categorical" or not self.n:
            return 0.0
        # The upper bound of an item the sketch does not hold is its maximum count error.
        return float(self.freq.get_upper_bound("\x00tripwire-absent\x00")) / self.n

    def quantiles(self, qs: Iterable[float]) -> list[float]:
        if self.kind != "numeric" or self.kll.is_empty():
            return [float("nan") for _ in qs]
        return [float(v) for v in self.kll.get_quantiles(list(qs))]

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """Estimated share of values at or below each point."""
        pts = np.asarray(points, dtype=float)
        uniq, where = np.unique(pts, return_inverse=True)  # the sketch wants increasing points
        got = np.asarray(self.kll.get_cdf(uniq.tolist(), True)[:-1], dtype=float)
        return got[where.reshape(pts.shape)]

    def category_counts(self) -> dict[str, float]:
        """Estimated counts of the categories the sketch holds (all of them when exact)."""
        ds = _ds()
        items = self.freq.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
        pairs = sorted(
            ((str(i), float(e)) for i, e, _lo, _hi in items), key=lambda t: (-t[1], t[0])
        )
        return dict(pairs)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "missing_rate": self.missing_rate,
            "distinct": self.distinct(),
        }
        if self.kind == "numeric":
            out.update(
                mean=self.mean if self.n else None,
                std=self.std,
                min=self.minimum if self.n else None,
                max=self.maximum if self.n else None,
                quantiles=dict(
                    zip(
                        ("p01", "p25", "p50", "p75", "p99"),
                        self.quantiles([0.01, 0.25, 0.5, 0.75, 0.99]),
                    )
                ),
                rank_error=self.rank_error(),
            )
        else:
            top = sorted(self.category_counts().items(), key=lambda kv: -kv[1])[:10]
            out.update(
                top=[{"value": k, "count": v} for k, v in top], share_error=self.share_error()
            )
        return out

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def b64(sk: Any) -> str | None:
            if sk is None:
                return None
            raw = sk.serialize_compact() if hasattr(sk, "serialize_compact") else sk.serialize()
            return base64.b64encode(raw).decode("ascii")

        small = None if self.small is None else sorted(self.small, key=lambda v: (str(type(v)), v))
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "n": self.n,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.minimum if math.isfinite(self.minimum) else None,
            "max": self.maximum if math.isfinite(self.maximum) else None,
            "small_distinct": small,
            "kll": b64(self.kll),
            "frequent_items": b64(self.freq),
            "hll": b64(self.hll),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], config: Mapping[str, int]) -> ColumnProfile:
        ds = _ds()

        def unb64(s: str | None, kind: Any) -> Any:
            return None if s is None else kind.deserialize(base64.b64decode(s))

        small = d.get("small_distinct")
        return cls(
            name=d["name"],
            kind=d["kind"],
            config=config,
            count=int(d["count"]),
            missing=int(d["missing"]),
            n=int(d["n"]),
            mean=float(d["mean"]),
            m2=float(d["m2"]),
            minimum=math.inf if d.get("min") is None else float(d["min"]),
            maximum=-math.inf if d.get("max") is None else float(d["max"]),
            small=None if small is None else set(small),
            kll=unb64(d.get("kll"), ds.kll_doubles_sketch),
            freq=unb64(d.get("frequent_items"), ds.frequent_strings_sketch),
            hll=unb64(d.get("hll"), ds.hll_sketch),
        )


@dataclass
class DatasetProfile:
    """Profiles of every column of a table, plus where they came from.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
    >>> whole = profile_frame(df)
    >>> halves = profile_frame(df.iloc[:1000]).merge(profile_frame(df.iloc[1000:]))
    >>> halves.rows, abs(halves.columns["x"].mean - whole.columns["x"].mean) < 1e-12
    (2000, True)
    >>> halves.columns["c"].category_counts() == whole.columns["c"].category_counts()
    True
    """

    columns: dict[str, ColumnProfile]
    rows: int = 0
    sources: list[str] = field(default_factory=list)
    config: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CONFIG))
    created: float = field(default_factory=time.time)

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """The profile of both inputs: partitions of one table, or consecutive windows."""
        if self.config != other.config:
            raise InputError(
                f"Cannot merge profiles made with different sketch sizes ({self.config} vs "
                f"{other.config}). Profile both with the same settings."
            )
        if set(self.columns) != set(other.columns):
            only = sorted(set(self.columns) ^ set(other.columns))
            raise InputError(
                f"Cannot merge profiles with different columns (in one only: {only[:10]}). "
                "Profile the same columns, e.g. with --columns."
            )
        cols = {n: c.merge(other.columns[n]) for n, c in self.columns.items()}
        return DatasetProfile(
            cols, self.rows + other.rows, self.sources + other.sources, dict(self.config)
        )

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": {n: c.summary() for n, c in self.columns.items()}}

    def to_dict(self) -> dict[str, Any]:
        from tripwire import __version__

        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "tripwire": __version__,
            "created": self.created,
            "rows": self.rows,
            "sources": self.sources,
            "config": self.config,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON (format documented in docs/scale.md)."""
        Path(path).write_text(json.dumps(self.to_dict(), separators=(",", ":")))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "profile") -> DatasetProfile:
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise InputError(
                f'{where} is not a tripwire profile (no "format": "{FORMAT}"). Make one with '
                "`tripwire profile DATA --out FILE`."
            )
        version = d.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InputError(
                f"{where} has profile format version {version!r}; this tripwire reads up to "
                f"{FORMAT_VERSION}. Upgrade tripwire or re-profile the data."
            )
        config = {k: int(v) for k, v in d["config"].items()}
        cols = {c["name"]: ColumnProfile.from_dict(c, config) for c in d["columns"]}
        return cls(cols, int(d["rows"]), list(d.get("sources", [])), config, float(d["created"]))


def is_profile_file(path: Any) -> bool:
    """True when ``path`` is a file that starts like a tripwire profile."""
    if not isinstance(path, (str, Path)):
        return False
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as fh:
        head = fh.read(64)
    return head.lstrip().startswith(b"{") and FORMAT.encode() in head


def load_profile(path: str | Path) -> DatasetProfile:
    """Read a profile written by :meth:`DatasetProfile.save`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Profile file {str(p)!r} does not exist. Check the path.")
    try:
        d = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{p} is not a tripwire profile (not JSON).") from None
    return DatasetProfile.from_dict(d, where=str(p))


def column_kind(arrow_type: Any) -> str | None:
    """``numeric`` or ``categorical`` for an Arrow type; None for types not profiled."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return "numeric"
    if pa.types.is_decimal(t) or pa.types.is_temporal(t):
        return "numeric"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "categorical"
    return None


def update_from_batch(profiles: dict[str, ColumnProfile], batch: Any) -> int:
    """Add one Arrow record batch (or table) to ``profiles``; returns its row count."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, col in profiles.items():
        arr = batch.column(name)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        n_null = arr.null_count
        if col.kind == "numeric":
            t = arr.type
            if pa.types.is_dictionary(t):
                arr = arr.dictionary_decode()
                t = arr.type
            if pa.types.is_temporal(t):
                arr = (
                    pc.cast(arr, pa.int64())
                    if not pa.types.is_date32(t)
                    else pc.cast(arr, pa.int32())
                )
            if n_null:
                arr = arr.drop_null()
            x = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
            col.update_numeric(x, n_null)
        else:
            if pa.types.is_dictionary(arr.type):
                idx = pc.fill_null(arr.indices, -1).to_numpy(zero_copy_only=False)
                counts = np.bincount(idx[idx >= 0], minlength=len(arr.dictionary))
                keep = np.flatnonzero(counts)
                values = arr.dictionary.take(pa.array(keep)).to_pylist()
                col.update_counts([str(v) for v in values], counts[keep].tolist(), n_null)
            else:
                vc = pc.value_counts(arr.drop_null() if n_null else arr)
                col.update_counts(
                    [str(v) for v in vc.field("values").to_pylist()],
                    vc.field("counts").to_pylist(),
                    n_null,
                )
    return int(batch.num_rows)


def new_profiles(
    schema: Any, columns: Iterable[str] | None = None, config: Mapping[str, int] | None = None
) -> dict[str, ColumnProfile]:
    """Empty column profiles for the profiled columns of an Arrow schema."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    wanted = list(columns) if columns else None
    if wanted:
        missing = [c for c in wanted if c not in schema.names]
        if missing:
            raise InputError(
                f"Column(s) {missing} are not in the data (columns: {', '.join(schema.names[:12])}"
                f"{', ...' if len(schema.names) > 12 else ''}). Pass existing column names."
            )
    out = {}
    for f in schema:
        if wanted and f.name not in wanted:
            continue
        kind = column_kind(f.type)
        if kind is not None:
            out[f.name] = ColumnProfile(f.name, kind, cfg)
    if not out:
        raise InputError("No numeric or text column to profile. Check the data and --columns.")
    return out


def profile_frame(
    frame: Any, *, columns: Iterable[str] | None = None, config: Mapping[str, int] | None = None
) -> DatasetProfile:
    """Profile an in-memory pandas DataFrame or Arrow table in one pass."""
    import pyarrow as pa

    if not isinstance(frame, (pa.Table, pa.RecordBatch)):
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                f"Expected a pandas DataFrame or Arrow table; got {type(frame).__name__}."
            )
        frame = _arrow_from_pandas(frame)
    cols = new_profiles(frame.schema, columns, config)
    rows = update_from_batch(cols, frame)
    return DatasetProfile(cols, rows, config={**DEFAULT_CONFIG, **(config or {})})


def _arrow_from_pandas(df: Any) -> Any:
    import pyarrow as pa

    df = df.rename(columns=str)
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        obj = df.select_dtypes(include="object").columns
        fixed = df.copy()
        fixed[obj] = fixed[obj].astype("string")
        return pa.Table.from_pandas(fixed, preserve_index=False)
