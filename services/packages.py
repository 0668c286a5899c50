"""Information Package use cases: submit, add officers, acknowledge, subscribe, hand over the PoC role.

Each use case reads, decides and builds its ops with no ``await`` in between, then commits them
atomically (records, audit entries and notices together) and wakes the outbox.
No botbuilder imports: the bot layer translates activities into these calls and back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cards.common import message_card, with_notice
from cards.package import (
    acknowledgment_card,
    confirmation_card,
    jb_package_card,
    officers_added_card,
    package_card,
)
from domain.calendar import format_instant
from domain.records import Actor, Agency, Officer, OfficerState, Package, Stamp
from domain.validation import FieldErrors, OfficerEntry, parse_agency, parse_officer
from services.audit import audit_op
from services.context import AppContext
from services.notices import Audience, notice_ops, update_ops
from storage.engine import Op
from storage.repositories import SubscriptionRepository

logger = logging.getLogger(__name__)

JB_EMAIL = "JUD-eTicket@vermont.gov"


class PackageError(Exception):
    """A use case refused: ``user_message`` says why in plain words; nothing was changed."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class NotAllowed(PackageError):
    """The person may not do this (not the agency's PoC, not JB staff)."""


class NotFound(PackageError):
    """No package has that Judiciary Code."""


class PackageExists(PackageError):
    """The Judiciary Code got a package meanwhile (one agency has one package)."""


class PreconditionsMissing(PackageError):
    """A pre-condition of SOP 5 was not confirmed."""


def package_subject(judiciary_code: str) -> str:
    """The outbox subject tying together every copy of the JB's package card."""
    return f"package:{judiciary_code}"


def may_change(package: Package, actor: Actor, is_staff: bool) -> bool:
    """Only the agency's PoC (or JB staff) may change its package, subscriptions and incidents."""
    return is_staff or (bool(actor.aad_id) and package.poc.aad_id == actor.aad_id.lower())


def poc_line(package: Package) -> str:
    """Who the PoC of a package is, for messages (name only; never logged)."""
    return package.agency.poc_name or package.poc.name or "its Point-of-Contact"


def known_email(app: AppContext, aad_id: str) -> str | None:
    """An e-mail the person typed before as a package's PoC e-mail, if any."""
    for package in app.db.packages.for_poc(aad_id):
        if package.agency.poc_email:
            return package.agency.poc_email
    return None


# ---- checks the wizard runs at each step (reads only) -------------------------------------------------


@dataclass(frozen=True)
class AgencyCheck:
    """The agency step's answer: a new agency, or an existing package the person may add officers to."""

    agency: Agency
    existing: Package | None = None


def check_agency(app: AppContext, values: Mapping[str, object], actor: Actor, is_staff: bool) -> AgencyCheck:
    """Parse the agency fields; a Judiciary Code that has a package opens it for adding officers.

    Raises ``FieldErrors`` (beside the field) for bad values, and for an existing package the
    person may not change (saying who its PoC is and how to get the role).
    """
    agency = parse_agency(values)
    existing = app.db.packages.get(agency.judiciary_code)
    if existing is None:
        return AgencyCheck(agency)
    if may_change(existing, actor, is_staff):
        return AgencyCheck(agency, existing)
    raise FieldErrors(
        {
            "judiciary_code": (
                f"Judiciary Code {agency.judiciary_code} already has an Information Package "
                f"({existing.agency.agency_name}); its Point-of-Contact is {poc_line(existing)}. Only they or JB e-ticket "
                f"staff can add officers to it. If you are taking over, ask JB e-ticket staff ({JB_EMAIL}) to hand you "
                "the role with /set-poc."
            )
        }
    )


def other_agency_notes(app: AppContext, officer_number: str, judiciary_code: str | None) -> list[str]:
    """Notes for an officer number that is also in other agencies' packages (allowed: approval is per agency)."""
    notes = []
    for officer in app.db.officers.by_number(officer_number):
        if officer.judiciary_code == judiciary_code or officer.state is OfficerState.WITHDRAWN:
            continue
        package = app.db.packages.get(officer.judiciary_code)
        name = package.agency.agency_name if package else "another agency"
        notes.append(
            f"{officer_number} is also in the package of {name} ({officer.judiciary_code}). That is fine: "
            "approval is per agency, so this membership is monitored and approved on its own."
        )
    return notes


