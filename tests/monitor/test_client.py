"""tripwire.Monitor: background batching, never blocking, spooling while the service is down."""

from __future__ import annotations

import time

import httpx
import numpy as np

import tripwire
from tests.monitor.conftest import Server, create_token, free_port


def test_client_spools_while_down_and_resends(tmp_path):
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    token = create_token(db)
    port = free_port()
    mon = tripwire.Monitor(
        f"http://127.0.0.1:{port}",
        model="spooled",
        token=token,
        task="classification",
        spool_dir=tmp_path / "spool",
        flush_interval=0.2,
        retry_interval=0.5,
        batch_size=200,
    )
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    ids = [
        mon.log(
            {"x": float(rng.normal()), "n": np.int64(3), "gap": float("nan")},
            prediction=np.int64(1),
            probabilities={0: 0.4, 1: 0.6},
            latency_ms=1.5,
        )
        for _ in range(2000)
    ]
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # 2,000 calls with the service down: no blocking on the network
    for i in ids[:500]:
        mon.feedback(i, label=1)
    assert mon.flush(timeout=30)
    assert mon.stats["spooled"] == 2500 and mon.pending_spool() > 0

    server = Server(db, "--port", str(port), cwd=tmp_path)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.start()
    try:
        deadline = time.monotonic() + 30
        while mon.pending_spool() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mon.pending_spool() == 0
        summary = httpx.get(
            server.url + "/v1/models/spooled/summary", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert summary["predictions"] == 2000 and summary["feedback"] == 500
        assert mon.stats["resent"] == 2500
        # Live now: a new record goes straight through.
        mon.log({"x": 0.0}, prediction=0, id="live-1")
        assert mon.flush(timeout=10)
        assert mon.stats["sent"] == 1
    finally:
        mon.close()
        server.stop()


def test_client_never_raises_into_the_caller(tmp_path):
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    mon = tripwire.Monitor(
        db, model="m", task="regression", spool_dir=tmp_path / "spool", flush_interval=0.1
    )
    mon.log({"x": object()}, prediction=1.0)  # not serialisable: refused, logged, kept aside
    mon.log(None, prediction=1.0)  # type: ignore[arg-type]
    mon.log({"x": 1.0}, prediction=2.0, id="fine")
    assert mon.flush(timeout=10)
    assert mon.stats["sent"] == 1 and mon.stats["refused"] == 1
    assert (tmp_path / "spool" / "m-refused.jsonl").exists()
    mon.close()
