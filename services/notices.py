"""Notices as data: who a use case wants told, what about, and which copies of a card must change.

A use case returns these beside its own changes; the notifier (``presentation.notifier``) turns
them into outbox entries committed in the same atomic write, so a notice is never lost and never
sent for a change that was not kept. Nothing here knows of cards, Teams or conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.clocks import ClockKind
from domain.digest import DigestView
from domain.records import Officer, Package, Stamp
from domain.views import IncidentView, OfficersAddedView, OfficerView, PackageView, ReadinessRule


@dataclass(frozen=True)
class Audience:
    """Someone the bot owes a notice: the JB, an agency's channel, or one person."""

    kind: str  # "jb" | "agency" | "person"
    key: str = ""

    @classmethod
    def jb(cls) -> Audience:
        """The JB e-ticket staff: the JB channel, or each staff member's 1:1 chat until it exists."""
        return cls("jb")

    @classmethod
    def agency(cls, judiciary_code: str) -> Audience:
        """An agency's subscribed channel."""
        return cls("agency", judiciary_code)

    @classmethod
    def person(cls, aad_id: str) -> Audience:
        """One person's 1:1 chat."""
        return cls("person", aad_id.lower())


# ---- what a notice is about (the presenter draws each as a card) -------------------------------------


@dataclass(frozen=True)
class OfficerCard:
    """An officer's readiness card as it stands (with Approve / Extend monitoring while in monitoring)."""

    view: OfficerView
    with_actions: bool = True
    tools: bool = False  # JB staff's own copy: Return to monitoring, End extension


@dataclass(frozen=True)
class ApprovalNotice:
    """The PoC is told an officer is approved (SOP 6.6)."""

    view: OfficerView


@dataclass(frozen=True)
class WithdrawnNotice:
    """An officer was withdrawn from an agency's package."""

    view: OfficerView


@dataclass(frozen=True)
class IncidentAlert:
    """The alert of one incident, open (Mark resolved) or closed (who and when)."""

    view: IncidentView


@dataclass(frozen=True)
class PackageForJb:
    """A submitted Information Package as the JB sees it, with Acknowledge until acknowledged."""

    view: PackageView


@dataclass(frozen=True)
class OfficersAdded:
    """Officers added to an existing package, for the JB, with Acknowledge until acknowledged (SOP 6.3)."""

    view: OfficersAddedView


@dataclass(frozen=True)
class Acknowledgment:
    """The PoC is told the JB acknowledged the package (SOP 6.3), with the readiness rule the bot applies."""

    package: Package
    by: Stamp
    rule: ReadinessRule
    officers: tuple[Officer, ...] = ()  # officers added later and acknowledged now; empty: the whole package


@dataclass(frozen=True)
class PackageCopy:
    """The package like Chart 1, with a title and an opening sentence (the PoC's digital copy)."""

    view: PackageView
    title: str
    intro: str


@dataclass(frozen=True)
class Message:
    """A short titled message."""

    title: str
    text: str


@dataclass(frozen=True)
class Reminder:
    """One of the SOP's clocks ran out: a line saying what is overdue, over the card it is about.

    ``since`` is when the clock started (submitted, added, became ready) or the date it is about (the
    extension's last day, the expected start date); ``count`` is the setting's threshold; ``today`` is
    the court date it was drawn on.
    """

    about: Content
    clock: ClockKind
    since: datetime | date
    count: int
    today: date


@dataclass(frozen=True)
class Digest:
    """The weekly digest of the programme, or of one agency (also shown by ``/digest``)."""

    view: DigestView


Content = (
    OfficerCard
    | ApprovalNotice
    | WithdrawnNotice
    | IncidentAlert
    | PackageForJb
    | OfficersAdded
    | Acknowledgment
    | PackageCopy
    | Message
    | Reminder
    | Digest
)
"""Everything a notice or a card update can be about."""


@dataclass(frozen=True)
class Notice:
    """A new message to each distinct conversation of the audiences; ``subject`` ties its copies together.

    ``thread_of``: in a channel, the message is a reply in the thread of the delivered card about that
    subject (e.g. an escalation under its alert); elsewhere, or before that card is delivered, a new message.
    """

    audiences: tuple[Audience, ...]
    content: Content
    summary: str
    subject: str | None = None
    thread_of: str | None = None


@dataclass(frozen=True)
class CopiesUpdate:
    """Every copy of the card about ``subject`` (queued or delivered) shows ``content`` from now on."""

    subject: str
    content: Content


# ---- subjects: what ties the copies of one card together ---------------------------------------------


def readiness_subject(officer_key: str) -> str:
    """The copies of one officer's readiness card."""
    return f"readiness:{officer_key}"


def incident_subject(incident_id: str) -> str:
    """The copies of one incident's alert."""
    return f"incident:{incident_id}"


def added_subject(judiciary_code: str, numbers: tuple[str, ...]) -> str:
    """The copies of the JB's card of one batch of officers added to a package."""
    return f"officers-added:{judiciary_code}:{','.join(sorted(numbers))}"


def package_subject(judiciary_code: str) -> str:
    """The copies of the JB's card of one package."""
    return f"package:{judiciary_code}"
