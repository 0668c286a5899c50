"""The audit log: every state change and every button press, with who, what, when, before and after."""

from __future__ import annotations

import logging
from typing import Any

from domain.records import Actor, AuditEntry, Officer
from services.context import AppContext, new_id
from services.ports import Change

logger = logging.getLogger(__name__)


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


async def audit_refusal(app: AppContext, actor: Actor, action: str, target: str) -> None:
    """Count a refused request; only the first of each person, action and hour is written to the audit log.

    A flood of forged presses therefore adds one entry an hour per person and action, and cannot bury
    ``/audit`` or grow the store; every refusal is still counted (``app.refusals``) and logged with ids.
    """
    first = app.refusals.note(actor.aad_id, action, app.now())
    logger.info("refused action=%s actor=%s target=%s audited=%s", action, actor.aad_id or "-", target, first)
    if first:
        await app.commit([audit_op(app, actor, action, target, None, {"refused": "first this hour"})])
