"""Settings: one frozen dataclass, read from the environment once and validated at start."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
COURT_ZONE = ZoneInfo("America/New_York")
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class SettingsError(ValueError):
    """A setting has a value the bot cannot run with; the message names the variable."""


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
"""Hosts that PUBLIC_BASE_URL may name with plain http (local mode on this machine)."""


def _public_base_url(raw: str) -> str | None:
    """PUBLIC_BASE_URL: the bot's address as a browser reaches it, without a trailing slash (None when unset).

    An https:// URL, or http:// for localhost and 127.0.0.1 (the Agents Playground on this machine);
    a path prefix is kept (a bot behind a reverse proxy), a query or fragment is refused.
    """
    if not raw:
        return None
    parsed = urlparse(raw)
    local = parsed.scheme == "http" and parsed.hostname in LOCAL_HOSTS
    if not parsed.netloc or not (parsed.scheme == "https" or local):
        raise SettingsError(
            f"PUBLIC_BASE_URL must be an https:// URL (or http://localhost / http://127.0.0.1), got {raw!r}"
        )
    if parsed.query or parsed.fragment or parsed.params or "@" in parsed.netloc:
        raise SettingsError(f"PUBLIC_BASE_URL must be a plain address with no query, fragment or user, got {raw!r}")
    return raw.rstrip("/")


def _database_url(raw: str) -> str | None:
    """DATABASE_URL: a ``postgresql://`` (or ``postgres://``) URL, None when unset. Its value is never echoed: it holds a password."""
    if not raw:
        return None
    shape = "postgresql://user:password@host:5432/dbname"
    try:
        parsed = urlparse(raw)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise SettingsError(f"DATABASE_URL is not a readable URL (expected {shape}; its value is not shown)") from None
    if parsed.scheme not in ("postgresql", "postgres"):
        raise SettingsError(f"DATABASE_URL must be a postgresql:// URL such as {shape} (its value is not shown)")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment (DESIGN.md "Settings")."""

    port: int = 3978
    host: str | None = None
    data_dir: Path = Path("./data")
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    jb_staff_ids: frozenset[str] = frozenset()
    ticket_events_secret: str | None = field(default=None, repr=False)
    public_base_url: str | None = None
    exports_secret: str | None = field(default=None, repr=False)
    allowed_tenants: frozenset[str] = frozenset()
    timezone: ZoneInfo = COURT_ZONE
    ready_min_accepted: int = 3
    ready_min_days: int = 7
    ready_clean_streak: int = 3
    remind_unacknowledged_days: int = 2
    remind_unapproved_days: int = 3
    remind_extension_days: int = 1
    remind_no_eticket_days: int = 14
    archive_after_days: int = 400
    escalate_days_left: tuple[int, ...] = (7, 2)
    business_hours_start: int = 8
    business_hours_end: int = 17
    app_version: str = "1.0.0"
    app_website_url: str = "https://www.vermontjudiciary.org"
    app_privacy_url: str = "https://www.vermontjudiciary.org/privacy"
    app_terms_url: str = "https://www.vermontjudiciary.org/terms"
    openid_metadata_url: str | None = None
    storage_recover: bool = False
    database_url: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)

    @property
    def store_kind(self) -> str:
        """``postgresql`` when DATABASE_URL is set, else ``embedded`` (TinyDB files under DATA_DIR)."""
        return "postgresql" if self.database_url else "embedded"

    @property
    def local_mode(self) -> bool:
        """True when no Microsoft App Id is set: no Bot Framework authentication (Agents Playground)."""
        return not self.app_id

    @property
    def bind_host(self) -> str:
        """The address to listen on: HOST, else 127.0.0.1 in local mode (unauthenticated) and every address otherwise."""
        if self.host:
            return self.host
        return "127.0.0.1" if self.local_mode else "0.0.0.0"

    @property
    def exposed_without_authentication(self) -> bool:
        """True when local mode (no authentication) listens on more than this machine's loopback."""
        if not self.local_mode:
            return False
        if self.bind_host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(self.bind_host).is_loopback
        except ValueError:  # a host name other than localhost: assume it is reachable from elsewhere
            return True

    def is_jb_staff(self, aad_id: str | None) -> bool:
        """Whether this Azure AD object id is one of JB_STAFF_IDS (case-insensitive)."""
        return bool(aad_id) and aad_id.strip().lower() in self.jb_staff_ids  # type: ignore[union-attr]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, check_credentials: bool = True) -> Settings:
        """Read and validate every setting; raise SettingsError naming the first bad variable.

        ``check_credentials=False`` skips the checks that the Bot Framework credentials are complete
        (MicrosoftAppPassword, MicrosoftAppTenantId): building the Teams package needs the app id only.
        """
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = text(name)
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
            if not low <= value <= high:
                raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
            return value

        def id_set(name: str) -> frozenset[str]:
            items = [item.strip().lower() for item in text(name).split(",")]
            return frozenset(item for item in items if item)

        def flag(name: str) -> bool:
            raw = text(name).lower()
            if raw in ("", "0", "false", "no", "off"):
                return False
            if raw in ("1", "true", "yes", "on"):
                return True
            raise SettingsError(f"{name} must be 1 or 0 (true or false), got {text(name)!r}")

        def url(name: str, default: str) -> str:
            raw = text(name) or default
            parsed = urlparse(raw)
            if parsed.scheme != "https" or not parsed.netloc:
                raise SettingsError(f"{name} must be an https:// URL, got {raw!r}")
            return raw

        app_type = text("MicrosoftAppType") or defaults.app_type
        matching = [known for known in APP_TYPES if known.lower() == app_type.lower()]
        if not matching:
            raise SettingsError(f"MicrosoftAppType must be one of {', '.join(APP_TYPES)}, got {app_type!r}")
        app_id = text("MicrosoftAppId")
        app_password = env.get("MicrosoftAppPassword", "")
        tenant_id = text("MicrosoftAppTenantId")
        if check_credentials:
            if app_id and matching[0] == "MultiTenant" and not app_password:
                raise SettingsError("MicrosoftAppPassword must be set when MicrosoftAppId is set")
            if matching[0] == "SingleTenant" and not tenant_id:
                raise SettingsError("MicrosoftAppTenantId must be set when MicrosoftAppType is SingleTenant")
            if not app_id and app_password:
                raise SettingsError("MicrosoftAppPassword is set but MicrosoftAppId is empty")

        zone_name = text("TIMEZONE") or "America/New_York"
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"TIMEZONE must be an IANA time zone such as America/New_York, got {zone_name!r}"
            ) from None

        data_dir = Path(text("DATA_DIR") or "./data")
        if data_dir.exists() and not data_dir.is_dir():
            raise SettingsError(f"DATA_DIR must be a directory, got {str(data_dir)!r}")

        public_base_url = _public_base_url(text("PUBLIC_BASE_URL"))
        exports_secret = env.get("EXPORTS_SECRET", "")
        if exports_secret and len(exports_secret) < 16:
            raise SettingsError("EXPORTS_SECRET must be at least 16 characters")

        metrics_token = env.get("METRICS_TOKEN", "")
        if metrics_token and len(metrics_token) < 16:
            raise SettingsError("METRICS_TOKEN must be at least 16 characters")

        secret = env.get("TICKET_EVENTS_SECRET", "")
        if secret and len(secret) < 16:
            raise SettingsError("TICKET_EVENTS_SECRET must be at least 16 characters")

        escalate_days_left = defaults.escalate_days_left
        raw_steps = text("ESCALATE_DAYS_LEFT")
        if raw_steps:
            try:
                steps = [int(part) for part in raw_steps.split(",") if part.strip()]
            except ValueError:
                raise SettingsError(
                    f"ESCALATE_DAYS_LEFT must be whole numbers separated by commas, got {raw_steps!r}"
                ) from None
            if not steps or any(not 1 <= step <= 20 for step in steps) or len(set(steps)) != len(steps):
                raise SettingsError(f"ESCALATE_DAYS_LEFT must be distinct days between 1 and 20, got {raw_steps!r}")
            escalate_days_left = tuple(sorted(steps, reverse=True))
        hours_start = integer("BUSINESS_HOURS_START", defaults.business_hours_start, 0, 23)
        hours_end = integer("BUSINESS_HOURS_END", defaults.business_hours_end, 1, 24)
        if hours_end <= hours_start:
            raise SettingsError(
                f"BUSINESS_HOURS_END must be later than BUSINESS_HOURS_START, got {hours_start} to {hours_end}"
            )

        version = text("APP_VERSION") or defaults.app_version
        parts = version.split(".")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise SettingsError(f"APP_VERSION must look like 1.0.0, got {version!r}")

        host = text("HOST") or None
        if host is not None:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                if not _HOST_NAME.fullmatch(host):
                    raise SettingsError(
                        f"HOST must be an IP address or a host name to listen on, such as 0.0.0.0, got {host!r}"
                    ) from None

        return cls(
            port=integer("PORT", defaults.port, 1, 65535),
            host=host,
            data_dir=data_dir,
            app_id=app_id,
            app_password=app_password,
            app_type=matching[0],
            app_tenant_id=tenant_id,
            jb_staff_ids=id_set("JB_STAFF_IDS"),
            ticket_events_secret=secret or None,
            public_base_url=public_base_url,
            exports_secret=exports_secret or None,
            allowed_tenants=id_set("ALLOWED_TENANTS"),
            timezone=zone,
            ready_min_accepted=integer("READY_MIN_ACCEPTED", defaults.ready_min_accepted, 1, 100),
            ready_min_days=integer("READY_MIN_DAYS", defaults.ready_min_days, 0, 365),
            ready_clean_streak=integer("READY_CLEAN_STREAK", defaults.ready_clean_streak, 1, 100),
            remind_unacknowledged_days=integer(
                "REMIND_UNACKNOWLEDGED_DAYS", defaults.remind_unacknowledged_days, 1, 30
            ),
            remind_unapproved_days=integer("REMIND_UNAPPROVED_DAYS", defaults.remind_unapproved_days, 1, 30),
            remind_extension_days=integer("REMIND_EXTENSION_DAYS", defaults.remind_extension_days, 1, 30),
            remind_no_eticket_days=integer("REMIND_NO_ETICKET_DAYS", defaults.remind_no_eticket_days, 1, 365),
            archive_after_days=integer("ARCHIVE_AFTER_DAYS", defaults.archive_after_days, 30, 3650),
            escalate_days_left=escalate_days_left,
            business_hours_start=hours_start,
            business_hours_end=hours_end,
            app_version=version,
            app_website_url=url("APP_WEBSITE_URL", defaults.app_website_url),
            app_privacy_url=url("APP_PRIVACY_URL", defaults.app_privacy_url),
            app_terms_url=url("APP_TERMS_URL", defaults.app_terms_url),
            openid_metadata_url=text("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL") or None,
            storage_recover=flag("STORAGE_RECOVER"),
            database_url=_database_url(env.get("DATABASE_URL", "").strip()),
            metrics_token=metrics_token or None,
        )
