"""Approval of officers (SOP 3, 6.5–6.7): readiness from the records, readiness cards, Approve, Extend
monitoring, Withdraw.

Every use case reads, decides and builds its ops with no ``await`` in between, then commits them
atomically (officer, audit entry, readiness memory and notices together). Two JB staff pressing
Approve at once therefore approve once: the second press reads the first one's result.
No botbuilder imports: the bot layer translates activities into these calls and back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cards.common import message_card, with_notice
from cards.readiness import (
    OfficerView,
    approval_notice_card,
    approve_confirm_card,
    extend_card,
    officer_card,
    withdraw_choice_card,
    withdraw_confirm_card,
    withdrawn_notice_card,
)
from domain.calendar import format_instant
from domain.readiness import Readiness, assess_readiness
from domain.records import SYSTEM, Actor, Extension, Incident, Officer, OfficerState, Package, Stamp
from domain.validation import FieldErrors, parse_extension
from services.audit import audit_op
from services.context import AppContext
from services.notices import Audience, notice_ops, update_ops
from storage.engine import Op

logger = logging.getLogger(__name__)

STAFF_ONLY_APPROVE = "Only JB e-ticket staff may approve an officer. Nothing was changed."
STAFF_ONLY_EXTEND = "Only JB e-ticket staff may extend monitoring. Nothing was changed."
POC_OR_STAFF_WITHDRAW = (
    "Only the agency's Point-of-Contact or JB e-ticket staff may withdraw an officer. Nothing was changed."
)


def readiness_subject(officer_key: str) -> str:
    """The outbox subject tying together every copy of one officer's readiness card."""
    return f"readiness:{officer_key}"


def audit_target(officer: Officer) -> str:
    """The audit target of an officer's membership (as the package wizard and incidents write it)."""
    return f"officer:{officer.key}"


def assess(app: AppContext, officer: Officer, incidents: list[Incident] | None = None) -> Readiness:
    """The officer's readiness today on the court calendar, from their recorded events and incidents."""
    settings = app.settings
    if incidents is None:
        incidents = app.db.incidents.of_officer(officer.key)
    return assess_readiness(
        officer,
        app.db.events.of_officer(officer.key),
        incidents,
        app.today(),
        settings.timezone,
        min_accepted=settings.ready_min_accepted,
        min_days=settings.ready_min_days,
        clean_streak=settings.ready_clean_streak,
    )


def view_of(app: AppContext, officer: Officer) -> OfficerView:
    """Everything a readiness card shows about one officer."""
    incidents = app.db.incidents.of_officer(officer.key)
    return OfficerView(
        officer=officer,
        package=app.db.packages.get(officer.judiciary_code),
        readiness=assess(app, officer, incidents),
        incidents_total=len(incidents),
        tz=app.settings.timezone,
    )


def current_card(app: AppContext, officer: Officer, *, with_actions: bool = True) -> dict[str, Any]:
    """The officer's card as it stands now (ready, not ready, extended, approved or withdrawn)."""
    return officer_card(view_of(app, officer), with_actions=with_actions)


def find_officer(app: AppContext, judiciary_code: object, officer_number: object) -> Officer | None:
    """The membership named by a card's data, or None (data from a card is never trusted as typed)."""
    if not isinstance(judiciary_code, str) or not isinstance(officer_number, str):
        return None
    return app.db.officers.get(judiciary_code, officer_number.strip().upper())


def _who(stamp: Stamp) -> str:
    return stamp.actor.name or "JB e-ticket staff"


# ---- readiness checks --------------------------------------------------------------------------------


