"""POST /v1/models/{name}/predict on a real `tripwire serve`: routing, logging, refusals."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import joblib
import pandas as pd
import pytest

from tests import realdata
from tests.lifecycle import trainers
from tests.monitor.conftest import Server, client, create_token, run_tripwire
from tripwire.lifecycle.registry import Registry

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tripwire(*args, cwd=cwd)


def _records(rows: pd.DataFrame, prefix: str) -> list[dict[str, Any]]:
    feats = rows[FEATURES].to_dict(orient="records")
    return [{"id": f"{prefix}-{i}", "features": f} for i, f in zip(rows.index, feats)]


@pytest.fixture(scope="module")
def elec() -> pd.DataFrame:
    return realdata.elec2()[FEATURES + ["class"]].iloc[:6000]


@pytest.fixture(scope="module")
def served(elec: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A served registry with v1 (champion) and v2 (a different fit), and a token."""
    tmp = tmp_path_factory.mktemp("serving")
    db = f"sqlite:///{tmp / 'tw.db'}"
    reg = Registry(db)
    train = elec.iloc[:3000]
    reg.add("elec", trainers.fit(train, "class"), actor="test", train=train, target="class",
            task="classification", alias="champion")  # fmt: skip
    later = elec.iloc[3000:5000]
    joblib.dump(trainers.fit(later, "class"), tmp / "v2.joblib")
    later.to_csv(tmp / "later.csv", index=False)
    res = _cli("registry", "add", "elec", "v2.joblib", "--train", "later.csv", "--target", "class",
               "--no-audit", "--db", db, cwd=tmp)  # fmt: skip
    assert res.returncode == 0, res.stderr
    token = create_token(db)
    server = Server(db, cwd=tmp).start()
    try:
        yield SimpleNamespace(db=db, tmp=tmp, server=server, token=token,
                              http=client(server, token), reg=reg)  # fmt: skip
    finally:
        server.stop()


def _count(s: Any) -> int:
    r = s.http.get("/v1/models/elec/summary")
    return int(r.json()["predictions"]) if r.status_code == 200 else 0


