"""What a use case tells its caller: one small family of typed outcomes, as plain data.

The edge (the bot, the intake API) turns an outcome into what a person sees; the presenter draws
cards from the views outcomes carry. A refusal carries no record data at all: it says only who may
act, so a forged or mistaken press learns nothing about the record it named.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from domain.records import Incident, Stamp
from domain.views import ListPage, OfficerView

V = TypeVar("V")


class Happening(str, Enum):
    """What had already happened when a press came too late (the presenter words each)."""

    APPROVED = "approved"
    APPROVED_SO_NOT_EXTENDED = "approved_so_not_extended"
    WITHDRAWN = "withdrawn"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    VOIDED = "voided"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Done(Generic[V]):
    """The change was made and is durable; ``view`` is the record as it now stands."""

    view: V


@dataclass(frozen=True)
class Refused:
    """The person may not do this; ``who_may`` says who may (from the policy table). Nothing changed."""

    who_may: str


@dataclass(frozen=True)
class AlreadyDone(Generic[V]):
    """Someone already did it: who and when, and the record as it stands. Nothing changed."""

    view: V
    by: Stamp
    what: Happening


@dataclass(frozen=True)
class NotPossible(Generic[V]):
    """The record's state rules the action out (e.g. approving a withdrawn officer). Nothing changed."""

    view: V
    reason: str


@dataclass(frozen=True)
class NeedsConfirmation:
    """Approving an officer who is not ready: the missing conditions must be confirmed first."""

    view: OfficerView


@dataclass(frozen=True)
class Invalid(Generic[V]):
    """Values were refused; ``errors`` maps each field id to a plain message. Nothing changed."""

    errors: Mapping[str, str]
    view: V | None = None
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FormOpened(Generic[V]):
    """A form to fill in before anything changes (e.g. the extension's date and reason)."""

    view: V
    form: str


@dataclass(frozen=True)
class Shown(Generic[V]):
    """Nothing changed; the record as it stands (Cancel, a look at one officer)."""

    view: V


@dataclass(frozen=True)
class NotFound:
    """The record named is not in the bot (``what``: "officer", "incident", "package"; ``key`` as asked)."""

    what: str
    key: str = ""


@dataclass(frozen=True)
class Listing:
    """One page of a list (/status, /audit)."""

    page: ListPage


@dataclass(frozen=True)
class Officers:
    """Officer memberships to show one card each (``/status A1234``)."""

    views: tuple[OfficerView, ...]


@dataclass(frozen=True)
class EventResult:
    """What became of one ticket event of a request: recorded or a duplicate, and the incidents it raised."""

    event_id: str
    status: str  # "recorded" | "duplicate"
    incidents: tuple[Incident, ...] = ()


@dataclass(frozen=True)
class EventsRecorded:
    """A request's ticket events were recorded (or were duplicates), one result each, in order."""

    results: tuple[EventResult, ...]

    def __iter__(self) -> Iterator[EventResult]:
        """The results, in the request's order."""
        return iter(self.results)


@dataclass(frozen=True)
class EventConflict:
    """The event at ``index`` reuses a recorded ``event_id`` with another payload: nothing of the request was recorded."""

    index: int
    event_id: str


Outcome = (
    Done[object]
    | Refused
    | AlreadyDone[object]
    | NotPossible[object]
    | NeedsConfirmation
    | Invalid[object]
    | FormOpened[object]
    | Shown[object]
    | NotFound
    | Listing
    | Officers
)
"""Every outcome a use case returns."""
