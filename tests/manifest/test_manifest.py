"""The Teams app package: schema validity, commands, icons and the build's refusals."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from manifest import build
from manifest.build import (
    ManifestSchemaError,
    PackageError,
    SchemaNotInstalledError,
    build_manifest,
    build_package,
    package_settings,
    validate_manifest,
)
from settings import Settings
from vocabulary.commands import COMMAND_NAMES, COMMANDS, CommandInfo

BOT_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
ENVIRONMENT = {
    "MicrosoftAppId": BOT_ID,
    "APP_VERSION": "2.3.4",
    "APP_WEBSITE_URL": "https://bot.example.org/about",
    "APP_PRIVACY_URL": "https://bot.example.org/privacy",
    "APP_TERMS_URL": "https://terms.example.org/terms",
}
NPM_HINT = f"run `npm install` in {build.REPO_ROOT} (package.json lists @microsoft/app-manifest)"

AJV_SCRIPT = """
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");
const fs = require("fs");
const [schemaPath, manifestPath] = process.argv.slice(1);
const ajv = new Ajv({ allErrors: true, strictTypes: false });
addFormats(ajv, ["uri", "email", "regex"]);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const valid = validate(JSON.parse(fs.readFileSync(manifestPath, "utf8")));
process.stdout.write(JSON.stringify(valid ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`)));
"""


@pytest.fixture(scope="module", autouse=True)
def official_schema_installed() -> None:
    """Fail (never skip) every test here when node_modules lacks the official schema."""
    if not build.SCHEMA_PACKAGE_DIR.is_dir():
        pytest.fail(f"the official Teams manifest schema is missing: {NPM_HINT}")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package zip built from a full test environment."""
    return build_package(ENVIRONMENT, tmp_path_factory.mktemp("package") / "jb-eticket-bot.zip")


@pytest.fixture(scope="module")
def packaged_manifest(package: Path) -> dict[str, Any]:
    """The manifest.json inside the built zip."""
    with zipfile.ZipFile(package) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return manifest


@pytest.fixture
def manifest() -> dict[str, Any]:
    """A fresh, valid manifest to break."""
    return build_manifest(package_settings(ENVIRONMENT))


def decode_png(data: bytes) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """Width, height and pixel rows of an 8-bit RGB or RGBA PNG (any filter), CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, header, compressed = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        header = body if kind == b"IHDR" else header
        compressed += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0) and color_type in (2, 6)
    channels = 3 if color_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(compressed)
    previous = bytearray(stride)
    rows: list[list[tuple[int, ...]]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up = previous[index]
            up_left = previous[index - channels] if index >= channels else 0
            if kind == 1:
                line[index] = (line[index] + left) & 0xFF
            elif kind == 2:
                line[index] = (line[index] + up) & 0xFF
            elif kind == 3:
                line[index] = (line[index] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
                predictor = (left, up, up_left)[distances.index(min(distances))]
                line[index] = (line[index] + predictor) & 0xFF
        rows.append([tuple(line[i : i + channels]) for i in range(0, stride, channels)])
        previous = line
    return width, height, rows


def run_ajv(manifest: dict[str, Any], tmp_path: Path) -> list[str]:
    """The messages of AJV (the validator Microsoft's own tools use) for a manifest."""
    node = shutil.which("node")
    assert node, "node is not on PATH: install Node 20 and " + NPM_HINT
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    schema = build.schema_path(manifest["manifestVersion"])
    result = subprocess.run(
        [node, "-e", AJV_SCRIPT, str(schema), str(manifest_path)],
        cwd=build.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    messages: list[str] = json.loads(result.stdout)
    return messages


# The built package


def test_package_holds_manifest_and_icons_at_its_root(package: Path) -> None:
    """The zip has exactly manifest.json, color.png and outline.png, no folders."""
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.read("color.png") == (build.MANIFEST_DIR / "color.png").read_bytes()
        assert archive.read("outline.png") == (build.MANIFEST_DIR / "outline.png").read_bytes()


def test_packaged_manifest_passes_the_official_schema(packaged_manifest: dict[str, Any]) -> None:
    """The manifest in the zip is valid against the bundled MicrosoftTeams.schema.json."""
    schema = json.loads(build.schema_path("1.22").read_text(encoding="utf-8"))
    assert packaged_manifest["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    assert [error.message for error in Draft4Validator(schema).iter_errors(packaged_manifest)] == []
    validate_manifest(packaged_manifest)


def test_packaged_manifest_passes_ajv_too(packaged_manifest: dict[str, Any], tmp_path: Path) -> None:
    """Node's AJV (draft-04, as in @microsoft/app-manifest) agrees the manifest is valid."""
    assert run_ajv(packaged_manifest, tmp_path) == []


def test_settings_fill_ids_version_and_urls(packaged_manifest: dict[str, Any]) -> None:
    """The bot id, version and developer URLs come from the environment."""
    assert packaged_manifest["id"] == BOT_ID
    assert packaged_manifest["bots"][0]["botId"] == BOT_ID
    assert packaged_manifest["version"] == "2.3.4"
    assert packaged_manifest["developer"] == {
        "name": "Vermont Judicial Bureau",
        "websiteUrl": "https://bot.example.org/about",
        "privacyUrl": "https://bot.example.org/privacy",
        "termsOfUseUrl": "https://terms.example.org/terms",
    }
    assert packaged_manifest["validDomains"] == ["bot.example.org", "terms.example.org"]


def test_bot_scopes_and_no_files(packaged_manifest: dict[str, Any]) -> None:
    """One bot, in personal, team and group chat scopes, without file support."""
    (bot,) = packaged_manifest["bots"]
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False


def test_defaults_when_only_the_bot_id_is_set() -> None:
    """Version defaults to 1.0.0 and missing URLs to the judiciary's site (settings.py); still schema-valid."""
    manifest = build_manifest(package_settings({"MicrosoftAppId": BOT_ID}))
    validate_manifest(manifest)
    assert manifest["version"] == "1.0.0"
    defaults = Settings()
    assert manifest["developer"] == {
        "name": "Vermont Judicial Bureau",
        "websiteUrl": defaults.app_website_url,
        "privacyUrl": defaults.app_privacy_url,
        "termsOfUseUrl": defaults.app_terms_url,
    }
    assert manifest["validDomains"] == ["www.vermontjudiciary.org"]


# A broken manifest fails with the schema's own message


def test_missing_bot_id_fails_with_the_schema_message(manifest: dict[str, Any], tmp_path: Path) -> None:
    """A bot without botId is refused, quoting the schema."""
    del manifest["bots"][0]["botId"]
    with pytest.raises(ManifestSchemaError) as refused:
        validate_manifest(manifest)
    assert refused.value.problems == ("bots/0: 'botId' is a required property",)
    assert "Teams v1.22 schema" in str(refused.value)
    assert run_ajv(manifest, tmp_path) == ["/bots/0 must have required property 'botId'"]


def test_forty_character_short_name_fails_with_the_schema_message(manifest: dict[str, Any], tmp_path: Path) -> None:
    """A short name over 30 characters is refused, quoting the schema."""
    manifest["name"]["short"] = "J" * 40
    with pytest.raises(ManifestSchemaError) as refused:
        validate_manifest(manifest)
    assert refused.value.problems == (f"name/short: '{'J' * 40}' is too long",)
    assert run_ajv(manifest, tmp_path) == ["/name/short must NOT have more than 30 characters"]


def test_bot_id_that_is_no_guid_fails() -> None:
    """MicrosoftAppId must be a GUID, in id and botId."""
    settings = package_settings({**ENVIRONMENT, "MicrosoftAppId": "not-a-guid"})
    with pytest.raises(ManifestSchemaError) as refused:
        validate_manifest(build_manifest(settings))
    assert [problem.split(":")[0] for problem in refused.value.problems] == ["bots/0/botId", "id"]
    assert "'not-a-guid' does not match" in refused.value.problems[0]


def test_version_must_be_semantic(manifest: dict[str, Any]) -> None:
    """APP_VERSION like 1.0 is refused with the schema's semver pattern."""
    manifest["version"] = "1.0"
    with pytest.raises(ManifestSchemaError) as refused:
        validate_manifest(manifest)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith("version: '1.0' does not match")


def test_missing_node_modules_says_to_run_npm_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without node_modules the error names the fix."""
    monkeypatch.setattr(build, "SCHEMA_PACKAGE_DIR", tmp_path / "node_modules" / "@microsoft" / "app-manifest")
    with pytest.raises(SchemaNotInstalledError, match="run `npm install` in"):
        build.schema_path("1.22")


# Commands: the manifest lists what the bot answers


def test_every_listed_command_is_one_the_bot_answers(packaged_manifest: dict[str, Any]) -> None:
    """Each command list title is a catalog command name."""
    for command_list in packaged_manifest["bots"][0]["commandLists"]:
        for command in command_list["commands"]:
            assert command["title"] in COMMAND_NAMES


def test_every_catalog_command_is_listed_in_exactly_its_scopes(packaged_manifest: dict[str, Any]) -> None:
    """One list per scope; a command is in the lists of its scopes and no others, in catalog order."""
    lists = packaged_manifest["bots"][0]["commandLists"]
    assert [command_list["scopes"] for command_list in lists] == [["personal"], ["team"], ["groupChat"]]
    for command_list in lists:
        (scope,) = command_list["scopes"]
        titles = [command["title"] for command in command_list["commands"]]
        assert titles == [command.name for command in COMMANDS if scope in command.scopes]
        assert len(titles) <= build.MAX_COMMANDS_PER_LIST


def test_command_descriptions_fit_and_show_usage(packaged_manifest: dict[str, Any]) -> None:
    """Descriptions are at most 128 characters and show the arguments a command takes."""
    usage = {command.name: command.usage for command in COMMANDS}
    for command_list in packaged_manifest["bots"][0]["commandLists"]:
        for command in command_list["commands"]:
            assert 0 < len(command["description"]) <= build.MAX_COMMAND_DESCRIPTION
            if usage[command["title"]] != f"/{command['title']}":
                assert command["description"].endswith(usage[command["title"]])


def test_full_description_names_every_command(packaged_manifest: dict[str, Any]) -> None:
    """The store text's command list does not drift from the catalog."""
    for name in COMMAND_NAMES:
        assert f"/{name}" in packaged_manifest["description"]["full"]


def test_too_many_commands_for_one_list_are_refused() -> None:
    """More than 10 commands in a scope is an error, not a silent cut."""
    many = COMMANDS + tuple(CommandInfo(f"extra-{index}", f"/extra-{index}", "Extra") for index in range(10))
    with pytest.raises(PackageError, match="at most 10"):
        build.command_lists(many)


# Icons


def icon_pixels(name: str) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """The committed icon's width, height and pixel rows."""
    return decode_png((build.MANIFEST_DIR / name).read_bytes())


def test_color_icon_is_192_and_opaque() -> None:
    """color.png is 192x192, opaque, and a light mark on a coloured background."""
    width, height, rows = icon_pixels("color.png")
    assert (width, height) == (192, 192)
    pixels = {pixel for row in rows for pixel in row}
    assert all(len(pixel) == 3 or pixel[3] == 255 for pixel in pixels)
    assert (255, 255, 255) in {pixel[:3] for pixel in pixels}
    assert len(pixels) > 2  # anti-aliased edges between the mark and the background


def test_outline_icon_is_32_white_on_transparent() -> None:
    """outline.png is 32x32 with only opaque white or fully transparent pixels, and both occur."""
    width, height, rows = icon_pixels("outline.png")
    assert (width, height) == (32, 32)
    pixels = {pixel for row in rows for pixel in row}
    assert pixels == {(255, 255, 255, 255), (255, 255, 255, 0)}


def test_accent_color_matches_the_icon() -> None:
    """The manifest's accentColor is the icon's background (its four corners and most of its pixels)."""
    _, _, rows = icon_pixels("color.png")
    corners = {rows[0][0][:3], rows[0][-1][:3], rows[-1][0][:3], rows[-1][-1][:3]}
    counts = Counter(pixel[:3] for row in rows for pixel in row)
    (background,) = corners
    assert counts.most_common(1)[0][0] == background
    assert build.load_template()["accentColor"].upper() == "#{:02X}{:02X}{:02X}".format(*background)


# The command line


def run_build(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m manifest.build --out <tmp>/p.zip` with the given environment on top of ours."""
    return subprocess.run(
        [sys.executable, "-m", "manifest.build", "--out", str(tmp_path / "p.zip")],
        cwd=build.REPO_ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_build_refuses_without_a_bot_id(tmp_path: Path) -> None:
    """An empty MicrosoftAppId: exit code 2, a one-line reason, no zip."""
    result = run_build(tmp_path, MicrosoftAppId="")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "manifest.build: MicrosoftAppId is not set: the Teams package needs the bot's Microsoft App ID; "
        "set MicrosoftAppId and build again"
    ]
    assert not (tmp_path / "p.zip").exists()


def test_build_refuses_a_bad_setting_naming_it(tmp_path: Path) -> None:
    """A setting the bot would refuse (APP_VERSION 1.0) stops the build too, with its one-line reason."""
    result = run_build(tmp_path, **{**ENVIRONMENT, "APP_VERSION": "1.0"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["manifest.build: APP_VERSION must look like 1.0.0, got '1.0'"]
    assert not (tmp_path / "p.zip").exists()


def test_build_writes_the_zip(tmp_path: Path) -> None:
    """With the settings set, the module writes the zip and says where."""
    result = run_build(tmp_path, **ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Wrote {tmp_path / 'p.zip'}"
    assert zipfile.is_zipfile(tmp_path / "p.zip")
