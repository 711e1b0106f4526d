"""Window evaluation and incidents on a real SQLite store, with seeded streams."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from tripwire.monitor.evaluation import evaluate
from tripwire.monitor.store import Store

W = 100  # window seconds


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'tw.db'}").migrate()


def _reference(rng, n=1000, accuracy=0.9):
    x = rng.normal(size=n)
    y = (rng.random(n) < 0.5).astype(int)
    pred = np.where(rng.random(n) < accuracy, y, 1 - y)
    return {
        "records": [
            {"x": float(a), "c": str(b)} for a, b in zip(x, rng.choice(["a", "b", "c"], n))
        ],
        "labels": y.tolist(),
        "predictions": pred.tolist(),
    }


def _stream(rng, windows, per_window=100, shift=None, start=0):
    recs = []
    for w in range(start, start + windows):
        mu = 0.0 if shift is None else shift(w)
        for k in range(per_window):
            pred = int(rng.random() < 0.5)
            recs.append(
                {
                    "id": f"{w}-{k}",
                    "timestamp": w * W + k * (W / per_window),
                    "features": {
                        "x": float(rng.normal(mu, 1)),
                        "c": str(rng.choice(["a", "b", "c"])),
                    },
                    "prediction": pred,
                    # Calibrated at 0.9: the estimate before labels is 0.9.
                    "probabilities": {str(pred): 0.9, str(1 - pred): 0.1},
                }
            )
    return recs


def _labels(recs, windows, accuracy, rng):
    out = []
    for r in recs:
        if int(r["id"].split("-")[0]) in windows:
            right = rng.random() < accuracy
            out.append({"id": r["id"], "label": r["prediction"] if right else 1 - r["prediction"]})
    return out


def test_planted_input_drift_opens_one_incident_naming_the_feature(store):
    rng = np.random.default_rng(1)
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", _reference(rng))
    store.add_predictions("m", _stream(rng, 10, shift=lambda w: 1.0 if w >= 6 else 0.0))
    out = evaluate(store, "m")["m"]
    assert out["windows"] == 10
    (inc,) = store.incidents()
    assert inc["rule"] == "input_drift" and inc["status"] == "open"
    assert inc["first_window"] == "1970-01-01T00:10:00Z"  # window 6, the first shifted one
    assert list(inc["evidence"]["drifted"]) == ["x"]
    x = inc["evidence"]["drifted"]["x"]
    assert x["test"] == "ks" and x["p_value"] < 1e-6 and x["effect"] > 0.3
    assert [e["event"] for e in out["events"]] == ["opened"]
    # Evaluating again without new data changes nothing and notifies nothing.
    assert evaluate(store, "m")["m"]["events"] == []


def test_clean_stream_raises_nothing(store):
    rng = np.random.default_rng(2)
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", _reference(rng))
    recs = _stream(rng, 12)
    store.add_predictions("m", recs)
    store.add_feedback("m", _labels(recs, range(12), 0.9, rng))
    evaluate(store, "m")
    assert store.incidents() == []
    flags = [
        (r["drift"]["flag"], r["quality"]["flag"], r["performance"]["flag"])
        for r in store.windows(1)
    ]
    assert flags == [(False, False, False)] * 12


def test_late_feedback_opens_resolves_reopens_and_withdraws(store):
    rng = np.random.default_rng(3)
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", _reference(rng, accuracy=0.9))
    recs = _stream(rng, 8)
    store.add_predictions("m", recs)
    assert evaluate(store, "m")["m"]["events"] == []  # the estimate alone says 0.9: fine

    # Labels for windows 2-4 arrive: the model was right only half the time there.
    store.add_feedback("m", _labels(recs, {2, 3, 4}, 0.5, rng))
    events = evaluate(store, "m")["m"]["events"]
    assert [(e["rule"], e["event"]) for e in events] == [("performance", "opened and resolved")]
    (inc,) = store.incidents()
    assert (inc["first_window"], inc["resolved_window"]) == (
        "1970-01-01T00:03:20Z",
        "1970-01-01T00:10:00Z",
    )
    assert inc["evidence"]["baseline"]["source"] == "reference"

    # Later labels show windows 5-7 were bad too: the same incident reopens, not a new one.
    store.add_feedback("m", _labels(recs, {5, 6, 7}, 0.5, rng))
    events = evaluate(store, "m")["m"]["events"]
    assert [(e["rule"], e["event"]) for e in events] == [("performance", "reopened")]
    (inc,) = store.incidents()
    assert inc["status"] == "open" and inc["last_window"] == "1970-01-01T00:11:40Z"

    # A new reference whose own accuracy is 0.5: the drop no longer exists.
    store.set_reference("m", _reference(rng, accuracy=0.5))
    events = evaluate(store, "m")["m"]["events"]
    assert [(e["rule"], e["event"]) for e in events] == [("performance", "withdrawn")]
    assert store.incidents(status="open") == []


def test_realized_estimated_and_blended_performance(store):
    rng = np.random.default_rng(4)
    store.create_model("m", task="classification", window_seconds=W)
    recs = _stream(rng, 2, per_window=200)
    store.add_predictions("m", recs)
    fb = _labels(recs, {0}, 0.7, rng)
    half = _labels(recs[200:300], {1}, 0.7, rng)  # window 1: half its rows labelled
    store.add_feedback("m", fb + half)
    evaluate(store, "m")
    w0, w1 = store.windows(1)
    by_id = {f["id"]: f["label"] for f in fb}
    y_true = [by_id[r["id"]] for r in recs[:200]]
    y_pred = [r["prediction"] for r in recs[:200]]
    assert w0["performance"]["realized"]["value"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert w0["performance"]["estimated"]["value"] == pytest.approx(0.9)
    p1 = w1["performance"]
    acc_half = accuracy_score([h["label"] for h in half], [r["prediction"] for r in recs[200:300]])
    assert p1["label_coverage"] == 0.5
    assert p1["blended"]["value"] == pytest.approx((100 * acc_half + 100 * 0.9) / 200)
    assert p1["blended"]["low"] < p1["blended"]["value"] < p1["blended"]["high"]
    # Half the rows are known exactly-ish: the blended interval is narrower than a pure
    # estimate's would be only through the labelled half; both are finite and ordered.
    assert p1["estimated"]["high"] - p1["estimated"]["low"] > 0


def test_data_quality_and_volume(store):
    rng = np.random.default_rng(5)
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", _reference(rng))
    recs = _stream(rng, 8)
    tail = _stream(rng, 1, per_window=5, start=8)
    for r in tail:
        r["features"] = {"x": 1e6, "c": "zzz", "extra": 1}
    store.add_predictions("m", recs + tail + _stream(rng, 1, start=9))
    evaluate(store, "m")
    w8 = store.windows(1)[8]
    problems = w8["quality"]["problems"]
    assert w8["quality"]["flag"] and w8["quality"]["extra_columns"] == ["extra"]
    assert any("100.0% of values outside the reference range" in p for p in problems)
    assert any("categories unseen in the reference" in p for p in problems)
    assert w8["volume"]["flag"] is True and w8["volume"]["n"] == 5
    assert store.windows(1)[7]["volume"]["flag"] is False


def test_estimate_is_calibrated_on_the_reference(store):
    """An overconfident model (says 0.9, right 70% of the time): calibration corrects it."""
    rng = np.random.default_rng(6)
    ref = _reference(rng, n=2000, accuracy=0.7)
    ref["probabilities"] = [{str(p): 0.9, str(1 - p): 0.1} for p in ref["predictions"]]
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", ref)
    store.add_predictions("m", _stream(rng, 2))
    evaluate(store, "m")
    est = store.windows(1)[0]["performance"]["estimated"]
    assert est["method"] == "calibrated on reference"
    assert est["value"] == pytest.approx(0.7, abs=0.03)


def test_scheduler_evaluates_without_being_asked(store):
    import time

    from tripwire.monitor.evaluation import Scheduler

    class Collect:
        def __init__(self):
            self.events = []

        def send(self, event):
            self.events.append(event)

    rng = np.random.default_rng(8)
    store.create_model("m", task="classification", window_seconds=W)
    store.set_reference("m", _reference(rng))
    sink = Collect()
    scheduler = Scheduler(store, every=0.2, notifiers=[sink])
    scheduler.start()
    try:
        store.add_predictions("m", _stream(rng, 6, shift=lambda w: 1.0 if w >= 3 else 0.0))
        deadline = time.monotonic() + 30
        while not sink.events and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    assert [(e["rule"], e["event"]) for e in sink.events] == [("input_drift", "opened")]
    assert store.summary("m")["windows"] == 6 and scheduler.last_error is None


def _bike_stream():
    """Bike-sharing hourly counts: a model of 2011, its held-out 2011 days as the reference,
    then the rest of 2011 and all of 2012 (ridership grew about 60 %) as the stream."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor

    from tests.realdata import bike_hour

    df = bike_hour()
    feats = ["season", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit"]
    feats += ["temp", "atemp", "hum", "windspeed"]
    day = pd.to_datetime(df["dteday"])
    ts = (day - pd.Timestamp("1970-01-01")).dt.total_seconds() + df["hr"] * 3600
    part = np.where(df["yr"] == 1, 3, day.dt.day_of_year % 3)  # 0 train, 1 reference, 2/3 stream
    model = HistGradientBoostingRegressor(max_iter=150, random_state=0)
    model.fit(df.loc[part == 0, feats], df.loc[part == 0, "cnt"])
    pred = model.predict(df[feats])
    ref = part == 1
    reference = {
        "records": df.loc[ref, feats].to_dict("records"),
        "labels": df.loc[ref, "cnt"].astype(float).tolist(),
        "predictions": pred[ref].tolist(),
    }
    idx = np.flatnonzero(part >= 2)
    feat_rows = df[feats].to_dict("records")
    records = [
        {
            "id": int(i),
            "timestamp": float(ts[i]),
            "features": feat_rows[i],
            "prediction": float(pred[i]),
        }
        for i in idx
    ]
    feedback = [{"id": int(i), "label": float(df["cnt"][i])} for i in idx]
    return (
        reference,
        records,
        feedback,
        {int(i): (float(df["cnt"][i]), float(pred[i])) for i in idx},
    )


def test_regression_realized_mae_on_bike_sharing(store):
    from sklearn.metrics import mean_absolute_error

    month = 30 * 86_400
    reference, records, feedback, truth = _bike_stream()
    store.create_model("bikes", task="regression", window_seconds=month)
    store.set_reference("bikes", reference)
    store.add_predictions("bikes", records)
    store.add_feedback("bikes", feedback)
    evaluate(store, "bikes")
    windows = [w for w in store.windows(1) if w["complete"]]
    base = windows[0]["performance"]["baseline"]
    assert base["metric"] == "mae" and base["source"] == "reference"
    y_ref, p_ref = reference["labels"], reference["predictions"]
    assert base["value"] == pytest.approx(mean_absolute_error(y_ref, p_ref))
    by_start: dict[int, list[int]] = {}
    for r in records:
        by_start.setdefault(int(r["timestamp"] // month * month), []).append(r["id"])
    flags_2012, mae_2011 = [], []
    for w in windows:
        real = w["performance"]["realized"]
        ids = by_start[w["window_start"]]
        y, p = zip(*(truth[i] for i in ids))
        assert real["value"] == pytest.approx(mean_absolute_error(y, p)) and real["n"] == len(ids)
        assert real["low"] < real["value"] < real["high"]
        if w["window_start"] >= 1_325_376_000:  # 2012-01-01
            flags_2012.append(w["performance"]["flag"])
        else:
            mae_2011.append(real["value"])
    # 2011 months swing with the seasons around the reference's MAE (busy summer months are
    # flagged on their own); every 2012 month is worse than the model ever was.
    assert np.mean(mae_2011) == pytest.approx(base["value"], rel=0.25)
    assert len(flags_2012) >= 10 and all(flags_2012), flags_2012
    assert any(i["rule"] == "performance" and i["status"] == "open" for i in store.incidents())
