"""The one presenter: outcomes of use cases and notice contents in, Adaptive Cards out.

Use cases return typed outcomes with views (``services.outcomes``) and notice contents
(``services.notices``); this module is the only place that chooses which card shows them and words
what happened. It imports cards/ and no SDK, so the bot and the notifier share it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cards.alerts import incident_card
from cards.audit import audit_card
from cards.common import message_card, with_notice
from cards.digest import digest_card
from cards.package import (
    acknowledgment_card,
    edit_officer_card,
    jb_package_card,
    officers_added_card,
    package_card,
    poc_email_card,
)
from cards.readiness import (
    approval_notice_card,
    approve_confirm_card,
    extend_card,
    officer_card,
    reason_card,
    withdrawn_notice_card,
)
from cards.reminders import reminder_card
from cards.status import status_card
from domain.calendar import format_date, format_days_left, format_instant
from domain.clocks import ClockKind
from domain.digest import DigestView
from domain.records import Stamp
from domain.views import (
    ExtensionForm,
    FailedNotice,
    IncidentView,
    ListPage,
    OfficerForm,
    OfficersAddedView,
    OfficerView,
    PackageView,
    PocEmailForm,
    ReasonForm,
)
from services.notices import (
    Acknowledgment,
    ApprovalNotice,
    Content,
    Digest,
    IncidentAlert,
    Message,
    OfficerCard,
    OfficersAdded,
    PackageCopy,
    PackageForJb,
    Reminder,
    WithdrawnNotice,
)
from services.outcomes import (
    AlreadyDone,
    Done,
    FormOpened,
    Happening,
    Invalid,
    Listing,
    NeedsConfirmation,
    NotFound,
    NotPossible,
    Outcome,
    Refused,
    Shown,
)

Card = dict[str, Any]

NOTHING_CHANGED = "Nothing was changed."

NOT_FOUND: dict[str, tuple[str, str]] = {
    "officer": ("Officer not found", "This card refers to an officer who is not in any Information Package."),
    "incident": ("Incident not found", "This alert refers to an incident I have no record of."),
    "package": ("Package not found", "This Information Package is not in the bot any more."),
}


def who(stamp: Stamp, fallback: str = "JB e-ticket staff") -> str:
    """The name of whoever did a thing (a fallback when Teams gave none)."""
    return stamp.actor.name or fallback


def _days(count: int, noun: str = "business day") -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


class Presenter:
    """Draws cards in the court's time zone; ``deadline_steps`` are the days left (``ESCALATE_DAYS_LEFT``)
    from which an open alert says its answer deadline is near."""

    def __init__(self, tz: ZoneInfo, deadline_steps: tuple[int, ...] = (7, 2)) -> None:
        self._tz = tz
        self._steps = deadline_steps

    # -- outcomes: the card for the one who pressed or typed

    def card(self, outcome: Outcome) -> Card:
        """The card that shows an outcome."""
        match outcome:
            case Done(view=view) | Shown(view=view):
                return self.view_card(view)
            case Refused(who_may=text):
                return message_card("Not allowed", f"{text} {NOTHING_CHANGED}", kind="attention")
            case AlreadyDone(view=view, by=stamp, what=what):
                kind = "good" if what in (Happening.RESOLVED, Happening.VOIDED, Happening.SUPERSEDED) else "warning"
                return with_notice(self.view_card(view), self.already_text(what, stamp), kind=kind)
            case NotPossible(view=view, reason=reason):
                return with_notice(self.view_card(view), f"{reason} {NOTHING_CHANGED}")
            case NeedsConfirmation(view=view):
                return approve_confirm_card(view)
            case FormOpened(view=ReasonForm() as form):
                return reason_card(form, {}, {})
            case Invalid(view=ReasonForm() as form, values=values, errors=errors):
                return reason_card(form, values, errors)
            case FormOpened(view=OfficerForm() as form):
                return edit_officer_card(form, {}, {})
            case Invalid(view=OfficerForm() as form, values=values, errors=errors):
                return edit_officer_card(form, values, errors)
            case FormOpened(view=PocEmailForm() as form):
                return poc_email_card(form, {}, {})
            case Invalid(view=PocEmailForm() as form, values=values, errors=errors):
                return poc_email_card(form, values, errors)
            case FormOpened(view=ExtensionForm(officer=view, today=today)):
                return extend_card(view, today, {}, {})
            case Invalid(view=ExtensionForm(officer=view, today=today), values=values, errors=errors):
                return extend_card(view, today, values, errors)
            case Invalid(errors=errors):
                return message_card("Not changed", " ".join(errors.values()), kind="attention")
            case NotFound(what=what):
                title, text = NOT_FOUND.get(what, ("Not found", "This card refers to a record I have no record of."))
                return message_card(title, text)
            case Listing(page=page):
                return self.page_card(page)
        raise TypeError(f"no card for outcome {type(outcome).__name__}")

    def already_text(self, what: Happening, stamp: Stamp) -> str:
        """How a late press is told who already did it, and when."""
        when = format_instant(stamp.at, self._tz)
        match what:
            case Happening.APPROVED:
                return f"Already approved by {who(stamp)} on {when}."
            case Happening.APPROVED_SO_NOT_EXTENDED:
                return f"Already approved by {who(stamp)} on {when}: monitoring has ended, so it cannot be extended."
            case Happening.WITHDRAWN:
                return f"Already withdrawn by {who(stamp)} on {when}."
            case Happening.ACKNOWLEDGED:
                return f"Already acknowledged by {who(stamp)} on {when}."
            case Happening.RESOLVED:
                return f"Already resolved by {who(stamp, 'someone')} on {when}. {NOTHING_CHANGED}"
            case Happening.VOIDED:
                return f"Already closed: the ticket was voided ({when})."
            case Happening.SUPERSEDED:
                return f"Already closed: events that arrived later show it no longer holds ({when}). {NOTHING_CHANGED}"
        raise ValueError(what)

    def view_card(self, view: object) -> Card:
        """The card of a record as it stands (an officer's carries Approve / Extend monitoring while in monitoring)."""
        match view:
            case OfficerView():
                return officer_card(view)
            case IncidentView():
                return self.alert(view)
            case PackageView():
                return jb_package_card(view.package, view.officers, self._tz)
            case OfficersAddedView():
                return officers_added_card(view, self._tz)
            case FailedNotice():
                text = f"{view.summary} to {view.where} is queued again; /status shows it if Teams refuses it again."
                return message_card("Queued again", text, kind="good")
            case DigestView():
                return digest_card(view)
        raise TypeError(f"no card for view {type(view).__name__}")

    def package_page(self, view: PackageView, first: int) -> Card:
        """The JB's card of a package, showing its officers from ``first``."""
        return jb_package_card(view.package, view.officers, self._tz, first=first)

    def alert(self, view: IncidentView) -> Card:
        """The alert card of one incident (saying so when its answer deadline is near or past)."""
        return incident_card(
            view.incident, view.officer, view.package, view.window, self._tz, urgency=self.urgency(view)
        )

    def urgency(self, view: IncidentView) -> tuple[str, str] | None:
        """The line an open alert carries once its answer deadline (§ 1105(b)) is near or past, and its colour."""
        left = view.window.days_left
        if not view.incident.is_open or left is None or not self._steps or left > max(self._steps):
            return None
        if left < 0:
            return (
                f"Still open, and the defendant's answer deadline has passed ({format_days_left(left)}).",
                "attention",
            )
        kind = "attention" if left <= min(self._steps) else "warning"
        return (f"Still open, and the defendant's answer deadline is near ({format_days_left(left)}).", kind)

    def reminder_text(self, reminder: Reminder) -> str:
        """What a reminder says is overdue, in the SOP's words."""
        since = reminder.since
        when = format_instant(since, self._tz) if isinstance(since, datetime) else format_date(since)
        count = reminder.count
        match reminder.clock:
            case ClockKind.PACKAGE_UNACKNOWLEDGED:
                return (
                    f"Reminder: nobody has acknowledged this Information Package, submitted {when}, after "
                    f"{_days(count)}. Acknowledge tells the Point-of-Contact their officers may begin (SOP 6.3)."
                )
            case ClockKind.OFFICERS_UNACKNOWLEDGED:
                return (
                    f"Reminder: these officers, added {when}, are not acknowledged after {_days(count)}. "
                    "Acknowledge tells the Point-of-Contact (SOP 6.3)."
                )
            case ClockKind.READY_UNAPPROVED:
                return f"Reminder: ready for approval since {when}, and not approved after {_days(count)} (SOP 6.6)."
            case ClockKind.EXTENSION_ENDING if isinstance(since, date) and not isinstance(since, datetime):
                left = (since - reminder.today).days
                words = {0: "today", 1: "tomorrow"}.get(left, f"in {_days(left, 'day')}")
                return (
                    f"Reminder: extended monitoring ends {when} ({words}). Approve, or extend monitoring again "
                    "(SOP 6.6)."
                )
            case ClockKind.NO_ETICKET if isinstance(since, date) and not isinstance(since, datetime):
                ago = (reminder.today - since).days
                number = (
                    reminder.about.view.officer.officer_number
                    if isinstance(reminder.about, OfficerCard)
                    else "‹officer number›"
                )
                return (
                    f"Reminder: this officer was expected to begin e-ticketing on {when}, {_days(ago, 'day')} ago, "
                    "and no e-ticket of theirs has reached the Judicial Bureau yet (SOP 6.4). If their start moved, "
                    f"nothing is needed; if they will not issue e-tickets for your agency, type /withdraw {number}."
                )
        raise ValueError(reminder.clock)

    def page_card(self, page: ListPage) -> Card:
        """One page of /status or /audit."""
        return audit_card(page) if page.list_name == "audit" else status_card(page)

    # -- notice contents: the card a notice or a card update carries

    def content(self, content: Content) -> Card:
        """The card of a notice's content."""
        match content:
            case OfficerCard(view=view, with_actions=with_actions, tools=tools):
                return officer_card(view, with_actions=with_actions, tools=tools)
            case ApprovalNotice(view=view):
                return approval_notice_card(view)
            case WithdrawnNotice(view=view):
                return withdrawn_notice_card(view)
            case IncidentAlert(view=view):
                return self.alert(view)
            case PackageForJb(view=view):
                return jb_package_card(view.package, view.officers, self._tz)
            case OfficersAdded(view=view):
                return officers_added_card(view, self._tz)
            case Acknowledgment(package=package, by=by, rule=rule, officers=officers):
                return acknowledgment_card(package, by, self._tz, rule, officers=officers)
            case PackageCopy(view=view, title=title, intro=intro):
                return package_card(view.package, view.officers, self._tz, title=title, intro=intro)
            case Message(title=title, text=text):
                return message_card(title, text)
            case Reminder(about=about):
                return reminder_card(self.content(about), self.reminder_text(content))
            case Digest(view=view):
                return digest_card(view)
        raise TypeError(f"no card for content {type(content).__name__}")
