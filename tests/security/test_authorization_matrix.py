"""Authorization matrix: every action against every role, through real invoke and message activities.

Only the pairs the policy table (domain/policy.py) allows change anything (and leave an audit entry);
every other pair changes nothing. Actions are data: add a row to ACTIONS as features land.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from app import CONTEXT
from domain.policy import Action as Policy
from domain.policy import Role, may
from intake.signature import sign
from services.context import AppContext
from tests.bot.package_flow import Chat, officer
from tests.conftest import SECRET
from tests.support import seed
from tests.support.factories import JB_AAD, POC_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import SUBMITTED_AT, package

OTHER_POC_AAD = "44444444-4444-4444-8444-444444444444"
MEMBER_AAD = "55555555-5555-4555-8555-555555555555"
UNKNOWN_AAD = "66666666-6666-4666-8666-666666666666"
AGENCY_CHANNEL = "19:agency-channel@thread.tacv2"
NEW_CHANNEL = "19:another-channel@thread.tacv2"

PERSONAS: dict[str, Role] = {
    "jb_staff": Role.JB_STAFF,
    "agency_poc": Role.AGENCY_POC,
    "other_agency_poc": Role.OTHER_POC,
    # a member of agency 9000's channel: outside the JB channel the policy gives them no role of their own
    "channel_member": Role.UNKNOWN,
    "unknown_user": Role.UNKNOWN,
}
"""How the policy sees each person of the matrix toward agency 9000, where the matrix has them act."""


def allowed_by(action: Policy) -> frozenset[str]:
    """The matrix's people the policy table lets do ``action``."""
    return frozenset(person for person, role in PERSONAS.items() if may(action, role))


ROLES: dict[str, tuple[str, str]] = {
    "jb_staff": (JB_AAD, "Jamie Staff"),
    "agency_poc": (POC_AAD, "Pat Poc"),
    "other_agency_poc": (OTHER_POC_AAD, "Robin Other"),
    "channel_member": (MEMBER_AAD, "Casey Member"),
    "unknown_user": (UNKNOWN_AAD, "Uma Unknown"),
}


@dataclass
class World:
    """The running app with agency 9000 (PoC: agency_poc) and 9100 (PoC: other_agency_poc) and an open incident."""

    client: Any
    connector: FakeConnector
    incident_id: str
    answers: list[str] = field(default_factory=list)
    """Every card the bot answered a press with, as JSON text."""

    @property
    def app(self) -> AppContext:
        return self.client.server.app[CONTEXT]


async def build_world(client: Any, connector: FakeConnector) -> World:
    app: AppContext = client.server.app[CONTEXT]
    for aad, name in ROLES.values():  # everyone has a 1:1 chat and is in the agency channel
        await client.post("/api/messages", json=make_message("/help", connector.url, user_aad=aad, user_name=name))
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel", user_aad=MEMBER_AAD)
    )
    await app.db.commit(
        [
            app.db.packages.put(package("9000", POC_AAD)),
            app.db.officers.put(seed.officer("A1234", "9000")),
            app.db.packages.put(package("9100", OTHER_POC_AAD)),
            app.db.officers.put(seed.officer("B2222", "9100")),
            app.db.subscriptions.put("9000", AGENCY_CHANNEL, POC_AAD, SUBMITTED_AT),
        ]
    )
    event = {
        "event_id": "m1",
        "type": "rejected",
        "ticket_number": "VT-1",
        "officer_number": "A1234",
        "judiciary_code": "9000",
        "occurred_at": "2026-11-20T15:00:00Z",
        "reason": "Bad statute",
    }
    raw = json.dumps(event).encode()
    response = await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )
    incident_id = (await response.json())["results"][0]["incidents"][0]["id"]
    return World(client, connector, incident_id)


async def press(world: World, role: str, verb: str, data: dict[str, Any], **where: Any) -> None:
    aad, name = ROLES[role]
    response = await world.client.post(
        "/api/messages", json=make_invoke(verb, data, world.connector.url, user_aad=aad, user_name=name, **where)
    )
    assert response.status == 200, await response.text()
    world.answers.append(await response.text())


