"""Nothing acknowledged is lost: under concurrent load, and across a `kill -9` of the service."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from tests.monitor.conftest import Server, _fresh_pg
from tripwire.monitor.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tw.db'}"
    return _fresh_pg(request.getfixturevalue("pg_database"))


def _sender(url, token, worker, acked, stop, batch, max_batches):
    """Send batches until told to stop; remember the ids of every 2xx batch."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
        for b in range(max_batches):
            if stop.is_set():
                return
            ids = [f"w{worker}-b{b}-{i}" for i in range(batch)]
            recs = [
                {"id": i, "timestamp": time.time(), "features": {"x": k}, "prediction": 1}
                for k, i in enumerate(ids)
            ]
            try:
                r = c.post("/v1/models/load/predictions", json={"records": recs})
            except httpx.HTTPError:
                continue  # not acknowledged: the client would retry or spool it
            if r.status_code == 200:
                acked.update(ids)


def _stored_ids(db):
    with Store(db).engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT id FROM tw_predictions")).scalars())


def _run(server, token, workers, batch, max_batches, acked, stop):
    threads = [
        threading.Thread(
            target=_sender,
            args=(server.url, token, f"{len(acked)}-{w}", acked, stop, batch, max_batches),
        )
        for w in range(workers)
    ]
    for t in threads:
        t.start()
    return threads


def test_acknowledged_predictions_survive_load_and_kill_9(db, tmp_path):
    token = Store(db).migrate().create_token("durability")
    server = Server(db, cwd=tmp_path).start()
    httpx.post(
        server.url + "/v1/models",
        json={"name": "load", "task": "classification"},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    # 1. Bounded load from 4 concurrent clients: the store holds exactly what was acknowledged.
    acked: set[str] = set()
    for t in _run(server, token, 4, 100, 10, acked, threading.Event()):
        t.join(timeout=60)
    assert len(acked) == 4000 and _stored_ids(db) == acked

    # 2. kill -9 in the middle of ingestion, with requests in flight.
    stop = threading.Event()
    threads = _run(server, token, 3, 200, 10_000, acked, stop)
    deadline = time.monotonic() + 20
    while len(acked) < 7000 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 7000
    restarted = Server(db, cwd=tmp_path)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        stored = _stored_ids(db)
        assert acked <= stored  # everything acknowledged survived
        # Unacknowledged batches are whole or absent: batches are all or nothing.
        assert len(stored - acked) % 200 == 0
        summary = httpx.get(
            server.url + "/v1/models/load/summary", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert summary["predictions"] == len(stored)
    finally:
        restarted.stop()
