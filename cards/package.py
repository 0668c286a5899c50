"""Cards of the Information Package (SOP 6.1, Chart 1): the wizard's steps, the digital copy, the JB's card.

Pure functions of domain records or plain data → card dicts. Wizard buttons carry the wizard's id
and step in ``data`` (Teams merges the card's inputs into it on Action.Execute). A refused answer
is shown as a red line right under its input, with every other answer kept in the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac
from adaptive_cards.types import (
    ActionStyle,
    AssociatedInputs,
    ChoiceInputStyle,
    FontSize,
    FontWeight,
    Spacing,
    TextInputStyle,
    VerticalAlignment,
)

from cards.base import execute, facts, field_error, heading, notice, paragraph, render, set_date_minimum
from domain.calendar import format_date, format_instant
from domain.records import Officer, OfficerState, Package, Stamp
from domain.validation import AGENCY_FIELDS, FIELD_RULES
from domain.views import OfficerForm, OfficersAddedView, PocEmailForm, ReadinessRule, page_count
from vocabulary.contact import JB_EMAIL
from vocabulary.verbs import Verb

TRACS_SOP = "JB Approval to Issue e-Tickets (TraCS/Spillman)"
RECORDS_SYSTEM_CHOICES = (("Valcour", "valcour"), ("TraCS / Spillman", "tracs_spillman"))
VALCOUR_INSTALLED = "Valcour is installed on the computer(s) used to issue e-tickets."
OFFICERS_TRAINED = "Our officers have been trained to use Valcour e-ticketing."
NEW_OFFICERS_TRAINED = "These officers have been trained to use Valcour e-ticketing (SOP 5)."


def acknowledgment_text(rule: ReadinessRule) -> str:
    """SOP 6.3's acknowledgment, stating the readiness rule the bot applies (from the settings)."""
    return (
        "The Judicial Bureau has received your Information Package: the officers' intent to issue Vermont "
        "Civil Violation Complaints electronically. These officers may begin issuing e-tickets, so that the "
        "JB can monitor them for quality. An officer is ready for approval once at least "
        f"{rule.min_accepted} of their e-tickets have been accepted into Odyssey over at least {rule.min_days} "
        f"days, their {rule.clean_streak} most recent accepted e-tickets each came through without a problem, "
        "and none of their problems is still open (SOP 6.6). The JB will tell you here which officers can "
        "issue e-tickets without monitoring."
    )


REVIEW_PAGE_SIZE = 25
OFFICERS_PAGE_SIZE = 15
"""Officers shown at once on the wizard's officers step (each with Edit and Remove)."""
"""Officers shown per review page; 25 rows of Chart 1 stay well under Teams' 28 KB."""
CHART_PAGE_SIZE = 25
"""Officer rows per Chart 1 card (even with every field at its longest, one card stays under 28 KB)."""

_PLACEHOLDERS = {
    "judiciary_code": "9000",
    "agency_name": "Williston Police Department",
    "letterhead_address": "7928 Williston Road, Williston, VT 05495",
    "letterhead_phone": "(802) 555-0100",
    "poc_name": "First and last name",
    "poc_email": "name@example.vt.gov",
    "officer_number": "A1234",
    "first_name": "First name",
    "last_name": "Last name",
    "dps_username": "jsmith",
}


@dataclass(frozen=True)
class StepFrame:
    """What every wizard card shows around its step: ids for the buttons, the step counter, a message."""

    wizard_id: str
    step: str
    title: str
    number: int
    count: int
    message: str | None = None
    message_kind: str = "attention"
    can_go_back: bool = True

    def data(self, **extra: Any) -> dict[str, Any]:
        """The ids every wizard button carries."""
        return {"wizard": self.wizard_id, "step": self.step, **extra}


@dataclass(frozen=True)
class OfficerRow:
    """One officer as the wizard holds it (text as typed, officer number upper case) and what to note."""

    officer_number: str
    first_name: str
    last_name: str
    dps_username: str
    start_date: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, values: Mapping[str, Any], notes: Sequence[str] = ()) -> OfficerRow:
        """A row from a dict of officer field values."""

        def text(name: str) -> str:
            return str(values.get(name) or "")

        return cls(
            officer_number=text("officer_number"),
            first_name=text("first_name"),
            last_name=text("last_name"),
            dps_username=text("dps_username"),
            start_date=text("start_date"),
            notes=tuple(notes),
        )


