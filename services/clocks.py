"""The SOP's clocks keep time (issue 16): reminders, escalations on the answer deadline, the daily refresh
of open alerts and the weekly digest, all as notices in the outbox.

``tick`` is called by the bot's clock scheduler (and by tests, with the app's clock moved). It reads,
decides and builds everything with no ``await`` in between, then commits in ONE atomic write the
notices and, in the clock log, the keys of the occurrences they are for: a notice is never queued
without its occurrence being remembered, nor remembered without being queued, so a restart neither
loses nor repeats one. The rules of when each falls due are in ``domain.clocks``.

Reminders, escalations and digests go out only on court business days between the opening and
closing hours (``BUSINESS_HOURS_START`` / ``_END``, court time); what falls due outside waits for the
next business morning. The daily refresh of the alerts (a card edit, which notifies nobody) is done at
the first tick of each court date, whatever the hour.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from domain.calendar import as_utc
from domain.clocks import (
    PASSED,
    ClockKind,
    Due,
    deadline_steps,
    extension_ending,
    no_eticket,
    officers_unacknowledged,
    package_unacknowledged,
    ready_unapproved,
)
from domain.court_days import BusinessHours
from domain.records import Incident, IncidentKind, Officer, OfficerState
from domain.views import OfficersAddedView
from services import digest
from services.approval import figures_of, view_of
from services.context import AppContext
from services.notices import (
    Audience,
    CopiesUpdate,
    IncidentAlert,
    Notice,
    OfficerCard,
    OfficersAdded,
    PackageForJb,
    Reminder,
    added_subject,
    incident_subject,
    package_subject,
    readiness_subject,
)
from services.packages import package_view
from services.ports import Change
from services.tickets import alert_view

logger = logging.getLogger(__name__)


def business_hours(app: AppContext) -> BusinessHours:
    """The court's business hours from the settings."""
    settings = app.settings
    return BusinessHours(settings.timezone, settings.business_hours_start, settings.business_hours_end)


@dataclass
class ClockRound:
    """What one tick did: the occurrence keys it sent (in order) and the alerts it refreshed."""

    sent: list[str] = field(default_factory=list)
    refreshed: int = 0

    def kinds(self) -> Counter[str]:
        """How many occurrences of each kind were sent."""
        return Counter(key.split(":")[0] for key in self.sent)


@dataclass
class _Plan:
    """The changes, notices and updates one tick builds, committed together."""

    now: datetime
    app: AppContext
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    updates: list[CopiesUpdate] = field(default_factory=list)
    round: ClockRound = field(default_factory=ClockRound)

    def due(self, due: Due | None) -> bool:
        """Whether this occurrence's time has come and it was not sent before."""
        return due is not None and due.is_due(self.now) and not self.app.db.clocks.done(due.key)

    def send(self, notices: list[Notice], *dues: Due) -> None:
        """Queue these notices and remember the occurrences they are for."""
        self.notices += notices
        for due in dues:
            self.changes.append(self.app.db.clocks.put(due.key, due.kind.value, self.now))
            self.round.sent.append(due.key)


async def tick(app: AppContext) -> ClockRound:
    """Send whatever is due now and was not sent before; one atomic commit. Raises StorageUnavailable."""
    plan = _Plan(app.now(), app)
    _refresh_alerts(plan)
    if business_hours(app).is_open(plan.now):
        _acknowledgments(plan)
        _readiness(plan)
        _monitoring(plan)
        _answer_deadlines(plan)
        for due, notice in digest.weekly(app, business_hours(app), plan.due):
            plan.send([notice], due)
    if plan.changes:
        await app.commit(plan.changes, plan.notices, plan.updates)
    if plan.round.sent:
        logger.info("clocks sent %s", dict(plan.round.kinds()))
    return plan.round


def _refresh_alerts(plan: _Plan) -> None:
    """Once a court date, every copy of each open alert shows the days left as of today."""
    app = plan.app
    key = f"{ClockKind.ALERTS_REFRESHED.value}:{app.today().isoformat()}"
    if app.db.clocks.done(key):
        return
    for incident in app.db.incidents.open():
        if incident.issued_at is not None:  # an unknown issue date has no countdown to move on
            alert = IncidentAlert(alert_view(app, incident))
            plan.updates.append(CopiesUpdate(incident_subject(incident.id), alert))
    plan.round.refreshed = len(plan.updates)
    plan.changes.append(app.db.clocks.put(key, ClockKind.ALERTS_REFRESHED.value, plan.now))


