"""/status and /audit: what stands where, and who did what, as pages of rows small enough for one Teams card.

A PoC sees their own agencies; JB staff (and the JB channel, where court operations staff and DPS
read) see every officer in monitoring with the ready ones first, open incidents and failed notices.
Use cases return outcomes (a ``Listing`` page, ``Officers``, ``Refused``, ``NotFound``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from domain.calendar import format_date, format_instant
from domain.incidents import incident_text
from domain.policy import Action, Requester, who_may
from domain.readiness import ConditionKey, Readiness
from domain.records import AuditEntry, Incident, Officer, OfficerState, Package
from domain.views import ListPage, Row, RowButton, agency_name, paginate, paginate_made
from services.access import allowed
from services.approval import assess, is_ready, view_of
from services.context import AppContext
from services.outcomes import Listing, NotFound, Officers, Outcome, Refused
from vocabulary.verbs import Verb

STATUS_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 15
VALUE_MAX = 80
CHANGE_MAX = 600

# ---- rows -------------------------------------------------------------------------------------------


def progress_text(readiness: Readiness) -> str:
    """ "2 of 3 accepted, 4 of 7 days" and whatever else is missing (the state condition left out)."""
    parts = [readiness.condition(ConditionKey.ACCEPTED).text, readiness.condition(ConditionKey.DAYS).text]
    parts += [
        c.text
        for c in readiness.conditions
        if not c.met and c.key not in (ConditionKey.STATE, ConditionKey.ACCEPTED, ConditionKey.DAYS)
    ]
    return ", ".join(parts)


def officer_row(
    app: AppContext, officer: Officer, package: Package | None, section: str, readiness: Readiness | None = None
) -> Row:
    """An officer's line: state, progress toward readiness, approval date, open incidents."""
    title = f"{officer.full_name} ({officer.officer_number}) · {agency_name(package, officer.judiciary_code)}"
    readiness = readiness or assess(app, officer)
    tz = app.settings.timezone
    if officer.state is OfficerState.APPROVED:
        date_text = format_date(officer.approval_date) if officer.approval_date else "date not recorded"
        detail, tone = f"Approved {date_text}", "good"
    elif officer.state is OfficerState.WITHDRAWN:
        when = format_instant(officer.withdrawn.at, tz) if officer.withdrawn else "—"
        detail, tone = f"Withdrawn {when}", "default"
    elif readiness.ready:
        detail, tone = f"Ready for approval: {progress_text(readiness)}", "good"
    else:
        detail, tone = f"In monitoring: {progress_text(readiness)}", "default"
    if officer.state is not OfficerState.MONITORING and readiness.open_incidents:
        count = readiness.open_incidents
        detail += f"; {count} open incident{'s' if count != 1 else ''}"
        tone = "attention"
    return Row(section, title, detail, tone)


def package_row(package: Package) -> Row:
    """A package the JB has not acknowledged yet (SOP 6.3), with its Acknowledge button."""
    submitted = package.submitted
    detail = f"Submitted by {submitted.actor.name or 'its Point-of-Contact'}; not acknowledged yet"
    button = RowButton("Acknowledge", Verb.ACKNOWLEDGE.value, {"judiciary_code": package.judiciary_code})
    return Row("Awaiting acknowledgment", agency_name(package, package.judiciary_code), detail, "warning", button)


def added_row(package: Package, officers: list[Officer]) -> Row:
    """Officers added to an acknowledged package that the JB has not acknowledged yet, with Acknowledge."""
    numbers = ", ".join(o.officer_number for o in officers)
    data = {"judiciary_code": package.judiciary_code, "officers": ",".join(o.officer_number for o in officers)}
    button = RowButton("Acknowledge", Verb.ACKNOWLEDGE_OFFICERS.value, data)
    title = f"Officers added to {agency_name(package, package.judiciary_code)}"
    return Row("Awaiting acknowledgment", title, f"{numbers}: not acknowledged yet", "warning", button)


