"""Information Package use cases: submit, add officers, acknowledge, show, subscribe, hand over the PoC role.

Each use case reads, decides and builds its changes with no ``await`` in between, then commits them
atomically (records, audit entries and notices together) and returns an outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.clocks import unacknowledged_batches
from domain.policy import Action, Requester, who_may
from domain.records import Actor, Agency, OfficerState, Package, Stamp
from domain.validation import FieldErrors, OfficerEntry, parse_agency, parse_officer, parse_poc_email
from domain.views import OfficersAddedView, PackageView, PocEmailForm, ReadinessRule
from services.access import allowed
from services.approval import rebuilt_figures
from services.audit import audit_op, audit_refusal
from services.context import AppContext
from services.notices import (
    Acknowledgment,
    Audience,
    CopiesUpdate,
    Message,
    Notice,
    OfficersAdded,
    PackageCopy,
    PackageForJb,
    added_subject,
    package_subject,
)
from services.outcomes import AlreadyDone, Done, FormOpened, Happening, Invalid, NotFound, Outcome, Refused, Shown
from services.ports import Change
from vocabulary.contact import JB_EMAIL

logger = logging.getLogger(__name__)

PRECONDITIONS = "preconditions"
"""The ``Invalid`` error key of a missing SOP 5 attestation."""

PACKAGE_EXISTS = "package_exists"
"""The ``Invalid`` error key of a Judiciary Code that got its package while the wizard was open."""


def poc_line(package: Package) -> str:
    """Who the PoC of a package is, for messages (name only; never logged)."""
    return package.agency.poc_name or package.poc.name or "its Point-of-Contact"


def known_email(app: AppContext, aad_id: str) -> str | None:
    """An e-mail the person typed before as a package's PoC e-mail, if any."""
    for package in app.db.packages.for_poc(aad_id):
        if package.agency.poc_email:
            return package.agency.poc_email
    return None


def readiness_rule(app: AppContext) -> ReadinessRule:
    """The readiness rule the settings set (READY_MIN_ACCEPTED, READY_MIN_DAYS, READY_CLEAN_STREAK)."""
    settings = app.settings
    return ReadinessRule(settings.ready_min_accepted, settings.ready_min_days, settings.ready_clean_streak)


def package_view(app: AppContext, package: Package) -> PackageView:
    """A package with every officer in it, as stored now."""
    return PackageView(package, tuple(app.db.officers.of_agency(package.judiciary_code)))


# ---- checks the wizard runs at each step (reads only) -------------------------------------------------


@dataclass(frozen=True)
class AgencyCheck:
    """The agency step's answer: a new agency, or an existing package the person may add officers to."""

    agency: Agency
    existing: Package | None = None


