"""/status and /audit: what stands where, and who did what, as pages of rows small enough for one Teams card.

A PoC sees their own agencies; JB staff (and the JB channel, where court operations staff and DPS
read) see every officer in monitoring with the ready ones first, open incidents and failed notices.
No botbuilder imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cards.status import ListPage, Row, paginate
from domain.calendar import format_date, format_instant
from domain.incidents import incident_text
from domain.readiness import ConditionKey, Readiness
from domain.records import AuditEntry, Incident, Officer, OfficerState, Package, instant_from_str
from domain.validation import is_judiciary_code, is_officer_number, parse_judiciary_code, parse_officer_number
from services.approval import assess
from services.context import AppContext

STATUS_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 15
VALUE_MAX = 80
CHANGE_MAX = 600

USAGE = "Type /status, /status <judiciary code> (like 9000) or /status <officer number> (like A1234)."
AUDIT_USAGE = "Type /audit <officer number>, like /audit A1234."


@dataclass(frozen=True)
class Answer:
    """What a /status or /audit query answers: a page, officers' own cards, or a message (title, text)."""

    page: ListPage | None = None
    officers: tuple[Officer, ...] = ()
    message: tuple[str, str] | None = None
    kind: str | None = None
    packages: dict[str, Package] = field(default_factory=dict)


# ---- rows -------------------------------------------------------------------------------------------


def agency_name(package: Package | None, judiciary_code: str) -> str:
    """ "Williston Police Department (9000)", or the code alone when no package is stored."""
    return f"{package.agency.agency_name} ({judiciary_code})" if package else f"Judiciary Code {judiciary_code}"


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
        rows.append(
            Row("Failed notices", f"{what} to {where}", f"{when} · {notice.error or 'refused by Teams'}", "attention")
        )
    return rows


# ---- /status ----------------------------------------------------------------------------------------


def status(app: AppContext, aad_id: str, is_staff: bool, query: str, *, jb_view: bool, page: int = 1) -> Answer:
    """The answer to /status [judiciary code | officer number] for this person (``jb_view``: staff or the JB channel)."""
    db = app.db
    words = query.split()
    own = {package.judiciary_code: package for package in db.packages.for_poc(aad_id)} if aad_id else {}
    if not jb_view and not own:
        return Answer(
            message=(
                "Nothing to show",
                (
                    "/status shows an agency's officers to its Point-of-Contact, and every officer to JB e-ticket staff. You are "
                    "not the Point-of-Contact of any agency's Information Package; start one with /new-package."
                ),
            )
        )
    if len(words) > 1:
        return Answer(message=("Which status?", f"That is more than one argument. {USAGE}"), kind="attention")
    if not words:
        return Answer(page=_jb_overview(app, page) if jb_view else _poc_overview(app, own, page))
    word = words[0]
    if is_judiciary_code(word):
        code = parse_judiciary_code(word)
        package = db.packages.get(code)
        if not jb_view and code not in own:
            return Answer(
                message=(
                    "Not your agency",
                    (
                        f"You can see the status of your own agencies only, and Judiciary Code {code} is not one of them. "
                        "Type /status to see yours."
                    ),
                ),
                kind="attention",
            )
        if package is None:
            return Answer(
                message=("No such package", f"No Information Package has Judiciary Code {code}."), kind="attention"
            )
        return Answer(page=_agency_page(app, package, page, query=code))
    if is_officer_number(word):
        number = parse_officer_number(word)
        memberships = [o for o in db.officers.by_number(number) if jb_view or o.judiciary_code in own]
        if not memberships:
            where = "any Information Package" if jb_view else "your agencies' packages"
            return Answer(
                message=("Officer not found", f"Officer number {number} is not in {where}."), kind="attention"
            )
        return Answer(officers=tuple(memberships))
    return Answer(
        message=(
            "Which status?",
            (
                f'"{word[:40]}" is neither a Judiciary Code (4 digits, like 9000) nor an officer number (a letter and '
                f"4 digits, like A1234). {USAGE}"
            ),
        ),
        kind="attention",
    )


