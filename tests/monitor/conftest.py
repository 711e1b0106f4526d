"""Fixtures: real databases (a SQLite file, the local PostgreSQL) and real `tripwire serve`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT

PG_ADMIN = os.environ.get("TRIPWIRE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    try:
        return psycopg.connect(
            PG_ADMIN.replace("postgresql://", "postgresql://", 1),
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_ADMIN} is needed in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_ADMIN} is not reachable: {exc}")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database tw_monitor_test_<random> on the local server, dropped afterwards."""
    admin = _pg_admin()
    name = f"tw_monitor_test_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from tripwire.monitor import store as st

        for key in [k for k in st._ENGINES if name in k]:
            st._ENGINES.pop(key).dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _fresh_pg(pg_database: str) -> str:
    """A new empty database per use (schemas must start empty for migration tests)."""
    admin = _pg_admin()
    name = f"{pg_database.rsplit('/', 1)[1]}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    _CREATED.append(name)
    return pg_database.rsplit("/", 1)[0] + "/" + name


_CREATED: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _drop_created() -> Iterator[None]:
    yield
    if not _CREATED:
        return
    from tripwire.monitor import store as st

    for key in list(st._ENGINES):
        if any(n in key for n in _CREATED):
            st._ENGINES.pop(key).dispose()
    admin = _pg_admin()
    for name in _CREATED:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tw.db'}"
    return _fresh_pg(request.getfixturevalue("pg_database"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_tripwire(
    *args: str, cwd: Path, timeout: float = 300, with_root: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -m tripwire ARGS` in ``cwd``; ``with_root`` also puts the repository on the path
    (for retraining entry points like ``tests.lifecycle.trainers:fit``)."""
    env = cli_env()
    if with_root:
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def create_token(db: str, name: str = "tests") -> str:
    res = subprocess.run(
        [sys.executable, "-m", "tripwire", "token", "create", name, "--db", db],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


class Server:
    """A real `tripwire serve` process on a free loopback port."""

    def __init__(self, db: str, *extra: str, cwd: Path | None = None) -> None:
        self.db = db
        self.extra = extra
        self.cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = (cwd or Path(".")) / f"serve-{self.port}.log"

    def start(self, timeout: float = 60) -> Server:
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tripwire",
                "serve",
                "--db",
                self.db,
                "--port",
                str(self.port),
                "--evaluate-every",
                "0",
                *self.extra,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            cwd=self.cwd,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tripwire serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("tripwire serve did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "log"):
            self.log.close()


def client(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
