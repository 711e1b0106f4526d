"""Incidents in the monitor's store: list them and insert or update one.

:class:`IncidentStore` holds the incident methods of :class:`~tripwire.monitor.store.Store`;
which incidents open, stay open or resolve is decided in :mod:`tripwire.monitor.alerts`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tripwire.monitor import schema as t
from tripwire.monitor.records import iso_time, json_default


class IncidentStore:
    """The incident methods of :class:`~tripwire.monitor.store.Store` (which sets ``engine``)."""

    engine: Any

    def incidents(
        self, model_id: int | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        i, m = t.incidents, t.models
        q = sa.select(i, m.c.name).select_from(i.join(m, m.c.id == i.c.model_id))
        if model_id is not None:
            q = q.where(i.c.model_id == model_id)
        if status is not None:
            q = q.where(i.c.status == status)
        q = q.order_by(i.c.opened_at, i.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [_incident(r) for r in rows]

    def upsert_incident(self, model_id: int, incident: Mapping[str, Any]) -> None:
        i = t.incidents
        values = {
            "status": incident["status"],
            "severity": incident["severity"],
            "last_window": int(incident["last_window"]),
            "resolved_window": incident.get("resolved_window"),
            "updated_at": time.time(),
            "resolved_at": time.time() if incident["status"] != "open" else None,
            "title": incident["title"],
            "evidence": json.dumps(incident["evidence"], default=json_default),
        }
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.update(i)
                .where(
                    i.c.model_id == model_id,
                    i.c.rule == incident["rule"],
                    i.c.first_window == int(incident["first_window"]),
                )
                .values(**values)
            )
            if found.rowcount == 0:
                conn.execute(
                    i.insert().values(
                        model_id=model_id,
                        rule=incident["rule"],
                        first_window=int(incident["first_window"]),
                        opened_at=time.time(),
                        **values,
                    )
                )


def _incident(r: Any) -> dict[str, Any]:
    return {
        "id": int(r["id"]),
        "model": r["name"],
        "rule": r["rule"],
        "status": r["status"],
        "severity": r["severity"],
        "title": r["title"],
        "first_window": iso_time(r["first_window"]),
        "last_window": iso_time(r["last_window"]),
        "resolved_window": iso_time(r["resolved_window"]),
        "opened_at": iso_time(r["opened_at"]),
        "updated_at": iso_time(r["updated_at"]),
        "resolved_at": iso_time(r["resolved_at"]),
        "evidence": json.loads(r["evidence"]),
    }
