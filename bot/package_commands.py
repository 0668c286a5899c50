"""Commands and card actions of the Information Package: /new-package, /add-officer, /package,
/subscribe, /set-poc, the wizard's buttons and Acknowledge."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from botbuilder.core import ConversationState, StatePropertyAccessor
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from bot.conversations import base_conversation_id
from bot.dialogs.package_wizard import STATE_PROPERTY, PackageWizard, WizardEnv, WizardReply, WizardState
from bot.turn import ActionHandler, ActionResult, CommandHandler, Turn
from cards.common import message_card
from cards.package import package_cards
from domain.records import Actor
from domain.validation import FieldErrors, parse_judiciary_code
from services.packages import (
    NotAllowed,
    PackageError,
    acknowledge,
    known_email,
    may_change,
    person_by_email,
    poc_line,
    set_poc,
    subscribe,
)
from storage.repositories import SubscriptionRepository
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

MEMBER_LOOKUP_SECONDS = 3.0
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GUID_LIKE = re.compile(r"^[0-9a-fA-F-]{8,}$")


def _one_to_one_card(app_id: str) -> dict[str, Any]:
    """How to open the 1:1 chat with the bot (wizards run there, not in channels)."""
    text = (
        "The Information Package is filled in privately, in your 1:1 chat with me. Open it from my name (JB e-Ticket Bot): "
        "select it and choose Chat, or search for JB e-Ticket Bot under Chat, then type the command there."
    )
    card = message_card("Let's continue in a 1:1 chat", text)
    if app_id:
        card["actions"] = [
            {
                "type": "Action.OpenUrl",
                "title": "Open a 1:1 chat",
                "url": f"https://teams.microsoft.com/l/chat/0/0?users=28:{app_id}",
            }
        ]
    return card


class PackageCommands:
    """The handlers of the Information Package, with the wizard's state accessor."""

    def __init__(self, conversation_state: ConversationState) -> None:
        self._state: StatePropertyAccessor = conversation_state.create_property(STATE_PROPERTY)
        self._wizard = PackageWizard()

    def commands(self) -> dict[str, CommandHandler]:
        """The chat commands, by name."""
        return {
            "new-package": self.new_package,
            "add-officer": self.add_officer,
            "package": self.show_package,
            "subscribe": self.subscribe,
            "set-poc": self.set_poc,
        }

    def actions(self) -> dict[Verb, ActionHandler]:
        """The card verbs, by verb."""
        table: dict[Verb, ActionHandler] = {verb: self.wizard_press for verb in self._wizard.verbs}
        table[Verb.ACKNOWLEDGE] = self.acknowledge
        return table

    # -- the wizard

    async def _load(self, turn: Turn) -> WizardState | None:
        return WizardState.from_doc(await self._state.get(turn.context))

    async def _keep(self, turn: Turn, reply: WizardReply) -> None:
        if reply.state is None:
            try:
                await self._state.delete(turn.context)
            except KeyError:  # there was no wizard to forget
                pass
        else:
            await self._state.set(turn.context, reply.state.to_doc())

    async def _env(self, turn: Turn, *, look_up_email: bool = False) -> WizardEnv:
        actor = turn.actor
        email = known_email(turn.app, actor.aad_id) if actor.aad_id else None
        if email is None and look_up_email:
            email = await self._teams_email(turn)
        return WizardEnv(app=turn.app, actor=actor, is_staff=turn.is_jb_staff, email_hint=email)

    async def _teams_email(self, turn: Turn) -> str | None:
        """The person's e-mail from Teams' roster where Teams gives it (not in activities); None otherwise."""
        sender = turn.context.activity.from_property
        if sender is None or not sender.id:
            return None
        try:
            member = await asyncio.wait_for(TeamsInfo.get_member(turn.context, sender.id), MEMBER_LOOKUP_SECONDS)
        except Exception as error:  # the roster is a nicety: any failure just leaves the field empty
            logger.debug(
                "no roster e-mail for conversation=%s: %s", turn.context.activity.conversation.id, type(error).__name__
            )
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return email if isinstance(email, str) and _EMAIL.match(email) else None

    async def new_package(self, turn: Turn) -> None:
        """/new-package: start (or offer to resume) the Information Package wizard in 1:1 chat."""
        if turn.scope != "personal":
            await turn.reply_card(_one_to_one_card(turn.app.settings.app_id), summary="Open a 1:1 chat")
            return
        current = await self._load(turn)
        reply = self._wizard.start_new(await self._env(turn, look_up_email=current is None), current)
        await self._keep(turn, reply)
        await turn.reply_card(reply.card, summary="Information Package")

    async def add_officer(self, turn: Turn) -> None:
        """/add-officer [judiciary code]: add officers to the person's agency package in 1:1 chat."""
        if turn.scope != "personal":
            await turn.reply_card(_one_to_one_card(turn.app.settings.app_id), summary="Open a 1:1 chat")
            return
        current = await self._load(turn)
        reply = self._wizard.start_add(await self._env(turn), current, turn.args)
        await self._keep(turn, reply)
        await turn.reply_card(reply.card, summary="Add officers")

    async def wizard_press(self, turn: Turn) -> ActionResult:
        """Any wizard button: the next card in place; the message itself changes when the wizard ends."""
        pressed = turn.data.get("verb")
        verb = next((known for known in self._wizard.verbs if known.value == pressed), None)
        if verb is None:  # the card's data lost its verb or names another card's: a stale or forged press
            logger.info("wizard press without a wizard verb in conversation=%s", turn.context.activity.conversation.id)
            return ActionResult(
                message_card(
                    "This card is out of date",
                    "Nothing was changed. Type /new-package or /add-officer to continue where you were.",
                )
            )
        reply = await self._wizard.press(await self._env(turn), verb, turn.data, await self._load(turn))
        await self._keep(turn, reply)
        return ActionResult(reply.card, update_message=reply.final)

    # -- the JB's acknowledgment

    async def acknowledge(self, turn: Turn) -> ActionResult:
        """Acknowledge (JB staff): record who and when, update every copy, tell the PoC (SOP 6.3)."""
        result = await acknowledge(
            turn.app, turn.actor, turn.is_jb_staff, turn.data.get("judiciary_code"), turn.context.activity.reply_to_id
        )
        logger.info("acknowledge outcome=%s conversation=%s", result.outcome, turn.context.activity.conversation.id)
        return ActionResult(result.card, update_message=result.outcome == "acknowledged")

    # -- /package

    async def show_package(self, turn: Turn) -> None:
        """/package [judiciary code]: the Information Package like Chart 1 with approval dates (the PoC's copy)."""
        db, tz = turn.app.db, turn.app.settings.timezone
        code_text = turn.args.split()[0] if turn.args.split() else ""
        if code_text:
            try:
                code = parse_judiciary_code(code_text)
            except FieldErrors as problem:
                await turn.reply_card(message_card("Which package?", str(problem), kind="attention"))
                return
            package = db.packages.get(code)
            if package is None:
                await turn.reply_card(
                    message_card("No such package", f"No Information Package has Judiciary Code {code}.")
                )
                return
            if not may_change(package, turn.actor, turn.is_jb_staff):
                await turn.reply_card(
                    message_card(
                        "Not your agency's package",
                        (
                            f"Only the Point-of-Contact of {package.agency.agency_name} ({poc_line(package)}) and JB e-ticket staff "
                            "can see its package."
                        ),
                    )
                )
                return
            packages = [package]
        else:
            packages = db.packages.for_poc(turn.actor.aad_id)
            if not packages:
                if turn.is_jb_staff and db.packages.all():
                    listed = ", ".join(f"{p.judiciary_code} ({p.agency.agency_name})" for p in db.packages.all()[:40])
                    text = f"Type /package <judiciary code>. Packages: {listed}."
                else:
                    text = "You are not the Point-of-Contact of any agency's Information Package. Start one with /new-package."
                await turn.reply_card(message_card("Which package?", text))
                return
        for package in packages:
            for card in package_cards(package, db.officers.of_agency(package.judiciary_code), tz):
                await turn.reply_card(card, summary=f"Information Package {package.judiciary_code}")

    # -- /subscribe

    async def subscribe(self, turn: Turn) -> None:
        """/subscribe <judiciary code | jb>: route an agency's alerts (or the JB's) to this channel or group chat."""
        if turn.scope == "personal":
            await turn.reply_card(
                message_card(
                    "Use this in a channel",
                    (
                        "/subscribe sends alerts to a team channel or group chat. Add me to the channel, then type "
                        "@JB e-Ticket Bot /subscribe <judiciary code> there (JB staff: /subscribe jb in the JB channel)."
                    ),
                )
            )
            return
        words = turn.args.split()
        if not words:
            await turn.reply_card(
                message_card("Which alerts?", "Type /subscribe <judiciary code>, or /subscribe jb for the JB channel.")
            )
            return
        if words[0].lower() == SubscriptionRepository.JB:
            target = SubscriptionRepository.JB
        else:
            try:
                target = parse_judiciary_code(words[0])
            except FieldErrors as problem:
                await turn.reply_card(
                    message_card(
                        "Which alerts?", f"{problem} Or type /subscribe jb for the JB channel.", kind="attention"
                    )
                )
                return
        try:
            what = await subscribe(
                turn.app, turn.actor, turn.is_jb_staff, target, base_conversation_id(turn.context.activity)
            )
        except NotAllowed as refused:
            await turn.reply_card(message_card("Not changed", refused.user_message, kind="attention"))
            return
        place = "channel" if turn.scope == "channel" else "group chat"
        await turn.reply_card(
            message_card("Alerts routed here", f"This {place} now receives the {what}.", kind="good"),
            summary="Subscribed",
        )

    # -- /set-poc

    async def set_poc(self, turn: Turn) -> None:
        """/set-poc <judiciary code> <e-mail or @mention> (JB staff): hand the PoC role to another person."""
        usage = "Type /set-poc <judiciary code> <e-mail or @mention of the person>."
        if not turn.is_jb_staff:
            await turn.reply_card(
                message_card(
                    "Not changed", "Only JB e-ticket staff can hand over the Point-of-Contact role.", kind="attention"
                )
            )
            return
        words = turn.args.split()
        if not words:
            await turn.reply_card(message_card("Which agency?", usage))
            return
        try:
            code = parse_judiciary_code(words[0])
        except FieldErrors as problem:
            await turn.reply_card(message_card("Which agency?", f"{problem} {usage}", kind="attention"))
            return
        email = next((word for word in words[1:] if _EMAIL.match(word)), None)
        person: Actor | None = None
        if email is not None:
            person = person_by_email(turn.app, email)
            if person is None:
                await turn.reply_card(
                    message_card(
                        "Nobody found",
                        (
                            f"I know nobody with the e-mail {email}: nothing was changed. Use an @mention of the person instead "
                            "(in a chat or channel they are in), or ask them to open a 1:1 chat with me first."
                        ),
                        kind="attention",
                    )
                )
                return
        else:
            person = await self._mentioned_person(turn)
            if person is None:
                await turn.reply_card(
                    message_card(
                        "Whom?", f"I could not tell whom you mean: nothing was changed. {usage}", kind="attention"
                    )
                )
                return
        try:
            package = await set_poc(turn.app, turn.actor, turn.is_jb_staff, code, person, email)
        except PackageError as refused:
            await turn.reply_card(message_card("Not changed", refused.user_message, kind="attention"))
            return
        told = turn.app.db.conversations.personal_chat_of(person.aad_id) is not None
        text = (
            f"{person.name or 'The person'} is now the Point-of-Contact of {package.agency.agency_name} ({code}). "
            + (
                "I told them in their 1:1 chat with me."
                if told
                else "I have no 1:1 chat with them yet: ask them to open one with me to receive the agency's notices."
            )
        )
        await turn.reply_card(
            message_card("Point-of-Contact changed", text, kind="good"), summary="Point-of-Contact changed"
        )

    async def _mentioned_person(self, turn: Turn) -> Actor | None:
        """The first @mentioned user other than the bot, with their Azure AD object id.

        Teams puts ``mentioned.id`` (a ``29:`` channel id) and ``name`` in the mention entity; the object id
        comes from ``aadObjectId`` when present, from an id that already is one, or from Teams' roster.
        """
        activity: Activity = turn.context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        for entity in activity.entities or []:
            doc = (
                entity if isinstance(entity, Mapping) else {"type": entity.type, **(entity.additional_properties or {})}
            )
            mentioned = doc.get("mentioned") if doc.get("type") == "mention" else None
            if not isinstance(mentioned, Mapping) or not mentioned.get("id") or mentioned.get("id") == bot_id:
                continue
            name = str(mentioned.get("name") or "")
            aad = mentioned.get("aadObjectId")
            if isinstance(aad, str) and aad:
                return Actor(aad_id=aad.lower(), name=name)
            user_id = str(mentioned["id"])
            if _GUID_LIKE.match(user_id):
                return Actor(aad_id=user_id.lower(), name=name)
            try:
                member = await asyncio.wait_for(TeamsInfo.get_member(turn.context, user_id), MEMBER_LOOKUP_SECONDS)
            except Exception as error:  # not in this conversation's roster, or no roster (tests, Playground)
                logger.info(
                    "mention could not be resolved in conversation=%s: %s",
                    activity.conversation.id,
                    type(error).__name__,
                )
                return None
            if member is not None and member.aad_object_id:
                return Actor(aad_id=member.aad_object_id.lower(), name=name or member.name or "")
        return None
