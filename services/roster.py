"""Importing the existing roster (issue 17): agencies and officers approved before the bot existed.

``import_roster`` takes the rows ``domain.roster.check_roster`` accepted and the store as it is, and
either writes everything in one atomic commit or nothing at all:

- nothing is written while any row is bad, or disagrees with what the bot already holds;
- a package the bot does not hold yet is stored acknowledged (the JB knows these agencies), its
  Point-of-Contact the object id given, or nobody until JB staff hand the role over with /set-poc;
- an officer with an approval date is stored approved with that date; one without enters monitoring
  on the day of import (their e-tickets count from then);
- the import adds, and never changes: a package or officer the bot already holds with the same fields
  is left as it is (so importing the same file twice changes nothing the second time), and one with
  other fields is reported, to be put right in the file or in the bot;
- each package the import adds to gets one audit entry (``package.import``) listing its imported officers.

No notice is sent: the import sets the bot up, it is not news for anyone's chat.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from domain.records import Actor, Officer, OfficerState, Package, Stamp
from domain.roster import RosterEntry, RosterProblem, field_label
from services.audit import audit_op
from services.context import AppContext
from services.notices import package_subject
from services.ports import Change

logger = logging.getLogger(__name__)

IMPORTER = Actor(aad_id="system", name="Roster import")
"""Who the records say added, acknowledged and approved what the import brought in."""

IMPORT_ACTION = "package.import"
APPROVED_AT = time(12, 0)
"""An imported approval is stamped at noon of its approval date, court time (the roster holds the date only)."""

_CHART_FIELDS = ("first_name", "last_name", "dps_username", "start_date")


@dataclass(frozen=True)
class PackagePlan:
    """What the import does to one agency: a new package or officers added to a stored one."""

    judiciary_code: str
    new_package: bool
    approved: int = 0
    monitoring: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did. ``written`` is False for a dry run, for problems, and when nothing changed."""

    problems: tuple[RosterProblem, ...] = ()
    packages: tuple[PackagePlan, ...] = ()
    written: bool = False
    dry_run: bool = False
    rows: int = field(default=0)

    @property
    def changes(self) -> int:
        """Packages and officers the import adds (or would add)."""
        return sum(p.new_package + p.approved + p.monitoring for p in self.packages)


def _approved_stamp(app: AppContext, day: date) -> Stamp:
    return Stamp(actor=IMPORTER, at=datetime.combine(day, APPROVED_AT, app.settings.timezone))


def imported_officer(app: AppContext, entry: RosterEntry, added: Stamp) -> Officer:
    """The membership a checked row becomes: approved with its date, or in monitoring from ``added``."""
    officer = entry.officer.to_officer(entry.agency.judiciary_code, added)
    if entry.approval_date is None:
        return officer
    return officer.model_copy(
        update={
            "state": OfficerState.APPROVED,
            "approval_date": entry.approval_date,
            "approved": _approved_stamp(app, entry.approval_date),
        }
    )


