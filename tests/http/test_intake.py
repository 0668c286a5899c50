"""HTTP-level tests of POST /api/ticket-events with aiohttp's test client and a fake recorder.

Every JSON response is also checked against the response schema the OpenAPI document gives
for its status code, so the document stays true.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from domain.records import EventType, TicketEvent, ViolationCategory
from intake import send
from intake.api import MAX_BODY_BYTES, setup_intake_routes
from intake.signature import sign
from storage.errors import StorageUnavailable
from storage.postgres import StaleWrite

SECRET = "test-secret-ü"
URL = "/api/ticket-events"
RECEIVED = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
OPENAPI = json.loads((Path(__file__).parents[2] / "intake" / "openapi.json").read_text(encoding="utf-8"))
_REGISTRY = Registry().with_resource(
    "urn:intake-openapi", Resource.from_contents(OPENAPI, default_specification=DRAFT202012)
)


def make_event(**overrides: Any) -> dict[str, Any]:
    """A valid `submitted` event as JSON, with fields replaced (a value of ... removes the field)."""
    event: dict[str, Any] = {
        "event_id": "valcour-1",
        "type": "submitted",
        "ticket_number": "VT-24-000123",
        "officer_number": "a1234",
        "judiciary_code": "0412",
        "occurred_at": "2024-05-01T14:30:00-04:00",
        "issued_at": "2024-05-01T09:10:00-04:00",
        "violation": {
            "category": "traffic",
            "statute": "23 V.S.A. § 1007",
            "full_penalty": 162,
            "waiver_penalty": 106.5,
        },
    }
    for key, value in overrides.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def documented_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The JSON response schema the OpenAPI document gives for ``status``; fails if undocumented."""
    responses = OPENAPI["paths"][path][method]["responses"]
    assert str(status) in responses, f"status {status} of {method.upper()} {path} is not in openapi.json"
    return responses[str(status)]["content"]["application/json"]["schema"]


def assert_matches_document(status: int, body: object, *, method: str = "post", path: str = URL) -> None:
    """Validate ``body`` against the document's schema for ``status`` (refs resolved in the document)."""
    schema = documented_schema(method, path, status)
    if "$ref" in schema:
        schema = {"$ref": "urn:intake-openapi" + schema["$ref"]}
    jsonschema.Draft202012Validator(schema, registry=_REGISTRY).validate(body)


class FakeRecorder:
    """Dedupes by event_id like the real recorder; raises a `rejected` incident for rejected events."""

    def __init__(self) -> None:
        self.calls: list[list[TicketEvent]] = []
        self.seen: set[str] = set()
        self.fail_with: Exception | None = None

    async def __call__(self, events: list[TicketEvent]) -> list[dict[str, Any]]:
        """Record the batch, or raise ``fail_with``."""
        self.calls.append(events)
        if self.fail_with is not None:
            raise self.fail_with
        results: list[dict[str, Any]] = []
        for event in events:
            if event.event_id in self.seen:
                results.append({"event_id": event.event_id, "status": "duplicate", "incidents": []})
                continue
            self.seen.add(event.event_id)
            incidents = []
            if event.type is EventType.REJECTED:
                incidents.append({"id": f"inc-{event.event_id}", "kind": "rejected", "detail": event.reason})
            results.append({"event_id": event.event_id, "status": "recorded", "incidents": incidents})
        return results


ClientFactory = Callable[..., Coroutine[Any, Any, TestClient]]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Start intake apps on test servers; each is closed at the end of the test."""
    clients: list[TestClient] = []

    async def factory(*, secret: str | None = SECRET, recorder: FakeRecorder | None = None) -> TestClient:
        app = web.Application()
        setup_intake_routes(app, secret=secret, recorder=recorder or FakeRecorder(), received_now=lambda: RECEIVED)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
def recorder() -> FakeRecorder:
    """A fresh fake recorder."""
    return FakeRecorder()


@pytest.fixture
async def client(make_client: ClientFactory, recorder: FakeRecorder) -> TestClient:
    """A client of an intake app with the test secret and the fake recorder."""
    return await make_client(recorder=recorder)


async def post_signed(
    client: TestClient,
    payload: object = None,
    *,
    body: bytes | None = None,
    signature: str | None = "auto",
    content_type: str = "application/json",
) -> ClientResponse:
    """POST ``payload`` (or raw ``body``) signed with the test secret unless told otherwise."""
    raw = body if body is not None else json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": content_type}
    if signature == "auto":
        headers["X-Signature-256"] = sign(SECRET, raw)
    elif signature is not None:
        headers["X-Signature-256"] = signature
    return await client.post(URL, data=raw, headers=headers)


async def json_of(response: ClientResponse) -> Any:
    """The response's JSON body, checked against the OpenAPI document."""
    assert response.content_type == "application/json"
    body = await response.json()
    assert_matches_document(response.status, body)
    return body


