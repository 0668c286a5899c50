"""Build the Teams app package: `python -m manifest.build [--out build/jb-eticket-bot.zip]`.

The manifest template `manifest.json` beside this file holds everything that does not change
between installations. The build fills in what does, by key, from the bot's settings (settings.py,
which holds the defaults): `id` and `bots[0].botId` from `MicrosoftAppId`, `version` from
`APP_VERSION`, the developer URLs from `APP_WEBSITE_URL`, `APP_PRIVACY_URL` and `APP_TERMS_URL`,
`validDomains` from their hosts, and one command list per bot scope from
`vocabulary.commands.COMMANDS`. The result is validated offline against the official Microsoft
Teams schema that npm's `@microsoft/app-manifest` ships in the repository's `node_modules` before
the zip (manifest.json and the committed icons color.png and outline.png, at its root) is written.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import struct
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator

from settings import Settings, SettingsError
from vocabulary.commands import COMMANDS, CommandInfo

logger = logging.getLogger(__name__)

MANIFEST_DIR = Path(__file__).parent
REPO_ROOT = MANIFEST_DIR.parent
TEMPLATE_PATH = MANIFEST_DIR / "manifest.json"
SCHEMA_PACKAGE_DIR = REPO_ROOT / "node_modules" / "@microsoft" / "app-manifest"
TEAMS_SCHEMAS_DIR = SCHEMA_PACKAGE_DIR / "build" / "json-schemas" / "teams"
DEFAULT_OUT = REPO_ROOT / "build" / "jb-eticket-bot.zip"
COLOR_ICON = "color.png"
COLOR_SIZE = 192
OUTLINE_ICON = "outline.png"
OUTLINE_SIZE = 32

BOT_SCOPES: tuple[str, ...] = ("personal", "team", "groupChat")
MAX_COMMANDS_PER_LIST = 10
MAX_COMMAND_DESCRIPTION = 128
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every zip entry gets this date, so the same inputs give the same bytes."""


class PackageError(Exception):
    """The package cannot be built; the message is one line telling the builder why."""


class SchemaNotInstalledError(PackageError):
    """The official Teams schema is missing from node_modules (npm install has not run)."""


class ManifestSchemaError(PackageError):
    """The manifest breaks the official Teams schema; `problems` lists each schema message."""

    def __init__(self, schema_version: str, problems: Sequence[str]) -> None:
        """Keep the schema's messages and join them into one line."""
        self.schema_version = schema_version
        self.problems = tuple(problems)
        super().__init__(f"manifest does not match the Teams v{schema_version} schema: " + "; ".join(self.problems))


def package_settings(environ: Mapping[str, str]) -> Settings:
    """The bot's settings for the package (no app password needed); refuse when no bot id is set."""
    try:
        settings = Settings.from_env(environ, check_credentials=False)
    except SettingsError as error:
        raise PackageError(str(error)) from None
    if not settings.app_id:
        raise PackageError(
            "MicrosoftAppId is not set: the Teams package needs the bot's Microsoft App ID; "
            "set MicrosoftAppId and build again"
        )
    return settings


def load_template() -> dict[str, Any]:
    """The manifest template, read from manifest.json beside this module."""
    template: dict[str, Any] = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    return template


def command_description(command: CommandInfo) -> str:
    """What the Teams command menu shows under a command: its description and, if it takes any, its arguments."""
    if command.usage == f"/{command.name}":
        return command.description
    return f"{command.description}: {command.usage}"


def command_lists(commands: Iterable[CommandInfo]) -> list[dict[str, Any]]:
    """One Teams command list per bot scope, each with every command that works in that scope."""
    commands = tuple(commands)
    for command in commands:
        unknown = set(command.scopes) - set(BOT_SCOPES)
        if unknown:
            raise PackageError(f"command {command.name!r} names scopes the bot lacks: {sorted(unknown)}")
        if len(command_description(command)) > MAX_COMMAND_DESCRIPTION:
            raise PackageError(f"command {command.name!r}: description over {MAX_COMMAND_DESCRIPTION} characters")
    lists: list[dict[str, Any]] = []
    for scope in BOT_SCOPES:
        in_scope = [command for command in commands if scope in command.scopes]
        if len(in_scope) > MAX_COMMANDS_PER_LIST:
            raise PackageError(
                f"{len(in_scope)} commands in scope {scope!r}; a Teams command list holds at most "
                f"{MAX_COMMANDS_PER_LIST}"
            )
        if in_scope:
            lists.append(
                {
                    "scopes": [scope],
                    "commands": [
                        {"title": command.name, "description": command_description(command)} for command in in_scope
                    ],
                }
            )
    return lists


