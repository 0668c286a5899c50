"""Card actions on incident alerts."""

from __future__ import annotations

from bot.turn import ActionHandler, ActionResult, Turn
from cards.common import with_notice
from services.tickets import resolve_incident


def resolve_action() -> ActionHandler:
    """Mark resolved: its agency's PoC or JB staff; every copy of the alert is updated."""

    async def handle(turn: Turn) -> ActionResult:
        """Resolve the incident named in the card's data."""
        incident_id = turn.data.get("incident_id")
        outcome = await resolve_incident(
            turn.app,
            turn.actor,
            incident_id if isinstance(incident_id, str) else "",
            is_jb_staff=turn.is_jb_staff,
            pressed_activity=turn.context.activity.reply_to_id,
        )
        card = (
            with_notice(outcome.card, outcome.message, kind=outcome.message_kind) if outcome.message else outcome.card
        )
        return ActionResult(card, update_message=outcome.changed)

    return handle