def test_champion_answers_and_every_prediction_is_logged(served: Any, elec: pd.DataFrame) -> None:
    rows = elec.iloc[5000:5050]
    before = _count(served)
    r = served.http.post("/v1/models/elec/predict", json={"records": _records(rows, "p")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "1"
    assert [p["id"] for p in body["predictions"]] == [f"p-{i}" for i in rows.index]
    # The answer is the champion's own prediction, with its probabilities.
    _, model = served.reg.load("elec", 1)
    assert [p["prediction"] for p in body["predictions"]] == list(model.predict(rows[FEATURES]))
    assert set(body["predictions"][0]["probabilities"]) == {"DOWN", "UP"}
    assert _count(served) == before + 50
    # Records without ids get generated ones, and are logged too.
    r = served.http.post("/v1/models/elec/predict", json={"records": [{"features": rows[FEATURES].iloc[0].to_dict()}]})  # fmt: skip
    assert r.status_code == 200 and len(r.json()["predictions"][0]["id"]) == 32
    assert _count(served) == before + 51


@pytest.mark.parametrize(
    "records, status, words",
    [
        ([{"id": "x", "features": {"day": 1}}], 422, ["missing", "nswprice"]),
        ([{"id": "x", "features": {**dict.fromkeys(FEATURES, 0.5), "nswprice": "high"}}], 422, ["nswprice", "number"]),
        ([], 422, ["records"]),
        ([{"id": "x", "features": {}}], 422, ["features"]),
        ([{"id": "x", "features": dict.fromkeys(FEATURES, 0.5)}] * 2, 422, ["unique"]),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_and_nothing_is_logged(
    served: Any, records: list[Any], status: int, words: list[str]
) -> None:
    before = _count(served)
    r = served.http.post("/v1/models/elec/predict", json={"records": records})
    assert r.status_code == status, r.text
    detail = r.json()["detail"].lower()
    assert all(w.lower() in detail for w in words), detail
    assert _count(served) == before


def test_unknown_model_missing_token_and_no_champion(served: Any) -> None:
    one = {"records": [{"features": dict.fromkeys(FEATURES, 0.5)}]}
    r = served.http.post("/v1/models/nope/predict", json=one)
    assert r.status_code == 404 and "registry add nope" in r.json()["detail"]
    assert httpx.post(served.server.url + "/v1/models/elec/predict", json=one).status_code == 401
    # A model with versions but no champion is unavailable (503) with the fix in the message.
    served.reg.add("orphan", trainers.fit(realdata.elec2()[FEATURES + ["class"]].iloc[:500], "class"),
                   actor="test", task="classification")  # fmt: skip
    r = served.http.post("/v1/models/orphan/predict", json=one)
    assert r.status_code == 503 and "registry promote orphan" in r.json()["detail"]


def test_cli_alias_change_under_steady_load_has_no_failed_request(
    served: Any, elec: pd.DataFrame
) -> None:
    stop = threading.Event()
    seen: list[tuple[float, str]] = []
    failed: list[str] = []

    def traffic() -> None:
        http = client(served.server, served.token)
        n = 0
        while not stop.is_set():
            try:
                r = http.post(
                    "/v1/models/elec/predict",
                    json={"records": _records(elec.iloc[5100 + n % 800 :][:5], f"load{n}")},
                )
                if r.status_code == 200:
                    seen.append((time.monotonic(), r.json()["model_version"]))
                else:
                    failed.append(f"{r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                failed.append(repr(exc))
            n += 1

    worker = threading.Thread(target=traffic, daemon=True)
    worker.start()
    try:
        time.sleep(1.5)
        changed_at = time.monotonic()
        res = _cli("registry", "promote", "elec", "2", "--db", served.db, cwd=served.tmp)
        assert res.returncode == 0, res.stderr
        cli_done = time.monotonic()
        deadline = cli_done + 10
        while not any(v == "2" and t > cli_done for t, v in seen):
            assert time.monotonic() < deadline, "the alias change did not take effect"
            time.sleep(0.1)
        took = min(t for t, v in seen if v == "2") - cli_done
        time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert failed == [], failed[:3]
    assert len(seen) > 20
    # Within seconds (the alias is re-read once a second), and it sticks.
    assert took < 3.0, took
    assert [v for t, v in seen if t > cli_done + took + 0.01] == ["2"] * len(
        [1 for t, v in seen if t > cli_done + took + 0.01]
    )
    assert any(v == "1" and t < changed_at for t, v in seen)
    _cli("rollback", "elec", "--db", served.db, cwd=served.tmp)
    time.sleep(1.2)


def test_canary_share_routes_a_stable_share_of_ids(served: Any, elec: pd.DataFrame) -> None:
    assert served.reg.aliases("elec")["champion"] == 1
    served.reg.set_alias("elec", "challenger", 2, actor="test")
    served.reg.set_serving("elec", shadow=False, canary_share=0.3, actor="test")
    try:
        time.sleep(1.2)
        rows = elec.iloc[5000:5600]
        r = served.http.post("/v1/models/elec/predict", json={"records": _records(rows, "can")})
        assert r.status_code == 200, r.text
        body = r.json()
        share = sum(p["model_version"] == "2" for p in body["predictions"]) / len(rows)
        assert 0.22 < share < 0.38, share
        assert body["canary_rows"] == round(share * len(rows))
        # The same ids go to the same version when retried.
        again = served.http.post(
            "/v1/models/elec/predict", json={"records": _records(rows.iloc[:100], "can")}
        ).json()
        first = {p["id"]: p["model_version"] for p in body["predictions"]}
        assert all(first[p["id"]] == p["model_version"] for p in again["predictions"])
    finally:
        served.reg.set_serving("elec", shadow=True, canary_share=0.0, actor="test")
        served.reg.clear_alias("elec", "challenger", actor="test")


def test_a_changed_artifact_is_refused_and_the_last_good_version_keeps_serving(
    served: Any, elec: pd.DataFrame
) -> None:
    time.sleep(1.2)
    one = {"records": _records(elec.iloc[5000:5002], "lg0")}
    assert served.http.post("/v1/models/elec/predict", json=one).json()["model_version"] == "1"
    mv = served.reg.add("elec", trainers.fit(elec.iloc[:1000], "class"), actor="test",
                        task="classification")  # fmt: skip
    with open(mv.artifact_path, "ab") as f:  # someone edits the file after registration
        f.write(b"tampered")
    served.reg.promote("elec", mv.version, actor="test", reason="test")
    time.sleep(1.2)
    r = served.http.post("/v1/models/elec/predict", json={"records": _records(elec.iloc[5002:5004], "lg1")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == "1"
    metrics = httpx.get(served.server.url + "/metrics").text
    assert 'tripwire_served_predictions_total{model="elec",role="champion",version="1"}' in metrics
    served.reg.rollback("elec", actor="test", reason="tampered artifact")
