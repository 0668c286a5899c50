"""Commands work with or without the slash, in any case, and with an @mention."""

import pytest

from bot.router import parse


@pytest.mark.parametrize(
    "text",
    [
        "/help",
        "help",
        "HELP",
        "/Help",
        "  /help  ",
        "<at>JB e-Ticket Bot</at> /help",
        "<at>JB e-Ticket Bot</at>\u00a0help",
    ],
)
def test_help_in_every_spelling(text: str) -> None:
    parsed = parse(text)
    assert parsed is not None and parsed.name == "help" and parsed.args == ""


def test_arguments_follow_the_command() -> None:
    parsed = parse("<at>Bot</at> /Status  9000 ")
    assert parsed is not None and (parsed.name, parsed.args) == ("status", "9000")


def test_a_word_inside_a_sentence_is_not_a_command() -> None:
    parsed = parse("please help me")
    assert parsed is not None and parsed.name == "please"


@pytest.mark.parametrize("text", [None, "", "   ", "<at>Bot</at>"])
def test_nothing_typed_is_no_command(text: str | None) -> None:
    assert parse(text) is None
