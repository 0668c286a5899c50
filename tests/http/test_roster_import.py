"""The roster import into a real data directory (``make import-roster``), then the bot started on it.

Good, bad and repeated files; a dry run; a file that disagrees with what the bot holds; the bot
still running; and a 200-officer roster after which /package and /status show every officer.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from app import CONTEXT
from cards.base import teams_findings
from domain.records import OfficerState
from exports.roster_import import EXIT_OK, EXIT_PROBLEMS, EXIT_STORE, run
from services.roster import IMPORTER
from settings import Settings
from storage.repositories import Database
from tests.support.factories import JB_AAD, POC_AAD, make_message
from tests.support.fake_connector import FakeConnector, Sent
from tests.support.rosters import csv_bytes, officer_row, xlsx

ROOT = Path(__file__).resolve().parents[2]


def settings_at(data_dir: Path) -> Settings:
    return Settings.from_env({"DATA_DIR": str(data_dir), "JB_STAFF_IDS": JB_AAD})


async def import_file(tmp_path: Path, name: str, data: bytes, *, dry_run: bool = False) -> tuple[int, str]:
    """Run the import as ``make import-roster`` does; the exit code and the report."""
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    code = await run(settings_at(tmp_path / "data"), path, dry_run=dry_run, out=out)
    return code, out.getvalue()


async def stored(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stored document by table, read by opening the data directory (the import must have closed it)."""
    db = await Database.open(tmp_path / "data")
    try:
        return {table: db.store.all(table) for table in ("packages", "officers", "audit")}
    finally:
        await db.close()


def good_rows() -> list[dict[str, Any]]:
    return [
        officer_row("A1234"),
        officer_row("B2345", "Dana", "Deputy", **{"Approval Date": None}),
        officer_row("C3456", "Ezra", "Example", **{"Approval Date": None, "Expected Start Date": date(2024, 5, 1)})
        | {
            "Judiciary Code": "0123",
            "Agency Name": "Other Town Police",
            "PoC Azure AD Object Id": None,
        },
    ]


async def test_a_good_roster_is_stored_approved_or_in_monitoring_acknowledged_and_audited(tmp_path: Path) -> None:
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()))
    assert code == EXIT_OK, report
    assert "Judiciary Code 9000: new Information Package (acknowledged); added 1 approved, 1 in monitoring" in report
    assert "Judiciary Code 0123: new Information Package (acknowledged); added 0 approved, 1 in monitoring" in report
    db = await Database.open(tmp_path / "data")
    try:
        package = db.packages.get("9000")
        assert package is not None and package.acknowledged is not None
        assert package.acknowledged.actor == IMPORTER and package.poc.aad_id == POC_AAD
        assert package.agency.letterhead_address == "7928 Williston Rd\nWilliston, VT 05495"
        other = db.packages.get("0123")
        assert other is not None and other.poc.aad_id == ""  # nobody until JB staff hand the role over
        approved, monitoring = db.officers.get("9000", "A1234"), db.officers.get("9000", "B2345")
        assert approved is not None and monitoring is not None
        assert (approved.state, approved.approval_date) == (OfficerState.APPROVED, date(2024, 4, 2))
        assert approved.approved is not None and approved.approved.actor.name == "Roster import"
        assert approved.approved.at == datetime(2024, 4, 2, 16, 0, tzinfo=UTC)  # noon, Vermont time
        assert monitoring.state is OfficerState.MONITORING and monitoring.approval_date is None
        # in monitoring from the day of import: the membership began now
        assert (datetime.now(UTC) - monitoring.added.at).total_seconds() < 60
        audit = db.audit.of_target("package:9000")
        assert [entry.action for entry in audit] == ["package.import"]
        assert audit[0].after is not None and audit[0].after["officers"] == [
            {"officer_number": "A1234", "state": "approved", "approval_date": "2024-04-02"},
            {"officer_number": "B2345", "state": "monitoring", "approval_date": None},
        ]
        assert len(db.audit.of_target("package:0123")) == 1
        assert db.audit.count() == 2  # one entry per package
    finally:
        await db.close()


