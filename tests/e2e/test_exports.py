"""Spreadsheets in the Agents Playground (issue 17): a roster imported with ``make import-roster`` before the
bot starts; the PoC presses Download (Excel) on ``/package`` and JB staff Export (Excel) on ``/status``.

The browser opens each link (the Playground's Action.OpenUrl is ``window.open``); the test watches the
request the browser makes, keeps the bytes the bot answered with, and opens them with openpyxl. What it
found (sheets, columns, row counts) is written to ``build/e2e/exports.json`` beside the screenshots.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import openpyxl
import pytest

from sheets.chart1 import OFFICER_COLUMNS, OFFICER_HEADER_ROW
from tests.e2e.harness import POC, ROOT, SHOTS, BotProcess, ChatPage, free_port
from tests.support.rosters import officer_row, xlsx

EXPORTS_SECRET = "e2e-exports-secret-0123456789"
OFFICERS = 12
"""The roster: Williston PD with 12 officers, the first 8 approved in 2024, the PoC being the Playground's PoC."""


def roster() -> bytes:
    rows = []
    for n in range(OFFICERS):
        row = officer_row(
            f"W{n + 1:04d}", f"First{n + 1}", f"Last{n + 1}", **{"DPS Network Username": f"user{n + 1:02d}"}
        )
        row |= {"PoC Azure AD Object Id": POC.aad_id, "PoC Name": POC.name, "PoC E-mail": POC.email}
        if n >= 8:
            row["Approval Date"] = None
        rows.append(row)
    return xlsx(rows)


