"""The HTTP service: FastAPI routes that translate requests into store and evaluation calls.

:func:`create_app` builds the app from a :class:`~tripwire.monitor.store.Store`; other parts
of tripwire add routers to it (``app.include_router``) and reach the store and the scheduler
through ``app.state``. Routes hold no statistics and no SQL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from tripwire.errors import ConflictError, NotFoundError, TripwireError
from tripwire.monitor.evaluation import Scheduler
from tripwire.monitor.prometheus import IngestMetrics
from tripwire.monitor.records import check_reference
from tripwire.monitor.store import Store

log = logging.getLogger("tripwire.monitor")

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_BATCH = 10_000
# Epoch seconds from 1970 to the end of year 9999: anything else is a unit mistake.
MAX_TIMESTAMP = 253_402_300_799.0

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool
RecordId = (
    Annotated[StrictStr, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")] | StrictInt
)
Timestamp = (
    Annotated[StrictStr, Field(max_length=64)] | Annotated[float, Field(ge=0, le=MAX_TIMESTAMP)]
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictionRecord(_Strict):
    id: RecordId
    timestamp: Timestamp | None = None
    features: dict[str, Any]
    prediction: Scalar
    probabilities: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    model_version: Annotated[str, Field(max_length=100)] | None = None


class FeedbackRecord(_Strict):
    id: RecordId
    label: Scalar
    timestamp: Timestamp | None = None


class PredictionBatch(_Strict):
    records: list[PredictionRecord]


class FeedbackBatch(_Strict):
    records: list[FeedbackRecord]


class ModelIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]
    task: Literal["classification", "regression"]
    reference: list[dict[str, Any]] | None = None
    reference_profile: dict[str, Any] | None = Field(
        None, description="A saved tripwire profile (`tripwire profile --out`) as the reference."
    )
    window_seconds: Annotated[int, Field(ge=1, le=366 * 86400)] = 3600
    config: dict[str, float] | None = None


class ReferenceIn(_Strict):
    records: Annotated[list[dict[str, Any]], Field(min_length=1)] | None = None
    profile: dict[str, Any] | None = Field(
        None, description="A saved tripwire profile, instead of records."
    )
    labels: list[Scalar] | None = None
    predictions: list[Scalar] | None = None
    probabilities: list[dict[str, float]] | None = None


class PredictRecord(_Strict):
    id: RecordId | None = None
    features: Annotated[dict[str, Any], Field(min_length=1)]


class PredictBatch(_Strict):
    records: Annotated[list[PredictRecord], Field(min_length=1)]


class Prediction(BaseModel):
    id: str
    prediction: Any
    model_version: str
    probabilities: dict[str, float] | None = None


class PredictResult(BaseModel):
    model: str
    model_version: str
    predictions: list[Prediction]
    shadow_version: str | None = None
    canary_rows: int = 0


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


class Summary(BaseModel):
    predictions: int
    feedback: int
    windows: int
    open_incidents: int


def create_app(
    store: Store,
    *,
    notifiers: Sequence[Any] = (),
    evaluate_every: float = 60.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch: int = MAX_BATCH,
    registry: Any = None,
) -> FastAPI:
    """The monitor's FastAPI app over ``store`` (migrated already).

    ``registry`` (a :class:`~tripwire.lifecycle.registry.Registry`, by default one on the
    store's database) backs ``POST /v1/models/{name}/predict``.
    """
    scheduler = Scheduler(store, evaluate_every, notifiers)
    metrics = IngestMetrics(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        scheduler.start()
        yield
        scheduler.stop()

    app = FastAPI(
        title="tripwire monitor",
        version=_version(),
        description="Prediction and feedback logging, window evaluation, alerts.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.scheduler = scheduler
    app.state.metrics = metrics
    app.state.max_batch = max_batch
    _install_body_limit(app, max_body_bytes)
    _install_errors(app, metrics)

    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.include_router(_public_router())
    app.include_router(
        _v1_router(store, metrics, scheduler, max_batch), dependencies=[Depends(require_token)]
    )
    from tripwire.lifecycle.registry import Registry
    from tripwire.lifecycle.serving import GuardedServer

    server = GuardedServer(registry if registry is not None else Registry(store.url), store)
    app.state.serving = server
    app.include_router(
        _predict_router(server, metrics, max_batch), dependencies=[Depends(require_token)]
    )
    return app


def _predict_router(server: Any, metrics: IngestMetrics, max_batch: int) -> APIRouter:
    from tripwire.lifecycle.serving import ServingUnavailable

    router = APIRouter(prefix="/v1")

    def answer(name: str, body: PredictBatch) -> PredictResult:
        if len(body.records) > max_batch:
            raise HTTPException(
                413,
                f"predict batch has {len(body.records)} records; the limit is {max_batch}. "
                "Split it into smaller batches.",
            )
        records = [r.model_dump(exclude_none=True) for r in body.records]
        try:
            served = server.predict(name, records)
        except ServingUnavailable as exc:
            metrics.serving_errors.labels(name, "unavailable").inc()
            raise HTTPException(503, str(exc)) from None
        except TripwireError:
            metrics.serving_errors.labels(name, "client").inc()
            raise
        for p in served.predictions:
            role = "champion" if p["model_version"] == str(served.champion) else "canary"
            metrics.served.labels(name, p["model_version"], role).inc()
        return PredictResult(
            model=name,
            model_version=str(served.champion),
            predictions=[Prediction(**p) for p in served.predictions],
            shadow_version=None if served.shadow_version is None else str(served.shadow_version),
            canary_rows=served.canary_rows,
        )

    @router.get("/models/{name}/lifecycle", tags=["serving"])
    def lifecycle(name: str) -> dict[str, Any]:
        """Registry versions, aliases, challenger serving settings and the trail of ``name``."""
        reg = server.registry
        versions = reg.versions(name)
        if not versions:
            raise NotFoundError(
                f"no model named {name!r} in the registry; register one with "
                f"`tripwire registry add {name} MODEL.joblib`."
            )
        return {
            "model": name,
            "aliases": reg.aliases(name),
            "serving": reg.serving(name),
            "versions": [v.to_dict() for v in versions],
            "trail": [e.to_dict() for e in reg.trail(name)],
        }

    @router.post("/models/{name}/predict", tags=["serving"])
    def predict(name: str, body: PredictBatch) -> PredictResult:
        """Answer with the registry's champion (challenger in shadow or canary); log each."""
        return answer(name, body)

    return router


def _version() -> str:
    from tripwire import __version__

    return __version__


_bearer = HTTPBearer(auto_error=False)
_TOKEN_CACHE: dict[tuple[int, str], float] = {}


def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """401 without a bearer token, 403 with one that is not (or no longer) valid."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            401,
            "missing bearer token: send 'Authorization: Bearer TOKEN' (create one with `tripwire token create NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    store: Store = request.app.state.store
    key = (id(store), credentials.credentials)
    now = time.monotonic()
    if _TOKEN_CACHE.get(key, 0.0) > now:
        return
    if not store.check_token(credentials.credentials):
        raise HTTPException(403, "invalid or revoked token")
    _TOKEN_CACHE[key] = now + 10.0


def _public_router() -> APIRouter:
    router = APIRouter()

    @router.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/metrics", tags=["service"], response_class=Response)
    def prometheus(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(
            generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    @router.get("/", tags=["service"], response_class=HTMLResponse)
    def dashboard() -> HTMLResponse:
        return HTMLResponse((Path(__file__).parent / "dashboard.html").read_text(encoding="utf-8"))

    return router


def _v1_router(
    store: Store, metrics: IngestMetrics, scheduler: Scheduler, max_batch: int
) -> APIRouter:
    router = APIRouter(prefix="/v1")

    def check_batch(n: int, kind: str) -> None:
        if n == 0:
            metrics.rejected.labels(kind).inc()
            raise TripwireError(f"{kind} batch has no records; send at least one")
        if n > max_batch:
            metrics.rejected.labels(kind).inc()
            raise HTTPException(
                413,
                f"{kind} batch has {n} records; the limit is {max_batch}. Split it into smaller batches.",
            )

    @router.post("/models", tags=["models"], status_code=201)
    def create_model(body: ModelIn, response: Response) -> dict[str, Any]:
        if body.reference is not None and body.reference_profile is not None:
            raise TripwireError(
                "send either 'reference' (records) or 'reference_profile', not both"
            )
        reference = (
            {"records": body.reference}
            if body.reference is not None
            else {"profile": body.reference_profile}
            if body.reference_profile is not None
            else None
        )
        if reference is not None:
            check_reference(reference)  # a bad reference creates no model either
        model, created = store.create_model(
            body.name, task=body.task, window_seconds=body.window_seconds, config=body.config
        )
        if reference is not None:
            store.set_reference(body.name, reference)
        if not created:
            response.status_code = 200
        return {**model.to_dict(), "created": created}

    @router.get("/models", tags=["models"])
    def list_models() -> list[dict[str, Any]]:
        return [m.to_dict() for m in store.models()]

    @router.get("/models/{name}", tags=["models"])
    def get_model(name: str) -> dict[str, Any]:
        return store.get_model(name).to_dict()

    @router.put("/models/{name}/reference", tags=["models"])
    def set_reference(name: str, body: ReferenceIn) -> dict[str, int]:
        return {"rows": store.set_reference(name, body.model_dump(exclude_none=True))}

    # Ingest bodies are parsed with json.loads and validated once, by the store (the same
    # checks as the direct-to-database client), instead of building a pydantic object per
    # record: that doubles batched throughput. The OpenAPI schema still documents them.
    def ingest(name: str, body: bytes, kind: str) -> IngestResult:
        started = time.perf_counter()
        records = _records_of(body, kind)
        check_batch(len(records), kind)
        add = store.add_predictions if kind == "predictions" else store.add_feedback
        accepted, dupes = add(name, records)
        metrics.batch_seconds.labels(kind).observe(time.perf_counter() - started)
        (metrics.predictions if kind == "predictions" else metrics.feedback).labels(name).inc(
            accepted
        )
        metrics.duplicates.labels(name, kind).inc(dupes)
        return IngestResult(accepted=accepted, duplicates=dupes)

    @router.post(
        "/models/{name}/predictions", tags=["ingest"], openapi_extra=_body("PredictionBatch")
    )
    async def log_predictions(name: str, request: Request) -> IngestResult:
        body = await request.body()
        return await run_in_threadpool(ingest, name, body, "predictions")

    @router.post("/models/{name}/feedback", tags=["ingest"], openapi_extra=_body("FeedbackBatch"))
    async def log_feedback(name: str, request: Request) -> IngestResult:
        body = await request.body()
        return await run_in_threadpool(ingest, name, body, "feedback")

    @router.get("/models/{name}/summary", tags=["queries"])
    def summary(name: str) -> Summary:
        return Summary(**store.summary(name))

    @router.get("/models/{name}/windows", tags=["queries"])
    def windows(
        name: str,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        complete_only: bool = False,
    ) -> dict[str, Any]:
        model = store.get_model(name)
        results = store.windows(model.id, limit=limit)
        if complete_only:
            results = [r for r in results if r["complete"]]
        return {
            "model": name,
            "window_seconds": model.window_seconds,
            "windows": [_window_out(r) for r in results],
        }

    @router.post("/models/{name}/evaluate", tags=["queries"])
    def evaluate(name: str) -> dict[str, Any]:
        store.get_model(name)
        return scheduler.run_once(name)[name]

    @router.get("/alerts", tags=["queries"])
    def alerts(
        status: Literal["open", "resolved", "withdrawn"] | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        model_id = store.get_model(model).id if model is not None else None
        return {"incidents": store.incidents(model_id, status)}

    return router


def _records_of(body: bytes, kind: str) -> list[Any]:
    try:
        payload = _loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None
    if not isinstance(payload, dict):
        raise TripwireError(
            f'body must be a JSON object {{"records": [...]}}, got {type(payload).__name__}'
        )
    extra = set(payload) - {"records"}
    if extra:
        raise TripwireError(
            f'unknown field(s) {", ".join(sorted(extra))}; the body is {{"records": [...]}}'
        )
    records = payload.get("records")
    if not isinstance(records, list):
        raise TripwireError(f"records: field required (a list of {kind} records)")
    return records


try:  # orjson parses several times faster than the stdlib (and refuses NaN, as JSON does)
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - exercised only without the extra
    _loads = json.loads  # type: ignore[assignment]


class BadRequest(TripwireError):
    """A body that is not JSON at all (400)."""


def _body(model: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}},
        }
    }


def _openapi(app: FastAPI) -> Any:
    """The generated spec plus the ingest body schemas (their routes read raw bodies)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in (PredictionBatch, FeedbackBatch):
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(js.pop("$defs", {}))
            schemas[model.__name__] = js
        app.openapi_schema = spec
        return spec

    return build


def _window_out(r: dict[str, Any]) -> dict[str, Any]:
    from tripwire.monitor.records import iso_time

    return {**r, "start": iso_time(r["window_start"]), "end": iso_time(r["window_end"])}


def _install_errors(app: FastAPI, metrics: IngestMetrics) -> None:
    def kind_of(request: Request) -> str:
        path = request.url.path
        return (
            "predictions"
            if path.endswith("/predictions")
            else "feedback"
            if path.endswith("/feedback")
            else "other"
        )

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        metrics.rejected.labels(kind_of(request)).inc()
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(TripwireError)
    async def bad_input(request: Request, exc: TripwireError) -> JSONResponse:
        metrics.rejected.labels(kind_of(request)).inc()
        return JSONResponse(
            {"detail": str(exc)}, status_code=400 if isinstance(exc, BadRequest) else 422
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.rejected.labels(kind_of(request)).inc()
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            msg = (
                next(e for e in errors if e.get("type") == "json_invalid")
                .get("ctx", {})
                .get("error", "")
            )
            return JSONResponse({"detail": f"malformed JSON body: {msg}".strip()}, status_code=400)
        return JSONResponse(
            {"detail": _describe(errors), "errors": _jsonable(errors)}, status_code=422
        )


def _describe(errors: Sequence[Any]) -> str:
    """'records.3.features: Field required; ...' (the first five problems)."""
    parts = []
    for e in errors[:5]:
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def _jsonable(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg")),
            "type": str(e.get("type")),
        }
        for e in errors[:20]
    ]


def _install_body_limit(app: FastAPI, limit: int) -> None:
    """413 for a body over ``limit`` bytes, by Content-Length or while it streams in."""

    def too_large(size: str) -> JSONResponse:
        return JSONResponse(
            {
                "detail": f"request body is {size}; the limit is {limit} bytes. Send smaller batches."
            },
            status_code=413,
        )

    class BodyLimit:
        def __init__(self, asgi: Any) -> None:
            self.asgi = asgi

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return await self.asgi(scope, receive, send)
            for key, value in scope.get("headers", []):
                if key == b"content-length" and value.isdigit() and int(value) > limit:
                    return await too_large(f"{int(value)} bytes")(scope, receive, send)
            seen = 0

            async def limited() -> Any:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise _TooLarge()
                return message

            try:
                await self.asgi(scope, limited, send)
            except _TooLarge:
                await too_large(f"over {limit} bytes")(scope, receive, send)

    app.add_middleware(BodyLimit)


class _TooLarge(Exception):
    pass


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)
