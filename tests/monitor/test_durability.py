"""Nothing acknowledged is lost: under concurrent load, and across a `kill -9` of the service."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from tests.monitor.conftest import Server, _fresh_pg, create_token
from tripwire.monitor.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tw.db'}"
    return _fresh_pg(request.getfixturevalue("pg_database"))


def _sender(url, token, worker, acked, stop, batch=100, max_batches=60):
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
    store = Store(db)
    with store.engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT id FROM tw_predictions")).scalars())


def test_every_acknowledged_prediction_is_stored_under_load(db, tmp_path):
    token = create_token(db)
    server = Server(db, cwd=tmp_path).start()
    try:
        httpx.post(
            server.url + "/v1/models",
            json={"name": "load", "task": "classification"},
            headers={"Authorization": f"Bearer {token}"},
        )
        acked: set[str] = set()
        stop = threading.Event()
        threads = [
            threading.Thread(target=_sender, args=(server.url, token, w, acked, stop, 100, 10))
            for w in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(acked) == 4 * 10 * 100
        assert _stored_ids(db) == acked
    finally:
        server.stop()


def test_kill_9_during_ingestion_loses_nothing_acknowledged(db, tmp_path):
    token = create_token(db)
    server = Server(db, cwd=tmp_path).start()
    httpx.post(
        server.url + "/v1/models",
        json={"name": "load", "task": "classification"},
        headers={"Authorization": f"Bearer {token}"},
    )
    acked: set[str] = set()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_sender, args=(server.url, token, w, acked, stop, 200, 10_000))
        for w in range(3)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # in the middle of ingestion: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 3000
    restarted = Server(db, cwd=tmp_path)
    restarted.port = server.port
    restarted.url = server.url
    restarted.start()
    try:
        stored = _stored_ids(db)
        assert acked <= stored  # everything acknowledged survived
        # Unacknowledged batches were whole or absent: batches are all or nothing.
        extra = stored - acked
        assert len(extra) % 200 == 0
        summary = httpx.get(
            server.url + "/v1/models/load/summary", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert summary["predictions"] == len(stored)
    finally:
        restarted.stop()
