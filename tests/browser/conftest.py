"""Fixtures of the browser tests: one real case (built once per worker), a real `dalil serve`
process on 127.0.0.1, Debian's Chromium driven by Playwright, and a folder for screenshots
(DALIL_BROWSER_ARTIFACTS, else the test's temporary folder)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import casebuild  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str
    token: str
    port: int

    @property
    def start_url(self) -> str:
        return f"{self.base}/?token={self.token}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(case: Path, env: dict[str, str], *extra: str) -> Server:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli.main", "serve", "--case", str(case), "--port", str(port),
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"open: (http://127\.0\.0\.1:\d+/\?token=(\S+))", line)
        if found:
            url = found
            break
    if url is None:
        proc.kill()
        raise AssertionError(f"dalil serve did not print its URL: {proc.stdout.read() if proc.stdout else ''}")
    for _ in range(200):  # the URL is printed before uvicorn listens: wait for the port
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return Server(proc, f"http://127.0.0.1:{port}", url.group(2), port)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for tool in ("mkfs.vfat", "mcopy"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (dosfstools, mtools)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs {CHROMIUM}")
    return casebuild.build(tmp_path_factory.mktemp("browser-case"))


@pytest.fixture(scope="session")
def server(built: dict[str, Any]) -> Iterator[Server]:
    srv = start_server(built["case"], built["env"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Playwright's sync API keeps its event loop running while it is open: closed with the module,
    so a later test on the same worker (the report's own check in Chromium) can start its own."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DALIL_BROWSER_ARTIFACTS")
    path = Path(given) if given else tmp_path_factory.mktemp("browser-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Recorder:
    """Every request a browser context makes, and anything that is not this server refused."""

    def __init__(self, allowed_prefix: str) -> None:
        self.allowed = allowed_prefix
        self.requests: list[str] = []
        self.refused: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith(self.allowed) or url.startswith("data:"):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


@pytest.fixture
def ui(chromium: Any, server: Server) -> Iterator[tuple[Any, Recorder, dict[str, list[str]]]]:
    """A logged-in page (start URL opened), its request recorder and what it printed: console
    messages, page errors and dialogs."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    recorder = Recorder(server.base + "/")
    context.route("**/*", recorder.route)
    pg = context.new_page()
    seen: dict[str, list[str]] = {"console": [], "errors": [], "dialogs": []}
    pg.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    pg.on("dialog", dialog)
    pg.goto(server.start_url)
    yield pg, recorder, seen
    context.close()
