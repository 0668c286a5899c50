"""Privacy: logs carry ids, never names, usernames or e-mail addresses; data files are the owner's only.

A full run (people chatting, the Information Package wizard, an acknowledgment, the PoC role handed
over by e-mail, signed ticket events raising alerts, Mark resolved) with our loggers at DEBUG and the
rest at INFO; then the log output is searched for every personal value used.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app import CONTEXT
from intake.signature import sign
from settings import Settings
from tests.bot.package_flow import AGENCY, Chat, officer
from tests.conftest import SECRET
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector

OUR_LOGGERS = ("jb_eticket_bot", "app", "bot", "cards", "domain", "intake", "services", "storage", "settings")
POC_NAME = "Marguerite Poindexter"
POC_EMAIL = "m.poindexter@essex-pd.example"
JB_NAME = "Thaddeus Wolcott"
NEW_POC_NAME = "Ingeborg Vasquez-Thorne"
NEW_POC_EMAIL = "ingeborg.vt@essex-pd.example"
OFFICERS = (officer("Q4821", "Zebulon", "Quixwell", "zquixwell"), officer("R7310", "Philippa", "Oyelaran", "poyelaran"))
PERSONAL = (
    POC_NAME,
    POC_EMAIL,
    JB_NAME,
    NEW_POC_NAME,
    NEW_POC_EMAIL,
    "Zebulon",
    "Quixwell",
    "zquixwell",
    "Philippa",
    "Oyelaran",
    "poyelaran",
    "Poindexter",
    "Wolcott",
    "Ingeborg",
)


@pytest.fixture
def hostile_umask() -> Iterator[None]:
    previous = os.umask(0)  # files must be private because the bot makes them so, not because of the umask
    yield
    os.umask(previous)


async def test_a_full_run_logs_no_personal_data_and_keeps_files_private(
    bot_client: Callable[..., Any],
    connector: FakeConnector,
    settings_for: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    hostile_umask: None,
) -> None:
    caplog.set_level(logging.INFO)
    for name in OUR_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    settings = settings_for()
    client = await bot_client(settings)

    # people say hello, in chats and the agency channel, with their names on every activity
    jb = Chat(client, connector, user_aad=JB_AAD, user_name=JB_NAME)
    await jb.type("/help")
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel", user_name=POC_NAME)
    )
    await client.post(
        "/api/messages", json=make_message(f"hello I am {POC_NAME}, {POC_EMAIL}", connector.url, user_name=POC_NAME)
    )
    # the PoC sends the Information Package through the wizard
    poc = Chat(client, connector, user_aad=POC_AAD, user_name=POC_NAME)
    confirmation = await poc.submit_package(AGENCY | {"poc_name": POC_NAME, "poc_email": POC_EMAIL}, OFFICERS)
    assert "Zebulon" in json.dumps(confirmation)
    # JB staff acknowledge it, and the PoC routes alerts to the agency channel
    answer = await client.post(
        "/api/messages",
        json=make_invoke(
            "package.acknowledge", {"judiciary_code": "9000"}, connector.url, user_aad=JB_AAD, user_name=JB_NAME
        ),
    )
    assert answer.status == 200
    await client.post(
        "/api/messages",
        json=make_message("/subscribe 9000", connector.url, mention=True, kind="channel", user_name=POC_NAME),
    )
    # a typo'd command full of personal data, and a wizard answer refused
    await poc.type(f"/pakage {POC_EMAIL} Zebulon Quixwell")
    await client.post(
        "/api/messages",
        json=make_message(f"/set-poc 9000 {POC_EMAIL}", connector.url, user_aad=OTHER_AAD, user_name=NEW_POC_NAME),
    )
    # the new PoC opens a chat; JB staff hand the role over by e-mail (unknown), then by the known e-mail
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, user_aad=OTHER_AAD, user_name=NEW_POC_NAME)
    )
    await jb.type(f"/set-poc 9000 {NEW_POC_EMAIL}")
    await jb.type(f"/set-poc 9000 {POC_EMAIL}")
    # ticket events raise alerts; the PoC marks one resolved
    events = [
        {
            "event_id": "p1",
            "type": "submitted",
            "ticket_number": "VT-9",
            "officer_number": "q4821",
            "judiciary_code": "9000",
            "occurred_at": "2026-11-20T15:00:00Z",
            "issued_at": "2026-11-20T14:00:00Z",
        },
        {
            "event_id": "p2",
            "type": "rejected",
            "ticket_number": "VT-9",
            "officer_number": "Q4821",
            "judiciary_code": "9000",
            "occurred_at": "2026-11-20T16:00:00Z",
            "reason": "Officer Zebulon Quixwell: bad plate",
        },
    ]
    raw = json.dumps({"events": events}).encode()
    response = await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )
    incident_id = (await response.json())["results"][1]["incidents"][0]["id"]
    await connector.wait_for(lambda sent: any("VT-9" in item.text for item in sent))
    await client.post(
        "/api/messages",
        json=make_invoke("incident.resolve", {"incident_id": incident_id}, connector.url, user_name=POC_NAME),
    )
    await client.post("/api/messages", json=make_message("/package", connector.url, user_name=POC_NAME))
    context = client.server.app[CONTEXT]
    assert context.db.incidents.get(incident_id).is_open is False
    assert context.db.packages.get("9000").acknowledged is not None

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    logged = caplog.text
    assert "package submitted" in logged and "ticket events recorded" in logged, "the run was logged at all"
    leaked = [value for value in PERSONAL if value.lower() in logged.lower()]
    assert leaked == [], (
        f"personal data in the logs: {leaked}\n"
        + "\n".join(line for line in logged.splitlines() if any(value.lower() in line.lower() for value in leaked))[
            :3000
        ]
    )

    await client.close()
    data_dir = settings.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = list(data_dir.iterdir())
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path.name} is {oct(stat.S_IMODE(path.stat().st_mode))}"
