"""Per-file analysers on real files: EXIF GPS against exifread's ground truth, MIME against libmagic's,
entropy on random bytes, hash sets, and the automatic registry."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from triage import analyzers
from triage.analyzers import Analyzer, Blob, Settings, entropy, exif, filetype, hashsets


def blob_of(path: Path) -> Blob:
    data = path.read_bytes()
    return Blob(str(path), path.name, len(data), data[: analyzers.HEAD], data=data)


def run_all(path: Path, settings: Settings | None = None) -> dict[str, Any]:
    blob = blob_of(path)
    for a in analyzers.build(settings or Settings()):
        blob.found.update(a.analyse(blob))
    return blob.found


def test_gps_matches_exifread_ground_truth(testdata: Callable[[str], Path]) -> None:
    expected = json.loads(testdata("exif/exifread_expected.json").read_text())["files"]
    with_gps = {k: v["default"]["gps_decimal"] for k, v in expected.items() if v["default"].get("gps_decimal")}
    assert len(with_gps) >= 9
    for rel, (lat, lon) in with_gps.items():
        found = run_all(testdata(f"exif/{rel}"))
        assert found["gps_lat"] == pytest.approx(lat, abs=1e-6), rel
        assert found["gps_lon"] == pytest.approx(lon, abs=1e-6), rel
        assert found["exif"]["Image Make"]


def test_no_gps_and_broken_images(testdata: Callable[[str], Path]) -> None:
    assert "gps_lat" not in run_all(testdata("exif/jpg/Canon_40D.jpg"))  # GPS IFD without coordinates
    for path in [*testdata("exif/jpg/invalid").iterdir(), testdata("exif/jpg/corrupted.jpg")]:
        found = run_all(path)
        assert found["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_mime_matches_libmagic_ground_truth(testdata: Callable[[str], Path]) -> None:
    """Every file of the corpus (disk images of up to 4 MiB included) typed as `file --mime-type` types it."""
    truth = testdata("magic_expected.json")
    expected = json.loads(truth.read_text())["files"]
    checked = 0
    for rel, info in expected.items():
        if not (truth.parent / rel).is_file():  # the phone additions were not all kept in the corpus
            continue
        assert run_all(truth.parent / rel)["mime"] == info["mime"], rel
        checked += 1
    assert checked > 200


def test_mime_of_a_document_longer_than_the_head(tmp_path: Path) -> None:
    """libmagic calls a JSON document application/json only when it sees all of it: `file` gives it
    7 MiB, so must dalil, for a file held in memory and for one streamed from the image."""
    import magic

    doc = tmp_path / "chats.json"
    doc.write_text(json.dumps([{"id": n, "text": "message " * 6} for n in range(40_000)]))
    data = doc.read_bytes()
    assert analyzers.HEAD < len(data) < filetype.bytes_max()
    assert magic.Magic(mime=True).from_file(str(doc)) == "application/json"  # what `file --mime-type` says
    assert run_all(doc)["mime"] == "application/json"
    streamed = Blob(str(doc), doc.name, len(data), data[:analyzers.HEAD],
                    reader=lambda offset, length: data[offset:offset + length])
    assert filetype.FileType(Settings()).analyse(streamed)["mime"] == "application/json"


def test_extension_mismatch() -> None:
    assert filetype.mismatch("jpg", "image/jpeg") is False
    assert filetype.mismatch("jpg", "application/x-sqlite3") is True
    assert filetype.mismatch("txt", "application/x-dosexec") is True
    assert filetype.mismatch("docx", "application/zip") is False
    assert filetype.mismatch("", "image/jpeg") is None


def test_entropy_flags_random_container(tmp_path: Path) -> None:
    random_file = tmp_path / "container.bin"
    random_file.write_bytes(random.Random(2024).randbytes(256 * 1024))  # seeded: the same bytes every run
    found = run_all(random_file)
    assert found["entropy"] > 7.99 and found["encrypted_flag"] == 1
    text = tmp_path / "t.txt"
    text.write_bytes(b"hello world " * 100000)  # large enough to be measured although typed
    found = run_all(text)
    assert found["entropy"] < 4 and found["encrypted_flag"] == 0
    zipped = tmp_path / "z.zip"
    import zipfile

    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("r.bin", random.Random(7).randbytes(300 * 1024))
    found = run_all(zipped)  # random-looking but of a known type: not flagged
    assert found["mime"] == "application/zip" and not found.get("encrypted_flag")
    assert entropy.shannon(b"\x00" * 1000) == 0


def test_encryption_flag_ignores_a_weak_magic_match(tmp_path: Path) -> None:
    """About 1% of random buffers get a weak libmagic type (MS-DOS executable, zlib, MPEG audio …):
    a VeraCrypt container among them must still be flagged. The first seeded buffer libmagic
    types as something other than octet-stream is taken (the same one every run)."""
    for seed in range(5000):
        data = random.Random(seed).randbytes(256 * 1024)
        if filetype.mime_of(data) not in entropy.OPAQUE:
            break
    else:  # pragma: no cover - libmagic would have to type no random buffer at all
        pytest.fail("libmagic typed 5,000 random buffers as data: nothing to check")
    weakly_typed = tmp_path / "volume.hc"
    weakly_typed.write_bytes(data)
    found = run_all(weakly_typed)
    assert found["mime"] not in entropy.OPAQUE
    assert found["encrypted_flag"] == 1 and found["entropy"] > 7.99, found["mime"]


def test_container_signatures() -> None:
    noise = random.Random(3).randbytes(70 * 1024)
    assert not entropy.container_signature(noise)
    for head in (b"PK\x03\x04", b"\x1f\x8b\x08\x00", b"\xfd7zXZ\x00", b"BZh91AY&SY", b"%PDF-1.7",
                 b"\x00\x00\x00\x18ftypmp42", b"\xff\xd8\xff\xe0"):
        assert entropy.container_signature(head + noise), head
    assert not entropy.container_signature(b"\x1f\x8b\x08\xe0" + noise)  # reserved gzip flags: not gzip
    assert not entropy.container_signature(b"BZh0" + noise)
    tar = bytearray(noise)
    tar[257:262] = b"ustar"
    assert entropy.container_signature(bytes(tar))
    assert not entropy.looks_random(b"word " * 20000) and entropy.looks_random(noise[:entropy.SAMPLE])


def test_entropy_same_value_with_or_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy is loaded only after NUMPY_AFTER samples (at once if the process has it already); both
    ways count the same bytes, so the value recorded cannot depend on how many large files came before."""
    pytest.importorskip("numpy")
    samples = [os.urandom(64 * 1024), b"hello world " * 5000, bytes(range(256)) * 3, b"\x00" * 10 + b"\xff"]
    monkeypatch.setattr(entropy, "_numpy", None)
    monkeypatch.setattr(entropy, "_counted", 0)
    monkeypatch.setattr(entropy, "NUMPY_AFTER", 10**9)
    monkeypatch.setattr(entropy, "NUMPY_IF_LOADED", False)
    by_counter = [entropy.shannon(s) for s in samples]
    assert entropy._numpy is None  # still unloaded: Counter did the counting
    monkeypatch.setattr(entropy, "NUMPY_AFTER", 0)
    by_numpy = [entropy.shannon(s) for s in samples]
    assert entropy._numpy is not None
    assert by_numpy == by_counter  # bit for bit
    assert by_counter[2] == 8.0 and by_counter[0] > 7.99
    monkeypatch.setattr(entropy, "_numpy", None)
    monkeypatch.setattr(entropy, "NUMPY_AFTER", 10**9)
    monkeypatch.setattr(entropy, "NUMPY_IF_LOADED", True)
    import numpy  # noqa: F401  (a process that has it: numpy from the first sample)

    assert [entropy.shannon(s) for s in samples] == by_counter and entropy._numpy is not None


