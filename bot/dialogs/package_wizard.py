"""The Information Package wizard (``/new-package``, ``/add-officer``): one card that changes in place.

The wizard is a list of named steps (data, below); each press of an Action.Execute button answers
with the next step's card. Its state lives in ConversationState (saved once per turn by JbBot) in
durable storage, so an unfinished wizard resumes after a restart.

```mermaid
stateDiagram-v2
    [*] --> records_system: /new-package
    records_system --> [*]: TraCS / Spillman (referral to the other SOP)
    records_system --> preconditions: Valcour
    preconditions --> agency: both confirmed (SOP 5)
    agency --> officers: new Judiciary Code, or its package exists and you are its PoC / JB staff
    [*] --> choose_agency: /add-officer, PoC of several agencies
    [*] --> officers: /add-officer, one agency
    choose_agency --> officers
    officers --> officers: Add another officer, Edit, Remove
    officers --> review
    review --> officers: Edit
    review --> agency: Edit
    review --> [*]: Submit (stored, JB told) or Cancel at any step
```
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cards.common import message_card
from cards.package import (
    AgencySummary,
    OfficerRow,
    StepFrame,
    agency_card,
    choose_agency_card,
    confirmation_card,
    officers_card,
    preconditions_card,
    records_system_card,
    referral_card,
    resume_card,
    review_card,
    summary_of,
)
from domain.policy import Action, Requester
from domain.records import Actor
from domain.validation import (
    AGENCY_FIELDS,
    OFFICER_FIELDS,
    FieldErrors,
    is_officer_number,
    parse_judiciary_code,
    parse_officer_number,
)
from domain.views import PackageView
from services.access import allowed
from services.context import AppContext, new_id
from services.notices import Audience
from services.outcomes import Done, Invalid, NotFound, Refused
from services.packages import (
    PACKAGE_EXISTS,
    PRECONDITIONS,
    add_officers,
    check_agency,
    check_officer,
    other_agency_notes,
    poc_line,
    submit_package,
)
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

STATE_PROPERTY = "package_wizard"
"""The ConversationState property that holds the wizard (one per 1:1 chat)."""


@dataclass
class WizardState:
    """Everything typed so far (as typed, so a refused answer is kept) and where the wizard stands."""

    id: str
    mode: str  # "new" (/new-package) | "add" (/add-officer)
    step: str
    owner: str
    records_system: str | None = None
    valcour_installed: bool = False
    officers_trained: bool = False
    agency: dict[str, str] = field(default_factory=dict)
    target: str | None = None  # the Judiciary Code of an existing package officers are added to
    choices: list[list[str]] = field(default_factory=list)  # [code, agency name] for choose_agency
    officers: list[dict[str, str]] = field(default_factory=list)
    draft: dict[str, str] | None = None
    draft_index: int | None = None
    page: int = 0
    offer: str | None = None  # a Judiciary Code with a package, offered at the agency step: add officers to it?
    officers_page: int | None = None  # the page of officers shown at the officers step (None: the last)

    def to_doc(self) -> dict[str, Any]:
        """The JSON form kept in ConversationState."""
        return dict(self.__dict__)

    @classmethod
    def from_doc(cls, doc: object) -> WizardState | None:
        """The state from ConversationState; None when absent or unreadable (an old format)."""
        if not isinstance(doc, dict):
            return None
        try:
            return cls(**copy.deepcopy(doc))
        except TypeError:
            logger.warning("dropping a wizard state of an unknown format")
            return None


@dataclass(frozen=True)
class WizardEnv:
    """Who is pressing, and the app: what every step needs."""

    app: AppContext
    requester: Requester
    email_hint: str | None = None

    @property
    def actor(self) -> Actor:
        """The person pressing."""
        return self.requester.actor

    @property
    def is_staff(self) -> bool:
        """Whether the person is JB e-ticket staff."""
        return self.requester.is_staff


@dataclass(frozen=True)
class WizardReply:
    """The card to answer with, the wizard's state afterwards (None: it ended) and whether the message changes for good."""

    card: dict[str, Any]
    state: WizardState | None
    final: bool = False


@dataclass(frozen=True)
class Accepted:
    """What a step made of its inputs: problems beside fields, or where to go next, or the end."""

    errors: Mapping[str, str] = field(default_factory=dict)
    goto: str | None = None
    message: str | None = None
    ended: dict[str, Any] | None = None


