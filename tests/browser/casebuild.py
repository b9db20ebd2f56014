"""A real case for the browser tests, built through the `dalil` CLI in child processes: a FAT disk
image (mkfs.vfat + mtools, as the demo makes it), a phone extraction with an SMS database (Arabic,
hostile text), a capture of the local ad site and one of a hostile page."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from collectors.adsite import AdSite
from triage.image.demo import build_disk

SMS_DIR = "data/data/com.android.providers.telephony/databases"
EXAMINER = "Browser Examiner"
HOSTILE_TITLE = "Hostile \u202egnp.exe ad"
HOSTILE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>" + HOSTILE_TITLE + "</title>"
    "<script>window.top.PWNED = 1; console.log('PWNED-SCRIPT'); alert('script ran')</script>"
    "<link rel='stylesheet' href='http://198.51.100.7/evil.css'></head><body>"
    "<h1>Boat \u202egnp.exe\u202c to Lampedusa, call +218 91 555 0101</h1>"
    "<img src='x' onerror=\"console.log('PWNED-ONERROR'); alert('onerror ran')\">"
    "<img src='http://198.51.100.7/pixel.png' alt='remote'>"
    "<a id='jslink' href=\"javascript:alert('link ran')\">click me</a>"
    "<iframe src='http://198.51.100.7/frame.html'></iframe>"
    "<p>Price 2500 EUR, <b>pay on arrival</b></p></body></html>")


def env_for(config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(config), DALIL_EXAMINER=EXAMINER, DALIL_LOCK_TIMEOUT="20")
    env.pop("DALIL_CASE", None)
    env.pop("DALIL_KEY_PASSPHRASE", None)
    return env


def dalil(env: dict[str, str], *args: Any, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "triage.cli.main", *map(str, args)], env=env, text=True,
                          capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"dalil {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def sms_extraction(root: Path) -> Path:
    work = Path(tempfile.mkdtemp())
    db = sqlite3.connect(work / "mmssms.db")
    db.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, "
               "type INTEGER, body TEXT, read INTEGER)")
    rows = [(1, 7, "0912345678", 1700000000000, 1, "السلام عليكم، متى يغادر القارب؟", 1),
            (2, 7, "0912345678", 1700000300000, 2, "<img src=x onerror=alert(1)> tonight 23:00", 1),
            (3, 8, "+21698765432", 1700000600000, 1, "price 2500 EUR \u202egnp.exe", 0)]
    db.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    (root / SMS_DIR).mkdir(parents=True)
    shutil.copyfile(work / "mmssms.db", root / SMS_DIR / "mmssms.db")
    shutil.rmtree(work)
    return root


class _Hostile(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        body = HOSTILE_PAGE.encode() if self.path.startswith("/hostile") else b"not here"
        self.send_response(200 if self.path.startswith("/hostile") else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


PHOTO_AT = (32.7933, 12.4844)  # Sabratha: a second located picture, one Pillow can decode


def gps_photo(lat: float, lon: float) -> bytes:
    """A real 96x64 JPEG (Pillow) whose EXIF holds a GPS position."""
    import io

    from PIL import Image

    def dms(v: float) -> tuple[float, float, float]:
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round(((v - d) * 60 - m) * 60, 4))

    img = Image.new("RGB", (96, 64), (30, 110, 200))
    for x in range(96):
        for y in range(32, 64):
            img.putpixel((x, y), (220, 190, 120))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def build(base: Path) -> dict[str, Any]:
    """The case in base/case, the examiner's config in base/config; returns paths and the env."""
    env = env_for(base / "config")
    case = base / "case"
    dalil(env, "case", "init", case, "--case-id", "BROWSER-001", "--title", "Browser test case", "--examiner",
          EXAMINER, "--organisation", "Test Unit")
    disk_dir = base / "disk"
    disk_dir.mkdir()
    image = build_disk(disk_dir)
    photo = disk_dir / "beach.jpg"
    photo.write_bytes(gps_photo(*PHOTO_AT))
    subprocess.run(["mcopy", "-i", str(image), str(photo), "::/DCIM/IMG_0002.JPG"], check=True, capture_output=True)
    dalil(env, "image", image, "--exhibit", "SD-1", "--case", case, "--reason", "test warrant")
    dalil(env, "parse", "SD-1", "--exhibit", "SD-1", "--tz", "Africa/Tripoli", "--case", case)
    ext = sms_extraction(base / "phone")
    dalil(env, "parse", ext, "--exhibit", "PH-1", "--case", case, "--no-yara")
    hostile = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=hostile.serve_forever, daemon=True).start()
    try:
        with AdSite(ads=3) as site:
            dalil(env, "collect", site.url, "--exhibit", "WEB-1", "--depth", "1", "--case", case,
                  "--reason", "public ads")
            ad_url = site.url + "ad/1.html"
        hostile_url = f"http://127.0.0.1:{hostile.server_address[1]}/hostile.html"
        dalil(env, "collect", hostile_url, "--exhibit", "WEB-2", "--depth", "0", "--ignore-robots",
              "--case", case, "--reason", "hostile page")
    finally:
        hostile.shutdown()
        hostile.server_close()
    return {"case": case, "env": env, "image": image, "extraction": ext, "ad_url": ad_url,
            "hostile_url": hostile_url}
