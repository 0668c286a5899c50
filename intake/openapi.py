"""The OpenAPI 3.1 document of the ticket-event intake API, generated from the wire models.

``openapi_document()`` builds the whole document: the component schemas come from the pydantic
models in intake/wire.py (``json_schema`` in validation mode), the paths, responses and the
signature header are written here. The intake serves it at ``GET /api/openapi.json``. A copy is
committed as intake/openapi.json for readers; write it with ``python -m intake.openapi`` after
changing a model (a test fails until the copy matches).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from intake.signature import SIGNATURE_HEADER
from intake.wire import MAX_BATCH, ErrorMessage, EventConflictAnswer, EventProblems, EventResults, RequestBody

OPENAPI_FILE = Path(__file__).parent / "openapi.json"
"""The committed copy of the document."""

REGENERATE = "python -m intake.openapi"
"""The command that writes the committed copy."""

EVENTS_PATH = "/api/ticket-events"
OPENAPI_PATH = "/api/openapi.json"

_REF_TEMPLATE = "#/components/schemas/{model}"

_EXAMPLES: dict[str, Any] = {
    "single": {
        "summary": "One event",
        "value": {
            "event_id": "valcour-000123",
            "type": "submitted",
            "ticket_number": "VT-24-000123",
            "officer_number": "A1234",
            "judiciary_code": "0412",
            "occurred_at": "2024-05-01T14:30:00-04:00",
            "issued_at": "2024-05-01T09:10:00-04:00",
            "violation": {
                "category": "traffic",
                "statute": "23 V.S.A. § 1007",
                "full_penalty": 162,
                "waiver_penalty": 106,
            },
        },
    },
    "batch": {
        "summary": "A batch",
        "value": {
            "events": [
                {
                    "event_id": "odyssey-77",
                    "type": "rejected",
                    "ticket_number": "VT-24-000123",
                    "officer_number": "A1234",
                    "judiciary_code": "0412",
                    "occurred_at": "2024-05-02T10:00:00Z",
                    "reason": "Statute not found",
                }
            ]
        },
    },
}


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's schema, and every component schema (the models and what they refer to)."""
    adapters: dict[str, TypeAdapter[Any]] = {"body": TypeAdapter(RequestBody)}
    adapters |= {
        model.__name__: TypeAdapter(model) for model in (EventResults, EventProblems, EventConflictAnswer, ErrorMessage)
    }
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        (name, "validation", adapter) for name, adapter in adapters.items()
    ]
    refs, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF_TEMPLATE)
    return refs[("body", "validation")], definitions["$defs"]


def _json_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF_TEMPLATE.format(model=model.__name__)}}},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the intake API."""
    body_schema, components = _schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "JB e-Ticket Bot: ticket-event intake API",
            "version": "1.0.0",
            "description": (
                "The records systems (Valcour, Odyssey) post e-ticket events here. Checks run in this order: no "
                "signing secret configured (503), body over 1 MiB (413), missing or bad signature (401), not JSON "
                "(415 for a wrong content type, 400 for a body that is not UTF-8 JSON), then the content (400). A "
                "request with any problem records nothing."
            ),
        },
        "paths": {
            EVENTS_PATH: {
                "post": {
                    "operationId": "postTicketEvents",
                    "summary": f"Record one ticket event or a batch of 1 to {MAX_BATCH}",
                    "description": (
                        "Events apply in array order. An event_id seen before with the same payload (when it was "
                        "received aside) is reported as `duplicate` and raises nothing; with a different payload the "
                        "request answers 409 and nothing from it is recorded. Instants must be storable (years 1 to "
                        "9999 in UTC) and at most a day after the request is received. Unknown fields are ignored."
                    ),
                    "security": [{"signature": []}],
                    "parameters": [
                        {
                            "name": SIGNATURE_HEADER,
                            "in": "header",
                            "required": True,
                            "description": (
                                "`sha256=` followed by the hex HMAC-SHA256 of the raw request body under the shared "
                                "secret (TICKET_EVENTS_SECRET); hex in any case."
                            ),
                            "schema": {"type": "string", "pattern": "^sha256=[0-9A-Fa-f]{64}$"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "description": "At most 1 MiB (1,048,576 bytes) of UTF-8 JSON.",
                        "content": {"application/json": {"schema": body_schema, "examples": _EXAMPLES}},
                    },
                    "responses": {
                        "200": _json_response(
                            "Every event was recorded or was a duplicate; one result per event, in order.",
                            EventResults,
                        ),
                        "400": _json_response(
                            "The body is not valid JSON, or the events have problems; every problem of every event "
                            "is listed and nothing was recorded.",
                            EventProblems,
                        ),
                        "401": _json_response(
                            f"The {SIGNATURE_HEADER} header is missing or does not match the body.", ErrorMessage
                        ),
                        "409": _json_response(
                            "An event reuses an event_id recorded before with a different payload (`index` says "
                            "which); nothing from the request was recorded.",
                            EventConflictAnswer,
                        ),
                        "413": _json_response("The body is over 1 MiB.", ErrorMessage),
                        "415": _json_response("The Content-Type is not application/json.", ErrorMessage),
                        "500": _json_response(
                            "An unexpected internal error; the sender should retry (duplicates are reported as such).",
                            ErrorMessage,
                        ),
                        "503": _json_response(
                            "The intake has no signing secret configured, or storage cannot accept writes just now "
                            "(then with Retry-After); nothing was recorded and the sender should retry.",
                            ErrorMessage,
                        )
                        | {
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before retrying (sent when storage is unavailable).",
                                    "schema": {"type": "integer", "minimum": 0},
                                }
                            }
                        },
                    },
                }
            },
            OPENAPI_PATH: {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document of the intake API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": SIGNATURE_HEADER,
                    "description": (
                        "Not a static key: `sha256=<hex HMAC-SHA256 of the raw body>` keyed with TICKET_EVENTS_SECRET "
                        "(hex in any case)."
                    ),
                }
            },
            "schemas": components,
        },
    }


def document_text(document: dict[str, Any]) -> str:
    """The document as the committed file holds it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the committed copy, intake/openapi.json."""
    OPENAPI_FILE.write_text(document_text(openapi_document()), encoding="utf-8")
    sys.stdout.write(f"wrote {OPENAPI_FILE}\n")


if __name__ == "__main__":
    main()
