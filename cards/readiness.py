"""Officer cards of the approval step (SOP 6.6): ready for approval, Approve / Extend monitoring, the
approval notice to the PoC, and withdrawing an officer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import ActionStyle, AssociatedInputs, FontSize, FontWeight, Spacing

from cards.base import (
    execute,
    facts,
    field_error,
    heading,
    notice,
    paragraph,
    render,
    set_date_minimum,
    with_refresh,
)
from domain.calendar import format_date, format_instant
from domain.readiness import ConditionKey, Readiness
from domain.records import Officer, OfficerState, Package
from domain.validation import REASON_MAX
from domain.views import OfficerView, ReasonForm, agency_name
from vocabulary.verbs import Verb

SOP_LINE = "JB e-ticket approval (SOP 6.6)"


def officer_ids(officer: Officer) -> dict[str, str]:
    """The record's ids carried in a button's data."""
    return {"judiciary_code": officer.judiciary_code, "officer_number": officer.officer_number}


def officer_text(officer: Officer) -> str:
    """ "Casey Officer (A1234)"."""
    return f"{officer.full_name} ({officer.officer_number})"


def agency_text(officer: Officer, package: Package | None) -> str:
    """ "Williston Police Department (9000)"."""
    return agency_name(package, officer.judiciary_code)


def _date_or_dash(value: date | None) -> str:
    return format_date(value) if value is not None else "—"


def _incidents_text(view: OfficerView) -> str:
    open_count = view.readiness.open_incidents
    closed = view.incidents_total - open_count
    head = "none open" if open_count == 0 else f"{open_count} open"
    return head if closed == 0 else f"{head} ({closed} resolved or voided)"


def _facts(view: OfficerView) -> Any:
    readiness = view.readiness
    pairs = [
        ("Officer", officer_text(view.officer)),
        ("Agency", agency_text(view.officer, view.package)),
        ("Accepted e-tickets", str(readiness.accepted_count)),
        ("First accepted issued", _date_or_dash(readiness.first_accepted_issued)),
        ("Latest issued", _date_or_dash(readiness.latest_issued)),
        ("Incidents", _incidents_text(view)),
    ]
    if readiness.issued_before_start:
        pairs.append(("Issued before the start date", str(readiness.issued_before_start)))
    return facts(pairs)


def early_issue_text(view: OfficerView) -> str | None:
    """The flag of e-tickets issued before the officer's expected start date (they count; SOP 6.1 item 2.d), or None."""
    count = view.readiness.issued_before_start
    if not count:
        return None
    what = "1 e-ticket was" if count == 1 else f"{count} e-tickets were"
    return (
        f"{what} issued before the expected start date, {format_date(view.officer.start_date)}: "
        f"{'it counts' if count == 1 else 'they count'} toward approval, but check with the Point-of-Contact."
    )


def _title(view: OfficerView) -> str:
    officer = view.officer
    if officer.state is OfficerState.APPROVED:
        return "Officer approved to issue e-tickets"
    if officer.state is OfficerState.WITHDRAWN:
        return "Officer withdrawn"
    if view.readiness.ready:
        return "Ready for approval"
    return "In monitoring: not ready for approval"


def _missing_list(readiness: Readiness) -> list[Any]:
    return [paragraph(f"- {text}", spacing=Spacing.NONE) for text in readiness.missing if text]


def _state_lines(view: OfficerView) -> list[Any]:
    officer, tz = view.officer, view.tz
    lines: list[Any] = []
    if officer.state is OfficerState.APPROVED and officer.approved is not None:
        who = officer.approved.actor.name or "JB e-ticket staff"
        lines.append(
            notice(
                f"Approved by {who} on {format_instant(officer.approved.at, tz)}. "
                f"Approval date: {_date_or_dash(officer.approval_date)}.",
                kind="good",
            )
        )
        return lines
    if officer.state is OfficerState.WITHDRAWN and officer.withdrawn is not None:
        who = officer.withdrawn.actor.name or "the Point-of-Contact"
        lines.append(notice(f"Withdrawn by {who} on {format_instant(officer.withdrawn.at, tz)}.", kind="warning"))
        return lines
    early = early_issue_text(view)
    if early is not None:
        lines.append(notice(early, kind="warning"))
    extension = officer.extension
    if extension is not None:
        who = extension.granted.actor.name or "JB e-ticket staff"
        running = not view.readiness.condition(ConditionKey.EXTENSION).met
        text = (
            f"Monitoring extended by {who} on {format_instant(extension.granted.at, tz)} through "
            f"{format_date(extension.until)}" + ("." if running else " (ended).")
        )
        lines.append(notice(text, kind="warning") if running else paragraph(text, is_subtle=True))
        lines.append(paragraph(f"Reason: {extension.reason}", spacing=Spacing.NONE, is_subtle=not running))
    if view.readiness.ready:
        held = [c.text for c in view.readiness.conditions if c.key is not ConditionKey.STATE]
        lines.append(paragraph("Every condition of readiness holds: " + "; ".join(held) + ".", is_subtle=True))
    else:
        lines.append(paragraph("Not yet met:", weight=FontWeight.BOLDER))
        lines += _missing_list(view.readiness)
    return lines


