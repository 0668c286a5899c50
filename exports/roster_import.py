"""Import the existing roster into the data directory: ``make import-roster FILE=roster.xlsx [DRY_RUN=1]``.

Also ``python -m exports.roster_import [--dry-run] FILE`` (.xlsx or .csv). It reads ``DATA_DIR`` and
``TIMEZONE`` like the bot. Run it while the bot is stopped: the embedded store lets one process at
a time hold the data directory. It prints a report: every bad row and column and what is wrong
(then nothing is written), or what was (with ``--dry-run``: would be) added.

Exit codes: 0 imported (or nothing to change, or a dry run that found no problem); 1 problems in the
file or against the stored records, nothing written; 2 a usage error or a bad setting; 3 the data
directory is in use (the bot is running) or storage failed, nothing written.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from domain.roster import RosterEntry, check_roster
from presentation.notifier import Notifier
from presentation.presenter import Presenter
from services.context import AppContext
from services.roster import ImportReport, import_roster
from settings import Settings, SettingsError
from sheets.roster_file import RosterFileError, read_roster
from storage.errors import StorageError
from storage.repositories import Database

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3
MAX_PROBLEMS_SHOWN = 200

BOT_RUNNING = (
    "The data directory {data_dir} is in use by another process: the bot is probably running (its embedded store "
    "holds a lock so that only one process writes it). Stop the bot, run the import, then start the bot again. "
    "Nothing was changed."
)


async def _with_store(
    settings: Settings,
    entries: Sequence[RosterEntry],
    *,
    dry_run: bool,
    source: str,
    data_dir: Path,
    database_url: str | None = None,
) -> ImportReport:
    """Import into the store: PostgreSQL at ``database_url`` when given, else the embedded one at ``data_dir``."""
    db = await (Database.connect(database_url) if database_url else Database.open(data_dir))
    try:
        app = AppContext(
            settings=settings,
            db=db,
            notifier=Notifier(db, Presenter(settings.timezone), settings.jb_staff_ids, wake=lambda: None),
        )
        return await import_roster(app, entries, dry_run=dry_run, source=source)
    finally:
        await db.close()


async def run(settings: Settings, path: Path, *, dry_run: bool, out: TextIO) -> int:
    """Read, check and import one roster file; write the report to ``out``; return the exit code."""
    try:
        data = path.read_bytes()
    except OSError as error:
        out.write(f"Cannot read {path}: {error.strerror or type(error).__name__}. Nothing was changed.\n")
        return EXIT_USAGE
    try:
        sheet = read_roster(path.name, data)
    except RosterFileError as error:
        out.write(f"{path.name}: {error} Nothing was changed.\n")
        return EXIT_PROBLEMS
    today = datetime.now(UTC).astimezone(settings.timezone).date()
    entries, problems = check_roster(sheet, today)
    if problems:  # the file's own problems: reported without opening (or creating) the data directory
        out.write(report_text(path.name, ImportReport(problems=tuple(problems), dry_run=dry_run, rows=len(sheet.rows))))
        return EXIT_PROBLEMS
    data_dir = settings.data_dir
    note = ""
    if settings.database_url:  # PostgreSQL: running replicas catch up with what the import commits
        try:
            report = await _with_store(
                settings,
                entries,
                dry_run=dry_run,
                source=path.name,
                data_dir=data_dir,
                database_url=settings.database_url,
            )
        except StorageError as error:
            out.write(f"The database could not be used ({error}). Nothing was changed.\n")
            return EXIT_STORE
        out.write(report_text(path.name, report))
        return EXIT_PROBLEMS if report.problems else EXIT_OK
    try:
        if dry_run and not data_dir.exists():
            note = f"The data directory {data_dir} does not exist yet: the rows were checked against an empty store.\n"
            with tempfile.TemporaryDirectory() as empty:
                report = await _with_store(settings, entries, dry_run=True, source=path.name, data_dir=Path(empty))
        else:
            report = await _with_store(settings, entries, dry_run=dry_run, source=path.name, data_dir=data_dir)
    except StorageError as error:
        if "in use" in str(error):
            out.write(BOT_RUNNING.format(data_dir=data_dir) + "\n")
        else:
            out.write(f"The data directory {data_dir} could not be used ({error}). Nothing was changed.\n")
        return EXIT_STORE
    out.write(note)
    out.write(report_text(path.name, report))
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def report_text(name: str, report: ImportReport) -> str:
    """The report a person reads: each problem by row and column, or what the import added."""
    lines: list[str] = []
    if report.problems:
        count = len(report.problems)
        lines.append(f"{name}: {count} problem{'s' if count != 1 else ''}; nothing was written.")
        lines += [f"  {problem}" for problem in report.problems[:MAX_PROBLEMS_SHOWN]]
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  … and {count - MAX_PROBLEMS_SHOWN} more.")
        lines.append("Put them right in the file and run the import again.")
        return "\n".join(lines) + "\n"
    verb = "would add" if report.dry_run else "added"
    lines.append(f"{name}: {report.rows} officer rows checked, no problems.")
    for plan in report.packages:
        what = (
            "new Information Package (acknowledged)" if plan.new_package else "Information Package already in the bot"
        )
        counts = f"{plan.approved} approved, {plan.monitoring} in monitoring from today"
        kept = f", {plan.unchanged} already there" if plan.unchanged else ""
        lines.append(f"  Judiciary Code {plan.judiciary_code}: {what}; {verb} {counts}{kept}.")
    if report.changes == 0:
        lines.append("Nothing to change: everything in the file is in the bot already.")
    elif report.dry_run:
        lines.append("Dry run: nothing was written. Run without DRY_RUN=1 to import.")
    else:
        lines.append("Imported. Start the bot again with make run.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="make import-roster", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the roster: an Excel workbook (.xlsx) or a CSV file (.csv)")
    parser.add_argument("--dry-run", action="store_true", help="check the file against the stored records only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = Settings.from_env(check_credentials=False)
    except SettingsError as error:
        sys.stderr.write(f"invalid setting: {error}\n")
        return EXIT_USAGE
    return asyncio.run(run(settings, args.file, dry_run=args.dry_run, out=sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
