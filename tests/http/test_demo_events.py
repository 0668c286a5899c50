"""make demo-events against the whole app: its month goes through the real signed intake API with no error."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from app import CONTEXT
from domain.records import IncidentKind, IncidentStatus, officer_key
from intake import demo_events
from tests.conftest import SECRET
from tests.support.seed import seed_agency


async def _run(client: Any, tmp_path: Path, *argv: str) -> tuple[int, str]:
    (tmp_path / "intake-secret").write_text(SECRET + "\n")
    url = str(client.make_url("/api/ticket-events"))
    out = io.StringIO()
    code = await asyncio.to_thread(
        demo_events.main, ["--url", url, "--secret-file", str(tmp_path / "intake-secret"), *argv], out=out
    )
    return code, out.getvalue()


async def test_the_month_is_recorded_with_its_five_alerts_and_says_what_to_look_at(
    bot_client: Any, tmp_path: Path
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await seed_agency(context, officers=("A1234", "B2345"))
    code, out = await _run(client, tmp_path)
    assert code == 0, out
    assert "0 errors; 5 raised an alert." in out and "(expected:" not in out, out
    kinds = sorted(incident.kind.value for incident in context.db.incidents.open("9000"))
    assert kinds == [
        "late_upload",
        "missing_municipal_penalties",
        "payment_before_receipt",
        "rejected",
        "unknown_officer",
    ]
    assert "What to look at now:" in out and "Ready for approval" in out


async def test_without_the_package_it_stops_at_the_first_event_and_closes_that_alert(
    bot_client: Any, tmp_path: Path
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    code, out = await _run(client, tmp_path, "--agency", "0123")
    assert code == 1
    assert "Stopped: officer A1234 is in no Information Package of Judiciary Code 0123" in out
    assert context.db.incidents.open("0123") == []
    [incident] = context.db.incidents.of_officer(officer_key("0123", "A1234"))
    assert incident.kind is IncidentKind.UNKNOWN_OFFICER and incident.status is IncidentStatus.VOIDED
