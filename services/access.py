"""The policy table applied to a request: who the requester is toward a record, and whether they may act."""

from __future__ import annotations

from domain.policy import Action, Requester, Role, may, role_of
from domain.records import Package
from services.context import AppContext


def role(app: AppContext, requester: Requester, package: Package | None = None) -> Role:
    """The requester's role toward ``package`` (None: no agency in particular)."""
    if requester.is_staff or not requester.aad_id:
        return role_of(requester, package)
    own = app.db.packages.for_poc(requester.aad_id)
    elsewhere = any(package is None or other.judiciary_code != package.judiciary_code for other in own)
    return role_of(requester, package, poc_elsewhere=elsewhere)


def allowed(app: AppContext, requester: Requester, action: Action, package: Package | None = None) -> bool:
    """Whether the policy table lets the requester do ``action`` on ``package``'s records."""
    return may(action, role(app, requester, package))
