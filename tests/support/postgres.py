"""A throwaway PostgreSQL server for tests and measurements: initdb into a temp dir, postgres on a free loopback port.

Debian's server binaries live in ``/usr/lib/postgresql/<major>/bin`` (``tools/install_test_prereqs.sh``
installs them when missing); ``PG_BIN`` names another directory. PostgreSQL refuses to run as root, so
when the tests run as root the server runs as ``nobody`` (``setpriv``), its directory handed over to it.
The superuser ``postgres`` has a random password, so the URLs hold one as a deployment's would; the
unix socket lives in the server's own directory. Nothing depends on a system service.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg

START_TIMEOUT = 30.0
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
"""For the test tier: a crash of the test server loses nothing anyone keeps."""


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries were found on this machine."""


def find_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (the newest Debian major, or PG_BIN)."""
    configured = os.environ.get("PG_BIN")
    candidates = [Path(configured)] if configured else []
    majors = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    candidates += majors
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    raise PostgresMissing(
        "PostgreSQL's initdb and postgres were not found (looked in /usr/lib/postgresql/*/bin, PATH and PG_BIN); "
        "run `bash tools/install_test_prereqs.sh postgresql` (apt-get install postgresql) or set PG_BIN"
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server; ``url(db)`` is a ``postgresql://`` URL with the password in it."""

    directory: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]
    _databases: Iterator[int] = field(default_factory=lambda: count(1))

    def url(self, database: str = "postgres") -> str:
        """The URL of one database on this server (as DATABASE_URL would hold it)."""
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = "template1") -> str:
        """A new empty database (a copy of ``template``); its URL."""
        name = f"test_{os.getpid()}_{next(self._databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown, then remove the server's directory."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log (for a failure message)."""
        try:
            text = (self.directory / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs a program as the server's user, with that user's uid and gid."""
    if os.geteuid() != 0:
        return [], None, None
    nobody = pwd.getpwnam("nobody")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgresMissing("running as root, and setpriv (util-linux) is missing to start PostgreSQL as nobody")
    return (
        [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"],
        nobody.pw_uid,
        nobody.pw_gid,
    )


def start_server(*, settings: tuple[str, ...] = FAST_SETTINGS) -> PostgresServer:
    """initdb into a new temp dir and start postgres on a free 127.0.0.1 port; raises PostgresMissing or RuntimeError."""
    bin_dir = find_bin_dir()
    prefix, uid, gid = _as_server_user()
    directory = Path(tempfile.mkdtemp(prefix="jb-pg-"))
    try:
        if uid is not None and gid is not None:
            os.chown(directory, uid, gid)
        password = secrets.token_hex(16)
        pwfile = directory / "pwfile"
        pwfile.write_text(password + "\n")
        if uid is not None and gid is not None:
            os.chown(pwfile, uid, gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(directory)}
        initdb = subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            env=env,
            capture_output=True,
            check=False,
        )
        pwfile.unlink()
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr.decode(errors='replace')[-2000:]}")
        port = _free_port()
        options = [f"-c{setting}" for setting in settings]
        log = open(directory / "server.log", "wb")  # noqa: SIM115 - the server writes to it until it stops
        with log:
            process = subprocess.Popen(
                [
                    *prefix,
                    str(bin_dir / "postgres"),
                    "-D",
                    str(directory / "data"),
                    "-p",
                    str(port),
                    "-k",
                    str(directory),
                    "-clisten_addresses=127.0.0.1",
                    "-cmax_connections=200",
                    *options,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = PostgresServer(directory, port, password, process)
        _wait_until_ready(server)
        return server
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _wait_until_ready(server: PostgresServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"postgres exited with {server.process.returncode} at start:\n{tail}")
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                tail = server.log_tail()
                server.stop()
                raise RuntimeError(
                    f"postgres did not accept connections within {START_TIMEOUT:.0f} s:\n{tail}"
                ) from None
            time.sleep(0.05)


@contextlib.contextmanager
def running_server(*, settings: tuple[str, ...] = FAST_SETTINGS) -> Iterator[PostgresServer]:
    """A server for the length of a ``with`` block, stopped and removed after it."""
    server = start_server(settings=settings)
    try:
        yield server
    finally:
        server.stop()
