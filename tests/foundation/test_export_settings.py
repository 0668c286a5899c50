"""PUBLIC_BASE_URL and EXPORTS_SECRET (issue 17): both optional; a wrong value names its variable."""

from __future__ import annotations

import pytest

from settings import Settings, SettingsError


def test_downloads_are_off_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.public_base_url is None
    assert settings.exports_secret is None


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("https://bot.vermont.example", "https://bot.vermont.example"),
        ("https://bot.vermont.example/jb-bot/", "https://bot.vermont.example/jb-bot"),
        ("http://localhost:3978", "http://localhost:3978"),
        ("http://127.0.0.1:3978/", "http://127.0.0.1:3978"),
    ],
)
def test_a_public_base_url_is_kept_without_its_trailing_slash(raw: str, kept: str) -> None:
    assert Settings.from_env({"PUBLIC_BASE_URL": raw}).public_base_url == kept


@pytest.mark.parametrize(
    "raw",
    [
        "http://bot.vermont.example",  # plain http only for this machine
        "ftp://bot.vermont.example",
        "bot.vermont.example",
        "https://",
        "https://bot.vermont.example/?x=1",
        "https://bot.vermont.example/#top",
        "https://user:pw@bot.vermont.example",
        "http://localhost.evil.example",
    ],
)
def test_a_wrong_public_base_url_names_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"PUBLIC_BASE_URL": raw})


def test_the_exports_secret_has_at_least_16_characters_and_is_never_shown() -> None:
    with pytest.raises(SettingsError, match="EXPORTS_SECRET"):
        Settings.from_env({"EXPORTS_SECRET": "too-short"})
    settings = Settings.from_env({"EXPORTS_SECRET": "a-secret-of-enough-length"})
    assert settings.exports_secret == "a-secret-of-enough-length"
    assert "a-secret-of-enough-length" not in repr(settings)