def incident_row(app: AppContext, incident: Incident, section: str = "Open incidents") -> Row:
    """An open incident's line: ticket, problem, officer, agency, when raised."""
    officer = app.db.officers.get(incident.judiciary_code, incident.officer_number)
    who = (
        f"{officer.full_name} ({incident.officer_number})"
        if officer
        else f"{incident.officer_number} (not in the package)"
    )
    title = f"E-ticket {incident.ticket_number}: {incident_text(incident.kind)}"
    detail = f"{who} · {incident.judiciary_code} · raised {format_instant(incident.raised_at, app.settings.timezone)}"
    return Row(section, title, detail, "attention")


def failed_notice_rows(app: AppContext) -> list[Row]:
    """Notices Teams refused for good (e.g. the bot was removed): where, when and the error."""
    rows = []
    for notice in app.db.outbox.failed():
        record = app.db.conversations.get(notice.conversation_id)
        if record is not None and record.name:
            where = record.name
        elif record is not None and record.kind == "personal":
            where = "a 1:1 chat"
        elif record is not None:
            where = "a group chat" if record.kind == "groupChat" else "a channel"
        else:
            where = "an unknown conversation"
        when = format_instant(notice.finished_at or notice.created_at, app.settings.timezone)
        what = notice.summary or ("a card update" if notice.action == "update" else "a notice")
        button = RowButton("Send again", Verb.RESEND.value, {"notice_id": notice.id})
        detail = f"{when} · {notice.error or 'refused by Teams'}"
        rows.append(Row("Failed notices", f"{what} to {where}", detail, "attention", button))
    return rows


# ---- /status ----------------------------------------------------------------------------------------

NO_AGENCIES = "agencies"
"""``NotFound`` of a person who is neither JB staff nor any agency's Point-of-Contact."""


def _own(app: AppContext, requester: Requester) -> dict[str, Package]:
    if not requester.aad_id:
        return {}
    return {package.judiciary_code: package for package in app.db.packages.for_poc(requester.aad_id)}


def _sees_all(app: AppContext, requester: Requester) -> bool:
    return allowed(app, requester, Action.SEE_ALL_STATUS)


def status_overview(app: AppContext, requester: Requester, page: int = 1) -> Outcome:
    """/status: every officer in monitoring for JB staff and the JB channel; a PoC's own agencies otherwise."""
    if _sees_all(app, requester):
        return Listing(_jb_overview(app, page))
    own = _own(app, requester)
    if not own:
        return NotFound(NO_AGENCIES)
    return Listing(_poc_overview(app, own, page))


def agency_status(app: AppContext, requester: Requester, judiciary_code: str, page: int = 1) -> Outcome:
    """/status <judiciary code>: that agency's officers and open incidents."""
    package = app.db.packages.get(judiciary_code)
    if not _sees_all(app, requester):
        if not _own(app, requester):
            return NotFound(NO_AGENCIES)
        if package is None or not allowed(app, requester, Action.SEE_AGENCY_STATUS, package):
            return Refused(who_may(Action.SEE_AGENCY_STATUS))
    if package is None:
        return NotFound("package", judiciary_code)
    return Listing(_agency_page(app, package, page, query=judiciary_code))


def officer_status(app: AppContext, requester: Requester, officer_number: str) -> Outcome:
    """/status <officer number>: one card per membership the person may see."""
    sees_all = _sees_all(app, requester)
    own = _own(app, requester)
    if not sees_all and not own:
        return NotFound(NO_AGENCIES)
    memberships = [o for o in app.db.officers.by_number(officer_number) if sees_all or o.judiciary_code in own]
    if not memberships:
        return NotFound("officer", officer_number)
    return Officers(tuple(view_of(app, officer) for officer in memberships))


def _made(row: Row) -> Callable[[], Row]:
    """A row already made, as a maker."""
    return lambda: row


