"""The OpenAPI document of the intake API is valid, served, and agrees with the code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from domain.validation import JUDICIARY_CODE_PATTERN, OFFICER_NUMBER_PATTERN
from intake.api import EVENTS_PATH, OPENAPI_PATH, setup_intake_routes
from intake.openapi import REGENERATE, document_text, openapi_document
from intake.wire import MAX_BATCH, parse_events
from tests.http.test_intake import FakeRecorder, make_event

DOCUMENT_PATH = Path(__file__).parents[2] / "intake" / "openapi.json"
RECEIVED = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def document() -> dict[str, Any]:
    """The OpenAPI document as stored in the repository."""
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def request_validator(document: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for the documented request body of POST /api/ticket-events."""
    registry = Registry().with_resource(
        "urn:intake-openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = document["paths"][EVENTS_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(schema: Any) -> Any:
    """``schema`` with local ``#/...`` refs pointing into the registered document."""
    if isinstance(schema, dict):
        return {
            key: ("urn:intake-openapi" + value if key == "$ref" and value.startswith("#") else _rebase(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_document_describes_every_status_and_the_signature(document: dict[str, Any]) -> None:
    operation = document["paths"][EVENTS_PATH]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "409", "413", "415", "500", "503"}
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    scheme = document["components"]["securitySchemes"]["signature"]
    assert (scheme["in"], scheme["name"]) == ("header", "X-Signature-256")
    assert operation["security"] == [{"signature": []}]
    assert any(p["name"] == "X-Signature-256" and p["in"] == "header" for p in operation["parameters"])


def test_documented_examples_are_valid_requests_and_parse(document: dict[str, Any]) -> None:
    content = document["paths"][EVENTS_PATH]["post"]["requestBody"]["content"]["application/json"]
    validator = request_validator(document)
    for example in content["examples"].values():
        validator.validate(example["value"])
        assert parse_events(example["value"], RECEIVED)


def test_request_schema_agrees_with_the_parser_on_shapes(document: dict[str, Any]) -> None:
    validator = request_validator(document)
    assert validator.is_valid(make_event())
    assert validator.is_valid({"events": [make_event(), make_event(event_id="b", type="accepted", issued_at=...)]})
    assert not validator.is_valid({"events": []})
    assert not validator.is_valid({"events": [make_event(event_id=f"e{i}") for i in range(MAX_BATCH + 1)]})
    assert not validator.is_valid(make_event(issued_at=...))
    assert not validator.is_valid(make_event(type="rejected", reason=...))
    assert not validator.is_valid(make_event(occurred_at="2024-05-01T14:30:00"))
    assert not validator.is_valid(make_event(officer_number="AB123"))


async def test_document_is_served(document: dict[str, Any]) -> None:
    app = web.Application()
    setup_intake_routes(app, secret=None, recorder=FakeRecorder())
    async with TestClient(TestServer(app)) as client:
        response = await client.get(OPENAPI_PATH)
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == document


def test_committed_document_is_the_generated_one() -> None:
    """intake/openapi.json is generated from the wire models; a model changed without regenerating fails here."""
    stale = f"intake/openapi.json differs from what the models generate: run `{REGENERATE}` and commit the result"
    assert json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")) == openapi_document(), stale
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == document_text(openapi_document()), stale


async def test_served_document_is_the_generated_one() -> None:
    app = web.Application()
    setup_intake_routes(app, secret="s3cret", recorder=FakeRecorder())
    async with TestClient(TestServer(app)) as client:
        response = await client.get(OPENAPI_PATH)
        assert response.status == 200
        assert await response.json() == openapi_document()


def test_generated_schemas_come_from_the_wire_models() -> None:
    """The request body and the response bodies are the pydantic models' own JSON schemas."""
    document = openapi_document()
    schemas = document["components"]["schemas"]
    body = document["paths"][EVENTS_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {
        "oneOf": [{"$ref": "#/components/schemas/IncomingEvent"}, {"$ref": "#/components/schemas/EventBatch"}]
    }
    event = schemas["IncomingEvent"]
    assert event["properties"]["officer_number"]["pattern"] == OFFICER_NUMBER_PATTERN
    assert event["properties"]["judiciary_code"]["pattern"] == JUDICIARY_CODE_PATTERN
    assert schemas["EventBatch"]["properties"]["events"]["maxItems"] == MAX_BATCH
    responses = document["paths"][EVENTS_PATH]["post"]["responses"]
    assert {
        status: response["content"]["application/json"]["schema"]["$ref"] for status, response in responses.items()
    } == {
        "200": "#/components/schemas/EventResults",
        "400": "#/components/schemas/EventProblems",
        "409": "#/components/schemas/EventConflictAnswer",
        **{status: "#/components/schemas/ErrorMessage" for status in ("401", "413", "415", "500", "503")},
    }
