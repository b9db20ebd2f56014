"""`dalil serve`'s guard over real HTTP: the token, the Host check (DNS rebinding), CSRF and Origin on
writes, --read-only, and the headers (CSP) on every response, refusals included."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from casebuild import build_disk, dalil, env_for
from conftest import Server, start_server

PATHS = ["/", "/search?q=x", "/files", "/files/1", "/files/1/thumb.png", "/comms", "/captures", "/replay/1",
         "/timeline", "/map", "/api/points", "/links", "/tags", "/static/app.js", "/static/vendor/htmx/htmx.min.js"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if shutil.which("mkfs.vfat") is None or shutil.which("mcopy") is None:
        pytest.skip("needs mkfs.vfat and mcopy")
    base = tmp_path_factory.mktemp("guard")
    env = env_for(base / "config")
    case = base / "case"
    dalil(env, "case", "init", case, "--case-id", "GUARD-1", "--title", "guard", "--examiner", "Browser Examiner")
    (base / "disk").mkdir()
    image = build_disk(base / "disk")
    dalil(env, "image", image, "--exhibit", "SD-1", "--case", case)
    dalil(env, "parse", "SD-1", "--exhibit", "SD-1", "--case", case)
    return {"case": case, "env": env}


@pytest.fixture(scope="module")
def srv(small: dict[str, Any]) -> Iterator[Server]:
    s = start_server(small["case"], small["env"])
    yield s
    s.stop()


def _client(srv: Server) -> httpx.Client:
    client = httpx.Client(base_url=srv.base)
    first = client.get(f"/?token={srv.token}")
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert f"dalil_{srv.port}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    return client


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get("/files/1").text)
    assert found
    return found.group(1)


def test_every_path_needs_the_token(srv: Server) -> None:
    for path in PATHS:
        r = httpx.get(srv.base + path)
        assert r.status_code == 403, path
        assert "Content-Security-Policy" in r.headers
    assert httpx.get(srv.base + "/?token=wrong").status_code == 403
    assert httpx.get(srv.base + "/", cookies={f"dalil_{srv.port}": "wrong"}).status_code == 403
    client = _client(srv)
    for path in ("/", "/files", "/timeline", "/static/app.js"):
        assert client.get(path).status_code == 200, path


def test_token_redirect_keeps_the_rest_of_the_query(srv: Server) -> None:
    r = httpx.get(f"{srv.base}/files?token={srv.token}&flag=deleted")
    assert r.status_code == 303 and r.headers["location"] == "/files?flag=deleted"


def test_foreign_host_refused_even_with_the_cookie(srv: Server) -> None:
    client = _client(srv)
    for host in (f"attacker.example:{srv.port}", "127.0.0.1", f"127.0.0.1:{srv.port + 1}"):
        assert client.get("/", headers={"Host": host}).status_code == 403, host
    assert client.get("/", headers={"Host": f"localhost:{srv.port}"}).status_code == 200


def test_headers_on_pages_and_replay(srv: Server) -> None:
    client = _client(srv)
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "no-referrer"
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []          # no inline script at all
    replay = client.get("/replay/1")                      # no capture here: a 404, with the replay's policy
    assert replay.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in replay.headers["Content-Security-Policy"]


def test_writes_need_csrf_and_same_origin(srv: Server, small: dict[str, Any]) -> None:
    client = _client(srv)
    form = {"kind": "file", "item": "1", "label": "x"}
    assert client.post("/tags", data=form).status_code == 403
    assert client.post("/tags", data=form, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    token = _csrf(client)
    assert client.post("/tags", data=form, headers={"X-CSRF-Token": token,
                                                    "Origin": "http://attacker.example"}).status_code == 403
    assert client.request("PUT", "/tags", headers={"X-CSRF-Token": token}).status_code == 405
    rows = dalil(small["env"], "files", "--case", small["case"], "--format", "jsonl").stdout
    advert = next(line for line in rows.splitlines() if '"/NOTES/advert.txt"' in line)
    file_id = client.get("/files?name=advert.txt").text
    found = re.search(r'href="/files/(\d+)">/NOTES/advert.txt<', file_id)
    assert found and advert
    ok = client.post("/tags", data={"kind": "file", "item": found.group(1), "label": "advert", "note": "n"},
                     headers={"X-CSRF-Token": token, "Origin": srv.base})
    assert ok.status_code == 200 and "advert" in ok.text
    entries = [json.loads(line) for line in (small["case"] / "custody.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["details"]["label"] for e in entries if e["action"] == "tagged"] == ["advert"]
    bad = client.post("/tags", data={"kind": "file", "item": found.group(1), "label": ""},
                      headers={"X-CSRF-Token": token})
    assert bad.status_code == 400


def test_read_only_refuses_writes(small: dict[str, Any]) -> None:
    before = (small["case"] / "custody.jsonl").read_bytes()
    ro = start_server(small["case"], small["env"], "--read-only")
    try:
        client = _client(ro)
        page = client.get("/files/1")
        assert page.status_code == 200 and 'id="tag-form"' not in page.text and "read-only" in page.text
        token = _csrf(client)
        r = client.post("/tags", data={"kind": "file", "item": "1", "label": "x"}, headers={"X-CSRF-Token": token})
        assert r.status_code == 403
    finally:
        ro.stop()
    assert (small["case"] / "custody.jsonl").read_bytes() == before
    assert not (small["case"] / ".cache").exists() or not any((small["case"] / ".cache").rglob("*.png"))


def test_evidence_untouched(small: dict[str, Any], srv: Server) -> None:
    import hashlib

    image = max((small["case"] / "images").iterdir(), key=lambda p: p.stat().st_size)
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    client = _client(srv)
    for fid in range(1, 12):
        client.get(f"/files/{fid}")
        client.get(f"/files/{fid}/thumb.png")
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before
    assert dalil(small["env"], "verify", small["case"], "--evidence").returncode == 0


def test_port_in_use_is_one_clear_line(small: dict[str, Any], srv: Server) -> None:
    r = dalil(small["env"], "serve", "--case", small["case"], "--port", srv.port, check=False)
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{srv.port}" in r.stderr
    assert "Traceback" not in r.stderr
    assert Path(small["case"]).is_dir()


def test_local_tiles_served_from_mbtiles(small: dict[str, Any], tmp_path: Path) -> None:
    import sqlite3

    from collectors.adsite import png

    tiles = tmp_path / "world.mbtiles"
    conn = sqlite3.connect(tiles)
    conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    conn.execute("INSERT INTO tiles VALUES (1, 1, 0, ?)", (png(3, 256),))   # TMS row 0 is XYZ row 1 at zoom 1
    conn.commit()
    conn.close()
    bad = dalil(small["env"], "serve", "--case", small["case"], "--tiles", tmp_path / "none.mbtiles", check=False)
    assert bad.returncode == 2 and "--tiles" in bad.stderr
    srv = start_server(small["case"], small["env"], "--tiles", str(tiles))
    try:
        client = _client(srv)
        tile = client.get("/tiles/1/1/1")
        assert tile.status_code == 200 and tile.headers["content-type"] == "image/png" and tile.content == png(3, 256)
        assert client.get("/tiles/1/0/0").status_code == 204
        assert 'data-tiles="/tiles/{z}/{x}/{y}"' in client.get("/map").text
    finally:
        srv.stop()
