"""Database engines for the registry: SQLite files made safe for several processes."""

from __future__ import annotations

from typing import Any

_ENGINES: dict[str, Any] = {}


def engine_for(url: str) -> Any:
    """A shared SQLAlchemy engine for ``url``.

    SQLite files get WAL journaling and a busy timeout, so a CLI command (``tripwire registry
    promote``) can write while ``tripwire serve`` reads and writes the same file.
    ``postgresql://`` URLs use psycopg 3.
    """
    if url in _ENGINES:
        return _ENGINES[url]
    import sqlalchemy as sa

    if url.startswith("postgresql://"):
        url_for_driver = "postgresql+psycopg://" + url[len("postgresql://") :]
    else:
        url_for_driver = url
    if url_for_driver.startswith("sqlite"):
        engine = sa.create_engine(url_for_driver, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    else:
        engine = sa.create_engine(url_for_driver, pool_pre_ping=True)
    _ENGINES[url] = engine
    return engine
