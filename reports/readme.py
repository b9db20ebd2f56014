"""README.txt of a bundle: how a recipient checks it with independent tools."""

from __future__ import annotations

from triage import TOOL_NAME, __version__

from .bag import SIGNATURE, SIGNED, TIMESTAMP, TSA_CHAIN


def readme_text(fingerprint: str, stamped: bool) -> str:
    hexfp = fingerprint.removeprefix("sha256:")
    stamp = f"""
4. The RFC 3161 time-stamp over {SIGNED} (needs the TSA's CA certificate, obtained from the TSA):
     openssl ts -verify -data {SIGNED} -in {TIMESTAMP} -CAfile TSA-CA.pem -untrusted {TSA_CHAIN}
   "Verification: OK" proves the tag manifest (hence every file) existed unchanged at the stamped time.
""" if stamped else "\n4. No RFC 3161 time-stamp was requested for this bundle.\n"
    return f"""COURT BUNDLE — made by {TOOL_NAME} {__version__}

This is a BagIt bag (RFC 8493, BagIt-Version 1.0). Everything below can be checked without Dalil.
Run the commands from this directory (the one holding bagit.txt).

1. Every file against both manifests (SHA-256 and SHA-512), and the tag files:
     bagit.py --validate .            (pip install bagit)
   or with coreutils:
     sha256sum -c manifest-sha256.txt && sha512sum -c manifest-sha512.txt
     sha256sum -c tagmanifest-sha256.txt && sha512sum -c tagmanifest-sha512.txt
   Also check that no file exists in data/ that the manifests do not list.

2. The examiner's Ed25519 signature over {SIGNED} (which lists the hashes of bag-info.txt and of
   both payload manifests, so it covers every byte of the payload):
     openssl pkeyutl -verify -pubin -inkey data/custody/keys/{hexfp}.pem -rawin \\
         -in {SIGNED} -sigfile {SIGNATURE}
   "Signature Verified Successfully" is the expected answer. Or in Python (package cryptography):
     from cryptography.hazmat.primitives.serialization import load_pem_public_key
     key = load_pem_public_key(open("data/custody/keys/{hexfp}.pem", "rb").read())
     key.verify(open("{SIGNATURE}", "rb").read(), open("{SIGNED}", "rb").read())  # raises if invalid

3. The key is the examiner's: its fingerprint (SHA-256 of the 32 raw public-key bytes) is
     {fingerprint}
   Confirm it with the examiner's laboratory by another channel (its published key list, a letter).
   A forger can re-sign a changed bundle with a key of their own; only this check, or the
   time-stamp, shows that. Python: hashlib.sha256(key.public_bytes_raw()).hexdigest()
{stamp}
5. The custody ledger data/custody/custody.jsonl: one JSON entry a line, each with the hash of the
   previous one and the examiner's Ed25519 signature; its last entry ("bundled") records what was
   put in this bundle and what was left out (also in bag-info.txt).

6. With Dalil: `dalil verify THIS.zip --key {fingerprint}` (or `--keys LAB-LIST.txt`, add
   `--tsa-ca TSA-CA.pem` when time-stamped) runs every check above at once, one line per check;
   exit 0 only when all pass. Without --key/--keys the last line reads
     WARN  key pinned: signature valid but key ... is NOT PINNED ...
   and the exit code is still 0: the bundle is intact and self-consistent, but nothing yet shows
   whose key signed it (step 3). `--require-pin` makes that line a FAIL (exit 1).

Contents: data/report (HTML, PDF, CSV, CASE/UCO JSON-LD), data/links (link chart: GraphML, GEXF,
node and edge CSV for Gephi), data/files (files of interest, index.csv),
data/captures (captured pages, WARC/WACZ, screenshots, index.csv), data/evidence (evidence and
acquisition records), data/custody (ledger and examiners' public keys), data/tool-manifest.json.
"""