def fields_of(body: dict[str, Any]) -> list[tuple[int, str]]:
    """The (index, field) pairs of a 400 body."""
    return [(error["index"], error["field"]) for error in body["errors"]]


# --- 200 ---------------------------------------------------------------------------------------


async def test_single_event_is_recorded(client: TestClient, recorder: FakeRecorder) -> None:
    response = await post_signed(client, make_event())
    assert response.status == 200
    assert await json_of(response) == {"results": [{"event_id": "valcour-1", "status": "recorded", "incidents": []}]}
    [[event]] = recorder.calls
    assert event.event_id == "valcour-1"
    assert event.type is EventType.SUBMITTED
    assert event.officer_number == "A1234"
    assert event.occurred_at == datetime(2024, 5, 1, 18, 30, tzinfo=UTC)
    assert event.violation is not None and event.violation.category is ViolationCategory.TRAFFIC
    assert event.violation.full_penalty == 162.0 and event.violation.waiver_penalty == 106.5
    assert event.received_at == RECEIVED


async def test_batch_is_recorded_in_order_with_incidents(client: TestClient, recorder: FakeRecorder) -> None:
    events = [
        make_event(event_id="e1"),
        make_event(event_id="e2", type="accepted", issued_at=...),
        make_event(event_id="e3", type="rejected", issued_at=..., reason="Statute not found"),
    ]
    response = await post_signed(client, {"events": events})
    assert response.status == 200
    body = await json_of(response)
    assert [r["event_id"] for r in body["results"]] == ["e1", "e2", "e3"]
    assert [r["status"] for r in body["results"]] == ["recorded"] * 3
    assert body["results"][2]["incidents"] == [{"id": "inc-e3", "kind": "rejected", "detail": "Statute not found"}]
    assert [e.event_id for e in recorder.calls[0]] == ["e1", "e2", "e3"]
    assert all(e.received_at == RECEIVED for e in recorder.calls[0])


async def test_duplicate_from_recorder_passes_through(client: TestClient, recorder: FakeRecorder) -> None:
    first = await post_signed(client, make_event())
    assert first.status == 200
    second = await post_signed(client, {"events": [make_event(), make_event(event_id="new")]})
    assert second.status == 200
    body = await json_of(second)
    assert [(r["event_id"], r["status"]) for r in body["results"]] == [("valcour-1", "duplicate"), ("new", "recorded")]


async def test_unknown_fields_are_ignored(client: TestClient, recorder: FakeRecorder) -> None:
    event = make_event(source="valcour", extra={"nested": [1, 2]})
    event["violation"]["court"] = "Burlington"
    response = await post_signed(client, {"events": [event], "sender": "valcour"})
    assert response.status == 200
    await json_of(response)
    assert len(recorder.calls) == 1


async def test_upper_case_hex_signature_is_accepted(client: TestClient) -> None:
    raw = json.dumps(make_event()).encode()
    hex_digest = sign(SECRET, raw).removeprefix("sha256=")
    response = await post_signed(client, body=raw, signature="sha256=" + hex_digest.upper())
    assert response.status == 200
    await json_of(response)


async def test_content_type_with_charset_is_accepted(client: TestClient) -> None:
    response = await post_signed(client, make_event(), content_type="application/json; charset=utf-8")
    assert response.status == 200
    await json_of(response)