Render = Callable[[WizardEnv, WizardState, Mapping[str, str], "StepFrame"], dict[str, Any]]
Accept = Callable[[WizardEnv, WizardState, Mapping[str, Any]], Accepted]


@dataclass(frozen=True)
class Step:
    """One named step: its title, how it renders, and what Next does with its inputs."""

    name: str
    title: str
    render: Render
    accept: Accept


# ---- the steps ----------------------------------------------------------------------------------------


def _text_values(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The answers as typed (text only), to keep them on the card when something is refused."""
    return {name: data[name] for name in names if isinstance(data.get(name), str)}


def _render_records_system(
    env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame
) -> dict[str, Any]:
    return records_system_card(frame, state.records_system, errors)


def _accept_records_system(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    value = data.get("records_system")
    if value == "tracs_spillman":
        return Accepted(ended=referral_card())
    if value != "valcour":
        return Accepted(errors={"records_system": "Choose your agency's records management system."})
    state.records_system = "valcour"
    return Accepted()


def _render_preconditions(
    env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame
) -> dict[str, Any]:
    values = {"valcour_installed": state.valcour_installed, "officers_trained": state.officers_trained}
    return preconditions_card(frame, values, errors)


def _accept_preconditions(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    state.valcour_installed = data.get("valcour_installed") == "true"
    state.officers_trained = data.get("officers_trained") == "true"
    errors = {}
    if not state.valcour_installed:
        errors["valcour_installed"] = (
            "Valcour must be installed on the computers used to issue e-tickets before you send the package (SOP 5)."
        )
    if not state.officers_trained:
        errors["officers_trained"] = (
            "Your officers must be trained in Valcour e-ticketing before you send the package (SOP 5)."
        )
    return Accepted(errors=errors)


def _render_agency(env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame) -> dict[str, Any]:
    package = env.app.db.packages.get(state.offer) if state.offer else None
    offer = (package.judiciary_code, package.agency.agency_name) if package is not None else None
    return agency_card(frame, state.agency, errors, offer=offer)


def _accept_agency(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    state.agency = _text_values(data, AGENCY_FIELDS)
    try:
        check = check_agency(env.app, state.agency, env.requester)
    except FieldErrors as problem:
        return Accepted(errors=problem.errors)
    message = None
    state.offer = None
    if check.existing is not None:
        code = check.existing.judiciary_code
        if data.get("existing") != code:  # an explicit choice, never a silent switch: what was typed stays
            state.offer = code
            return Accepted(
                errors={
                    "judiciary_code": (
                        f"Judiciary Code {code} already has an Information Package "
                        f"({check.existing.agency.agency_name}). Add your officers to it, or change the code if "
                        "you typed it wrong."
                    )
                }
            )
        state.target = code
        message = (
            f"You are adding officers to the Information Package of {check.existing.agency.agency_name} ({code}); "
            "its agency details stay as they are."
        )
    else:
        state.target = None
    if not state.officers and state.draft is None:
        state.draft = {}
    return Accepted(message=message)


def _render_choose_agency(
    env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame
) -> dict[str, Any]:
    return choose_agency_card(frame, [(code, name) for code, name in state.choices], errors, state.target)


def _accept_choose_agency(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    code = data.get("judiciary_code")
    if not isinstance(code, str) or code not in {choice[0] for choice in state.choices}:
        return Accepted(errors={"judiciary_code": "Choose an agency."})
    state.target = code
    if not state.officers and state.draft is None:
        state.draft = {}
    return Accepted()


def _rows(env: WizardEnv, state: WizardState) -> list[OfficerRow]:
    return [
        OfficerRow.of(values, other_agency_notes(env.app, values.get("officer_number", ""), state.target))
        for values in state.officers
    ]


def _agency_line(env: WizardEnv, state: WizardState) -> str:
    if state.target is not None:
        package = env.app.db.packages.get(state.target)
        if package is not None:
            return f"{package.agency.agency_name} ({package.judiciary_code})"
    name = state.agency.get("agency_name", "")
    code = state.agency.get("judiciary_code", "")
    return f"{name} ({code})" if name or code else ""


def _render_officers(env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame) -> dict[str, Any]:
    return officers_card(
        frame,
        page=state.officers_page,
        agency_line=_agency_line(env, state),
        saved=_rows(env, state),
        draft=state.draft,
        draft_index=state.draft_index,
        errors=errors,
        today=env.app.today(),
    )


def _is_blank(values: Mapping[str, Any]) -> bool:
    return not any(isinstance(values.get(name), str) and values[name].strip() for name in OFFICER_FIELDS)


def _save_draft(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Mapping[str, str]:
    """Check the officer form and keep it in the list; returns problems beside its fields (form kept)."""
    state.draft = _text_values(data, OFFICER_FIELDS)
    taken = [values["officer_number"] for index, values in enumerate(state.officers) if index != state.draft_index]
    try:
        entry = check_officer(env.app, state.draft, env.app.today(), judiciary_code=state.target, taken=taken)
    except FieldErrors as problem:
        return problem.errors
    row = {
        "officer_number": entry.officer_number,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "dps_username": entry.dps_username,
        "start_date": entry.start_date.isoformat(),
    }
    if state.draft_index is not None and state.draft_index < len(state.officers):
        state.officers[state.draft_index] = row
    else:
        state.officers.append(row)
    state.draft = None
    state.draft_index = None
    state.officers_page = None  # back to the last page, where the officer just saved shows
    return {}


def _accept_officers(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    if state.draft is not None and not (state.officers and _is_blank(data)):
        errors = _save_draft(env, state, data)
        if errors:
            return Accepted(errors=errors)
    state.draft = None
    state.draft_index = None
    if not state.officers:
        state.draft = {}
        return Accepted(errors={"form": "Add at least one officer."})
    state.page = 0
    return Accepted()


def _render_review(env: WizardEnv, state: WizardState, errors: Mapping[str, str], frame: StepFrame) -> dict[str, Any]:
    package = env.app.db.packages.get(state.target) if state.target is not None else None
    if package is not None:
        agency = summary_of(package)
        existing = len(env.app.db.officers.of_agency(package.judiciary_code))
    else:
        agency = AgencySummary(
            *(
                state.agency.get(name, "")
                for name in (
                    "judiciary_code",
                    "agency_name",
                    "letterhead_address",
                    "letterhead_phone",
                    "poc_name",
                    "poc_email",
                )
            )
        )
        existing = 0
    return review_card(
        frame,
        agency=agency,
        officers=_rows(env, state),
        new_package=state.mode == "new" and package is None,
        records_system=state.records_system,
        attested=state.valcour_installed and state.officers_trained,
        page=state.page,
        existing_count=existing,
        agency_editable=state.mode == "new",
        errors=errors,
    )


def _accept_review(env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> Accepted:
    return Accepted(goto="review")


NEW_PACKAGE_STEPS: tuple[Step, ...] = (
    Step("records_system", "Records system", _render_records_system, _accept_records_system),
    Step("preconditions", "Pre-conditions", _render_preconditions, _accept_preconditions),
    Step("agency", "Agency and Point-of-Contact", _render_agency, _accept_agency),
    Step("officers", "Officers", _render_officers, _accept_officers),
    Step("review", "Review and submit", _render_review, _accept_review),
)
"""``/new-package``: SOP 1, 5 and 6.1 in order."""

ADD_OFFICER_STEPS: tuple[Step, ...] = (
    Step("choose_agency", "Which agency", _render_choose_agency, _accept_choose_agency),
    Step("officers", "Officers", _render_officers, _accept_officers),
    Step("review", "Review and submit", _render_review, _accept_review),
)
"""``/add-officer``: the agency is asked only of a PoC of several agencies (or JB staff)."""


def steps_of(state: WizardState) -> tuple[Step, ...]:
    """The steps this wizard walks through."""
    if state.mode == "new":
        return NEW_PACKAGE_STEPS
    return ADD_OFFICER_STEPS if state.choices else ADD_OFFICER_STEPS[1:]


def _step(state: WizardState, name: str) -> Step | None:
    return next((step for step in steps_of(state) if step.name == name), None)


# ---- the wizard ---------------------------------------------------------------------------------------


class PackageWizard:
    """Starts the wizard and answers each press with the next card; the steps above are its data."""

    VERBS: tuple[Verb, ...] = (
        Verb.WIZARD_NEXT,
        Verb.WIZARD_BACK,
        Verb.WIZARD_EDIT,
        Verb.WIZARD_ADD_OFFICER,
        Verb.WIZARD_REMOVE_OFFICER,
        Verb.WIZARD_SUBMIT,
        Verb.WIZARD_CANCEL,
        Verb.WIZARD_RESUME,
        Verb.WIZARD_RESTART,
    )
    """The card verbs the wizard answers (each has a press handler below)."""

    def __init__(self) -> None:
        self._presses: dict[Verb, Callable[[WizardEnv, WizardState, Mapping[str, Any]], Awaitable[WizardReply]]] = {
            Verb.WIZARD_NEXT: self._next,
            Verb.WIZARD_BACK: self._back,
            Verb.WIZARD_EDIT: self._edit,
            Verb.WIZARD_ADD_OFFICER: self._add_officer,
            Verb.WIZARD_REMOVE_OFFICER: self._remove_officer,
            Verb.WIZARD_SUBMIT: self._submit,
            Verb.WIZARD_CANCEL: self._cancel,
            Verb.WIZARD_RESUME: self._resume,
            Verb.WIZARD_RESTART: self._restart,
        }
        assert set(self._presses) == set(self.VERBS)

    def card(
        self,
        env: WizardEnv,
        state: WizardState,
        errors: Mapping[str, str] | None = None,
        message: str | None = None,
        kind: str = "attention",
    ) -> dict[str, Any]:
        """The card of the wizard's current step, with problems beside fields and an optional message on top."""
        errors = dict(errors or {})
        form_problem = errors.pop("form", None)
        if form_problem:
            message = f"{message} {form_problem}" if message else form_problem
        if errors and not message:
            message = (
                "Please correct the answer marked below."
                if len(errors) == 1
                else "Please correct the answers marked below."
            )
        steps = steps_of(state)
        index = next((i for i, step in enumerate(steps) if step.name == state.step), 0)
        step = steps[index]
        prefix = "New Information Package" if state.mode == "new" else "Add officers"
        frame = StepFrame(
            wizard_id=state.id,
            step=step.name,
            title=f"{prefix}: {step.title}",
            number=index + 1,
            count=len(steps),
            message=message,
            message_kind=kind if not errors else "attention",
            can_go_back=index > 0,
        )
        return step.render(env, state, errors, frame)

    # -- starting

    def start_new(self, env: WizardEnv, current: WizardState | None) -> WizardReply:
        """``/new-package``: the first step, or Resume / Start over when a wizard is unfinished."""
        if current is not None:
            return self._offer_resume(current, "new")
        agency = {"poc_name": env.actor.name} if env.actor.name else {}
        if env.email_hint:
            agency["poc_email"] = env.email_hint
        state = WizardState(id=new_id(), mode="new", step="records_system", owner=env.actor.aad_id, agency=agency)
        logger.info("wizard started wizard=%s mode=new", state.id)
        return WizardReply(self.card(env, state), state)

    def start_add(self, env: WizardEnv, current: WizardState | None, args: str) -> WizardReply:
        """``/add-officer [judiciary code] [officer number]``: officers for the person's package.

        Asks which package for a PoC of several; an officer number (from an unknown-officer alert's
        Add this officer) is filled in on the first officer form.
        """
        if current is not None:
            return self._offer_resume(current, "add", args)
        db = env.app.db
        state = WizardState(id=new_id(), mode="add", step="officers", owner=env.actor.aad_id, draft={})
        if args.strip():
            try:
                code = parse_judiciary_code(args.split(maxsplit=1)[0])
            except FieldErrors as problem:
                return WizardReply(message_card("Which agency?", str(problem)), None)
            package = db.packages.get(code)
            if package is None:
                return WizardReply(
                    message_card(
                        "No such package",
                        f"No Information Package has Judiciary Code {code}. Start one with /new-package.",
                    ),
                    None,
                )
            if not allowed(env.app, env.requester, Action.ADD_OFFICER, package):
                return WizardReply(
                    message_card(
                        "Not your agency's package",
                        (
                            f"Only the Point-of-Contact of {package.agency.agency_name} ({poc_line(package)}) or JB e-ticket staff can "
                            "add officers to it. If you are taking over, ask JB e-ticket staff to hand you the role with /set-poc."
                        ),
                    ),
                    None,
                )
            state.target = code
            words = args.split()
            if len(words) > 1 and is_officer_number(words[1]):
                state.draft = {"officer_number": parse_officer_number(words[1])}
        else:
            packages = db.packages.all() if env.is_staff else db.packages.for_poc(env.actor.aad_id)
            if not packages:
                text = (
                    "There is no Information Package yet."
                    if env.is_staff
                    else "You are not the Point-of-Contact of any agency's Information Package. Start one with /new-package, "
                    "or, if you are taking over from someone, ask JB e-ticket staff to hand you the role with /set-poc."
                )
                return WizardReply(message_card("No package to add officers to", text), None)
            if len(packages) == 1:
                state.target = packages[0].judiciary_code
            else:
                state.choices = [[package.judiciary_code, package.agency.agency_name] for package in packages]
                state.step = "choose_agency"
                state.draft = None
        logger.info("wizard started wizard=%s mode=add", state.id)
        return WizardReply(self.card(env, state), state)

    def _offer_resume(self, current: WizardState, mode: str, args: str = "") -> WizardReply:
        step = _step(current, current.step)
        what = "Information Package" if current.mode == "new" else "list of officers to add"
        card = resume_card(
            current.id, step.title if step else current.step, what=what, restart={"mode": mode, "args": args}
        )
        return WizardReply(card, current)

    # -- presses

    async def press(
        self, env: WizardEnv, verb: Verb, data: Mapping[str, Any], state: WizardState | None
    ) -> WizardReply:
        """Answer one press of a wizard button with the card to show and the state to keep."""
        if state is None or data.get("wizard") != state.id:
            text = (
                "This card belongs to a wizard that has ended. "
                if state is None
                else "You have started another wizard since; use its card, or type /new-package to resume it. "
            )
            return WizardReply(
                message_card("This card is out of date", text + "Nothing was changed."), state, final=state is None
            )
        if state.owner and env.actor.aad_id and state.owner != env.actor.aad_id:
            return WizardReply(
                message_card("Not your card", "This wizard belongs to someone else. Nothing was changed."), state
            )
        handler = self._presses[verb]
        return await handler(env, state, data)

    def _behind(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply | None:
        """When the pressed card shows another step than the wizard's, answer with the current step."""
        if data.get("step") == state.step:
            return None
        return WizardReply(
            self.card(env, state, message="That card was behind; here is where you are.", kind="warning"), state
        )

    async def _next(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        behind = self._behind(env, state, data)
        if behind is not None:
            return behind
        step = _step(state, state.step)
        assert step is not None
        outcome = step.accept(env, state, data)
        if outcome.ended is not None:
            logger.info("wizard ended wizard=%s at step=%s", state.id, state.step)
            return WizardReply(outcome.ended, None, final=True)
        if outcome.errors:
            return WizardReply(self.card(env, state, outcome.errors), state)
        names = [s.name for s in steps_of(state)]
        state.step = outcome.goto or names[min(names.index(state.step) + 1, len(names) - 1)]
        return WizardReply(self.card(env, state, message=outcome.message, kind="warning"), state)

    async def _back(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        behind = self._behind(env, state, data)
        if behind is not None:
            return behind
        names = [s.name for s in steps_of(state)]
        state.step = names[max(names.index(state.step) - 1, 0)]
        if state.step != "officers":
            state.draft = None if state.officers else state.draft
            state.draft_index = None
        return WizardReply(self.card(env, state), state)

    async def _edit(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        target = data.get("to")
        if _step(state, target) is None:  # type: ignore[arg-type]
            return WizardReply(self.card(env, state), state)
        state.step = target  # type: ignore[assignment]
        if target == "officers" and "page" in data:  # paging through the officers entered: the form stays
            page = data.get("page")
            state.officers_page = page if isinstance(page, int) and not isinstance(page, bool) and page >= 0 else None
            return WizardReply(self.card(env, state), state)
        if target == "officers":
            index = data.get("officer")
            if isinstance(index, int) and 0 <= index < len(state.officers):
                state.draft = dict(state.officers[index])
                state.draft_index = index
            elif state.officers:
                state.draft, state.draft_index = None, None
            else:
                state.draft, state.draft_index = {}, None
        if target == "review":
            page = data.get("page")
            state.page = page if isinstance(page, int) and page >= 0 else 0
        return WizardReply(self.card(env, state), state)

    async def _add_officer(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        behind = self._behind(env, state, data)
        if behind is not None or state.step != "officers":
            return behind or WizardReply(self.card(env, state), state)
        if state.draft is not None:
            errors = _save_draft(env, state, data)
            if errors:
                return WizardReply(self.card(env, state, errors), state)
        state.draft, state.draft_index = {}, None
        return WizardReply(self.card(env, state), state)

    async def _remove_officer(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        behind = self._behind(env, state, data)
        if behind is not None or state.step != "officers":
            return behind or WizardReply(self.card(env, state), state)
        which = data.get("officer")
        if which == "draft":
            state.draft, state.draft_index = None, None
        elif isinstance(which, int) and 0 <= which < len(state.officers):
            del state.officers[which]
            if state.draft_index == which:
                state.draft, state.draft_index = None, None
            elif state.draft_index is not None and state.draft_index > which:
                state.draft_index -= 1
        if not state.officers and state.draft is None:
            state.draft = {}
        return WizardReply(self.card(env, state), state)

    async def _submit(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        behind = self._behind(env, state, data)
        if behind is not None or state.step != "review":
            return behind or WizardReply(self.card(env, state), state)
        if state.target is None:
            outcome = await submit_package(
                env.app,
                env.requester,
                state.agency,
                state.officers,
                valcour_installed=state.valcour_installed,
                officers_trained=state.officers_trained,
            )
        else:
            if "officers_trained" in data:  # the review's attestation for the officers added (SOP 5)
                state.officers_trained = data.get("officers_trained") == "true"
            outcome = await add_officers(
                env.app, env.requester, state.target, state.officers, officers_trained=state.officers_trained
            )
        match outcome:
            case Done(view=PackageView() as view):
                added = len(state.officers)
                logger.info(
                    "wizard submitted wizard=%s judiciary_code=%s officers=%d",
                    state.id,
                    view.package.judiciary_code,
                    added,
                )
                tz = env.app.settings.timezone
                count = None if state.target is None else added
                reached = env.app.notifier.reaches(Audience.jb())
                card = confirmation_card(view.package, view.officers, tz, added=count, jb_reached=reached)
                return WizardReply(card, None, final=True)
            case Invalid(errors=errors) if PRECONDITIONS in errors:
                state.step = "preconditions"
                return WizardReply(self.card(env, state, message=errors[PRECONDITIONS]), state)
            case Invalid(errors=errors) if PACKAGE_EXISTS in errors:
                state.step = "agency"
                message = errors[PACKAGE_EXISTS] + " Press Next to add your officers to it."
                return WizardReply(self.card(env, state, message=message), state)
            case Invalid(errors=errors) if "officers_trained" in errors:
                return WizardReply(self.card(env, state, errors), state)
            case Invalid(errors=errors) if "form" in errors:
                return WizardReply(self.card(env, state, message=errors["form"]), state)
            case Invalid(errors=errors):
                return self._refused_at_submit(env, state, errors)
            case Refused(who_may=text):
                return WizardReply(self.card(env, state, message=f"{text} Nothing was sent."), state)
            case NotFound():
                text = f"No Information Package has Judiciary Code {state.target} any more. Nothing was sent."
                return WizardReply(self.card(env, state, message=text), state)
        raise TypeError(f"unexpected outcome {type(outcome).__name__}")

    def _refused_at_submit(self, env: WizardEnv, state: WizardState, errors: Mapping[str, str]) -> WizardReply:
        """A value that passed its step but not the final check (e.g. a start date now past): back to its field."""
        agency_errors = {key: value for key, value in errors.items() if not key.startswith("officer:")}
        if agency_errors:
            state.step = "agency"
            return WizardReply(self.card(env, state, agency_errors), state)
        first = sorted(errors, key=lambda key: int(key.split(":")[1]))[0]
        index = int(first.split(":")[1])
        officer_errors = {
            key.split(":")[2]: value for key, value in errors.items() if key.startswith(f"officer:{index}:")
        }
        state.step = "officers"
        state.draft = dict(state.officers[index])
        state.draft_index = index
        return WizardReply(self.card(env, state, officer_errors), state)

    async def _cancel(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        logger.info("wizard cancelled wizard=%s at step=%s", state.id, state.step)
        command = "/new-package" if state.mode == "new" else "/add-officer"
        return WizardReply(
            message_card("Cancelled", f"Nothing was sent. Type {command} to start again."), None, final=True
        )

    async def _resume(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        return WizardReply(self.card(env, state), state)

    async def _restart(self, env: WizardEnv, state: WizardState, data: Mapping[str, Any]) -> WizardReply:
        logger.info("wizard restarted wizard=%s", state.id)
        args = data.get("args") if isinstance(data.get("args"), str) else ""
        if data.get("mode") == "add":
            return self.start_add(env, None, args)  # type: ignore[arg-type]
        return self.start_new(env, None)
