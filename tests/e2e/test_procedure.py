"""The whole procedure in the Microsoft 365 Agents Playground, as the PoC and JB staff see it.

Two Playground instances drive one bot process: the agency's Point-of-Contact (with the agency's
team) and a JB staff member (with the JB team). Every step saves a screenshot in build/e2e/; a
step that does not show what it should fails with the screenshot's path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.harness import SHOTS, BotProcess, ChatPage

HELP_ONLY = "Type a command with or without the slash"
VERMONT = ZoneInfo("America/New_York")


def test_help_answers_in_personal_chat_and_in_a_channel(pages: dict[str, ChatPage], bot: BotProcess) -> None:
    assert "LOCAL MODE" in bot.log(), "make run without MicrosoftAppId must say loudly that it runs in local mode"
    poc = pages["poc"]
    poc.open_personal_chat()
    before = len(poc.cards_with(HELP_ONLY))
    poc.send("help")
    card = poc.wait_for_card_text(HELP_ONLY, "help-personal", more_than=before)
    assert "‹officer number›" in card.inner_text()
    poc.shot("help-personal-chat")

    poc.open_channel("Agency e-Tickets")
    before = len(poc.cards_with(HELP_ONLY))
    poc.send("/help", mention=True)
    card = poc.wait_for_card_text(HELP_ONLY, "help-channel", more_than=before)
    assert "/subscribe" in card.inner_text()
    poc.shot("help-team-channel")


def test_a_poc_sends_a_package_and_the_jb_acknowledges_it(pages: dict[str, ChatPage]) -> None:
    poc, jb = pages["poc"], pages["jb"]
    today = datetime.now(UTC).astimezone(VERMONT).date()

    jb.open_channel("JB e-Tickets")
    before = len(jb.cards_with("Alerts routed here"))
    jb.send("/subscribe jb", mention=True)
    jb.wait_for_card_text("Alerts routed here", "jb-subscribe", more_than=before)
    jb.shot("jb-channel-subscribed")

    poc.open_personal_chat()
    before = len(poc.cards_with("Step 1 of 5"))
    poc.send("/new-package")
    card = poc.wait_for_card_text("Step 1 of 5", "wizard-start", more_than=before)
    poc.choose(card, "Which records management system", "Valcour")
    poc.shot("wizard-1-records-system")
    poc.press(card, "Next")
    card = poc.wait_for_card_text("Step 2 of 5", "wizard-preconditions")
    poc.toggle(card, "Valcour installed")
    poc.toggle(card, "Officers trained")
    poc.shot("wizard-2-preconditions")
    poc.press(card, "Next")

    card = poc.wait_for_card_text("Step 3 of 5", "wizard-agency")
    poc.fill(card, "Agency name", "Williston Police Department")
    poc.fill(card, "Address on warning letterhead", "7928 Williston Rd, Williston, VT 05495")
    poc.fill(card, "Phone on warning letterhead", "(802) 878-6611")
    poc.fill(card, "Point-of-Contact name", "Pat Poc")
    poc.fill(card, "Point-of-Contact e-mail", "pat.poc@williston.example")
    poc.fill(card, "Judiciary Code", "900")
    poc.press(card, "Next")
    card = poc.wait_for_card_text("exactly 4 digits", "wizard-agency-error")
    poc.shot("wizard-3-agency-wrong-code")
    poc.fill(card, "Judiciary Code", "9000")
    poc.press(card, "Next")

    card = poc.wait_for_card_text("Step 4 of 5", "wizard-officers")
    for first, last, number, username in (
        ("Casey", "Officer", "a1234", "cofficer"),
        ("Dana", "Deputy", "B2345", "ddeputy"),
    ):
        poc.fill(card, "First name", first)
        poc.fill(card, "Last name", last)
        poc.fill(card, "Officer number", number)
        poc.fill(card, "DPS network username", username)
        poc.pick_date(card, "Expected start date", today)
        if number == "a1234":
            poc.shot("wizard-4-first-officer")
            poc.press(card, "Save and add another officer")
            card = poc.wait_for_card_text("A1234", "wizard-second-officer")
    poc.press(card, "Next: review")
    card = poc.wait_for_card_text("Step 5 of 5", "wizard-review")
    poc.shot("wizard-5-review")
    poc.press(card, "Submit")
    poc.wait_for_card_text("Information Package sent", "wizard-sent")
    poc.shot("package-sent-confirmation")

    card = jb.wait_for_card_text("Williston Police Department", "jb-package-card")
    assert "B2345" in card.inner_text() and "A1234" in card.inner_text()
    jb.shot("jb-channel-package-card")
    jb.press(card, "Acknowledge")
    jb.wait_for_card_text("Acknowledged by Jamie Staff", "jb-acknowledged")
    jb.shot("jb-channel-acknowledged")
    poc.wait_for_card_text("may begin issuing", "poc-acknowledgment")
    poc.shot("poc-acknowledgment-notice")


def _event(event_id: str, kind: str, number: str, ticket: str, issued: datetime, **fields: object) -> dict[str, object]:
    occurred = issued + timedelta(hours=1)
    return {
        "event_id": event_id,
        "type": kind,
        "ticket_number": ticket,
        "officer_number": number,
        "judiciary_code": "9000",
        "issued_at": issued.isoformat(),
        "occurred_at": occurred.isoformat(),
    } | fields


def test_a_rejected_e_ticket_alerts_the_agency_channel_and_mark_resolved_updates_it(
    pages: dict[str, ChatPage], bot: BotProcess
) -> None:
    poc = pages["poc"]
    poc.open_channel("Agency e-Tickets")
    before = len(poc.cards_with("Alerts routed here"))
    poc.send("/subscribe 9000", mention=True)
    poc.wait_for_card_text("Alerts routed here", "agency-subscribe", more_than=before)
    poc.shot("agency-channel-subscribed")

    issued = datetime.now(UTC) - timedelta(hours=5)
    answer = bot.post_events(
        [
            _event("e2e-1", "submitted", "B2345", "VT-2026-0001", issued),
            _event("e2e-2", "rejected", "B2345", "VT-2026-0001", issued, reason="Plate state missing"),
        ]
    )
    assert [result["status"] for result in answer["results"]] == ["recorded", "recorded"]
    card = poc.wait_for_card_text("E-ticket rejected by Odyssey", "alert-in-agency-channel")
    text = card.inner_text()
    assert "VT-2026-0001" in text and "Plate state missing" in text and "answer due" in text
    poc.shot("agency-channel-rejected-alert")
    poc.press(card, "Mark resolved")
    resolved = poc.wait_for_card_text("Resolved by Pat Poc", "alert-resolved")
    poc.shot("agency-channel-alert-resolved")
    resolved.screenshot(path=str(SHOTS / "alert-resolved-card.png"))  # the whole card, at the same width


def test_an_officer_with_a_clean_week_is_approved_by_the_jb(pages: dict[str, ChatPage], bot: BotProcess) -> None:
    poc, jb = pages["poc"], pages["jb"]
    # only e-tickets issued after monitoring began count, and readiness needs a week: the story clock of the
    # local-mode bot moves forward between e-tickets issued 0, 2, 5 and 8 days after the package
    start = datetime.now(UTC) + timedelta(minutes=5)
    for days in (0, 2, 5, 8):
        issued = start + timedelta(days=days)
        bot.move_clock(issued + timedelta(hours=2))
        answer = bot.post_events([_event(f"e2e-ok-{days}", "accepted", "A1234", f"VT-2026-01{days:02d}", issued)])
        assert all(result["status"] == "recorded" and not result["incidents"] for result in answer["results"])

    jb.open_channel("JB e-Tickets")
    card = jb.wait_for_card_text("Ready for approval", "readiness-card", timeout=30)
    assert "A1234" in card.inner_text()
    jb.shot("jb-channel-readiness-card")
    jb.press(card, "Approve")
    jb.wait_for_card_text("Approved by Jamie Staff", "approved-in-place")
    jb.shot("jb-channel-approved")

    poc.open_personal_chat()
    notice = poc.wait_for_card_text("is approved to issue e-tickets", "poc-approval-notice", timeout=30)
    assert "fully authorized" in notice.inner_text()
    poc.shot("poc-approval-notice")


def test_the_jb_sees_the_weekly_digest_with_its_charts(pages: dict[str, ChatPage], bot: BotProcess) -> None:
    jb = pages["jb"]
    jb.open_personal_chat()
    before = len(jb.cards_with("Weekly e-ticket digest"))
    jb.send("/digest")
    card = jb.wait_for_card_text("Weekly e-ticket digest", "jb-digest", more_than=before)
    text = card.inner_text()
    assert "All agencies" in text and "Williston Police Department" in text
    assert "Ready for approval" in text and "Open incidents" in text
    charts = card.locator("svg").count()
    fallback = "Week of " in text  # the bar chart's fallback facts ("Week of Nov 23")
    assert charts >= 2 or fallback, "the digest shows its charts, or their fallback"
    jb.page.wait_for_timeout(1000)  # let the charts finish drawing
    jb.shot("jb-digest")
    card.screenshot(path=str(SHOTS / "jb-digest-card.png"))