async def test_chunked_body_under_the_limit_is_read(client: TestClient) -> None:
    raw = json.dumps(make_event()).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 16):
            yield raw[start : start + 16]

    headers = {"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)}
    response = await client.post(URL, data=chunks(), headers=headers)
    assert response.status == 200


# --- refusals in check order -------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, ""])
async def test_no_secret_configured_is_503(make_client: ClientFactory, secret: str | None) -> None:
    recorder = FakeRecorder()
    client = await make_client(secret=secret, recorder=recorder)
    response = await post_signed(client, body=b"x" * (MAX_BODY_BYTES + 10), signature=None, content_type="text/plain")
    assert response.status == 503
    await json_of(response)
    assert recorder.calls == []


async def test_body_over_one_mib_is_413_before_the_signature(client: TestClient, recorder: FakeRecorder) -> None:
    response = await post_signed(client, body=b" " * (MAX_BODY_BYTES + 1), signature=None)
    assert response.status == 413
    await json_of(response)
    assert recorder.calls == []


async def test_body_of_exactly_one_mib_is_not_413(client: TestClient) -> None:
    raw = json.dumps(make_event()).encode()
    raw = raw + b" " * (MAX_BODY_BYTES - len(raw))
    response = await post_signed(client, body=raw)
    assert response.status == 200


async def test_chunked_body_over_one_mib_is_413(client: TestClient, recorder: FakeRecorder) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * (64 * 1024)

    response = await client.post(URL, data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status == 413
    await json_of(response)
    assert recorder.calls == []


async def test_missing_signature_is_401(client: TestClient, recorder: FakeRecorder) -> None:
    response = await post_signed(client, make_event(), signature=None)
    assert response.status == 401
    await json_of(response)
    assert recorder.calls == []


@pytest.mark.parametrize(
    "signature",
    ["sha256=" + "0" * 64, "sha256=", "garbage", sign("other-secret", b"{}"), "sha1=" + "0" * 40, "sha256=ÿ" * 3],
)
async def test_bad_signature_is_401(client: TestClient, recorder: FakeRecorder, signature: str) -> None:
    response = await post_signed(client, make_event(), signature=signature)
    assert response.status == 401
    await json_of(response)
    assert recorder.calls == []


async def test_signature_of_a_tampered_body_is_401(client: TestClient, recorder: FakeRecorder) -> None:
    signed = json.dumps(make_event()).encode()
    tampered = json.dumps(make_event(officer_number="B9999")).encode()
    response = await post_signed(client, body=tampered, signature=sign(SECRET, signed))
    assert response.status == 401
    await json_of(response)
    assert recorder.calls == []


async def test_signature_is_checked_before_content_type(client: TestClient) -> None:
    response = await post_signed(client, make_event(), signature=None, content_type="text/plain")
    assert response.status == 401


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
async def test_wrong_content_type_is_415(client: TestClient, recorder: FakeRecorder, content_type: str) -> None:
    response = await post_signed(client, make_event(), content_type=content_type)
    assert response.status == 415
    await json_of(response)
    assert recorder.calls == []


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'{"event_id": "x",}', "{}".encode("utf-16"), b'{"a": "\xff"}', b"[" * 100_000, b"NaN"],
    ids=["broken", "empty", "trailing-comma", "utf16", "not-utf8", "deep-nesting", "nan"],
)
async def test_invalid_json_is_400(client: TestClient, recorder: FakeRecorder, raw: bytes) -> None:
    response = await post_signed(client, body=raw)
    assert response.status == 400
    body = await json_of(response)
    assert fields_of(body) == [(0, "body")]
    assert recorder.calls == []


# --- 400 for content ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 501])
async def test_batch_of_0_or_501_is_400(client: TestClient, recorder: FakeRecorder, count: int) -> None:
    events = [make_event(event_id=f"e{i}") for i in range(count)]
    response = await post_signed(client, {"events": events})
    assert response.status == 400
    body = await json_of(response)
    assert fields_of(body) == [(0, "events")]
    assert recorder.calls == []


async def test_batch_of_500_is_accepted(client: TestClient, recorder: FakeRecorder) -> None:
    response = await post_signed(client, {"events": [make_event(event_id=f"e{i}") for i in range(500)]})
    assert response.status == 200
    assert len((await json_of(response))["results"]) == 500


@pytest.mark.parametrize("payload", [{"events": None}, {"events": {"a": 1}}, [make_event()], "event", 3, None])
async def test_body_of_the_wrong_shape_is_400(client: TestClient, recorder: FakeRecorder, payload: object) -> None:
    response = await post_signed(client, payload)
    assert response.status == 400
    body = await json_of(response)
    assert fields_of(body) == [(0, "events")]
    assert recorder.calls == []


async def test_every_problem_of_every_event_is_listed(client: TestClient, recorder: FakeRecorder) -> None:
    events = [
        make_event(event_id="ok"),
        make_event(event_id="e1", type="lost", ticket_number="bad number!"),
        make_event(event_id="e2", officer_number=1234, judiciary_code="412", violation={"full_penalty": -5}),
        "not an event",
        make_event(event_id="e4", type="rejected", occurred_at="2024-05-01T14:30:00", reason=...),
    ]
    response = await post_signed(client, {"events": events})
    assert response.status == 400
    body = await json_of(response)
    assert fields_of(body) == [
        (1, "type"),
        (1, "ticket_number"),
        (2, "officer_number"),
        (2, "judiciary_code"),
        (2, "violation.full_penalty"),
        (3, "events"),
        (4, "occurred_at"),
        (4, "reason"),
    ]
    assert recorder.calls == [], "nothing from a request with a bad event is recorded"


async def test_single_bad_event_has_index_0(client: TestClient, recorder: FakeRecorder) -> None:
    response = await post_signed(client, make_event(type=None, event_id=7))
    assert response.status == 400
    assert fields_of(await json_of(response)) == [(0, "event_id"), (0, "type")]
    assert recorder.calls == []