async def say(world: World, role: str, text: str, **where: Any) -> None:
    aad, name = ROLES[role]
    response = await world.client.post(
        "/api/messages", json=make_message(text, world.connector.url, user_aad=aad, user_name=name, **where)
    )
    assert response.status in (200, 201), await response.text()


async def acknowledge(world: World, role: str) -> None:
    await press(world, role, "package.acknowledge", {"judiciary_code": "9000"}, kind="channel")


async def resolve(world: World, role: str) -> None:
    await press(world, role, "incident.resolve", {"incident_id": world.incident_id}, kind="channel")


async def subscribe(world: World, role: str) -> None:
    await say(world, role, "/subscribe 9000", mention=True, kind="channel", channel=NEW_CHANNEL)


async def add_officer(world: World, role: str) -> None:
    aad, name = ROLES[role]
    chat = Chat(world.client, world.connector, user_aad=aad, user_name=name)
    card = await chat.type("/add-officer 9000")
    if "Next: review" not in json.dumps(card):
        return  # refused at the start: nothing to press
    await chat.press("Next: review", officer("Z1111", "Dana", "Newman", "dnewman"))
    if "Submit" in json.dumps(chat.card):
        await chat.press("Submit", {"officers_trained": "true"})


OFFICER = {"judiciary_code": "9000", "officer_number": "A1234"}


async def approve(world: World, role: str) -> None:
    """Approve from the officer's card; A1234 is not ready, so the card asks to confirm, and the role confirms."""
    await press(world, role, "officer.approve", OFFICER, kind="channel")
    await press(world, role, "officer.approve_confirm", OFFICER, kind="channel")


async def extend(world: World, role: str) -> None:
    await press(world, role, "officer.extend", OFFICER, kind="channel")
    until = (world.app.today() + timedelta(days=7)).isoformat()
    await press(
        world,
        role,
        "officer.extend_submit",
        OFFICER | {"until": until, "reason": "More tickets wanted"},
        kind="channel",
    )


async def withdraw(world: World, role: str) -> None:
    await say(world, role, "/withdraw A1234 9000")
    await press(world, role, "officer.withdraw_confirm", OFFICER)


def last_reply_to(world: World, role: str) -> str:
    """Everything the bot last said in this role's 1:1 chat."""
    chat = f"a:personal-{ROLES[role][0][:8]}"
    replies = [sent for sent in world.connector.sent if sent.conversation_id == chat]
    return replies[-1].text if replies else ""


async def status(world: World, role: str) -> None:
    await say(world, role, "/status 9000")
    await world.connector.wait_for(lambda sent: bool(last_reply_to(world, role)))


async def audit(world: World, role: str) -> None:
    await say(world, role, "/audit A1234")
    await world.connector.wait_for(lambda sent: bool(last_reply_to(world, role)))


async def digest(world: World, role: str) -> None:
    await say(world, role, "/digest 9000")
    await world.connector.wait_for(lambda sent: bool(last_reply_to(world, role)))


async def refresh(world: World, role: str) -> None:
    """Teams asking, from the person's 1:1 chat, for the alert as it stands now (a copy is only in the PoC's)."""
    await press(world, role, "card.refresh", {"card": "incident", "incident_id": world.incident_id})


@dataclass(frozen=True)
class Action:
    """One action: who may do it, how a person does it, and how to tell it happened."""

    name: str
    allowed: frozenset[str]
    perform: Callable[[World, str], Awaitable[None]]
    happened: Callable[[World], bool]


