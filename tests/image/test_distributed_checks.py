"""What a worker checks before working, without a broker: the evidence (full and sampled), the rule
packs and hash sets by SHA-256, and where shared storage is mounted (--path-map)."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.core.evidence import Exhibit
from triage.distributed.checks import (EvidenceMismatch, PathMap, build_analyzers, describe_evidence,
                                       describe_settings, verify_evidence)

RULE = 'rule boat_trip { meta: description = "t" author = "t" reference = "t" severity = "low" strings: $a = "boat" condition: $a }\n'


def exhibit_for(path: Path, sha256: str, size: int) -> Exhibit:
    return Exhibit(exhibit="E1", path=str(path), source_path=str(path), in_place=True, size=size, md5="", sha1="",
                   sha256=sha256, description=None, kind="image", added_at="", examiner="", details={})


def test_full_check_compares_the_registered_sha256(tmp_path: Path) -> None:
    import hashlib

    image = tmp_path / "disk.img"
    image.write_bytes(bytes(range(256)) * 4096)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    evidence = describe_evidence(exhibit_for(image, digest, image.stat().st_size), [image], "raw")
    assert evidence["check"] == "sha256"
    assert verify_evidence(evidence, PathMap([])) == [image.resolve()]
    other = tmp_path / "other"
    other.mkdir()
    changed = bytearray(image.read_bytes())
    changed[1000] ^= 1
    (other / "disk.img").write_bytes(bytes(changed))
    with pytest.raises(EvidenceMismatch, match="registered as sha256:" + digest):
        verify_evidence(evidence, PathMap([f"{tmp_path}={other}"]))
    (other / "disk.img").write_bytes(bytes(changed[:-1]))
    with pytest.raises(EvidenceMismatch, match="bytes on worker"):
        verify_evidence(evidence, PathMap([f"{tmp_path}={other}"]))
    with pytest.raises(EvidenceMismatch, match="does not see"):
        verify_evidence(evidence, PathMap([f"{tmp_path}={tmp_path / 'nowhere'}"]))


def test_large_images_get_a_sampled_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DALIL_FULL_CHECK_MAX", "1000")
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(range(256)) * 8192)  # 2 MiB: 64 samples of 64 KiB cover it all
    evidence = describe_evidence(exhibit_for(image, "0" * 64, image.stat().st_size), [image], "raw")
    assert evidence["check"] == "sampled" and evidence["samples"] == 64
    verify_evidence(evidence, PathMap([]))
    changed = bytearray(image.read_bytes())
    changed[len(changed) // 2] ^= 1
    image.write_bytes(bytes(changed))
    with pytest.raises(EvidenceMismatch, match="sampled SHA-256"):
        verify_evidence(evidence, PathMap([]))


def test_a_changed_rule_pack_or_hash_set_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "pack.yar"
    rules.write_text(RULE)
    good = tmp_path / "good.txt"
    good.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    spec = describe_settings([rules], False, [good], [], "LY")
    assert spec["rules"][0]["packaged"] is None
    assert [a.NAME for a in build_analyzers(spec, PathMap([]))]
    rules.write_text(RULE.replace("boat", "ship"))
    with pytest.raises(EvidenceMismatch, match="rule pack pack.yar differs"):
        build_analyzers(spec, PathMap([]))
    rules.write_text(RULE)
    good.write_text("")
    with pytest.raises(EvidenceMismatch, match="hash set good.txt differs"):
        build_analyzers(spec, PathMap([]))
    with pytest.raises(EvidenceMismatch, match="analysers of worker"):
        build_analyzers({**spec, "analysers": "0" * 64}, PathMap([]))


def test_default_packs_are_named_by_their_place_in_the_package() -> None:
    spec = describe_settings([], False, [], [], "LY")
    assert spec["rules"] and all(r["packaged"] for r in spec["rules"])


def test_path_map() -> None:
    mapped = PathMap(["/srv/evidence=/mnt/ev", "/a=/b"])
    assert mapped("/srv/evidence/17/disk.E01") == Path("/mnt/ev/17/disk.E01")
    assert mapped("/srv/evidence2/x") == Path("/srv/evidence2/x")
    assert mapped("/a") == Path("/b")
    with pytest.raises(ValueError):
        PathMap(["nothing"])


def test_evidence_roots_refuse_a_task_naming_another_file(tmp_path: Path) -> None:
    """Whoever can write to Redis can send a task naming any path: a worker given --evidence-root
    refuses paths outside it (a symbolic link out of it too) before it sizes or hashes them."""
    import hashlib

    served = tmp_path / "evidence"
    served.mkdir()
    image = served / "disk.img"
    image.write_bytes(bytes(range(256)) * 64)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    evidence = describe_evidence(exhibit_for(image, digest, image.stat().st_size), [image], "raw")
    assert verify_evidence(evidence, PathMap([]), [served]) == [image.resolve()]
    secret = tmp_path / "lab-secret.txt"
    secret.write_bytes(b"not evidence\n")
    forged = {**evidence, "paths": [str(secret)], "sizes": [1], "sha256": "0" * 64}
    with pytest.raises(EvidenceMismatch, match="outside the evidence roots") as refused:
        verify_evidence(forged, PathMap([]), [served])
    assert "bytes on worker" not in str(refused.value)  # nothing about the file told back
    (served / "link.img").symlink_to(secret)
    with pytest.raises(EvidenceMismatch, match="outside the evidence roots"):
        verify_evidence({**forged, "paths": [str(served / "link.img")]}, PathMap([]), [served])


def test_an_answer_not_of_its_batch_is_refused() -> None:
    """Rows pushed into the results list by someone else (another file, more rows, unread indexes out
    of range) do not reach the case: the answer counts as a failure of the batch."""
    from triage.distributed.remote import _Batch, _not_of

    sent = [{"row": {"exhibit": "E1", "run_id": 3, "partition": 0, "snapshot": None, "path": f"/f{i}", "name": f"f{i}",
                     "inode": 10 + i, "attr": "", "stream": None, "size": 5, "deleted": 0, "carved_offset": None}}
            for i in range(2)]
    batch = _Batch({"items": sent}, [5, 5])
    good = {"rows": [{**item["row"], "sha256": "ab"} for item in sent], "unread": [1]}
    assert _not_of(batch, good) is None
    assert "3 rows for 2 files" in str(_not_of(batch, {**good, "rows": good["rows"] + [good["rows"][0]]}))
    forged = [dict(good["rows"][0]), {**good["rows"][1], "path": "/planted.jpg"}]
    assert "'/f1'" in str(_not_of(batch, {**good, "rows": forged}))
    assert "unread" in str(_not_of(batch, {**good, "unread": [7]}))
