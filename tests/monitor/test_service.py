"""The DESIGN.md surface, end to end through a real `tripwire serve` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import numpy as np
import pytest

from tests.conftest import IN_CI, run_cli
from tests.monitor.conftest import Server, _fresh_pg, client, create_token


class Receiver:
    """A local HTTP server that records webhook POSTs."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(request, tmp_path_factory, receiver):
    tmp = tmp_path_factory.mktemp("serve")
    if request.param == "sqlite":
        db = f"sqlite:///{tmp / 'tw.db'}"
    else:
        db = _fresh_pg(request.getfixturevalue("pg_database"))
    token = create_token(db)
    server = Server(
        db, "--webhook", receiver.url, "--max-batch", "1000", "--max-body-mb", "1", cwd=tmp
    ).start()
    yield server, token
    server.stop()


def _records(rng, n, start=0, shift=0.0, t0=0.0):
    out = []
    for i in range(start, start + n):
        p = float(rng.random())
        out.append(
            {
                "id": f"p{i}",
                "timestamp": t0 + i,
                "features": {"x": float(rng.normal(shift, 1)), "plan": str(rng.choice(["a", "b"]))},
                "prediction": "yes" if p > 0.5 else "no",
                "probabilities": {"yes": p, "no": 1 - p},
                "latency_ms": float(rng.gamma(2, 2)),
            }
        )
    return out


def test_surface_end_to_end(served, receiver):
    server, token = served
    rng = np.random.default_rng(0)
    c = client(server, token)
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    ref = [
        {"x": float(v), "plan": str(p)}
        for v, p in zip(rng.normal(size=400), rng.choice(["a", "b"], 400))
    ]
    r = c.post(
        "/v1/models",
        json={"name": "churn", "task": "classification", "reference": ref, "window_seconds": 100},
    )
    assert r.status_code == 201 and r.json()["created"] is True
    assert c.post("/v1/models", json={"name": "churn", "task": "classification"}).status_code == 200
    # 6 windows of 100 predictions; the last 3 shifted by 1.5 SD.
    recs = _records(rng, 300) + _records(rng, 300, start=300, shift=1.5)
    assert c.post("/v1/models/churn/predictions", json={"records": recs}).json() == {
        "accepted": 600,
        "duplicates": 0,
    }
    # Retrying part of it never double-counts.
    assert c.post("/v1/models/churn/predictions", json={"records": recs[:50]}).json() == {
        "accepted": 0,
        "duplicates": 50,
    }
    fb = [{"id": r["id"], "label": r["prediction"]} for r in recs[:200]]
    assert c.post("/v1/models/churn/feedback", json={"records": fb}).json() == {
        "accepted": 200,
        "duplicates": 0,
    }
    ev = c.post("/v1/models/churn/evaluate").json()
    assert ev["windows"] == 6 and [e["rule"] for e in ev["events"]] == ["input_drift"]
    assert c.get("/v1/models/churn/summary").json() == {
        "predictions": 600,
        "feedback": 200,
        "windows": 6,
        "open_incidents": 1,
    }
    windows = c.get("/v1/models/churn/windows").json()["windows"]
    assert [w["drift"]["flag"] for w in windows] == [False] * 3 + [True] * 3
    assert windows[0]["performance"]["realized"]["value"] == 1.0
    assert windows[0]["start"] == "1970-01-01T00:00:00Z"
    (inc,) = c.get("/v1/alerts", params={"status": "open"}).json()["incidents"]
    assert (
        inc["model"] == "churn"
        and inc["rule"] == "input_drift"
        and "x" in inc["evidence"]["drifted"]
    )
    # The webhook got the incident with its evidence (Slack-compatible text too).
    hooks = [
        b
        for b in receiver.bodies
        if b["event"]["model"] == "churn" and b["event"]["rule"] == "input_drift"
    ]
    assert hooks and hooks[-1]["event"]["event"] == "opened"
    assert (
        "input drift" in hooks[-1]["text"]
        and hooks[-1]["event"]["evidence"]["drifted"]["x"]["p_value"] < 1e-6
    )
    receiver.bodies.clear()
    # Prometheus text, checked by promtool.
    text = httpx.get(server.url + "/metrics").text
    assert 'tripwire_predictions_ingested_total{model="churn"} 600.0' in text
    assert 'tripwire_window_drift{model="churn"} 1.0' in text
    assert 'tripwire_open_incidents{model="churn"} 1.0' in text
    _promtool(text)


