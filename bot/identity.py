"""Who may talk to the bot at all: Teams (or the Emulator, in local mode), and a person with an Azure AD object id.

Checked on the raw activity in ``app.py`` ``messages()``, after its shape and before botbuilder runs a
turn, so that a refused activity leaves nothing behind (no conversation reference, no state).
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import ActivityTypes
from botframework.connector import Channels

ACTING_TYPES = frozenset({ActivityTypes.message.value, ActivityTypes.invoke.value})
"""Activities in which a person does something (types a command, presses a button): they need a verified person."""


def allowed_channels(*, local_mode: bool) -> frozenset[str]:
    """The Bot Framework channel ids the bot answers: Teams, and the Emulator when running locally."""
    return (
        frozenset({Channels.ms_teams.value, Channels.emulator.value})
        if local_mode
        else frozenset({Channels.ms_teams.value})
    )


def identity_refusal(activity: dict[str, Any], *, local_mode: bool) -> str | None:
    """Why this (well-shaped) activity is refused, as a short reason for the log, or None when it may run."""
    channel = activity.get("channelId")
    if channel not in allowed_channels(local_mode=local_mode):
        return "channel not allowed"
    if channel == Channels.ms_teams.value and activity.get("type") in ACTING_TYPES:
        sender = activity.get("from") or {}
        aad_id = sender.get("aadObjectId")
        if not isinstance(aad_id, str) or not aad_id.strip():
            return "no from.aadObjectId"
    return None
