"""The download use cases against in-memory repositories: who is offered links, and what a link gives when opened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import pytest

from domain.exports import DownloadsOff, ExportFormat, PackageExport, Period, ProgrammeExport, parse_period
from domain.policy import Requester
from domain.records import Actor, Incident, IncidentKind, IncidentStatus, Stamp
from domain.validation import FieldErrors
from services import exports
from services.audit import audit_op
from services.context import AppContext
from services.outcomes import Done, Invalid, NotFound, Refused
from settings import Settings
from storage.errors import StorageUnavailable
from tests.support import seed
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
POC = Requester(Actor(aad_id=POC_AAD, name="Pat Poc"), is_staff=False)
OTHER_POC = Requester(Actor(aad_id=OTHER_AAD, name="Other Poc"), is_staff=False)
READER = Requester(Actor(aad_id="55555555-5555-4555-8555-555555555555", name="Court Ops"), False, in_jb_channel=True)
ENV = {
    "JB_STAFF_IDS": JB_AAD,
    "PUBLIC_BASE_URL": "https://bot.vermont.example",
    "EXPORTS_SECRET": "exports-secret-0123456789",
}


def context(**env: str) -> AppContext:
    settings = Settings.from_env(ENV | env)
    return AppContext(settings=settings, db=MemoryDatabase(), notifier=RecordingNotifier(), clock=lambda: NOW)


@pytest.fixture
async def app() -> AppContext:
    built = context()
    db = db_of(built)
    await db.seed(seed.package("9000"), seed.officer("A1234"), seed.officer("B2345"), seed.package("9100", OTHER_AAD))
    return built


def db_of(app: AppContext) -> MemoryDatabase:
    assert isinstance(app.db, MemoryDatabase)
    return app.db


def token_of(url: str) -> str:
    path = urlparse(url).path
    assert path.startswith("/api/exports/")
    return path.removeprefix("/api/exports/")


def test_the_poc_and_jb_staff_are_offered_excel_and_csv_in_a_1_1_chat(app: AppContext) -> None:
    for requester in (POC, STAFF):
        downloads = exports.package_downloads(app, requester, "9000", private_chat=True)
        assert downloads is not None and downloads.off is None and downloads.minutes == 10
        assert [link.format for link in downloads.links] == [ExportFormat.XLSX, ExportFormat.CSV]
        assert all(link.url.startswith("https://bot.vermont.example/api/exports/") for link in downloads.links)
    assert exports.package_downloads(app, OTHER_POC, "9000", private_chat=True) is None
    assert exports.package_downloads(app, READER, "9000", private_chat=True) is None
    assert exports.package_downloads(app, STAFF, "4444", private_chat=True) is None  # no such package


def test_no_links_where_others_can_see_them_or_when_not_configured(app: AppContext) -> None:
    shared = exports.package_downloads(app, POC, "9000", private_chat=False)
    assert shared is not None and shared.links == () and shared.off is DownloadsOff.NOT_PRIVATE
    off = context(PUBLIC_BASE_URL="", EXPORTS_SECRET="")
    db_of(off).packages.rows = db_of(app).packages.rows
    unset = exports.package_downloads(off, POC, "9000", private_chat=True)
    assert unset is not None and unset.links == () and unset.off is DownloadsOff.NOT_CONFIGURED
    assert unset.missing == ("PUBLIC_BASE_URL", "EXPORTS_SECRET")


def test_only_jb_staff_are_offered_the_export_of_everything(app: AppContext) -> None:
    downloads = exports.programme_downloads(app, STAFF, private_chat=True)
    assert downloads is not None and [link.format for link in downloads.links] == [ExportFormat.XLSX]
    for requester in (POC, READER, OTHER_POC):
        assert exports.programme_downloads(app, requester, private_chat=True) is None


async def test_opening_a_link_gives_the_package_and_is_audited(app: AppContext) -> None:
    downloads = exports.package_downloads(app, POC, "9000", private_chat=True)
    assert downloads is not None
    csv_link = downloads.links[1]
    outcome = await exports.download(app, token_of(csv_link.url))
    assert isinstance(outcome, Done) and isinstance(outcome.view, PackageExport)
    assert outcome.view.format is ExportFormat.CSV
    assert [o.officer_number for o in outcome.view.officers] == ["A1234", "B2345"]
    [entry] = db_of(app).audit.of_target("package:9000")
    assert (entry.action, entry.actor.aad_id, entry.after) == (
        "package.export",
        POC_AAD,
        {"format": "csv", "officers": 2},
    )


async def test_rights_are_checked_again_when_the_link_is_opened(app: AppContext) -> None:
    downloads = exports.package_downloads(app, POC, "9000", private_chat=True)
    assert downloads is not None
    # JB staff hand the PoC role to someone else before the link is opened
    package = db_of(app).packages.rows["9000"]
    await db_of(app).commit([db_of(app).packages.put(package.model_copy(update={"poc": Actor(aad_id=OTHER_AAD)}))])
    outcome = await exports.download(app, token_of(downloads.links[0].url))
    assert isinstance(outcome, Refused) and "Point-of-Contact" in outcome.who_may
    assert db_of(app).audit.actions() == ["package.export.refused"]


async def test_a_staff_member_removed_from_jb_staff_ids_can_no_longer_export(app: AppContext) -> None:
    downloads = exports.programme_downloads(app, STAFF, private_chat=True)
    assert downloads is not None
    demoted = AppContext(
        settings=Settings.from_env(ENV | {"JB_STAFF_IDS": ""}), db=app.db, notifier=app.notifier, clock=lambda: NOW
    )
    outcome = await exports.download(demoted, token_of(downloads.links[0].url))
    assert isinstance(outcome, Refused)


async def test_a_forged_or_expired_link_gives_nothing_and_says_the_same(app: AppContext) -> None:
    downloads = exports.package_downloads(app, POC, "9000", private_chat=True)
    assert downloads is not None
    token = token_of(downloads.links[0].url)
    later = AppContext(
        settings=app.settings, db=app.db, notifier=app.notifier, clock=lambda: NOW + timedelta(minutes=10)
    )
    expired = await exports.download(later, token)
    forged = await exports.download(app, token[:-3] + "abc")
    assert expired == forged == Refused(exports.LINK_REFUSED)
    assert db_of(app).audit.actions() == []


async def test_a_download_that_cannot_be_audited_is_not_given(app: AppContext) -> None:
    downloads = exports.package_downloads(app, POC, "9000", private_chat=True)
    assert downloads is not None
    db_of(app).fail_next_commit = True
    with pytest.raises(StorageUnavailable):
        await exports.download(app, token_of(downloads.links[0].url))


async def test_the_jb_export_holds_the_periods_audit_log_and_incidents_and_every_open_one(app: AppContext) -> None:
    db = db_of(app)
    old = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)

    def incident(number: str, raised: datetime, status: IncidentStatus) -> Incident:
        return Incident(
            id=f"inc-{number}",
            kind=IncidentKind.REJECTED,
            judiciary_code="9000",
            officer_number="A1234",
            ticket_number=f"VT-{number}",
            event_id=f"e-{number}",
            raised_at=raised,
            status=status,
            closed=None if status is IncidentStatus.OPEN else Stamp(actor=STAFF.actor, at=raised),
        )

    await db.commit(
        [
            db.incidents.put(incident("1", old, IncidentStatus.OPEN)),  # old but open: in
            db.incidents.put(incident("2", old, IncidentStatus.RESOLVED)),  # old and closed: out
            db.incidents.put(incident("3", NOW - timedelta(days=3), IncidentStatus.RESOLVED)),  # in the period: in
        ]
    )
    earlier = AppContext(settings=app.settings, db=app.db, notifier=app.notifier, clock=lambda: old)
    await earlier.commit([audit_op(earlier, STAFF.actor, "officer.approve", "officer:9000:A1234")])
    downloads = exports.programme_downloads(app, STAFF, private_chat=True)
    assert downloads is not None
    outcome = await exports.download(app, token_of(downloads.links[0].url))
    assert isinstance(outcome, Done) and isinstance(outcome.view, ProgrammeExport)
    view = outcome.view
    assert view.period == Period(date(2026, 8, 31), date(2026, 11, 28))  # the last 90 court days
    assert [line.incident.id for line in view.incidents] == ["inc-1", "inc-3"]
    assert [p.judiciary_code for p in view.packages] == ["9000", "9100"]
    assert [line.officer.officer_number for line in view.officers] == ["A1234", "B2345"]
    assert view.officers[0].progress.startswith("0 of 3 accepted") and view.officers[0].open_incidents == 1
    assert view.audit == ()  # June's entry is outside the period
    longer = await exports.download(app, token_of(downloads.links[0].url), {"days": "365"})
    assert isinstance(longer, Done) and isinstance(longer.view, ProgrammeExport)
    assert [line.entry.action for line in longer.view.audit] == ["officer.approve", "export.all"]
    assert [line.what for line in longer.view.audit] == ["Approved", "Every agency's records exported"]
    bad = await exports.download(app, token_of(downloads.links[0].url), {"days": "lots"})
    assert isinstance(bad, Invalid) and "days" in bad.errors


async def test_a_package_that_is_gone_is_not_found(app: AppContext) -> None:
    downloads = exports.package_downloads(app, STAFF, "9100", private_chat=True)
    assert downloads is not None
    del db_of(app).packages.rows["9100"]
    assert await exports.download(app, token_of(downloads.links[0].url)) == NotFound("package", "9100")


@pytest.mark.parametrize(
    ("query", "period"),
    [
        ({}, Period(date(2026, 8, 31), date(2026, 11, 28))),
        ({"days": "1"}, Period(date(2026, 11, 28), date(2026, 11, 28))),
        ({"from": "2026-01-01"}, Period(date(2026, 1, 1), date(2026, 11, 28))),
        ({"from": "2026-01-01", "to": "2026-06-30"}, Period(date(2026, 1, 1), date(2026, 6, 30))),
    ],
)
def test_the_period_is_the_last_90_days_or_what_the_link_asks(query: dict[str, str], period: Period) -> None:
    assert parse_period(query, date(2026, 11, 28)) == period


@pytest.mark.parametrize(
    "query",
    [
        {"days": "0"},
        {"days": "-5"},
        {"days": "99999"},
        {"days": "٣"},  # an Arabic-Indic digit is a digit to Python, not to this rule
        {"from": "2026-13-01"},
        {"from": "2026-1-1"},
        {"to": "2026-06-30"},
        {"from": "2026-06-30", "to": "2026-01-01"},
        {"days": "30", "from": "2026-01-01"},
        {"from": "2000-01-01"},
    ],
)
def test_a_bad_period_names_the_parameter(query: dict[str, str]) -> None:
    with pytest.raises(FieldErrors):
        parse_period(query, date(2026, 11, 28))