def valid_domains(urls: Iterable[str]) -> list[str]:
    """The distinct hosts of the given URLs, in order."""
    hosts: list[str] = []
    for url in urls:
        host = urlsplit(url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def build_manifest(settings: Settings, template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest for these settings: the template with ids, version, URLs and commands filled in."""
    manifest = copy.deepcopy(dict(template if template is not None else load_template()))
    manifest["id"] = settings.app_id
    manifest["version"] = settings.app_version
    manifest["developer"]["websiteUrl"] = settings.app_website_url
    manifest["developer"]["privacyUrl"] = settings.app_privacy_url
    manifest["developer"]["termsOfUseUrl"] = settings.app_terms_url
    manifest["validDomains"] = valid_domains(
        (settings.app_website_url, settings.app_privacy_url, settings.app_terms_url)
    )
    bot = manifest["bots"][0]
    bot["botId"] = settings.app_id
    bot["commandLists"] = command_lists(COMMANDS)
    description = manifest["description"]
    description["full"] = description["full"].replace("{commands}", ", ".join(f"/{c.name}" for c in COMMANDS))
    return manifest


def schema_path(manifest_version: str) -> Path:
    """Where the official schema of a manifest version lies in node_modules; raises if absent."""
    if not SCHEMA_PACKAGE_DIR.is_dir():
        raise SchemaNotInstalledError(
            f"the official Teams manifest schema is not installed ({SCHEMA_PACKAGE_DIR} is missing): "
            f"run `npm install` in {REPO_ROOT}"
        )
    path = TEAMS_SCHEMAS_DIR / f"v{manifest_version}" / "MicrosoftTeams.schema.json"
    if not path.is_file():
        raise SchemaNotInstalledError(
            f"@microsoft/app-manifest in node_modules has no Teams schema v{manifest_version} "
            f"({path}): run `npm install` in {REPO_ROOT}"
        )
    return path


def load_schema(manifest_version: str) -> dict[str, Any]:
    """The official Teams manifest JSON schema (draft-04) of a manifest version."""
    schema: dict[str, Any] = json.loads(schema_path(manifest_version).read_text(encoding="utf-8"))
    return schema


def _where(path: Iterable[Any]) -> str:
    """A JSON path like bots/0/botId, or (root)."""
    return "/".join(str(part) for part in path) or "(root)"


def schema_problems(manifest: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The manifest version and every message the official schema gives about the manifest."""
    manifest_version = str(manifest.get("manifestVersion", ""))
    if not manifest_version:
        raise PackageError("the manifest has no manifestVersion, so no schema can be chosen")
    expected_schema_url = (
        f"https://developer.microsoft.com/en-us/json-schemas/teams/v{manifest_version}/MicrosoftTeams.schema.json"
    )
    if manifest.get("$schema") != expected_schema_url:
        raise PackageError(f"the manifest's $schema should be {expected_schema_url}")
    schema = load_schema(manifest_version)
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
    problems = [f"{_where(error.absolute_path)}: {error.message}" for error in errors]
    # Teams requires a semantic version; the schema declares the pattern but does not apply it.
    version_errors = Draft4Validator(schema["definitions"]["semver"]).iter_errors(manifest.get("version"))
    problems.extend(f"version: {error.message}" for error in version_errors)
    return manifest_version, problems


def validate_manifest(manifest: Mapping[str, Any]) -> None:
    """Check the manifest against the official Teams schema; raise ManifestSchemaError if it fails."""
    manifest_version, problems = schema_problems(manifest)
    if problems:
        raise ManifestSchemaError(manifest_version, problems)
    logger.info("manifest matches the Teams v%s schema", manifest_version)


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG file's (width, height), read from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("an icon is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def read_icon(name: str, size: int) -> bytes:
    """An icon file from the manifest folder, checked to be a size x size PNG."""
    data = (MANIFEST_DIR / name).read_bytes()
    if png_size(data) != (size, size):
        raise PackageError(f"{name} must be a {size}x{size} PNG; replace {MANIFEST_DIR / name} with one")
    return data


def write_package(manifest: Mapping[str, Any], out: Path) -> Path:
    """Validate the manifest and write the zip with manifest.json and both icons at its root."""
    validate_manifest(manifest)
    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        manifest["icons"]["color"]: read_icon(COLOR_ICON, COLOR_SIZE),
        manifest["icons"]["outline"]: read_icon(OUTLINE_ICON, OUTLINE_SIZE),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    partial.replace(out)
    logger.info("wrote %s", out)
    return out


def build_package(environ: Mapping[str, str], out: Path = DEFAULT_OUT) -> Path:
    """Read the settings, build and validate the manifest, and write the package zip."""
    settings = package_settings(environ)
    return write_package(build_manifest(settings), out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the package; exit 2 with a one-line reason when it cannot be built."""
    parser = argparse.ArgumentParser(
        prog="python -m manifest.build", description="Build the Teams app package zip for the JB e-Ticket Bot."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"zip to write (default {DEFAULT_OUT})")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        out = build_package(os.environ, arguments.out)
    except PackageError as error:
        sys.stderr.write(f"manifest.build: {error}\n")
        return 2
    sys.stdout.write(f"Wrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