def _promtool(text: str) -> None:
    path = shutil.which("promtool")
    if path is None:
        if IN_CI:
            pytest.fail("promtool is not installed in CI; .ci/run installs Debian's prometheus")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    res = subprocess.run([path, "check", "metrics"], input=text, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_auth(served):
    server, token = served
    listed = run_cli("token", "list", "--db", server.db)
    assert listed.returncode == 0 and "tests\tcreated" in listed.stdout and "live" in listed.stdout
    missing = run_cli("token", "revoke", "nobody", "--db", server.db)
    assert missing.returncode == 2 and "no live token is called 'nobody'" in missing.stderr
    r = httpx.get(server.url + "/v1/alerts")
    assert r.status_code == 401 and "tripwire token create" in r.json()["detail"]
    assert (
        httpx.get(server.url + "/v1/alerts", headers={"Authorization": "Bearer nope"}).status_code
        == 403
    )
    assert (
        httpx.get(
            server.url + "/v1/alerts", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b'{"records": [', 400, "malformed JSON body"),
        (
            {
                "records": [
                    {"id": 1, "features": {}, "prediction": "yes"},
                    {"id": 2, "prediction": "no"},
                ]
            },
            422,
            "record 2: 'features' must be an object of feature values",
        ),
        (
            {"records": [{"id": 1, "features": [1, 2], "prediction": "yes"}]},
            422,
            "record 1: 'features' must be an object",
        ),
        (
            {"records": [{"id": 1, "features": {}, "prediction": "yes", "latency_ms": "fast"}]},
            422,
            "record 1: 'latency_ms' must be a number",
        ),
        (
            {"records": [{"id": 1, "features": {}, "prediction": "yes", "timestamp": "noon"}]},
            422,
            "record 1: timestamp 'noon' is not ISO 8601",
        ),
        (
            {
                "records": [
                    {"id": 1, "features": {}, "prediction": "yes", "probabilities": {"yes": 2}}
                ]
            },
            422,
            "record 1: probability of class 'yes' must be a number in [0, 1]",
        ),
        (
            {"records": [{"id": 1, "features": {}, "predicton": "yes"}]},
            422,
            "record 1: unknown field(s) predicton",
        ),
        (
            {"records": [{"id": 1, "features": {}, "prediction": {"label": "yes"}}]},
            422,
            "'prediction' must be a string, number or boolean",
        ),
        ({"rows": []}, 422, "unknown field(s) rows"),
        ({"records": []}, 422, "batch has no records"),
    ],
)
def test_bad_payloads_store_nothing(served, payload, status, message):
    server, token = served
    c = client(server, token)
    c.post("/v1/models", json={"name": "strict", "task": "classification"})
    before = c.get("/v1/models/strict/summary").json()
    good = {"id": "ok-1", "features": {"x": 1}, "prediction": "yes"}
    if isinstance(payload, bytes):
        r = c.post(
            "/v1/models/strict/predictions",
            content=payload,
            headers={"Content-Type": "application/json"},
        )
    else:
        body = (
            {**payload, "records": [good, *payload["records"]]}
            if payload.get("records")
            else payload
        )
        r = c.post("/v1/models/strict/predictions", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert c.get("/v1/models/strict/summary").json() == before


def test_unknown_model_and_oversized_batches(served):
    server, token = served
    c = client(server, token)
    r = c.post(
        "/v1/models/ghost/predictions",
        json={"records": [{"id": 1, "features": {}, "prediction": 1}]},
    )
    assert r.status_code == 404 and "model 'ghost' is not registered" in r.json()["detail"]
    c.post("/v1/models", json={"name": "big", "task": "regression"})
    many = [{"id": i, "features": {"x": i}, "prediction": 1.0} for i in range(1001)]
    r = c.post("/v1/models/big/predictions", json={"records": many})
    assert r.status_code == 413 and "the limit is 1000" in r.json()["detail"]
    fat = [{"id": i, "features": {"blob": "x" * 2000}, "prediction": 1.0} for i in range(600)]
    r = c.post("/v1/models/big/predictions", json={"records": fat})
    assert r.status_code == 413 and "the limit is 1048576 bytes" in r.json()["detail"]
    assert c.get("/v1/models/big/summary").json()["predictions"] == 0
    r = c.post("/v1/models", json={"name": "big", "task": "classification"})
    assert r.status_code == 409 and "exists with task 'regression'" in r.json()["detail"]
