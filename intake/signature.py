"""HMAC-SHA256 signatures of ticket-event request bodies (header ``X-Signature-256``)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature-256"
"""The request header that carries the body's signature."""

_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` value for ``body``: ``sha256=<lower-case hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{_PREFIX}{digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` under ``secret`` (hex in any case)."""
    if not secret or header is None:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        return False
    try:
        given = value[len(_PREFIX) :].lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign(secret, body)[len(_PREFIX) :].encode("ascii")
    return hmac.compare_digest(expected, given)
