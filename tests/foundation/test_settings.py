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
    # the clocks of issue 16: 2 and 3 business days, 1 day before an extension ends, 14 days past the start date
    assert (settings.remind_unacknowledged_days, settings.remind_unapproved_days) == (2, 3)
    assert (settings.remind_extension_days, settings.remind_no_eticket_days) == (1, 14)
    assert settings.escalate_days_left == (7, 2)
    assert (settings.business_hours_start, settings.business_hours_end) == (8, 17)


def test_escalation_steps_are_read_in_any_order_and_kept_nearest_last() -> None:
    assert Settings.from_env({"ESCALATE_DAYS_LEFT": "2, 10,5"}).escalate_days_left == (10, 5, 2)


def test_every_setting_is_in_the_readmes_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for variable in (
        "REMIND_UNACKNOWLEDGED_DAYS",
        "REMIND_UNAPPROVED_DAYS",
        "REMIND_EXTENSION_DAYS",
        "REMIND_NO_ETICKET_DAYS",
        "ESCALATE_DAYS_LEFT",
        "BUSINESS_HOURS_START",
        "BUSINESS_HOURS_END",
        "DATABASE_URL",
    ):
        assert f"| `{variable}` |" in readme, variable


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
        ({"REMIND_UNACKNOWLEDGED_DAYS": "0"}, "REMIND_UNACKNOWLEDGED_DAYS"),
        ({"REMIND_UNAPPROVED_DAYS": "three"}, "REMIND_UNAPPROVED_DAYS"),
        ({"REMIND_EXTENSION_DAYS": "31"}, "REMIND_EXTENSION_DAYS"),
        ({"REMIND_NO_ETICKET_DAYS": "-2"}, "REMIND_NO_ETICKET_DAYS"),
        ({"ESCALATE_DAYS_LEFT": "7,x"}, "ESCALATE_DAYS_LEFT"),
        ({"ESCALATE_DAYS_LEFT": "7,7"}, "ESCALATE_DAYS_LEFT"),
        ({"ESCALATE_DAYS_LEFT": "0"}, "ESCALATE_DAYS_LEFT"),
        ({"BUSINESS_HOURS_START": "25"}, "BUSINESS_HOURS_START"),
        ({"BUSINESS_HOURS_START": "17", "BUSINESS_HOURS_END": "8"}, "BUSINESS_HOURS_END"),
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


def test_database_url_chooses_postgresql_and_is_never_shown() -> None:
    url = "postgresql://bot:s3cret-pass@db.internal:5432/jb"
    settings = Settings.from_env({"DATABASE_URL": url})
    assert settings.store_kind == "postgresql" and settings.database_url == url
    assert "s3cret-pass" not in repr(settings)
    assert Settings.from_env({}).store_kind == "embedded"
    assert Settings.from_env({"DATABASE_URL": "  "}).store_kind == "embedded"


@pytest.mark.parametrize(
    "url", ["mysql://bot:s3cret-pass@db/jb", "db.internal/jb", "postgresql://bot:s3cret-pass@db:port/jb"]
)
def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL") as refused:
        Settings.from_env({"DATABASE_URL": url})
    assert "s3cret-pass" not in str(refused.value) and "db.internal" not in str(refused.value)