def _officer_actions(view: OfficerView) -> list[Any]:
    if view.officer.state is not OfficerState.MONITORING:
        return []
    ids = officer_ids(view.officer)
    return [
        execute("Approve", Verb.APPROVE.value, ids, style=ActionStyle.POSITIVE),
        execute("Extend monitoring", Verb.EXTEND.value, ids),
    ]


def staff_tools(view: OfficerView) -> list[Any]:
    """What JB staff can also undo on their own copy (``/status <officer number>``): approval, an extension."""
    ids = officer_ids(view.officer)
    if view.officer.state is OfficerState.APPROVED:
        return [execute("Return to monitoring", Verb.RETURN_TO_MONITORING.value, ids)]
    if view.officer.state is OfficerState.MONITORING and not view.readiness.condition(ConditionKey.EXTENSION).met:
        return [execute("End extension", Verb.END_EXTENSION.value, ids)]
    return []


def officer_card(view: OfficerView, *, with_actions: bool = True, tools: bool = False) -> dict[str, Any]:
    """The readiness card of one officer: who, the e-tickets so far, where they stand; Approve and Extend monitoring.

    ``tools``: JB staff's own copy also carries Return to monitoring or End extension. While the officer is
    in monitoring the card carries a Universal Actions refresh (readiness moves with the days), which
    answers with the same card, with the buttons this copy has.
    """
    body: list[Any] = [*heading(_title(view), subtle=SOP_LINE), _facts(view), *_state_lines(view)]
    actions = _officer_actions(view) if with_actions else []
    card = render(body, actions + (staff_tools(view) if tools else []))
    if view.officer.state is OfficerState.MONITORING:
        data = officer_ids(view.officer) | {"card": "readiness", "actions": with_actions}
        card = with_refresh(card, Verb.REFRESH.value, data | ({"tools": True} if tools else {}))
    return card


def approve_confirm_card(view: OfficerView) -> dict[str, Any]:
    """Approving an officer who is not ready: what is missing, and a confirm."""
    ids = officer_ids(view.officer)
    body: list[Any] = [
        *heading("Approve although not ready?", subtle=SOP_LINE),
        _facts(view),
        notice(f"{view.officer.full_name} is not ready for approval. Not yet met:", kind="warning"),
        *_missing_list(view.readiness),
        paragraph(
            "You may still approve (SOP 6.6 leaves it to the JB). Approve records today as the approval date "
            "and tells the agency's Point-of-Contact.",
            is_subtle=True,
        ),
    ]
    actions = [
        execute("Approve", Verb.APPROVE_CONFIRM.value, ids, style=ActionStyle.DESTRUCTIVE),
        execute("Cancel", Verb.CANCEL.value, ids | {"cancel": "officer"}, associated_inputs=AssociatedInputs.NONE),
    ]
    return render(body, actions)


def reason_input(reason: object, *, placeholder: str | None = None) -> Any:
    """The required Reason box of a step JB staff take (extend, return to monitoring, end extension, send again)."""
    return ac.InputText(
        id="reason",
        label="Reason",
        is_required=True,
        is_multiline=True,
        max_length=REASON_MAX,
        error_message=f"Give a reason (at most {REASON_MAX} characters).",
        placeholder=placeholder,
        value=reason if isinstance(reason, str) and reason else None,
    )


