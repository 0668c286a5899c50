"""Commands and card actions of the approval step: /status, /audit, /withdraw, Approve, Extend monitoring,
Withdraw, Cancel and the list pages."""

from __future__ import annotations

import logging
from typing import Any

from bot.conversations import base_conversation_id
from bot.turn import ActionHandler, ActionResult, CommandHandler, Turn
from cards.audit import audit_card
from cards.common import message_card
from cards.status import ListPage, status_card
from domain.validation import is_judiciary_code, is_officer_number, parse_judiciary_code, parse_officer_number
from services.approval import (
    Outcome,
    approve,
    cancel,
    current_card,
    extend,
    extend_form,
    readiness_subject,
    withdraw,
    withdraw_request,
)
from services.notices import track_ops
from services.status import Answer, audit_history, status
from storage.repositories import SubscriptionRepository
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

WITHDRAW_USAGE = (
    "Type /withdraw <officer number>, like /withdraw A1234 (add the Judiciary Code if you are PoC of several agencies)."
)


def _in_jb_channel(turn: Turn) -> bool:
    """Whether this turn is in the conversation marked with /subscribe jb (court operations and DPS read there)."""
    marked = turn.app.db.subscriptions.conversation_for(SubscriptionRepository.JB)
    return marked is not None and marked == base_conversation_id(turn.context.activity)


def _result(turn: Turn, outcome: Outcome, name: str) -> ActionResult:
    logger.info("%s outcome=%s conversation=%s", name, outcome.outcome, turn.context.activity.conversation.id)
    return ActionResult(outcome.card, update_message=outcome.changed)


def _page_card(page: ListPage) -> dict[str, Any]:
    return audit_card(page) if page.list_name == "audit" else status_card(page)


