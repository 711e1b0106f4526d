"""A real prediction stream: the elec2 electricity market replayed half-hour by half-hour.

A gradient-boosting model is trained on the first 4 weeks; weeks 5-8 are the reference
(held-out predictions and labels); later rows are logged predictions with their probabilities,
and their labels are the feedback. Shared by the tests and benchmarks/monitor.py.

Known shift: vicprice, vicdemand and transfer are a constant fill until row 17,424 (May
1997), when the Victorian data begins; nswprice and nswdemand move with the seasons.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from tests.realdata import elec2

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer", "period"]
T0 = 831_427_200  # 1996-05-07T00:00Z, the first day of the data
STEP = 1800.0  # half-hourly
WEEK = 7 * 86_400
TRAIN_ROWS, REFERENCE_ROWS = 4 * 336, 8 * 336


def vic_change_row() -> int:
    v = elec2()["vicprice"].to_numpy()
    return int(np.argmax(v != v[0]))


def elec2_stream(rows: int | None = None) -> tuple[dict, list[dict], list[dict]]:
    """(reference, prediction records, feedback records) for rows after the reference."""
    df = elec2()
    end = len(df) if rows is None else rows
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    model.fit(df[FEATURES][:TRAIN_ROWS], df["class"][:TRAIN_ROWS])
    part = df.iloc[:end]
    proba = model.predict_proba(part[FEATURES])
    classes = [str(c) for c in model.classes_]
    pred = np.array(classes)[proba.argmax(1)]
    ref = slice(TRAIN_ROWS, REFERENCE_ROWS)
    reference = {
        "records": part[FEATURES][ref].to_dict("records"),
        "labels": part["class"][ref].astype(str).tolist(),
        "predictions": pred[ref].tolist(),
        "probabilities": [dict(zip(classes, map(float, p))) for p in proba[ref]],
    }
    feats = part[FEATURES].to_dict("records")
    records = [
        {
            "id": f"e{i}",
            "timestamp": T0 + i * STEP,
            "features": feats[i],
            "prediction": pred[i],
            "probabilities": dict(zip(classes, map(float, proba[i]))),
            "latency_ms": 1.0 + (i % 7) * 0.1,
        }
        for i in range(REFERENCE_ROWS, end)
    ]
    labels = part["class"].astype(str).tolist()
    feedback = [{"id": f"e{i}", "label": labels[i]} for i in range(REFERENCE_ROWS, end)]
    return reference, records, feedback