@dataclass(frozen=True)
class AgencySummary:
    """The agency part of a package as shown on the review (typed values)."""

    judiciary_code: str
    agency_name: str
    letterhead_address: str
    letterhead_phone: str
    poc_name: str
    poc_email: str


# ---- small pieces ---------------------------------------------------------------------------------


def _shown_date(text: str) -> str:
    try:
        return format_date(date.fromisoformat(text))
    except ValueError:
        return text


def _frame_top(frame: StepFrame, *, subtitle: str | None = None) -> list[Any]:
    items: list[Any] = []
    if frame.message:
        items.append(notice(frame.message, kind=frame.message_kind))
    items += heading(
        frame.title, subtle=f"Step {frame.number} of {frame.count}" + (f" · {subtitle}" if subtitle else "")
    )
    return items


def _wizard_actions(
    frame: StepFrame, *, next_title: str = "Next", next_verb: Verb = Verb.WIZARD_NEXT, extra: Sequence[Any] = ()
) -> list[Any]:
    actions: list[Any] = [execute(next_title, next_verb.value, frame.data(), style=ActionStyle.POSITIVE)]
    actions += list(extra)
    if frame.can_go_back:
        actions.append(execute("Back", Verb.WIZARD_BACK.value, frame.data(), associated_inputs=AssociatedInputs.NONE))
    actions.append(execute("Cancel", Verb.WIZARD_CANCEL.value, frame.data(), associated_inputs=AssociatedInputs.NONE))
    return actions


def _text_input(
    field_id: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    input_id: str | None = None,
    multiline: bool = False,
    style: TextInputStyle | None = None,
) -> list[Any]:
    rule = FIELD_RULES[field_id]
    value = values.get(field_id)
    element = ac.InputText(
        id=input_id or field_id,
        label=rule.label,
        is_required=True,
        error_message=rule.message,
        regex=rule.pattern,
        max_length=rule.input_length,
        placeholder=_PLACEHOLDERS.get(field_id),
        is_multiline=multiline or None,
        style=style,
        value=value if isinstance(value, str) and value else None,
    )
    return [element, *field_error(errors, field_id)]


def _date_input(values: Mapping[str, Any], errors: Mapping[str, str], today: date) -> list[Any]:
    rule = FIELD_RULES["start_date"]
    value = values.get("start_date")
    element = ac.InputDate(
        id="start_date",
        label=rule.label,
        is_required=True,
        error_message=f"Expected start date must be today ({format_date(today)}) or later.",
        value=value if isinstance(value, str) and value else None,
    )
    return [element, *field_error(errors, "start_date")]


