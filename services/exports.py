"""Spreadsheets out (issue 17): the signed download links cards offer, and the download they lead to.

``package_downloads`` and ``programme_downloads`` say what a card offers (links, or why none);
``download`` checks a token from ``GET /api/exports/<token>`` again, re-checks the named person's
rights with the policy table as they stand *now*, audits the download and returns the view the file
is drawn from (``sheets/`` draws it). A forged, altered or expired token, or a person who may no
longer see the records, gets ``Refused`` and no data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

from domain.exports import (
    AuditLine,
    DownloadLink,
    Downloads,
    DownloadsOff,
    ExportFormat,
    ExportSubject,
    IncidentLine,
    OfficerLine,
    PackageExport,
    Period,
    ProgrammeExport,
    parse_period,
)
from domain.incidents import incident_dates
from domain.policy import Action, Requester, who_may
from domain.records import Actor, OfficerState
from domain.validation import FieldErrors
from services.access import allowed
from services.approval import assess
from services.audit import audit_op, audit_refusal
from services.context import AppContext
from services.export_tokens import TOKEN_LIFETIME, ExportGrant, TokenRefused, read_grant, sign_grant
from services.notices import package_subject
from services.outcomes import Done, Invalid, NotFound, Outcome, Refused
from services.status import ACTION_WORDS, progress_text

logger = logging.getLogger(__name__)

EXPORT_PATH = "/api/exports/"
"""Where downloads are served, below PUBLIC_BASE_URL."""

PROGRAMME_TARGET = "export:all"
"""The audit target of the JB's export of every agency's records."""

LINK_REFUSED = (
    "This download link is not valid any more (links work for 10 minutes). Ask the bot for a new one: "
    "/package, or /status for JB e-ticket staff."
)
"""What a forged, altered or expired link answers (the same words for each: nothing is told apart)."""


def missing_settings(app: AppContext) -> tuple[str, ...]:
    """The settings downloads need that are unset (empty when downloads are on)."""
    settings = app.settings
    missing = []
    if not settings.public_base_url:
        missing.append("PUBLIC_BASE_URL")
    if not settings.exports_secret:
        missing.append("EXPORTS_SECRET")
    return tuple(missing)


def _links(
    app: AppContext,
    requester: Requester,
    subject: ExportSubject,
    formats: tuple[ExportFormat, ...],
    *,
    private_chat: bool,
    judiciary_code: str | None = None,
) -> Downloads:
    minutes = int(TOKEN_LIFETIME.total_seconds() // 60)
    missing = missing_settings(app)
    if missing:
        return Downloads(off=DownloadsOff.NOT_CONFIGURED, missing=missing, minutes=minutes)
    if not private_chat:
        return Downloads(off=DownloadsOff.NOT_PRIVATE, minutes=minutes)
    secret, base = app.settings.exports_secret, app.settings.public_base_url
    assert secret is not None and base is not None  # missing_settings said so
    expires = app.now() + TOKEN_LIFETIME
    links = []
    for file_format in formats:
        grant = ExportGrant(requester.aad_id, subject, file_format, expires, judiciary_code)
        links.append(DownloadLink(file_format, f"{base}{EXPORT_PATH}{quote(sign_grant(secret, grant), safe='')}"))
    return Downloads(links=tuple(links), minutes=minutes)


def _signable(requester: Requester) -> bool:
    """Whether a token can name this person: Teams gave an Azure AD object id of the usual shape."""
    aad_id = requester.aad_id
    return bool(aad_id) and len(aad_id) <= 64 and all(char.isalnum() or char == "-" for char in aad_id)


def package_downloads(
    app: AppContext, requester: Requester, judiciary_code: str, *, private_chat: bool
) -> Downloads | None:
    """Download (Excel) and Download (CSV) of one agency's Chart 1 for ``/package``; None when not allowed."""
    package = app.db.packages.get(judiciary_code)
    if package is None or not _signable(requester) or not allowed(app, requester, Action.EXPORT_PACKAGE, package):
        return None
    formats = (ExportFormat.XLSX, ExportFormat.CSV)
    return _links(
        app, requester, ExportSubject.PACKAGE, formats, private_chat=private_chat, judiciary_code=judiciary_code
    )


def programme_downloads(app: AppContext, requester: Requester, *, private_chat: bool) -> Downloads | None:
    """Export (Excel) of every agency's records for JB staff's ``/status``; None when not allowed."""
    if not _signable(requester) or not allowed(app, requester, Action.EXPORT_ALL):
        return None
    return _links(app, requester, ExportSubject.ALL, (ExportFormat.XLSX,), private_chat=private_chat)


# ---- the download ----------------------------------------------------------------------------------


