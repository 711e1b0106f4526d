"""What the loop reads from the monitor's database: labelled predictions and open incidents."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from tripwire.errors import NotFoundError
from tripwire.monitor import schema as t
from tripwire.monitor.store import Store

DRIFT_RULES = ("input_drift", "prediction_drift")


class MonitorSource:
    """A :class:`~tripwire.lifecycle.loop.LoopSource` over a monitor store.

    ``labelled`` joins every logged prediction of the model with its feedback (delayed labels
    joined by prediction id) and expands the logged features into columns, oldest first.
    ``model_version`` is the registry version that answered (logged by guarded serving);
    predictions logged without a numeric version get -1.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def labelled(self, model: str) -> pd.DataFrame:
        try:
            info = self.store.get_model(model)
        except NotFoundError:
            return pd.DataFrame(columns=["timestamp", "model_version", "prediction", "label"])
        p, f = t.predictions, t.feedback
        q = (
            sa.select(p.c.id, p.c.ts, p.c.version, p.c.features, p.c.prediction, f.c.label)
            .select_from(p.join(f, sa.and_(f.c.model_id == p.c.model_id, f.c.id == p.c.id)))
            .where(p.c.model_id == info.id)
            .order_by(p.c.ts, p.c.id)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return pd.DataFrame(columns=["timestamp", "model_version", "prediction", "label"])
        ids, ts, versions, features, preds, labels = zip(*rows)
        frame = pd.DataFrame.from_records([json.loads(x) for x in features])
        frame.insert(0, "id", list(ids))
        frame.insert(1, "timestamp", pd.to_datetime(list(ts), unit="s", utc=True))
        frame.insert(
            2,
            "model_version",
            pd.to_numeric(pd.Series(versions, dtype=object), errors="coerce")
            .fillna(-1)
            .astype(int)
            .to_numpy(),
        )
        frame["prediction"] = [json.loads(x) for x in preds]
        frame["label"] = [json.loads(x) for x in labels]
        return frame

    def _open(self, model: str, rules: tuple[str, ...]) -> int:
        try:
            info = self.store.get_model(model)
        except NotFoundError:
            return 0
        return sum(1 for i in self.store.incidents(info.id, status="open") if i["rule"] in rules)

    def open_drift_incidents(self, model: str) -> int:
        return self._open(model, DRIFT_RULES)

    def open_performance_incidents(self, model: str) -> int:
        """Open incidents of the monitor's performance rule: the window's blended estimate
        (confidence-based before labels arrive, realized as they do) fell below baseline."""
        return self._open(model, ("performance",))
