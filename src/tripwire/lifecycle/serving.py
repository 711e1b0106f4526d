"""Guarded serving: the champion answers, the challenger runs in shadow or as a canary.

:class:`GuardedServer` is what ``POST /v1/models/{name}/predict`` calls. For each request it

1. resolves the aliases of the model in the registry (re-read at most once a second, so an
   alias changed by ``tripwire registry promote`` or by the loop in another process takes
   effect within about a second, without a restart);
2. loads the version's artifact once (its SHA-256 is checked by the registry) and keeps it;
3. answers every record with the champion, except a ``canary_share`` of record ids (a stable
   hash bucket of the id, so a retried request gets the same version) answered by the
   challenger;
4. logs every answered prediction to the monitor with its ``model_version`` (so windows,
   feedback joins and the loop's rollback rule see which version answered);
5. runs the challenger on the same rows in shadow, when configured: its outputs are stored
   in ``tw_shadow_predictions`` and never returned; a failing shadow never fails a request.

Requests never fail because of an alias change: a newly pointed version is loaded under a
lock while requests already in flight finish with the model they started with, and if the
new version cannot be loaded (its file is gone or changed) the last version that worked keeps
serving, with the error logged and exported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tripwire.errors import InputError, NotFoundError, TripwireError
from tripwire.lifecycle.registry import Registry

log = logging.getLogger("tripwire.serving")

ALIAS_TTL_SECONDS = 1.0


class ServingUnavailable(TripwireError):
    """No version of the model can answer (no champion, or its artifact cannot be loaded)."""


@dataclass
class _Route:
    """What one model's requests go to, as last read from the registry."""

    champion: int | None
    challenger: int | None
    shadow: bool
    canary_share: float
    read_at: float


@dataclass
class Served:
    """The answer to one predict request."""

    predictions: list[dict[str, Any]]
    champion: int
    shadow_version: int | None = None
    canary_rows: int = 0
    latency_ms: float = 0.0
    errors: list[str] = field(default_factory=list)


