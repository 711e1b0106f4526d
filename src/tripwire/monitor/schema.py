"""The monitor's tables (SQLAlchemy Core). Migrations in ``migrations/`` create them.

Times are stored as float epoch seconds (UTC): window arithmetic stays portable between SQLite
and PostgreSQL. Features, predictions, labels and results are JSON text written by the store
itself, which keeps ingestion fast and identical on both backends.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

models = sa.Table(
    "tw_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("task", sa.String(20), nullable=False),
    sa.Column("window_seconds", sa.Integer, nullable=False),
    sa.Column("config", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", sa.Float, nullable=False),
)

model_versions = sa.Table(
    "tw_model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("tw_models.id"), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("model_id", "version", name="uq_tw_model_versions"),
)

predictions = sa.Table(
    "tw_predictions",
    metadata,
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
    sa.Index("ix_tw_predictions_window", "model_id", "window_start"),
)

feedback = sa.Table(
    "tw_feedback",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
)

references = sa.Table(
    "tw_references",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True),
    sa.Column("set_at", sa.Float, nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

windows = sa.Table(
    "tw_windows",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("window_end", sa.BigInteger, nullable=False),
    sa.Column("n_predictions", sa.Integer, nullable=False),
    sa.Column("n_feedback", sa.Integer, nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("evaluated_at", sa.Float, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
)

incidents = sa.Table(
    "tw_incidents",
    metadata,
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

tokens = sa.Table(
    "tw_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)
