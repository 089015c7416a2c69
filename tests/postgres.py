"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries (initdb, pg_ctl) run into
a temporary folder, once per test run, with a fresh database for each test module.

initdb refuses to run as root; as root (a CI container) the server runs as the `postgres` user
the Debian package creates. Where the binaries or the driver are missing, the PostgreSQL half of
a test is skipped, or fails when REALORNN_REQUIRE_POSTGRES is set (`.ci/run` sets it, as it does
for the browser)."""

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 30  # seconds for pg_ctl to report the server up


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin holding initdb and pg_ctl, else None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in reversed(found):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def missing() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    if binaries() is None:
        return "PostgreSQL's initdb/pg_ctl are missing (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is missing (pip install -e '.[postgres]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no `postgres` user to run the server as"
    return None


def skip_or_fail() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get("REALORNN_REQUIRE_POSTGRES"):
        pytest.fail(reason)  # CI installs it: a missing server there is a failure
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One throwaway cluster: trust authentication on 127.0.0.1 only, fsync off unless `durable`
    (a test's data need not survive a power cut; the crash benchmark's must)."""

    def __init__(self, folder: Path, *, durable: bool = False):
        self.folder = folder
        self.durable = durable  # fsync, synchronous_commit and full_page_writes on (crash.py)
        self.bin = binaries()
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._names = itertools.count()

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> "PostgresServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        durability = "on" if self.durable else "off"
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            f"-c fsync={durability} -c synchronous_commit={durability} "
            f"-c full_page_writes={durability} -c max_connections=200"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", str(STARTUP_TIMEOUT),
                  "start")  # fmt: skip
        return self

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{next(self._names)}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