def test_hash_sets(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"known content")
    sha1 = hashlib.sha1(b"known content").hexdigest().upper()
    md5 = hashlib.md5(b"known content").hexdigest().upper()
    nsrl = tmp_path / "NSRLFile.txt"
    nsrl.write_text('"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"\n'
                    f'"{sha1}","{md5}","00000000","f.bin",13,1,"WIN",""\n')
    good = hashsets.load_hashes(nsrl)
    assert sha1.lower() in good and md5.lower() in good
    assert run_all(target, Settings(known_good=good))["known"] == "good"
    plain = tmp_path / "bad.txt"
    plain.write_text(f"# bad\n{hashlib.sha256(b'known content').hexdigest()}  f.bin\n")
    assert run_all(target, Settings(known_good=good, known_bad=hashsets.load_hashes(plain)))["known"] == "bad"


def test_registry_lists_every_analyser_with_its_source_hash() -> None:
    reg = {r["name"]: r for r in analyzers.registry()}
    assert {"hashes", "filetype", "exif", "yara", "entropy", "hashsets", "text-indicators", "indicators"} <= set(reg)
    source = Path(exif.__file__).read_bytes()
    assert reg["exif"]["sha256"] == hashlib.sha256(source).hexdigest()
    assert all(r["version"] for r in reg.values())


