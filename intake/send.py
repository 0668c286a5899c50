"""Sign and post a JSON file of ticket events: ``python -m intake.send --url URL FILE.json``.

The secret comes from ``TICKET_EVENTS_SECRET``. The response status and body go to stdout;
the exit code is 0 for a 2xx answer, 1 for any other answer, 2 for a usage or connection error.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from intake.signature import SIGNATURE_HEADER, sign

DEFAULT_URL = "http://127.0.0.1:3978/api/ticket-events"


def post_signed(url: str, body: bytes, secret: str, *, timeout: float = 30.0) -> tuple[int, str]:
    """POST ``body`` to ``url`` signed with ``secret``; the response status and text."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m intake.send", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"intake endpoint (default {DEFAULT_URL})")
    parser.add_argument("file", type=Path, help='JSON file: one event or {"events": [...]}')
    args = parser.parse_args(argv)
    secret = os.environ.get("TICKET_EVENTS_SECRET", "")
    if not secret:
        sys.stderr.write("TICKET_EVENTS_SECRET is not set\n")
        return 2
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        sys.stderr.write(f"cannot read {args.file}: {exc.strerror}\n")
        return 2
    try:
        status, text = post_signed(args.url, body, secret)
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"cannot reach {args.url}: {exc}\n")
        return 2
    sys.stdout.write(f"{status}\n{text}\n")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
