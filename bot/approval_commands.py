"""Commands and card actions of the approval step: /status, /audit, /withdraw, Approve, Extend monitoring,
Withdraw, Cancel and the list pages."""

from __future__ import annotations

import logging

from bot.downloads import with_export_button
from bot.turn import Reply, Turn, action, command
from cards.common import message_card
from cards.readiness import withdraw_choice_card, withdraw_confirm_card
from domain.policy import Action
from domain.validation import is_judiciary_code, is_officer_number, parse_judiciary_code, parse_officer_number
from domain.views import OfficerView
from services import approval, corrections, status
from services.notices import OfficerCard, readiness_subject
from services.outcomes import FormOpened, Listing, NotFound, Officers, Outcome, Refused
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

STATUS_USAGE = "Type /status, /status <judiciary code> (like 9000) or /status <officer number> (like A1234)."
AUDIT_USAGE = "Type /audit <officer number>, like /audit A1234."
WITHDRAW_USAGE = (
    "Type /withdraw <officer number>, like /withdraw A1234 (add the Judiciary Code if you are PoC of several agencies)."
)


def not_an_officer_number(word: str, usage: str) -> str:
    """What a mistyped officer number is told (the word shortened, never the whole input)."""
    return f'"{word[:40]}" is not an officer number: it must be one letter and four digits. {usage}'


