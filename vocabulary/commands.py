"""The chat commands the bot answers: one list read by the router, /help and the Teams manifest.

No imports of other layers: the router, the help card and the Teams manifest builder all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandInfo:
    """One chat command: its name (no slash), how it is typed, what it does, where it works."""

    name: str
    usage: str
    description: str
    scopes: tuple[str, ...] = ("personal", "team", "groupChat")


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("new-package", "/new-package", "Start your agency's e-ticket Information Package", ("personal",)),
    CommandInfo("add-officer", "/add-officer", "Add officers to your agency's Information Package", ("personal",)),
    CommandInfo(
        "edit-officer",
        "/edit-officer <officer number>",
        "Correct an officer's names, DPS username or start date",
        ("personal",),
    ),
    CommandInfo("withdraw", "/withdraw <officer number>", "Withdraw an officer from your agency's package"),
    CommandInfo("package", "/package [judiciary code]", "Show an Information Package with approval dates"),
    CommandInfo(
        "status", "/status [judiciary code | officer number]", "Officers' monitoring progress and open incidents"
    ),
    CommandInfo(
        "subscribe",
        "/subscribe <judiciary code | jb>",
        "Send an agency's alerts (or JB notices) to this channel",
        ("team", "groupChat"),
    ),
    CommandInfo(
        "set-poc",
        "/set-poc <judiciary code> <e-mail or @mention>",
        "JB staff: hand an agency's Point-of-Contact role to someone",
    ),
    CommandInfo("audit", "/audit <officer number>", "JB staff: an officer's history of actions"),
    CommandInfo("digest", "/digest [judiciary code]", "The weekly digest: officers, incidents and notices at a glance"),
    CommandInfo("help", "/help", "What this bot does and the commands it knows"),
)

COMMAND_NAMES: frozenset[str] = frozenset(command.name for command in COMMANDS)