async def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    data = xlsx(good_rows())
    assert (await import_file(tmp_path, "roster.xlsx", data))[0] == EXIT_OK
    before = await stored(tmp_path)
    files = sorted(path.name for path in (tmp_path / "data").iterdir())
    code, report = await import_file(tmp_path, "roster.xlsx", data)
    assert code == EXIT_OK
    assert "Nothing to change: everything in the file is in the bot already." in report
    assert "1 already there" in report or "2 already there" in report
    assert await stored(tmp_path) == before
    assert sorted(path.name for path in (tmp_path / "data").iterdir()) == files
    # the same rows as CSV are the same roster
    code, report = await import_file(tmp_path, "roster.csv", csv_bytes(good_rows()))
    assert code == EXIT_OK and "Nothing to change" in report
    assert await stored(tmp_path) == before


async def test_a_roster_adds_officers_to_a_package_the_bot_holds_and_keeps_the_rest(tmp_path: Path) -> None:
    await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()[:1]))
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()[:2]))
    assert code == EXIT_OK
    assert (
        "Judiciary Code 9000: Information Package already in the bot; added 0 approved, 1 in monitoring from today, 1 already there."
        in report
    )
    tables = await stored(tmp_path)
    assert len(tables["officers"]) == 2 and len(tables["audit"]) == 2


async def test_a_dry_run_checks_and_writes_nothing(tmp_path: Path) -> None:
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()), dry_run=True)
    assert code == EXIT_OK
    assert "would add 1 approved, 1 in monitoring" in report and "Dry run: nothing was written" in report
    assert not (tmp_path / "data").exists()  # not even the data directory
    await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()[:1]))
    before = await stored(tmp_path)
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()), dry_run=True)
    assert code == EXIT_OK and "already there" in report
    assert await stored(tmp_path) == before


async def test_a_bad_row_writes_nothing_at_all(tmp_path: Path) -> None:
    rows = [*good_rows(), officer_row("D4567", **{"Officer Number": "D45"})]
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(rows))
    assert code == EXIT_PROBLEMS
    assert report.splitlines()[:2] == [
        "roster.xlsx: 1 problem; nothing was written.",
        "  row 5, column 'Officer Number': Officer number must be one letter and four digits, like A1234.",
    ]
    assert not (tmp_path / "data").exists()  # not even the data directory


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("roster.xlsx", b"", "roster.xlsx: The file is empty. Nothing was changed."),
        ("roster.xlsx", b"PK\x03\x04 not really", "not a readable Excel workbook"),
        ("roster.csv", "Judiciary Code\nSaint-Jérôme".encode("latin-1"), "The CSV file is not UTF-8"),
    ],
)
async def test_a_bad_file_changes_nothing(tmp_path: Path, name: str, data: bytes, said: str) -> None:
    await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()))
    before = await stored(tmp_path)
    code, report = await import_file(tmp_path, name, data)
    assert code == EXIT_PROBLEMS and said in report
    assert await stored(tmp_path) == before


async def test_a_row_that_disagrees_with_the_bot_is_reported_and_nothing_changes(tmp_path: Path) -> None:
    await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()))
    before = await stored(tmp_path)
    rows = [
        officer_row("A1234", **{"Agency Name": "Williston PD"}),
        officer_row("B2345", "Dana", "Deputy", **{"Approval Date": date(2024, 6, 1), "Agency Name": "Williston PD"}),
        officer_row("Z9999", **{"Agency Name": "Williston PD"}),
    ]
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(rows))
    assert code == EXIT_PROBLEMS
    assert "row 2, column 'Agency Name': Judiciary Code 9000 already has an Information Package in the bot" in report
    assert "row 3, column 'Approval Date': officer B2345 is in monitoring in the bot" in report
    assert await stored(tmp_path) == before


async def test_the_import_says_so_while_the_bot_holds_the_data_directory(tmp_path: Path) -> None:
    running = await Database.open(tmp_path / "data")  # as the bot does
    try:
        for dry_run in (False, True):
            code, report = await import_file(tmp_path, "roster.xlsx", xlsx(good_rows()), dry_run=dry_run)
            assert code == EXIT_STORE
            assert "is in use by another process: the bot is probably running" in report
            assert "Stop the bot" in report and "Nothing was changed." in report
        assert running.packages.all() == []
    finally:
        await running.close()