def _jb_overview(app: AppContext, page: int) -> ListPage:
    """Every officer in monitoring (ready ones first), open incidents and failed notices; only the page's rows are drawn.

    Sorting needs each officer's readiness (``is_ready``: the figures, no wording); the rows of the
    page shown word theirs in full. Every officer costs the same whatever their history.
    """
    db = app.db
    packages = {package.judiciary_code: package for package in db.packages.all()}
    ready: list[Officer] = []
    others: list[Officer] = []
    today = app.today()
    for officer in db.officers.in_state(OfficerState.MONITORING):
        (ready if is_ready(app, officer, today) else others).append(officer)
    makers: list[Callable[[], Row]] = [
        partial(officer_row, app, officer, packages.get(officer.judiciary_code), "Ready for approval")
        for officer in ready
    ]
    makers += [
        partial(officer_row, app, officer, packages.get(officer.judiciary_code), "In monitoring") for officer in others
    ]
    incidents = db.incidents.open()
    makers += [partial(incident_row, app, incident) for incident in incidents]
    failed = failed_notice_rows(app)
    unacknowledged = [package_row(package) for package in packages.values() if package.acknowledged is None]
    for package in packages.values():
        if package.acknowledged is None:
            continue
        added = [
            o
            for o in db.officers.of_agency(package.judiciary_code)
            if o.state is not OfficerState.WITHDRAWN and not o.acknowledged_with(package)
        ]
        if added:
            unacknowledged.append(added_row(package, added))
    makers = [_made(row) for row in unacknowledged] + makers
    makers += [_made(row) for row in failed]
    waiting = len(db.outbox.waiting())
    subtitle = (
        f"{len(unacknowledged)} awaiting acknowledgment · "
        f"{len(ready) + len(others)} in monitoring, {len(ready)} ready for approval · "
        f"{plural(len(incidents), 'open incident')} · {plural(len(failed), 'failed notice')}"
        + (f" · {plural(waiting, 'notice')} waiting for a reader" if waiting else "")
    )
    return paginate_made(
        "status",
        "E-ticket monitoring status",
        subtitle,
        makers,
        page,
        STATUS_PAGE_SIZE,
        "",
        "No officer is in monitoring, no incident is open and every notice was delivered.",
    )


def _poc_overview(app: AppContext, own: dict[str, Package], page: int) -> ListPage:
    rows: list[Row] = []
    incidents: list[Row] = []
    for code, package in own.items():
        section = agency_name(package, code)
        rows += [officer_row(app, officer, package, section) for officer in app.db.officers.of_agency(code)]
        incidents += [incident_row(app, incident) for incident in app.db.incidents.open(code)]
    agencies = f"{len(own)} agenc{'ies' if len(own) != 1 else 'y'}"
    subtitle = f"{agencies} · {plural(len(incidents), 'open incident')}"
    return paginate(
        "status",
        "Your officers' e-ticket status",
        subtitle,
        rows + incidents,
        page,
        STATUS_PAGE_SIZE,
        "",
        "Your Information Packages have no officers yet. Add them with /add-officer.",
    )


def _agency_page(app: AppContext, package: Package, page: int, *, query: str) -> ListPage:
    code = package.judiciary_code
    section = agency_name(package, code)
    rows = [officer_row(app, officer, package, section) for officer in app.db.officers.of_agency(code)]
    incidents = [incident_row(app, incident) for incident in app.db.incidents.open(code)]
    subtitle = f"{plural(len(rows), 'officer')} · {plural(len(incidents), 'open incident')}"
    return paginate(
        "status",
        f"E-ticket status of {package.agency.agency_name}",
        subtitle,
        rows + incidents,
        page,
        STATUS_PAGE_SIZE,
        query,
        "This Information Package has no officers yet.",
    )


