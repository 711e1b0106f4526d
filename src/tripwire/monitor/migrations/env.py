"""Alembic environment: runs on the connection the store hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from tripwire.monitor.schema import metadata

VERSION_TABLE = "tw_alembic_version"


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


# Importing this file outside Alembic (doctest collection) must do nothing.
if getattr(context, "_proxy", None) is not None:
    run()
