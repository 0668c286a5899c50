"""Universal Actions refresh: a card as it stands now, for whoever Teams shows a copy of it to.

An alert or readiness card carries ``refresh`` (verb ``card.refresh``) with the record's ids; Teams
invokes it when the card is seen (automatically for the users in ``refresh.userIds``, by hand for
others). The answer is the card drawn now, so its days left and readiness are today's. Card data is
untrusted: the card is only drawn for a conversation that holds a copy of it (or the agency's
channel), or for someone the policy lets see the agency's status; anyone else is refused with no data.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.policy import Action, Requester, who_may
from domain.records import Package
from services.access import allowed
from services.approval import find_officer, view_of
from services.context import AppContext
from services.notices import IncidentAlert, OfficerCard, incident_subject, readiness_subject
from services.outcomes import NotFound, Outcome, Refused, Shown
from services.tickets import alert_view


def _copy_here(app: AppContext, subject: str, place: str, package: Package | None) -> bool:
    """Whether this conversation was sent a copy of the card (or is the agency's own channel)."""
    if package is not None and app.db.subscriptions.conversation_for(package.judiciary_code) == place:
        return True
    return any(entry.conversation_id == place for entry in app.db.outbox.of_subject(subject))


def card_now(app: AppContext, requester: Requester, place: str, data: Mapping[str, object]) -> Outcome:
    """The card a refresh names, drawn now: ``Shown(IncidentAlert | OfficerCard)``, ``Refused`` or ``NotFound``."""
    kind = data.get("card")
    if kind == "incident":
        incident_id = data.get("incident_id")
        incident = app.db.incidents.get(incident_id) if isinstance(incident_id, str) else None
        if incident is None:
            return NotFound("incident")
        package = app.db.packages.get(incident.judiciary_code)
        subject = incident_subject(incident.id)
        content: IncidentAlert | OfficerCard = IncidentAlert(alert_view(app, incident))
    elif kind == "readiness":
        officer = find_officer(app, data.get("judiciary_code"), data.get("officer_number"))
        if officer is None:
            return NotFound("officer")
        package = app.db.packages.get(officer.judiciary_code)
        subject = readiness_subject(officer.key)
        tools = data.get("tools") is True and requester.is_staff  # JB staff's own copy (Return, End extension)
        content = OfficerCard(view_of(app, officer), with_actions=data.get("actions") is not False, tools=tools)
    else:
        return NotFound("card")
    if not (_copy_here(app, subject, place, package) or allowed(app, requester, Action.SEE_AGENCY_STATUS, package)):
        return Refused(who_may(Action.SEE_AGENCY_STATUS))
    return Shown(content)
