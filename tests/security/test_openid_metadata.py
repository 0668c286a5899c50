"""A hanging OpenID metadata endpoint does not freeze the bot (issue 12, finding 6).

botbuilder fetched Bot Framework's OpenID metadata and signing keys with a blocking ``requests.get`` and
no timeout on the event loop. Here the metadata server on loopback (the one ``test_bot_auth`` uses)
holds every request for 3 s: ``/healthz`` keeps answering at once, a request whose keys are already
known keeps answering at once (from the last good copy, while a fresh copy is fetched in the background),
and a token check that has no key yet waits only for the fetch timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botframework.connector.auth import JwtTokenExtractor

from bot.openid_metadata import CachedOpenIdMetadata
from settings import Settings
from tests.security.test_bot_auth import APP_ID, MetadataServer, post, silent_activity, token
from tests.support.fake_connector import FakeConnector

HANG = 3.0


@pytest.fixture
def metadata() -> Iterator[MetadataServer]:
    server = MetadataServer()
    yield server
    server.close()


@pytest.fixture
def secured(settings_for: Callable[..., Settings], metadata: MetadataServer) -> Settings:
    """Settings with an app id, validating tokens against the local metadata server."""
    return settings_for(
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-real-password",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata.url,
    )


async def timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = await call
    return time.monotonic() - started, result


async def test_healthz_answers_while_the_first_key_fetch_hangs(
    bot_client: Callable[..., Any],
    connector: FakeConnector,
    secured: Settings,
    metadata: MetadataServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CachedOpenIdMetadata, "timeout", 0.5, raising=False)
    client = await bot_client(secured)
    metadata.hang_seconds = HANG
    activity = silent_activity(connector.url)
    started = time.monotonic()  # the loop itself is the test's: a blocked loop shows in any wait here
    waiting = asyncio.create_task(post(client, activity, f"Bearer {token(activity['serviceUrl'])}"))
    while not metadata.requests:
        await asyncio.sleep(0.01)
    health = await client.get("/healthz")
    took = time.monotonic() - started
    assert health.status == 200
    assert took < 1.0, f"/healthz answered {took:.1f} s after a token check began while the metadata endpoint hung"
    took, refused = await timed(waiting)
    assert refused.status == 401, "no key to check the token against: refused, not waited for"
    assert took < HANG, f"the token check waited {took:.1f} s"


async def test_a_known_key_keeps_answering_while_the_refresh_hangs(
    bot_client: Callable[..., Any], connector: FakeConnector, secured: Settings, metadata: MetadataServer
) -> None:
    client = await bot_client(secured)
    activity = silent_activity(connector.url)
    first = await post(client, activity, f"Bearer {token(activity['serviceUrl'])}")
    assert 200 <= first.status < 300
    fetches = len(metadata.requests)

    # a day later the keys are due for a refresh, and the endpoint hangs
    cached = JwtTokenExtractor.metadataCache[metadata.url]
    cached.last_updated -= timedelta(days=2)
    metadata.hang_seconds = HANG
    took, again = await timed(post(client, activity, f"Bearer {token(activity['serviceUrl'])}"))
    assert 200 <= again.status < 300, "the last good keys still check the token"
    assert took < 1.0, f"an authenticated request took {took:.1f} s while the metadata endpoint hung"
    took, health = await timed(client.get("/healthz"))
    assert health.status == 200 and took < 1.0
    await asyncio.sleep(0.2)
    assert len(metadata.requests) == fetches + 1, "one refresh, in the background, for all the requests"

    metadata.released.set()  # the endpoint answers again: the refresh lands
    deadline = time.monotonic() + 3
    while cached.last_updated < datetime.now() - timedelta(hours=1):
        assert time.monotonic() < deadline, "the background refresh never landed"
        await asyncio.sleep(0.02)
