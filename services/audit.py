"""The audit log: every state change and every button press, with who, what, when, before and after."""

from __future__ import annotations

from typing import Any

from domain.records import Actor, AuditEntry, Officer
from services.context import AppContext, new_id
from services.ports import Change


def officer_target(officer: Officer) -> str:
    """The audit target of an officer's membership, ``officer:<judiciary code>:<officer number>``."""
    return f"officer:{officer.key}"


def audit_op(
    app: AppContext,
    actor: Actor,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Change:
    """The change that appends one audit entry (target like ``officer:9000:A1234`` or ``package:9000``)."""
    entry = AuditEntry(id=new_id(), at=app.now(), actor=actor, action=action, target=target, before=before, after=after)
    return app.db.audit.put(entry)
