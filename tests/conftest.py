"""Shared fixtures: an isolated examiner config, a ready case, the CLI runner, shared test data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from triage.cli.main import app

SHARED = Path(os.environ.get("DALIL_TESTDATA") or Path(__file__).resolve().parents[1].parent / "shared" / "testdata")
EXAMINER = "Test Examiner"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own examiner key store; no case is found from the environment."""
    cfg = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.setenv("DALIL_EXAMINER", EXAMINER)
    monkeypatch.delenv("DALIL_CASE", raising=False)
    monkeypatch.delenv("DALIL_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("DALIL_BROKER", raising=False)  # parses are embedded unless a test gives --broker
    monkeypatch.setenv("DALIL_LOCK_TIMEOUT", "5")
    return cfg


class Cli:
    """Runs `dalil ARGS` in-process through Typer's CliRunner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: Any, code: int | None = 0, input: str | None = None) -> Any:
        result = self.runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (
                f"dalil {' '.join(map(str, args))} exited {result.exit_code}, expected {code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def case_dir(tmp_path: Path, cli: Cli) -> Path:
    """A freshly initialised case."""
    path = tmp_path / "case"
    cli("case", "init", path, "--case-id", "TEST-001", "--title", "Test case", "--examiner", EXAMINER,
        "--organisation", "Test Unit")
    return path


@pytest.fixture
def testdata() -> Callable[[str], Path]:
    """Path inside ../shared/testdata, skipping the test with a reason when it is absent."""

    def get(rel: str) -> Path:
        path = SHARED / rel
        if not path.exists():
            pytest.skip(f"shared test data not available: {path}")
        return path

    return get


@pytest.fixture
def thirdparty() -> Callable[[str, str], Path]:
    """`thirdparty(sdist, member)`: a test image from a pinned PyPI sdist (tests/thirdparty.py),
    skipping the test with a reason when it was not downloaded."""
    import thirdparty as tp

    def get(sdist: str, inner: str) -> Path:
        path = tp.member(sdist, inner)
        if path is None:
            pytest.skip(f"{sdist} not downloaded (run `make thirdparty`)")
        return path

    return get


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real RFC 3161 TSA (`openssl ts`) on 127.0.0.1: `.url`, `.ca_pem`, `.chain_pem`."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import tsa_server

    server = tsa_server.start(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


def pytest_collection_finish(session: pytest.Session) -> None:
    """`make test` sets DALIL_MIN_TESTS: a whole-suite run that collects fewer tests is an error,
    so a broken collection (a skipped directory, a renamed module) can never pass as green."""
    floor = int(os.environ.get("DALIL_MIN_TESTS") or 0)
    if floor and len(session.items) < floor:
        raise pytest.UsageError(f"only {len(session.items)} tests collected, expected at least {floor}")
