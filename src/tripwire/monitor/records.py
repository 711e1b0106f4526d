"""Records as the monitor receives them: validation and encoding, before any database work.

Every check raises :class:`~tripwire.errors.InputError` with the record's position and what to
send instead, so a bad batch is refused whole and nothing is stored.

Examples
--------
>>> parse_time("2026-11-28T12:00:00Z", where="record 0")
1795867200.0
>>> parse_time(-5, where="record 3")
Traceback (most recent call last):
...
tripwire.errors.InputError: record 3: timestamp -5 is not epoch seconds between 1970 and 9999
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tripwire.errors import InputError

MAX_ID_LENGTH = 200
# Epoch seconds from 1970 to the end of year 9999: anything else is a unit mistake.
MAX_TIMESTAMP = 253_402_300_799.0
PREDICTION_FIELDS = frozenset(
    {"id", "timestamp", "features", "prediction", "probabilities", "latency_ms", "model_version"}
)
FEEDBACK_FIELDS = frozenset({"id", "label", "timestamp"})


def iso_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: Any, *, where: str) -> float:
    """Epoch seconds from a number or an ISO 8601 string (naive strings are UTC)."""
    if isinstance(value, bool):
        raise InputError(f"{where}: timestamp must be an ISO 8601 string or epoch seconds")
    if isinstance(value, (int, float)):
        if not 0 <= value <= MAX_TIMESTAMP:
            raise InputError(
                f"{where}: timestamp {value!r} is not epoch seconds between 1970 and 9999"
            )
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"{where}: timestamp {value!r} is not ISO 8601 (e.g. 2026-11-28T12:00:00Z)"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parse_time(parsed.timestamp(), where=where)
    raise InputError(f"{where}: timestamp must be an ISO 8601 string or epoch seconds")


def record_id(rec: Mapping[str, Any], where: str) -> str:
    if "id" not in rec or rec["id"] is None:
        raise InputError(f"{where}: field 'id' is missing")
    rid = rec["id"]
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        raise InputError(f"{where}: 'id' must be a string or an integer, got {type(rid).__name__}")
    rid = str(rid)
    if not rid or len(rid) > MAX_ID_LENGTH or "\x00" in rid:
        raise InputError(f"{where}: 'id' must have 1 to {MAX_ID_LENGTH} characters (no NUL)")
    return rid


# One encoder for every row: json.dumps with options builds a new encoder on each call.
_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
try:  # orjson (in the service extra) encodes about 5x faster; the stdlib is the fallback
    import orjson

    _ORJSON_OPTS = orjson.OPT_NON_STR_KEYS

    def _encode_fast(value: Any) -> str:
        return orjson.dumps(value, option=_ORJSON_OPTS).decode()

except ImportError:  # pragma: no cover - exercised only without the extra
    _encode_fast = _encode  # type: ignore[assignment]


def check_scalar(value: Any, where: str) -> None:
    if not isinstance(value, (str, int, float)):
        raise InputError(f"{where} must be a string, number or boolean, got {type(value).__name__}")


def check_probabilities(proba: Any, where: str) -> None:
    if not isinstance(proba, Mapping):
        raise InputError(f"{where}: 'probabilities' must be an object {{class: p}}")
    for cls, p in proba.items():
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise InputError(f"{where}: probability of class {cls!r} must be a number in [0, 1]")


def dumps(value: Any, where: str) -> str:
    try:
        return _encode_fast(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: value is not JSON-serialisable ({exc})") from None


def parse_profile(value: Any) -> Any:
    """A :class:`~tripwire.scale.DatasetProfile` from its JSON form, or an InputError."""
    from tripwire.scale.profile import DatasetProfile

    try:
        prof = DatasetProfile.from_dict(value, where="reference.profile")
    except InputError:
        raise
    except Exception as exc:  # a damaged file: missing keys, bad base64, corrupt sketches
        raise InputError(
            f"reference.profile is damaged ({type(exc).__name__}: {exc}); send the JSON that "
            "`tripwire profile DATA --out FILE` wrote, unchanged"
        ) from None
    if not prof.columns or prof.rows < 1:
        raise InputError("reference.profile has no rows or no columns; profile the reference data")
    return prof


def check_reference(reference: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """(rows, what to store) for a reference, or an InputError saying what is wrong with it."""
    if "profile" in reference:
        if set(reference) != {"profile"}:
            raise InputError(
                "reference: send either 'records' (with optional labels, predictions, "
                "probabilities) or 'profile' alone, not both"
            )
        prof = parse_profile(reference["profile"])
        return prof.rows, {"profile": prof.to_dict()}
    records = reference.get("records")
    if not isinstance(records, list) or not records:
        raise InputError(
            "reference: 'records' must be a non-empty list of feature objects (or send "
            "'profile', a saved tripwire profile)"
        )
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputError(f"reference record {i}: expected an object of feature values")
    n = len(records)
    for key in ("labels", "predictions", "probabilities"):
        values = reference.get(key)
        if values is not None and (not isinstance(values, list) or len(values) != n):
            raise InputError(f"reference: '{key}' must be a list with one entry per record ({n})")
    return n, dict(reference)


def loads_many(values: Sequence[str | None]) -> list[Any]:
    # One json.loads over the whole column is several times faster than one call per row.
    if not values:
        return []
    return json.loads("[" + ",".join("null" if v is None else v for v in values) + "]")


def json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot serialise {type(o).__name__}")
