"""Property-based fuzzing of the OpenAPI spec (schemathesis): no input gets a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tripwire.monitor.service import create_app
from tripwire.monitor.store import Store

_tmp = Path(tempfile.mkdtemp(prefix="tw-fuzz-"))
STORE = Store(f"sqlite:///{_tmp / 'tw.db'}").migrate()
TOKEN = STORE.create_token("fuzz")
STORE.create_model("fuzz", task="classification", window_seconds=60)
APP = create_app(STORE, evaluate_every=0, max_batch=200)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    if "name" in (case.path_parameters or {}) and case.path_parameters["name"] == "":
        case.path_parameters["name"] = "fuzz"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error]
    )
