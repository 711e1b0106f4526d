"""`tripwire serve` and `tripwire token create`: the monitor service and its API tokens."""

from __future__ import annotations

import os
import sys

import click

DB_HELP = (
    "SQLAlchemy URL of the store: sqlite:///FILE (default: sqlite:///tripwire.db in the "
    "working folder) or postgresql://user@host:5432/db. Also read from TRIPWIRE_DB."
)


def _db(db: str | None) -> str:
    return db or os.environ.get("TRIPWIRE_DB") or "sqlite:///tripwire.db"


@click.command("serve")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--webhook",
    multiple=True,
    help="POST incident changes to this URL (repeatable; Slack-compatible).",
)
@click.option(
    "--evaluate-every",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds between window evaluations (0: on demand only).",
)
@click.option(
    "--max-body-mb",
    default=32.0,
    show_default=True,
    type=float,
    help="Requests with a larger body get 413.",
)
@click.option(
    "--max-batch",
    default=10_000,
    show_default=True,
    type=int,
    help="Most records in one ingest batch (413 above).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(
    db: str | None,
    host: str,
    port: int,
    webhook: tuple[str, ...],
    evaluate_every: float,
    max_body_mb: float,
    max_batch: int,
    log_level: str,
) -> None:
    """Run the monitor service (HTTP API, dashboard at /, Prometheus at /metrics)."""
    import logging

    from tripwire.errors import require

    require("fastapi", feature="tripwire serve", extra="service")
    uvicorn = require("uvicorn", feature="tripwire serve", extra="service")
    from tripwire.monitor.notify import from_urls
    from tripwire.monitor.service import create_app
    from tripwire.monitor.store import Store

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = _db(db)
    store = Store(url).migrate()
    app = create_app(
        store,
        notifiers=from_urls(webhook),
        evaluate_every=evaluate_every,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_batch=max_batch,
    )
    click.echo(
        f"tripwire serve: http://{host}:{port} (store {_redact(url)}, schema {store.revision()})",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _redact(url: str) -> str:
    import re

    return re.sub(r"://([^:/@]+):[^@]+@", r"://\1:***@", url)


@click.group("token")
def token() -> None:
    """API tokens for the monitor service (only their SHA-256 is stored)."""


@token.command("create")
@click.argument("name")
@click.option("--db", default=None, help=DB_HELP)
def token_create(name: str, db: str | None) -> None:
    """Print a new bearer token NAME once; keep it, it cannot be shown again."""
    from tripwire.monitor.store import Store

    store = Store(_db(db)).migrate()
    sys.stdout.write(store.create_token(name) + "\n")


@token.command("revoke")
@click.argument("name")
@click.option("--db", default=None, help=DB_HELP)
def token_revoke(name: str, db: str | None) -> None:
    """Revoke the tokens called NAME (a running service stops accepting them within 10 s)."""
    from tripwire.errors import UsageError
    from tripwire.monitor.store import Store

    n = Store(_db(db)).migrate().revoke_token(name)
    if n == 0:
        raise UsageError(f"no live token is called '{name}'. See them with: tripwire token list")
    click.echo(f"revoked {n} token(s) called '{name}'")


@token.command("list")
@click.option("--db", default=None, help=DB_HELP)
def token_list(db: str | None) -> None:
    """List token names and dates (the tokens themselves are not stored)."""
    from tripwire.monitor.store import Store

    for tok in Store(_db(db)).migrate().tokens():
        state = f"revoked {tok['revoked_at']}" if tok["revoked_at"] else "live"
        click.echo(f"{tok['name']}\tcreated {tok['created_at']}\t{state}")


@click.group("reference")
def reference() -> None:
    """The reference data a monitored model's windows are compared with."""


@reference.command("set")
@click.argument("name")
@click.argument("data", nargs=-1, required=True)
@click.option("--db", default=None, help=DB_HELP)
@click.option("--columns", default=None, help="Comma-separated columns to profile (default all).")
def reference_set(name: str, data: tuple[str, ...], db: str | None, columns: str | None) -> None:
    """Keep DATA as model NAME's reference, as a profile.

    DATA is a saved profile (`tripwire profile ... --out FILE`) or CSV/Parquet files of any
    size, profiled here in bounded memory. Windows are then compared with the profile
    (sketch drift, with the sketches' error taken off); earlier window results are dropped
    and re-evaluated against it.
    """
    from tripwire.monitor.store import Store
    from tripwire.scale import is_profile_file, load_profile, profile

    if len(data) == 1 and is_profile_file(data[0]):
        prof = load_profile(data[0])
    else:
        cols = [c.strip() for c in columns.split(",")] if columns else None
        prof = profile(*data, columns=cols)
    rows = Store(_db(db)).migrate().set_reference(name, {"profile": prof.to_dict()})
    click.echo(f"reference of '{name}': a profile of {rows:,} rows, {len(prof.columns)} columns")


COMMANDS = [serve, token, reference]