async def recheck(app: AppContext, officer_keys: Iterable[str] | None = None) -> list[str]:
    """Re-check readiness (all officers when ``officer_keys`` is None); returns the keys that became ready.

    An officer who became ready sends the readiness card to the JB (once: the last known readiness is
    remembered durably); one who stopped being ready gets every copy of their card brought up to date.
    """
    db = app.db
    memory = app.db.readiness
    if officer_keys is None:
        officers = db.officers.all()
        keys = {officer.key for officer in officers} | set(memory.ready_keys())
    else:
        keys = set(officer_keys)
    now = app.now()
    ops: list[Op] = []
    became_ready: list[str] = []
    for key in sorted(keys):
        code, _, number = key.partition(":")
        officer = db.officers.get(code, number)
        was_ready = memory.was_ready(key)
        if officer is None:
            if was_ready:
                ops.append(memory.put(key, False, now))
            continue
        if officer.state is not OfficerState.MONITORING and not was_ready:
            continue  # only an officer in monitoring can be ready: nothing to re-read or re-decide
        view = view_of(app, officer)
        ready = view.readiness.ready
        if ready == was_ready:
            continue
        ops.append(memory.put(key, ready, now))
        ops.append(
            audit_op(
                app,
                SYSTEM,
                "officer.readiness",
                audit_target(officer),
                {"ready": was_ready},
                {"ready": ready, "summary": view.readiness.summary},
            )
        )
        card = officer_card(view)
        if ready:
            became_ready.append(key)
            ops += notice_ops(
                app,
                [Audience.jb()],
                card,
                summary=f"Ready for approval: {officer.officer_number}",
                subject=readiness_subject(key),
            )
        else:
            ops += update_ops(app, readiness_subject(key), card)
    if ops:
        await db.commit(ops)
        app.wake_outbox()
    if became_ready or ops:
        logger.info("readiness rechecked officers=%d became_ready=%d", len(keys), len(became_ready))
    return became_ready


# ---- outcomes of presses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a press did: the card for the one who pressed, whether everyone's copy changes, and what happened."""

    card: dict[str, Any]
    changed: bool
    outcome: str  # "done" | "already" | "refused" | "confirm" | "form" | "invalid" | "missing" | "cancelled"


def _missing(title: str = "Officer not found") -> Outcome:
    return Outcome(
        message_card(title, "This card refers to an officer who is not in any Information Package."), False, "missing"
    )


async def _audit_only(
    app: AppContext, actor: Actor, action: str, officer: Officer, detail: dict[str, Any] | None = None
) -> None:
    """Record a press that changed nothing (refused, already done, a form opened)."""
    await app.db.commit([audit_op(app, actor, action, audit_target(officer), None, detail)])


# ---- approve (SOP 6.6) -------------------------------------------------------------------------------


async def approve(
    app: AppContext,
    actor: Actor,
    is_staff: bool,
    judiciary_code: object,
    officer_number: object,
    *,
    confirmed: bool,
    pressed_activity: str | None,
) -> Outcome:
    """JB staff approve an officer: approval date recorded, state approved, every copy updated, the PoC told.

    An officer who is not ready needs ``confirmed`` (the card lists what is missing first).
    """
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return _missing()
    view = view_of(app, officer)
    card = officer_card(view)
    tz = app.settings.timezone
    if not is_staff:
        await _audit_only(app, actor, "officer.approve.denied", officer)
        return Outcome(with_notice(card, STAFF_ONLY_APPROVE), False, "refused")
    if officer.state is OfficerState.APPROVED and officer.approved is not None:
        done = officer.approved
        await _audit_only(app, actor, "officer.approve.already", officer)
        text = f"Already approved by {_who(done)} on {format_instant(done.at, tz)}."
        return Outcome(with_notice(card, text, kind="warning"), False, "already")
    if officer.state is OfficerState.WITHDRAWN:
        await _audit_only(app, actor, "officer.approve.refused", officer, {"reason": "withdrawn"})
        return Outcome(
            with_notice(
                card,
                "This officer was withdrawn from the Information Package, so they cannot be "
                "approved. Nothing was changed.",
            ),
            False,
            "refused",
        )
    if not view.readiness.ready and not confirmed:
        await _audit_only(
            app, actor, "officer.approve.confirm_asked", officer, {"missing": list(view.readiness.missing)}
        )
        return Outcome(approve_confirm_card(view), False, "confirm")
    stamp = Stamp(actor=actor, at=app.now())
    after = officer.model_copy(update={"state": OfficerState.APPROVED, "approved": stamp, "approval_date": app.today()})
    new_view = replace(view, officer=after)
    new_card = officer_card(new_view)
    package = view.package
    ops: list[Op] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.approve",
            audit_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json")
            | {"ready_when_approved": view.readiness.ready, "missing_when_approved": list(view.readiness.missing)},
        ),
        app.db.readiness.put(officer.key, False, stamp.at),
        *update_ops(app, readiness_subject(officer.key), new_card, exclude_activity=pressed_activity),
    ]
    if package is not None:
        notice = approval_notice_card(new_view)
        ops += notice_ops(
            app,
            [Audience.person(package.poc.aad_id), Audience.agency(package.judiciary_code)],
            notice,
            summary=f"Officer {officer.officer_number} approved for e-tickets",
            subject=f"approval:{officer.key}",
        )
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("officer approved officer=%s ready=%s", officer.key, view.readiness.ready)
    return Outcome(new_card, True, "done")