class ApprovalCommands:
    """The handlers of the approval step (no state of their own: everything is in the database)."""

    # -- card actions

    @action(Verb.APPROVE)
    async def approve(self, turn: Turn) -> Outcome:
        """Approve (JB staff): approves a ready officer; one who is not ready gets the confirm card first."""
        return await self._approve(turn, confirmed=False)

    @action(Verb.APPROVE_CONFIRM)
    async def approve_confirm(self, turn: Turn) -> Outcome:
        """Approve on the confirm card (JB staff): approves although not every condition holds."""
        return await self._approve(turn, confirmed=True)

    async def _approve(self, turn: Turn, *, confirmed: bool) -> Outcome:
        data = turn.data
        return await approval.approve(
            turn.app,
            turn.requester,
            data.get("judiciary_code"),
            data.get("officer_number"),
            confirmed=confirmed,
            shown=turn.pressed_message,
        )

    @action(Verb.EXTEND)
    async def extend(self, turn: Turn) -> Outcome:
        """Extend monitoring (JB staff): the same card with a date and a reason to fill in."""
        return await approval.extend_form(
            turn.app, turn.requester, turn.data.get("judiciary_code"), turn.data.get("officer_number")
        )

    @action(Verb.EXTEND_SUBMIT)
    async def extend_submit(self, turn: Turn) -> Outcome:
        """Submit on the extend card: recorded and shown on every copy, or the card back with the problems."""
        data = turn.data
        return await approval.extend(
            turn.app,
            turn.requester,
            data.get("judiciary_code"),
            data.get("officer_number"),
            data,
            shown=turn.pressed_message,
        )

    @action(Verb.WITHDRAW_CONFIRM)
    async def withdraw_confirm(self, turn: Turn) -> Outcome:
        """Withdraw on the confirm card (the agency's PoC or JB staff)."""
        data = turn.data
        return await approval.withdraw(
            turn.app,
            turn.requester,
            data.get("judiciary_code"),
            data.get("officer_number"),
            shown=turn.pressed_message,
        )

    @action(Verb.RETURN_TO_MONITORING)
    async def return_form(self, turn: Turn) -> Outcome:
        """Return to monitoring (JB staff, on their own copy of an approved officer's card): asks the reason."""
        data = turn.data
        what = "return_to_monitoring"
        return corrections.reason_form(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officer_number"), what
        )

    @action(Verb.RETURN_TO_MONITORING_CONFIRM)
    async def return_confirm(self, turn: Turn) -> Outcome:
        """The reason given: the officer is back in monitoring, the approval date cleared, the PoC told."""
        data = turn.data
        return await corrections.return_to_monitoring(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officer_number"), data
        )

    @action(Verb.END_EXTENSION)
    async def end_extension_form(self, turn: Turn) -> Outcome:
        """End extension (JB staff, on their own copy of an extended officer's card): asks the reason."""
        data = turn.data
        return corrections.reason_form(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officer_number"), "end_extension"
        )

    @action(Verb.END_EXTENSION_CONFIRM)
    async def end_extension_confirm(self, turn: Turn) -> Outcome:
        """The reason given: the extension ends now, the PoC is told, readiness is checked again."""
        data = turn.data
        return await corrections.end_extension(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officer_number"), data
        )

    @action(Verb.RESEND)
    async def resend_form(self, turn: Turn) -> Outcome:
        """Send again on a failed notice in /status (JB staff): asks the reason."""
        return corrections.resend_form(turn.app, turn.requester, turn.data.get("notice_id"))

    @action(Verb.RESEND_CONFIRM)
    async def resend_confirm(self, turn: Turn) -> Outcome:
        """The reason given: the notice is queued again."""
        return await corrections.resend(turn.app, turn.requester, turn.data.get("notice_id"), turn.data)

    @action(Verb.CANCEL)
    async def cancel(self, turn: Turn) -> Outcome | Reply:
        """Cancel: back to the officer's card (confirm and extend cards), or nothing withdrawn."""
        if turn.data.get("cancel") == "withdraw":
            return Reply(message_card("Nothing was withdrawn", "The officer stays in the Information Package."))
        if turn.data.get("cancel") in ("resend", "edit", "set_poc"):
            return Reply(message_card("Cancelled", "Nothing was changed."))
        outcome = await approval.cancel(
            turn.app, turn.requester, turn.data.get("judiciary_code"), turn.data.get("officer_number")
        )
        if isinstance(outcome, NotFound):
            return Reply(message_card("Cancelled", "Nothing was changed."))
        return outcome

    @action(Verb.PAGE)
    async def page(self, turn: Turn) -> Reply:
        """Previous page / Next page of /status or /audit, computed again for the one who pressed."""
        page_number = turn.data.get("page")
        query = turn.data.get("query")
        page = page_number if isinstance(page_number, int) and not isinstance(page_number, bool) else 1
        text = query if isinstance(query, str) else ""
        if turn.data.get("list") == "audit":
            outcome = self._audit(turn, text, page)
        else:
            outcome = self._status(turn, text, page)
        if isinstance(outcome, Listing):
            return Reply(turn.presenter.card(outcome))
        if isinstance(outcome, Reply):
            return outcome
        usage = AUDIT_USAGE if turn.data.get("list") == "audit" else STATUS_USAGE
        return Reply(self._message(turn, outcome, usage))

    # -- commands

    @command("status")
    async def status(self, turn: Turn) -> None:
        """/status [judiciary code | officer number]: progress toward readiness, open incidents, failed notices."""
        outcome = self._status(turn, turn.args)
        if isinstance(outcome, Reply):
            await turn.reply_card(outcome.card)
        elif isinstance(outcome, Listing):
            card = turn.presenter.card(outcome)
            if not turn.args.split():  # the overview: JB staff's Export (Excel) (issue 17)
                card = with_export_button(turn, card)
            await turn.reply_card(card, summary="E-ticket status")
        elif isinstance(outcome, Officers):
            await self._officer_cards(turn, outcome.views)
        else:
            await turn.reply_card(self._message(turn, outcome, STATUS_USAGE))

    @command("audit", requires=Action.SEE_AUDIT)
    async def audit(self, turn: Turn) -> None:
        """/audit <officer number> (JB staff): the officer's history of actions."""
        outcome = self._audit(turn, turn.args)
        if isinstance(outcome, Reply):
            await turn.reply_card(outcome.card)
        elif isinstance(outcome, Listing):
            await turn.reply(outcome, summary="Audit history")
        else:
            await turn.reply_card(self._message(turn, outcome, AUDIT_USAGE))

    @command("withdraw")
    async def withdraw(self, turn: Turn) -> None:
        """/withdraw <officer number> [judiciary code]: a confirm card (the agency's PoC or JB staff)."""
        words = turn.args.split()
        if not words or len(words) > 2:
            kind = "attention" if words else None
            await turn.reply_card(message_card("Which officer?", WITHDRAW_USAGE, kind=kind))
            return
        if not is_officer_number(words[0]):
            text = not_an_officer_number(words[0], WITHDRAW_USAGE)
            await turn.reply_card(message_card("Which officer?", text, kind="attention"))
            return
        code: str | None = None
        if len(words) == 2:
            if not is_judiciary_code(words[1]):
                text = (
                    f'"{words[1][:40]}" is not a Judiciary Code: it must be exactly 4 digits, like 9000. '
                    f"{WITHDRAW_USAGE}"
                )
                await turn.reply_card(message_card("Which agency?", text, kind="attention"))
                return
            code = parse_judiciary_code(words[1])
        number = parse_officer_number(words[0])
        outcome = approval.withdraw_request(turn.app, turn.requester, number, code)
        if isinstance(outcome, FormOpened) and isinstance(outcome.view, tuple):
            choices = list(outcome.view)
            card = withdraw_choice_card(choices) if len(choices) > 1 else withdraw_confirm_card(*choices[0])
            await turn.reply_card(card, summary="Withdraw an officer")
            return
        where = f" in the package of Judiciary Code {code}" if code else ""
        if isinstance(outcome, Refused):
            text = f"Officer {number}{where} is not in a package you are the Point-of-Contact of. {outcome.who_may}"
            await turn.reply_card(message_card("Not your agency's officer", text, kind="attention"))
        else:
            text = (
                f"Officer number {number} is in no Information Package{where} (or was withdrawn already). "
                "Type /package to see your agency's officers."
            )
            await turn.reply_card(message_card("Officer not found", text, kind="attention"))

    # -- reading the arguments, and the messages of what cannot be shown

    def _status(self, turn: Turn, query: str, page: int = 1) -> Outcome | Reply:
        words = query.split()
        if len(words) > 1:
            text = f"That is more than one argument. {STATUS_USAGE}"
            return Reply(message_card("Which status?", text, kind="attention"))
        if not words:
            return status.status_overview(turn.app, turn.requester, page)
        word = words[0]
        if is_judiciary_code(word):
            return status.agency_status(turn.app, turn.requester, parse_judiciary_code(word), page)
        if is_officer_number(word):
            return status.officer_status(turn.app, turn.requester, parse_officer_number(word))
        text = (
            f'"{word[:40]}" is neither a Judiciary Code (4 digits, like 9000) nor an officer number (a letter and '
            f"4 digits, like A1234). {STATUS_USAGE}"
        )
        return Reply(message_card("Which status?", text, kind="attention"))

    def _audit(self, turn: Turn, query: str, page: int = 1) -> Outcome | Reply:
        words = query.split()
        if len(words) != 1:
            return Reply(message_card("Which officer?", AUDIT_USAGE, kind="attention" if words else None))
        if not is_officer_number(words[0]):
            return Reply(message_card("Which officer?", not_an_officer_number(words[0], AUDIT_USAGE), kind="attention"))
        return status.audit_history(turn.app, turn.requester, parse_officer_number(words[0]), page)

    def _message(self, turn: Turn, outcome: Outcome, usage: str) -> dict[str, object]:
        """A /status or /audit outcome that is not a list: why there is nothing to show."""
        if isinstance(outcome, Refused):
            if turn.data.get("list") == "audit" or usage == AUDIT_USAGE:
                return message_card("Not allowed", outcome.who_may, kind="attention")
            return message_card("Not your agency", f"{outcome.who_may} Type /status to see yours.", kind="attention")
        if isinstance(outcome, NotFound):
            if outcome.what == status.NO_AGENCIES:
                text = (
                    "/status shows an agency's officers to its Point-of-Contact, and every officer to JB e-ticket "
                    "staff. You are not the Point-of-Contact of any agency's Information Package; start one with "
                    "/new-package."
                )
                return message_card("Nothing to show", text)
            if outcome.what == "package":
                text = f"No Information Package has Judiciary Code {outcome.key}."
                return message_card("No such package", text, kind="attention")
            if outcome.what == "officer" and usage == AUDIT_USAGE:
                text = f"Officer number {outcome.key} is in no Information Package."
                return message_card("Officer not found", text, kind="attention")
            if outcome.what == "officer":
                sees_all = turn.requester.is_staff or turn.requester.in_jb_channel
                where = "any Information Package" if sees_all else "your agencies' packages"
                text = f"Officer number {outcome.key} is not in {where}."
                return message_card("Officer not found", text, kind="attention")
        return message_card("Nothing to show", usage)

    async def _officer_cards(self, turn: Turn, views: tuple[OfficerView, ...]) -> None:
        """One card per membership; JB staff get Approve / Extend and later changes update their copy."""
        for view in views:
            officer = view.officer
            content = OfficerCard(view, with_actions=turn.is_jb_staff, tools=turn.is_jb_staff)
            summary = f"Officer {officer.officer_number}"
            activity_id = await turn.reply_card(turn.presenter.content(content), summary=summary)
            if turn.is_jb_staff:
                # later Approve / Extend / readiness changes update this copy too
                subject = readiness_subject(officer.key)
                changes = turn.app.notifier.track(
                    subject, turn.place, activity_id, content, summary=summary, now=turn.app.now()
                )
                await turn.app.db.commit(changes)