class ApprovalCommands:
    """The handlers of the approval step (no state of their own: everything is in the database)."""

    def commands(self) -> dict[str, CommandHandler]:
        """The chat commands, by name."""
        return {"status": self.status, "audit": self.audit, "withdraw": self.withdraw}

    def actions(self) -> dict[Verb, ActionHandler]:
        """The card verbs, by verb."""
        return {
            Verb.APPROVE: self.approve,
            Verb.APPROVE_CONFIRM: self.approve_confirm,
            Verb.EXTEND: self.extend,
            Verb.EXTEND_SUBMIT: self.extend_submit,
            Verb.WITHDRAW_CONFIRM: self.withdraw_confirm,
            Verb.CANCEL: self.cancel,
            Verb.PAGE: self.page,
        }

    # -- card actions

    async def approve(self, turn: Turn) -> ActionResult:
        """Approve (JB staff): approves a ready officer; one who is not ready gets the confirm card first."""
        outcome = await approve(
            turn.app,
            turn.actor,
            turn.is_jb_staff,
            turn.data.get("judiciary_code"),
            turn.data.get("officer_number"),
            confirmed=False,
            pressed_activity=turn.context.activity.reply_to_id,
        )
        return _result(turn, outcome, "approve")

    async def approve_confirm(self, turn: Turn) -> ActionResult:
        """Approve on the confirm card (JB staff): approves although not every condition holds."""
        outcome = await approve(
            turn.app,
            turn.actor,
            turn.is_jb_staff,
            turn.data.get("judiciary_code"),
            turn.data.get("officer_number"),
            confirmed=True,
            pressed_activity=turn.context.activity.reply_to_id,
        )
        return _result(turn, outcome, "approve_confirm")

    async def extend(self, turn: Turn) -> ActionResult:
        """Extend monitoring (JB staff): the same card with a date and a reason to fill in."""
        outcome = await extend_form(
            turn.app, turn.actor, turn.is_jb_staff, turn.data.get("judiciary_code"), turn.data.get("officer_number")
        )
        return _result(turn, outcome, "extend")

    async def extend_submit(self, turn: Turn) -> ActionResult:
        """Submit on the extend card: recorded and shown on every copy, or the card back with the problems."""
        outcome = await extend(
            turn.app,
            turn.actor,
            turn.is_jb_staff,
            turn.data.get("judiciary_code"),
            turn.data.get("officer_number"),
            turn.data,
            pressed_activity=turn.context.activity.reply_to_id,
        )
        return _result(turn, outcome, "extend_submit")

    async def withdraw_confirm(self, turn: Turn) -> ActionResult:
        """Withdraw on the confirm card (the agency's PoC or JB staff)."""
        outcome = await withdraw(
            turn.app,
            turn.actor,
            turn.is_jb_staff,
            turn.data.get("judiciary_code"),
            turn.data.get("officer_number"),
            pressed_activity=turn.context.activity.reply_to_id,
        )
        return _result(turn, outcome, "withdraw")

    async def cancel(self, turn: Turn) -> ActionResult:
        """Cancel: back to the officer's card (confirm and extend cards), or nothing withdrawn."""
        if turn.data.get("cancel") == "withdraw":
            return ActionResult(message_card("Nothing was withdrawn", "The officer stays in the Information Package."))
        outcome = await cancel(
            turn.app,
            turn.actor,
            turn.data.get("judiciary_code"),
            turn.data.get("officer_number"),
            is_staff=turn.is_jb_staff,
        )
        return _result(turn, outcome, "cancel")

    async def page(self, turn: Turn) -> ActionResult:
        """Previous page / Next page of /status or /audit, computed again for the one who pressed."""
        page_number = turn.data.get("page")
        query = turn.data.get("query")
        page = page_number if isinstance(page_number, int) and not isinstance(page_number, bool) else 1
        text = query if isinstance(query, str) else ""
        if turn.data.get("list") == "audit":
            answer = audit_history(turn.app, turn.is_jb_staff, text, page)
        else:
            answer = status(turn.app, turn.actor.aad_id, turn.is_jb_staff, text, jb_view=self._jb_view(turn), page=page)
        if answer.page is not None:
            return ActionResult(_page_card(answer.page))
        title, body = answer.message or ("Nothing to show", "Type /status again.")
        return ActionResult(message_card(title, body, kind=answer.kind))

    # -- commands

    def _jb_view(self, turn: Turn) -> bool:
        return turn.is_jb_staff or _in_jb_channel(turn)

    async def _answer(self, turn: Turn, answer: Answer, summary: str) -> None:
        if answer.message is not None:
            title, text = answer.message
            await turn.reply_card(message_card(title, text, kind=answer.kind))
            return
        if answer.page is not None:
            await turn.reply_card(_page_card(answer.page), summary=summary)
            return
        for officer in answer.officers:
            card = current_card(turn.app, officer, with_actions=turn.is_jb_staff)
            activity_id = await turn.reply_card(card, summary=f"Officer {officer.officer_number}")
            if turn.is_jb_staff:
                # later Approve / Extend / readiness changes update this copy too
                await turn.app.db.commit(
                    track_ops(
                        turn.app,
                        readiness_subject(officer.key),
                        base_conversation_id(turn.context.activity),
                        activity_id,
                        card,
                        summary=f"Officer {officer.officer_number}",
                    )
                )

    async def status(self, turn: Turn) -> None:
        """/status [judiciary code | officer number]: progress toward readiness, open incidents, failed notices."""
        answer = status(turn.app, turn.actor.aad_id, turn.is_jb_staff, turn.args, jb_view=self._jb_view(turn))
        await self._answer(turn, answer, "E-ticket status")

    async def audit(self, turn: Turn) -> None:
        """/audit <officer number> (JB staff): the officer's history of actions."""
        await self._answer(turn, audit_history(turn.app, turn.is_jb_staff, turn.args), "Audit history")

    async def withdraw(self, turn: Turn) -> None:
        """/withdraw <officer number> [judiciary code]: a confirm card (the agency's PoC or JB staff)."""
        words = turn.args.split()
        if not words or len(words) > 2:
            await turn.reply_card(message_card("Which officer?", WITHDRAW_USAGE, kind="attention" if words else None))
            return
        if not is_officer_number(words[0]):
            await turn.reply_card(
                message_card(
                    "Which officer?",
                    (
                        f'"{words[0][:40]}" is not an officer number: it must be one letter and four digits. {WITHDRAW_USAGE}'
                    ),
                    kind="attention",
                )
            )
            return
        code: str | None = None
        if len(words) == 2:
            if not is_judiciary_code(words[1]):
                await turn.reply_card(
                    message_card(
                        "Which agency?",
                        (
                            f'"{words[1][:40]}" is not a Judiciary Code: it must be exactly 4 digits, like 9000. {WITHDRAW_USAGE}'
                        ),
                        kind="attention",
                    )
                )
                return
            code = parse_judiciary_code(words[1])
        card = withdraw_request(turn.app, turn.actor, turn.is_jb_staff, parse_officer_number(words[0]), code)
        await turn.reply_card(card, summary="Withdraw an officer")