ACTIONS: tuple[Action, ...] = (
    Action(
        "acknowledge",
        allowed_by(Policy.ACKNOWLEDGE),
        acknowledge,
        lambda w: w.app.db.packages.get("9000").acknowledged is not None,
    ),  # type: ignore[union-attr]
    Action(
        "resolve",
        allowed_by(Policy.RESOLVE),
        resolve,
        lambda w: not w.app.db.incidents.get(w.incident_id).is_open,
    ),  # type: ignore[union-attr]
    Action(
        "subscribe",
        allowed_by(Policy.SUBSCRIBE_AGENCY),
        subscribe,
        lambda w: w.app.db.subscriptions.conversation_for("9000") == NEW_CHANNEL,
    ),
    Action(
        "add officer",
        allowed_by(Policy.ADD_OFFICER),
        add_officer,
        lambda w: w.app.db.officers.get("9000", "Z1111") is not None,
    ),
    Action(
        "approve",
        allowed_by(Policy.APPROVE),
        approve,
        lambda w: w.app.db.officers.get("9000", "A1234").state.value == "approved",
    ),  # type: ignore[union-attr]
    Action(
        "extend",
        allowed_by(Policy.EXTEND),
        extend,
        lambda w: w.app.db.officers.get("9000", "A1234").extension is not None,
    ),  # type: ignore[union-attr]
    Action(
        "withdraw",
        allowed_by(Policy.WITHDRAW),
        withdraw,
        lambda w: w.app.db.officers.get("9000", "A1234").state.value == "withdrawn",
    ),  # type: ignore[union-attr]
    # reading: "happened" means the reply showed the agency's officers or the officer's history
    Action(
        "status",
        allowed_by(Policy.SEE_AGENCY_STATUS),
        status,
        lambda w: any(
            "Casey Officer" in sent.text for sent in w.connector.sent if "E-ticket status of Williston" in sent.text
        ),
    ),
    Action(
        "audit",
        allowed_by(Policy.SEE_AUDIT),
        audit,
        lambda w: any("Audit history of A1234" in sent.text for sent in w.connector.sent),
    ),
    Action(
        "digest",
        allowed_by(Policy.SEE_DIGEST),
        digest,
        lambda w: any("Weekly e-ticket digest" in s.text and "Williston" in s.text for s in w.connector.sent),
    ),
    Action(
        "refresh",
        allowed_by(Policy.SEE_AGENCY_STATUS),
        refresh,
        lambda w: any("VT-1" in answer and "Mark resolved" in answer for answer in w.answers),
    ),
)


READ_ONLY = frozenset({"status", "audit", "digest", "refresh"})

RECORD_FIELDS = (
    "Williston Police Department",
    "7928 Williston Rd",
    "(802) 878-6611",
    "pat.poc@williston.example",
    "Pat Poc",
    "Casey",
    "cofficer",
    "VT-1",
    "Bad statute",
)
"""What agency 9000's package, officer A1234 and the open incident hold that a press does not carry itself."""


def records(world: World) -> dict[str, Any]:
    """Everything an action could change (conversation references, wizard state and audited refusals aside)."""
    store = world.app.db.store
    changed = {table: store.all(table) for table in ("packages", "officers", "incidents", "subscriptions")}
    return changed | {"audit": actions_audited(world)}


def actions_audited(world: World) -> list[dict[str, Any]]:
    """The audit entries of things done (a refused attempt may be audited too, as ``<action>.refused``)."""
    return [
        entry
        for entry in world.app.db.store.all("audit")
        if not str(entry.get("action", "")).endswith((".refused", ".denied"))
    ]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", ACTIONS, ids=[action.name for action in ACTIONS])
async def test_only_allowed_roles_change_anything(
    bot_client: Callable[..., Any], connector: FakeConnector, action: Action, role: str
) -> None:
    world = await build_world(await bot_client(), connector)
    before = records(world)
    audited = len(actions_audited(world))
    await action.perform(world, role)
    if role in action.allowed:
        assert action.happened(world), f"{role} may {action.name}, but nothing happened"
        if action.name not in READ_ONLY:
            assert len(actions_audited(world)) > audited, f"{action.name} by {role} left no audit entry"
    else:
        assert not action.happened(world)
        assert records(world) == before, f"{role} may not {action.name}, yet something changed"
        leaked = [value for value in RECORD_FIELDS for answer in world.answers if value in answer]
        assert not leaked, f"a refused {action.name} by {role} answered with the record's data: {leaked}"