async def test_duplicate_event_id_inside_a_batch_is_400(client: TestClient, recorder: FakeRecorder) -> None:
    events = [make_event(event_id="a"), make_event(event_id="b"), make_event(event_id="a")]
    response = await post_signed(client, {"events": events})
    assert response.status == 400
    body = await json_of(response)
    assert fields_of(body) == [(2, "event_id")]
    assert "event 0" in body["errors"][0]["message"]
    assert recorder.calls == []


async def test_wrong_json_types_everywhere_are_errors_not_crashes(client: TestClient, recorder: FakeRecorder) -> None:
    event = {
        "event_id": ["x"],
        "type": {"v": 1},
        "ticket_number": 5,
        "officer_number": True,
        "judiciary_code": 412,
        "occurred_at": 1714574400,
        "issued_at": False,
        "reason": 3,
        "violation": {"category": 1, "statute": [], "full_penalty": "10", "waiver_penalty": True},
    }
    response = await post_signed(client, event)
    assert response.status == 400
    assert {field for _, field in fields_of(await json_of(response))} == {
        "event_id",
        "type",
        "ticket_number",
        "officer_number",
        "judiciary_code",
        "occurred_at",
        "issued_at",
        "reason",
        "violation.category",
        "violation.statute",
        "violation.full_penalty",
        "violation.waiver_penalty",
    }
    assert recorder.calls == []


# --- recorder failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [StorageUnavailable("disk full"), StaleWrite("disk full")])
async def test_storage_unavailable_is_503_with_retry_after(
    client: TestClient, recorder: FakeRecorder, failure: Exception
) -> None:
    """A full disk, or (PostgreSQL) another replica writing the same records first: nothing kept, retry."""
    recorder.fail_with = failure
    response = await post_signed(client, make_event())
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    body = await json_of(response)
    assert "disk full" not in body["error"]


async def test_unexpected_error_is_500_without_a_traceback(
    client: TestClient, recorder: FakeRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.fail_with = KeyError("secret internals")
    with caplog.at_level(logging.ERROR, logger="intake.api"):
        response = await post_signed(client, make_event())
    assert response.status == 500
    body = await json_of(response)
    text = json.dumps(body)
    assert "Traceback" not in text and "secret internals" not in text and "KeyError" not in text
    assert any(record.exc_info and "valcour-1" in record.getMessage() for record in caplog.records)


async def test_recorder_returning_the_wrong_number_of_results_is_500() -> None:
    async def short_recorder(events: list[TicketEvent]) -> list[dict[str, Any]]:
        return []

    app = web.Application()
    setup_intake_routes(app, secret=SECRET, recorder=short_recorder)
    async with TestClient(TestServer(app)) as short_client:
        response = await post_signed(short_client, make_event())
        assert response.status == 500
        await json_of(response)


async def test_logs_carry_ids_and_status_but_never_bodies(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="intake"):
        await post_signed(client, make_event(reason="Officer Jane Roe misspelled it"))
        await post_signed(client, make_event(event_id="bad", officer_number="Jane Roe"))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "valcour-1" in text and "status=200" in text and "status=400" in text
    assert "Jane Roe" not in text


async def test_other_methods_are_405(client: TestClient) -> None:
    response = await client.get(URL)
    assert response.status == 405


# --- the CLI -------------------------------------------------------------------------------------


async def test_send_cli_signs_and_posts_a_file(
    client: TestClient,
    recorder: FakeRecorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": [make_event(event_id="cli-1")]}), encoding="utf-8")
    monkeypatch.setenv("TICKET_EVENTS_SECRET", SECRET)
    url = str(client.make_url(URL))
    code = await asyncio.to_thread(send.main, ["--url", url, str(path)])
    assert code == 0
    status, _, text = capsys.readouterr().out.partition("\n")
    assert status == "200"
    assert json.loads(text)["results"][0]["event_id"] == "cli-1"
    assert recorder.calls[0][0].event_id == "cli-1"


async def test_send_cli_reports_a_refusal_and_fails(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(make_event()), encoding="utf-8")
    monkeypatch.setenv("TICKET_EVENTS_SECRET", "wrong-secret")
    code = await asyncio.to_thread(send.main, ["--url", str(client.make_url(URL)), str(path)])
    assert code == 1
    assert capsys.readouterr().out.startswith("401\n")


def test_send_cli_needs_the_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKET_EVENTS_SECRET", raising=False)
    path = tmp_path / "e.json"
    path.write_text("{}", encoding="utf-8")
    assert send.main([str(path)]) == 2