def _acknowledgments(plan: _Plan) -> None:
    """Packages, and officers added since an acknowledgment, that nobody acknowledged (SOP 6.3)."""
    app = plan.app
    days = app.settings.remind_unacknowledged_days
    hours = business_hours(app)
    today = app.today()
    for package in app.db.packages.all():
        code = package.judiciary_code
        due = package_unacknowledged(package, hours, days)
        if due is not None and plan.due(due):
            content = Reminder(PackageForJb(package_view(app, package)), due.kind, package.submitted.at, days, today)
            summary = f"Reminder: Information Package {code} not acknowledged"
            plan.send([Notice((Audience.jb(),), content, summary, subject=package_subject(code))], due)
        for batch_due, batch in officers_unacknowledged(package, app.db.officers.of_agency(code), hours, days):
            if not plan.due(batch_due):
                continue
            added = batch[0].added
            view = OfficersAddedView(package, batch, added)
            content = Reminder(OfficersAdded(view), batch_due.kind, added.at, days, today)
            summary = f"Reminder: officers added to {code} not acknowledged"
            subject = added_subject(code, view.numbers)  # Acknowledge on any copy updates this one too
            plan.send([Notice((Audience.jb(),), content, summary, subject=subject)], batch_due)


def _readiness(plan: _Plan) -> None:
    """Officers ready for approval for some business days and still not approved (SOP 6.6)."""
    app = plan.app
    days = app.settings.remind_unapproved_days
    for key in app.db.readiness.ready_keys():
        code, _, number = key.partition(":")
        officer = app.db.officers.get(code, number)
        since = app.db.readiness.since(key)
        if officer is None or since is None or officer.state is not OfficerState.MONITORING:
            continue
        due = ready_unapproved(officer, since, business_hours(app), days)
        if not plan.due(due):
            continue
        view = view_of(app, officer)
        if not view.readiness.ready:
            continue  # no longer ready; the hourly re-check will say so
        content = Reminder(OfficerCard(view), due.kind, since, days, app.today())
        summary = f"Reminder: {officer.officer_number} ready for approval"
        plan.send([Notice((Audience.jb(),), content, summary, subject=readiness_subject(key))], due)


def _had_eticket(app: AppContext, officer: Officer) -> bool:
    """Whether an event of the officer's reached the JB since monitoring began.

    Their figures answer at once when they count a ticket (issued since then, so its events came
    after); only an officer they count none for has their events read (a few, or a voided one).
    """
    if figures_of(app, officer).counted:
        return True
    began = as_utc(officer.added.at)
    return any(as_utc(event.occurred_at) >= began for event in app.db.events.of_officer(officer.key))


def _monitoring(plan: _Plan) -> None:
    """Extensions about to end (to the JB) and officers with no e-ticket long after their start date (to the PoC)."""
    app = plan.app
    settings = app.settings
    hours = business_hours(app)
    today = app.today()
    for officer in app.db.officers.in_state(OfficerState.MONITORING):
        ending = extension_ending(officer, today, hours, settings.remind_extension_days)
        if ending is not None and officer.extension is not None and plan.due(ending):
            view = view_of(app, officer)
            content = Reminder(
                OfficerCard(view), ending.kind, officer.extension.until, settings.remind_extension_days, today
            )
            summary = f"Reminder: extended monitoring of {officer.officer_number} ends soon"
            subject = readiness_subject(officer.key)
            plan.send([Notice((Audience.jb(),), content, summary, subject=subject)], ending)
        quiet = no_eticket(officer, False, hours, settings.remind_no_eticket_days)
        if quiet is None or not plan.due(quiet) or _had_eticket(app, officer):
            continue
        package = app.db.packages.get(officer.judiciary_code)
        if package is None:
            continue
        view = view_of(app, officer)
        about = OfficerCard(view, with_actions=False)
        content = Reminder(about, quiet.kind, officer.start_date, settings.remind_no_eticket_days, today)
        summary = f"Reminder: no e-ticket yet from {officer.officer_number}"
        plan.send([Notice((Audience.person(package.poc.aad_id),), content, summary)], quiet)


def escalation_audiences(app: AppContext, incident: Incident) -> tuple[Audience, ...]:
    """Who an incident is raised again to: the JB, and the agency's PoC when the agency is known."""
    package = app.db.packages.get(incident.judiciary_code)
    if incident.kind is IncidentKind.UNKNOWN_OFFICER or package is None:
        return (Audience.jb(),)
    return (Audience.jb(), Audience.person(package.poc.aad_id))


def _answer_deadlines(plan: _Plan) -> None:
    """Open incidents raised again as the answer deadline nears and passes (4 V.S.A. § 1105(b)).

    When several steps fell due since the last tick (the bot was stopped over a weekend), one
    escalation goes out, for the latest, and every step that fell due is remembered.
    """
    app = plan.app
    steps_setting = app.settings.escalate_days_left
    for incident in app.db.incidents.open():
        steps = deadline_steps(incident, app.settings.timezone, business_hours(app), steps_setting)
        due = [step for step in steps if plan.due(step.due)]
        if not due:
            continue
        latest = due[-1]
        view = alert_view(app, incident)
        if latest.days_left == PASSED:
            summary = f"Answer deadline passed: e-ticket {incident.ticket_number}"
        else:
            summary = f"Answer deadline in {view.window.days_left} days: e-ticket {incident.ticket_number}"
        subject = incident_subject(incident.id)
        notice = Notice(
            escalation_audiences(app, incident), IncidentAlert(view), summary, subject=subject, thread_of=subject
        )
        plan.send([notice], *(step.due for step in due))
