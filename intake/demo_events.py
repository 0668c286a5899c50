"""A month of e-tickets for one agency, posted one event at a time through the signed intake API: ``make demo-events``.

``python -m intake.demo_events [--agency 9000] [--officers A1234,B2345] [--unknown-officer C4567]
[--url URL] [--secret-file FILE]`` tells what happens, day by day, as the records systems (Valcour,
Odyssey) would post it, and explains every event as it is sent ("day 3: Odyssey rejects VT-…: plate
state missing"). The secret is read from ``--secret-file`` (``make demo`` keeps one in
``demo-data/intake-secret``) or else from ``TICKET_EVENTS_SECRET``.

The month (day 1 is 29 days ago, day 30 today; every event has happened by yesterday evening, court time):

| who | e-tickets |
| --- | --- |
| the first officer (A1234) | ten over four weeks, each uploaded within the hour and accepted the next morning, three paid later: clean, so ready for approval |
| the second officer (B2345) | nine: rejected for a missing plate state on day 3 (uploaded again and accepted), a late upload, a payment before receipt, a town ordinance without penalties, and clean ones; ready once its four alerts are marked resolved |
| any further officer | eight clean ones |
| an officer in no package (C4567) | one, accepted by Odyssey but unknown to the Judicial Bureau |

With a single officer, that officer gets both parts. Ticket numbers carry the run's time
(``VT-<MMDDhhmm>-<n>``), so each run adds a new month; the same run sent again is answered
``duplicate``. Exit code 0 when every event was recorded, 1 when one was refused or the first event
of a package officer showed that the officer is in no package (the stream stops there, and that
e-ticket is voided, which closes its alert), 2 for a usage or connection error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from domain.incidents import INCIDENT_TEXT
from domain.records import IncidentKind
from domain.validation import FieldErrors, parse_judiciary_code, parse_officer_number
from intake.send import DEFAULT_URL, post_signed

DAYS = 30
"""The month: day 1 is 29 days before today, day 30 is today."""

DEFAULT_AGENCY = "9000"
DEFAULT_OFFICERS = ("A1234", "B2345")
DEFAULT_UNKNOWN = "C4567"
"""The README walkthrough's package: Judiciary Code 9000 with officers A1234 and B2345; C4567 is in none."""

COURT_ZONE = "America/New_York"

SPEEDING = {"category": "traffic", "statute": "23 V.S.A. § 1081"}
SAFETY_BELT = {"category": "traffic", "statute": "23 V.S.A. § 1259"}
HANDHELD_PHONE = {"category": "traffic", "statute": "23 V.S.A. § 1095b"}
DOG_ORDINANCE = {"category": "civil_ordinance", "statute": "town ordinance, dog at large"}
"""A civil ordinance violation, sent without its full and waiver penalties (4 V.S.A. § 1102(d))."""
TRAFFIC = (SPEEDING, SAFETY_BELT, HANDHELD_PHONE)
WHAT = {
    SPEEDING["statute"]: "speeding",
    SAFETY_BELT["statute"]: "safety belt",
    HANDHELD_PHONE["statute"]: "handheld phone",
}

CLEAN_DAYS = (1, 3, 6, 9, 11, 14, 18, 21, 24, 27)
PAID_CLEAN_DAYS = frozenset({3, 11, 21})
TROUBLED_CLEAN_DAYS = (5, 12, 22, 25, 28)
EXTRA_CLEAN_DAYS = (2, 5, 8, 13, 16, 20, 23, 26)


@dataclass(frozen=True)
class Step:
    """One event of the month, what it means, and the alerts it should raise."""

    day: int
    event: dict[str, Any]
    says: str
    expect: tuple[IncidentKind, ...] = ()

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.event["occurred_at"])


def _charge(violation: dict[str, Any]) -> str:
    statute = violation["statute"]
    return f"{WHAT[statute]}, {statute}" if statute in WHAT else statute