def extend_card(
    view: OfficerView, today: date, values: Mapping[str, object], errors: Mapping[str, str]
) -> dict[str, Any]:
    """Extend monitoring: the officer's card with a date and a reason to fill in; wrong values come back beside the field."""
    until = values.get("until")
    reason = values.get("reason")
    ids = officer_ids(view.officer)
    body: list[Any] = [
        *heading("Extend monitoring", subtle=SOP_LINE),
        _facts(view),
        *_state_lines(view),
        ac.InputDate(
            id="until",
            label="Extend monitoring until",
            is_required=True,
            error_message=f"Choose a date: today ({format_date(today)}) or later.",
            value=until if isinstance(until, str) and until else None,
        ),
        *field_error(errors, "until"),
        paragraph(
            "Monitoring continues through the end of this date; after it, the officer can become ready again.",
            is_subtle=True,
            spacing=Spacing.NONE,
            size=FontSize.SMALL,
        ),
        reason_input(reason, placeholder="e.g. two of the last e-tickets needed corrections"),
        *field_error(errors, "reason"),
        *field_error(errors, "form"),
    ]
    actions = [
        execute(
            "Submit", Verb.EXTEND_SUBMIT.value, ids, style=ActionStyle.POSITIVE, associated_inputs=AssociatedInputs.AUTO
        ),
        execute("Cancel", Verb.CANCEL.value, ids | {"cancel": "officer"}, associated_inputs=AssociatedInputs.NONE),
    ]
    card = render(body, actions)
    set_date_minimum(card, "until", today)
    return card


def _approval_words(view: OfficerView, agency: str) -> list[Any]:
    """SOP 6.6's notice when every condition held; when JB staff approved anyway, what was missing or open."""
    officer = view.officer
    authorized = (
        f"{officer.full_name} is fully authorized to submit Vermont Civil Violation Complaints electronically and "
        "may issue e-tickets as part of normal operations (SOP 6.7)."
    )
    gaps = [c.text for c in view.readiness.conditions if not c.met and c.key is not ConditionKey.STATE]
    if not gaps:
        return [
            paragraph(
                f"The Judicial Bureau has received all of the most recently submitted e-tickets from "
                f"{officer_text(officer)} of {agency}. We no longer need to confirm receipt of their e-tickets: "
                + authorized
            )
        ]
    return [
        paragraph(
            f"JB e-ticket staff approved {officer_text(officer)} of {agency} although not every condition of "
            "monitoring was met when they did (SOP 6.6 leaves that decision to the JB). At approval:"
        ),
        *[paragraph(f"- {text}", spacing=Spacing.NONE) for text in gaps],
        paragraph(f"We no longer need to confirm receipt of their e-tickets: {authorized}"),
    ]


def approval_notice_card(view: OfficerView) -> dict[str, Any]:
    """The PoC's approval notice (SOP 6.6), in the bot's words."""
    officer = view.officer
    agency = view.package.agency.agency_name if view.package else agency_name(None, officer.judiciary_code)
    body: list[Any] = [
        *heading(f"{officer.full_name} is approved to issue e-tickets", subtle="From the Judicial Bureau (SOP 6.6)"),
        *_approval_words(view, agency),
        paragraph(
            "From this date onward, the Judicial Bureau will notify you of any of their e-tickets that is rejected or "
            "aberrant, for further resolution."
        ),
        facts(
            [
                ("Officer", officer_text(officer)),
                ("Agency", agency_text(officer, view.package)),
                ("Approval date", _date_or_dash(officer.approval_date)),
                ("Approved by", (officer.approved.actor.name if officer.approved else "") or "JB e-ticket staff"),
            ]
        ),
        paragraph(
            "The approval date is recorded in your Information Package: type /package to see it.", is_subtle=True
        ),
    ]
    return render(body)


def withdraw_confirm_card(officer: Officer, package: Package | None) -> dict[str, Any]:
    """Confirm withdrawing one officer from one agency's package."""
    ids = officer_ids(officer)
    body: list[Any] = [
        *heading("Withdraw this officer?", subtle="Information Package"),
        facts(
            [
                ("Officer", officer_text(officer)),
                ("Agency", agency_text(officer, package)),
                ("Now", _state_word(officer)),
            ]
        ),
        paragraph(
            "A withdrawn officer is no longer in the package: their e-tickets will raise an "
            '"unknown officer" alert to the JB. They can be added again later with /add-officer.'
        ),
    ]
    actions = [
        execute("Withdraw", Verb.WITHDRAW_CONFIRM.value, ids, style=ActionStyle.DESTRUCTIVE),
        execute("Cancel", Verb.CANCEL.value, ids | {"cancel": "withdraw"}, associated_inputs=AssociatedInputs.NONE),
    ]
    return render(body, actions)


