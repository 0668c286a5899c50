"""Downloads over HTTP (issue 17): the buttons on /package and the JB's /status, and GET /api/exports/<token>.

Real activity JSON to /api/messages, the cards' Action.OpenUrl links fetched from the same app: the
bytes open with openpyxl and hold the expected sheets, rows and columns; forged, altered, expired and
another agency's tokens get 403 and none of the records' data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import openpyxl

from app import CONTEXT
from cards.base import teams_findings
from domain.exports import ExportFormat, ExportSubject
from domain.records import Actor, OfficerState, Stamp
from services.context import AppContext
from services.export_tokens import ExportGrant, sign_grant
from settings import Settings
from sheets.chart1 import OFFICER_COLUMNS, OFFICER_HEADER_ROW
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD, make_message
from tests.support.fake_connector import FakeConnector, Sent
from tests.support.seed import officer, package

EXPORTS_SECRET = "exports-secret-for-tests-0123"
BASE = "http://127.0.0.1:3978"
NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERSONAL_DATA = ("Williston", "Casey", "Dana", "A1234", "B2345", "cofficer", "pat.poc", "878-6611")


def exports_settings(settings_for: Callable[..., Settings], **env: str) -> Settings:
    return settings_for(**({"PUBLIC_BASE_URL": BASE, "EXPORTS_SECRET": EXPORTS_SECRET} | env))


def context_of(client: Any) -> AppContext:
    return client.server.app[CONTEXT]


async def start(bot_client: Any, settings: Settings) -> Any:
    """The bot with agency 9000 (two officers, one approved) and agency 9100 of another PoC."""
    client = await bot_client(settings)
    context = context_of(client)
    context.clock = lambda: NOW
    approved = officer(
        "B2345",
        first_name="Dana",
        last_name="Deputy",
        dps_username="ddeputy",
        state=OfficerState.APPROVED,
        approval_date=date(2026, 11, 20),
        approved=Stamp(actor=Actor(aad_id=JB_AAD, name="Jamie Staff"), at=NOW),
    )
    other = package("9100", poc=OTHER_AAD).model_copy(
        update={"agency": package("9100").agency.model_copy(update={"agency_name": "Other Town PD"})}
    )
    db = context.db
    await db.commit(
        [
            db.packages.put(package("9000")),
            db.officers.put(officer("A1234")),
            db.officers.put(approved),
            db.packages.put(other),
            db.officers.put(officer("C3456", "9100")),
        ]
    )
    return client


async def say(
    client: Any, connector: FakeConnector, text: str, *, user: str = POC_AAD, name: str = "Pat Poc", **where: Any
) -> list[Sent]:
    """Type a command; every reply sent to that conversation."""
    before = len(connector.sent)
    activity = make_message(text, connector.url, user_aad=user, user_name=name, **where)
    conversation = activity["conversation"]["id"].split(";")[0]
    response = await client.post("/api/messages", json=activity)
    assert response.status in (200, 201)

    def here(sent: Sent) -> bool:
        return sent.conversation_id.split(";")[0] == conversation

    sent = await connector.wait_for(lambda sent: any(here(s) for s in sent[before:]))
    return [s for s in sent[before:] if here(s)]


def open_url_actions(replies: list[Sent]) -> dict[str, str]:
    """Title → url of every Action.OpenUrl on the replies' cards (each card valid for Teams)."""
    found: dict[str, str] = {}
    for reply in replies:
        for card in reply.cards:
            assert teams_findings(card) == []
            for item in card.get("actions", []):
                if item.get("type") == "Action.OpenUrl":
                    found[item["title"]] = item["url"]
    return found


async def fetch(client: Any, url: str, **params: str) -> Any:
    parsed = urlparse(url)
    assert f"{parsed.scheme}://{parsed.netloc}" == BASE
    return await client.get(parsed.path, params=params or None)


def audit_of(client: Any, target: str) -> list[str]:
    return [entry.action for entry in context_of(client).db.audit.of_target(target)]


