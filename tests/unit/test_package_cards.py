"""Cards of the Information Package: Chart 1 layout, every wizard step valid for Teams (schema 1.5, 28 KB)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.base import teams_findings
from cards.common import message_card
from cards.package import (
    REVIEW_PAGE_SIZE,
    AgencySummary,
    OfficerRow,
    StepFrame,
    acknowledgment_card,
    agency_card,
    choose_agency_card,
    confirmation_card,
    jb_package_card,
    officers_added_card,
    officers_card,
    package_card,
    preconditions_card,
    records_system_card,
    referral_card,
    resume_card,
    review_card,
)
from domain.records import Actor, Agency, Officer, OfficerState, Package, Stamp
from domain.validation import AGENCY_FIELDS, FIELD_RULES, OFFICER_FIELDS
from domain.views import OfficersAddedView, ReadinessRule

TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 21)
AT = datetime(2026, 11, 21, 15, 5, tzinfo=UTC)
POC = Actor(aad_id="poc-1", name="Pat Poc")
TEAMS_LIMIT = 28 * 1024


def agency(**changes: str) -> Agency:
    base = Agency(
        judiciary_code="0123",
        agency_name="Williston Police Department",
        letterhead_address="7928 Williston Road, Williston, VT 05495",
        letterhead_phone="(802) 878-6611",
        poc_name="Pat Poc",
        poc_email="pat.poc@williston.example",
    )
    return base.model_copy(update=changes)


def package(**changes: Any) -> Package:
    return Package(agency=agency(), poc=POC, submitted=Stamp(actor=POC, at=AT)).model_copy(update=changes)


def officer(number: str = "A1234", **changes: Any) -> Officer:
    base = Officer(
        judiciary_code="0123",
        officer_number=number,
        first_name="Casey",
        last_name="Officer",
        dps_username="cofficer",
        start_date=date(2026, 12, 1),
        added=Stamp(actor=POC, at=AT),
    )
    return base.model_copy(update=changes)


def longest_officers(count: int) -> list[Officer]:
    """Officers whose every field is as long as the rules allow (the worst case for card size)."""
    return [
        officer(f"A{index:04d}", first_name="F" * 100, last_name="L" * 100, dps_username="u" * 64)
        for index in range(count)
    ]


def frame(step: str = "agency", **changes: Any) -> StepFrame:
    return replace(
        StepFrame(wizard_id="w1", step=step, title="New Information Package: Agency", number=3, count=5), **changes
    )


def rows(count: int, *, longest: bool = False) -> list[OfficerRow]:
    size = 100 if longest else 6
    return [
        OfficerRow(
            f"A{index:04d}",
            "F" * size,
            "L" * size,
            "u" * (64 if longest else 6),
            "2026-12-01",
            notes=("A0001 is also in the package of Other PD (0456).",) if index == 1 else (),
        )
        for index in range(count)
    ]


def strings(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def valid(card: dict[str, Any]) -> dict[str, Any]:
    assert teams_findings(card) == []
    assert len(json.dumps(card).encode()) <= TEAMS_LIMIT
    return card


def nodes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every element of a card, depth first."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def all_inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def test_chart_1_shows_every_agency_and_officer_field_and_the_approval_date_column() -> None:
    approved = officer("B2345", first_name="Dana", state=OfficerState.APPROVED, approval_date=date(2026, 12, 9))
    withdrawn = officer("C3456", state=OfficerState.WITHDRAWN)
    card = valid(package_card(package(), [officer(), approved, withdrawn], TZ))
    text = strings(card)
    for value in (*(getattr(agency(), name) for name in AGENCY_FIELDS),):
        assert value in text
    for header in (
        "Agency Name",
        "Judiciary Code",
        "Point-of-Contact",
        "First Name",
        "Last Name",
        "Officer Number",
        "DPS Network Username",
        "Expected Start Date",
        "Approval Date",
    ):
        assert header in text
    for value in (
        "Casey",
        "Officer",
        "A1234",
        "cofficer",
        "Tue Dec 1, 2026",
        "In monitoring",
        "Wed Dec 9, 2026",
        "Withdrawn",
    ):
        assert value in text
    # one block per officer (number and name, then Chart 1's columns as label: value), never a wide table
    assert not any(node.get("type") == "Table" for node in nodes(card))
    blocks = [node for node in nodes(card) if node.get("type") == "FactSet" and "Approval Date" in str(node)]
    assert len(blocks) == 3
    assert [fact["title"] for fact in blocks[0]["facts"]][-1] == "Approval Date"
    assert "A1234 · Casey Officer" in text


def test_chart_1_labels_fit_the_title_column_so_no_word_breaks_at_the_playgrounds_width() -> None:
    """The Playground (like Teams) gives the facts' titles a narrow column: "Point-of-Contact e-mail" (23
    characters) came out as "e-" / "mail" (issue 14's screenshots); "Address (letterhead)" fits on one line."""
    card = package_card(package(), [officer()], TZ)
    titles = [fact["title"] for node in nodes(card) if node.get("type") == "FactSet" for fact in node["facts"]]
    assert "Contact e-mail" in titles
    assert max(len(title) for title in titles) <= len("Address (letterhead)"), titles


def test_a_confirmation_the_jb_has_not_seen_says_so_below_its_title_and_subtitle() -> None:
    """Issue 14's screenshot: the warning stood between the title and its subtitle."""
    card = valid(confirmation_card(package(), [officer()], TZ, jb_reached=False))
    texts = [block.get("text", "") for block in card["body"][:4]]
    assert texts[0] == "Information Package sent" and texts[1].endswith("Judiciary Code 0123")
    assert "have not connected to this bot in Teams yet" in json.dumps(card["body"][2])
    assert texts[3].startswith("Stored for the Judicial Bureau.")


def test_every_wizard_step_is_valid_with_errors_beside_fields() -> None:
    every_error = {field_id: FIELD_RULES[field_id].message for field_id in (*AGENCY_FIELDS, *OFFICER_FIELDS)}
    cards = [
        records_system_card(frame("records_system", number=1), None, {"records_system": "Choose one."}),
        preconditions_card(
            frame("preconditions", number=2),
            {"valcour_installed": True},
            {"officers_trained": "Your officers must be trained."},
        ),
        agency_card(frame(message="Please correct the answers marked below."), {"judiciary_code": "900"}, every_error),
        officers_card(
            frame("officers", number=4),
            agency_line="Williston PD (0123)",
            saved=rows(3),
            draft={"officer_number": "x"},
            draft_index=None,
            errors=every_error,
            today=TODAY,
        ),
        officers_card(
            frame("officers", number=4),
            agency_line="",
            saved=rows(2),
            draft=None,
            draft_index=None,
            errors={},
            today=TODAY,
        ),
        choose_agency_card(
            frame("choose_agency", number=1, count=3),
            [("0123", "Williston PD"), ("0456", "Other PD")],
            {"judiciary_code": "Choose an agency."},
        ),
        review_card(
            frame("review", number=5),
            agency=AgencySummary(
                *(
                    getattr(agency(), n)
                    for n in (
                        "judiciary_code",
                        "agency_name",
                        "letterhead_address",
                        "letterhead_phone",
                        "poc_name",
                        "poc_email",
                    )
                )
            ),
            officers=rows(2),
            new_package=True,
            records_system="valcour",
            attested=True,
        ),
        resume_card("w1", "Officers", what="Information Package", restart={"mode": "new", "args": ""}),
        referral_card(),
        message_card("Cancelled", "Nothing was sent."),
    ]
    for card in cards:
        valid(card)
    agency_inputs = {node["id"]: node for node in all_inputs(cards[2])}
    for field_id in AGENCY_FIELDS:
        assert (
            agency_inputs[field_id]["label"]
            and agency_inputs[field_id]["isRequired"]
            and agency_inputs[field_id]["errorMessage"]
        )
    assert agency_inputs["judiciary_code"]["regex"] == FIELD_RULES["judiciary_code"].pattern
    assert agency_inputs["judiciary_code"]["value"] == "900"
    officer_inputs = {node["id"]: node for node in all_inputs(cards[3])}
    assert officer_inputs["officer_number"]["regex"] == "^[A-Za-z][0-9]{4}$"
    assert officer_inputs["start_date"]["type"] == "Input.Date" and officer_inputs["start_date"]["min"] == "2026-11-21"
    assert all(node.get("label") for card in cards for node in all_inputs(card))
    body = cards[2]["body"]
    position = next(i for i, item in enumerate(body) if item.get("id") == "judiciary_code")
    assert (
        body[position + 1]["text"] == FIELD_RULES["judiciary_code"].message
        and body[position + 1]["color"] == "attention"
    )


def test_wizard_buttons_carry_the_wizard_and_step_and_skip_inputs_where_they_would_block() -> None:
    card = agency_card(frame(), {}, {})
    by_title = {action["title"]: action for action in card["actions"]}
    assert by_title["Next"]["data"] == {"verb": "wizard.next", "wizard": "w1", "step": "agency"}
    assert by_title["Cancel"]["associatedInputs"] == "none" and by_title["Back"]["associatedInputs"] == "none"
    assert "associatedInputs" not in by_title["Next"]


@pytest.mark.parametrize("count", [1, 20, REVIEW_PAGE_SIZE, 60])
def test_the_review_stays_under_the_teams_size_limit_with_many_officers(count: int) -> None:
    summary = AgencySummary(
        "0123", "A" * 100, "B" * 300, "(802) 878-6611 ext 123456", "P" * 100, "p" * 60 + "@example.vt.gov"
    )
    card = valid(
        review_card(
            frame("review", number=5),
            agency=summary,
            officers=rows(count, longest=True),
            new_package=True,
            records_system="valcour",
            attested=True,
        )
    )
    text = strings(card)
    assert f"({count})" in text
    if count > REVIEW_PAGE_SIZE:
        assert "More officers" in text and f"Officers 1–{REVIEW_PAGE_SIZE} of {count}" in text
        last = valid(
            review_card(
                frame("review", number=5), agency=summary, officers=rows(count, longest=True), new_package=True, page=2
            )
        )
        assert "Previous officers" in strings(last) and "More officers" not in strings(last)


def test_the_officer_step_stays_under_the_limit_with_twenty_officers_entered() -> None:
    valid(
        officers_card(
            frame("officers", number=4),
            agency_line="x",
            saved=rows(20, longest=True),
            draft={},
            draft_index=None,
            errors={},
            today=TODAY,
        )
    )


@pytest.mark.parametrize("page", [None, 0, 16, 33])
def test_the_officer_step_pages_so_a_package_of_500_officers_can_be_entered(page: int | None) -> None:
    card = valid(
        officers_card(
            frame("officers", number=4),
            agency_line="x",
            saved=rows(500, longest=True),
            draft={},
            draft_index=None,
            errors={},
            today=TODAY,
            page=page,
        )
    )
    text = strings(card)
    assert "Officers in this package so far: 500" in text
    shown = [row for row in rows(500) if f'"**{row.officer_number}**' in text or f"**{row.officer_number}** " in text]
    assert len(shown) == (5 if page in (None, 33) else 15)  # 500 = 33 pages of 15 and one of 5
    titles = [a.get("title") for node in card["body"] if node.get("type") == "ActionSet" for a in node["actions"]]
    assert ("More officers" in titles) == (page not in (None, 33)) and ("Previous officers" in titles) == (page != 0)


def test_the_jb_card_has_acknowledge_until_acknowledged_and_then_says_who_and_when() -> None:
    card = valid(jb_package_card(package(), longest_officers(20), TZ))
    assert (
        card["actions"][0]["verb"] == "package.acknowledge" and card["actions"][0]["data"]["judiciary_code"] == "0123"
    )
    done = valid(
        jb_package_card(
            package(acknowledged=Stamp(actor=Actor(aad_id="jb-1", name="Jo Bureau"), at=AT)), [officer()], TZ
        )
    )
    assert "actions" not in done
    assert "Acknowledged by Jo Bureau on Nov 21, 2026 10:05 AM EST." in strings(done)


def test_confirmation_added_and_acknowledgment_cards() -> None:
    assert "digital copy" in strings(valid(confirmation_card(package(), longest_officers(20), TZ)))
    assert "2 officers added" in strings(valid(confirmation_card(package(), [officer()], TZ, added=2)))
    assert "added 2 officers" in strings(
        valid(
            officers_added_card(
                OfficersAddedView(package(), (officer(), officer("B2345")), Stamp(actor=POC, at=AT)), TZ
            )
        )
    )
    rule = ReadinessRule(min_accepted=4, min_days=10, clean_streak=2)
    notice = strings(
        valid(acknowledgment_card(package(), Stamp(actor=Actor(aad_id="jb-1", name="Jo Bureau"), at=AT), TZ, rule))
    )
    # the notice states the rule the bot applies, from the settings (not SOP 6.3's "first 3 to 5")
    assert "These officers may begin issuing e-tickets" in notice and "3 to 5" not in notice
    assert "at least 4 of their e-tickets" in notice and "at least 10 days" in notice and "2 most recent" in notice


def test_large_packages_are_paged_so_every_card_stays_under_the_limit() -> None:
    from cards.package import CHART_PAGE_SIZE, package_cards

    officers = longest_officers(60)
    cards = package_cards(package(), officers, TZ)
    assert len(cards) == 3
    for card in cards:
        valid(card)
    assert f"(1–{CHART_PAGE_SIZE} of 60)" in strings(cards[0]) and "(51–60 of 60)" in strings(cards[2])
    assert "A0059" in strings(cards[2]) and "A0059" not in strings(cards[0])
    jb = valid(jb_package_card(package(), officers, TZ))
    # the JB's card pages like /package: More officers instead of "type /package"
    assert "type /package" not in strings(jb) and "A0024" in strings(jb) and "A0025" not in strings(jb)
    more = next(a for a in jb["actions"] if a["title"] == "More officers")
    assert more["verb"] == "package.page" and more["data"]["first"] == CHART_PAGE_SIZE
    second = valid(jb_package_card(package(), officers, TZ, first=more["data"]["first"]))
    assert "A0025" in strings(second) and {a["title"] for a in second["actions"]} >= {
        "Previous officers",
        "More officers",
    }
    assert len(package_cards(package(), [], TZ)) == 1
