"""make demo-events' month of e-tickets: valid for the intake, in the past, and raising what it says it raises.

The month is a plain list of events (``month_of_tickets``); here it is checked against the intake's
wire models, replayed through the ticket use case over in-memory repositories, and sent through a
fake poster to read what it tells (``send_month``).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.policy import Requester
from domain.records import Actor, EventType, IncidentKind, Stamp, TicketEvent, officer_key
from intake.demo_events import DAYS, Step, main, month_of_tickets, send_month
from intake.wire import parse_events
from services import tickets
from services.context import AppContext
from services.notices import OfficerCard
from services.outcomes import Done
from settings import Settings
from tests.support import seed
from tests.support.factories import JB_AAD, POC_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

VERMONT = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
OFFICERS = ("A1234", "B2345")


def month(now: datetime = NOW, officers: Sequence[str] = OFFICERS, **options: Any) -> list[Step]:
    return month_of_tickets(
        options.pop("agency", "9000"), officers, options.pop("unknown", "C4567"), now=now, tz=VERMONT, **options
    )


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        datetime(2026, 12, 1, 5, 1, tzinfo=UTC),  # just after midnight in Vermont
        datetime(2026, 12, 2, 4, 59, tzinfo=UTC),  # just before midnight in Vermont
        datetime(2026, 3, 20, 12, 0, tzinfo=UTC),  # the month spans the start of daylight saving time
        datetime(2026, 11, 15, 12, 0, tzinfo=UTC),  # and its end
    ],
)
def test_every_event_is_valid_for_the_intake_and_has_happened_by_now(now: datetime) -> None:
    steps = month(now)
    parsed = parse_events({"events": [step.event for step in steps]}, received_at=now)
    assert len(parsed) == len(steps)
    assert len({step.event["event_id"] for step in steps}) == len(steps)
    for step, event in zip(steps, parsed, strict=True):
        assert event.occurred_at <= now, step
        assert event.issued_at is not None and event.issued_at <= event.occurred_at, step
        assert 1 <= step.day < DAYS
    first_day = now.astimezone(VERMONT).date() - timedelta(days=DAYS - 1)
    assert steps[0].occurred_at.astimezone(VERMONT).date() == first_day
    assert [step.occurred_at for step in steps] == sorted(step.occurred_at for step in steps)


def test_the_month_holds_every_case_the_demo_promises() -> None:
    steps = month()
    expected = Counter(kind for step in steps for kind in step.expect)
    assert expected == Counter(
        {
            IncidentKind.REJECTED: 1,
            IncidentKind.LATE_UPLOAD: 1,
            IncidentKind.PAYMENT_BEFORE_RECEIPT: 1,
            IncidentKind.MISSING_MUNICIPAL_PENALTIES: 1,
            IncidentKind.UNKNOWN_OFFICER: 1,
        }
    )
    accepted = [s for s in steps if s.event["type"] == "accepted" and s.event["officer_number"] == "A1234"]
    issued = sorted(datetime.fromisoformat(s.event["issued_at"]) for s in accepted)
    assert len(accepted) == 10 and issued[-1] - issued[0] > timedelta(days=7)
    ordinance = next(s for s in steps if IncidentKind.MISSING_MUNICIPAL_PENALTIES in s.expect).event["violation"]
    assert ordinance["category"] == "civil_ordinance" and "full_penalty" not in ordinance
    assert all(s.event["judiciary_code"] == "9000" for s in steps)
    numbers = [s.event["ticket_number"] for s in steps if s.event["type"] == "submitted"]
    assert all(number.startswith("VT-12011030-") for number in numbers)  # the run: Dec 1, 10:30 court time


def test_options_choose_the_agency_and_officers_and_one_officer_gets_both_parts() -> None:
    steps = month(agency="0123", officers=("D7777",), unknown="E8888", run="r1")
    assert {s.event["judiciary_code"] for s in steps} == {"0123"}
    assert {s.event["officer_number"] for s in steps} == {"D7777", "E8888"}
    assert len([k for s in steps for k in s.expect]) == 5
    three = month(officers=("A1234", "B2345", "F1111"))
    assert Counter(s.event["officer_number"] for s in three if s.event["type"] == "accepted")["F1111"] == 8


async def test_replayed_through_the_use_case_it_raises_what_it_says_and_its_officers_become_ready_as_it_says() -> None:
    steps = month()
    started = steps[0].occurred_at - timedelta(days=1)  # the package was in before the month began
    db = MemoryDatabase()
    added = Stamp(actor=Actor(aad_id=POC_AAD, name="Pat Poc"), at=started)
    await db.seed(
        seed.package(),
        seed.officer("A1234", added=added),
        seed.officer("B2345", first_name="Dana", last_name="Deputy", added=added),
    )
    notifier = RecordingNotifier()
    app = AppContext(settings=Settings.from_env({"JB_STAFF_IDS": JB_AAD}), db=db, notifier=notifier, clock=lambda: NOW)
    for step in steps:  # one request per event, as make demo-events sends them
        [result] = await tickets.record_events(app, [TicketEvent.model_validate(step.event)])
        assert result.status == "recorded"
        assert [incident.kind for incident in result.incidents] == list(step.expect), step.says

    def ready() -> list[str]:
        return [n.content.view.officer.officer_number for n in notifier.notices if isinstance(n.content, OfficerCard)]

    assert ready() == ["A1234"]
    assert not any(e.type is EventType.VOIDED for e in db.events.rows.values())

    # what the summary promises: Mark resolved on the second officer's four alerts makes it ready too
    staff = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
    troubles = db.incidents.of_officer(officer_key("9000", "B2345"))
    assert len(troubles) == 4
    for incident in troubles:
        assert isinstance(await tickets.resolve_incident(app, staff, incident.id), Done)
    assert ready() == ["A1234", "B2345"]


def _answering(kinds_for: dict[str, list[str]] | None = None) -> tuple[list[dict[str, Any]], Any]:
    """A fake intake: records what it was sent, answers 200 with the incidents given per event id."""
    sent: list[dict[str, Any]] = []

    def post(body: bytes) -> tuple[int, str]:
        event = json.loads(body)
        sent.append(event)
        kinds = (kinds_for or {}).get(event["event_id"], [])
        incidents = [{"id": f"i{len(sent)}", "kind": kind} for kind in kinds]
        return 200, json.dumps(
            {"results": [{"event_id": event["event_id"], "status": "recorded", "incidents": incidents}]}
        )

    return sent, post


def test_every_event_is_explained_as_it_is_sent() -> None:
    steps = month()
    answers = {s.event["event_id"]: [k.value for k in s.expect] for s in steps}
    sent, post = _answering(answers)
    out = io.StringIO()
    tally, stopped = send_month(steps, post, OFFICERS, out)
    assert stopped is None and tally.errors == 0 and tally.unexpected == 0
    assert tally.recorded == len(steps) == len(sent) and tally.alerts == 5
    lines = out.getvalue().splitlines()
    assert len(lines) == len(steps)
    rejected = next(line for line in lines if "rejects" in line)
    assert rejected.startswith("day  3 (Wed Nov 4): Odyssey rejects VT-12011030-")
    assert rejected.endswith(": plate state missing · alert: Odyssey rejected the e-ticket")


def test_a_refused_event_is_counted_and_shown_and_an_unexpected_answer_is_pointed_out() -> None:
    steps = month()[:3]
    out = io.StringIO()
    answers = iter([(400, '{"errors": [{"index": 0, "field": "type", "message": "bad"}]}')])

    def post(body: bytes) -> tuple[int, str]:
        event = json.loads(body)
        try:
            return next(answers)
        except StopIteration:
            incidents = [{"id": "x", "kind": "late_upload"}]
            return 200, json.dumps(
                {"results": [{"event_id": event["event_id"], "status": "recorded", "incidents": incidents}]}
            )

    tally, _ = send_month(steps, post, OFFICERS, out)
    assert tally.errors == 1 and tally.unexpected == 2
    assert "refused: HTTP 400" in out.getvalue() and "(expected: no alert)" in out.getvalue()


def test_a_package_officer_unknown_to_the_bot_stops_the_month_at_once_and_voids_that_e_ticket() -> None:
    steps = month()
    first = steps[0].event
    sent, post = _answering({first["event_id"]: ["unknown_officer"]})
    tally, stopped = send_month(steps, post, OFFICERS, io.StringIO())
    assert stopped is not None and "A1234 is in no Information Package of Judiciary Code 9000" in stopped
    assert [event["type"] for event in sent] == ["submitted", "voided"]
    assert sent[1]["ticket_number"] == first["ticket_number"] and sent[1]["event_id"] != first["event_id"]
    assert tally.recorded == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agency", "900"], "--agency"),
        (["--officers", "A12345"], "--officers"),
        (["--officers", "A1234,a1234"], "named twice"),
        (["--unknown-officer", "A1234"], "is one of --officers"),
    ],
)
def test_bad_options_are_refused_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--url", "http://127.0.0.1:9/api/ticket-events"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_without_a_secret_or_a_bot_it_says_so_and_exits_2(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TICKET_EVENTS_SECRET", raising=False)
    assert main(["--url", "http://127.0.0.1:9/x"]) == 2
    assert "no secret" in capsys.readouterr().err
    assert main(["--secret-file", str(tmp_path / "missing")]) == 2
    assert "is make demo running?" in capsys.readouterr().err
    (tmp_path / "secret").write_text("0123456789abcdef0123\n")
    assert main(["--secret-file", str(tmp_path / "secret"), "--url", "http://127.0.0.1:9/x"], out=io.StringIO()) == 2
    assert "cannot reach http://127.0.0.1:9/x" in capsys.readouterr().err
