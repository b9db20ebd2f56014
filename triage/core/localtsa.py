"""A real RFC 3161 time-stamp authority on 127.0.0.1: `openssl ts -reply` behind HTTP.

Makes an EC P-256 root CA and a TSA certificate (extendedKeyUsage critical timeStamping), and
answers `application/timestamp-query` POSTs with `openssl ts -reply`. No network beyond loopback.
Used by the test suite and by `dalil demo` (its time-stamps prove the mechanism, not the time: a
court needs a TSA the lab does not control, given to `--tsa URL`).
"""

from __future__ import annotations

import http.server
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .quiet_http import QuietHTTPServer

TSA_CNF = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

EXT = """\
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path, name: str = "Dalil Test") -> None:
    """Root CA (ca.pem) and TSA certificate (tsa.pem, tsa.key) in `directory`."""
    d = directory
    (d / "ext.cnf").write_text(EXT)
    _run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    _run("req", "-new", "-x509", "-key", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj",
         f"/CN={name} Root CA/O=Dalil local TSA", "-extensions", "v3_ca", "-config", "ext.cnf",
         "-sha256", cwd=d)
    _run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "tsa.key", cwd=d)
    _run("req", "-new", "-key", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name} TSA/O=Dalil local TSA",
         "-config", "ext.cnf", cwd=d)
    _run("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "tsa.pem", "-days", "3650", "-extfile", "ext.cnf", "-extensions", "v3_tsa", "-sha256", cwd=d)
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CNF.format(dir=d))
    (d / "chain.pem").write_bytes((d / "tsa.pem").read_bytes() + (d / "ca.pem").read_bytes())


@dataclass
class LocalTSA:
    """A running TSA: `url`, `ca_pem` (root), `chain_pem` (TSA cert + root), `directory`."""

    url: str
    ca_pem: Path
    chain_pem: Path
    directory: Path
    server: http.server.ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(directory: Path | None = None, name: str = "Dalil Test") -> LocalTSA:
    """Make the PKI in `directory` (a new temporary one if None) and serve; `stop()` when done."""
    d = Path(directory or tempfile.mkdtemp(prefix="dalil-tsa-"))
    make_pki(d, name)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(length)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415, "expected application/timestamp-query")
                return
            with lock, tempfile.TemporaryDirectory(dir=d) as work:
                qpath = Path(work) / "q.tsq"
                rpath = Path(work) / "r.tsr"
                qpath.write_bytes(query)
                proc = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(d / "tsa.cnf"), "-queryfile", str(qpath),
                     "-out", str(rpath)], capture_output=True)
                if proc.returncode != 0 or not rpath.exists():
                    self.send_error(500, "openssl ts -reply failed")
                    return
                body = rpath.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    return LocalTSA(url, d / "ca.pem", d / "chain.pem", d, server)
