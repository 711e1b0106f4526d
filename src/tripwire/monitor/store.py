"""The monitor's store: one small interface over SQLite (default) or PostgreSQL.

Routes, the window evaluator and the client receive a :class:`Store`, never a session. Every
write is one transaction: a batch is stored whole or not at all, and a batch that returns has
been committed (SQLite runs in WAL mode with ``synchronous=FULL``).

It holds the engine, migrations, models, the reference, the database side of ingestion and
the window queries; :class:`Store` takes its token methods from :mod:`tripwire.monitor.tokens`
and its incident methods from :mod:`tripwire.monitor.incidents`, and ingested records are
validated by :mod:`tripwire.monitor.ingest`.

Examples
--------
>>> import tempfile, pathlib
>>> store = Store(f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'tw.db'}").migrate()
>>> _ = store.create_model("churn", task="classification")
>>> recs = [{"id": "a", "features": {"x": 1}, "prediction": 1, "timestamp": 0}]
>>> store.add_predictions("churn", recs), store.add_predictions("churn", recs)
((1, 0), (0, 1))
>>> store.add_feedback("churn", [{"id": "a", "label": 0}])
(1, 0)
>>> store.summary("churn")["predictions"]
1
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tripwire.errors import ConflictError, InputError, NotFoundError
from tripwire.monitor import schema as t
from tripwire.monitor.incidents import IncidentStore
from tripwire.monitor.ingest import feedback_rows, prediction_rows
from tripwire.monitor.records import check_reference, dumps, iso_time, json_default, loads_many
from tripwire.monitor.tokens import TokenStore, hash_token  # noqa: F401  (hash_token: re-export)

TASKS = ("classification", "regression")
DEFAULT_DB = "sqlite:///tripwire.db"
DEFAULT_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ModelInfo:
    id: int
    name: str
    task: str
    window_seconds: int
    config: dict[str, Any]
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "window_seconds": self.window_seconds,
            "config": self.config,
            "created_at": iso_time(self.created_at),
        }


def driver_url(url: str) -> str:
    """The SQLAlchemy URL with its driver: ``postgresql://`` means psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if "://" not in url:
        raise InputError(
            f"--db {url!r} is not a database URL. Use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/dbname."
        )
    return url


