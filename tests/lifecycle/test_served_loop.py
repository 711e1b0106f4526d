"""The whole loop through a real `tripwire serve`, the CLI and elec2.

A steady stream of predict requests runs in a background thread for the whole story and
counts every failed request. The story: v1 (fitted on the first 2,000 half-hours) serves a
later period of the market; the monitor opens a drift incident; `tripwire loop` retrains with
a deliberately bad trainer (rejected by the gate; the champion stays), then with a good one
(audited, gated, promoted); an operator promotes the rejected version by hand; its live
accuracy collapses and the next `tripwire loop` pass puts the gate's champion back.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import joblib
import pandas as pd
import pytest

from tests import realdata
from tests.lifecycle import trainers
from tests.monitor.conftest import Server, client, create_token, run_tripwire

pytestmark = pytest.mark.slow

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tripwire(*args, cwd=cwd, timeout=600, with_root=True)


def _records(rows: pd.DataFrame, prefix: str) -> list[dict[str, Any]]:
    feats = rows[FEATURES].to_dict(orient="records")
    return [{"id": f"{prefix}-{i}", "features": f} for i, f in zip(rows.index, feats)]


class Traffic(threading.Thread):
    """Steady predict requests; counts answers by version and every failure."""

    def __init__(self, url: str, token: str, rows: pd.DataFrame) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.rows = rows
        self.stop = threading.Event()
        self.ok = 0
        self.failed: list[str] = []
        self.versions: list[tuple[float, str]] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            batch = self.rows.sample(10, random_state=n)
            try:
                r = self.http.post(
                    "/v1/models/elec/predict", json={"records": _records(batch, f"bg{n}")}
                )
                if r.status_code == 200:
                    self.ok += 1
                    self.versions.append((time.monotonic(), r.json()["model_version"]))
                else:
                    self.failed.append(f"{r.status_code}: {r.text[:200]}")
            except httpx.HTTPError as exc:
                self.failed.append(repr(exc))
            n += 1
            time.sleep(0.05)


def _stream(http: httpx.Client, rows: pd.DataFrame, prefix: str, pace: float = 0.05) -> list[str]:
    """Serve ``rows`` through /predict (batches of 100), then send their labels as feedback."""
    versions = []
    for start in range(0, len(rows), 100):
        chunk = rows.iloc[start : start + 100]
        r = http.post("/v1/models/elec/predict", json={"records": _records(chunk, prefix)})
        assert r.status_code == 200, r.text
        versions += [p["model_version"] for p in r.json()["predictions"]]
        time.sleep(pace)
    labels = [{"id": f"{prefix}-{i}", "label": y} for i, y in zip(rows.index, rows["class"])]
    for start in range(0, len(labels), 1000):
        r = http.post("/v1/models/elec/feedback", json={"records": labels[start : start + 1000]})
        assert r.status_code == 200, r.text
    return versions


def _loop(tmp: Path, config: str, *extra: str) -> dict[str, Any]:
    res = _cli("loop", "--config", config, "--json", *extra, cwd=tmp)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def _config(tmp: Path, name: str, db: str, entry: str) -> str:
    (tmp / name).write_text(
        f"""
[model]
name = "elec"
target = "class"
train = "train.csv"

[service]
db = "{db}"

[retrain]
entry = "{entry}"

[triggers]
drift_incident = true
min_new_labels = 1000000

[gate]
margin = 0.0
holdout_share = 0.3

[rollback]
max_drop = 0.05
windows = 2
window_rows = 200