def _officer_blocks(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Any:
    """One block per officer: their number and name, then Chart 1's columns as label and value.

    A six-column table breaks words mid-word in a narrow client (Teams on a phone, the Playground:
    "Numbe r", "In monitori ng"); label/value pairs wrap between words only.
    """
    blocks: list[ac.ElementT] = []
    for cells in rows:
        by_header = dict(zip(headers, cells, strict=True))
        name = f"{by_header.get('First Name', '')} {by_header.get('Last Name', '')}".strip()
        title = " · ".join(part for part in (by_header.get("Officer Number", ""), name) if part)
        blocks.append(
            ac.Container(
                items=[
                    ac.TextBlock(text=title or "—", wrap=True, weight=FontWeight.BOLDER),
                    facts(list(zip(headers, cells, strict=True))),
                ],
                separator=True,
                spacing=Spacing.SMALL,
            )
        )
    return ac.Container(items=blocks)


# ---- Chart 1: the Information Package ---------------------------------------------------------------

CHART_TITLE = "E-Ticket Information Package"
AGENCY_SECTION = "Vermont Law Enforcement Agency Information"
OFFICER_SECTION = "Vermont Law Enforcement Officer Information"
OFFICER_HEADERS = ("First Name", "Last Name", "Officer Number", "DPS Network Username", "Expected Start Date")
APPROVAL_HEADER = "Approval Date"


def agency_facts(agency: AgencySummary) -> Any:
    """Chart 1's agency part as label/value pairs."""
    return facts(
        [
            ("Agency Name", agency.agency_name),
            ("Address (letterhead)", agency.letterhead_address),
            ("Phone (letterhead)", agency.letterhead_phone),
            ("Judiciary Code", agency.judiciary_code),
            ("Point-of-Contact", agency.poc_name),
            # not "Point-of-Contact e-mail": the Playground's title column broke it as "e-" / "mail"
            ("Contact e-mail", agency.poc_email),
        ]
    )


def summary_of(package: Package) -> AgencySummary:
    """The agency part of a stored package as shown on cards."""
    agency = package.agency
    return AgencySummary(
        agency.judiciary_code,
        agency.agency_name,
        agency.letterhead_address,
        agency.letterhead_phone,
        agency.poc_name,
        agency.poc_email,
    )


def approval_text(officer: Officer) -> str:
    """The approval-date column: the date, or where the officer stands."""
    if officer.state is OfficerState.APPROVED and officer.approval_date is not None:
        return format_date(officer.approval_date)
    if officer.state is OfficerState.WITHDRAWN:
        return "Withdrawn"
    return "In monitoring"


def officer_table(officers: Sequence[Officer]) -> Any:
    """Chart 1's officer rows with the approval-date column (SOP 6.6), at most ``CHART_PAGE_SIZE`` of them."""
    rows = [
        (o.first_name, o.last_name, o.officer_number, o.dps_username, format_date(o.start_date), approval_text(o))
        for o in officers[:CHART_PAGE_SIZE]
    ]
    return _officer_blocks((*OFFICER_HEADERS, APPROVAL_HEADER), rows)


def _row_table(rows: Sequence[OfficerRow]) -> Any:
    cells = [(r.first_name, r.last_name, r.officer_number, r.dps_username, _shown_date(r.start_date)) for r in rows]
    return _officer_blocks(OFFICER_HEADERS, cells)


def chart_body(package: Package, officers: Sequence[Officer], tz: ZoneInfo, *, first: int = 0) -> list[Any]:
    """The body of Chart 1 for a stored package: agency facts, officer table (from ``first``), submission line."""
    shown = officers[first : first + CHART_PAGE_SIZE]
    count = f" ({first + 1}–{first + len(shown)} of {len(officers)})" if len(officers) > CHART_PAGE_SIZE else ""
    body: list[Any] = [
        paragraph(AGENCY_SECTION, weight=FontWeight.BOLDER, spacing=Spacing.MEDIUM),
        agency_facts(summary_of(package)),
        paragraph(OFFICER_SECTION + count, weight=FontWeight.BOLDER, spacing=Spacing.MEDIUM),
        officer_table(shown) if shown else paragraph("No officers yet.", is_subtle=True),
        paragraph(
            f"Submitted by {package.submitted.actor.name or 'the Point-of-Contact'} on "
            f"{format_instant(package.submitted.at, tz)}.",
            is_subtle=True,
            size=FontSize.SMALL,
        ),
    ]
    if first + len(shown) < len(officers):
        body.append(
            paragraph(
                f"{len(officers) - first - len(shown)} more officers: type /package {package.judiciary_code} "
                "to see every officer.",
                is_subtle=True,
            )
        )
    if package.acknowledged is not None:
        body.append(acknowledged_line(package.acknowledged, tz))
    return body


def acknowledged_line(stamp: Stamp, tz: ZoneInfo) -> Any:
    """Who acknowledged a package and when (court time)."""
    return notice(
        f"Acknowledged by {stamp.actor.name or 'JB e-ticket staff'} on {format_instant(stamp.at, tz)}.", kind="good"
    )


def package_card(
    package: Package,
    officers: Sequence[Officer],
    tz: ZoneInfo,
    *,
    title: str = CHART_TITLE,
    intro: str | None = None,
    first: int = 0,
) -> dict[str, Any]:
    """The PoC's digital copy of the Information Package, laid out like Chart 1 (with approval dates)."""
    body: list[Any] = [
        *heading(title, subtle=f"{package.agency.agency_name} · Judiciary Code {package.judiciary_code}")
    ]
    if intro:
        body.append(paragraph(intro))
    body += chart_body(package, officers, tz, first=first)
    return render(body)


def package_cards(package: Package, officers: Sequence[Officer], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The whole package for /package: one Chart 1 card per ``CHART_PAGE_SIZE`` officers."""
    starts = range(0, max(len(officers), 1), CHART_PAGE_SIZE)
    return [package_card(package, officers, tz, first=start) for start in starts]


NOT_YET_REACHED = (
    "The Judicial Bureau's e-ticket staff have not connected to this bot in Teams yet, so they have not seen it. "
    f"It is kept and reaches them the moment they do; nothing is lost. To hurry them, write to {JB_EMAIL}."
)


def confirmation_card(
    package: Package,
    officers: Sequence[Officer],
    tz: ZoneInfo,
    *,
    added: int | None = None,
    jb_reached: bool = True,
) -> dict[str, Any]:
    """What the PoC sees after Submit: the copy of the package, and what happens next.

    ``jb_reached`` False: no JB conversation exists yet, so the card says plainly that the package waits.
    """
    if added is None:
        sent = "Sent to the Judicial Bureau's e-ticket staff." if jb_reached else "Stored for the Judicial Bureau."
        intro = (
            f"{sent} Keep this card: it is your digital copy of the "
            "Information Package. Type /package at any time to see it again, with approval dates."
        )
    else:
        where = "sent to the Judicial Bureau's e-ticket staff" if jb_reached else "stored for the Judicial Bureau"
        intro = (
            f"{added} officer{'s' if added != 1 else ''} added and {where}. "
            "Type /package at any time to see your Information Package again."
        )
    card = package_card(package, officers, tz, title="Information Package sent", intro=intro)
    if not jb_reached:  # below the title and its subtitle, above the intro
        card["body"].insert(
            2, notice(NOT_YET_REACHED, kind="warning").model_dump(mode="json", exclude_none=True, by_alias=True)
        )
    return card


def jb_package_card(package: Package, officers: Sequence[Officer], tz: ZoneInfo, *, first: int = 0) -> dict[str, Any]:
    """The JB's card for a new Information Package (SOP 6.2), with Acknowledge until someone acknowledges.

    Officers are shown ``CHART_PAGE_SIZE`` at a time from ``first``, with Previous / More officers buttons.
    """
    body: list[Any] = [
        *heading(
            f"New Information Package: {package.agency.agency_name}", subtle=f"Judiciary Code {package.judiciary_code}"
        )
    ]
    body.append(
        paragraph(
            f"{package.agency.poc_name} intends to start issuing e-tickets with "
            f"{len(officers)} officer{'s' if len(officers) != 1 else ''} (SOP 6.1–6.2)."
        )
    )
    first = min(max(first, 0), max(len(officers) - 1, 0)) // CHART_PAGE_SIZE * CHART_PAGE_SIZE
    body += [item for item in chart_body(package, officers, tz, first=first) if not _is_more_line(item)]
    actions: list[Any] = []
    if package.acknowledged is None:
        actions.append(
            execute(
                "Acknowledge",
                Verb.ACKNOWLEDGE.value,
                {"judiciary_code": package.judiciary_code},
                style=ActionStyle.POSITIVE,
            )
        )
    data = {"judiciary_code": package.judiciary_code}
    if first > 0:
        back = data | {"first": first - CHART_PAGE_SIZE}
        actions.append(
            execute("Previous officers", Verb.PACKAGE_PAGE.value, back, associated_inputs=AssociatedInputs.NONE)
        )
    if first + CHART_PAGE_SIZE < len(officers):
        more = data | {"first": first + CHART_PAGE_SIZE}
        actions.append(execute("More officers", Verb.PACKAGE_PAGE.value, more, associated_inputs=AssociatedInputs.NONE))
    return render(body, actions)


def _is_more_line(item: Any) -> bool:
    """Chart 1's "N more officers: type /package" line, which the JB's card replaces with its page buttons."""
    return isinstance(getattr(item, "text", None), str) and "more officers: type /package" in item.text


def officers_added_card(view: OfficersAddedView, tz: ZoneInfo) -> dict[str, Any]:
    """The JB's card when a PoC adds officers to an existing package, with Acknowledge until done (SOP 6.3)."""
    package, added, by = view.package, view.added, view.by
    count = len(added)
    body: list[Any] = [
        *heading(f"Officers added: {package.agency.agency_name}", subtle=f"Judiciary Code {package.judiciary_code}"),
        paragraph(
            f"{by.actor.name or 'The Point-of-Contact'} added {count} officer{'s' if count != 1 else ''} "
            f"on {format_instant(by.at, tz)}. They are in monitoring from now."
        ),
        officer_table(added),
    ]
    actions: list[Any] = []
    if view.acknowledged is None:
        data = {"judiciary_code": package.judiciary_code, "officers": ",".join(view.numbers)}
        actions.append(execute("Acknowledge", Verb.ACKNOWLEDGE_OFFICERS.value, data, style=ActionStyle.POSITIVE))
    else:
        body.append(acknowledged_line(view.acknowledged, tz))
    return render(body, actions)


def acknowledgment_card(
    package: Package, stamp: Stamp, tz: ZoneInfo, rule: ReadinessRule, *, officers: Sequence[Officer] = ()
) -> dict[str, Any]:
    """The PoC's acknowledgment notice (SOP 6.3), in the bot's words."""
    body = [
        *heading(
            "Information Package acknowledged",
            subtle=f"{package.agency.agency_name} · Judiciary Code {package.judiciary_code}",
        ),
        paragraph(acknowledgment_text(rule)),
        *(
            [paragraph("Officers acknowledged: " + ", ".join(f"{o.full_name} ({o.officer_number})" for o in officers))]
            if officers
            else []
        ),
        paragraph(
            f"Acknowledged by {stamp.actor.name or 'JB e-ticket staff'} on {format_instant(stamp.at, tz)}.",
            is_subtle=True,
        ),
    ]
    return render(body)


# ---- the wizard's steps ------------------------------------------------------------------------------


def records_system_card(frame: StepFrame, value: str | None, errors: Mapping[str, str]) -> dict[str, Any]:
    """Step 1: which records management system the agency uses (SOP 1)."""
    choice = ac.InputChoiceSet(
        id="records_system",
        label="Which records management system does your agency use?",
        is_required=True,
        error_message="Choose your agency's records management system.",
        style=ChoiceInputStyle.EXPANDED,
        choices=[ac.InputChoice(title=title, value=code) for title, code in RECORDS_SYSTEM_CHOICES],
        value=value or None,
    )
    body = [
        *_frame_top(frame),
        paragraph(
            "The Information Package tells the Judicial Bureau's e-ticket staff that your agency wants to "
            "issue Vermont Civil Violation Complaints electronically (SOP 6.1). This procedure is for "
            "agencies on the Valcour records management system."
        ),
        choice,
        *field_error(errors, "records_system"),
    ]
    return render(body, _wizard_actions(frame))


def referral_card() -> dict[str, Any]:
    """Where a TraCS / Spillman agency goes instead: the other SOP and the JB's e-mail."""
    body = [
        *heading("Please follow the TraCS / Spillman procedure"),
        paragraph(
            f"This bot runs the procedure for agencies on Valcour. Agencies on TraCS / Spillman follow "
            f'"{TRACS_SOP}" instead.'
        ),
        paragraph(f"Questions: write to the Judicial Bureau's e-ticket staff at {JB_EMAIL}."),
        paragraph("Nothing was sent. Type /new-package to start again.", is_subtle=True),
    ]
    return render(body)


def _toggle(
    field_id: str, label: str, title: str, message: str, values: Mapping[str, Any], errors: Mapping[str, str]
) -> list[Any]:
    """A required yes/no attestation, with its problem beside it."""
    element = ac.InputToggle(
        id=field_id,
        label=label,
        title=title,
        is_required=True,
        error_message=message,
        value_on="true",
        value_off="false",
        value="true" if values.get(field_id) else "false",
        wrap=True,
    )
    return [element, *field_error(errors, field_id)]


def preconditions_card(frame: StepFrame, values: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, Any]:
    """Step 2: the two pre-conditions of SOP 5, both required."""

    def toggle(field_id: str, label: str, title: str, message: str) -> list[Any]:
        return _toggle(field_id, label, title, message, values, errors)

    body = [
        *_frame_top(frame),
        paragraph("Before you send the Information Package, confirm both pre-conditions (SOP 5)."),
        *toggle(
            "valcour_installed",
            "Valcour installed",
            VALCOUR_INSTALLED,
            "Confirm that Valcour is installed, or install it before you continue.",
        ),
        *toggle(
            "officers_trained",
            "Officers trained",
            OFFICERS_TRAINED,
            "Confirm that your officers have been trained, or train them before you continue.",
        ),
    ]
    return render(body, _wizard_actions(frame))


def agency_card(
    frame: StepFrame,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    offer: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Step 3: the agency and its Point-of-Contact (SOP 6.1 item 1).

    ``offer`` (Judiciary Code, agency name): the code typed has a package; the card offers to add officers
    to it, beside changing the code (Next with another code), and keeps every answer as typed.
    """
    body: list[Any] = [*_frame_top(frame), paragraph("As they will appear on warning letterhead.", is_subtle=True)]
    for field_id in AGENCY_FIELDS:
        style = {"letterhead_phone": TextInputStyle.TEL, "poc_email": TextInputStyle.EMAIL}.get(field_id)
        body += _text_input(field_id, values, errors, multiline=field_id == "letterhead_address", style=style)
    if offer is None:
        return render(body, _wizard_actions(frame))
    code, name = offer
    add = execute(f"Add officers to {name}", Verb.WIZARD_NEXT.value, frame.data(existing=code))
    return render(body, _wizard_actions(frame, next_title="Change the code", extra=[add]))


def officers_card(
    frame: StepFrame,
    *,
    agency_line: str,
    saved: Sequence[OfficerRow],
    draft: Mapping[str, Any] | None,
    draft_index: int | None,
    errors: Mapping[str, str],
    today: date,
    page: int | None = None,
) -> dict[str, Any]:
    """Step 4: officers (SOP 6.1 item 2): those entered, each with Edit and Remove, and a form for one more.

    The officers entered are shown ``OFFICERS_PAGE_SIZE`` at a time (``page``, 0-based; None: the last
    page, where a new officer lands), so a package of 500 officers stays under Teams' card limit.
    """
    body: list[Any] = [*_frame_top(frame, subtitle=agency_line)]
    pages = page_count(len(saved), OFFICERS_PAGE_SIZE)
    shown_page = pages - 1 if page is None else min(max(page, 0), pages - 1)
    first = shown_page * OFFICERS_PAGE_SIZE
    if saved:
        counted = f"Officers in this package so far: {len(saved)}"
        if pages > 1:
            counted += f" (showing {first + 1}–{min(first + OFFICERS_PAGE_SIZE, len(saved))})"
        body.append(paragraph(counted, weight=FontWeight.BOLDER))
    for index, row in enumerate(saved):
        if index == draft_index or not first <= index < first + OFFICERS_PAGE_SIZE:
            continue
        line = f"**{row.officer_number}** {row.first_name} {row.last_name} · {row.dps_username} · starts {_shown_date(row.start_date)}"
        buttons = ac.ActionSet(
            actions=[
                execute(
                    "Edit",
                    Verb.WIZARD_EDIT.value,
                    frame.data(to="officers", officer=index),
                    associated_inputs=AssociatedInputs.NONE,
                ),
                execute(
                    "Remove",
                    Verb.WIZARD_REMOVE_OFFICER.value,
                    frame.data(officer=index),
                    associated_inputs=AssociatedInputs.NONE,
                ),
            ]
        )
        items: list[Any] = [paragraph(line)]
        items += [paragraph(note, is_subtle=True, size=FontSize.SMALL, spacing=Spacing.NONE) for note in row.notes]
        body.append(
            ac.ColumnSet(
                separator=True,
                columns=[
                    ac.Column(width="stretch", items=items),
                    ac.Column(width="auto", items=[buttons], vertical_content_alignment=VerticalAlignment.CENTER),
                ],
            )
        )
    if pages > 1:
        nav = [
            execute(
                title,
                Verb.WIZARD_EDIT.value,
                frame.data(to="officers", page=number),
                associated_inputs=AssociatedInputs.NONE,
            )
            for title, number in (("Previous officers", shown_page - 1), ("More officers", shown_page + 1))
            if 0 <= number < pages
        ]
        body.append(ac.ActionSet(actions=nav))
    extra: list[Any] = []
    if draft is not None:
        title = "Edit officer" if draft_index is not None else f"Officer {len(saved) + 1}"
        body.append(paragraph(title, weight=FontWeight.BOLDER, spacing=Spacing.LARGE, separator=True))
        for field_id in ("first_name", "last_name", "officer_number", "dps_username"):
            body += _text_input(field_id, draft, errors)
        body += _date_input(draft, errors, today)
        if saved:
            extra.append(
                execute(
                    "Remove this officer" if draft_index is None else "Discard changes",
                    Verb.WIZARD_REMOVE_OFFICER.value,
                    frame.data(officer="draft"),
                    associated_inputs=AssociatedInputs.NONE,
                )
            )
        add = execute("Save and add another officer", Verb.WIZARD_ADD_OFFICER.value, frame.data())
        actions = _wizard_actions(frame, next_title="Next: review", extra=[add, *extra])
    else:
        add = execute(
            "Add another officer", Verb.WIZARD_ADD_OFFICER.value, frame.data(), associated_inputs=AssociatedInputs.NONE
        )
        actions = _wizard_actions(frame, next_title="Next: review", extra=[add])
    card = render(body, actions)
    set_date_minimum(card, "start_date", today)
    return card


def choose_agency_card(
    frame: StepFrame, choices: Sequence[tuple[str, str]], errors: Mapping[str, str], value: str | None = None
) -> dict[str, Any]:
    """Which agency's package to add officers to, for a PoC of several agencies (or JB staff)."""
    choice = ac.InputChoiceSet(
        id="judiciary_code",
        label="Which agency's Information Package?",
        is_required=True,
        error_message="Choose an agency.",
        style=ChoiceInputStyle.EXPANDED if len(choices) <= 6 else ChoiceInputStyle.COMPACT,
        choices=[ac.InputChoice(title=f"{name} ({code})", value=code) for code, name in choices],
        value=value or None,
    )
    body = [*_frame_top(frame), choice, *field_error(errors, "judiciary_code")]
    return render(body, _wizard_actions(frame))


def _section(title: str, frame: StepFrame, to: str | None) -> Any:
    """A section title with an Edit button back to its step (none when ``to`` is None)."""
    right = (
        [
            ac.ActionSet(
                actions=[
                    execute("Edit", Verb.WIZARD_EDIT.value, frame.data(to=to), associated_inputs=AssociatedInputs.NONE)
                ]
            )
        ]
        if to
        else [paragraph(" ")]
    )
    return ac.ColumnSet(
        spacing=Spacing.MEDIUM,
        columns=[
            ac.Column(
                width="stretch",
                items=[paragraph(title, weight=FontWeight.BOLDER)],
                vertical_content_alignment=VerticalAlignment.CENTER,
            ),
            ac.Column(width="auto", items=right),
        ],
    )


def review_card(
    frame: StepFrame,
    *,
    agency: AgencySummary,
    officers: Sequence[OfficerRow],
    new_package: bool,
    records_system: str | None = None,
    attested: bool = False,
    page: int = 0,
    existing_count: int = 0,
    agency_editable: bool = True,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Step 5: the whole package laid out like Chart 1, Edit buttons back to each step, and Submit.

    Adding officers to a package, the PoC attests here that the new officers are trained (SOP 5).
    """
    body: list[Any] = [*_frame_top(frame), paragraph(CHART_TITLE, weight=FontWeight.BOLDER, size=FontSize.LARGE)]
    if new_package:
        system = {code: title for title, code in RECORDS_SYSTEM_CHOICES}.get(records_system or "", "—")
        body.append(_section(f"Records system: {system}", frame, "records_system"))
        body.append(
            _section(
                "Pre-conditions (SOP 5): " + ("both confirmed" if attested else "not confirmed"), frame, "preconditions"
            )
        )
    body.append(_section(AGENCY_SECTION, frame, "agency" if agency_editable else None))
    body.append(agency_facts(agency))
    pages = page_count(len(officers), REVIEW_PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = officers[page * REVIEW_PAGE_SIZE : (page + 1) * REVIEW_PAGE_SIZE]
    label = OFFICER_SECTION if new_package else f"{OFFICER_SECTION}: officers to add"
    body.append(_section(f"{label} ({len(officers)})", frame, "officers"))
    body.append(_row_table(shown))
    notes = [note for row in shown for note in row.notes]
    body += [paragraph(note, is_subtle=True, size=FontSize.SMALL) for note in notes]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                execute(
                    "Previous officers",
                    Verb.WIZARD_EDIT.value,
                    frame.data(to="review", page=page - 1),
                    associated_inputs=AssociatedInputs.NONE,
                )
            )
        if page < pages - 1:
            nav.append(
                execute(
                    "More officers",
                    Verb.WIZARD_EDIT.value,
                    frame.data(to="review", page=page + 1),
                    associated_inputs=AssociatedInputs.NONE,
                )
            )
        first = page * REVIEW_PAGE_SIZE + 1
        body.append(paragraph(f"Officers {first}–{first + len(shown) - 1} of {len(officers)}", is_subtle=True))
        body.append(ac.ActionSet(actions=nav))
    if existing_count:
        body.append(
            paragraph(
                f"The package already lists {existing_count} officer{'s' if existing_count != 1 else ''}; "
                "type /package to see them.",
                is_subtle=True,
            )
        )
    if not new_package:
        body += _toggle(
            "officers_trained",
            "New officers trained",
            NEW_OFFICERS_TRAINED,
            "Confirm that these officers have been trained, or train them before you send them.",
            {"officers_trained": attested},
            errors or {},
        )
    body.append(
        paragraph(
            "Submit sends this to the Judicial Bureau's e-ticket staff (SOP 6.2). The officers are in "
            "monitoring from then on.",
            spacing=Spacing.MEDIUM,
        )
    )
    return render(body, _wizard_actions(frame, next_title="Submit", next_verb=Verb.WIZARD_SUBMIT))


def resume_card(
    wizard_id: str, step_title: str, *, what: str, restart: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Offered when /new-package or /add-officer is typed while a wizard is unfinished."""
    data = {"wizard": wizard_id, "step": "resume", **(restart or {})}
    body = [
        *heading("You have an unfinished card"),
        paragraph(
            f"Your {what} stopped at: {step_title}. Resume where you stopped, or start over (the answers so far are dropped)."
        ),
    ]
    actions = [
        execute("Resume", Verb.WIZARD_RESUME.value, data, style=ActionStyle.POSITIVE),
        execute("Start over", Verb.WIZARD_RESTART.value, data),
    ]
    return render(body, actions)


def edit_officer_card(form: OfficerForm, values: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, Any]:
    """/edit-officer: correct an officer's names, DPS username or expected start date (monitoring goes on)."""
    officer = form.officer
    shown = {
        "first_name": officer.first_name,
        "last_name": officer.last_name,
        "dps_username": officer.dps_username,
        "start_date": officer.start_date.isoformat(),
    } | {name: value for name, value in values.items() if isinstance(value, str)}
    agency = f"{form.package.agency.agency_name} · " if form.package else ""
    body: list[Any] = [
        *heading(f"Correct {officer.officer_number}", subtle=f"{agency}Judiciary Code {officer.judiciary_code}"),
        paragraph("A correction keeps the officer's monitoring as it is: nothing restarts.", is_subtle=True),
        *_text_input("first_name", shown, errors),
        *_text_input("last_name", shown, errors),
        *_text_input("dps_username", shown, errors),
        *_date_input(shown, errors, form.today),
        *field_error(errors, "form"),
    ]
    ids = {"judiciary_code": officer.judiciary_code, "officer_number": officer.officer_number}
    actions = [
        execute("Save", Verb.EDIT_OFFICER_SAVE.value, ids, style=ActionStyle.POSITIVE),
        execute("Cancel", Verb.CANCEL.value, ids | {"cancel": "edit"}, associated_inputs=AssociatedInputs.NONE),
    ]
    return render(body, actions)


def poc_email_card(form: PocEmailForm, values: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, Any]:
    """/set-poc when Teams gave no e-mail: JB staff type the new Point-of-Contact's e-mail (SOP 6.1) first."""
    package, name = form.package, form.new_poc.name or "the new Point-of-Contact"
    shown = {"poc_email": form.email_hint or ""} | {k: v for k, v in values.items() if isinstance(v, str)}
    body: list[Any] = [
        *heading(
            "E-mail of the new Point-of-Contact", subtle=f"{package.agency.agency_name} · {package.judiciary_code}"
        ),
        paragraph(
            f"Teams did not give me an e-mail address for {name}. The Information Package needs the "
            f"Point-of-Contact's e-mail (SOP 6.1): type it, and {name} becomes the Point-of-Contact. "
            "Nothing changes until you press Submit."
        ),
        *_text_input("poc_email", shown, errors, style=TextInputStyle.EMAIL),
    ]
    ids = {"judiciary_code": package.judiciary_code, "aad_id": form.new_poc.aad_id}
    actions = [
        execute("Submit", Verb.SET_POC_SUBMIT.value, ids, style=ActionStyle.POSITIVE),
        execute("Cancel", Verb.CANCEL.value, {"cancel": "set_poc"}, associated_inputs=AssociatedInputs.NONE),
    ]
    return render(body, actions)
