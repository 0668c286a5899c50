"""Approval of officers (SOP 3, 6.5–6.7): readiness from the records, Approve, Extend monitoring, Withdraw.

Every use case reads, decides and builds its changes with no ``await`` in between, then commits them
atomically (officer, audit entry, readiness memory and notices together). Two JB staff pressing
Approve at once therefore approve once: the second press reads the first one's result.
Use cases return outcomes (``services.outcomes``); the presenter draws them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from domain.policy import Action, Requester, who_may
from domain.readiness import (
    OfficerFigures,
    Readiness,
    figures_from_states,
    keep_for,
    readiness_from_figures,
    ready_from_figures,
)
from domain.records import SYSTEM, Actor, Extension, Officer, OfficerState, Stamp
from domain.tickets import TicketState, TicketSummary
from domain.validation import FieldErrors, parse_extension, parse_officer_number
from domain.views import ExtensionForm, OfficerView
from services.access import allowed
from services.audit import audit_op, audit_refusal, officer_target
from services.context import AppContext
from services.notices import (
    ApprovalNotice,
    Audience,
    CopiesUpdate,
    Notice,
    OfficerCard,
    WithdrawnNotice,
    readiness_subject,
)
from services.outcomes import (
    AlreadyDone,
    Done,
    FormOpened,
    Happening,
    Invalid,
    NeedsConfirmation,
    NotFound,
    NotPossible,
    Outcome,
    Refused,
    Shown,
)
from services.ports import Change

logger = logging.getLogger(__name__)

T = TypeVar("T")

WITHDRAWN_CANNOT_APPROVE = "This officer was withdrawn from the Information Package, so they cannot be approved."
WITHDRAWN = "This officer was withdrawn from the Information Package."


RECHECK_SLICE_SECONDS = 0.01
"""How long one slice of the re-check reads and decides before it commits and hands the event loop back."""
RECHECK_SLICE_CARDS = 8
"""How many readiness cards one slice draws at most (the notifier draws them when the slice commits)."""


def figures_keep(app: AppContext) -> int:
    """How long the figures' lists are with this bot's clean streak."""
    return keep_for(app.settings.ready_clean_streak)


def rebuilt_figures(
    app: AppContext, officer: Officer, states: Iterable[TicketState | TicketSummary] | None = None
) -> OfficerFigures:
    """An officer's figures from scratch, from the tickets credited to them (their stored summaries unless given)."""
    if states is None:
        states = app.db.ticket_states.summaries_of(officer.key)
    return figures_from_states(officer, states, app.settings.timezone, keep=figures_keep(app))


def stored_figures(app: AppContext, officer: Officer) -> OfficerFigures | None:
    """The officer's stored figures when they count the membership as it now is, else None."""
    figures = app.db.figures.get(officer.key)
    if figures is None or not figures.built_for(officer, app.settings.timezone, figures_keep(app)):
        return None
    return figures


def figures_of(app: AppContext, officer: Officer) -> OfficerFigures:
    """What readiness needs of the officer's e-tickets: as stored, or rebuilt when missing or out of date.

    A rebuild reads the officer's ticket states; it happens only for a membership whose figures were
    never stored or were built before it changed (a re-add, a new start date), and the next write
    about the officer stores them.
    """
    figures = stored_figures(app, officer)
    if figures is None:
        logger.info("readiness figures rebuilt officer=%s", officer.key)
        figures = rebuilt_figures(app, officer)
    return figures


def _judged(
    app: AppContext,
    officer: Officer,
    rule: Callable[..., T],
    today: date | None = None,
    figures: OfficerFigures | None = None,
) -> T:
    """Apply a readiness rule (the conditions worded, or only whether they hold) with the settings' numbers.

    ``today`` is the court date judged on (default: today; /status reads it once for every officer);
    ``figures`` the officer's, when the caller has them newer than the stored ones.
    """
    settings = app.settings
    return rule(
        officer,
        figures or figures_of(app, officer),
        app.db.incidents.open_count_of_officer(officer.key),
        app.today() if today is None else today,
        settings.timezone,
        min_accepted=settings.ready_min_accepted,
        min_days=settings.ready_min_days,
        clean_streak=settings.ready_clean_streak,
    )


def assess(app: AppContext, officer: Officer, figures: OfficerFigures | None = None) -> Readiness:
    """The officer's readiness today on the court calendar, from their figures and open incidents."""
    return _judged(app, officer, readiness_from_figures, figures=figures)


def is_ready(app: AppContext, officer: Officer, today: date | None = None) -> bool:
    """Whether the officer is ready for approval on ``today`` (default: today): ``assess(...).ready``, unworded."""
    return _judged(app, officer, ready_from_figures, today)