def _jb_overview(app: AppContext, page: int) -> ListPage:
    db = app.db
    packages = {package.judiciary_code: package for package in db.packages.all()}
    ready_rows: list[Row] = []
    other_rows: list[Row] = []
    for officer in db.officers.in_state(OfficerState.MONITORING):
        readiness = assess(app, officer)
        package = packages.get(officer.judiciary_code)
        if readiness.ready:
            ready_rows.append(officer_row(app, officer, package, "Ready for approval", readiness))
        else:
            other_rows.append(officer_row(app, officer, package, "In monitoring", readiness))
    incidents = [incident_row(app, incident) for incident in db.incidents.open()]
    failed = failed_notice_rows(app)
    rows = ready_rows + other_rows + incidents + failed
    subtitle = (
        f"{len(ready_rows) + len(other_rows)} in monitoring, {len(ready_rows)} ready for approval · "
        f"{len(incidents)} open incident{'s' if len(incidents) != 1 else ''} · "
        f"{len(failed)} failed notice{'s' if len(failed) != 1 else ''}"
    )
    return paginate(
        "status",
        "E-ticket monitoring status",
        subtitle,
        rows,
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
    subtitle = f"{len(own)} agenc{'ies' if len(own) != 1 else 'y'} · {len(incidents)} open incident{'s' if len(incidents) != 1 else ''}"
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
    subtitle = f"{len(rows)} officer{'s' if len(rows) != 1 else ''} · {len(incidents)} open incident{'s' if len(incidents) != 1 else ''}"
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
    "card.cancel": "Cancel pressed",
}


def _value_text(value: Any, app: AppContext) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict) and set(value) >= {"actor", "at"} and isinstance(value.get("actor"), dict):
        name = value["actor"].get("name") or value["actor"].get("aad_id", "")
        try:
            when = format_instant(instant_from_str(value["at"]), app.settings.timezone)  # type: ignore[arg-type]
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


def audit_history(app: AppContext, is_staff: bool, query: str, page: int = 1) -> Answer:
    """/audit <officer number> (JB staff): every audit entry of every membership of that officer number, oldest first."""
    if not is_staff:
        return Answer(
            message=("Not allowed", "Only JB e-ticket staff can see an officer's audit history."), kind="attention"
        )
    words = query.split()
    if len(words) != 1:
        return Answer(message=("Which officer?", AUDIT_USAGE), kind="attention" if words else None)
    if not is_officer_number(words[0]):
        return Answer(
            message=(
                "Which officer?",
                (f'"{words[0][:40]}" is not an officer number: it must be one letter and four digits. {AUDIT_USAGE}'),
            ),
            kind="attention",
        )
    number = parse_officer_number(words[0])
    memberships = app.db.officers.by_number(number)
    codes = sorted({officer.judiciary_code for officer in memberships})
    entries: list[AuditEntry] = []
    for code in codes:
        entries += app.db.audit.of_target(f"officer:{code}:{number}")
    if not memberships and not entries:
        return Answer(
            message=("Officer not found", f"Officer number {number} is in no Information Package."), kind="attention"
        )
    entries.sort(key=lambda entry: entry.at)
    tz = app.settings.timezone
    rows = []
    for entry in entries:
        code = entry.target.split(":")[1] if entry.target.count(":") >= 2 else ""
        what = ACTION_WORDS.get(entry.action, entry.action)
        who = f"{entry.actor.name or 'unnamed'} ({entry.actor.aad_id})"
        change = change_text(entry, app)
        detail = f"By {who} · Judiciary Code {code}" + (f" · {change}" if change else "")
        rows.append(Row("History", f"{format_instant(entry.at, tz)} · {what}", detail))
    names = ", ".join(sorted({o.full_name for o in memberships})) or number
    subtitle = f"{names} · {len(entries)} entr{'ies' if len(entries) != 1 else 'y'} · oldest first"
    return Answer(
        page=paginate(
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
