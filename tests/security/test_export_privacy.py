"""Privacy of the spreadsheets (issue 17): downloads and the roster import log ids and reasons, never names,
usernames, e-mail addresses, or the download tokens themselves (a token in a log is a working link)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from exports.roster_import import EXIT_OK, EXIT_PROBLEMS, run
from settings import Settings
from tests.http.test_exports import EXPORTS_SECRET, exports_settings, open_url_actions, say
from tests.support.factories import JB_AAD
from tests.support.fake_connector import FakeConnector
from tests.support.rosters import officer_row, xlsx

LOGGERS = ("jb_eticket_bot", "app", "bot", "services", "storage", "exports", "sheets", "domain", "presentation")
NAME, LAST, USERNAME, EMAIL = "Wilhelmina", "Featherstonehaugh", "wfeatherstone", "w.feather@essex-pd.example"


@pytest.fixture
def access_log_off() -> Iterator[None]:
    """As app.py runs the bot: aiohttp's access log (request lines, the token in the path) stays off."""
    access = logging.getLogger("aiohttp.access")
    previous = access.level
    access.setLevel(logging.WARNING)
    yield
    access.setLevel(previous)


def roster() -> bytes:
    row = officer_row("Q4821", NAME, LAST, **{"DPS Network Username": USERNAME, "PoC E-mail": EMAIL, "PoC Name": NAME})
    return xlsx([row, row | {"Officer Number": "Q482"}])  # the second row is bad: its number is short


async def test_downloads_and_the_import_log_no_personal_data_and_no_tokens(
    tmp_path: Path,
    bot_client: Callable[..., Any],
    connector: FakeConnector,
    settings_for: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    access_log_off: None,
) -> None:
    caplog.set_level(logging.INFO)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    settings = exports_settings(settings_for)
    path = tmp_path / "roster.xlsx"
    path.write_bytes(roster())
    out = io.StringIO()
    assert await run(settings, path, dry_run=False, out=out) == EXIT_PROBLEMS
    path.write_bytes(
        xlsx(
            [
                officer_row(
                    "Q4821", NAME, LAST, **{"DPS Network Username": USERNAME, "PoC E-mail": EMAIL, "PoC Name": NAME}
                )
            ]
        )
    )
    assert await run(settings, path, dry_run=False, out=io.StringIO()) == EXIT_OK

    client = await bot_client(settings)
    tokens = []
    for user, text in ((JB_AAD, "/package 9000"), (JB_AAD, "/status")):
        links = open_url_actions(await say(client, connector, text, user=user, name=NAME))
        for url in links.values():
            tokens.append(urlparse(url).path.rsplit("/", 1)[-1])
            assert (await client.get(urlparse(url).path)).status == 200
    assert len(tokens) == 3
    assert (await client.get(f"/api/exports/{tokens[0][:-4]}AAAA")).status == 403

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "export downloaded what=package judiciary_code=9000 format=xlsx" in logged
    assert "export link refused reason=forged" in logged
    for secret in (NAME, LAST, USERNAME, EMAIL, EXPORTS_SECRET, *tokens):
        assert secret not in logged, secret
