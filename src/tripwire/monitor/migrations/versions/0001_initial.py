"""Initial monitor schema: models, versions, predictions, feedback, references, windows,
incidents and hashed API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tw_models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("task", sa.String(20), nullable=False),
        sa.Column("window_seconds", sa.Integer, nullable=False),
        sa.Column("config", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tw_model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("tw_models.id"), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_tw_model_versions"),
    )
    op.create_table(
        "tw_predictions",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("version", sa.String(100)),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("prediction", sa.Text, nullable=False),
        sa.Column("probabilities", sa.Text),
        sa.Column("latency_ms", sa.Float),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_index("ix_tw_predictions_window", "tw_predictions", ["model_id", "window_start"])
    op.create_table(
        "tw_feedback",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tw_references",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("set_at", sa.Float, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "tw_windows",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("n_predictions", sa.Integer, nullable=False),
        sa.Column("n_feedback", sa.Integer, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("evaluated_at", sa.Float, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_table(
        "tw_incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("first_window", sa.BigInteger, nullable=False),
        sa.Column("last_window", sa.BigInteger, nullable=False),
        sa.Column("resolved_window", sa.BigInteger),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.UniqueConstraint("model_id", "rule", "first_window", name="uq_tw_incidents"),
    )
    op.create_table(
        "tw_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )


def downgrade() -> None:
    for table in (
        "tw_tokens",
        "tw_incidents",
        "tw_windows",
        "tw_references",
        "tw_feedback",
        "tw_predictions",
        "tw_model_versions",
        "tw_models",
    ):
        op.drop_table(table)
