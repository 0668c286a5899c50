"""The help and welcome cards: what the bot does and the commands it knows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import Colors, FontType, FontWeight, Spacing

from cards.base import heading, paragraph, render
from vocabulary.commands import CommandInfo
from vocabulary.contact import JB_EMAIL

PURPOSE = (
    "I run the Vermont Judicial Bureau's procedure for approving officers to issue e-tickets "
    "(Valcour agencies): the Information Package, monitoring of each new officer's e-tickets, "
    "alerts when an e-ticket is rejected or aberrant, and the JB's approval."
)


def _command_table(commands: Sequence[CommandInfo]) -> Any:
    rows: list[ac.ElementT] = [
        ac.Container(
            items=[
                ac.TextBlock(text=command.usage, weight=FontWeight.BOLDER, wrap=True, font_type=FontType.MONOSPACE),
                ac.TextBlock(text=command.description, wrap=True, spacing=Spacing.NONE, is_subtle=True),
            ],
            spacing=Spacing.SMALL,
        )
        for command in commands
    ]
    return ac.Container(items=rows)


def help_card(commands: Sequence[CommandInfo], *, not_understood: str | None = None) -> dict[str, Any]:
    """The /help card; with ``not_understood`` it first says what text was not a command."""
    body: list[Any] = []
    if not_understood is not None:
        shown = not_understood if len(not_understood) <= 60 else not_understood[:57] + "..."
        body.append(
            paragraph(
                f'I don\'t know "{shown}". Here is what I can do.', color=Colors.WARNING, weight=FontWeight.BOLDER
            )
        )
    body += heading("JB e-Ticket Bot")
    body.append(paragraph(PURPOSE))
    body.append(_command_table(commands))
    body.append(
        paragraph(
            "Type a command with or without the slash. In a channel or group chat, @mention me first. "
            f"Questions: {JB_EMAIL}.",
            is_subtle=True,
            spacing=Spacing.MEDIUM,
        )
    )
    return render(body)


def welcome_card(commands: Sequence[CommandInfo], *, scope: str) -> dict[str, Any]:
    """The card sent when the bot is installed in a personal chat, group chat or team."""
    if scope == "personal":
        start = (
            "Point-of-Contact of a law enforcement agency? Type **/new-package** to send the JB your "
            "Information Package. JB staff: your notices arrive here until a JB channel is set with /subscribe jb."
        )
    else:
        start = (
            "To get an agency's e-ticket alerts in this channel, its Point-of-Contact types "
            "**@JB e-Ticket Bot /subscribe <judiciary code>**. JB staff mark the JB channel with **/subscribe jb**."
        )
    body = [*heading("Welcome to the JB e-Ticket Bot"), paragraph(PURPOSE), paragraph(start), _command_table(commands)]
    return render(body)


def one_to_one_card(app_id: str) -> dict[str, Any]:
    """How to open the 1:1 chat with the bot (the wizards run there, not in channels)."""
    text = (
        "The Information Package is filled in privately, in your 1:1 chat with me. Open it from my name "
        "(JB e-Ticket Bot): select it and choose Chat, or search for JB e-Ticket Bot under Chat, then type the "
        "command there."
    )
    card = render([*heading("Let's continue in a 1:1 chat"), paragraph(text)])
    if app_id:
        card["actions"] = [
            {
                "type": "Action.OpenUrl",
                "title": "Open a 1:1 chat",
                "url": f"https://teams.microsoft.com/l/chat/0/0?users=28:{app_id}",
            }
        ]
    return card


def channel_only_card() -> dict[str, Any]:
    """A channel command typed in a 1:1 chat: where to type it instead."""
    text = (
        "/subscribe sends alerts to a team channel or group chat. Add me to the channel, then type "
        "@JB e-Ticket Bot /subscribe <judiciary code> there (JB staff: /subscribe jb in the JB channel)."
    )
    return render([*heading("Use this in a channel"), paragraph(text)])