def check_officer(
    app: AppContext, values: Mapping[str, object], today: date, *, judiciary_code: str | None, taken: Iterable[str]
) -> OfficerEntry:
    """Parse one officer; refuse a number already in this wizard (``taken``) or in this agency's package."""
    entry = parse_officer(values, today)
    if entry.officer_number in set(taken):
        raise FieldErrors(
            {"officer_number": f"Officer number {entry.officer_number} is already listed in this package."}
        )
    if judiciary_code is not None:
        existing = app.db.officers.get(judiciary_code, entry.officer_number)
        if existing is not None and existing.state is not OfficerState.WITHDRAWN:
            raise FieldErrors(
                {
                    "officer_number": (
                        f"Officer number {entry.officer_number} is already in this agency's package "
                        f"({existing.full_name}). Each officer number appears once in a package."
                    )
                }
            )
    return entry


# ---- submit and add officers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """What a submit stored: the package, every officer now in it, those just added, and the PoC's copy."""

    package: Package
    officers: list[Officer]
    added: list[Officer]
    confirmation: dict[str, Any]


async def submit_package(
    app: AppContext,
    actor: Actor,
    agency_values: Mapping[str, object],
    officer_values: Sequence[Mapping[str, object]],
    *,
    valcour_installed: bool,
    officers_trained: bool,
) -> Submitted:
    """Store a new Information Package and its officers (in monitoring), audit it and tell the JB (SOP 6.2).

    Raises ``FieldErrors`` (field ids as on the cards; officer problems as ``officer:<index>``),
    ``PackageError`` when the Judiciary Code got a package meanwhile or a pre-condition is missing.
    """
    if not (valcour_installed and officers_trained):
        raise PreconditionsMissing("Both pre-conditions of SOP 5 must be confirmed before the package is sent.")
    agency = parse_agency(agency_values)
    today = app.today()
    entries = _parse_all(app, officer_values, today, judiciary_code=None)
    if app.db.packages.get(agency.judiciary_code) is not None:
        raise PackageExists(f"Judiciary Code {agency.judiciary_code} already has an Information Package.")
    now = app.now()
    stamp = Stamp(actor=actor, at=now)
    package = Package(
        agency=agency,
        poc=Actor(aad_id=actor.aad_id.lower(), name=actor.name),
        submitted=stamp,
        valcour_installed=True,
        officers_trained=True,
    )
    officers = [entry.to_officer(agency.judiciary_code, stamp) for entry in entries]
    tz = app.settings.timezone
    ops: list[Op] = [app.db.packages.put(package)]
    ops += [app.db.officers.put(officer) for officer in officers]
    ops.append(
        audit_op(
            app, actor, "package.submit", package_subject(agency.judiciary_code), None, package.model_dump(mode="json")
        )
    )
    ops += [audit_op(app, actor, "officer.add", f"officer:{o.key}", None, o.model_dump(mode="json")) for o in officers]
    ops += notice_ops(
        app,
        [Audience.jb()],
        jb_package_card(package, officers, tz),
        summary=f"New Information Package {agency.judiciary_code}",
        subject=package_subject(agency.judiciary_code),
    )
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("package submitted judiciary_code=%s officers=%d", agency.judiciary_code, len(officers))
    return Submitted(package, officers, officers, confirmation_card(package, officers, tz))


