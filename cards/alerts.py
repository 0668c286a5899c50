"""Incident alert cards: what went wrong with an e-ticket, the answer deadline, and Mark resolved."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards.types import ActionStyle

from cards.base import execute, facts, heading, notice, paragraph, render, with_refresh
from domain.calendar import AnswerWindow, format_instant
from domain.incidents import incident_text
from domain.records import Incident, IncidentKind, IncidentStatus, Officer, Package
from domain.views import agency_name
from vocabulary.verbs import Verb

TITLES: dict[IncidentKind, str] = {
    IncidentKind.REJECTED: "E-ticket rejected by Odyssey",
    IncidentKind.LATE_UPLOAD: "E-ticket uploaded late",
    IncidentKind.PAYMENT_BEFORE_RECEIPT: "Payment before the e-ticket arrived",
    IncidentKind.OUTSIDE_JURISDICTION: "E-ticket outside the JB's jurisdiction",
    IncidentKind.MISSING_MUNICIPAL_PENALTIES: "Municipal penalties missing",
    IncidentKind.UNKNOWN_OFFICER: "E-ticket from an unknown officer",
}


def incident_card(
    incident: Incident,
    officer: Officer | None,
    package: Package | None,
    window: AnswerWindow,
    tz: ZoneInfo,
    *,
    urgency: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The alert for one incident; open ones carry Mark resolved, closed ones say who closed it and when.

    ``urgency`` (text, kind) is a line on top of an open alert whose answer deadline is near or past. An
    open alert carries a Universal Actions refresh, so that its days left are those of the day it is seen.
    """
    officer_text = (
        f"{officer.full_name} ({incident.officer_number})"
        if officer
        else f"{incident.officer_number} (not in the package)"
    )
    agency_text = agency_name(package, incident.judiciary_code) + ("" if package else " (no package)")
    pairs = [
        ("Ticket", incident.ticket_number),
        ("Officer", officer_text),
        ("Agency", agency_text),
        ("Problem", incident_text(incident.kind)),
    ]
    if incident.detail:
        pairs.append(("Reason from Odyssey" if incident.kind is IncidentKind.REJECTED else "Detail", incident.detail))
    pairs.append(("Answer deadline", window.text))
    pairs.append(("Raised", format_instant(incident.raised_at, tz)))
    body: list[Any] = [*heading(TITLES[incident.kind], subtle="JB e-ticket monitoring (SOP 6.5)")]
    if urgency is not None and incident.status is IncidentStatus.OPEN:
        body.append(notice(urgency[0], kind=urgency[1]))
    body.append(facts(pairs))
    actions: list[Any] = []
    if incident.status is IncidentStatus.OPEN:
        body.append(
            paragraph(
                "The agency's Point-of-Contact or JB e-ticket staff can mark this resolved once it is fixed.",
                is_subtle=True,
            )
        )
        actions.append(
            execute("Mark resolved", Verb.RESOLVE.value, {"incident_id": incident.id}, style=ActionStyle.POSITIVE)
        )
    elif incident.closed is not None:
        who = incident.closed.actor.name or "the bot"
        if incident.status is IncidentStatus.VOIDED:
            body.append(
                notice(f"Closed: the ticket was voided ({format_instant(incident.closed.at, tz)}).", kind="good")
            )
        else:
            body.append(notice(f"Resolved by {who} on {format_instant(incident.closed.at, tz)}.", kind="good"))
    card = render(body, actions)
    if incident.status is IncidentStatus.OPEN:
        card = with_refresh(card, Verb.REFRESH.value, {"card": "incident", "incident_id": incident.id})
    return card
