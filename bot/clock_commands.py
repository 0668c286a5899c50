"""The clocks' edge: the Universal Actions refresh of alert and readiness cards, and ``/digest``."""

from __future__ import annotations

from bot.roster import RefreshAudience
from bot.turn import Reply, Turn, action, command
from cards.common import message_card
from domain.validation import is_judiciary_code, parse_judiciary_code
from services.digest import show_digest
from services.notices import IncidentAlert, OfficerCard
from services.outcomes import NotFound, Refused, Shown
from services.refresh import card_now
from services.status import NO_AGENCIES
from vocabulary.verbs import Verb

DIGEST_USAGE = "Type /digest for every agency (JB) or your agency, or /digest <judiciary code> (like /digest 9000)."


class ClockCommands:
    """Refresh (Teams asks for a card as it stands now) and /digest."""

    def __init__(self, audience: RefreshAudience | None = None) -> None:
        self._audience = audience or RefreshAudience()

    @action(Verb.REFRESH)
    async def refresh(self, turn: Turn) -> Reply:
        """The card as it stands now, for the one whose client asked; the message itself is left as it is."""
        outcome = card_now(turn.app, turn.requester, turn.place, turn.data)
        if isinstance(outcome, Shown) and isinstance(outcome.view, IncidentAlert | OfficerCard):
            card = await self._audience.prepare_in_turn(turn.context, turn.presenter.content(outcome.view))
            return Reply(card)
        return Reply(turn.presenter.card(outcome))

    @command("digest")
    async def digest(self, turn: Turn) -> None:
        """/digest [judiciary code]: the weekly digest card, now (JB staff and the JB channel; a PoC their agency's)."""
        words = turn.args.split()
        if len(words) > 1 or (words and not is_judiciary_code(words[0])):
            text = f'"{turn.args[:40]}" is not a Judiciary Code (4 digits, like 9000). {DIGEST_USAGE}'
            await turn.reply_card(message_card("Which digest?", text, kind="attention"))
            return
        code = parse_judiciary_code(words[0]) if words else None
        outcome = show_digest(turn.app, turn.requester, code)
        if isinstance(outcome, Shown):
            await turn.reply(outcome, summary="E-ticket digest")
        elif isinstance(outcome, Refused):
            await turn.reply_card(message_card("Not allowed", outcome.who_may, kind="attention"))
        elif isinstance(outcome, NotFound) and outcome.what == "which":
            text = f"You are the Point-of-Contact of several agencies ({outcome.key}). {DIGEST_USAGE}"
            await turn.reply_card(message_card("Which agency?", text))
        elif isinstance(outcome, NotFound) and outcome.what == NO_AGENCIES:
            text = (
                "/digest shows the e-ticket programme to JB e-ticket staff and the JB channel, and an agency's own "
                "officers to its Point-of-Contact. You are not the Point-of-Contact of any agency's Information Package."
            )
            await turn.reply_card(message_card("Nothing to show", text))
        else:
            await turn.reply_card(
                message_card("No such package", f"No Information Package has Judiciary Code {code}.", kind="attention")
            )
