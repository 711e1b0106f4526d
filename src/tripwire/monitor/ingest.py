"""Ingest batches for the monitor's store: validate records and turn them into table rows.

:func:`prediction_rows` and :func:`feedback_rows` check every record of a batch (raising
:class:`~tripwire.errors.InputError` on the first bad one, so nothing is stored) and return
the rows to insert, keyed by record id: a repeated id within the batch keeps its first record.
The database work is done by :meth:`~tripwire.monitor.store.Store.add_predictions` and
:meth:`~tripwire.monitor.store.Store.add_feedback`.

Examples
--------
>>> rows = feedback_rows([{"id": "a", "label": 0}, {"id": "a", "label": 1}], model_id=1, now=0)
>>> list(rows), rows["a"]["label"]
(['a'], '0')
>>> feedback_rows([{"id": "b"}], model_id=1, now=0)
Traceback (most recent call last):
...
tripwire.errors.InputError: record 0: field 'label' is missing
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tripwire.errors import InputError
from tripwire.monitor.records import (
    FEEDBACK_FIELDS,
    PREDICTION_FIELDS,
    check_probabilities,
    check_scalar,
    dumps,
    parse_time,
    record_id,
)


def check_fields(rec: Any, where: str, allowed: frozenset[str] | set[str]) -> None:
    """Refuse a record that is not an object or names a field outside ``allowed``."""
    if not isinstance(rec, Mapping):
        raise InputError(f"{where}: expected an object")
    extra = rec.keys() - allowed
    if extra:
        raise InputError(
            f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def prediction_rows(
    records: Sequence[Mapping[str, Any]], *, model_id: int, width: int, now: float
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Rows of the predictions table for a batch, by id, and the model versions it names.

    ``width`` is the model's window length in seconds; ``now`` stamps records without a
    timestamp and is their ``received_at``.
    """
    rows: dict[str, dict[str, Any]] = {}
    versions: set[str] = set()
    for i, rec in enumerate(records):
        where = f"record {i}"
        check_fields(rec, where, PREDICTION_FIELDS)
        rid = record_id(rec, where)
        features = rec.get("features")
        if not isinstance(features, Mapping):
            raise InputError(f"{where}: 'features' must be an object of feature values")
        if rec.get("prediction") is None:
            raise InputError(f"{where}: field 'prediction' is missing")
        check_scalar(rec["prediction"], f"{where}: 'prediction'")
        ts = parse_time(rec["timestamp"], where=where) if rec.get("timestamp") is not None else now
        proba = rec.get("probabilities")
        if proba is not None:
            check_probabilities(proba, where)
        latency = rec.get("latency_ms")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, (int, float)) or not latency >= 0
        ):
            raise InputError(f"{where}: 'latency_ms' must be a number of milliseconds >= 0")
        version = rec.get("model_version")
        if version is not None:
            if (
                not isinstance(version, (str, int))
                or isinstance(version, bool)
                or len(str(version)) > 100
            ):
                raise InputError(
                    f"{where}: 'model_version' must be a string of at most 100 characters"
                )
            version = str(version)
            versions.add(version)
        if rid in rows:
            continue
        rows[rid] = {
            "model_id": model_id,
            "id": rid,
            "ts": ts,
            "window_start": int(ts // width) * width,
            "version": version,
            "features": dumps(features, where),
            "prediction": dumps(rec["prediction"], where),
            "probabilities": None if proba is None else dumps(proba, where),
            "latency_ms": None if latency is None else float(latency),
            "received_at": now,
        }
    return rows, versions


def feedback_rows(
    records: Sequence[Mapping[str, Any]], *, model_id: int, now: float
) -> dict[str, dict[str, Any]]:
    """Rows of the feedback table for a batch of delayed labels, by prediction id."""
    rows: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records):
        where = f"record {i}"
        check_fields(rec, where, FEEDBACK_FIELDS)
        rid = record_id(rec, where)
        if rec.get("label") is None:
            raise InputError(f"{where}: field 'label' is missing")
        check_scalar(rec["label"], f"{where}: 'label'")
        ts = parse_time(rec["timestamp"], where=where) if rec.get("timestamp") is not None else now
        if rid not in rows:
            rows[rid] = {
                "model_id": model_id,
                "id": rid,
                "label": dumps(rec["label"], where),
                "ts": ts,
                "received_at": now,
            }
    return rows