# ---- extend monitoring (SOP 6.6) --------------------------------------------------------------------


async def extend_form(
    app: AppContext, actor: Actor, is_staff: bool, judiciary_code: object, officer_number: object
) -> Outcome:
    """Extend monitoring pressed: the same card with a date and a reason to fill in (JB staff only)."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return _missing()
    view = view_of(app, officer)
    refused = await _extend_refusal(app, actor, is_staff, officer, view)
    if refused is not None:
        return refused
    await _audit_only(app, actor, "officer.extend.form", officer)
    return Outcome(extend_card(view, app.today(), {}, {}), False, "form")


async def _extend_refusal(
    app: AppContext, actor: Actor, is_staff: bool, officer: Officer, view: OfficerView
) -> Outcome | None:
    card = officer_card(view)
    tz = app.settings.timezone
    if not is_staff:
        await _audit_only(app, actor, "officer.extend.denied", officer)
        return Outcome(with_notice(card, STAFF_ONLY_EXTEND), False, "refused")
    if officer.state is OfficerState.APPROVED and officer.approved is not None:
        await _audit_only(app, actor, "officer.extend.already", officer)
        text = (
            f"Already approved by {_who(officer.approved)} on {format_instant(officer.approved.at, tz)}: "
            "monitoring has ended, so it cannot be extended."
        )
        return Outcome(with_notice(card, text, kind="warning"), False, "already")
    if officer.state is OfficerState.WITHDRAWN:
        await _audit_only(app, actor, "officer.extend.refused", officer, {"reason": "withdrawn"})
        return Outcome(
            with_notice(card, "This officer was withdrawn from the Information Package. Nothing was changed."),
            False,
            "refused",
        )
    return None


async def extend(
    app: AppContext,
    actor: Actor,
    is_staff: bool,
    judiciary_code: object,
    officer_number: object,
    values: Mapping[str, object],
    *,
    pressed_activity: str | None,
) -> Outcome:
    """JB staff extend an officer's monitoring through a date (today or later) with a reason; every copy updated."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return _missing()
    view = view_of(app, officer)
    today = app.today()
    if is_staff and officer.state is OfficerState.MONITORING:
        try:
            entry = parse_extension(values, today)
        except FieldErrors as problem:
            await _audit_only(app, actor, "officer.extend.invalid", officer, {"errors": sorted(problem.errors)})
            return Outcome(extend_card(view, today, values, problem.errors), False, "invalid")
    else:
        refused = await _extend_refusal(app, actor, is_staff, officer, view)
        return refused if refused is not None else _missing()
    stamp = Stamp(actor=actor, at=app.now())
    after = officer.model_copy(update={"extension": Extension(until=entry.until, reason=entry.reason, granted=stamp)})
    new_view = view_of(app, after)
    new_card = officer_card(new_view)
    ops: list[Op] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.extend",
            audit_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json"),
        ),
        app.db.readiness.put(officer.key, new_view.readiness.ready, stamp.at),
        *update_ops(app, readiness_subject(officer.key), new_card, exclude_activity=pressed_activity),
    ]
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("monitoring extended officer=%s until=%s", officer.key, entry.until.isoformat())
    return Outcome(new_card, True, "done")


