"""The shape of an incoming activity, checked before botbuilder sees it: a malformed one is a 400 naming the field.

botbuilder deserializes the body with msrest into its schema models; a value of the wrong JSON type (a
``conversation`` that is a string, ``from`` a list, ``entities`` a string, ``membersAdded`` an object, a
``timestamp`` that is no date) makes that fail inside the adapter, which answers 500. The check walks the
same schema (each model's ``_attribute_map``), so every field botbuilder reads is covered with the type
botbuilder expects, and adds what this bot relies on: a conversation id, a channel id and an http(s)
``serviceUrl`` on every activity.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from botbuilder import schema
from msrest.exceptions import DeserializationError
from msrest.serialization import Deserializer

_JSON_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float)}


def _model(type_name: str) -> Any:
    """The botbuilder schema model class of a msrest type name, or None."""
    model = getattr(schema, type_name, None)
    return model if isinstance(model, type) and hasattr(model, "_attribute_map") else None


def _problem(path: str, value: Any, type_name: str) -> str | None:
    """What is wrong with one value of msrest type ``type_name`` (None when nothing), naming its path."""
    if value is None:
        return None
    if type_name == "object":
        return None
    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            return f"{path} must be a list"
        for index, item in enumerate(value):
            problem = _problem(f"{path}[{index}]", item, type_name[1:-1])
            if problem:
                return problem
        return None
    if type_name.startswith("{") and type_name.endswith("}"):
        if not isinstance(value, dict):
            return f"{path} must be an object"
        for key, item in value.items():
            problem = _problem(f"{path}.{key}", item, type_name[1:-1])
            if problem:
                return problem
        return None
    if type_name == "iso-8601":
        if not isinstance(value, str):
            return f"{path} must be an ISO 8601 date and time"
        try:
            Deserializer.deserialize_iso(value)
        except DeserializationError:
            return f"{path} must be an ISO 8601 date and time"
        return None
    if type_name in _JSON_TYPES:
        wanted = _JSON_TYPES[type_name]
        if not isinstance(value, wanted) or (type_name != "bool" and isinstance(value, bool)):
            return f"{path} must be {'a string' if type_name == 'str' else 'a ' + ('boolean' if type_name == 'bool' else 'number')}"
        return None
    model = _model(type_name)
    if model is None:  # an enum or a type botbuilder does not model: msrest passes it through
        return None
    if not isinstance(value, dict):
        return f"{path} must be an object"
    for attribute in model._attribute_map.values():
        key = attribute["key"]
        if key in value:
            problem = _problem(f"{path}.{key}" if path else key, value[key], attribute["type"])
            if problem:
                return problem
    return None


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = urlparse(value)
        return parsed.scheme in ("http", "https") and bool(parsed.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def activity_problem(body: Any) -> str | None:
    """Why this JSON body is not an activity the bot can handle (a sentence naming the field), or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (an activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "type must be a non-empty string"
    problem = _problem("", body, "Activity")
    if problem:
        return problem
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return "conversation.id must be a non-empty string"
    if not isinstance(body.get("channelId"), str) or not body["channelId"]:
        return "channelId must be a non-empty string"
    if not _is_http_url(body.get("serviceUrl")):
        return "serviceUrl must be an http(s) URL"
    if body["type"] in ("message", "invoke") and not isinstance(body.get("from"), dict):
        return "from must be an object"
    return None