async def add_officers(
    app: AppContext, actor: Actor, is_staff: bool, judiciary_code: str, officer_values: Sequence[Mapping[str, object]]
) -> Submitted:
    """Add officers (in monitoring) to an existing package; audit it and tell the JB (and the PoC if staff added).

    Raises ``NotFound``, ``NotAllowed``, ``FieldErrors`` (``officer:<index>`` keys).
    """
    package = app.db.packages.get(judiciary_code)
    if package is None:
        raise NotFound(f"No Information Package has Judiciary Code {judiciary_code}.")
    if not may_change(package, actor, is_staff):
        raise NotAllowed(
            f"Only the Point-of-Contact of {package.agency.agency_name} ({poc_line(package)}) or JB "
            "e-ticket staff can add officers to its package."
        )
    today = app.today()
    entries = _parse_all(app, officer_values, today, judiciary_code=judiciary_code)
    if not entries:
        raise PackageError("Add at least one officer.")
    now = app.now()
    stamp = Stamp(actor=actor, at=now)
    added = [entry.to_officer(judiciary_code, stamp) for entry in entries]
    tz = app.settings.timezone
    ops: list[Op] = []
    for officer in added:
        before = app.db.officers.get(judiciary_code, officer.officer_number)
        ops.append(app.db.officers.put(officer))
        ops.append(
            audit_op(
                app,
                actor,
                "officer.add",
                f"officer:{officer.key}",
                None if before is None else before.model_dump(mode="json"),
                officer.model_dump(mode="json"),
            )
        )
    added_numbers = {officer.officer_number for officer in added}
    everyone = [o for o in app.db.officers.of_agency(judiciary_code) if o.officer_number not in added_numbers] + added
    ops += notice_ops(
        app,
        [Audience.jb()],
        officers_added_card(package, added, tz, stamp),
        summary=f"Officers added to {judiciary_code}",
        subject=f"officers-added:{judiciary_code}",
    )
    if package.poc.aad_id != actor.aad_id.lower():
        ops += notice_ops(
            app,
            [Audience.person(package.poc.aad_id)],
            package_card(
                package,
                everyone,
                tz,
                title="Officers added to your Information Package",
                intro=f"JB e-ticket staff added {len(added)} officer(s).",
            ),
            summary=f"Officers added to {judiciary_code}",
        )
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("officers added judiciary_code=%s count=%d", judiciary_code, len(added))
    return Submitted(package, everyone, added, confirmation_card(package, everyone, tz, added=len(added)))


def _parse_all(
    app: AppContext, officer_values: Sequence[Mapping[str, object]], today: date, *, judiciary_code: str | None
) -> list[OfficerEntry]:
    entries: list[OfficerEntry] = []
    errors: dict[str, str] = {}
    for index, values in enumerate(officer_values):
        try:
            entries.append(
                check_officer(
                    app, values, today, judiciary_code=judiciary_code, taken=[entry.officer_number for entry in entries]
                )
            )
        except FieldErrors as problem:
            errors |= {f"officer:{index}:{field_id}": message for field_id, message in problem.errors.items()}
    if errors:
        raise FieldErrors(errors)
    return entries


# ---- acknowledge (SOP 6.3) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledged:
    """The outcome of an Acknowledge press: the card to show, and what happened."""

    card: dict[str, Any]
    outcome: str  # "acknowledged" | "already" | "refused" | "missing"
    package: Package | None = None


async def acknowledge(
    app: AppContext, actor: Actor, is_staff: bool, judiciary_code: object, pressed_activity: str | None
) -> Acknowledged:
    """JB staff acknowledge a package: recorded, every copy updated, the PoC told (SOP 6.3)."""
    package = app.db.packages.get(judiciary_code) if isinstance(judiciary_code, str) else None
    if package is None:
        return Acknowledged(
            message_card("Package not found", "This Information Package is not in the bot any more."), "missing"
        )
    tz = app.settings.timezone
    officers = app.db.officers.of_agency(package.judiciary_code)
    subject = package_subject(package.judiciary_code)
    if not is_staff:
        card = with_notice(
            jb_package_card(package, officers, tz), "Only JB e-ticket staff may acknowledge an Information Package."
        )
        await app.db.commit([audit_op(app, actor, "package.acknowledge.refused", subject)])
        return Acknowledged(card, "refused", package)
    if package.acknowledged is not None:
        done = package.acknowledged
        card = with_notice(
            jb_package_card(package, officers, tz),
            f"Already acknowledged by {done.actor.name or 'JB e-ticket staff'} on {format_instant(done.at, tz)}.",
            kind="warning",
        )
        await app.db.commit([audit_op(app, actor, "package.acknowledge.again", subject)])
        return Acknowledged(card, "already", package)
    stamp = Stamp(actor=actor, at=app.now())
    after = package.model_copy(update={"acknowledged": stamp})
    card = jb_package_card(after, officers, tz)
    ops: list[Op] = [
        app.db.packages.put(after),
        audit_op(
            app, actor, "package.acknowledge", subject, package.model_dump(mode="json"), after.model_dump(mode="json")
        ),
        *update_ops(app, subject, card, exclude_activity=pressed_activity),
        *notice_ops(
            app,
            [Audience.person(package.poc.aad_id)],
            acknowledgment_card(after, stamp, tz),
            summary="Information Package acknowledged",
            subject=f"package-ack:{package.judiciary_code}",
        ),
    ]
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("package acknowledged judiciary_code=%s", package.judiciary_code)
    return Acknowledged(card, "acknowledged", after)


