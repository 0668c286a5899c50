"""Incident alert cards: what went wrong with an e-ticket, the answer deadline, and Mark resolved."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac
from adaptive_cards.types import ActionStyle, Colors, ContainerStyle, FontWeight

from cards.base import execute, facts, heading, notice, paragraph, render, with_refresh
from domain.calendar import AnswerWindow, format_instant
from domain.incidents import incident_text
from domain.records import Incident, IncidentKind, IncidentStatus, Officer, Package
from domain.views import agency_name
from vocabulary.verbs import Verb

CLOSED_WORDS: dict[IncidentStatus, str] = {IncidentStatus.RESOLVED: "RESOLVED", IncidentStatus.VOIDED: "CLOSED"}
"""What a closed alert's title starts with."""

TITLES: dict[IncidentKind, str] = {
    IncidentKind.REJECTED: "E-ticket rejected by Odyssey",
    IncidentKind.LATE_UPLOAD: "E-ticket uploaded late",
    IncidentKind.UPLOAD_BEFORE_ISSUE: "E-ticket uploaded before it was issued",
    IncidentKind.PAYMENT_BEFORE_RECEIPT: "Payment before the e-ticket arrived",
    IncidentKind.OUTSIDE_JURISDICTION: "E-ticket outside the JB's jurisdiction",
    IncidentKind.MISSING_MUNICIPAL_PENALTIES: "Municipal penalties missing",
    IncidentKind.UNKNOWN_OFFICER: "E-ticket from an unknown officer",
    IncidentKind.EVENT_ON_VOIDED: "Activity on a voided e-ticket",
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
    unknown = incident.kind is IncidentKind.UNKNOWN_OFFICER
    is_open = incident.status is IncidentStatus.OPEN
    pairs = [
        ("Ticket", incident.ticket_number),
        ("Officer", officer_text if not unknown else incident.officer_number),
        ("Agency", agency_text),
        # an unknown officer's detail already says exactly what is wrong: say it once
        ("Problem", incident.detail if unknown and incident.detail else incident_text(incident.kind)),
    ]
    if incident.detail and not unknown:
        pairs.append(("Reason from Odyssey" if incident.kind is IncidentKind.REJECTED else "Detail", incident.detail))
    pairs.append(("Answer deadline", window.text if is_open else window.dates_text))
    pairs.append(("Raised", format_instant(incident.raised_at, tz)))
    title = (
        TITLES[incident.kind] if is_open else f"{CLOSED_WORDS.get(incident.status, 'CLOSED')}: {TITLES[incident.kind]}"
    )
    body: list[Any] = [*heading(title, subtle="JB e-ticket monitoring (SOP 6.5)")]
    if urgency is not None and is_open:
        body.append(notice(urgency[0], kind=urgency[1]))
    body.append(facts(pairs))
    actions: list[Any] = []
    if is_open and unknown and package is not None:
        body.append(
            paragraph(
                "If this is one of the agency's officers, its Point-of-Contact can add them to the Information "
                "Package; their monitoring then begins.",
                is_subtle=True,
            )
        )
        actions.append(execute("Add this officer", Verb.ADD_FROM_ALERT.value, {"incident_id": incident.id}))
    if is_open:
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
        elif incident.status is IncidentStatus.SUPERSEDED:
            body.append(
                notice(
                    "Closed: events that arrived later, but happened earlier, show this no longer holds "
                    f"({format_instant(incident.closed.at, tz)}).",
                    kind="good",
                )
            )
        else:
            resolved = f"Resolved by {who} on {format_instant(incident.closed.at, tz)}."
            line = ac.TextBlock(text=resolved, wrap=True, color=Colors.GOOD, weight=FontWeight.BOLDER)
            body.append(ac.Container(items=[line], style=ContainerStyle.GOOD))
    card = render(body, actions)
    if is_open:
        card = with_refresh(card, Verb.REFRESH.value, {"card": "incident", "incident_id": incident.id})
    return card
