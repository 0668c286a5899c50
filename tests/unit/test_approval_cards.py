"""Approval cards (readiness, confirm, extend, approval notice, withdraw, /status, /audit) validate for Teams."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.audit import audit_card
from cards.base import teams_findings
from cards.readiness import (
    approval_notice_card,
    approve_confirm_card,
    extend_card,
    officer_card,
    withdraw_choice_card,
    withdraw_confirm_card,
    withdrawn_notice_card,
)
from cards.status import status_card
from domain.readiness import assess_readiness
from domain.records import Actor, EventType, Extension, Officer, OfficerState, Stamp, TicketEvent
from domain.views import ListPage, OfficerView, Row, paginate
from tests.support.seed import officer as seed_officer
from tests.support.seed import package as seed_package

TZ = ZoneInfo("America/New_York")
JB = Actor(aad_id="22222222-2222-4222-8222-222222222222", name="Jamie Staff")
AT = datetime(2026, 11, 30, 20, 5, tzinfo=UTC)
TEAMS_LIMIT = 28 * 1024


def accepted(count: int) -> list[TicketEvent]:
    start = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    return [
        TicketEvent(
            event_id=f"e{i}",
            type=EventType.ACCEPTED,
            ticket_number=f"VT-{i}",
            officer_number="A1234",
            judiciary_code="9000",
            occurred_at=start + timedelta(days=2 * i),
            issued_at=start + timedelta(days=2 * i),
        )
        for i in range(count)
    ]


def view(officer: Officer | None = None, count: int = 4, today: date = date(2026, 11, 30)) -> OfficerView:
    officer = officer or seed_officer()
    return OfficerView(officer, seed_package(), assess_readiness(officer, accepted(count), [], today, TZ), 0, TZ)


def texts(card: dict[str, Any]) -> str:
    return json.dumps(card)


def valid(card: dict[str, Any]) -> dict[str, Any]:
    assert teams_findings(card) == []
    assert card["version"] == "1.5"
    assert len(json.dumps(card).encode()) < TEAMS_LIMIT
    return card


def test_readiness_card_has_the_facts_and_both_buttons() -> None:
    card = valid(officer_card(view()))
    text = texts(card)
    for expected in (
        "Ready for approval",
        "Casey Officer (A1234)",
        "Williston Police Department (9000)",
        "Accepted e-tickets",
        "Mon Nov 2, 2026",
        "none open",
    ):
        assert expected in text
    actions = card["actions"]
    assert [a["title"] for a in actions] == ["Approve", "Extend monitoring"]
    assert all(a["type"] == "Action.Execute" for a in actions)
    assert actions[0]["data"] | {} == {"verb": "officer.approve", "judiciary_code": "9000", "officer_number": "A1234"}


def test_not_ready_card_lists_what_is_missing() -> None:
    card = valid(officer_card(view(count=2)))
    assert "Not yet met" in texts(card) and "2 of 3 accepted" in texts(card)


def test_approved_card_says_who_and_when_and_has_no_buttons() -> None:
    approved = seed_officer().model_copy(
        update={"state": OfficerState.APPROVED, "approved": Stamp(actor=JB, at=AT), "approval_date": date(2026, 11, 30)}
    )
    card = valid(officer_card(view(approved)))
    assert "Approved by Jamie Staff on Nov 30, 2026 3:05 PM EST" in texts(card)
    assert "actions" not in card


def test_confirm_card_asks_and_lists_missing() -> None:
    card = valid(approve_confirm_card(view(count=2)))
    assert "2 of 3 accepted" in texts(card)
    assert [a["verb"] for a in card["actions"]] == ["officer.approve_confirm", "card.cancel"]


def test_extend_card_has_labelled_required_inputs_and_errors_beside_them() -> None:
    card = valid(
        extend_card(
            view(),
            date(2026, 11, 30),
            {"until": "2026-11-01", "reason": ""},
            {"until": "Extend monitoring through must be today (Mon Nov 30, 2026) or later."},
        )
    )
    inputs = [e for e in card["body"] if e["type"].startswith("Input.")]
    assert [(i["id"], i["label"], i["isRequired"]) for i in inputs] == [
        ("until", "Extend monitoring until", True),
        ("reason", "Reason", True),
    ]
    assert all(i.get("errorMessage") for i in inputs)
    assert inputs[0]["min"] == "2026-11-30" and inputs[0]["value"] == "2026-11-01"
    ids = [e.get("id") for e in card["body"]]
    error_at = ids.index("until") + 1
    assert "or later" in card["body"][error_at]["text"]
    assert [a["title"] for a in card["actions"]] == ["Submit", "Cancel"]


def test_extended_card_shows_the_extension() -> None:
    extended = seed_officer().model_copy(
        update={
            "extension": Extension(
                until=date(2026, 12, 7), reason="Two corrections needed", granted=Stamp(actor=JB, at=AT)
            )
        }
    )
    card = valid(officer_card(view(extended)))
    assert "Monitoring extended by Jamie Staff" in texts(card) and "Tue Dec 8" not in texts(card)
    assert "Mon Dec 7, 2026" in texts(card) and "Two corrections needed" in texts(card)


def test_notices_and_withdraw_cards_validate() -> None:
    approved = seed_officer().model_copy(
        update={"state": OfficerState.APPROVED, "approved": Stamp(actor=JB, at=AT), "approval_date": date(2026, 11, 30)}
    )
    notice = valid(approval_notice_card(view(approved)))
    assert "fully authorized to submit Vermont Civil Violation Complaints electronically" in texts(notice)
    valid(withdraw_confirm_card(seed_officer(), seed_package()))
    valid(withdraw_choice_card([(seed_officer(), seed_package()), (seed_officer(judiciary_code="9001"), None)]))
    withdrawn = seed_officer().model_copy(update={"state": OfficerState.WITHDRAWN, "withdrawn": Stamp(actor=JB, at=AT)})
    valid(withdrawn_notice_card(view(withdrawn)))
    valid(officer_card(view(withdrawn)))


@pytest.mark.parametrize("page_number", [1, 4, 8])
def test_a_long_status_list_pages_under_the_teams_limit(page_number: int) -> None:
    long_name = "N" * 100
    rows = [
        Row(
            "In monitoring",
            f"{long_name} {long_name} (A{i:04d}) · {'Agency ' * 14} (9000)",
            "In monitoring: 2 of 3 accepted, 4 of 7 days, 1 of the last 3 accepted e-tickets had a problem, 2 open incidents",
        )
        for i in range(200)
    ]
    page = paginate("status", "E-ticket monitoring status", "200 in monitoring", rows, page_number, 25, "", "none")
    card = valid(status_card(page))
    assert page.pages == 8
    titles = [a["title"] for a in card.get("actions", [])]
    assert titles == {1: ["Next page"], 4: ["Previous page", "Next page"], 8: ["Previous page"]}[page_number]


def test_audit_card_validates() -> None:
    rows = [
        Row("History", f"Nov 30, 2026 3:05 PM EST · Approved {i}", "By Jamie Staff (2222) · " + "x" * 600)
        for i in range(15)
    ]
    valid(audit_card(ListPage("audit", "Audit history of A1234", "Casey", tuple(rows), 1, 2, 30, "A1234", "none")))


def test_the_approval_notice_says_what_was_missing_when_staff_approved_an_officer_not_ready() -> None:
    approved = seed_officer().model_copy(
        update={"state": OfficerState.APPROVED, "approved": Stamp(actor=JB, at=AT), "approval_date": date(2026, 11, 30)}
    )
    not_ready = view(seed_officer(), count=1)  # readiness as it stood when Approve was confirmed
    notice = texts(valid(approval_notice_card(replace(not_ready, officer=approved))))
    assert "received all of the most recently submitted" not in notice
    assert "not every condition of monitoring was met" in notice and "1 of 3 accepted" in notice
    ready = texts(approval_notice_card(replace(view(seed_officer()), officer=approved)))
    assert "received all of the most recently submitted" in ready
