"""The weekly digest (issue 16): Monday at the opening hour to the JB (all agencies) and to each agency's
channel (its own officers); ``/digest [judiciary code]`` shows the same card at any time to those allowed.

It shows officers in monitoring with their progress, those ready and those approved since last
Monday, open incidents by kind with the nearest answer deadlines, notices waiting and failed, and two
charts (officers by state, incidents per week), drawn by ``cards.digest``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta

from domain.calendar import format_date
from domain.clocks import Due, digest_due
from domain.court_days import BusinessHours
from domain.digest import (
    DigestView,
    Listed,
    OfficerLine,
    charted_weeks,
    group_open_incidents,
    incidents_per_week,
    week_start,
)
from domain.policy import Action, Requester, who_may
from domain.records import OfficerState, Package
from domain.views import agency_name
from services.access import allowed
from services.approval import assess
from services.context import AppContext
from services.notices import Audience, Digest, Notice
from services.outcomes import NotFound, Outcome, Refused, Shown
from services.status import NO_AGENCIES, progress_text

STATES = ("In monitoring", "Ready for approval", "Approved", "Withdrawn")
"""The officer states the donut shows, in its order ("ready" is computed: in monitoring and ready)."""


def digest_view(app: AppContext, package: Package | None = None) -> DigestView:
    """The digest of every agency (``package`` None) or of one agency, as of now."""
    db = app.db
    tz = app.settings.timezone
    today = app.today()
    code = None if package is None else package.judiciary_code
    packages = (
        {p.judiciary_code: p for p in db.packages.all()} if package is None else {package.judiciary_code: package}
    )
    officers = db.officers.all() if code is None else db.officers.of_agency(code)
    approved_since = week_start(today) - timedelta(weeks=1)
    counts: Counter[str] = Counter()
    monitoring: list[OfficerLine] = []
    ready: list[OfficerLine] = []
    approved: list[OfficerLine] = []
    for officer in officers:
        agency = agency_name(packages.get(officer.judiciary_code), officer.judiciary_code)
        if officer.state is OfficerState.MONITORING:
            readiness = assess(app, officer)
            line = OfficerLine(officer, agency, progress_text(readiness))
            (ready if readiness.ready else monitoring).append(line)
            counts[STATES[1] if readiness.ready else STATES[0]] += 1
        elif officer.state is OfficerState.APPROVED:
            counts[STATES[2]] += 1
            if officer.approval_date is not None and officer.approval_date >= approved_since:
                approved.append(OfficerLine(officer, agency, f"approved {format_date(officer.approval_date)}"))
        else:
            counts[STATES[3]] += 1
    approved.sort(key=lambda line: (line.officer.approval_date or today, line.officer.officer_number))
    first_week = charted_weeks(today)[0]
    since = datetime.combine(first_week, time(0), tzinfo=tz)
    waiting, failed = _notices(app, package)
    return DigestView(
        scope="All agencies" if package is None else agency_name(package, package.judiciary_code),
        judiciary_code=code,
        today=today,
        approved_since=approved_since,
        by_state=tuple((state, counts.get(state, 0)) for state in STATES),
        monitoring=Listed.of(monitoring),
        ready=Listed.of(ready),
        approved=Listed.of(approved),
        incidents=group_open_incidents(db.incidents.open(code), today, tz),
        per_week=incidents_per_week(db.incidents.raised_since(since, code), today, tz),
        waiting_notices=waiting,
        failed_notices=failed,
    )


def _notices(app: AppContext, package: Package | None) -> tuple[int, int]:
    """Notices still waiting (to be delivered, or for their reader's first chat) and failed for good: all of
    them, or those to one agency's channel and PoC."""
    db = app.db
    pending, failed = db.outbox.pending(), db.outbox.failed()
    if package is None:
        return len(pending) + len(db.outbox.waiting()), len(failed)
    chat = db.conversations.personal_chat_of(package.poc.aad_id)
    places = {db.subscriptions.conversation_for(package.judiciary_code), chat.conversation_id if chat else None}
    places.discard(None)
    for_poc = len(db.outbox.waiting(f"person:{package.poc.aad_id}"))
    return (
        sum(1 for notice in pending if notice.conversation_id in places) + for_poc,
        sum(1 for notice in failed if notice.conversation_id in places),
    )


def weekly(app: AppContext, hours: BusinessHours, wanted: Callable[[Due], bool]) -> list[tuple[Due, Notice]]:
    """This week's digests that ``wanted`` says are due and unsent: the JB's, and each subscribed agency channel's."""
    today = app.today()
    found: list[tuple[Due, Notice]] = []
    jb = digest_due(today, hours, "jb")
    if wanted(jb):
        found.append((jb, Notice((Audience.jb(),), Digest(digest_view(app)), "Weekly e-ticket digest")))
    for package in app.db.packages.all():
        code = package.judiciary_code
        if app.db.subscriptions.conversation_for(code) is None:
            continue  # the agency's digest goes to its channel only
        due = digest_due(today, hours, code)
        if wanted(due):
            summary = f"Weekly e-ticket digest: {package.agency.agency_name}"
            found.append((due, Notice((Audience.agency(code),), Digest(digest_view(app, package)), summary)))
    return found


def show_digest(app: AppContext, requester: Requester, judiciary_code: str | None) -> Outcome:
    """/digest [judiciary code]: every agency's digest for the JB and its channel; an agency's for its PoC.

    Returns ``Shown(DigestView)``, ``Refused``, ``NotFound("package", code)`` or ``NotFound(NO_AGENCIES)``;
    a PoC of several agencies who names none gets ``NotFound("which", codes)``.
    """
    db = app.db
    if judiciary_code is None:
        if allowed(app, requester, Action.SEE_DIGEST):
            return Shown(digest_view(app))
        own = db.packages.for_poc(requester.aad_id) if requester.aad_id else []
        if not own:
            return NotFound(NO_AGENCIES)
        if len(own) > 1:
            return NotFound("which", ", ".join(sorted(p.judiciary_code for p in own)))
        return Shown(digest_view(app, own[0]))
    package = db.packages.get(judiciary_code)
    if not allowed(app, requester, Action.SEE_DIGEST, package):
        return Refused(who_may(Action.SEE_DIGEST))
    if package is None:
        return NotFound("package", judiciary_code)
    return Shown(digest_view(app, package))
