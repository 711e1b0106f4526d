"""A model's reference kept as a saved profile, through a real `tripwire serve`.

elec2 is replayed to two models in the same service: one with the reference as records, one
with the same reference as a tripwire profile. The profile model must find the real shift
(the Victorian data starting in May 1997) in the same windows, and stay quiet where the
records model does.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.monitor.conftest import Server, cli_env, client, create_token
from tests.monitor.streams import FEATURES, T0, WEEK, elec2_stream, vic_change_row
from tripwire.scale import profile_frame

pytest.importorskip("datasketches")

VIC = ("vicprice", "vicdemand", "transfer")


@pytest.fixture(scope="module")
def elec(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile-ref")
    db = f"sqlite:///{tmp / 'tw.db'}"
    token = create_token(db)
    server = Server(db, cwd=tmp).start()
    c = client(server, token)
    rows = vic_change_row() + 5 * 336
    reference, records, _ = elec2_stream(rows)
    records = records[-21 * 336 :]  # 16 weeks unchanged, then five with Victorian data
    ref_frame = pd.DataFrame.from_records(reference["records"])[FEATURES]
    prof = profile_frame(ref_frame).to_dict()
    base = {"task": "classification", "window_seconds": WEEK}
    c.post(
        "/v1/models", json={**base, "name": "by-records", "reference": reference["records"]}
    ).raise_for_status()
    made = c.post("/v1/models", json={**base, "name": "by-profile", "reference_profile": prof})
    assert made.status_code == 201, made.text
    for name in ("by-records", "by-profile"):
        for k in range(0, len(records), 5000):
            r = c.post(f"/v1/models/{name}/predictions", json={"records": records[k : k + 5000]})
            assert r.status_code == 200, r.text
        c.post(f"/v1/models/{name}/evaluate").raise_for_status()
    yield server, c, tmp, ref_frame
    server.stop()


def _windows(c, name: str) -> list[dict]:
    return [w for w in c.get(f"/v1/models/{name}/windows").json()["windows"] if w["complete"]]


def test_profile_reference_finds_the_real_shift(elec) -> None:
    _, c, _, _ = elec
    change_ts = T0 + vic_change_row() * 1800
    windows = _windows(c, "by-profile")
    assert len(windows) >= 19
    after = 0
    for w in windows:
        cols = w["drift"]["columns"]
        assert set(cols) == set(FEATURES)
        assert cols["vicprice"]["test"] == "ks_sketch" and "sketch_error" in cols["vicprice"]
        if w["window_end"] <= change_ts:
            assert not any(cols[v]["drift"] for v in VIC), w["start"]
        elif w["window_start"] >= change_ts:
            after += 1
            assert all(cols[v]["drift"] for v in VIC), (w["start"], {v: cols[v] for v in VIC})
    assert after >= 4
    incidents = c.get("/v1/alerts", params={"model": "by-profile"}).json()["incidents"]
    drift = [i for i in incidents if i["rule"] == "input_drift"]
    assert any("vicprice" in i["evidence"]["drifted"] for i in drift)


def test_profile_and_records_references_agree(elec) -> None:
    _, c, _, _ = elec
    by_rec = {w["window_start"]: w["drift"]["columns"] for w in _windows(c, "by-records")}
    by_prof = {w["window_start"]: w["drift"]["columns"] for w in _windows(c, "by-profile")}
    assert by_rec.keys() == by_prof.keys()
    pairs = [(s, f) for s in by_rec for f in FEATURES]
    same = sum(by_rec[s][f]["drift"] == by_prof[s][f]["drift"] for s, f in pairs)
    assert same / len(pairs) >= 0.97, same / len(pairs)
    # Where the exact test sees a large effect, the sketches see it too.
    for s, f in pairs:
        if by_rec[s][f]["drift"] and by_rec[s][f]["effect"] >= 0.2:
            assert by_prof[s][f]["drift"], (s, f)
        assert abs(by_rec[s][f]["effect"] - by_prof[s][f]["effect"]) < 0.01, (s, f)


def test_bad_profiles_are_refused_and_create_nothing(elec) -> None:
    _, c, _, ref_frame = elec
    good = profile_frame(ref_frame).to_dict()
    damaged = {**good, "columns": [{**good["columns"][0], "kll": "not base64!"}]}
    cases = [
        ({"format": "something-else"}, "is not a tripwire profile"),
        ({**good, "version": 99}, "profile format version 99"),
        ({k: v for k, v in good.items() if k != "columns"}, "reference.profile is damaged"),
        (damaged, "reference.profile is damaged"),
    ]
    for i, (bad, message) in enumerate(cases):
        r = c.post(
            "/v1/models",
            json={"name": f"bad{i}", "task": "classification", "reference_profile": bad},
        )
        assert r.status_code == 422 and message in r.json()["detail"], r.text
        assert c.get(f"/v1/models/bad{i}").status_code == 404
    both = c.put("/v1/models/by-profile/reference", json={"records": [{"x": 1}], "profile": good})
    assert both.status_code == 422 and "not both" in both.json()["detail"]


def test_cli_sets_a_profile_reference_from_parquet(elec) -> None:
    server, c, tmp, ref_frame = elec
    path = tmp / "reference.parquet"
    pq.write_table(pa.Table.from_pandas(ref_frame, preserve_index=False), path)
    out = subprocess.run(
        [sys.executable, "-m", "tripwire", "reference", "set", "by-records", str(path)]
        + ["--db", server.db],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"a profile of {len(ref_frame):,} rows, {len(FEATURES)} columns" in out.stdout
    # The old window results were dropped; the next evaluation compares with the profile.
    assert c.get("/v1/models/by-records/windows").json()["windows"] == []
    c.post("/v1/models/by-records/evaluate").raise_for_status()
    windows = _windows(c, "by-records")
    assert windows and all(
        w["drift"]["columns"]["vicprice"]["test"] == "ks_sketch" for w in windows
    )
    missing = subprocess.run(
        [sys.executable, "-m", "tripwire", "reference", "set", "nope", str(path)]
        + ["--db", server.db],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert missing.returncode == 2 and "nope" in missing.stderr
