"""Fixtures of the links tests: the user's data directory kept in the test's folder, and a real
PostgreSQL server started for the session (Debian's `postgresql` binaries, `initdb` as an
unprivileged user in a temporary folder, `pg_ctl start` on a free port; stopped at the end)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest


@pytest.fixture(autouse=True)
def _data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default lab repository goes to the test's folder, never to ~/.local/share."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.delenv("DALIL_REPOSITORY", raising=False)
    return tmp_path / "data-home"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged() -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as when the tests run as root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("nobody", "dalil-pg"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "dalil-pg"], check=True)
    return pwd.getpwnam("dalil-pg")


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """postgresql://dalil@127.0.0.1:PORT/ of a server started for these tests."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql; `make setup` installs it)")
    account = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="dalil-pg-", dir="/tmp"))
    as_user: dict[str, Any] = {}
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(root)}
    run = {"cwd": root, "env": env, "capture_output": True, "text": True, **as_user}
    port = _free_port()
    data = root / "data"
    try:
        done = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "dalil", "--auth=trust", "-E", "UTF8",
                               "--locale=C"], **run)
        assert done.returncode == 0, done.stdout + done.stderr
        done = subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
                               "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], **run)
        assert done.returncode == 0, done.stdout + done.stderr + (root / "server.log").read_text(errors="replace")
        yield f"postgresql://dalil@127.0.0.1:{port}"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], **run)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def repository(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _data_home: Path) -> str:
    """The lab repository of one test: the default SQLite file, or a fresh database on the server."""
    if request.param == "sqlite":
        return f"sqlite:///{_data_home / 'dalil' / 'repository.db'}"  # DALIL_REPOSITORY unset: the default
    import psycopg

    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    monkeypatch.setenv("DALIL_REPOSITORY", url)
    return url