def _requester_now(app: AppContext, grant: ExportGrant) -> Requester:
    """The person a token names, as the policy sees them now (JB_STAFF_IDS read again; no channel)."""
    name = next((p.poc.name for p in app.db.packages.for_poc(grant.aad_id) if p.poc.name), "")
    return Requester(Actor(aad_id=grant.aad_id, name=name), is_staff=app.settings.is_jb_staff(grant.aad_id))


async def download(app: AppContext, token: str, query: Mapping[str, str] | None = None) -> Outcome:
    """The file behind a link: ``Done(PackageExport | ProgrammeExport)``, audited; else no data.

    ``Refused`` for a forged, altered or expired token and for a person who may not (or no longer)
    export it; ``NotFound`` for a package that is gone; ``Invalid`` for a bad period in ``query``
    (the JB export's ``days``, ``from``, ``to``). Raises ``StorageUnavailable`` when the audit entry
    cannot be written (and then nothing is downloaded).
    """
    secret = app.settings.exports_secret or ""
    try:
        grant = read_grant(secret, token, app.now())
    except TokenRefused as refused:
        logger.info("export link refused reason=%s", refused.reason)
        return Refused(LINK_REFUSED)
    requester = _requester_now(app, grant)
    if grant.subject is ExportSubject.PACKAGE:
        assert grant.judiciary_code is not None  # read_grant checked it
        return await _package(app, requester, grant.judiciary_code, grant.format)
    return await _programme(app, requester, query or {})


async def _package(app: AppContext, requester: Requester, judiciary_code: str, file_format: ExportFormat) -> Outcome:
    package = app.db.packages.get(judiciary_code)
    target = package_subject(judiciary_code)
    if package is None:
        return NotFound("package", judiciary_code)
    if not allowed(app, requester, Action.EXPORT_PACKAGE, package):
        await audit_refusal(app, requester.actor, "package.export.refused", target)
        return Refused(who_may(Action.EXPORT_PACKAGE))
    officers = tuple(app.db.officers.of_agency(judiciary_code))
    now = app.now()
    after = {"format": file_format.value, "officers": len(officers)}
    await app.commit([audit_op(app, requester.actor, "package.export", target, None, after)])
    logger.info(
        "export downloaded what=package judiciary_code=%s format=%s actor=%s",
        judiciary_code,
        file_format.value,
        requester.aad_id,
    )
    return Done(PackageExport(package, officers, now, app.settings.timezone, file_format))


async def _programme(app: AppContext, requester: Requester, query: Mapping[str, str]) -> Outcome:
    if not allowed(app, requester, Action.EXPORT_ALL):
        await audit_refusal(app, requester.actor, "export.all.refused", PROGRAMME_TARGET)
        return Refused(who_may(Action.EXPORT_ALL))
    try:
        period = parse_period(query, app.today())
    except FieldErrors as problem:
        return Invalid(problem.errors)
    view = programme_view(app, period)
    after = {
        "format": ExportFormat.XLSX.value,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "packages": len(view.packages),
        "officers": len(view.officers),
        "incidents": len(view.incidents),
        "audit_entries": len(view.audit),
    }
    await app.commit([audit_op(app, requester.actor, "export.all", PROGRAMME_TARGET, None, after)])
    logger.info("export downloaded what=all days=%d actor=%s", period.days, requester.aad_id)
    return Done(view)


def programme_view(app: AppContext, period: Period) -> ProgrammeExport:
    """Every package and officer as they stand, the period's incidents (and every open one) and audit log."""
    db, tz, today = app.db, app.settings.timezone, app.today()
    packages = tuple(db.packages.all())
    names = {package.judiciary_code: package.agency.agency_name for package in packages}
    officers = []
    for officer in db.officers.all():
        of_officer = db.incidents.of_officer(officer.key)
        open_count = sum(1 for incident in of_officer if incident.is_open)
        progress = ""
        if officer.state is OfficerState.MONITORING:
            readiness = assess(app, officer)
            progress = (
                f"Ready for approval: {progress_text(readiness)}" if readiness.ready else progress_text(readiness)
            )
        officers.append(OfficerLine(officer, names.get(officer.judiciary_code, ""), progress, open_count))
    start, end = period.bounds(tz)
    incidents = [
        IncidentLine(incident, incident_dates(incident, today, tz))
        for incident in db.incidents.all()
        if incident.is_open or start <= incident.raised_at < end
    ]
    incidents.sort(key=lambda line: line.incident.raised_at)
    audit = tuple(
        AuditLine(entry, ACTION_WORDS.get(entry.action, entry.action)) for entry in db.audit.between(start, end)
    )
    return ProgrammeExport(packages, tuple(officers), tuple(incidents), audit, period, app.now(), tz)
