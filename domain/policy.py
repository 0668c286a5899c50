"""Who may do what: one table of action × role, read by every use case and by the authorization test.

A person's role is relative to the record acted on (an agency's package): JB e-ticket staff
(``JB_STAFF_IDS``), that agency's Point-of-Contact, the Point-of-Contact of another agency, a member
of the JB channel (court operations staff and DPS read there), or someone unknown to the procedure.
The SOP gives the JB its decisions (acknowledge [6.3], approve and extend [6.6], hand over the PoC
role) and the agency its own package, subscriptions and incidents [6.1, 6.5].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.records import Actor, Package


class Role(str, Enum):
    """Who a person is with respect to one agency's records."""

    JB_STAFF = "jb_staff"
    AGENCY_POC = "agency_poc"
    OTHER_POC = "other_poc"
    CHANNEL_MEMBER = "channel_member"
    UNKNOWN = "unknown"


class Action(str, Enum):
    """Everything a person can ask of the bot that the policy decides."""

    ACKNOWLEDGE = "package.acknowledge"
    APPROVE = "officer.approve"
    EXTEND = "officer.extend"
    WITHDRAW = "officer.withdraw"
    RESOLVE = "incident.resolve"
    ADD_OFFICER = "package.add_officer"
    SEE_PACKAGE = "package.see"
    EXPORT_PACKAGE = "package.export"
    EXPORT_ALL = "export.all"
    SUBSCRIBE_AGENCY = "subscription.agency"
    SUBSCRIBE_JB = "subscription.jb"
    SET_POC = "package.set_poc"
    SEE_AUDIT = "audit.see"
    SEE_ALL_STATUS = "status.all"
    SEE_AGENCY_STATUS = "status.agency"
    RETURN_TO_MONITORING = "officer.return_to_monitoring"
    END_EXTENSION = "officer.end_extension"
    RESEND = "notice.resend"
    EDIT_OFFICER = "officer.edit"
    SEE_DIGEST = "digest.see"


_JB = frozenset({Role.JB_STAFF})
_AGENCY = frozenset({Role.JB_STAFF, Role.AGENCY_POC})

POLICY: dict[Action, frozenset[Role]] = {
    Action.ACKNOWLEDGE: _JB,
    Action.APPROVE: _JB,
    Action.EXTEND: _JB,
    Action.SET_POC: _JB,
    Action.SUBSCRIBE_JB: _JB,
    Action.SEE_AUDIT: _JB,
    Action.RETURN_TO_MONITORING: _JB,
    Action.END_EXTENSION: _JB,
    Action.RESEND: _JB,
    Action.EDIT_OFFICER: _AGENCY,
    Action.WITHDRAW: _AGENCY,
    Action.RESOLVE: _AGENCY,
    Action.ADD_OFFICER: _AGENCY,
    Action.SEE_PACKAGE: _AGENCY | {Role.CHANNEL_MEMBER},
    Action.EXPORT_PACKAGE: _AGENCY,
    Action.EXPORT_ALL: _JB,
    Action.SUBSCRIBE_AGENCY: _AGENCY,
    Action.SEE_AGENCY_STATUS: _AGENCY | {Role.CHANNEL_MEMBER},
    Action.SEE_ALL_STATUS: frozenset({Role.JB_STAFF, Role.CHANNEL_MEMBER}),
    Action.SEE_DIGEST: _AGENCY | {Role.CHANNEL_MEMBER},
}
"""The roles allowed each action; an action missing here is allowed to nobody."""

WHO_MAY: dict[Action, str] = {
    Action.ACKNOWLEDGE: "Only JB e-ticket staff may acknowledge an Information Package.",
    Action.APPROVE: "Only JB e-ticket staff may approve an officer.",
    Action.EXTEND: "Only JB e-ticket staff may extend monitoring.",
    Action.SET_POC: "Only JB e-ticket staff can hand over the Point-of-Contact role.",
    Action.SUBSCRIBE_JB: "Only JB e-ticket staff can mark the JB channel.",
    Action.SEE_AUDIT: "Only JB e-ticket staff can see an officer's audit history.",
    Action.WITHDRAW: "Only the agency's Point-of-Contact or JB e-ticket staff may withdraw an officer.",
    Action.RESOLVE: "Only the agency's Point-of-Contact or JB e-ticket staff can mark this resolved.",
    Action.ADD_OFFICER: "Only the agency's Point-of-Contact or JB e-ticket staff can add officers to its package.",
    Action.SEE_PACKAGE: "Only the agency's Point-of-Contact, JB e-ticket staff and the JB channel can see its package.",
    Action.EXPORT_PACKAGE: "Only the agency's Point-of-Contact and JB e-ticket staff can download its Information Package.",
    Action.EXPORT_ALL: "Only JB e-ticket staff can export every agency's records and the audit log.",
    Action.SUBSCRIBE_AGENCY: "Only the Point-of-Contact of this agency or JB e-ticket staff can route its alerts.",
    Action.SEE_AGENCY_STATUS: "You can see the status of your own agencies only.",
    Action.SEE_ALL_STATUS: "Only JB e-ticket staff and the JB channel see every agency's status.",
    Action.RETURN_TO_MONITORING: "Only JB e-ticket staff may return an approved officer to monitoring.",
    Action.END_EXTENSION: "Only JB e-ticket staff may end an extension of monitoring.",
    Action.RESEND: "Only JB e-ticket staff may send a failed notice again.",
    Action.EDIT_OFFICER: "Only the agency's Point-of-Contact or JB e-ticket staff may correct an officer's details.",
    Action.SEE_DIGEST: "Only JB e-ticket staff, the JB channel and an agency's own Point-of-Contact can see its digest.",
}
"""What a refused person is told: who may do it (never anything about the record)."""


@dataclass(frozen=True)
class Requester:
    """Who asks, as the edge knows them: the person, whether they are JB staff, and where they ask from.

    ``in_jb_channel``: the request comes from the conversation marked with ``/subscribe jb``.
    """

    actor: Actor
    is_staff: bool
    in_jb_channel: bool = False

    @property
    def aad_id(self) -> str:
        """The person's Azure AD object id, lower case (empty when Teams gave none)."""
        return self.actor.aad_id.lower()


def role_of(requester: Requester, package: Package | None = None, *, poc_elsewhere: bool = False) -> Role:
    """The person's role toward ``package`` (None: an action on no agency in particular).

    ``poc_elsewhere``: the person is the Point-of-Contact of some other agency.
    """
    if requester.is_staff:
        return Role.JB_STAFF
    if package is not None and requester.aad_id and package.poc.aad_id == requester.aad_id:
        return Role.AGENCY_POC
    if requester.in_jb_channel:
        return Role.CHANNEL_MEMBER
    if poc_elsewhere:
        return Role.OTHER_POC
    return Role.UNKNOWN


def may(action: Action, role: Role) -> bool:
    """Whether ``role`` may do ``action``."""
    return role in POLICY.get(action, frozenset())


def who_may(action: Action) -> str:
    """The sentence a refused person reads."""
    return WHO_MAY[action]
