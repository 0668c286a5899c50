"""Settings are read once from the environment and a wrong value names its variable."""

from pathlib import Path

import pytest

from settings import Settings, SettingsError


def test_defaults_are_designs_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.port == 3978
    assert settings.data_dir == Path("./data")
    assert settings.local_mode
    assert settings.timezone.key == "America/New_York"
    assert (settings.ready_min_accepted, settings.ready_min_days, settings.ready_clean_streak) == (3, 7, 3)
    assert settings.ticket_events_secret is None


def test_staff_ids_compare_without_case_or_spaces() -> None:
    settings = Settings.from_env({"JB_STAFF_IDS": " AAAA-1 , bbbb-2,,"})
    assert settings.is_jb_staff("aaaa-1")
    assert settings.is_jb_staff("BBBB-2")
    assert not settings.is_jb_staff("cccc-3")
    assert not settings.is_jb_staff("")
    assert not settings.is_jb_staff(None)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"READY_MIN_ACCEPTED": "0"}, "READY_MIN_ACCEPTED"),
        ({"READY_MIN_DAYS": "-1"}, "READY_MIN_DAYS"),
        ({"MicrosoftAppType": "Nope"}, "MicrosoftAppType"),
        ({"MicrosoftAppId": "abc"}, "MicrosoftAppPassword"),
        ({"MicrosoftAppPassword": "secret"}, "MicrosoftAppPassword"),
        (
            {"MicrosoftAppType": "SingleTenant", "MicrosoftAppId": "a", "MicrosoftAppPassword": "b"},
            "MicrosoftAppTenantId",
        ),
        ({"APP_WEBSITE_URL": "http://example.org"}, "APP_WEBSITE_URL"),
        ({"APP_VERSION": "1.0"}, "APP_VERSION"),
        ({"TICKET_EVENTS_SECRET": "short"}, "TICKET_EVENTS_SECRET"),
    ],
)
def test_a_wrong_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_the_package_build_reads_an_app_id_without_its_password() -> None:
    settings = Settings.from_env({"MicrosoftAppId": "abc"}, check_credentials=False)
    assert settings.app_id == "abc"
    with pytest.raises(SettingsError, match="APP_VERSION"):
        Settings.from_env({"MicrosoftAppId": "abc", "APP_VERSION": "1.0"}, check_credentials=False)


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "data"
    file.write_text("not a directory")
    with pytest.raises(SettingsError, match="DATA_DIR"):
        Settings.from_env({"DATA_DIR": str(file)})


def test_the_password_never_shows_in_repr() -> None:
    settings = Settings.from_env({"MicrosoftAppId": "app", "MicrosoftAppPassword": "hunter2-very-secret"})
    assert "hunter2" not in repr(settings)
    assert not settings.local_mode


def test_the_bot_refuses_to_start_with_a_bad_setting(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "app.py"],
        env={"PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr
    assert "Traceback" not in result.stderr
