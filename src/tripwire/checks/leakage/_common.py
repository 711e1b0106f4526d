"""Column choices shared by the leakage checks."""

from __future__ import annotations

from tripwire.context import AuditContext

MODE = "leakage"


def row_columns(ctx: AuditContext) -> list[str]:
    """Feature columns that describe a row's content (identifiers excluded: they differ per row)."""
    return [c for c in ctx.features if ctx.kinds[c] != "identifier"]


def near_columns(ctx: AuditContext) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns for distances (free text and identifiers excluded)."""
    cols = row_columns(ctx)
    numeric = [c for c in cols if ctx.kinds[c] in ("numeric", "boolean")]
    categorical = [c for c in cols if ctx.kinds[c] == "categorical"]
    return numeric, categorical