[serving]
shadow = true
"""
    )
    return name


def test_stream_drift_retrain_gate_promote_and_automatic_rollback(tmp_path: Path) -> None:
    elec = realdata.elec2()[FEATURES + ["class"]]
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    original = elec.iloc[:2000]
    original.to_csv(tmp_path / "train.csv", index=False)
    joblib.dump(trainers.fit(original, "class"), tmp_path / "v1.joblib")
    res = _cli(
        "registry", "add", "elec", "v1.joblib", "--train", "train.csv", "--target", "class",
        "--alias", "champion", "--no-audit", "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr

    token = create_token(db)
    server = Server(db, cwd=tmp_path).start()
    traffic = None
    try:
        http = client(server, token)
        # The monitor watches the model with v1's training data as its reference.
        ref = original.sample(1000, random_state=0)
        r = http.post(
            "/v1/models",
            json={
                "name": "elec",
                "task": "classification",
                "window_seconds": 2,
                "reference": ref[FEATURES].to_dict(orient="records"),
            },
        )
        assert r.status_code == 201, r.text
        traffic = Traffic(server.url, token, elec.iloc[20000:30000])
        traffic.start()

        # 1. A later period of the market is served by v1; its inputs have moved.
        # Paced to span several 2-second windows: an incident needs two flagged in a row.
        served = _stream(http, elec.iloc[20000:23000], "a", pace=0.12)
        assert set(served) == {"1"}
        time.sleep(4.5)  # a window is complete once the clock is a full window past its end
        http.post("/v1/models/elec/evaluate").raise_for_status()
        alerts = http.get("/v1/alerts", params={"model": "elec", "status": "open"}).json()
        assert any(i["rule"] == "input_drift" for i in alerts["incidents"]), alerts

        # 2. A bad trainer: the drift incident triggers retraining, the gate rejects it.
        bad = _loop(tmp_path, _config(tmp_path, "bad.toml", db, "tests.lifecycle.trainers:fit_bad"), "--no-audit")  # fmt: skip
        assert bad["triggers"] and bad["triggers"][0].startswith("drift"), bad
        assert bad["gate"] is not None and not bad["gate"]["promote"], bad
        assert bad["candidate_version"] == 2

        # The rejected version is the challenger: it runs in shadow, never answers.
        time.sleep(1.5)  # the service re-reads aliases at most once a second
        served = _stream(http, elec.iloc[23000:23300], "b")
        assert set(served) == {"1"}
        shadow = server_shadow_rows(tmp_path / "tw.db")
        assert shadow == 300  # every phase-b row, none returned

        # 3. A good trainer: audited (no critical finding), gated, promoted, live in seconds.
        good = _loop(tmp_path, _config(tmp_path, "good.toml", db, "tests.lifecycle.trainers:fit"))
        assert good["gate"] is not None and good["gate"]["promote"], good
        assert good["gate"]["difference"]["low"] > 0
        assert good["candidate_version"] == 3
        deadline = time.monotonic() + 10
        while (
            http.post(
                "/v1/models/elec/predict", json={"records": _records(elec.iloc[[0]], "probe")}
            ).json()["model_version"]
            != "3"
        ):
            assert time.monotonic() < deadline, "the promoted version did not take over"
            time.sleep(0.2)

        # 4. An operator promotes the rejected v2 by hand; it fails live; the loop rolls back.
        res = _cli("registry", "promote", "elec", "2", "--db", db, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        time.sleep(1.5)
        served = _stream(http, elec.iloc[23300:24300], "c")
        assert served.count("2") >= 900, "v2 should be answering after the manual promotion"
        rolled = _loop(tmp_path, "good.toml")
        assert rolled["rollback"] is not None, rolled
        assert rolled["rollback"]["previous"] == 3 and rolled["rollback"]["breaches"] >= 2
        time.sleep(1.5)
        served = _stream(http, elec.iloc[24300:24400], "d")
        assert set(served) == {"3"}

        listing = json.loads(_cli("registry", "list", "elec", "--json", "--db", db, cwd=tmp_path).stdout)  # fmt: skip
        assert listing["aliases"]["champion"] == 3
        history = _cli("registry", "history", "elec", "--db", db, cwd=tmp_path).stdout
        for action in ("trigger", "reject", "retrain", "promote", "rollback"):
            assert action in history, history
        assert "loop:rollback-rule" in history
    finally:
        if traffic is not None:
            traffic.stop.set()
            traffic.join(timeout=30)
        server.stop()
    # Zero failed requests across two promotions and a rollback, under steady traffic.
    assert traffic is not None and traffic.ok > 50
    assert traffic.failed == [], traffic.failed[:5]
    assert {v for _, v in traffic.versions} >= {"1", "3"}


def server_shadow_rows(db_file: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_file) as c:
        return int(
            c.execute(
                "SELECT count(*) FROM tw_shadow_predictions "
                "WHERE model_name='elec' AND version=2 AND id LIKE 'b-%'"
            ).fetchone()[0]
        )
