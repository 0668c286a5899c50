"""Incident alert cards: what went wrong with an e-ticket, the answer deadline, and Mark resolved."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards.types import ActionStyle

from cards.base import execute, facts, heading, notice, paragraph, render
from domain.calendar import AnswerWindow, format_instant
from domain.incidents import incident_text
from domain.records import Incident, IncidentKind, IncidentStatus, Officer, Package
from domain.views import agency_name
from vocabulary.verbs import Verb

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
    incident: Incident, officer: Officer | None, package: Package | None, window: AnswerWindow, tz: ZoneInfo
) -> dict[str, Any]:
    """The alert for one incident; open ones carry Mark resolved, closed ones say who closed it and when."""
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
    body: list[Any] = [*heading(TITLES[incident.kind], subtle="JB e-ticket monitoring (SOP 6.5)"), facts(pairs)]
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
        elif incident.status is IncidentStatus.SUPERSEDED:
            body.append(
                notice(
                    "Closed: events that arrived later, but happened earlier, show this no longer holds "
                    f"({format_instant(incident.closed.at, tz)}).",
                    kind="good",
                )
            )
        else:
            body.append(notice(f"Resolved by {who} on {format_instant(incident.closed.at, tz)}.", kind="good"))
    return render(body, actions)
