"""Registry and guarded serving: versions, aliases, the trail, serving settings, shadow log.

The registry creates these tables itself when it is used on a database the monitor never
migrated (``tripwire registry add`` before any ``tripwire serve``), so each table is created
only where it is missing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _tables() -> list[tuple[str, list[Any]]]:
    return [
        (
            "tw_registry_versions",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("model_name", sa.String(200), nullable=False),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("created_at", TZ, nullable=False),
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
            ],
        ),
        (
            "tw_registry_aliases",
            [
                sa.Column("model_name", sa.String(200), primary_key=True),
                sa.Column("alias", sa.String(40), primary_key=True),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("updated_at", TZ, nullable=False),
            ],
        ),
        (
            "tw_registry_trail",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("at", TZ, nullable=False),
                sa.Column("model_name", sa.String(200), nullable=False, index=True),
                sa.Column("action", sa.String(40), nullable=False),
                sa.Column("actor", sa.String(200), nullable=False),
                sa.Column("alias", sa.String(40)),
                sa.Column("version", sa.Integer),
                sa.Column("from_version", sa.Integer),
                sa.Column("reason", sa.Text),
                sa.Column("evidence", sa.JSON),
            ],
        ),
        (
            "tw_registry_serving",
            [
                sa.Column("model_name", sa.String(200), primary_key=True),
                sa.Column("shadow", sa.Boolean, nullable=False),
                sa.Column("canary_share", sa.Float, nullable=False),
                sa.Column("updated_at", TZ, nullable=False),
            ],
        ),
        (
            "tw_shadow_predictions",
            [
                sa.Column("model_name", sa.String(200), primary_key=True),
                sa.Column("id", sa.String(200), primary_key=True),
                sa.Column("version", sa.Integer, primary_key=True),
                sa.Column("ts", sa.Float, nullable=False, index=True),
                sa.Column("prediction", sa.Text, nullable=False),
                sa.Column("probabilities", sa.Text),
                sa.Column("latency_ms", sa.Float),
            ],
        ),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables():
        if name not in existing:
            op.create_table(name, *columns)


def downgrade() -> None:
    for name, _ in reversed(_tables()):
        op.drop_table(name)