@pytest.fixture(scope="module")
def bot(e2e_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The bot started by ``make run`` on a data directory the roster was imported into first."""
    folder = tmp_path_factory.mktemp("e2e-exports-bot")
    (folder / "roster.xlsx").write_bytes(roster())
    env = {key: value for key, value in os.environ.items() if not key.startswith("Microsoft")}
    env["DATA_DIR"] = str(folder / "data")
    imported = subprocess.run(
        ["make", "--no-print-directory", "import-roster", f"FILE={folder / 'roster.xlsx'}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "added 8 approved, 4 in monitoring from today" in imported.stdout
    port = free_port()
    process = BotProcess(
        data_dir=folder / "data",
        log_path=folder / "bot.log",
        port=port,
        env={"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "EXPORTS_SECRET": EXPORTS_SECRET},
    ).start()
    yield process
    process.stop()


def download(page: ChatPage, card: Any, title: str, name: str) -> tuple[int, dict[str, str], bytes]:
    """Press an Action.OpenUrl button (the Playground opens its URL with window.open); the status, headers and
    bytes of what the browser fetched."""
    fetched: list[tuple[int, dict[str, str], bytes]] = []

    def through(route: Any) -> None:
        response = route.fetch()
        fetched.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    # the Playground draws an Action.OpenUrl as a button whose aria-label is its title and whose title
    # (tooltip) is the URL itself, unlike Action.Execute buttons, whose title is theirs (harness.press)
    button = card.locator(f"[aria-label='{title}'], button[title='{title}']").first
    try:
        button.wait_for(timeout=10_000)
    except Exception:
        page.fail(name, f"no {title!r} button on the card")
    context = page.page.context
    context.route("**/api/exports/**", through)
    try:
        with context.expect_page(timeout=15_000) as opened:
            button.click()
        tab = opened.value
        deadline = time.monotonic() + 20
        while not fetched and time.monotonic() < deadline:
            page.page.wait_for_timeout(200)
        if not fetched:
            page.fail(name, f"pressing {title!r} opened {tab.url!r} but the browser fetched no download")
        try:
            tab.close()
        except Exception:  # a tab that only downloaded may have closed itself
            pass
    finally:
        context.unroute("**/api/exports/**")
    return fetched[0]


def described(book: Any) -> dict[str, Any]:
    """Sheets, their header rows and how many rows below them, as the note reports them."""
    sheets = {}
    for sheet in book.worksheets:
        header_row = OFFICER_HEADER_ROW if sheet.title == "Chart 1" else 2
        columns = [cell.value for cell in sheet[header_row]]
        sheets[sheet.title] = {"columns": columns, "rows": sheet.max_row - header_row, "header_row": header_row}
    return sheets


def record(key: str, value: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "exports.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(found | {key: value}, indent=2, default=str))


def test_the_poc_downloads_chart_1_from_package_and_the_file_opens(pages: dict[str, ChatPage]) -> None:
    poc = pages["poc"]
    poc.open_personal_chat()
    before = len(poc.cards_with("Download links work"))
    poc.send("/package")
    card = poc.wait_for_card_text("Download links work", "package-download-buttons", more_than=before)
    text = card.inner_text()
    assert "W0001" in text and "W0012" in text and "Acknowledged by Roster import" in text
    poc.shot("package-with-download-buttons")
    # the card is taller than the window: its top too (agency facts, first officers), unnumbered
    card.evaluate("card => card.scrollIntoView({block: 'start'})")
    poc.page.wait_for_timeout(300)
    poc.page.screenshot(path=str(SHOTS / "package-12-officers-top.png"))

    status, headers, body = download(poc, card, "Download (Excel)", "package-download")
    assert status == 200, body[:200]
    assert headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert headers["content-disposition"].startswith('attachment; filename="information-package-9000-')
    saved = SHOTS / "information-package-9000.xlsx"
    saved.write_bytes(body)
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Chart 1"]
    sheet = book["Chart 1"]
    assert sheet["A1"].value == "E-Ticket Information Package — Williston Police Department (9000)"
    assert [cell.value for cell in sheet[OFFICER_HEADER_ROW]] == list(OFFICER_COLUMNS)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=OFFICER_HEADER_ROW + 1)]
    assert len(rows) == OFFICERS
    assert rows[0][:3] == ["First1", "Last1", "W0001"] and rows[0][5].date() == date(2024, 4, 2)
    assert [row[6] for row in rows].count("Approved") == 8
    record("package", {"file": str(saved), "bytes": len(body), "sheets": described(book)})
    poc.shot("package-download-fetched")

    status, headers, body = download(poc, card, "Download (CSV)", "package-download-csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(OFFICER_COLUMNS) and len(lines) == OFFICERS + 1
    record("package_csv", {"bytes": len(body), "lines": len(lines), "header": lines[0]})


def test_jb_staff_export_every_agency_from_status(pages: dict[str, ChatPage]) -> None:
    jb = pages["jb"]
    jb.open_personal_chat()
    before = len(jb.cards_with("Download links work"))
    jb.send("/status")
    card = jb.wait_for_card_text("Download links work", "status-export-button", more_than=before)
    jb.shot("status-with-export-button")
    status, _, body = download(jb, card, "Export (Excel)", "status-export")
    assert status == 200, body[:200]
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Packages", "Officers", "Incidents", "Audit log"]
    sheets = described(book)
    assert sheets["Packages"]["rows"] == 1 and sheets["Officers"]["rows"] == OFFICERS
    saved = SHOTS / "jb-eticket-records.xlsx"
    saved.write_bytes(body)
    record("jb_export", {"file": str(saved), "bytes": len(body), "sheets": sheets})


def test_an_old_link_is_refused_in_the_browser(pages: dict[str, ChatPage], bot: BotProcess) -> None:
    poc = pages["poc"]
    page = poc.page.context.new_page()
    try:
        response = page.goto(f"{bot.url}/api/exports/not-a-real-token.AAAA")
        assert response is not None and response.status == 403
        assert "not valid any more" in page.inner_text("body")
        page.screenshot(path=str(SHOTS / "export-link-refused.png"))
    finally:
        page.close()
    assert "not-a-real-token" not in bot.log()  # links are never logged