def test_duplicate_analyser_name_fails_at_import() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):
        type("Impostor", (Analyzer,), {"NAME": "exif", "VERSION": "9", "analyse": lambda self, b: {}})
    with pytest.raises(TypeError):
        type("Nameless", (Analyzer,), {"analyse": lambda self, b: {}})


def test_indicators_filled_for_text_files(tmp_path: Path) -> None:
    pytest.importorskip("triage.analyzers.indicators")
    advert = tmp_path / "advert.txt"
    advert.write_text("رحلة مضمونة إلى لامبيدوزا، واتساب ٠٩١٢٣٤٥٦٧٨ أو t.me/crossing_now\n", encoding="utf-8")
    found = run_all(advert, Settings(region="LY"))
    assert "+218912345678" in found["indicators"]["phones"]
    assert found["indicators"]["links"]
    binary = tmp_path / "x.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    assert "indicators" not in run_all(binary)


def test_indicator_prefilter_skips_ordinary_text(tmp_path: Path) -> None:
    """Manuals and code are not run through the (slow, pure-Python) extractor; ads are."""
    from triage.analyzers.text_indicators import TextIndicators

    prefilter = TextIndicators(Settings()).prefilter
    for text in ("price 1500€ per person", "1500 EUR cash", "call +39 333 1234567", "واتساب", "t.me/boats",
                 "00218 91 234 5678", "(+39) 333 1234567", "tel:+34 600 123 456", "+2010 1234 5678", "200 euros"):
        assert prefilter.match(data=text.encode()), text
    # a country code inside a longer number, after a letter or '+' (code points, C++20, base64), or a
    # currency word that is only the start of another word, is not an advert
    for text in ("echo $2 > /dev/null", "See the GNU General Public License version 2.", "x = 3.14159",
                 "U+0039 DIGIT NINE", "C++20 modules", "copyright-software-20021231", "U+20B0",
                 "aZM+44el1kUJ3T", "Copyright 2013 Eurodecision"):
        assert not prefilter.match(data=text.encode()), text


def test_prefilter_in_the_run_rules_gives_the_same_indicators(tmp_path: Path) -> None:
    """`dalil parse` compiles the pre-filter into the run's YARA rules (one scan serves both): the
    indicators are those of the stand-alone pre-filter, and its hits never show as rule matches."""
    from triage.analyzers import rulesets
    from triage.analyzers.text_indicators import PREFILTER_NAMESPACE, PREFILTER_PATH

    advert = tmp_path / "ad.txt"
    filler = "See the GNU General Public License for more details.\n" * 300
    advert.write_text(filler + "رحلة إلى لامبيدوزا 1500 EUR، واتساب +218 91 234 5678 t.me/crossing_now\n" + filler
                      + "call +39 333 1234567\n", encoding="utf-8")
    user = tmp_path / "dalil-prefilter.yar"  # a user file cannot take the internal namespace
    user.write_text('rule gnu_text { meta: description = "x" author = "t" reference = "t" severity = "low"'
                    ' strings: $a = "GNU General" condition: $a }\n')
    alone = run_all(advert, Settings(rules=rulesets.compile_rules([user]), region="LY"))
    combined = Settings(rules=rulesets.compile_rules([user], internal={PREFILTER_NAMESPACE: PREFILTER_PATH}),
                        region="LY", prefilter_in_rules=True)
    together = run_all(advert, combined)
    assert together["_prefilter_hits"], "the run's scan handed the pre-filter hits on"
    assert "_prefilter_hits" not in alone
    assert together["indicators"] == alone["indicators"]
    assert "+218912345678" in together["indicators"]["phones"]
    assert "+393331234567" in together["indicators"]["phones"]
    assert [m["rule"] for m in together["yara_matches"]] == ["gnu_text"] == [m["rule"] for m in alone["yara_matches"]]
    assert together["yara_matches"][0]["namespace"] == "dalil_prefilter"
    plain = tmp_path / "manual.txt"
    plain.write_text(filler, encoding="utf-8")
    assert run_all(plain, combined).get("indicators") is None
    entry = next(e for e in analyzers.registry() if e["name"] == "text-indicators")
    assert entry["files"] == [{"path": "prefilter.yar",
                               "sha256": hashlib.sha256(PREFILTER_PATH.read_bytes()).hexdigest()}]