@pytest.mark.process
def test_make_import_roster_runs_the_import(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(csv_bytes(good_rows()))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("Microsoft", "MAKE"))}
    env["DATA_DIR"] = str(tmp_path / "data")
    venv = tmp_path / "venv"  # make's install marker goes here; the interpreter is this test's own
    venv.mkdir()
    make = ["make", "--no-print-directory", f"VENV={venv}", f"PY={sys.executable}", "import-roster"]

    def make_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*make, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    dry = make_run(f"FILE={roster}", "DRY_RUN=1")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Dry run: nothing was written" in dry.stdout and not (tmp_path / "data").exists()
    done = make_run(f"FILE={roster}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported. Start the bot again with make run." in done.stdout
    again = make_run(f"FILE={roster}")
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    usage = make_run()
    assert usage.returncode != 0 and "usage: make import-roster FILE=roster.xlsx [DRY_RUN=1]" in usage.stderr


# ---- 200 officers, then the bot ---------------------------------------------------------------------


def two_hundred() -> list[dict[str, Any]]:
    """One agency, 200 officers: 150 approved before the bot existed, 50 to monitor from today."""
    rows = []
    for n in range(200):
        row = officer_row(f"A{n:04d}", f"First{n:03d}", f"Last{n:03d}", **{"DPS Network Username": f"user{n:03d}"})
        if n >= 150:
            row["Approval Date"] = None
        rows.append(row)
    return rows


async def say(client: Any, connector: FakeConnector, text: str, *, user: str, name: str) -> list[Sent]:
    before = len(connector.sent)
    chat = f"a:personal-{user[:8]}"
    response = await client.post("/api/messages", json=make_message(text, connector.url, user_aad=user, user_name=name))
    assert response.status in (200, 201)

    def done(sent: list[Sent]) -> bool:
        mine = [s for s in sent[before:] if s.conversation_id == chat]
        return bool(mine) and (text != "/package" or len(mine) >= 8)

    sent = await connector.wait_for(done)
    return [s for s in sent[before:] if s.conversation_id == chat]


async def test_a_200_officer_roster_then_package_and_status_show_it(
    tmp_path: Path, bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    code, report = await import_file(tmp_path, "roster.xlsx", xlsx(two_hundred()))
    assert code == EXIT_OK, report
    assert "added 150 approved, 50 in monitoring" in report
    client = await bot_client(settings_at(tmp_path / "data"))
    assert len(client.server.app[CONTEXT].db.officers.of_agency("9000")) == 200

    cards = await say(client, connector, "/package", user=POC_AAD, name="Pat Poc")
    assert len(cards) == 8  # 25 officers a card
    assert all(teams_findings(card) == [] for sent in cards for card in sent.cards)
    assert "offered in your 1:1 chat" not in cards[-1].text  # a 1:1 chat: the buttons' note, not the refusal
    text = "\n".join(card.text for card in cards)
    assert all(f"A{n:04d}" in text for n in range(200))
    assert "Officer Information (1–25 of 200)" in cards[0].text
    assert "Officer Information (176–200 of 200)" in cards[-1].text
    assert "Acknowledged by Roster import" in cards[0].text
    assert text.count("Tue Apr 2, 2024") == 150 and text.count("In monitoring") == 50

    status = await say(client, connector, "/status 9000", user=POC_AAD, name="Pat Poc")
    assert "200 officers · 0 open incidents" in status[0].text
    assert "Page 1 of 8 (200 lines)" in status[0].text
    assert "Approved Tue Apr 2, 2024" in status[0].text
    overview = await say(client, connector, "/status", user=JB_AAD, name="Jamie Staff")
    assert "50 in monitoring, 0 ready for approval" in overview[0].text
    history = await say(client, connector, "/audit A0007", user=JB_AAD, name="Jamie Staff")
    assert "Imported from the existing roster" in history[0].text


async def test_with_database_url_the_roster_goes_to_postgresql_and_not_to_data_dir(
    tmp_path: Path, postgres_url: str
) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx(good_rows()))
    settings = Settings.from_env(
        {"DATA_DIR": str(tmp_path / "data"), "JB_STAFF_IDS": JB_AAD, "DATABASE_URL": postgres_url}
    )
    out = io.StringIO()
    assert await run(settings, path, dry_run=False, out=out) == EXIT_OK, out.getvalue()
    assert not (tmp_path / "data").exists()
    db = await Database.connect(postgres_url)
    try:
        assert {package.judiciary_code for package in db.packages.all()} == {"9000", "0123"}
        assert len(db.officers.all()) == 3
    finally:
        await db.close()