def view_of(app: AppContext, officer: Officer, figures: OfficerFigures | None = None) -> OfficerView:
    """Everything a readiness card shows about one officer (``figures``: theirs, when newer than those stored)."""
    return OfficerView(
        officer=officer,
        package=app.db.packages.get(officer.judiciary_code),
        readiness=assess(app, officer, figures),
        incidents_total=app.db.incidents.count_of_officer(officer.key),
        tz=app.settings.timezone,
    )


def find_officer(app: AppContext, judiciary_code: object, officer_number: object) -> Officer | None:
    """The membership named by a card's data, or None (data from a card is never trusted as typed)."""
    if not isinstance(judiciary_code, str) or not isinstance(officer_number, str):
        return None
    return app.db.officers.get(judiciary_code, officer_number.strip().upper())


# ---- readiness checks --------------------------------------------------------------------------------


async def recheck(app: AppContext, officer_keys: Iterable[str] | None = None) -> list[str]:
    """Re-check readiness (every officer in monitoring when ``officer_keys`` is None); returns the keys that became ready.

    An officer who became ready sends the readiness card to the JB (once: the last known readiness is
    remembered durably); one who stopped being ready gets every copy of their card brought up to date.
    Officers are re-checked in slices, each read, decided and committed with no ``await`` in between;
    a slice ends after ``RECHECK_SLICE_SECONDS`` or ``RECHECK_SLICE_CARDS`` cards, and the event loop is
    handed back before the next. Figures that had to be rebuilt (never stored, or built before the
    membership changed) are stored on the way.
    """
    memory = app.db.readiness
    if officer_keys is None:
        keys = {officer.key for officer in app.db.officers.in_state(OfficerState.MONITORING)}
        keys |= set(memory.ready_keys())
    else:
        keys = set(officer_keys)
    pending = sorted(keys)
    became_ready: list[str] = []
    slices = 0
    while pending:
        done, ready = await _recheck_slice(app, pending)
        pending = pending[done:]
        became_ready += ready
        slices += 1
    if slices > 1 or became_ready:
        logger.info("readiness rechecked officers=%d became_ready=%d slices=%d", len(keys), len(became_ready), slices)
    return became_ready


async def _recheck_slice(app: AppContext, keys: Sequence[str]) -> tuple[int, list[str]]:
    """Re-check officers from the front of ``keys`` for one slice and commit what changed (or just hand the loop back).

    Returns how many of ``keys`` it re-checked (at least one) and those that became ready.
    """
    db = app.db
    memory = db.readiness
    now = app.now()
    deadline = time.perf_counter() + RECHECK_SLICE_SECONDS
    changes: list[Change] = []
    notices: list[Notice] = []
    updates: list[CopiesUpdate] = []
    became_ready: list[str] = []
    done = 0
    for key in keys:
        if done and (time.perf_counter() > deadline or len(notices) + len(updates) >= RECHECK_SLICE_CARDS):
            break
        done += 1
        code, _, number = key.partition(":")
        officer = db.officers.get(code, number)
        was_ready = memory.was_ready(key)
        if officer is None:
            if was_ready:
                changes.append(memory.put(key, False, now))
            continue
        if officer.state is not OfficerState.MONITORING and not was_ready:
            continue  # only an officer in monitoring can be ready: nothing to re-read or re-decide
        if stored_figures(app, officer) is None:
            changes.append(db.figures.put(rebuilt_figures(app, officer)))
        if is_ready(app, officer) == was_ready:
            continue
        view = view_of(app, officer)
        ready = view.readiness.ready
        changes.append(memory.put(key, ready, now))
        changes.append(
            audit_op(
                app,
                SYSTEM,
                "officer.readiness",
                officer_target(officer),
                {"ready": was_ready},
                {"ready": ready, "summary": view.readiness.summary},
            )
        )
        if ready:
            became_ready.append(key)
            summary = f"Ready for approval: {officer.officer_number}"
            notices.append(Notice((Audience.jb(),), OfficerCard(view), summary, subject=readiness_subject(key)))
        else:
            updates.append(CopiesUpdate(readiness_subject(key), OfficerCard(view)))
    if changes:
        await app.commit(changes, notices, updates)
    else:
        await asyncio.sleep(0)
    return done, became_ready


async def _audit_only(
    app: AppContext, actor: Actor, action: str, officer: Officer, detail: dict[str, Any] | None = None
) -> None:
    """Record a press that changed nothing (refused, already done, a form opened)."""
    await app.commit([audit_op(app, actor, action, officer_target(officer), None, detail)])