def _streamed(data: bytes) -> Blob:
    """A large file's blob: its head in memory, the rest read on demand (as `dalil parse` streams it)."""
    return Blob("/big.bin", "big.bin", len(data), data[:4096], reader=lambda o, n: data[o:o + n])


def test_hashes_of_a_streamed_file_in_two_threads_and_after_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """A streamed file's MD5 runs in a second thread beside SHA-1 and SHA-256: the same digests, also
    in a forked child (a pool's thread does not survive a fork; the child must make its own)."""
    from triage.analyzers.hashes import Hashes

    monkeypatch.setattr(analyzers, "CHUNK", 64 * 1024)  # many chunks
    data = random.Random(5).randbytes(1_000_003)
    want = {"md5": hashlib.md5(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest()}
    assert Hashes(Settings()).analyse(_streamed(data)) == want
    pid = os.fork()
    if pid == 0:  # the parent's pool exists now; the child's first streamed file must not wait for it
        import signal

        signal.alarm(30)
        os._exit(0 if Hashes(Settings()).analyse(_streamed(data)) == want else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_yara_windows_two_at_a_time_give_the_matches_of_one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file larger than a window is scanned two windows at a time (the second in another thread);
    the matches, their order and their offsets are those of scanning the windows in turn."""
    import yara

    from triage.analyzers import yara_scan

    monkeypatch.setattr(yara_scan, "WINDOW", 64 * 1024)
    monkeypatch.setattr(yara_scan, "OVERLAP", 1024)
    rules = yara.compile(source=(
        'rule first { strings: $a = "BOAT-ALPHA" condition: $a }\n'
        'rule second { strings: $a = "BOAT-BRAVO" condition: $a }\n'
        'rule third { strings: $a = "BOAT-CHARLIE" condition: #a >= 1 }\n'))
    data = bytearray(random.Random(9).randbytes(5 * 64 * 1024 + 777))  # six windows: three pairs, the last short
    for offset, marker in [(70_000, b"BOAT-BRAVO"), (65_530, b"BOAT-ALPHA"), (200_000, b"BOAT-ALPHA"),
                           (300_000, b"BOAT-CHARLIE"), (5 * 64 * 1024 + 100, b"BOAT-BRAVO")]:
        data[offset:offset + len(marker)] = marker  # one across a window boundary (65,530)
    data = bytes(data)
    blob = _streamed(data)
    blob.found["mime"] = "application/octet-stream"
    found = yara_scan.YaraScan(Settings(rules=rules)).analyse(blob)["yara_matches"]
    expected, seen = [], set()
    externals = {"filename": "big.bin", "filepath": "/big.bin", "extension": ".bin",
                 "filetype": "application/octet-stream"}
    for start in range(0, len(data), yara_scan.WINDOW):  # one window after the other
        window = data[start:start + yara_scan.WINDOW + yara_scan.OVERLAP]
        for hit in yara_scan._matches(rules, window, start, externals, 60):
            if (hit["namespace"], hit["rule"]) not in seen:
                seen.add((hit["namespace"], hit["rule"]))
                expected.append(hit)
    assert found == expected
    assert [m["rule"] for m in found] == ["first", "second", "third"]
    assert found[0]["strings"][0]["offset"] == 65_530 and found[2]["strings"][0]["offset"] == 300_000


@pytest.mark.parametrize("given", [None, "2"])
def test_numpy_in_a_dalil_process_starts_no_blas_threads(given: str | None) -> None:
    """OpenBLAS's spinning threads cost `dalil parse` 0.1 s of CPU: one thread unless the user says more."""
    pytest.importorskip("numpy")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    code = ("import os, triage.links.images\n"  # the import path of `dalil parse` (numpy through links)
            "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    setting, threads = out.split()
    assert setting == (given or "1")
    if given is None:
        assert threads == "1"
    elif (os.cpu_count() or 1) > 1:
        assert int(threads) > 1  # the check can tell: the user's setting does start them
