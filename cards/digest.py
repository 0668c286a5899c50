"""The weekly digest card: the programme (or one agency) at a glance, with two Adaptive Card charts.

Teams draws ``Chart.Donut`` and ``Chart.VerticalBar`` in cards of schema 1.5 (so does the Agents
Playground, which registers every ``Chart.*`` element); a client that does not know them draws each
chart's ``fallback``, a fact set with the same numbers. adaptive-cards-py 0.4.3 has no chart models,
so the charts are written as JSON beside the rendered card.
"""

from __future__ import annotations

from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import Colors, FontSize, FontWeight, Spacing

from cards.base import facts, heading, paragraph, render
from domain.calendar import format_date, format_days_left
from domain.digest import DigestView, IncidentGroup, Listed
from domain.incidents import incident_text

STATE_COLOURS = {
    "In monitoring": "categoricalBlue",
    "Ready for approval": "categoricalMarigold",
    "Approved": "good",
    "Withdrawn": "neutral",
}
"""Chart colours from Teams' named chart colours (``ChartColor``)."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _dump(element: Any) -> dict[str, Any]:
    return element.model_dump(mode="json", exclude_none=True, by_alias=True)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def state_chart(view: DigestView) -> dict[str, Any]:
    """A donut of officers by state, falling back to a fact set of the same counts."""
    shown = [(state, count) for state, count in view.by_state if count > 0]
    return {
        "type": "Chart.Donut",
        "title": "Officers by state",
        "data": [{"legend": state, "value": count, "color": STATE_COLOURS[state]} for state, count in shown],
        "fallback": _dump(facts([(state, str(count)) for state, count in view.by_state])),
    }


def week_label(view: DigestView, index: int) -> str:
    """ "Nov 16": the Monday of a charted week."""
    week = view.per_week[index].week
    return f"{_MONTHS[week.month - 1]} {week.day}"


def incidents_chart(view: DigestView) -> dict[str, Any]:
    """Bars of incidents raised per court week, falling back to a fact set of the same counts."""
    labels = [week_label(view, index) for index in range(len(view.per_week))]
    return {
        "type": "Chart.VerticalBar",
        "title": "Incidents raised per week",
        "xAxisTitle": "Week of",
        "yAxisTitle": "Incidents",
        "showBarValues": True,
        "color": "categoricalRed",
        "data": [{"x": label, "y": week.count} for label, week in zip(labels, view.per_week, strict=True)],
        "fallback": _dump(
            facts([(f"Week of {label}", str(week.count)) for label, week in zip(labels, view.per_week, strict=True)])
        ),
    }


def _section(title: str) -> Any:
    return ac.TextBlock(
        text=title, weight=FontWeight.BOLDER, size=FontSize.MEDIUM, wrap=True, separator=True, spacing=Spacing.MEDIUM
    )


def _officer_lines(listed: Listed, empty: str) -> list[Any]:
    if not listed.lines:
        return [paragraph(empty, is_subtle=True, spacing=Spacing.NONE)]
    items: list[Any] = [
        facts([(f"{line.officer.full_name} ({line.officer.officer_number})", line.detail) for line in listed.lines])
    ]
    hidden = listed.total - len(listed.lines)
    if hidden > 0:
        items.append(paragraph(f"and {hidden} more: type /status to see them all.", is_subtle=True))
    return items


def _agency_note(view: DigestView, listed: Listed) -> list[Any]:
    if view.judiciary_code is not None or not listed.lines:
        return []
    agencies = sorted({line.agency for line in listed.lines})
    return [paragraph("Agencies: " + "; ".join(agencies), is_subtle=True, size=FontSize.SMALL, spacing=Spacing.NONE)]


def _incident_group(group: IncidentGroup) -> tuple[str, str]:
    if group.nearest:
        near = "; ".join(
            f"{item.ticket_number} ({item.judiciary_code}) due {format_date(item.deadline)}, "
            f"{format_days_left(item.days_left)}"
            for item in group.nearest
        )
    else:
        near = "issue dates unknown"
    return (f"{incident_text(group.kind)}: {group.count}", f"nearest: {near}")


def digest_card(view: DigestView) -> dict[str, Any]:
    """The digest: a summary line, the two charts, officers, incidents and notices."""
    states = dict(view.by_state)
    in_monitoring = states["In monitoring"] + states["Ready for approval"]
    summary = (
        f"{in_monitoring} in monitoring ({states['Ready for approval']} ready for approval) · "
        f"{view.approved.total} approved since {format_date(view.approved_since)} · "
        f"{_plural(view.open_incidents, 'open incident')} · "
        f"{_plural(view.waiting_notices, 'notice')} waiting, {view.failed_notices} failed"
    )
    head: list[Any] = [
        *heading("Weekly e-ticket digest", subtle=f"{view.scope} · {format_date(view.today)}"),
        paragraph(summary),
    ]
    tail: list[Any] = [
        _section(f"Ready for approval ({view.ready.total})"),
        *_officer_lines(view.ready, "Nobody is ready for approval."),
        *_agency_note(view, view.ready),
        _section(f"In monitoring ({view.monitoring.total})"),
        *_officer_lines(view.monitoring, "Nobody else is in monitoring."),
        *_agency_note(view, view.monitoring),
        _section(f"Approved since {format_date(view.approved_since)} ({view.approved.total})"),
        *_officer_lines(view.approved, "Nobody was approved."),
        _section(f"Open incidents ({view.open_incidents})"),
    ]
    if view.incidents:
        tail.append(facts([_incident_group(group) for group in view.incidents]))
    else:
        tail.append(paragraph("No incident is open.", is_subtle=True, spacing=Spacing.NONE))
    tail.append(_section("Notices"))
    notices = (
        f"{_plural(view.waiting_notices, 'notice')} waiting to be delivered, {view.failed_notices} failed for good"
        + (" (JB e-ticket staff see them in /status)." if view.failed_notices else ".")
    )
    tail.append(
        ac.TextBlock(
            text=notices,
            wrap=True,
            spacing=Spacing.NONE,
            color=Colors.ATTENTION if view.failed_notices else None,
        )
    )
    tail.append(
        paragraph(
            "Sent every Monday morning; type /digest for this card at any time.", is_subtle=True, size=FontSize.SMALL
        )
    )
    card = render([*head, *tail])
    card["body"][len(head) : len(head)] = [state_chart(view), incidents_chart(view)]
    return card


def without_charts(card: dict[str, Any]) -> dict[str, Any]:
    """The card as a client without charts draws it: each chart replaced by its fallback."""
    body = [
        item.get("fallback", item) if str(item.get("type", "")).startswith("Chart.") else item for item in card["body"]
    ]
    return card | {"body": body}
