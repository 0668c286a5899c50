"""make demo's set-up as plain calls: ports, the kept intake secret, the two people's configs, what it prints."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import pytest

from tools.demo import CannotStart, Demo, instructions, intake_secret, ports_from
from tools.playground import BOT_NAME, JB, PEOPLE, POC, ROOT, free_port, listening, port_taken


def test_ports_are_the_readme_defaults_unless_the_environment_says_otherwise() -> None:
    assert ports_from({}) == {"bot": 3978, "poc": 56150, "jb": 56151}
    assert ports_from({"PORT": "4000", "DEMO_JB_PORT": "4002"}) == {"bot": 4000, "poc": 56150, "jb": 4002}
    with pytest.raises(CannotStart, match="DEMO_POC_PORT must be a TCP port number"):
        ports_from({"DEMO_POC_PORT": "x"})
    with pytest.raises(CannotStart, match="three different ports"):
        ports_from({"PORT": "56150"})


def test_the_intake_secret_is_generated_once_private_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "demo-data"
    secret = intake_secret(folder)
    path = folder / "intake-secret"
    assert len(secret) >= 16 and path.read_text().strip() == secret
    assert path.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    assert intake_secret(folder) == secret  # the next make demo, and make demo-events, read the same one
    path.write_text("short\n")
    assert intake_secret(folder) != "short"


def test_what_it_prints_names_both_pages_and_the_first_steps_but_not_the_secret(tmp_path: Path) -> None:
    secret = intake_secret(tmp_path)
    text = instructions(tmp_path, {"bot": 3978, "poc": 56150, "jb": 56151})
    assert "Jamie Staff, Judicial Bureau (JB e-ticket staff):   http://localhost:56151/" in text
    assert "Pat Poc, Williston Police Department (agency PoC):   http://localhost:56150/" in text
    assert text.index("/subscribe jb") < text.index("/new-package") < text.index("/subscribe 9000")
    assert text.index("/subscribe 9000") < text.index("make demo-events")
    assert secret not in text and "intake-secret" in text


def test_each_person_has_their_own_team_channel_and_chats_and_the_bot_is_named_in_both() -> None:
    configs = [json.loads(persona.config()) for persona in PEOPLE]
    assert {config["bot"]["name"] for config in configs} == {BOT_NAME}  # not the Playground's "Test Bot"
    assert [config["currentUser"]["name"] for config in configs] == ["Pat Poc", "Jamie Staff"]
    for key in ("personalChat", "groupChat", "team"):
        assert configs[0][key]["id"] != configs[1][key]["id"]
    assert (
        configs[0]["team"]["name"] == "Williston Police Department" and configs[1]["team"]["name"] == "Judicial Bureau"
    )
    assert all(len(config["users"]) >= 5 for config in configs)  # the Playground refuses fewer
    assert POC.aad_id != JB.aad_id


def test_a_port_in_use_stops_it_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert port_taken(busy)
        demo = Demo(tmp_path, {"bot": busy, "poc": free_port(), "jb": free_port()})
        with pytest.raises(CannotStart, match=f"port {busy} \\(PORT\\) is in use"):
            demo.start()
    assert demo.bot is None and not (tmp_path / "intake-secret").exists()


def test_the_readme_walkthrough_shows_screenshots_that_are_in_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    walkthrough = readme[readme.index("## Try it in ten minutes") :]
    shown = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", walkthrough)
    assert len(shown) >= 10
    missing = [path for path in shown if not (ROOT / path).is_file()]
    assert not missing, f"make screenshots, then commit docs/: {missing}"


def test_a_port_held_by_a_closing_connection_is_told_apart_from_one_in_use(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = socket.create_connection(server.getsockname())
        held = client.getsockname()[1]
        accepted, _ = server.accept()
        client.close()  # the client closes first: its port waits in TIME-WAIT
        accepted.close()
    time.sleep(0.2)
    if not port_taken(held):
        pytest.skip("the kernel let the closing connection's port go at once")
    assert not listening(held)
    demo = Demo(tmp_path, {"bot": held, "poc": free_port(), "jb": free_port()})
    with pytest.raises(CannotStart, match="held by a connection that is closing"):
        demo.start()
