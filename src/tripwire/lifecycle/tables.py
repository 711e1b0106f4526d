"""The registry's tables in the monitor's database: versions, aliases, trail, serving, shadow.

Built once on first use, because SQLAlchemy is in the service extra. Migration 0002 creates
the same tables with its own frozen copy of these definitions; a later change here needs a new
migration.
"""

from __future__ import annotations

from typing import Any

_SCHEMA_CACHE: dict[str, Any] = {}


def tables() -> Any:
    """The registry's SQLAlchemy tables (built once; SQLAlchemy is in the service extra)."""
    if "tables" in _SCHEMA_CACHE:
        return _SCHEMA_CACHE["tables"]
    import sqlalchemy as sa

    md = sa.MetaData()
    versions = sa.Table(
        "tw_registry_versions",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("artifact_path", sa.Text, nullable=False),
        sa.Column("artifact_format", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("task", sa.String(20)),
        sa.Column("target", sa.String(200)),
        sa.Column("input_schema", sa.JSON),
        sa.Column("train_fingerprint", sa.String(64)),
        sa.Column("train_rows", sa.Integer),
        sa.Column("metrics", sa.JSON),
        sa.Column("audit", sa.JSON),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("model_name", "version", name="uq_tw_registry_version"),
    )
    aliases = sa.Table(
        "tw_registry_aliases",
        md,
        sa.Column("model_name", sa.String(200), primary_key=True),
        sa.Column("alias", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    trail = sa.Table(
        "tw_registry_trail",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("alias", sa.String(40)),
        sa.Column("version", sa.Integer),
        sa.Column("from_version", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("evidence", sa.JSON),
    )
    sa.Table(
        "tw_registry_serving",
        md,
        sa.Column("model_name", sa.String(200), primary_key=True),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("canary_share", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "tw_shadow_predictions",
        md,
        sa.Column("model_name", sa.String(200), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("prediction", sa.Text, nullable=False),
        sa.Column("probabilities", sa.Text),
        sa.Column("latency_ms", sa.Float),
    )
    _SCHEMA_CACHE["tables"] = (md, versions, aliases, trail)
    return _SCHEMA_CACHE["tables"]


def metadata() -> Any:
    """The registry's SQLAlchemy MetaData (for migrations and tests)."""
    return tables()[0]