async def cancel(
    app: AppContext, actor: Actor, judiciary_code: object, officer_number: object, *, is_staff: bool
) -> Outcome:
    """Cancel on a confirm or extend card: the officer's card as it stands, nothing changed."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return Outcome(message_card("Cancelled", "Nothing was changed."), False, "cancelled")
    await _audit_only(app, actor, "card.cancel", officer)
    return Outcome(officer_card(view_of(app, officer), with_actions=True), False, "cancelled")


# ---- withdraw -----------------------------------------------------------------------------------------


def may_withdraw(package: Package | None, actor: Actor, is_staff: bool) -> bool:
    """The agency's PoC or JB staff may withdraw its officers."""
    return is_staff or (package is not None and bool(actor.aad_id) and package.poc.aad_id == actor.aad_id.lower())


def withdraw_request(
    app: AppContext, actor: Actor, is_staff: bool, officer_number: str, judiciary_code: str | None = None
) -> dict[str, Any]:
    """The answer to /withdraw <officer number> [judiciary code]: a confirm card, a choice of agency, or why not."""
    candidates = [
        officer
        for officer in app.db.officers.by_number(officer_number)
        if officer.state is not OfficerState.WITHDRAWN
        and (judiciary_code is None or officer.judiciary_code == judiciary_code)
    ]
    mine = [
        officer for officer in candidates if may_withdraw(app.db.packages.get(officer.judiciary_code), actor, is_staff)
    ]
    where = f" in the package of Judiciary Code {judiciary_code}" if judiciary_code else ""
    if not mine:
        if candidates:
            return message_card(
                "Not your agency's officer",
                (
                    f"Officer {officer_number}{where} is not in a package you are the Point-of-Contact of. "
                    "Only the agency's Point-of-Contact or JB e-ticket staff may withdraw an officer."
                ),
                kind="attention",
            )
        return message_card(
            "Officer not found",
            (
                f"Officer number {officer_number} is in no Information Package{where} (or was withdrawn already). "
                "Type /package to see your agency's officers."
            ),
            kind="attention",
        )
    views = [(officer, app.db.packages.get(officer.judiciary_code)) for officer in mine]
    if len(views) > 1:
        return withdraw_choice_card(views)
    return withdraw_confirm_card(*views[0])


async def withdraw(
    app: AppContext,
    actor: Actor,
    is_staff: bool,
    judiciary_code: object,
    officer_number: object,
    *,
    pressed_activity: str | None,
) -> Outcome:
    """Withdraw an officer from an agency's package (its PoC or JB staff); their tickets then raise unknown_officer."""
    officer = find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return _missing()
    package = app.db.packages.get(officer.judiciary_code)
    tz = app.settings.timezone
    if not may_withdraw(package, actor, is_staff):
        await _audit_only(app, actor, "officer.withdraw.denied", officer)
        return Outcome(with_notice(withdraw_confirm_card(officer, package), POC_OR_STAFF_WITHDRAW), False, "refused")
    if officer.state is OfficerState.WITHDRAWN and officer.withdrawn is not None:
        await _audit_only(app, actor, "officer.withdraw.already", officer)
        done = officer.withdrawn
        return Outcome(
            with_notice(
                officer_card(view_of(app, officer), with_actions=False),
                f"Already withdrawn by {_who(done)} on {format_instant(done.at, tz)}.",
                kind="warning",
            ),
            False,
            "already",
        )
    stamp = Stamp(actor=actor, at=app.now())
    after = officer.model_copy(update={"state": OfficerState.WITHDRAWN, "withdrawn": stamp})
    new_view = view_of(app, after)
    new_card = officer_card(new_view)
    ops: list[Op] = [
        app.db.officers.put(after),
        audit_op(
            app,
            actor,
            "officer.withdraw",
            audit_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json"),
        ),
        app.db.readiness.put(officer.key, False, stamp.at),
        *update_ops(app, readiness_subject(officer.key), new_card, exclude_activity=pressed_activity),
    ]
    if not is_staff:
        ops += notice_ops(
            app, [Audience.jb()], withdrawn_notice_card(new_view), summary=f"Officer {officer.officer_number} withdrawn"
        )
    if package is not None and package.poc.aad_id != actor.aad_id.lower():
        ops += notice_ops(
            app,
            [Audience.person(package.poc.aad_id)],
            withdrawn_notice_card(new_view),
            summary=f"Officer {officer.officer_number} withdrawn",
        )
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("officer withdrawn officer=%s", officer.key)
    return Outcome(new_card, True, "done")
