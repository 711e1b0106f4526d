"""Engines: where profiles are computed. The boundary is :class:`Engine`.

An engine turns data sources (file paths, or an engine's own dataframe) into one merged
:class:`~tripwire.scale.profile.DatasetProfile`. Everything statistical lives in the profile
(update from an Arrow batch, merge); an engine only decides where batches are read and how
partial profiles are combined. A Spark engine would profile each partition with
``mapPartitions`` into serialised profiles and merge them on the driver, as the Dask engine
does with tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from tripwire.errors import InputError, UsageError, require
from tripwire.scale.profile import (
    DEFAULT_CONFIG,
    DatasetProfile,
    new_profiles,
    update_from_batch,
)

#: Rows per Arrow batch on the local engine: with 20 columns about 160 MB of float64 at most.
DEFAULT_BATCH_ROWS = 500_000


class Engine(Protocol):
    """What an engine must do: profile sources into one merged profile."""

    name: str

    def profile(
        self,
        sources: Sequence[Any],
        *,
        columns: Sequence[str] | None = None,
        config: Mapping[str, int] | None = None,
    ) -> DatasetProfile: ...


def _paths(sources: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            files = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in (".parquet", ".pq", ".csv", ".gz")
            )
            if not files:
                raise InputError(f"Folder {str(p)!r} holds no .parquet or .csv file.")
            out.extend(files)
        elif p.is_file():
            out.append(str(p))
        else:
            raise InputError(f"Data file {str(p)!r} does not exist. Check the path.")
    if not out:
        raise UsageError("Give at least one data file or folder to profile.")
    return out


def _is_csv(path: str) -> bool:
    return path.lower().endswith((".csv", ".csv.gz", ".tsv"))


def iter_batches(
    path: str,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    columns: Sequence[str] | None = None,
    row_groups: Sequence[int] | None = None,
) -> Iterator[Any]:
    """Arrow record batches of one CSV or Parquet file, at most ``batch_rows`` rows each."""
    import pyarrow as pa

    try:
        if _is_csv(path):
            from pyarrow import csv

            reader = csv.open_csv(
                path,
                read_options=csv.ReadOptions(block_size=64 << 20),
                convert_options=csv.ConvertOptions(
                    include_columns=list(columns or []), strings_can_be_null=True
                ),
            )
            yield from reader
            return
        import pyarrow.parquet as pq

        # Buffered column reads without pre-buffering: with pyarrow's defaults the process
        # grows by ~30 MB per batch on a large file (measured); this keeps it flat.
        pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
        yield from pf.iter_batches(
            batch_size=batch_rows,
            row_groups=list(row_groups) if row_groups is not None else None,
            columns=list(columns) if columns else None,
            use_threads=True,
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"Cannot read {path}: {exc}. Pass a CSV or Parquet file.") from None


def _schema(path: str) -> Any:
    import pyarrow.parquet as pq

    if _is_csv(path):
        return next(iter_batches(path, batch_rows=10_000)).schema
    return pq.ParquetFile(path).schema_arrow


def _row_count(path: str) -> int | None:
    if _is_csv(path):
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def profile_batches(
    batches: Iterable[Any],
    *,
    columns: Sequence[str] | None = None,
    config: Mapping[str, int] | None = None,
    on_rows: Callable[[int], None] | None = None,
    source: str = "",
) -> DatasetProfile:
    """Profile a stream of Arrow record batches (memory: one batch plus the sketches)."""
    profiles = None
    rows = 0
    for batch in batches:
        if profiles is None:
            profiles = new_profiles(batch.schema, columns, config)
        n = update_from_batch(profiles, batch)
        rows += n
        if on_rows is not None:
            on_rows(n)
    if profiles is None:
        raise InputError(f"{source or 'the data'} has no rows to profile.")
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    return DatasetProfile(profiles, rows, [source] if source else [], cfg)


class LocalEngine:
    """Stream files in Arrow batches on this machine, in bounded memory, with a progress bar.

    Memory holds one batch (``batch_rows`` rows of the profiled columns) and the sketches
    (kilobytes per column), whatever the file size.
    """

    name = "local"

    def __init__(self, batch_rows: int = DEFAULT_BATCH_ROWS, progress: bool = False) -> None:
        self.batch_rows = batch_rows
        self.progress = progress

    def profile(
        self,
        sources: Sequence[Any],
        *,
        columns: Sequence[str] | None = None,
        config: Mapping[str, int] | None = None,
    ) -> DatasetProfile:
        paths = _paths(sources)
        counts = [_row_count(p) for p in paths]
        total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
        with _Progress(self.progress, total) as bar:
            merged: DatasetProfile | None = None
            for path in paths:
                prof = profile_batches(
                    iter_batches(path, self.batch_rows, columns),
                    columns=columns,
                    config=config,
                    on_rows=bar.advance,
                    source=path,
                )
                merged = prof if merged is None else merged.merge(prof)
        assert merged is not None
        return merged


class _Progress:
    """A rich progress bar on stderr (rows and rows per second), or nothing."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled, self.total = enabled, total
        self._p: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(
                TextColumn("profiling"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._p.__enter__()
            self._task = self._p.add_task("rows", total=self.total)
        return self

    def advance(self, n: int) -> None:
        if self._p is not None:
            self._p.advance(self._task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)


def _profile_part(
    path: str,
    row_groups: list[int] | None,
    columns: Sequence[str] | None,
    config: Mapping[str, int] | None,
) -> dict[str, Any]:
    """A Dask task: one file (or some row groups of it) to a serialised profile."""
    prof = profile_batches(
        iter_batches(path, DEFAULT_BATCH_ROWS, columns, row_groups),
        columns=columns,
        config=config,
        source=path,
    )
    return prof.to_dict()


def _profile_pandas(frame: Any, columns: Any, config: Any) -> dict[str, Any]:
    from tripwire.scale.profile import profile_frame

    return profile_frame(frame, columns=columns, config=config).to_dict()


def _merge_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return DatasetProfile.from_dict(a).merge(DatasetProfile.from_dict(b)).to_dict()


class DaskEngine:
    """Profile on a Dask cluster: one task per Parquet row-group range (or CSV file, or
    dataframe partition) on the workers, then a tree of merges.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a
    ``LocalCluster`` of ``n_workers`` processes is started and closed. The workers must see
    the files at the same paths (a shared file system, or object-store URLs pyarrow reads).
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        client: Any = None,
        n_workers: int = 2,
        row_groups_per_task: int = 4,
        progress: bool = False,
    ) -> None:
        self.scheduler = scheduler
        self.client = client
        self.n_workers = n_workers
        self.row_groups_per_task = row_groups_per_task
        self.progress = progress

    def _client(self) -> tuple[Any, bool]:
        distributed = require("distributed", feature="The Dask engine", extra="scale")
        if self.client is not None:
            return self.client, False
        if self.scheduler:
            try:
                return distributed.Client(self.scheduler, timeout="20s"), True
            except OSError as exc:
                raise UsageError(
                    f"Cannot reach the Dask scheduler at {self.scheduler} ({exc}). Start one with "
                    "`dask scheduler` and pass its address, e.g. tcp://10.0.0.5:8786."
                ) from None
        cluster = distributed.LocalCluster(
            n_workers=self.n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return distributed.Client(cluster), True

    def _tasks(self, paths: list[str]) -> list[tuple[str, list[int] | None]]:
        import pyarrow.parquet as pq

        out: list[tuple[str, list[int] | None]] = []
        for path in paths:
            if _is_csv(path):
                out.append((path, None))
                continue
            n = pq.ParquetFile(path).metadata.num_row_groups
            step = self.row_groups_per_task
            out.extend((path, list(range(i, min(n, i + step)))) for i in range(0, n, step))
        return out

    def profile(
        self,
        sources: Sequence[Any],
        *,
        columns: Sequence[str] | None = None,
        config: Mapping[str, int] | None = None,
    ) -> DatasetProfile:
        client, owned = self._client()
        try:
            cols = list(columns) if columns else None
            if len(sources) == 1 and hasattr(sources[0], "to_delayed"):
                parts = [
                    client.submit(_profile_pandas, d, cols, config, pure=False)
                    for d in client.compute(sources[0].to_delayed())
                ]
            else:
                parts = [
                    client.submit(_profile_part, path, groups, cols, config, pure=False)
                    for path, groups in self._tasks(_paths(sources))
                ]
            while len(parts) > 1:  # a merge tree: log2(tasks) rounds, on the workers
                nxt = [client.submit(_merge_dicts, a, b) for a, b in zip(parts[::2], parts[1::2])]
                if len(parts) % 2:
                    nxt.append(parts[-1])
                parts = nxt
            result = parts[0].result()
            prof = DatasetProfile.from_dict(result)
            if not (len(sources) == 1 and hasattr(sources[0], "to_delayed")):
                prof.sources = sorted(set(prof.sources))
            return prof
        finally:
            if owned:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()


def get_engine(name: str, scheduler: str | None = None, progress: bool = False) -> Engine:
    """The engine called ``name`` (``local`` or ``dask``)."""
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler needs --engine dask.")
        return LocalEngine(progress=progress)
    if name == "dask":
        return DaskEngine(scheduler, progress=progress)
    raise UsageError(f"Unknown engine {name!r}; choose local or dask.")


def profile(
    *sources: Any,
    engine: str | Engine = "local",
    columns: Sequence[str] | None = None,
    config: Mapping[str, int] | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> DatasetProfile:
    """Profile CSV/Parquet files or folders (or a pandas/Arrow/Dask frame) into one profile.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": range(10), "c": list("ab") * 5}).to_parquet(os.path.join(d, "t.parquet"))
    >>> p = profile(os.path.join(d, "t.parquet"))
    >>> p.rows, p.columns["x"].mean, p.columns["c"].category_counts()
    (10, 4.5, {'a': 5.0, 'b': 5.0})
    """
    import pandas as pd
    import pyarrow as pa

    from tripwire.scale.profile import profile_frame

    if len(sources) == 1 and isinstance(sources[0], (pd.DataFrame, pa.Table)):
        return profile_frame(sources[0], columns=columns, config=config)
    eng = get_engine(engine, scheduler, progress) if isinstance(engine, str) else engine
    return eng.profile(list(sources), columns=columns, config=config)