def withdraw_choice_card(choices: Sequence[tuple[Officer, Package | None]]) -> dict[str, Any]:
    """The officer number is in several of the person's agencies: which membership to withdraw."""
    first = choices[0][0]
    body: list[Any] = [
        *heading(f"Withdraw {first.officer_number} from which agency?", subtle="Information Package"),
        paragraph(
            f"Officer number {first.officer_number} is in {len(choices)} of your agencies' packages; approval and "
            "withdrawal are per agency. Choose the one to withdraw the officer from; the others stay as they are."
        ),
        facts(
            [
                (agency_text(officer, package), f"{officer.full_name}, {_state_word(officer)}")
                for officer, package in choices
            ]
        ),
    ]
    actions = [
        execute(
            f"Withdraw from {officer.judiciary_code}",
            Verb.WITHDRAW_CONFIRM.value,
            officer_ids(officer),
            style=ActionStyle.DESTRUCTIVE,
        )
        for officer, _ in choices[:5]
    ]
    actions.append(
        execute(
            "Cancel",
            Verb.CANCEL.value,
            officer_ids(first) | {"cancel": "withdraw"},
            associated_inputs=AssociatedInputs.NONE,
        )
    )
    return render(body, actions)


def withdrawn_notice_card(view: OfficerView) -> dict[str, Any]:
    """Tells the JB (or the PoC, when the JB withdrew) that an officer was withdrawn."""
    officer = view.officer
    who = officer.withdrawn.actor.name if officer.withdrawn else ""
    when = format_instant(officer.withdrawn.at, view.tz) if officer.withdrawn else ""
    body: list[Any] = [
        *heading("Officer withdrawn from an Information Package", subtle="Information Package"),
        facts(
            [
                ("Officer", officer_text(officer)),
                ("Agency", agency_text(officer, view.package)),
                ("Withdrawn by", who or "—"),
                ("When", when),
            ]
        ),
        paragraph('Their e-tickets now raise an "unknown officer" alert.', is_subtle=True),
    ]
    return render(body)


def _state_word(officer: Officer) -> str:
    if officer.state is OfficerState.APPROVED:
        return f"approved {_date_or_dash(officer.approval_date)}"
    return officer.state.value


REASON_STEPS: dict[str, tuple[str, str, str]] = {
    "return_to_monitoring": (
        "Return to monitoring",
        "The officer goes back to monitoring: their approval date is cleared and the PoC is told.",
        "officer.return_confirm",
    ),
    "end_extension": (
        "End extension",
        "The extension ends now; the officer can become ready for approval again. The PoC is told.",
        "officer.end_extension_confirm",
    ),
    "resend": (
        "Send again",
        "The notice is queued again for the same conversation (for example after the bot was added back).",
        "notice.resend_confirm",
    ),
}
"""Each step JB staff take with a reason: title, what it does, the confirm verb."""


def reason_card(form: ReasonForm, values: Mapping[str, object], errors: Mapping[str, str]) -> dict[str, Any]:
    """Return to monitoring, End extension or Send again: what will happen, and the reason to give."""
    title, explanation, verb = REASON_STEPS[form.what]
    body: list[Any] = [*heading(title, subtle=SOP_LINE)]
    data: dict[str, str] = {}
    if form.officer is not None:
        body.append(_facts(form.officer))
        data = officer_ids(form.officer.officer)
    if form.notice is not None:
        notice_ = form.notice
        body.append(
            facts(
                [("Notice", notice_.summary), ("To", notice_.where), ("Failed", notice_.when), ("Error", notice_.error)]
            )
        )
        data = {"notice_id": notice_.id}
    reason = values.get("reason")
    body += [
        paragraph(explanation),
        reason_input(reason),
        *field_error(errors, "reason"),
        *field_error(errors, "form"),
    ]
    actions = [
        execute(title, verb, data, style=ActionStyle.POSITIVE),
        execute("Cancel", Verb.CANCEL.value, data | {"cancel": form.what}, associated_inputs=AssociatedInputs.NONE),
    ]
    return render(body, actions)
