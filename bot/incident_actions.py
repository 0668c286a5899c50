"""Card actions on incident alerts."""

from __future__ import annotations

from bot.turn import Turn, action
from services.outcomes import Outcome
from services.tickets import resolve_incident
from vocabulary.verbs import Verb


class IncidentActions:
    """Mark resolved on an alert."""

    @action(Verb.RESOLVE)
    async def resolve(self, turn: Turn) -> Outcome:
        """Mark resolved: its agency's PoC or JB staff; every copy of the alert is updated."""
        incident_id = turn.data.get("incident_id")
        return await resolve_incident(turn.app, turn.requester, incident_id, shown=turn.pressed_message)