async def test_package_download_buttons_give_chart_1_as_excel_and_csv(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, exports_settings(settings_for))
    replies = await say(client, connector, "/package")
    links = open_url_actions(replies)
    assert set(links) == {"Download (Excel)", "Download (CSV)"}
    assert "Download links work for 10 minutes" in replies[-1].text

    response = await fetch(client, links["Download (Excel)"])
    assert response.status == 200
    assert response.content_type == XLSX
    assert response.headers["Content-Disposition"] == 'attachment; filename="information-package-9000-2026-11-28.xlsx"'
    assert response.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Chart 1"]
    sheet = book["Chart 1"]
    assert "Williston Police Department (9000)" in sheet["A1"].value
    assert [cell.value for cell in sheet[OFFICER_HEADER_ROW]] == list(OFFICER_COLUMNS)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=OFFICER_HEADER_ROW + 1)]
    assert rows == [
        ["Casey", "Officer", "A1234", "cofficer", datetime(2026, 11, 2), None, "In monitoring"],
        ["Dana", "Deputy", "B2345", "ddeputy", datetime(2026, 11, 2), datetime(2026, 11, 20), "Approved"],
    ]
    assert sheet.freeze_panes == f"A{OFFICER_HEADER_ROW + 1}"

    response = await fetch(client, links["Download (CSV)"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows == [
        list(OFFICER_COLUMNS),
        ["Casey", "Officer", "A1234", "cofficer", "2026-11-02", "", "In monitoring"],
        ["Dana", "Deputy", "B2345", "ddeputy", "2026-11-02", "2026-11-20", "Approved"],
    ]
    assert audit_of(client, "package:9000") == ["package.export", "package.export"]


async def test_forged_altered_expired_and_another_agencys_tokens_get_403_and_no_data(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, exports_settings(settings_for))
    links = open_url_actions(await say(client, connector, "/package"))
    good = urlparse(links["Download (Excel)"]).path
    token = good.removeprefix("/api/exports/")
    payload, signature = token.split(".")
    other_agency = sign_grant(
        EXPORTS_SECRET,
        ExportGrant(POC_AAD, ExportSubject.PACKAGE, ExportFormat.XLSX, NOW + timedelta(minutes=5), "9100"),
    )
    wrong_secret = sign_grant(
        "not-the-bots-secret-0123456789",
        ExportGrant(POC_AAD, ExportSubject.PACKAGE, ExportFormat.XLSX, NOW + timedelta(minutes=5), "9000"),
    )
    everything_as_poc = sign_grant(
        EXPORTS_SECRET, ExportGrant(POC_AAD, ExportSubject.ALL, ExportFormat.XLSX, NOW + timedelta(minutes=5))
    )
    altered = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for bad in (
        f"{altered}.{signature}",  # the payload changed, the signature kept
        f"{payload}.{signature[::-1]}",
        wrong_secret,
        "forged.token",
        "x" * 2000,
        other_agency,  # correctly signed, but its PoC is not the Point-of-Contact of 9100
        everything_as_poc,  # correctly signed, but a PoC may not export everything
    ):
        response = await client.get(f"/api/exports/{bad}")
        assert response.status == 403, bad
        assert response.content_type == "text/plain"
        body = await response.text()
        assert not any(word in body for word in PERSONAL_DATA), body
    context_of(client).clock = lambda: NOW + timedelta(minutes=10, seconds=1)
    response = await client.get(good)
    assert response.status == 403
    assert "10 minutes" in await response.text()
    assert audit_of(client, "package:9000") == []
    assert audit_of(client, "package:9100") == ["package.export.refused"]
    assert (await client.head(good)).status == 405  # a link checker's HEAD is never a download


async def test_jb_staff_export_every_agency_from_status(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, exports_settings(settings_for))
    assert open_url_actions(await say(client, connector, "/status")) == {}  # a PoC's /status has no export
    replies = await say(client, connector, "/status", user=JB_AAD, name="Jamie Staff")
    links = open_url_actions(replies)
    assert set(links) == {"Export (Excel)"}
    response = await fetch(client, links["Export (Excel)"])
    assert response.status == 200
    assert response.content_type == XLSX
    assert "jb-eticket-records-2026-08-31-to-2026-11-28.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Packages", "Officers", "Incidents", "Audit log"]
    packages = [[cell.value for cell in row] for row in book["Packages"].iter_rows(min_row=3)]
    assert [(row[0], row[1], row[10]) for row in packages] == [
        ("9000", "Williston Police Department", 2),
        ("9100", "Other Town PD", 1),
    ]
    officers = [[cell.value for cell in row] for row in book["Officers"].iter_rows(min_row=3)]
    assert [(row[0], row[2], row[7], row[9]) for row in officers] == [
        ("9000", "A1234", "In monitoring", None),
        ("9000", "B2345", "Approved", datetime(2026, 11, 20)),
        ("9100", "C3456", "In monitoring", None),
    ]
    assert officers[0][8].startswith("0 of 3 accepted")
    response = await fetch(client, links["Export (Excel)"], days="400")
    assert response.status == 200
    audit = openpyxl.load_workbook(io.BytesIO(await response.read()))["Audit log"]
    assert [row[3].value for row in audit.iter_rows(min_row=3)] == ["export.all"]  # the first export, audited
    response = await fetch(client, links["Export (Excel)"], days="many")
    assert response.status == 400
    assert "days" in await response.text()


async def test_links_are_offered_in_a_1_1_chat_only(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, exports_settings(settings_for))
    replies = await say(client, connector, "/package 9000", mention=True, kind="channel")
    assert open_url_actions(replies) == {}
    assert "offered in your 1:1 chat with me only" in replies[-1].text


async def test_without_the_settings_the_card_says_why_and_the_endpoint_answers_503(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, settings_for())
    replies = await say(client, connector, "/package")
    assert open_url_actions(replies) == {}
    assert "has not set PUBLIC_BASE_URL and EXPORTS_SECRET" in replies[-1].text
    token = sign_grant(
        EXPORTS_SECRET,
        ExportGrant(POC_AAD, ExportSubject.PACKAGE, ExportFormat.XLSX, NOW + timedelta(minutes=5), "9000"),
    )
    response = await client.get(f"/api/exports/{token}")
    assert response.status == 503
    body = await response.text()
    assert not any(word in body for word in PERSONAL_DATA)