async def _already(
    app: AppContext, actor: Actor, action: str, officer: Officer, stamp: Stamp, what: Happening
) -> Outcome:
    """A press of something already done, answered only once the record that says so is durable.

    Raises StorageUnavailable if the write that did it failed (it was undone): the press then gets
    the same failure as the first one, never "already done". The card shows the officer as read again.
    """
    await app.db.officers.settled(officer.judiciary_code, officer.officer_number)
    await _audit_only(app, actor, action, officer)
    current = app.db.officers.get(officer.judiciary_code, officer.officer_number) or officer
    return AlreadyDone(view_of(app, current), stamp, what)


# ---- approve (SOP 6.6) -------------------------------------------------------------------------------


async def approve(
    app: AppContext,
    requester: Requester,
    judiciary_code: object,
    officer_number: object,
    *,
    confirmed: bool,
    shown: str | None = None,
) -> Outcome:
    """JB staff approve an officer: approval date recorded, state approved, every copy updated, the PoC told.

    An officer who is not ready needs ``confirmed`` (the card lists what is missing first).
    """
    actor = requester.actor
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    package = app.db.packages.get(officer.judiciary_code)
    if not allowed(app, requester, Action.APPROVE, package):
        await audit_refusal(app, actor, "officer.approve.denied", officer_target(officer))
        return Refused(who_may(Action.APPROVE))
    if officer.state is OfficerState.APPROVED and officer.approved is not None:
        return await _already(app, actor, "officer.approve.already", officer, officer.approved, Happening.APPROVED)
    view = view_of(app, officer)
    if officer.state is OfficerState.WITHDRAWN:
        await _audit_only(app, actor, "officer.approve.refused", officer, {"reason": "withdrawn"})
        return NotPossible(view, WITHDRAWN_CANNOT_APPROVE)
    if not view.readiness.ready and not confirmed:
        await _audit_only(
            app, actor, "officer.approve.confirm_asked", officer, {"missing": list(view.readiness.missing)}
        )
        return NeedsConfirmation(view)
    stamp = Stamp(actor=actor, at=app.now())
    after = officer.model_copy(update={"state": OfficerState.APPROVED, "approved": stamp, "approval_date": app.today()})
    new_view = OfficerView(after, view.package, view.readiness, view.incidents_total, view.tz)
    changes: list[Change] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.approve",
            officer_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json")
            | {
                "ready_when_approved": view.readiness.ready,
                "missing_when_approved": list(view.readiness.missing),
            },
        ),
        app.db.readiness.put(officer.key, False, stamp.at),
    ]
    notices: list[Notice] = []
    if package is not None:
        notices.append(
            Notice(
                (Audience.person(package.poc.aad_id), Audience.agency(package.judiciary_code)),
                ApprovalNotice(new_view),
                f"Officer {officer.officer_number} approved for e-tickets",
                subject=f"approval:{officer.key}",
            )
        )
    updates = [CopiesUpdate(readiness_subject(officer.key), OfficerCard(new_view))]
    await app.commit(changes, notices, updates, shown=shown)
    logger.info("officer approved officer=%s ready=%s", officer.key, view.readiness.ready)
    return Done(new_view)


# ---- extend monitoring (SOP 6.6) --------------------------------------------------------------------


async def _extend_refusal(app: AppContext, requester: Requester, officer: Officer) -> Outcome | None:
    """Why Extend monitoring cannot go ahead for this person and officer, or None when it can."""
    actor = requester.actor
    if not allowed(app, requester, Action.EXTEND, app.db.packages.get(officer.judiciary_code)):
        await audit_refusal(app, actor, "officer.extend.denied", officer_target(officer))
        return Refused(who_may(Action.EXTEND))
    if officer.state is OfficerState.APPROVED and officer.approved is not None:
        return await _already(
            app, actor, "officer.extend.already", officer, officer.approved, Happening.APPROVED_SO_NOT_EXTENDED
        )
    if officer.state is OfficerState.WITHDRAWN:
        await _audit_only(app, actor, "officer.extend.refused", officer, {"reason": "withdrawn"})
        return NotPossible(view_of(app, officer), WITHDRAWN)
    return None