def plural(count: int, noun: str) -> str:
    """ "1 open incident", "3 open incidents"."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


# ---- /audit -----------------------------------------------------------------------------------------

ACTION_WORDS: dict[str, str] = {
    "officer.add": "Added to the Information Package",
    "officer.readiness": "Readiness changed",
    "officer.approve": "Approved",
    "officer.approve.denied": "Approve refused (not JB e-ticket staff)",
    "officer.approve.already": "Approve pressed again (already approved)",
    "officer.approve.refused": "Approve refused",
    "officer.approve.confirm_asked": "Approve pressed while not ready (asked to confirm)",
    "officer.extend": "Monitoring extended",
    "officer.extend.form": "Extend monitoring opened",
    "officer.extend.denied": "Extend monitoring refused (not JB e-ticket staff)",
    "officer.extend.already": "Extend monitoring pressed after approval",
    "officer.extend.refused": "Extend monitoring refused",
    "officer.extend.invalid": "Extend monitoring: values not accepted",
    "officer.withdraw": "Withdrawn",
    "officer.withdraw.denied": "Withdraw refused (not the Point-of-Contact or JB e-ticket staff)",
    "officer.withdraw.already": "Withdraw pressed again (already withdrawn)",
    "incident.resolve": "Incident marked resolved",
    "incident.resolve.denied": "Mark resolved refused (not the Point-of-Contact or JB e-ticket staff)",
    "card.cancel": "Cancel pressed",
    "package.import": "Imported from the existing roster (make import-roster)",
    "package.export": "Information Package downloaded",
    "package.export.refused": "Download refused",
    "export.all": "Every agency's records exported",
    "export.all.refused": "Export refused",
}


def _value_text(value: Any, app: AppContext) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict) and set(value) >= {"actor", "at"} and isinstance(value.get("actor"), dict):
        name = value["actor"].get("name") or value["actor"].get("aad_id", "")
        try:
            when = format_instant(datetime.fromisoformat(value["at"]), app.settings.timezone)
        except (TypeError, ValueError):
            when = str(value["at"])
        return f"{name}, {when}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ": "))
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def change_text(entry: AuditEntry, app: AppContext) -> str:
    """Before → after for the fields that changed (or the recorded values when there is no before)."""
    before, after = entry.before or {}, entry.after or {}
    if not before and not after:
        return ""
    parts = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if entry.before is not None and old == new:
            continue
        if entry.before is None:
            parts.append(f"{key}: {_value_text(new, app)}")
        else:
            parts.append(f"{key}: {_value_text(old, app)} → {_value_text(new, app)}")
    text = "; ".join(parts)
    return text if len(text) <= CHANGE_MAX else text[: CHANGE_MAX - 1] + "…"


def imported_with(app: AppContext, judiciary_code: str, officer_number: str) -> list[AuditEntry]:
    """The roster import's entries of a package that list this officer (their history says "imported")."""
    entries = app.db.audit.of_target(f"package:{judiciary_code}")
    return [
        entry
        for entry in entries
        if entry.action == "package.import"
        and any(
            isinstance(item, dict) and item.get("officer_number") == officer_number
            for item in (entry.after or {}).get("officers", [])
        )
    ]


def audit_history(app: AppContext, requester: Requester, officer_number: str, page: int = 1) -> Outcome:
    """/audit <officer number> (JB staff): every audit entry of every membership of that number, oldest first."""
    if not allowed(app, requester, Action.SEE_AUDIT):
        return Refused(who_may(Action.SEE_AUDIT))
    number = officer_number
    memberships = app.db.officers.by_number(number)
    codes = sorted({officer.judiciary_code for officer in memberships})
    entries: list[AuditEntry] = []
    for code in codes:
        entries += app.db.audit.of_target(f"officer:{code}:{number}")
        entries += imported_with(app, code, number)  # the roster import audits one entry per package
    if not memberships and not entries:
        return NotFound("officer", number)
    entries.sort(key=lambda entry: entry.at)
    tz = app.settings.timezone
    rows = []
    for entry in entries:
        code = entry.target.split(":")[1] if ":" in entry.target else ""
        what = ACTION_WORDS.get(entry.action, entry.action)
        who = f"{entry.actor.name or 'unnamed'} ({entry.actor.aad_id})"
        change = change_text(entry, app)
        detail = f"By {who} · Judiciary Code {code}" + (f" · {change}" if change else "")
        rows.append(Row("History", f"{format_instant(entry.at, tz)} · {what}", detail))
    names = ", ".join(sorted({o.full_name for o in memberships})) or number
    subtitle = f"{names} · {len(entries)} entr{'ies' if len(entries) != 1 else 'y'} · oldest first"
    return Listing(
        paginate(
            "audit",
            f"Audit history of {number}",
            subtitle,
            rows,
            page,
            AUDIT_PAGE_SIZE,
            number,
            "No actions are recorded for this officer yet.",
        )
    )