def check_agency(app: AppContext, values: Mapping[str, object], requester: Requester) -> AgencyCheck:
    """Parse the agency fields; a Judiciary Code that has a package opens it for adding officers.

    Raises ``FieldErrors`` (beside the field) for bad values, and for an existing package the
    person may not change (saying who its PoC is and how to get the role).
    """
    agency = parse_agency(values)
    existing = app.db.packages.get(agency.judiciary_code)
    if existing is None:
        return AgencyCheck(agency)
    if allowed(app, requester, Action.ADD_OFFICER, existing):
        return AgencyCheck(agency, existing)
    raise FieldErrors(
        {
            "judiciary_code": (
                f"Judiciary Code {agency.judiciary_code} already has an Information Package "
                f"({existing.agency.agency_name}); its Point-of-Contact is {poc_line(existing)}. Only they or JB "
                f"e-ticket staff can add officers to it. If you are taking over, ask JB e-ticket staff ({JB_EMAIL}) "
                "to hand you the role with /set-poc."
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
    """Parse one officer; refuse a number already in this wizard (``taken``) or in this agency's package.

    Raises ``FieldErrors``.
    """
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


def _parse_all(
    app: AppContext, officer_values: Sequence[Mapping[str, object]], today: date, *, judiciary_code: str | None
) -> tuple[list[OfficerEntry], dict[str, str]]:
    """Every officer checked; problems keyed ``officer:<index>:<field id>``."""
    entries: list[OfficerEntry] = []
    errors: dict[str, str] = {}
    for index, values in enumerate(officer_values):
        try:
            taken = [entry.officer_number for entry in entries]
            entries.append(check_officer(app, values, today, judiciary_code=judiciary_code, taken=taken))
        except FieldErrors as problem:
            errors |= {f"officer:{index}:{field_id}": message for field_id, message in problem.errors.items()}
    return entries, errors


# ---- submit and add officers --------------------------------------------------------------------------


async def submit_package(
    app: AppContext,
    requester: Requester,
    agency_values: Mapping[str, object],
    officer_values: Sequence[Mapping[str, object]],
    *,
    valcour_installed: bool,
    officers_trained: bool,
) -> Outcome:
    """Store a new Information Package and its officers (in monitoring), audit it and tell the JB (SOP 6.2).

    Returns ``Done(PackageView)`` or ``Invalid``: field ids as on the cards, officer problems as
    ``officer:<index>:<field id>``, ``PRECONDITIONS`` for a missing attestation (SOP 5) and
    ``PACKAGE_EXISTS`` when the Judiciary Code got a package meanwhile.
    """
    if not (valcour_installed and officers_trained):
        return Invalid({PRECONDITIONS: "Both pre-conditions of SOP 5 must be confirmed before the package is sent."})
    try:
        agency = parse_agency(agency_values)
    except FieldErrors as problem:
        return Invalid(problem.errors)
    entries, errors = _parse_all(app, officer_values, app.today(), judiciary_code=None)
    if errors:
        return Invalid(errors)
    if app.db.packages.get(agency.judiciary_code) is not None:
        return Invalid({PACKAGE_EXISTS: f"Judiciary Code {agency.judiciary_code} already has an Information Package."})
    actor = requester.actor
    stamp = Stamp(actor=actor, at=app.now())
    package = Package(
        agency=agency,
        poc=Actor(aad_id=actor.aad_id.lower(), name=actor.name),
        submitted=stamp,
        valcour_installed=True,
        officers_trained=True,
    )
    officers = [entry.to_officer(agency.judiciary_code, stamp) for entry in entries]
    subject = package_subject(agency.judiciary_code)
    changes: list[Change] = [app.db.packages.put(package)]
    changes += [app.db.officers.put(officer) for officer in officers]
    changes += [app.db.figures.put(rebuilt_figures(app, officer)) for officer in officers]
    changes.append(audit_op(app, actor, "package.submit", subject, None, package.model_dump(mode="json")))
    changes += [
        audit_op(app, actor, "officer.add", f"officer:{o.key}", None, o.model_dump(mode="json")) for o in officers
    ]
    view = PackageView(package, tuple(officers))
    await app.commit(changes, [package_for_jb(view)])
    logger.info("package submitted judiciary_code=%s officers=%d", agency.judiciary_code, len(officers))
    return Done(view)


async def add_officers(
    app: AppContext,
    requester: Requester,
    judiciary_code: str,
    officer_values: Sequence[Mapping[str, object]],
    *,
    officers_trained: bool,
) -> Outcome:
    """Add officers (in monitoring) to an existing package; audit it and tell the JB (and the PoC if staff added).

    The person attests that the new officers are trained (SOP 5). Returns ``Done(PackageView)`` with every
    officer now in the package, ``NotFound``, ``Refused`` or ``Invalid`` (``officer:<index>:<field id>``
    keys; ``form`` when there is no officer; ``officers_trained`` without the attestation).
    """
    package = app.db.packages.get(judiciary_code)
    if package is None:
        return NotFound("package", judiciary_code)
    if not allowed(app, requester, Action.ADD_OFFICER, package):
        return Refused(who_may(Action.ADD_OFFICER))
    entries, errors = _parse_all(app, officer_values, app.today(), judiciary_code=judiciary_code)
    if errors:
        return Invalid(errors)
    if not entries:
        return Invalid({"form": "Add at least one officer."})
    if not officers_trained:
        return Invalid(
            {"officers_trained": "Confirm that these officers have been trained in Valcour e-ticketing (SOP 5)."}
        )
    actor = requester.actor
    stamp = Stamp(actor=actor, at=app.now())
    added = [entry.to_officer(judiciary_code, stamp) for entry in entries]
    changes: list[Change] = []
    for officer in added:
        before = app.db.officers.get(judiciary_code, officer.officer_number)
        changes.append(app.db.officers.put(officer))
        changes.append(app.db.figures.put(rebuilt_figures(app, officer)))  # monitoring begins again now
        changes.append(
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
    kept = [o for o in app.db.officers.of_agency(judiciary_code) if o.officer_number not in added_numbers]
    view = PackageView(package, (*kept, *added))
    batch = OfficersAddedView(package, tuple(added), stamp)
    notices = [officers_added_for_jb(batch)]
    if package.poc.aad_id != actor.aad_id.lower():
        copy = PackageCopy(
            view, "Officers added to your Information Package", f"JB e-ticket staff added {len(added)} officer(s)."
        )
        notices.append(Notice((Audience.person(package.poc.aad_id),), copy, f"Officers added to {judiciary_code}"))
    await app.commit(changes, notices)
    logger.info("officers added judiciary_code=%s count=%d", judiciary_code, len(added))
    return Done(view)


# ---- acknowledge (SOP 6.3) ----------------------------------------------------------------------------


async def acknowledge(
    app: AppContext, requester: Requester, judiciary_code: object, *, shown: str | None = None
) -> Outcome:
    """JB staff acknowledge a package: recorded, every copy updated, the PoC told (SOP 6.3)."""
    package = app.db.packages.get(judiciary_code) if isinstance(judiciary_code, str) else None
    if package is None:
        return NotFound("package")
    actor = requester.actor
    subject = package_subject(package.judiciary_code)
    if not allowed(app, requester, Action.ACKNOWLEDGE, package):
        await audit_refusal(app, actor, "package.acknowledge.refused", subject)
        return Refused(who_may(Action.ACKNOWLEDGE))
    if package.acknowledged is not None:
        await app.db.packages.settled(package.judiciary_code)  # "already acknowledged" only once that is on disk
        await app.commit([audit_op(app, actor, "package.acknowledge.again", subject)])
        current = app.db.packages.get(package.judiciary_code) or package
        return AlreadyDone(package_view(app, current), package.acknowledged, Happening.ACKNOWLEDGED)
    stamp = Stamp(actor=actor, at=app.now())
    after = package.model_copy(update={"acknowledged": stamp})
    view = package_view(app, after)
    changes = [
        app.db.packages.put(after),
        audit_op(
            app, actor, "package.acknowledge", subject, package.model_dump(mode="json"), after.model_dump(mode="json")
        ),
    ]
    notice = Notice(
        (Audience.person(package.poc.aad_id),),
        Acknowledgment(after, stamp, readiness_rule(app)),
        "Information Package acknowledged",
        f"package-ack:{package.judiciary_code}",
    )
    await app.commit(changes, [notice], [CopiesUpdate(subject, PackageForJb(view))], shown=shown)
    logger.info("package acknowledged judiciary_code=%s", package.judiciary_code)
    return Done(view)


async def acknowledge_officers(
    app: AppContext, requester: Requester, judiciary_code: object, numbers: object, *, shown: str | None = None
) -> Outcome:
    """JB staff acknowledge officers added to a package later (SOP 6.3): recorded, every copy updated, the PoC told.

    ``numbers``: the batch's officer numbers, comma-separated, as the card carries them.
    """
    package = app.db.packages.get(judiciary_code) if isinstance(judiciary_code, str) else None
    wanted = [n.strip().upper() for n in numbers.split(",") if n.strip()] if isinstance(numbers, str) else []
    officers = (
        [o for n in wanted if (o := app.db.officers.get(package.judiciary_code, n)) is not None] if package else []
    )
    if package is None or not officers:
        return NotFound("package")
    actor = requester.actor
    subject = added_subject(package.judiciary_code, tuple(o.officer_number for o in officers))
    if not allowed(app, requester, Action.ACKNOWLEDGE, package):
        await audit_refusal(app, actor, "officers.acknowledge.refused", package_subject(package.judiciary_code))
        return Refused(who_may(Action.ACKNOWLEDGE))
    batch = OfficersAddedView(package, tuple(officers), officers[0].added)
    waiting = [o for o in officers if not o.acknowledged_with(package)]
    if not waiting:
        done = next((o.acknowledged for o in officers if o.acknowledged is not None), package.acknowledged)
        assert done is not None
        return AlreadyDone(acknowledged_batch(batch, done), done, Happening.ACKNOWLEDGED)
    stamp = Stamp(actor=actor, at=app.now())
    changes: list[Change] = []
    for officer in waiting:
        changes.append(app.db.officers.put(officer.model_copy(update={"acknowledged": stamp})))
        changes.append(
            audit_op(app, actor, "officer.acknowledge", f"officer:{officer.key}", None, {"acknowledged": True})
        )
    view = acknowledged_batch(batch, stamp)
    notice = Notice(
        (Audience.person(package.poc.aad_id),),
        Acknowledgment(package, stamp, readiness_rule(app), tuple(waiting)),
        "Officers acknowledged",
        f"officers-ack:{subject}",
    )
    await app.commit(changes, [notice], [CopiesUpdate(subject, OfficersAdded(view))], shown=shown)
    logger.info("added officers acknowledged judiciary_code=%s count=%d", package.judiciary_code, len(waiting))
    return Done(view)


def acknowledged_batch(batch: OfficersAddedView, stamp: Stamp) -> OfficersAddedView:
    """The batch as acknowledged by ``stamp``."""
    return OfficersAddedView(batch.package, batch.added, batch.by, stamp)


# ---- /package -----------------------------------------------------------------------------------------


def packages_to_show(app: AppContext, requester: Requester, judiciary_code: str | None) -> Outcome:
    """/package [judiciary code]: ``Shown`` with a tuple of ``PackageView`` (the PoC's own without a code).

    ``NotFound("package", code)``, or ``Refused`` for someone else's package. With no code and no
    package of one's own, ``Shown(())``.
    """
    if judiciary_code is not None:
        package = app.db.packages.get(judiciary_code)
        if package is None:
            return NotFound("package", judiciary_code)
        if not allowed(app, requester, Action.SEE_PACKAGE, package):
            return Refused(who_may(Action.SEE_PACKAGE))
        return Shown((package_view(app, package),))
    return Shown(tuple(package_view(app, package) for package in app.db.packages.for_poc(requester.aad_id)))


# ---- subscriptions and the PoC role -------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """Where a target's notices now go: an agency (with its package when stored) or the JB ("jb")."""

    target: str
    package: Package | None = None
    delivered: int = 0
    """For the JB channel: the notices posted there at once (those that waited, and open work not yet there)."""


async def subscribe(app: AppContext, requester: Requester, target: str, place: str) -> Outcome:
    """Route an agency's alerts (Judiciary Code) or the JB's notices ("jb") to the conversation ``place``.

    Returns ``Done(Subscription)``, ``Refused`` (not its PoC / not JB staff) or ``NotFound`` (no package
    of that code, for anyone but JB staff).
    """
    package: Package | None = None
    if target == app.db.subscriptions.JB:
        if not allowed(app, requester, Action.SUBSCRIBE_JB):
            return Refused(who_may(Action.SUBSCRIBE_JB))
    else:
        package = app.db.packages.get(target)
        if package is None and not requester.is_staff:
            return NotFound("package", target)
        if package is not None and not allowed(app, requester, Action.SUBSCRIBE_AGENCY, package):
            return Refused(who_may(Action.SUBSCRIBE_AGENCY))
    actor = requester.actor
    before = app.db.subscriptions.conversation_for(target)
    changes = [
        app.db.subscriptions.put(target, place, actor.aad_id, app.now()),
        audit_op(
            app,
            actor,
            "subscribe",
            f"subscription:{target}",
            None if before is None else {"conversation_id": before},
            {"conversation_id": place},
        ),
    ]
    await app.commit(changes)
    logger.info("subscription target=%s conversation=%s", target, place)
    if target != app.db.subscriptions.JB:
        return Done(Subscription(target, package))
    released = await app.release([Audience.jb()])  # what waited for the JB goes to its channel now
    copies = _open_work_copies(app, place)
    if copies:
        await app.commit([], copies)
    logger.info("jb channel marked: released=%d open work copies=%d", released, len(copies))
    return Done(Subscription(target, None, released + len(copies)))


def _open_work_copies(app: AppContext, place: str) -> list[Notice]:
    """The JB channel just marked gets a copy of each package, and each batch of officers added later, that
    still awaits acknowledgment (SOP 6.3) and reached JB staff only in their 1:1 chats before the channel
    existed (a Teams install of the bot in a 1:1 chat releases what waited). Acknowledge on any copy
    updates every copy (one subject)."""

    def copied_here(subject: str) -> bool:
        return any(e.conversation_id == place and e.action == "send" for e in app.db.outbox.of_subject(subject))

    notices: list[Notice] = []
    for package in app.db.packages.all():
        code = package.judiciary_code
        if package.acknowledged is None:
            if not copied_here(package_subject(code)):
                notices.append(package_for_jb(package_view(app, package)))
            continue
        for batch in unacknowledged_batches(package, app.db.officers.of_agency(code)):
            added = OfficersAddedView(package, batch, batch[0].added)
            if not copied_here(added_subject(code, added.numbers)):
                notices.append(officers_added_for_jb(added))
    return notices


def package_for_jb(view: PackageView) -> Notice:
    """The JB's card for a submitted package, awaiting Acknowledge (SOP 6.2); every copy shares one subject."""
    code = view.package.judiciary_code
    return Notice((Audience.jb(),), PackageForJb(view), f"New Information Package {code}", package_subject(code))


def officers_added_for_jb(batch: OfficersAddedView) -> Notice:
    """The JB's card for officers added to a package, awaiting Acknowledge (SOP 6.3); one subject per batch."""
    code = batch.package.judiciary_code
    return Notice(
        (Audience.jb(),), OfficersAdded(batch), f"Officers added to {code}", added_subject(code, batch.numbers)
    )


async def set_poc(app: AppContext, requester: Requester, judiciary_code: str, new_poc: Actor, email: object) -> Outcome:
    """JB staff hand an agency's PoC role to another person; both are told in 1:1 where the bot can.

    The Information Package keeps its PoC's e-mail (SOP 6.1): ``email`` is the one Teams' roster gave
    for the person or the one JB staff typed on the form. With none (``None``), nothing changes and the
    form asking for it is returned; a wrong one comes back on the form with the message, nothing changed.
    Returns ``Done(PackageView)``, ``FormOpened(PocEmailForm)``, ``Invalid(PocEmailForm)``, ``Refused`` or
    ``NotFound("package", code)``.
    """
    if not allowed(app, requester, Action.SET_POC):
        return Refused(who_may(Action.SET_POC))
    package = app.db.packages.get(judiciary_code)
    if package is None:
        return NotFound("package", judiciary_code)
    poc = Actor(aad_id=new_poc.aad_id.lower(), name=new_poc.name)
    form = PocEmailForm(package, poc, known_email(app, poc.aad_id))
    if email is None:
        return FormOpened(form, "poc_email")
    try:
        address = parse_poc_email({"poc_email": email})
    except FieldErrors as problem:
        return Invalid(problem.errors, form, {"poc_email": email})
    agency = package.agency.model_copy(update={"poc_name": new_poc.name, "poc_email": address})
    after = package.model_copy(update={"poc": poc, "agency": agency})
    view = package_view(app, after)

    def who(record: Package) -> dict[str, object]:
        return {
            "poc": record.poc.model_dump(mode="json"),
            "poc_name": record.agency.poc_name,
            "poc_email": record.agency.poc_email,
        }

    changes: list[Change] = [
        app.db.packages.put(after),
        audit_op(app, requester.actor, "package.set_poc", package_subject(judiciary_code), who(package), who(after)),
    ]
    intro = (
        f"JB e-ticket staff made you the Point-of-Contact of {agency.agency_name}. "
        "You receive its notices and can add officers with /add-officer."
    )
    notices = [
        Notice(
            (Audience.person(poc.aad_id),),
            PackageCopy(view, "You are now the Point-of-Contact", intro),
            "You are now the Point-of-Contact",
        )
    ]
    if package.poc.aad_id and package.poc.aad_id != poc.aad_id:
        text = (
            f"JB e-ticket staff handed the Point-of-Contact role of {agency.agency_name} "
            f"({judiciary_code}) to {new_poc.name or 'another person'}."
        )
        notices.append(
            Notice(
                (Audience.person(package.poc.aad_id),),
                Message("Point-of-Contact role handed over", text),
                "Point-of-Contact role handed over",
            )
        )
    await app.commit(changes, notices)
    logger.info("poc handed over judiciary_code=%s", judiciary_code)
    return Done(view)