def canary_bucket(record_id: str) -> float:
    """A stable number in [0, 1) from a record id (same id, same bucket, in every process).

    >>> canary_bucket("order-17") == canary_bucket("order-17")
    True
    >>> 0 <= canary_bucket("x") < 1
    True
    """
    digest = hashlib.sha1(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


class GuardedServer:
    """Predictions from the registry's champion, logged to the monitor's store."""

    def __init__(self, registry: Registry, store: Any, ttl: float = ALIAS_TTL_SECONDS) -> None:
        self.registry = registry
        self.store = store
        self.ttl = ttl
        self._routes: dict[str, _Route] = {}
        self._models: dict[tuple[str, int], Any] = {}
        self._last_good: dict[str, int] = {}
        self._schemas: dict[tuple[str, int], Any] = {}
        self._monitored: set[str] = set()
        self._lock = threading.Lock()
        self._load_locks: dict[tuple[str, int], threading.Lock] = {}
        self.load_failures = 0
        self.shadow_failures = 0

    # -- routing ---------------------------------------------------------------------------
    def route(self, name: str) -> _Route:
        now = time.monotonic()
        cached = self._routes.get(name)
        if cached is not None and now - cached.read_at < self.ttl:
            return cached
        try:
            aliases = self.registry.aliases(name)
            settings = self.registry.serving(name)
        except Exception as exc:  # the database hiccuped: keep the last known route
            if cached is not None:
                log.warning("registry read failed (%s); keeping the last route of %s", exc, name)
                return cached
            raise
        route = _Route(
            champion=aliases.get("champion"),
            challenger=aliases.get("challenger"),
            shadow=bool(settings["shadow"]),
            canary_share=float(settings["canary_share"]),
            read_at=now,
        )
        self._routes[name] = route
        return route

    def _model(self, name: str, version: int) -> Any:
        key = (name, version)
        model = self._models.get(key)
        if model is not None:
            return model
        with self._lock:
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:  # one loader per version; others wait for it instead of loading again
            model = self._models.get(key)
            if model is None:
                _, model = self.registry.load(name, version)
                self._models[key] = model
        return model

    def _champion(self, name: str, route: _Route) -> tuple[int, Any]:
        if route.champion is None:
            known = self.registry.versions(name)
            if not known:
                raise NotFoundError(
                    f"no model named {name!r} in the registry; register one with "
                    f"`tripwire registry add {name} MODEL.joblib --alias champion`."
                )
            raise ServingUnavailable(
                f"model {name!r} has no champion; promote a version with "
                f"`tripwire registry promote {name} VERSION`."
            )
        try:
            model = self._model(name, route.champion)
            self._last_good[name] = route.champion
            return route.champion, model
        except Exception as exc:
            self.load_failures += 1
            fallback = self._last_good.get(name)
            if fallback is not None and fallback != route.champion:
                log.error(
                    "cannot load %s v%s (%s); still serving v%s",
                    name,
                    route.champion,
                    exc,
                    fallback,
                )
                return fallback, self._models[(name, fallback)]
            raise ServingUnavailable(
                f"cannot load the champion of {name!r} (v{route.champion}): {exc}"
            ) from exc

    # -- input -----------------------------------------------------------------------------
    def _frame(
        self, name: str, version: int, model: Any, features: list[Mapping[str, Any]]
    ) -> pd.DataFrame:
        key = (name, version)
        if key not in self._schemas:  # a version's schema never changes: read it once
            self._schemas[key] = self.registry.get(name, version).input_schema
        schema: Mapping[str, str] | None = self._schemas[key]
        if not schema and hasattr(model, "feature_names_in_"):
            schema = {str(c): "float64" for c in model.feature_names_in_}
        if not schema:
            return pd.DataFrame.from_records(features)
        cols = list(schema)
        if all(t.startswith(("int", "float", "uint", "Int", "Float")) for t in schema.values()):
            # The common case, all-numeric inputs: one array, no per-column conversion.
            try:
                values = np.array([[f[c] for c in cols] for f in features], dtype=float)
                if not any(isinstance(f[c], (str, bool)) for f in features for c in cols):
                    return pd.DataFrame(values, columns=cols)
            except (KeyError, TypeError, ValueError):
                pass  # the slow path below says what was wrong
        frame = pd.DataFrame.from_records(features)
        missing = [c for c in schema if c not in frame.columns]
        if missing:
            raise InputError(
                f"feature(s) {', '.join(missing)} missing from the records; model {name} "
                f"v{version} expects: {', '.join(schema)}."
            )
        frame = frame[list(schema)]
        for col, dtype in schema.items():
            if dtype.startswith(("int", "float", "uint", "Int", "Float")):
                converted = pd.to_numeric(frame[col], errors="coerce")
                bad = converted.isna() & frame[col].notna()
                if bad.any():
                    i = int(np.flatnonzero(bad.to_numpy())[0])
                    raise InputError(
                        f"record {i}: feature {col!r} must be a number (model {name} was "
                        f"trained on {dtype}); got {frame[col].iloc[i]!r}."
                    )
                frame[col] = converted.astype(float)
        return frame

    @staticmethod
    def _outputs(model: Any, X: pd.DataFrame) -> tuple[np.ndarray, list[dict[str, float]] | None]:
        pred = np.asarray(model.predict(X))
        proba = None
        if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
            try:
                p = np.asarray(model.predict_proba(X), dtype=float)
                classes = [str(_plain(c)) for c in model.classes_]
                proba = [dict(zip(classes, map(float, row))) for row in p]
            except Exception:  # a classifier without usable probabilities answers without them
                proba = None
        return pred, proba

    # -- the request -----------------------------------------------------------------------
    def predict(self, name: str, records: Sequence[Mapping[str, Any]]) -> Served:
        """Answer ``records`` (each ``{"id"?, "features": {...}}``) and log them."""
        started = time.perf_counter()
        if not records:
            raise InputError("'records' is empty; send at least one {'features': {...}}.")
        ids: list[str] = []
        features: list[Mapping[str, Any]] = []
        for i, rec in enumerate(records):
            f = rec.get("features")
            if not isinstance(f, Mapping) or not f:
                raise InputError(f"record {i}: 'features' must be a non-empty object.")
            rid = rec.get("id")
            ids.append(str(rid) if rid is not None else uuid.uuid4().hex)
            features.append(f)
        if len(set(ids)) != len(ids):
            raise InputError("record ids must be unique within a request.")
        route = self.route(name)
        champion, model = self._champion(name, route)
        X = self._frame(name, champion, model, features)
        try:
            pred, proba = self._outputs(model, X)
        except Exception as exc:
            raise InputError(
                f"model {name} v{champion} could not predict these records: {exc}"
            ) from None
        versions = [champion] * len(ids)

        canary_rows = 0
        challenger: int | None = route.challenger if route.challenger != champion else None
        challenger_out: tuple[np.ndarray, list[dict[str, float]] | None] | None = None
        if challenger is not None and (route.canary_share > 0 or route.shadow):
            try:
                cmodel = self._model(name, challenger)
                challenger_out = self._outputs(cmodel, X)
            except Exception as exc:  # the challenger never breaks a request
                self.shadow_failures += 1
                log.warning("challenger %s v%s failed: %s", name, challenger, exc)
        if challenger is not None and challenger_out is not None and route.canary_share > 0:
            cpred, cproba = challenger_out
            take = np.array([canary_bucket(i) < route.canary_share for i in ids])
            canary_rows = int(take.sum())
            if canary_rows:
                pred = pred.astype(object)
                pred[take] = cpred[take]
                if proba is not None and cproba is not None:
                    proba = [cp if t else p for p, cp, t in zip(proba, cproba, take)]
                versions = [challenger if t else champion for t in take]
        latency = (time.perf_counter() - started) * 1000.0
        per_row = latency / len(ids)
        out = []
        logged = []
        now = time.time()
        for k, rid in enumerate(ids):
            item: dict[str, Any] = {
                "id": rid,
                "prediction": _plain(pred[k]),
                "model_version": str(versions[k]),
            }
            if proba is not None:
                item["probabilities"] = proba[k]
            out.append(item)
            logged.append(
                {
                    "id": rid,
                    "timestamp": now,
                    "features": {c: _plain(v) for c, v in features[k].items()},
                    "prediction": item["prediction"],
                    **({"probabilities": proba[k]} if proba is not None else {}),
                    "latency_ms": per_row,
                    "model_version": str(versions[k]),
                }
            )
        self._ensure_monitored(name, champion)
        self.store.add_predictions(name, logged, received_at=now)
        shadow_version = None
        if challenger is not None and challenger_out is not None and route.shadow:
            shadow_version = challenger
            try:
                self._log_shadow(name, challenger, ids, challenger_out, now, per_row)
            except Exception as exc:
                self.shadow_failures += 1
                log.warning("shadow log of %s v%s failed: %s", name, challenger, exc)
        return Served(out, champion, shadow_version, canary_rows, latency)

    def _ensure_monitored(self, name: str, version: int) -> None:
        if name in self._monitored:
            return
        try:
            self.store.get_model(name)
            self._monitored.add(name)
        except NotFoundError:
            task = self.registry.get(name, version).task or "classification"
            try:
                self.store.create_model(name, task=task)
            except TripwireError:  # created by a concurrent request
                pass

    def _log_shadow(
        self,
        name: str,
        version: int,
        ids: list[str],
        outputs: tuple[np.ndarray, list[dict[str, float]] | None],
        now: float,
        latency: float,
    ) -> None:
        import sqlalchemy as sa

        pred, proba = outputs
        t = self.registry._md.tables["tw_shadow_predictions"]
        rows = [
            {
                "model_name": name,
                "id": rid,
                "version": version,
                "ts": now,
                "prediction": json.dumps(_plain(pred[k])),
                "probabilities": json.dumps(proba[k]) if proba is not None else None,
                "latency_ms": latency,
            }
            for k, rid in enumerate(ids)
        ]
        with self.registry.engine.begin() as c:
            existing = {
                r[0]
                for r in c.execute(
                    sa.select(t.c.id).where(
                        t.c.model_name == name, t.c.version == version, t.c.id.in_(ids)
                    )
                )
            }
            fresh = [r for r in rows if r["id"] not in existing]
            if fresh:
                c.execute(t.insert(), fresh)

    def shadow_predictions(self, name: str) -> pd.DataFrame:
        """The challenger's shadow outputs logged for ``name`` (for comparison and tests)."""
        import sqlalchemy as sa

        t = self.registry._md.tables["tw_shadow_predictions"]
        with self.registry.engine.connect() as c:
            rows = c.execute(sa.select(t).where(t.c.model_name == name).order_by(t.c.ts)).all()
        frame = pd.DataFrame([dict(r._mapping) for r in rows])
        if len(frame):
            frame["prediction"] = frame["prediction"].map(json.loads)
        return frame