# ---- subscriptions and the PoC role -------------------------------------------------------------------


async def subscribe(app: AppContext, actor: Actor, is_staff: bool, target: str, conversation_id: str) -> str:
    """Route an agency's alerts (Judiciary Code) or the JB's notices ("jb") to a conversation; returns the summary.

    Raises ``NotAllowed`` (not its PoC / not JB staff).
    """
    if target == SubscriptionRepository.JB:
        if not is_staff:
            raise NotAllowed("Only JB e-ticket staff can mark the JB channel.")
        what = "JB notices (new packages, readiness, incidents)"
    else:
        package = app.db.packages.get(target)
        if package is None and not is_staff:
            raise NotAllowed(
                f"No Information Package has Judiciary Code {target} yet. Its Point-of-Contact sends it "
                "first with /new-package in a 1:1 chat with me."
            )
        if package is not None and not may_change(package, actor, is_staff):
            raise NotAllowed(
                f"Only the Point-of-Contact of {package.agency.agency_name} ({poc_line(package)}) or "
                "JB e-ticket staff can route its alerts."
            )
        what = f"e-ticket alerts of {package.agency.agency_name if package else 'Judiciary Code'} ({target})"
    before = app.db.subscriptions.conversation_for(target)
    ops = [
        app.db.subscriptions.put(target, conversation_id, actor.aad_id, app.now()),
        audit_op(
            app,
            actor,
            "subscribe",
            f"subscription:{target}",
            None if before is None else {"conversation_id": before},
            {"conversation_id": conversation_id},
        ),
    ]
    await app.db.commit(ops)
    logger.info("subscription target=%s conversation=%s", target, conversation_id)
    return what


def person_by_email(app: AppContext, email: str) -> Actor | None:
    """A known person with this e-mail: someone who typed it as a package's PoC e-mail."""
    wanted = email.strip().lower()
    for package in app.db.packages.all():
        if package.agency.poc_email.strip().lower() == wanted:
            return Actor(aad_id=package.poc.aad_id, name=package.agency.poc_name or package.poc.name)
    return None


async def set_poc(
    app: AppContext, actor: Actor, is_staff: bool, judiciary_code: str, new_poc: Actor, email: str | None
) -> Package:
    """JB staff hand an agency's PoC role to another person; both are told in 1:1 where the bot can.

    Raises ``NotAllowed``, ``NotFound``.
    """
    if not is_staff:
        raise NotAllowed("Only JB e-ticket staff can hand over the Point-of-Contact role.")
    package = app.db.packages.get(judiciary_code)
    if package is None:
        raise NotFound(f"No Information Package has Judiciary Code {judiciary_code}.")
    agency = package.agency.model_copy(update={"poc_name": new_poc.name, "poc_email": email or ""})
    after = package.model_copy(
        update={"poc": Actor(aad_id=new_poc.aad_id.lower(), name=new_poc.name), "agency": agency}
    )
    tz = app.settings.timezone
    officers = app.db.officers.of_agency(judiciary_code)
    ops: list[Op] = [
        app.db.packages.put(after),
        audit_op(
            app,
            actor,
            "package.set_poc",
            package_subject(judiciary_code),
            {"poc": package.poc.model_dump(mode="json")},
            {"poc": after.poc.model_dump(mode="json")},
        ),
        *notice_ops(
            app,
            [Audience.person(after.poc.aad_id)],
            package_card(
                after,
                officers,
                tz,
                title="You are now the Point-of-Contact",
                intro=f"JB e-ticket staff made you the Point-of-Contact of {agency.agency_name}. "
                "You receive its notices and can add officers with /add-officer.",
            ),
            summary="You are now the Point-of-Contact",
        ),
    ]
    if package.poc.aad_id and package.poc.aad_id != after.poc.aad_id:
        ops += notice_ops(
            app,
            [Audience.person(package.poc.aad_id)],
            message_card(
                "Point-of-Contact role handed over",
                f"JB e-ticket staff handed the Point-of-Contact role of {agency.agency_name} "
                f"({judiciary_code}) to {new_poc.name or 'another person'}.",
            ),
            summary="Point-of-Contact role handed over",
        )
    await app.db.commit(ops)
    app.wake_outbox()
    logger.info("poc handed over judiciary_code=%s", judiciary_code)
    return after
