"""Corrections and undo: correct an officer's details, return an approved officer to monitoring, end an
extension early, send a failed notice again. Each is audited with before and after, and the PoC is told.

Correcting details never restarts monitoring: the officer's ``added`` stamp (when monitoring began) stays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from domain.policy import Action, Requester, who_may
from domain.records import Officer, OfficerState
from domain.validation import FieldErrors, parse_officer, parse_reason
from domain.views import FailedNotice, OfficerForm, ReasonForm
from services import approval, archive
from services.access import allowed
from services.audit import audit_op, audit_refusal, officer_target
from services.context import AppContext
from services.notices import Audience, CopiesUpdate, Message, Notice, OfficerCard, readiness_subject
from services.outcomes import Done, FormOpened, Invalid, NotFound, NotPossible, Outcome, Refused
from services.ports import Change

logger = logging.getLogger(__name__)

EDITABLE = ("first_name", "last_name", "dps_username", "start_date")


def _tell_poc(app: AppContext, requester: Requester, officer: Officer, title: str, text: str) -> list[Notice]:
    """The PoC hears of a change to their officer made by someone else."""
    package = app.db.packages.get(officer.judiciary_code)
    if package is None or package.poc.aad_id == requester.aad_id:
        return []
    return [Notice((Audience.person(package.poc.aad_id),), Message(title, text), title)]


# ---- /edit-officer ------------------------------------------------------------------------------------


def edit_form(app: AppContext, requester: Requester, judiciary_code: str, officer_number: str) -> Outcome:
    """/edit-officer: the officer's correction form, for the agency's PoC or JB staff."""
    officer = app.db.officers.get(judiciary_code, officer_number)
    if officer is None or officer.state is OfficerState.WITHDRAWN:
        return NotFound("officer", officer_number)
    package = app.db.packages.get(judiciary_code)
    if not allowed(app, requester, Action.EDIT_OFFICER, package):
        return Refused(who_may(Action.EDIT_OFFICER))
    return FormOpened(OfficerForm(officer, package, app.today()), "edit")


async def edit_officer(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, values: Mapping[str, object]
) -> Outcome:
    """Save a correction of names, DPS username or expected start date; monitoring goes on as it was."""
    officer = approval.find_officer(app, judiciary_code, officer_number)
    if officer is None or officer.state is OfficerState.WITHDRAWN:
        return NotFound("officer")
    package = app.db.packages.get(officer.judiciary_code)
    if not allowed(app, requester, Action.EDIT_OFFICER, package):
        await audit_refusal(app, requester.actor, "officer.edit.denied", officer_target(officer))
        return Refused(who_may(Action.EDIT_OFFICER))
    form = OfficerForm(officer, package, app.today())
    current = officer.model_dump(mode="json")  # a field the form did not send keeps its value
    submitted = {name: values.get(name, current[name]) for name in EDITABLE} | {
        "officer_number": officer.officer_number
    }
    try:
        entry = parse_officer(submitted, app.today(), kept_start=officer.start_date)
    except FieldErrors as problem:
        return Invalid(problem.errors, form, values)
    changed = {name: getattr(entry, name) for name in EDITABLE if getattr(entry, name) != getattr(officer, name)}
    if not changed:
        return Done(approval.view_of(app, officer))
    after = officer.model_copy(update=changed)
    figures = None
    if "start_date" in changed and await app.db.archive.years():
        [figures] = await archive.figures_counting_archive(app, [after])  # a new start: counted again, archive and all
        if approval.find_officer(app, judiciary_code, officer_number) != officer:
            return await edit_officer(app, requester, judiciary_code, officer_number, values)  # changed meanwhile
    view = approval.view_of(app, after, figures)
    before_doc, after_doc = officer.model_dump(mode="json"), after.model_dump(mode="json")
    changes: list[Change] = [
        app.db.officers.put(after),
        *([app.db.figures.put(figures)] if figures is not None else []),
        audit_op(
            app,
            requester.actor,
            "officer.edit",
            officer_target(officer),
            {name: before_doc[name] for name in changed},
            {name: after_doc[name] for name in changed},
        ),
    ]
    text = f"JB e-ticket staff corrected the details of {after.full_name} ({after.officer_number}) in your package."
    notices = _tell_poc(app, requester, after, "Officer details corrected", text)
    await app.commit(changes, notices, [CopiesUpdate(readiness_subject(officer.key), OfficerCard(view))])
    logger.info("officer corrected officer=%s fields=%s", officer.key, ",".join(sorted(changed)))
    return Done(view)


# ---- return to monitoring and end an extension (JB staff, with a reason) -----------------------------


def _officer_step(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, action: Action
) -> Officer | Outcome:
    officer = approval.find_officer(app, judiciary_code, officer_number)
    if officer is None:
        return NotFound("officer")
    if not allowed(app, requester, action, app.db.packages.get(officer.judiciary_code)):
        return Refused(who_may(action))
    return officer


def _possible(app: AppContext, officer: Officer, what: str) -> str | None:
    """Why the step cannot be taken on this officer now, or None."""
    if what == "return_to_monitoring" and officer.state is not OfficerState.APPROVED:
        return "This officer is not approved, so there is nothing to return to monitoring."
    if what == "end_extension":
        today = app.today()
        if officer.state is not OfficerState.MONITORING or officer.extension is None or officer.extension.until < today:
            return "No extension of this officer's monitoring is running."
    return None


def reason_form(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, what: str
) -> Outcome:
    """Return to monitoring or End extension pressed: the form asking for the reason (JB staff only)."""
    action = Action.RETURN_TO_MONITORING if what == "return_to_monitoring" else Action.END_EXTENSION
    found = _officer_step(app, requester, judiciary_code, officer_number, action)
    if not isinstance(found, Officer):
        return found
    view = approval.view_of(app, found)
    problem = _possible(app, found, what)
    if problem is not None:
        return NotPossible(view, problem)
    return FormOpened(ReasonForm(what, officer=view), what)


async def return_to_monitoring(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, values: Mapping[str, object]
) -> Outcome:
    """JB staff return an approved officer to monitoring, with a reason; the approval date is cleared."""
    return await _officer_change(app, requester, judiciary_code, officer_number, values, "return_to_monitoring")


async def end_extension(
    app: AppContext, requester: Requester, judiciary_code: object, officer_number: object, values: Mapping[str, object]
) -> Outcome:
    """JB staff end a running extension early, with a reason; the officer may then be ready again."""
    return await _officer_change(app, requester, judiciary_code, officer_number, values, "end_extension")


async def _officer_change(
    app: AppContext,
    requester: Requester,
    judiciary_code: object,
    officer_number: object,
    values: Mapping[str, object],
    what: str,
) -> Outcome:
    action = Action.RETURN_TO_MONITORING if what == "return_to_monitoring" else Action.END_EXTENSION
    found = _officer_step(app, requester, judiciary_code, officer_number, action)
    if not isinstance(found, Officer):
        if isinstance(found, Refused):
            await audit_refusal(app, requester.actor, f"{action.value}.denied", f"officer:{judiciary_code}")
        return found
    officer = found
    view = approval.view_of(app, officer)
    problem = _possible(app, officer, what)
    if problem is not None:
        return NotPossible(view, problem)
    try:
        reason = parse_reason(values)
    except FieldErrors as refused:
        return Invalid(refused.errors, ReasonForm(what, officer=view), values)
    if what == "return_to_monitoring":
        after = officer.model_copy(update={"state": OfficerState.MONITORING, "approved": None, "approval_date": None})
        title, text = (
            "Officer returned to monitoring",
            (f"JB e-ticket staff returned {officer.full_name} ({officer.officer_number}) to monitoring: {reason}"),
        )
    else:
        after = officer.model_copy(update={"extension": None})
        title, text = (
            "Extension of monitoring ended",
            (
                f"JB e-ticket staff ended the extension of {officer.full_name}'s monitoring ({officer.officer_number}): "
                f"{reason}"
            ),
        )
    new_view = approval.view_of(app, after)
    changes: list[Change] = [
        app.db.officers.put(after),
        audit_op(
            app,
            requester.actor,
            action.value,
            officer_target(officer),
            officer.model_dump(mode="json"),
            after.model_dump(mode="json") | {"reason": reason},
        ),
        app.db.readiness.put(officer.key, False, app.now()),
    ]
    notices = _tell_poc(app, requester, officer, title, text)
    await app.commit(changes, notices, [CopiesUpdate(readiness_subject(officer.key), OfficerCard(new_view))])
    logger.info("%s officer=%s", action.value, officer.key)
    await approval.recheck(app, {officer.key})  # ready again at once: the readiness card goes to the JB
    return Done(approval.view_of(app, after))


# ---- send a failed notice again -----------------------------------------------------------------------


def failed_notice(app: AppContext, notice_id: object) -> FailedNotice | None:
    """A failed notice as JB staff see it, or None when there is none with that id (or it is not failed)."""
    entry = app.db.outbox.get(notice_id) if isinstance(notice_id, str) else None
    if entry is None or entry.status != "failed":
        return None
    record = app.db.conversations.get(entry.conversation_id)
    where = (record.name or ("a 1:1 chat" if record.kind == "personal" else "a channel")) if record else "a chat"
    when = (entry.finished_at or entry.created_at).astimezone(app.settings.timezone).strftime("%b %-d, %Y %-I:%M %p")
    return FailedNotice(entry.id, entry.summary or "a notice", where, when, entry.error or "refused by Teams")


def resend_form(app: AppContext, requester: Requester, notice_id: object) -> Outcome:
    """Send again pressed on a failed notice in /status: the form asking for the reason (JB staff only)."""
    if not allowed(app, requester, Action.RESEND):
        return Refused(who_may(Action.RESEND))
    notice = failed_notice(app, notice_id)
    if notice is None:
        return NotFound("notice")
    return FormOpened(ReasonForm("resend", notice=notice), "resend")


async def resend(app: AppContext, requester: Requester, notice_id: object, values: Mapping[str, object]) -> Outcome:
    """JB staff send a failed notice again (e.g. after the bot was added back to the channel), with a reason."""
    if not allowed(app, requester, Action.RESEND):
        await audit_refusal(app, requester.actor, "notice.resend.denied", "notices")
        return Refused(who_may(Action.RESEND))
    notice = failed_notice(app, notice_id)
    entry = app.db.outbox.get(notice_id) if isinstance(notice_id, str) else None
    if notice is None or entry is None:
        return NotFound("notice")
    try:
        reason = parse_reason(values)
    except FieldErrors as refused:
        return Invalid(refused.errors, ReasonForm("resend", notice=notice), values)
    now = app.now()
    again = entry.model_copy(
        update={"status": "pending", "attempts": 0, "error": None, "next_attempt_at": now, "finished_at": None}
    )
    changes: list[Change] = [
        app.db.outbox.put(again),
        audit_op(
            app,
            requester.actor,
            "notice.resend",
            f"notice:{entry.id}",
            {"status": "failed", "error": entry.error},
            {"status": "pending", "reason": reason},
        ),
    ]
    await app.commit(changes)
    app.notifier.wake()
    logger.info("failed notice queued again notice=%s", entry.id)
    return Done(notice)