async def extend_form(app: AppContext, requester: Requester, judiciary_code: object, officer_number: object) -> Outcome:
    """Extend monitoring pressed: the same card with a date and a reason to fill in (JB staff only)."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    refused = await _extend_refusal(app, requester, officer)
    if refused is not None:
        return refused
    await _audit_only(app, requester.actor, "officer.extend.form", officer)
    return FormOpened(ExtensionForm(view_of(app, officer), app.today()), "extend")


async def extend(
    app: AppContext,
    requester: Requester,
    judiciary_code: object,
    officer_number: object,
    values: Mapping[str, object],
    *,
    shown: str | None = None,
) -> Outcome:
    """JB staff extend an officer's monitoring through a date (today or later) with a reason; every copy updated."""
    actor = requester.actor
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    refused = await _extend_refusal(app, requester, officer)
    if refused is not None:
        return refused
    view = view_of(app, officer)
    today = app.today()
    try:
        entry = parse_extension(values, today)
    except FieldErrors as problem:
        await _audit_only(app, actor, "officer.extend.invalid", officer, {"errors": sorted(problem.errors)})
        return Invalid(problem.errors, ExtensionForm(view, today), values)
    stamp = Stamp(actor=actor, at=app.now())
    extension = Extension(until=entry.until, reason=entry.reason, granted=stamp)
    after = officer.model_copy(update={"extension": extension})
    new_view = view_of(app, after)
    changes: list[Change] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.extend",
            officer_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json"),
        ),
        app.db.readiness.put(officer.key, new_view.readiness.ready, stamp.at),
    ]
    updates = [CopiesUpdate(readiness_subject(officer.key), OfficerCard(new_view))]
    await app.commit(changes, (), updates, shown=shown)
    logger.info("monitoring extended officer=%s until=%s", officer.key, entry.until.isoformat())
    return Done(new_view)


async def cancel(app: AppContext, requester: Requester, judiciary_code: object, officer_number: object) -> Outcome:
    """Cancel on a confirm or extend card: the officer's card as it stands, nothing changed."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    if not allowed(app, requester, Action.EXTEND, app.db.packages.get(officer.judiciary_code)):
        return Refused(who_may(Action.EXTEND))
    await _audit_only(app, requester.actor, "card.cancel", officer)
    return Shown(view_of(app, officer))


# ---- withdraw -----------------------------------------------------------------------------------------


def withdraw_request(
    app: AppContext, requester: Requester, officer_number: str, judiciary_code: str | None = None
) -> Outcome:
    """/withdraw <officer number> [judiciary code]: the memberships this person may withdraw, to confirm.

    Returns ``FormOpened`` with the (officer, package) pairs, ``Refused`` or ``NotFound``.
    """
    number = parse_officer_number(officer_number)
    candidates = [
        officer
        for officer in app.db.officers.by_number(number)
        if officer.state is not OfficerState.WITHDRAWN
        and (judiciary_code is None or officer.judiciary_code == judiciary_code)
    ]
    choices = [
        (officer, package)
        for officer in candidates
        if allowed(app, requester, Action.WITHDRAW, package := app.db.packages.get(officer.judiciary_code))
    ]
    if not choices:
        return Refused(who_may(Action.WITHDRAW)) if candidates else NotFound("officer", number)
    return FormOpened(tuple(choices), "withdraw")


async def withdraw(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, *, shown: str | None = None
) -> Outcome:
    """Withdraw an officer from an agency's package (its PoC or JB staff); their tickets then raise unknown_officer."""
    actor = requester.actor
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    package = app.db.packages.get(officer.judiciary_code)
    if not allowed(app, requester, Action.WITHDRAW, package):
        await audit_refusal(app, actor, "officer.withdraw.denied", officer_target(officer))
        return Refused(who_may(Action.WITHDRAW))
    if officer.state is OfficerState.WITHDRAWN and officer.withdrawn is not None:
        return await _already(app, actor, "officer.withdraw.already", officer, officer.withdrawn, Happening.WITHDRAWN)
    stamp = Stamp(actor=actor, at=app.now())
    after = officer.model_copy(update={"state": OfficerState.WITHDRAWN, "withdrawn": stamp})
    new_view = view_of(app, after)
    changes: list[Change] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.withdraw",
            officer_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json"),
        ),
        app.db.readiness.put(officer.key, False, stamp.at),
    ]
    summary = f"Officer {officer.officer_number} withdrawn"
    notices: list[Notice] = []
    if not requester.is_staff:
        notices.append(Notice((Audience.jb(),), WithdrawnNotice(new_view), summary))
    if package is not None and package.poc.aad_id != actor.aad_id.lower():
        notices.append(Notice((Audience.person(package.poc.aad_id),), WithdrawnNotice(new_view), summary))
    updates = [CopiesUpdate(readiness_subject(officer.key), OfficerCard(new_view))]
    await app.commit(changes, notices, updates, shown=shown)
    logger.info("officer withdrawn officer=%s", officer.key)
    return Done(new_view)
