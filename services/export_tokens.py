"""Signed download tokens: who asked, what they may download, until when (HMAC-SHA256 with EXPORTS_SECRET).

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact JSON
``{"v": 1, "sub": <Azure AD object id>, "what": "package" | "all", "jc": <Judiciary Code>,
"fmt": "xlsx" | "csv", "exp": <unix seconds>}`` and the signature is HMAC-SHA256 of a fixed
context line followed by the payload's base64 text. Nothing in it is secret (an object id is an
id, not a name), but nothing in it can be changed without the secret. The signature is checked,
in constant time, before the payload is even decoded; then every field is checked again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.exports import ExportFormat, ExportSubject
from domain.validation import is_judiciary_code

TOKEN_LIFETIME = timedelta(minutes=10)
"""How long a download link works after the card that carries it was drawn."""

CLOCK_SKEW = timedelta(seconds=60)
"""How far beyond its lifetime an expiry may lie (replicas' clocks differ a little)."""

MAX_TOKEN_CHARS = 600
_CONTEXT = b"jb-eticket-bot export token v1\n"
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")
_SUBJECT = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class TokenRefused(Exception):
    """The token is not one the bot signed, was altered, or has expired; ``reason`` is for logs only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExportGrant:
    """What a token names: the person (Azure AD object id, lower case), what to export, and its expiry."""

    aad_id: str
    subject: ExportSubject
    format: ExportFormat
    expires: datetime
    judiciary_code: str | None = None


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()


def sign_grant(secret: str, grant: ExportGrant) -> str:
    """The token of a grant, for a link's path."""
    doc: dict[str, object] = {
        "v": 1,
        "sub": grant.aad_id,
        "what": grant.subject.value,
        "fmt": grant.format.value,
        "exp": int(grant.expires.timestamp()),
    }
    if grant.judiciary_code is not None:
        doc["jc"] = grant.judiciary_code
    payload = _b64encode(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_b64encode(_signature(secret, payload))}"


def read_grant(secret: str, token: str, now: datetime) -> ExportGrant:
    """The grant a token names, checked: signed with ``secret``, unaltered, well-formed, not expired.

    Raises ``TokenRefused`` ("malformed", "forged", "expired").
    """
    if not secret or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenRefused("malformed")
    payload, _, signature = token.partition(".")
    if not _B64.match(payload) or not _B64.match(signature):
        raise TokenRefused("malformed")
    try:
        given = _b64decode(signature)
    except (binascii.Error, ValueError):
        raise TokenRefused("malformed") from None
    if not hmac.compare_digest(given, _signature(secret, payload)):
        raise TokenRefused("forged")
    try:
        doc = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError):
        raise TokenRefused("malformed") from None
    grant = _grant_of(doc)
    moment = now.astimezone(UTC)
    if grant.expires <= moment:
        raise TokenRefused("expired")
    if grant.expires > moment + TOKEN_LIFETIME + CLOCK_SKEW:
        raise TokenRefused("malformed")  # signed, but not by the rules this bot signs with
    return grant


def _grant_of(doc: object) -> ExportGrant:
    """Every field of a signed payload, checked again (a signed token is still input)."""
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise TokenRefused("malformed")
    sub, what, fmt, exp, code = doc.get("sub"), doc.get("what"), doc.get("fmt"), doc.get("exp"), doc.get("jc")
    if not isinstance(sub, str) or not _SUBJECT.match(sub) or sub != sub.lower():
        raise TokenRefused("malformed")
    if not isinstance(exp, int) or isinstance(exp, bool) or not 0 < exp < 2**40:
        raise TokenRefused("malformed")
    try:
        subject, file_format = ExportSubject(what), ExportFormat(fmt)
    except ValueError:
        raise TokenRefused("malformed") from None
    if subject is ExportSubject.PACKAGE:
        if not isinstance(code, str) or not is_judiciary_code(code) or code != code.strip():
            raise TokenRefused("malformed")
    elif code is not None or file_format is not ExportFormat.XLSX:
        raise TokenRefused("malformed")
    return ExportGrant(
        aad_id=sub,
        subject=subject,
        format=file_format,
        expires=datetime.fromtimestamp(exp, UTC),
        judiciary_code=code if subject is ExportSubject.PACKAGE else None,
    )
