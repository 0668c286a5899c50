"""schemathesis against the intake's OpenAPI document, on a loopback server running the whole app.

Every generated body is signed (``X-Signature-256``) as a records system would, so the cases reach
parsing and recording instead of all stopping at 401. Checks: no 5xx, every status and header is one
the document declares, and every response body matches its schema. Bad signatures, sizes and content
types have their own tests in tests/http/test_intake.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from intake.openapi import OPENAPI_FILE
from intake.signature import SIGNATURE_HEADER, sign
from settings import Settings
from tests.conftest import SECRET
from tests.security.conftest import examples
from tests.security.live import LiveApp

schema = schemathesis.openapi.from_path(str(OPENAPI_FILE))
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=examples(40),
)

STATUSES: list[int] = []
"""Every status the generated cases got (negative cases without the header get 401, as they should)."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    settings = Settings.from_env(
        {"DATA_DIR": str(tmp_path_factory.mktemp("schema") / "data"), "TICKET_EVENTS_SECRET": SECRET}
    )
    server = LiveApp(settings).start()
    yield server
    server.stop()


def signed_body(case: schemathesis.Case) -> bytes | None:
    """The exact bytes to send for this case (what the records system would sign)."""
    kwargs = case.as_transport_kwargs()
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data")
    if isinstance(data, str):
        return data.encode()
    return data if isinstance(data, bytes) else None


@schema.parametrize()
def test_the_intake_keeps_its_openapi_contract(case: schemathesis.Case, live: LiveApp) -> None:
    extra: dict[str, Any] = {}
    body = signed_body(case)
    if case.method.upper() == "POST":
        raw = body if body is not None else b""
        extra = {"data": raw, "headers": {SIGNATURE_HEADER: sign(SECRET, raw)}}
    response = case.call(base_url=live.base_url, timeout=30, **extra)
    STATUSES.append(response.status_code)
    case.validate_response(response, checks=CHECKS)
    assert "Traceback" not in response.text


def test_the_signed_cases_reached_the_recorder() -> None:
    """Runs after the generated cases (file order): signing worked, so some were recorded, not all refused."""
    if not STATUSES:
        pytest.skip("run together with test_the_intake_keeps_its_openapi_contract")
    assert 200 in STATUSES and 400 in STATUSES, sorted(set(STATUSES))
