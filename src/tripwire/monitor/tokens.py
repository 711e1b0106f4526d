"""API tokens of the monitor's store: create, list, revoke and check bearer tokens.

Only a token's SHA-256 is stored (:func:`hash_token`), so a token is shown once, when it is
created. :class:`TokenStore` holds the token methods of :class:`~tripwire.monitor.store.Store`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import sqlalchemy as sa

from tripwire.monitor import schema as t
from tripwire.monitor.records import iso_time


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The token methods of :class:`~tripwire.monitor.store.Store` (which sets ``engine``)."""

    engine: Any

    def create_token(self, name: str) -> str:
        """A new bearer token; only its SHA-256 is stored, so it is shown once."""
        token = "tw_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                t.tokens.insert().values(
                    name=name, token_hash=hash_token(token), created_at=time.time()
                )
            )
        return token

    def tokens(self) -> list[dict[str, Any]]:
        """Names and dates of the tokens (never the tokens themselves)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.tokens).order_by(t.tokens.c.id)).mappings().all()
        return [
            {
                "name": r["name"],
                "created_at": iso_time(r["created_at"]),
                "revoked_at": iso_time(r["revoked_at"]),
            }
            for r in rows
        ]

    def revoke_token(self, name: str) -> int:
        """Revoke every live token called ``name``; returns how many were revoked."""
        with self.engine.begin() as conn:
            res = conn.execute(
                sa.update(t.tokens)
                .where(t.tokens.c.name == name, t.tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return int(res.rowcount or 0)

    def check_token(self, token: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.tokens.c.id).where(
                    t.tokens.c.token_hash == hash_token(token), t.tokens.c.revoked_at.is_(None)
                )
            ).first()
        return row is not None