@dataclass
class _Month:
    """Writes the events of each e-ticket: instants are court time on story days."""

    judiciary_code: str
    start: date
    tz: ZoneInfo
    steps: list[Step] = field(default_factory=list)
    events_of: dict[str, int] = field(default_factory=dict)

    def at(self, day: int, clock: str) -> datetime:
        """The instant of ``clock`` (HH:MM, court time) on story day ``day``."""
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime.combine(self.start + timedelta(days=day - 1), time(hour, minute), tzinfo=self.tz)

    def add(
        self,
        ticket: str,
        officer: str,
        issued: datetime,
        day: int,
        clock: str,
        kind: str,
        says: str,
        *,
        expect: tuple[IncidentKind, ...] = (),
        **fields: Any,
    ) -> None:
        """One event of ``ticket``, happening at ``clock`` on ``day``."""
        self.events_of[ticket] = self.events_of.get(ticket, 0) + 1
        event = {
            "event_id": f"demo-{ticket.removeprefix('VT-')}-{self.events_of[ticket]}",
            "type": kind,
            "ticket_number": ticket,
            "officer_number": officer,
            "judiciary_code": self.judiciary_code,
            "occurred_at": self.at(day, clock).isoformat(timespec="seconds"),
            "issued_at": issued.isoformat(timespec="seconds"),
        } | fields
        self.steps.append(Step(day, event, says, expect))

    # ---- the kinds of e-ticket in the month: each is issued on ``day`` at ``clock`` -----------------

    def clean(self, ticket: str, officer: str, day: int, clock: str, violation: dict[str, Any], paid: bool) -> None:
        """Uploaded 35 minutes after issue, accepted the next morning, perhaps paid five days later."""
        issued = self.at(day, clock)
        upload = (issued + timedelta(minutes=35)).strftime("%H:%M")
        says = f"Valcour uploads {ticket}, issued by {officer} at {clock} ({_charge(violation)})"
        self.add(ticket, officer, issued, day, upload, "submitted", says, violation=violation)
        self.add(ticket, officer, issued, day + 1, f"09:{10 + day:02d}", "accepted", f"Odyssey accepts {ticket}")
        if paid:
            says = f"the defendant pays {ticket}, after the Judicial Bureau received it: nothing to see"
            self.add(ticket, officer, issued, day + 5, "19:30", "payment_received", says)

    def rejected_then_fixed(self, ticket: str, officer: str, day: int, clock: str) -> None:
        """Rejected the next morning for a missing plate state; uploaded again that afternoon, accepted the day after."""
        issued = self.at(day, clock)
        says = f"Valcour uploads {ticket}, issued by {officer} at {clock} ({_charge(SPEEDING)})"
        self.add(ticket, officer, issued, day, "14:40", "submitted", says, violation=SPEEDING)
        says = f"Odyssey rejects {ticket}: plate state missing"
        expect = (IncidentKind.REJECTED,)
        self.add(
            ticket, officer, issued, day + 1, "09:05", "rejected", says, expect=expect, reason="Plate state missing"
        )
        says = f"Valcour uploads {ticket} again, with the plate state"
        self.add(ticket, officer, issued, day + 1, "15:20", "submitted", says, violation=SPEEDING)
        says = f"Odyssey accepts the corrected {ticket}; its rejection alert stays open until someone presses Mark resolved"
        self.add(ticket, officer, issued, day + 2, "09:10", "accepted", says)

    def late_upload(self, ticket: str, officer: str, day: int, clock: str) -> None:
        """Uploaded on the third morning after issue, more than 48 hours later (SOP 6.4)."""
        issued = self.at(day, clock)
        hours = int((self.at(day + 3, "08:15") - issued).total_seconds() // 3600)
        says = (
            f"Valcour uploads {ticket}, issued by {officer} on {issued:%a %b %-d} at {clock}: {hours} hours later,"
            " a late upload (SOP 6.4: within 48 hours)"
        )
        expect = (IncidentKind.LATE_UPLOAD,)
        self.add(ticket, officer, issued, day + 3, "08:15", "submitted", says, expect=expect, violation=SAFETY_BELT)
        self.add(ticket, officer, issued, day + 4, "09:00", "accepted", f"Odyssey accepts {ticket}")

    def paid_before_receipt(self, ticket: str, officer: str, day: int, clock: str) -> None:
        """Paid online the evening of issue, before the upload the next morning (SOP 6.5)."""
        issued = self.at(day, clock)
        says = (
            f"the defendant pays {ticket} (issued by {officer} at {clock}) online before Valcour has uploaded it:"
            " a payment before receipt (SOP 6.5)"
        )
        expect = (IncidentKind.PAYMENT_BEFORE_RECEIPT,)
        self.add(ticket, officer, issued, day, "19:45", "payment_received", says, expect=expect)
        says = f"Valcour uploads {ticket} the next morning, within 48 hours of issue"
        self.add(ticket, officer, issued, day + 1, "08:30", "submitted", says, violation=HANDHELD_PHONE)
        self.add(ticket, officer, issued, day + 2, "09:00", "accepted", f"Odyssey accepts {ticket}")

    def ordinance_without_penalties(self, ticket: str, officer: str, day: int, clock: str) -> None:
        """A town ordinance violation sent without its full and waiver penalties (4 V.S.A. § 1102(d))."""
        issued = self.at(day, clock)
        says = (
            f"Valcour uploads {ticket}, issued by {officer} at {clock} for a dog at large under a town ordinance,"
            " with neither the full nor the waiver penalty (4 V.S.A. § 1102(d))"
        )
        expect = (IncidentKind.MISSING_MUNICIPAL_PENALTIES,)
        self.add(ticket, officer, issued, day, "22:05", "submitted", says, expect=expect, violation=DOG_ORDINANCE)
        self.add(ticket, officer, issued, day + 1, "09:15", "accepted", f"Odyssey accepts {ticket}")

    def unknown_officer(self, ticket: str, officer: str, day: int, clock: str) -> None:
        """An e-ticket from an officer the agency has not put in its Information Package."""
        issued = self.at(day, clock)
        says = (
            f"Valcour uploads {ticket}, issued at {clock} by {officer}, who is in no Information Package"
            f" of {self.judiciary_code}"
        )
        expect = (IncidentKind.UNKNOWN_OFFICER,)
        self.add(ticket, officer, issued, day, "10:45", "submitted", says, expect=expect, violation=SPEEDING)
        says = f"Odyssey accepts {ticket}; the Judicial Bureau still does not know {officer}"
        self.add(ticket, officer, issued, day + 1, "09:00", "accepted", says)


def month_of_tickets(
    judiciary_code: str,
    officers: Sequence[str],
    unknown_officer: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    run: str | None = None,
) -> list[Step]:
    """The month's events for this agency, in the order they happened; none after ``now``.

    ``run`` goes into every ticket number and event id (default: ``now`` as MMDDhhmm, court time).
    """
    if not officers:
        raise ValueError("at least one officer number is needed")
    local_now = now.astimezone(tz)
    month = _Month(judiciary_code, local_now.date() - timedelta(days=DAYS - 1), tz)
    clean_one, troubled = officers[0], officers[1] if len(officers) > 1 else officers[0]
    # (day, clock, what to write once the ticket has its number): numbered in the order they were issued
    planned: list[tuple[int, str, Callable[[str], None]]] = []
    for n, day in enumerate(CLEAN_DAYS):
        clock = ("14:05", "08:40", "16:25", "11:55")[n % 4]
        planned.append(
            (
                day,
                clock,
                partial(
                    month.clean,
                    officer=clean_one,
                    day=day,
                    clock=clock,
                    violation=TRAFFIC[n % 3],
                    paid=day in PAID_CLEAN_DAYS,
                ),
            )
        )
    for story, day, clock in (
        (month.rejected_then_fixed, 2, "14:05"),
        (month.late_upload, 8, "16:50"),
        (month.paid_before_receipt, 15, "11:20"),
        (month.ordinance_without_penalties, 19, "21:40"),
    ):
        planned.append((day, clock, partial(story, officer=troubled, day=day, clock=clock)))
    if troubled != clean_one:
        for n, day in enumerate(TROUBLED_CLEAN_DAYS):
            clock = ("10:30", "15:45", "07:50")[n % 3]
            planned.append(
                (
                    day,
                    clock,
                    partial(
                        month.clean, officer=troubled, day=day, clock=clock, violation=TRAFFIC[(n + 1) % 3], paid=False
                    ),
                )
            )
    for extra in officers[2:]:
        for n, day in enumerate(EXTRA_CLEAN_DAYS):
            clock = ("13:15", "09:35")[n % 2]
            planned.append(
                (
                    day,
                    clock,
                    partial(
                        month.clean, officer=extra, day=day, clock=clock, violation=TRAFFIC[(n + 2) % 3], paid=False
                    ),
                )
            )
    planned.append((17, "10:10", partial(month.unknown_officer, officer=unknown_officer, day=17, clock="10:10")))
    run = run or local_now.strftime("%m%d%H%M")
    for number, (_, _, write) in enumerate(sorted(planned, key=lambda plan: (plan[0], plan[1])), start=1):
        write(f"VT-{run}-{number:03d}")
    steps = sorted(month.steps, key=lambda step: (step.occurred_at, step.event["ticket_number"]))
    latest = steps[-1].occurred_at
    if latest > now:
        raise ValueError(f"the month would end in the future ({latest.isoformat()})")
    return steps


# ---- sending --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the intake answered, over the whole stream."""

    recorded: int = 0
    duplicate: int = 0
    errors: int = 0
    alerts: int = 0
    unexpected: int = 0


Post = Callable[[bytes], tuple[int, str]]
"""Send one signed body; the HTTP status and the response text."""


def _alert_words(kinds: Sequence[str]) -> str:
    words = []
    for kind in kinds:
        try:
            words.append(INCIDENT_TEXT[IncidentKind(kind)])
        except ValueError:
            words.append(kind)
    return "; ".join(words)


def send_month(
    steps: Sequence[Step],
    post: Post,
    officers: Sequence[str],
    out: TextIO,
    move_clock: Callable[[datetime], None] | None = None,
) -> tuple[Tally, str | None]:
    """Post every step in order, one event per request, saying what each is; the tally, and why it stopped early if it did.

    ``move_clock``: moves the local-mode bot's story clock to just after each event before it is posted,
    so a month of e-tickets issued after the package passes in a few seconds.
    """
    tally = Tally()
    probed: set[str] = set()
    for step in steps:
        event = step.event
        if move_clock is not None:
            move_clock(step.occurred_at + timedelta(minutes=1))
        date_shown = step.occurred_at.strftime("%a %b %-d")
        out.write(f"day {step.day:2d} ({date_shown}): {step.says}")
        status, text = post(json.dumps(event).encode())
        if status != 200:
            tally.errors += 1
            out.write(f"\n    refused: HTTP {status} {text.strip()[:500]}\n")
            continue
        result = json.loads(text)["results"][0]
        kinds = [incident["kind"] for incident in result.get("incidents", [])]
        if result["status"] == "duplicate":
            tally.duplicate += 1
            out.write(" · already recorded\n")
        else:
            tally.recorded += 1
            tally.alerts += bool(kinds)
            out.write(f" · alert: {_alert_words(kinds)}\n" if kinds else " · recorded\n")
        officer = event["officer_number"]
        if officer in officers and officer not in probed:
            probed.add(officer)
            if IncidentKind.UNKNOWN_OFFICER.value in kinds:
                void = event | {
                    "event_id": f"{event['event_id']}-void",
                    "type": "voided",
                    "occurred_at": event["occurred_at"],
                }
                post(json.dumps(void).encode())
                return tally, (
                    f"officer {officer} is in no Information Package of Judiciary Code {event['judiciary_code']}: "
                    "send the package first (make demo: Pat's /new-package), or name yours with AGENCY= and "
                    f"OFFICERS=. Nothing more was sent; {event['ticket_number']} was voided, which closes its alert."
                )
        if result["status"] == "recorded" and set(kinds) != {kind.value for kind in step.expect}:
            tally.unexpected += 1
            expected = _alert_words([kind.value for kind in step.expect]) or "no alert"
            out.write(f"    (expected: {expected})\n")
    return tally, None


def _what_now(officers: Sequence[str], unknown: str, judiciary_code: str) -> str:
    clean_one = officers[0]
    troubled = officers[1] if len(officers) > 1 else officers[0]
    lines = [
        "What to look at now:",
        f'  JB channel: "Ready for approval" for {clean_one}, sent as soon as its conditions held (e-tickets accepted'
        " over more than a week, the latest clean, no open incident). Press Approve; the PoC is told.",
        f"  Agency channel (or the PoC's chat until a channel of {judiciary_code} subscribes), and the JB channel:"
        f" the alerts for {troubled} (rejected, late upload, payment before receipt, ordinance without penalties)"
        f" and for {unknown} (unknown officer).",
    ]
    if troubled != clean_one:
        lines.append(
            f"  Press Mark resolved on {troubled}'s four alerts: its last three e-tickets are clean, so it becomes ready too."
        )
    return "\n".join(lines) + "\n"


def _officer(text: str) -> str:
    try:
        return parse_officer_number(text)
    except FieldErrors as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def _officers(text: str) -> tuple[str, ...]:
    numbers = tuple(_officer(part) for part in text.split(",") if part.strip())
    if not numbers:
        raise argparse.ArgumentTypeError("name at least one officer number")
    if len(set(numbers)) != len(numbers):
        raise argparse.ArgumentTypeError("an officer number is named twice")
    return numbers


def _agency(text: str) -> str:
    try:
        return parse_judiciary_code(text)
    except FieldErrors as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def main(argv: list[str] | None = None, *, out: TextIO = sys.stdout, now: datetime | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m intake.demo_events", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agency", type=_agency, default=DEFAULT_AGENCY, help=f"Judiciary Code (default {DEFAULT_AGENCY})"
    )
    parser.add_argument(
        "--officers",
        type=_officers,
        default=DEFAULT_OFFICERS,
        help=f"officer numbers in its package, comma-separated (default {','.join(DEFAULT_OFFICERS)})",
    )
    parser.add_argument(
        "--unknown-officer",
        type=_officer,
        default=DEFAULT_UNKNOWN,
        help=f"an officer number in no package (default {DEFAULT_UNKNOWN})",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"intake endpoint (default {DEFAULT_URL})")
    parser.add_argument("--secret-file", type=Path, help="file holding the secret (default: TICKET_EVENTS_SECRET)")
    args = parser.parse_args(argv)
    if args.unknown_officer in args.officers:
        parser.error(f"--unknown-officer {args.unknown_officer} is one of --officers")
    try:
        secret = (
            args.secret_file.read_text().strip() if args.secret_file else os.environ.get("TICKET_EVENTS_SECRET", "")
        )
    except OSError as exc:
        sys.stderr.write(f"cannot read the secret from {args.secret_file}: {exc.strerror} (is make demo running?)\n")
        return 2
    if not secret:
        sys.stderr.write("no secret: pass --secret-file or set TICKET_EVENTS_SECRET\n")
        return 2
    tz = ZoneInfo(os.environ.get("TIMEZONE", "").strip() or COURT_ZONE)
    # the month begins after the package was sent (only e-tickets issued after monitoring began count), and
    # the bot's story clock moves forward with it (local mode: POST /api/local/clock, signed like the intake)
    story_end = (now or datetime.now(UTC)) + timedelta(days=DAYS)
    steps = month_of_tickets(args.agency, args.officers, args.unknown_officer, now=story_end, tz=tz)
    first, last = steps[0].occurred_at, steps[-1].occurred_at
    out.write(
        f"A month of e-tickets for Judiciary Code {args.agency} (officers {', '.join(args.officers)};"
        f" {args.unknown_officer} is in no package), {first:%a %b %-d} to {last:%a %b %-d}: {len(steps)} events,"
        f" posted one at a time to {args.url}, signed.\n\n"
    )
    out.flush()

    def post(body: bytes) -> tuple[int, str]:
        return post_signed(args.url, body, secret)

    clock_url = args.url.rsplit("/api/", 1)[0] + "/api/local/clock"

    def move_clock(instant: datetime) -> None:
        status, text = post_signed(clock_url, json.dumps({"to": instant.isoformat()}).encode(), secret)
        if status != 200:
            raise OSError(f"the bot's story clock did not move (HTTP {status}: {text.strip()[:200]})")

    try:
        tally, stopped = send_month(steps, post, args.officers, out, move_clock)
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"\ncannot reach {args.url}: {exc} (is make demo running?)\n")
        return 2
    out.write(
        f"\nSent: {tally.recorded} recorded, {tally.duplicate} already recorded, {tally.errors} errors;"
        f" {tally.alerts} raised an alert.\n"
    )
    if stopped:
        out.write(f"Stopped: {stopped}\n")
        return 1
    if tally.unexpected:
        out.write(f"{tally.unexpected} events did not raise what was expected: is the package the one named?\n")
    out.write("\n" + _what_now(args.officers, args.unknown_officer, args.agency))
    return 0 if tally.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