class Store(TokenStore, IncidentStore):
    """The monitor's database.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///tripwire.db`` (the default) or
        ``postgresql://user@host:5432/dbname`` (psycopg 3).
    """

    def __init__(self, url: str = DEFAULT_DB) -> None:
        self.url = url
        self.engine = _engine(driver_url(url))
        self.dialect = self.engine.dialect.name

    # -- schema ----------------------------------------------------------------------------
    def migrate(self) -> Store:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two processes starting at once must not both create the tables.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return self

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("tw_alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM tw_alembic_version")).scalar()

    # -- models ----------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        task: str,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        config: Mapping[str, Any] | None = None,
    ) -> tuple[ModelInfo, bool]:
        """Register a model; re-registering with the same task is a no-op. Returns (model, created)."""
        if task not in TASKS:
            raise InputError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
        if not name or len(name) > 200 or "/" in name:
            raise InputError("model name must have 1 to 200 characters and no '/'")
        if int(window_seconds) < 1:
            raise InputError(f"window_seconds must be at least 1; got {window_seconds}")
        try:
            existing = self.get_model(name)
        except NotFoundError:
            existing = None
        if existing is not None:
            if existing.task != task:
                raise ConflictError(
                    f"model '{name}' exists with task '{existing.task}', not '{task}'. "
                    "Register the new model under another name."
                )
            return existing, False
        with self.engine.begin() as conn:
            conn.execute(
                t.models.insert().values(
                    name=name,
                    task=task,
                    window_seconds=int(window_seconds),
                    config=json.dumps(dict(config or {})),
                    created_at=time.time(),
                )
            )
        return self.get_model(name), True

    def get_model(self, name: str) -> ModelInfo:
        row = None
        if 0 < len(name) <= 200 and "\x00" not in name:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(t.models).where(t.models.c.name == name)).first()
        if row is None:
            raise NotFoundError(
                f"model '{name}' is not registered. Register it first with POST /v1/models "
                '{"name": "' + name + '", "task": "classification"}.'
            )
        return _model(row)

    def models(self) -> list[ModelInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.models).order_by(t.models.c.name)).all()
        return [_model(r) for r in rows]

    # -- reference -------------------------------------------------------------------------
    def set_reference(self, name: str, reference: Mapping[str, Any]) -> int:
        """Store the reference: ``{"records": [...], "labels"?, "predictions"?, "probabilities"?}``,
        or ``{"profile": {...}}``, a saved tripwire profile (``tripwire profile --out``) of data
        that need not fit in the database. Returns the reference's row count."""
        model = self.get_model(name)
        n, payload = check_reference(reference)
        return self._put_reference(model.id, n, payload)

    def _put_reference(self, model_id: int, n: int, reference: dict[str, Any]) -> int:
        payload = dumps(reference, "reference")
        with self.engine.begin() as conn:
            conn.execute(t.references.delete().where(t.references.c.model_id == model_id))
            conn.execute(
                t.references.insert().values(
                    model_id=model_id, set_at=time.time(), n_rows=n, data=payload
                )
            )
            # Every window must be judged against the new reference.
            conn.execute(t.windows.delete().where(t.windows.c.model_id == model_id))
        return n

    def reference(self, model_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.references.c.data).where(t.references.c.model_id == model_id)
            ).first()
        return None if row is None else json.loads(row[0])

    # -- ingestion -------------------------------------------------------------------------
    def add_predictions(
        self, name: str, records: Sequence[Mapping[str, Any]], *, received_at: float | None = None
    ) -> tuple[int, int]:
        """Store a batch of predictions; returns (accepted, duplicates). All or nothing."""
        model = self.get_model(name)
        now = time.time() if received_at is None else received_at
        rows, versions = prediction_rows(
            records, model_id=model.id, width=model.window_seconds, now=now
        )
        n_in_batch_dupes = len(records) - len(rows)
        with self.engine.begin() as conn:
            fresh = self._without_existing(conn, t.predictions, model.id, rows)
            if fresh:
                self._insert_many(conn, t.predictions, fresh)
            for version in versions:
                self._ensure_version(conn, model.id, version)
        return len(fresh), n_in_batch_dupes + len(rows) - len(fresh)

    def add_feedback(
        self, name: str, records: Sequence[Mapping[str, Any]], *, received_at: float | None = None
    ) -> tuple[int, int]:
        """Store delayed labels joined by prediction id; returns (accepted, duplicates)."""
        model = self.get_model(name)
        now = time.time() if received_at is None else received_at
        rows = feedback_rows(records, model_id=model.id, now=now)
        n_in_batch_dupes = len(records) - len(rows)
        with self.engine.begin() as conn:
            fresh = self._without_existing(conn, t.feedback, model.id, rows)
            if fresh:
                self._insert_many(conn, t.feedback, fresh)
        return len(fresh), n_in_batch_dupes + len(rows) - len(fresh)

    def _without_existing(
        self, conn: Any, table: sa.Table, model_id: int, rows: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if not rows:
            return []
        ids = list(rows)
        existing: set[str] = set()
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            existing.update(
                conn.execute(
                    sa.select(table.c.id).where(table.c.model_id == model_id, table.c.id.in_(chunk))
                ).scalars()
            )
        return [row for rid, row in rows.items() if rid not in existing]

    def _insert_many(self, conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """One DBAPI executemany; ids that a concurrent batch stored meanwhile are skipped."""
        cols = list(rows[0])
        if self.dialect in ("sqlite", "postgresql"):
            mark = "?" if self.dialect == "sqlite" else "%s"
            sql = (
                f"INSERT INTO {table.name} ({', '.join(cols)}) "
                f"VALUES ({', '.join([mark] * len(cols))}) ON CONFLICT DO NOTHING"
            )
            conn.exec_driver_sql(sql, [tuple(r[c] for c in cols) for r in rows])
        else:
            conn.execute(self._insert_ignore(table), rows)

    def _insert_ignore(self, table: sa.Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing()
        return table.insert()

    def _ensure_version(self, conn: Any, model_id: int, version: str) -> None:
        exists = conn.execute(
            sa.select(t.model_versions.c.id).where(
                t.model_versions.c.model_id == model_id, t.model_versions.c.version == version
            )
        ).first()
        if exists is None:
            conn.execute(
                self._insert_ignore(t.model_versions).values(
                    model_id=model_id, version=version, created_at=time.time()
                )
            )

    # -- queries for evaluation ------------------------------------------------------------
    def window_counts(self, model_id: int) -> list[tuple[int, int, int]]:
        """(window_start, predictions, feedback) for every window with data, in time order."""
        p, f = t.predictions, t.feedback
        q = (
            sa.select(p.c.window_start, sa.func.count(), sa.func.count(f.c.id))
            .select_from(p.outerjoin(f, sa.and_(f.c.model_id == p.c.model_id, f.c.id == p.c.id)))
            .where(p.c.model_id == model_id)
            .group_by(p.c.window_start)
            .order_by(p.c.window_start)
        )
        with self.engine.connect() as conn:
            return [(int(a), int(b), int(c)) for a, b, c in conn.execute(q)]

    def watermark(self, model_id: int) -> float | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.max(t.predictions.c.ts)).where(
                    t.predictions.c.model_id == model_id
                )
            ).scalar()

    def window_rows(self, model_id: int, window_start: int) -> dict[str, Any]:
        """The raw rows of one window as parsed column lists (JSON decoded in one call each)."""
        p, f = t.predictions, t.feedback
        q = (
            sa.select(
                p.c.id,
                p.c.ts,
                p.c.features,
                p.c.prediction,
                p.c.probabilities,
                p.c.latency_ms,
                f.c.label,
            )
            .select_from(p.outerjoin(f, sa.and_(f.c.model_id == p.c.model_id, f.c.id == p.c.id)))
            .where(p.c.model_id == model_id, p.c.window_start == window_start)
            .order_by(p.c.ts, p.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        cols = list(zip(*rows)) if rows else [()] * 7
        return {
            "ids": list(cols[0]),
            "ts": list(cols[1]),
            "features": loads_many(cols[2]),
            "prediction": loads_many(cols[3]),
            "probabilities": loads_many(cols[4]),
            "latency_ms": list(cols[5]),
            "label": loads_many(cols[6]),
        }

    def stored_windows(self, model_id: int) -> dict[int, tuple[int, int, bool]]:
        w = t.windows
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(w.c.window_start, w.c.n_predictions, w.c.n_feedback, w.c.complete).where(
                    w.c.model_id == model_id
                )
            ).all()
        return {int(r[0]): (int(r[1]), int(r[2]), bool(r[3])) for r in rows}

    def save_windows(self, model_id: int, results: Iterable[Mapping[str, Any]]) -> None:
        rows = [
            {
                "model_id": model_id,
                "window_start": int(r["window_start"]),
                "window_end": int(r["window_end"]),
                "n_predictions": int(r["n_predictions"]),
                "n_feedback": int(r["n_feedback"]),
                "complete": bool(r["complete"]),
                "evaluated_at": time.time(),
                "result": json.dumps(r, allow_nan=False, default=json_default),
            }
            for r in results
        ]
        if not rows:
            return
        starts = [r["window_start"] for r in rows]
        with self.engine.begin() as conn:
            for i in range(0, len(starts), 5000):
                conn.execute(
                    t.windows.delete().where(
                        t.windows.c.model_id == model_id,
                        t.windows.c.window_start.in_(starts[i : i + 5000]),
                    )
                )
            conn.execute(t.windows.insert(), rows)

    def windows(
        self, model_id: int, *, since: float | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Stored window results, oldest first (the newest ``limit`` when given)."""
        w = t.windows
        q = sa.select(w.c.result).where(w.c.model_id == model_id)
        if since is not None:
            q = q.where(w.c.window_start >= since)
        q = q.order_by(w.c.window_start.desc())
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            results = [json.loads(r[0]) for r in conn.execute(q)]
        return results[::-1]

    # -- summaries -------------------------------------------------------------------------
    def summary(self, name: str) -> dict[str, int]:
        model = self.get_model(name)
        with self.engine.connect() as conn:

            def count(table: sa.Table, *extra: Any) -> int:
                q = (
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.model_id == model.id, *extra)
                )
                return int(conn.execute(q).scalar() or 0)

            return {
                "predictions": count(t.predictions),
                "feedback": count(t.feedback),
                "windows": count(t.windows),
                "open_incidents": count(t.incidents, t.incidents.c.status == "open"),
            }

    def close(self) -> None:
        self.engine.dispose()
        _ENGINES.pop(driver_url(self.url), None)


def _model(row: Any) -> ModelInfo:
    return ModelInfo(
        id=int(row.id),
        name=row.name,
        task=row.task,
        window_seconds=int(row.window_seconds),
        config=json.loads(row.config or "{}"),
        created_at=float(row.created_at),
    )


_ENGINES: dict[str, Any] = {}


def _engine(url: str) -> Any:
    if url in _ENGINES:
        return _ENGINES[url]
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives a power cut, not only a killed process.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _ENGINES[url] = engine
    return engine