def _against_store(app: AppContext, entries: Sequence[RosterEntry]) -> list[RosterProblem]:
    """Rows that disagree with the package or officer the bot already holds."""
    problems: list[RosterProblem] = []
    for entry in entries:
        code = entry.agency.judiciary_code
        stored = app.db.packages.get(code)
        if stored is not None:
            for field_id in type(entry.agency).model_fields:
                if getattr(stored.agency, field_id) != getattr(entry.agency, field_id):
                    problems.append(
                        RosterProblem(
                            f"Judiciary Code {code} already has an Information Package in the bot with another "
                            f"{field_label(field_id)}: make the row match it (the import never changes a package).",
                            entry.row,
                            field_label(field_id),
                        )
                    )
            if entry.poc_aad_id is not None and entry.poc_aad_id != stored.poc.aad_id:
                problems.append(
                    RosterProblem(
                        f"the Information Package of {code} in the bot has another Point-of-Contact: leave the cell "
                        "empty, or have JB e-ticket staff hand the role over with /set-poc.",
                        entry.row,
                        field_label("poc_aad_id"),
                    )
                )
        officer = app.db.officers.get(code, entry.officer.officer_number)
        if officer is None or officer.state is OfficerState.WITHDRAWN:
            continue
        for field_id in _CHART_FIELDS:
            if getattr(officer, field_id) != getattr(entry.officer, field_id):
                problems.append(
                    RosterProblem(
                        f"officer {officer.officer_number} is already in the package of {code} with another "
                        f"{field_label(field_id)} (the import never changes an officer).",
                        entry.row,
                        field_label(field_id),
                    )
                )
        if entry.approval_date is not None and entry.approval_date != officer.approval_date:
            where = "in monitoring" if officer.state is OfficerState.MONITORING else "approved with another date"
            problems.append(
                RosterProblem(
                    f"officer {officer.officer_number} is {where} in the bot (the import never changes an officer; "
                    "JB e-ticket staff approve in the bot).",
                    entry.row,
                    field_label("approval_date"),
                )
            )
    return problems


def _is_new(app: AppContext, entry: RosterEntry) -> bool:
    officer = app.db.officers.get(entry.agency.judiciary_code, entry.officer.officer_number)
    return officer is None or officer.state is OfficerState.WITHDRAWN


async def import_roster(
    app: AppContext,
    entries: Sequence[RosterEntry],
    *,
    dry_run: bool = False,
    source: str = "",
) -> ImportReport:
    """Import rows ``check_roster`` accepted: everything in one atomic write, or nothing (a dry run, or a problem).

    The rows are checked against what the store holds first. Raises ``StorageUnavailable`` when the
    write fails (then nothing is kept).
    """
    found = _against_store(app, entries)
    if found:
        ordered = tuple(sorted(found, key=lambda p: p.row or 0))
        return ImportReport(problems=ordered, dry_run=dry_run, rows=len(entries))
    now = app.now()
    stamp = Stamp(actor=IMPORTER, at=now)
    by_code: dict[str, list[RosterEntry]] = {}
    for entry in entries:
        by_code.setdefault(entry.agency.judiciary_code, []).append(entry)
    changes: list[Change] = []
    plans: list[PackagePlan] = []
    for code, rows in by_code.items():
        stored = app.db.packages.get(code)
        new_rows = [entry for entry in rows if _is_new(app, entry)]
        officers = [imported_officer(app, entry, stamp) for entry in new_rows]
        approved = sum(1 for officer in officers if officer.state is OfficerState.APPROVED)
        plans.append(PackagePlan(code, stored is None, approved, len(officers) - approved, len(rows) - len(new_rows)))
        if stored is None:
            lead = rows[0]
            poc_id = next((entry.poc_aad_id for entry in rows if entry.poc_aad_id), "")
            package = Package(
                agency=lead.agency,
                poc=Actor(aad_id=poc_id, name=lead.agency.poc_name),
                submitted=stamp,
                acknowledged=stamp,
            )
            changes.append(app.db.packages.put(package))
        elif not officers:
            continue
        changes += [app.db.officers.put(officer) for officer in officers]
        after = {
            "source": "roster import",
            "file": source,
            "package": "stored" if stored is None else "kept",
            "officers": [
                {
                    "officer_number": officer.officer_number,
                    "state": officer.state.value,
                    "approval_date": officer.approval_date.isoformat() if officer.approval_date else None,
                }
                for officer in officers
            ],
        }
        changes.append(audit_op(app, IMPORTER, IMPORT_ACTION, package_subject(code), None, after))
    report = ImportReport(packages=tuple(plans), dry_run=dry_run, rows=len(entries))
    if dry_run or not changes:
        return report
    await app.commit(changes)
    logger.info(
        "roster imported packages=%d officers=%d",
        sum(plan.new_package for plan in plans),
        sum(plan.approved + plan.monitoring for plan in plans),
    )
    return ImportReport(packages=report.packages, written=True, rows=len(entries))
