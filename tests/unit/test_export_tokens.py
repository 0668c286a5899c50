"""Download tokens: what the bot signed reads back; anything forged, altered or expired is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.exports import ExportFormat, ExportSubject
from services.export_tokens import (
    TOKEN_LIFETIME,
    ExportGrant,
    TokenRefused,
    _b64encode,
    _signature,
    read_grant,
    sign_grant,
)
from tests.support.factories import POC_AAD

SECRET = "exports-secret-0123456789"
NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)


def grant(**changes: object) -> ExportGrant:
    values: dict[str, object] = {
        "aad_id": POC_AAD,
        "subject": ExportSubject.PACKAGE,
        "format": ExportFormat.XLSX,
        "expires": NOW + TOKEN_LIFETIME,
        "judiciary_code": "0123",
    } | changes
    return ExportGrant(**values)  # type: ignore[arg-type]


def refused(token: str, *, secret: str = SECRET, now: datetime = NOW) -> str:
    with pytest.raises(TokenRefused) as caught:
        read_grant(secret, token, now)
    return caught.value.reason


def payload_of(token: str) -> dict[str, object]:
    part = token.split(".", maxsplit=1)[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def resign(doc: dict[str, object], secret: str = SECRET) -> str:
    """A token with this payload, correctly signed (as if the bot itself had signed it)."""
    raw = base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()
    return f"{raw}.{_b64encode(_signature(secret, raw))}"


def test_a_signed_token_names_the_person_what_and_until_when() -> None:
    token = sign_grant(SECRET, grant())
    assert read_grant(SECRET, token, NOW + TOKEN_LIFETIME - timedelta(seconds=1)) == grant()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert payload_of(token) == {
        "v": 1,
        "sub": POC_AAD,
        "what": "package",
        "jc": "0123",
        "fmt": "xlsx",
        "exp": int((NOW + TOKEN_LIFETIME).timestamp()),
    }
    everything = grant(subject=ExportSubject.ALL, judiciary_code=None)
    assert read_grant(SECRET, sign_grant(SECRET, everything), NOW) == everything


def test_it_expires_after_ten_minutes() -> None:
    token = sign_grant(SECRET, grant())
    assert refused(token, now=NOW + TOKEN_LIFETIME) == "expired"
    assert refused(token, now=NOW + timedelta(days=1)) == "expired"


def test_another_secret_or_any_changed_character_is_a_forgery() -> None:
    token = sign_grant(SECRET, grant())
    assert refused(token, secret="another-secret-0123456789") == "forged"
    payload, signature = token.split(".")
    doc = payload_of(token) | {"jc": "9100"}  # another agency's package, signature kept
    other = base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()
    assert refused(f"{other}.{signature}") == "forged"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert refused(f"{payload}.{flipped}") == "forged"


@pytest.mark.parametrize(
    "token",
    ["", ".", "abc", "a.b.c", "a b.c", "%%%.%%%", "x" * 700, "eyJ2IjoxfQ.?"],
)
def test_garbage_is_refused_without_a_crash(token: str) -> None:
    assert refused(token) in {"malformed", "forged"}


def test_no_secret_refuses_everything() -> None:
    assert refused(sign_grant(SECRET, grant()), secret="") == "malformed"


@pytest.mark.parametrize(
    "changes",
    [
        {"v": 2},
        {"sub": "Pat Poc"},  # a name is not an object id
        {"sub": "AbCd-1234"},  # object ids are stored lower case
        {"what": "officers"},
        {"fmt": "pdf"},
        {"jc": "900"},
        {"jc": 9000},
        {"exp": "soon"},
        {"exp": True},
        {"exp": int((NOW + timedelta(days=30)).timestamp())},  # longer than the bot ever signs
        {"what": "all"},  # "all" names no agency
    ],
)
def test_a_signed_payload_is_still_checked_field_by_field(changes: dict[str, object]) -> None:
    doc = payload_of(sign_grant(SECRET, grant())) | changes
    assert refused(resign(doc)) == "malformed"
