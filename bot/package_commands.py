"""Commands and card actions of the Information Package: /new-package, /add-officer, /package,
/subscribe, /set-poc, the wizard's buttons and Acknowledge."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping

from botbuilder.core import ConversationState, StatePropertyAccessor
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelAccount

from bot.dialogs.package_wizard import STATE_PROPERTY, PackageWizard, WizardEnv, WizardReply, WizardState
from bot.downloads import with_package_downloads
from bot.turn import Card, Reply, Turn, action, command
from cards.common import message_card
from cards.help import one_to_one_card
from cards.package import package_cards
from domain.policy import Action, who_may
from domain.records import Actor
from domain.validation import (
    FieldErrors,
    is_judiciary_code,
    is_officer_number,
    parse_judiciary_code,
    parse_officer_number,
)
from domain.views import IncidentView, OfficerForm, PackageView
from services import corrections
from services.access import allowed
from services.corrections import edit_form
from services.outcomes import Done, FormOpened, Invalid, NotFound, Outcome, Refused, Shown
from services.packages import (
    Subscription,
    acknowledge,
    acknowledge_officers,
    known_email,
    packages_to_show,
    set_poc,
    subscribe,
)
from services.tickets import officer_to_add
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

MEMBER_LOOKUP_SECONDS = 3.0
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PackageCommands:
    """The handlers of the Information Package, with the wizard's state accessor."""

    def __init__(self, conversation_state: ConversationState) -> None:
        self._state: StatePropertyAccessor = conversation_state.create_property(STATE_PROPERTY)
        self._wizard = PackageWizard()

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
        return WizardEnv(app=turn.app, requester=turn.requester, email_hint=email)

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

    @command("new-package")
    async def new_package(self, turn: Turn) -> None:
        """/new-package: start (or offer to resume) the Information Package wizard in 1:1 chat."""
        current = await self._load(turn)
        reply = self._wizard.start_new(await self._env(turn, look_up_email=current is None), current)
        await self._keep(turn, reply)
        await turn.reply_card(reply.card, summary="Information Package")

    @command("add-officer")
    async def add_officer(self, turn: Turn) -> None:
        """/add-officer [judiciary code]: add officers to the person's agency package in 1:1 chat."""
        current = await self._load(turn)
        reply = self._wizard.start_add(await self._env(turn), current, turn.args)
        await self._keep(turn, reply)
        await turn.reply_card(reply.card, summary="Add officers")

    @action(*PackageWizard.VERBS)
    async def wizard_press(self, turn: Turn) -> Reply:
        """Any wizard button: the next card in place; the message itself changes when the wizard ends."""
        assert turn.verb is not None  # the router resolved it
        reply = await self._wizard.press(await self._env(turn), turn.verb, turn.data, await self._load(turn))
        await self._keep(turn, reply)
        return Reply(reply.card, update_message=reply.final)

    # -- the JB's acknowledgment

    @action(Verb.ADD_FROM_ALERT)
    async def add_from_alert(self, turn: Turn) -> Outcome | Reply:
        """Add this officer, on an unknown-officer alert: the add-officer wizard with the number filled in.

        The wizard runs in the 1:1 chat; pressed in a channel, the bot says where to continue. The alert
        itself stays as it is for the one who pressed.
        """
        outcome = officer_to_add(turn.app, turn.requester, turn.data.get("incident_id"))
        if not isinstance(outcome, Shown) or not isinstance(outcome.view, IncidentView):
            return outcome
        view = outcome.view
        if turn.scope != "personal":
            await turn.reply_card(one_to_one_card(turn.app.settings.app_id), summary="Open a 1:1 chat")
            return Reply(turn.presenter.alert(view))
        current = await self._load(turn)
        args = f"{view.incident.judiciary_code} {view.incident.officer_number}"
        reply = self._wizard.start_add(await self._env(turn), current, args)
        await self._keep(turn, reply)
        await turn.reply_card(reply.card, summary="Add officers")
        return Reply(turn.presenter.alert(view))

    @command("edit-officer")
    async def edit_officer(self, turn: Turn) -> None:
        """/edit-officer <officer number> [judiciary code]: correct names, DPS username or start date."""
        words = turn.args.split()
        usage = "Type /edit-officer <officer number>, like /edit-officer A1234 (add the Judiciary Code if needed)."
        if not words or len(words) > 2 or not is_officer_number(words[0]):
            await turn.reply_card(message_card("Which officer?", usage, kind="attention" if words else None))
            return
        number = parse_officer_number(words[0])
        if len(words) == 2:
            try:
                codes = [parse_judiciary_code(words[1])]
            except FieldErrors as problem:
                await turn.reply_card(message_card("Which agency?", f"{problem} {usage}", kind="attention"))
                return
        else:
            codes = [o.judiciary_code for o in turn.app.db.officers.by_number(number)]
        outcomes = [edit_form(turn.app, turn.requester, code, number) for code in codes]
        forms = [outcome for outcome in outcomes if isinstance(outcome, FormOpened)]
        if len(forms) > 1:
            listed = ", ".join(o.view.officer.judiciary_code for o in forms if isinstance(o.view, OfficerForm))
            text = f"Officer {number} is in several of your agencies' packages ({listed}). {usage}"
            await turn.reply_card(message_card("Which agency?", text))
            return
        if forms:
            await turn.reply(forms[0], summary=f"Correct {number}")
            return
        if any(isinstance(outcome, Refused) for outcome in outcomes):
            await turn.reply_card(message_card("Not your agency's officer", who_may(Action.EDIT_OFFICER)))
            return
        text = f"Officer number {number} is in no Information Package you can correct. Type /package to see yours."
        await turn.reply_card(message_card("Officer not found", text, kind="attention"))

    @action(Verb.EDIT_OFFICER_SAVE)
    async def edit_officer_save(self, turn: Turn) -> Outcome:
        """Save on the correction form: stored and audited, every copy of the officer's card updated."""
        data = turn.data
        return await corrections.edit_officer(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officer_number"), data
        )

    @action(Verb.ACKNOWLEDGE_OFFICERS)
    async def acknowledge_officers(self, turn: Turn) -> Outcome:
        """Acknowledge on the card of officers added later (JB staff, SOP 6.3); the PoC is told."""
        data = turn.data
        return await acknowledge_officers(
            turn.app, turn.requester, data.get("judiciary_code"), data.get("officers"), shown=turn.pressed_message
        )

    @action(Verb.PACKAGE_PAGE)
    async def package_page(self, turn: Turn) -> Outcome | Reply:
        """Previous / More officers on the JB's package card, for the one who pressed."""
        code = turn.data.get("judiciary_code")
        first = turn.data.get("first")
        outcome = packages_to_show(turn.app, turn.requester, code if isinstance(code, str) else "")
        views = outcome.view if isinstance(outcome, Shown) and isinstance(outcome.view, tuple) else ()
        if not views or not isinstance(views[0], PackageView):
            return outcome
        start = first if isinstance(first, int) and not isinstance(first, bool) else 0
        return Reply(turn.presenter.package_page(views[0], start))

    @action(Verb.ACKNOWLEDGE)
    async def acknowledge(self, turn: Turn) -> Outcome:
        """Acknowledge (JB staff): record who and when, update every copy, tell the PoC (SOP 6.3)."""
        return await acknowledge(turn.app, turn.requester, turn.data.get("judiciary_code"), shown=turn.pressed_message)

    # -- /package

    @command("package")
    async def show_package(self, turn: Turn) -> None:
        """/package [judiciary code]: the Information Package like Chart 1 with approval dates (the PoC's copy)."""
        words = turn.args.split()
        code: str | None = None
        if words:
            try:
                code = parse_judiciary_code(words[0])
            except FieldErrors as problem:
                await turn.reply_card(message_card("Which package?", str(problem), kind="attention"))
                return
        outcome = packages_to_show(turn.app, turn.requester, code)
        if isinstance(outcome, NotFound):
            text = f"No Information Package has Judiciary Code {code}."
            await turn.reply_card(message_card("No such package", text))
            return
        if isinstance(outcome, Refused):
            await turn.reply_card(message_card("Not your agency's package", outcome.who_may))
            return
        shown = outcome.view if isinstance(outcome, Shown) and isinstance(outcome.view, tuple) else ()
        views = [view for view in shown if isinstance(view, PackageView)]
        if not views:
            packages = turn.app.db.packages.all()
            if turn.is_jb_staff and packages:
                listed = ", ".join(f"{p.judiciary_code} ({p.agency.agency_name})" for p in packages[:40])
                text = f"Type /package <judiciary code>. Packages: {listed}."
            else:
                text = (
                    "You are not the Point-of-Contact of any agency's Information Package. Start one with /new-package."
                )
            await turn.reply_card(message_card("Which package?", text))
            return
        tz = turn.app.settings.timezone
        for view in views:
            code = view.package.judiciary_code
            cards = with_package_downloads(turn, code, package_cards(view.package, view.officers, tz))
            for card in cards:
                await turn.reply_card(card, summary=f"Information Package {code}")

    # -- /subscribe

    @command("subscribe")
    async def subscribe(self, turn: Turn) -> None:
        """/subscribe <judiciary code | jb>: route an agency's alerts (or the JB's) to this channel or group chat."""
        words = turn.args.split()
        if not words:
            text = "Type /subscribe <judiciary code>, or /subscribe jb for the JB channel."
            await turn.reply_card(message_card("Which alerts?", text))
            return
        jb = turn.app.db.subscriptions.JB
        if words[0].lower() == jb:
            target = jb
        else:
            try:
                target = parse_judiciary_code(words[0])
            except FieldErrors as problem:
                text = f"{problem} Or type /subscribe jb for the JB channel."
                await turn.reply_card(message_card("Which alerts?", text, kind="attention"))
                return
        outcome = await subscribe(turn.app, turn.requester, target, turn.place)
        if isinstance(outcome, Refused):
            await turn.reply_card(message_card("Not changed", outcome.who_may, kind="attention"))
            return
        if isinstance(outcome, NotFound):
            text = (
                f"No Information Package has Judiciary Code {target} yet. Its Point-of-Contact sends it first with "
                "/new-package in a 1:1 chat with me."
            )
            await turn.reply_card(message_card("Not changed", text, kind="attention"))
            return
        assert isinstance(outcome, Done) and isinstance(outcome.view, Subscription)
        what = self._subscription_text(outcome.view)
        place = "channel" if turn.scope == "channel" else "group chat"
        text = f"This {place} now receives the {what}."
        count = outcome.view.delivered
        if count:
            what_waits = "the notice" if count == 1 else f"the {count} notices"
            text += f" I post {what_waits} still waiting for the JB here now."
        await turn.reply_card(message_card("Alerts routed here", text, kind="good"), summary="Subscribed")

    @staticmethod
    def _subscription_text(subscription: Subscription) -> str:
        if subscription.package is None and subscription.target == "jb":
            return "JB notices (new packages, readiness, incidents)"
        name = subscription.package.agency.agency_name if subscription.package else "Judiciary Code"
        return f"e-ticket alerts of {name} ({subscription.target})"

    # -- /set-poc

    @command("set-poc", requires=Action.SET_POC)
    async def set_poc(self, turn: Turn) -> None:
        """/set-poc <judiciary code> <e-mail or @mention> (JB staff): hand the PoC role to another person."""
        usage = "Type /set-poc <judiciary code> <e-mail or @mention of the person>."
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
        found = await self._roster_person(turn, email)
        if isinstance(found, str):
            await turn.reply_card(message_card(*self._not_found_text(found, email, usage), kind="attention"))
            return
        person, roster_email = found
        outcome = await set_poc(turn.app, turn.requester, code, person, roster_email or email)
        if isinstance(outcome, FormOpened | Invalid):  # Teams gave no usable e-mail: ask for it first (SOP 6.1)
            await turn.reply(outcome, summary="E-mail of the new Point-of-Contact")
            return
        summary = "Point-of-Contact changed" if isinstance(outcome, Done) else None
        await turn.reply_card(self._set_poc_answer(turn, outcome, code, person), summary=summary)

    @action(Verb.SET_POC_SUBMIT)
    async def set_poc_submit(self, turn: Turn) -> Outcome | Reply:
        """Submit on the e-mail form of /set-poc: the person is verified on Teams' roster again, then handed the role.

        Card data is untrusted: only the Azure AD object id travels in it, and the person's name comes from
        the roster of this conversation, as when the command was typed. A wrong e-mail comes back beside its
        field, nothing changed.
        """
        if not allowed(turn.app, turn.requester, Action.SET_POC):
            return Refused(who_may(Action.SET_POC))
        code, aad_id = turn.data.get("judiciary_code"), turn.data.get("aad_id")
        if not isinstance(code, str) or not is_judiciary_code(code) or not isinstance(aad_id, str) or not aad_id:
            return NotFound("package")
        roster = await self._roster(turn)
        if roster is None:
            return Reply(message_card(*self._not_found_text("roster", None, "")))
        member = next((m for m in roster if m.aad_object_id.lower() == aad_id.lower()), None)
        if member is None:
            text = "That person is no longer a member of this conversation: nothing was changed."
            return Reply(message_card("Nobody found", text, kind="attention"))
        person = Actor(aad_id=member.aad_object_id.lower(), name=(member.name or "").strip())
        typed = turn.data.get("poc_email")
        outcome = await set_poc(
            turn.app, turn.requester, parse_judiciary_code(code), person, typed if isinstance(typed, str) else ""
        )
        if isinstance(outcome, Done):
            return Reply(self._set_poc_answer(turn, outcome, code, person), update_message=True)
        return outcome

    @staticmethod
    def _set_poc_answer(turn: Turn, outcome: Outcome, code: str, person: Actor) -> Card:
        """What JB staff are told once /set-poc is done, refused or finds no package."""
        if isinstance(outcome, Refused):
            return message_card("Not changed", outcome.who_may, kind="attention")
        if not isinstance(outcome, Done) or not isinstance(outcome.view, PackageView):
            return message_card("Not changed", f"No Information Package has Judiciary Code {code}.", kind="attention")
        package = outcome.view.package
        told = turn.app.db.conversations.personal_chat_of(person.aad_id) is not None
        text = (
            f"{person.name or 'The person'} is now the Point-of-Contact of {package.agency.agency_name} ({code}). "
            + (
                "I told them in their 1:1 chat with me."
                if told
                else "I have no 1:1 chat with them yet: ask them to open one with me to receive the agency's notices."
            )
        )
        return message_card("Point-of-Contact changed", text, kind="good")

    async def _roster(self, turn: Turn) -> list[TeamsChannelAccount] | None:
        """The conversation's members (a channel's: its team's) from Teams; None when Teams does not answer."""
        try:
            members = await asyncio.wait_for(TeamsInfo.get_members(turn.context), MEMBER_LOOKUP_SECONDS)
        except Exception as error:  # no roster (a test double, an outage): nobody can be verified
            logger.info("roster unavailable in conversation=%s: %s", turn.place, type(error).__name__)
            return None
        return [member for member in members if member.aad_object_id]

    async def _roster_person(self, turn: Turn, email: str | None) -> tuple[Actor, str | None] | str:
        """The one person of the Teams roster the e-mail or the first @mention names, or why not.

        Only Teams' own roster verifies who a person is (their Azure AD object id, e-mail and UPN);
        text typed into a package never does. Returns the person with their e-mail from the roster (kept
        as the PoC's e-mail, SOP 6.1), or why not: "none", "many", "mention" or "roster".
        """
        mentioned = self._mention(turn)
        if email is None and mentioned is None:
            return "mention"
        roster = await self._roster(turn)
        if roster is None:
            return "roster"
        if email is not None:
            wanted = email.strip().lower()
            matches = [
                member
                for member in roster
                if wanted in {(member.email or "").lower(), (member.user_principal_name or "").lower()}
            ]
        else:
            assert mentioned is not None
            user_id, aad_id = mentioned
            matches = [
                member
                for member in roster
                if member.id == user_id or (aad_id and (member.aad_object_id or "").lower() == aad_id.lower())
            ]
        if not matches:
            return "none"
        if len({member.aad_object_id.lower() for member in matches}) > 1:
            return "many"
        member = matches[0]
        address = member.email or member.user_principal_name
        verified = address if isinstance(address, str) and _EMAIL.match(address) else None
        return Actor(aad_id=member.aad_object_id.lower(), name=(member.name or "").strip()), verified

    @staticmethod
    def _not_found_text(reason: str, email: str | None, usage: str) -> tuple[str, str]:
        """What JB staff are told when the roster does not name exactly one person (nothing was changed)."""
        who = f"the e-mail {email}" if email else "that @mention"
        if reason == "many":
            return (
                "More than one person",
                f"More than one member of this conversation matches {who}: nothing was changed.",
            )
        if reason == "roster":
            return "Nobody found", (
                "Teams did not give me this conversation's members, so I cannot verify whom you mean: nothing was "
                "changed. Please try again in a moment."
            )
        if reason == "mention":
            return "Whom?", f"I could not tell whom you mean: nothing was changed. {usage}"
        return "Nobody found", (
            f"No member of this conversation matches {who}: nothing was changed. Type the command in a chat or "
            "channel the person is a member of, or @mention them there."
        )

    def _mention(self, turn: Turn) -> tuple[str, str | None] | None:
        """The first @mentioned user other than the bot: their Teams user id and, when given, Azure AD object id."""
        activity: Activity = turn.context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        for entity in activity.entities or []:
            doc = (
                entity if isinstance(entity, Mapping) else {"type": entity.type, **(entity.additional_properties or {})}
            )
            mentioned = doc.get("mentioned") if doc.get("type") == "mention" else None
            if not isinstance(mentioned, Mapping) or not mentioned.get("id") or mentioned.get("id") == bot_id:
                continue
            aad = mentioned.get("aadObjectId")
            return str(mentioned["id"]), aad if isinstance(aad, str) and aad else None
        return None
