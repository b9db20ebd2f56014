#!/usr/bin/env python3
"""`dalil parse` against ALEAPP on the same Android extraction folder: wall time, records per second.

The extraction: `--extraction DIR` (a folder laid out as a phone's file system, e.g. the one
`benchmarks/phone_gen.py` writes: 100,000 SMS, 100,000 WhatsApp messages, 20,000 calls), else this
script's own fallback: `mmssms.db` with `--sms` SMS (default 100,000) and `calllog.db` with `--calls`
calls (default 20,000), both with the tables of real phones (the schemas of plaso's test mmssms.db,
telephony provider user_version 57, and of andriller's test calllog.db, call-log provider
user_version 5; the triggers that keep thread counts are left out: they do not change the rows).

Each run, alternating which tool goes first:
  dalil:  `dalil case init` (a fresh case), then, timed, `dalil parse EXTRACTION --exhibit B --no-yara`
          (the whole pipeline: walk, hashes, MIME, indicators, and the phone parsers);
  ALEAPP: timed, `python aleapp.py -t fs -i EXTRACTION -o OUT` into a fresh OUT, with all its modules
          (`--aleapp-scope all`, as run by a user) or a profile of only its SMS/MMS, call-log and WhatsApp
          modules (`--aleapp-scope phone`).
Medians over `--runs` (default 3) are printed with records per second, the ratio, each tool's peak RSS
(the largest process of a run, from wait4) and CPU time (user + system of the run and the processes it
waited for: on a shared machine it moves less than wall time).

How the counts are compared (they must agree, or the line says so): after the first run,
Dalil's records are `dalil messages --format jsonl | wc -l` and `dalil calls --format jsonl | wc -l`
(counted here from the same commands' output); ALEAPP's are the data rows (lines after the header) of
the TSV reports it writes under `ALEAPP_Reports_*/_TSV Exports/`, for its SMS and MMS messages, call
logs and WhatsApp messages/calls reports; the HTML reports carry the same rows. Records per second
= those records / the median wall time of the whole run (each tool's full run, not its parsers alone).

ALEAPP is not part of Dalil: check it out into benchmarks/work/ (git-ignored) with a venv there:
  benchmarks/work/ALEAPP  and  benchmarks/work/aleapp-venv (its requirements.txt installed).
On this machine ALEAPP's requirements.txt installs from PyPI except its git dependency
mister_skinnylegs (github.com is not reachable here): it was installed from local clones of
cclgroupltd/mister-skinnylegs@v0.0.18, ccl_chrome_indexeddb and ccl_simplesnappy, and
ccl_mozilla_reader with --ignore-requires-python (it declares Python >= 3.12; this machine has 3.11),
all with --no-deps (Brotli and zstd==1.5.7.3 from PyPI); on 3.11 the one 3.12-only line of
ccl_mozilla_reader (storage_formats/moz_lz4.py:36, `hex(" ", 1)` inside a double-quoted f-string)
must use single quotes in the venv's copy, or every ALEAPP run stops at import.
Not a test: prints figures measured here. Usage (with Dalil's venv, which runs `dalil`):
  .venv/bin/python benchmarks/phone_vs_aleapp.py [--extraction DIR] [--runs N] [--aleapp-scope all|phone] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
SMS_DB = "data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
CALLS_DB = "data/data/com.android.providers.contacts/databases/calllog.db"
# ALEAPP's TSV reports that hold the records both tools are asked for (report names as ALEAPP writes them).
# "WhatsApp - Messages" reads the legacy `messages` table only; a current msgstore.db (`message`) is read
# by its one-to-one (recipient_count = 0) and group (recipient_count >= 1) reports.
ALEAPP_REPORTS = {"messages": ("SMS Messages", "MMS Messages", "WhatsApp - Messages",
                               "WhatsApp - One To One Messages", "WhatsApp - Group Messages"),
                  "calls": ("Call logs", "Call Logs", "WhatsApp - Call Logs")}
# the profile of `--aleapp-scope phone`: the plugins (keys of their __artifacts_v2__) writing those reports
ALEAPP_PHONE_PLUGINS = ("get_sms_mms", "get_sms_mms_mms", "get_calllog", "get_calllogs", "get_whatsapp_messages",
                        "get_whatsapp_one_to_one_messages", "get_whatsapp_group_messages",
                        "get_whatsapp_call_logs", "get_whatsapp_contacts")

# plaso test_data/mmssms.db (telephony provider, user_version 57): the tables a message lives in
MMSSMS_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0);
CREATE INDEX typeThreadIdIndex ON sms (type, thread_id);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,message_count INTEGER DEFAULT 0,recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,read INTEGER DEFAULT 1,type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,has_attachment INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,seen INTEGER DEFAULT 0,text_only INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT);
CREATE TABLE addr (_id INTEGER PRIMARY KEY,msg_id INTEGER,contact_id INTEGER,address TEXT,type INTEGER,charset INTEGER);
PRAGMA user_version = 57;
"""
# andriller tests/data/calllog.db (AOSP CallLogProvider calllog.db, user_version 5)
CALLLOG_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE properties (property_key TEXT PRIMARY KEY, property_value TEXT );
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,post_dial_digits TEXT NOT NULL DEFAULT '',via_number TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,data_usage INTEGER,type INTEGER,features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,subscription_id TEXT,phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,sub_id INTEGER DEFAULT -1,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,add_for_all_users INTEGER NOT NULL DEFAULT 1,last_modified INTEGER DEFAULT 0,_data TEXT,has_content INTEGER,mime_type TEXT,source_data TEXT,source_package TEXT,transcription TEXT,transcription_state INTEGER NOT NULL DEFAULT 0,state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,backed_up INTEGER NOT NULL DEFAULT 0,restored INTEGER NOT NULL DEFAULT 0,archived INTEGER NOT NULL DEFAULT 0,is_omtp_voicemail INTEGER NOT NULL DEFAULT 0,conference_call_id INTEGER NOT NULL DEFAULT -1,indicate_phone_or_sim_contact INTEGER NOT NULL DEFAULT -1,is_sdn_contact INTEGER NOT NULL DEFAULT 0);
CREATE TABLE conference_calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,group_id INTEGER,conference_date INTEGER, conference_duration INTEGER DEFAULT -1 );
CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY AUTOINCREMENT,source_package TEXT NOT NULL,phone_account_component_name TEXT,phone_account_id TEXT,settings_uri TEXT,voicemail_access_uri TEXT,configuration_state INTEGER,data_channel_state INTEGER,notification_channel_state INTEGER,quota_occupied INTEGER DEFAULT -1,quota_total INTEGER DEFAULT -1,source_type TEXT);
PRAGMA user_version = 5;
"""
WORDS = ("the boat leaves tonight from the port bring cash two hundred dinar passengers wait near the beach "
         "call me when you arrive police checkpoint road Zuwara Sabratha Tripoli tomorrow morning ok yes no").split()
ARABIC = "القارب يغادر الليلة من الميناء أحضر المال مائتي دينار الركاب ينتظرون قرب الشاطئ اتصل بي عندما تصل".split()
START_MS = 1_690_000_000_000  # 2023-07-22
YEAR_MS = 365 * 86_400_000


def _numbers(rng: random.Random, n: int) -> list[str]:
    """Libyan mobile numbers in the forms phones store them: +218…, 0… national, 00218…."""
    out = []
    for _ in range(n):
        sub = f"9{rng.choice('1234')}{rng.randrange(10**7):07d}"
        out.append(rng.choice((f"+218{sub}", f"0{sub}", f"00218{sub}", f"+218 {sub[:2]} {sub[2:5]} {sub[5:]}")))
    return out


def _text(rng: random.Random) -> str:
    words = ARABIC if rng.random() < 0.3 else WORDS
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 25)))


def build_fallback(folder: Path, sms: int, calls: int, seed: int = 13) -> dict[str, int]:
    """mmssms.db with `sms` SMS and calllog.db with `calls` calls, real tables, made-up content."""
    rng = random.Random(seed)
    people = _numbers(rng, 400)
    db_path = folder / SMS_DB
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(MMSSMS_SCHEMA)
    db.execute("INSERT INTO android_metadata VALUES ('en_US')")
    db.executemany("INSERT INTO canonical_addresses (_id, address) VALUES (?,?)",
                   [(i + 1, p) for i, p in enumerate(people)])
    db.executemany("INSERT INTO threads (_id, date, message_count, recipient_ids, snippet) VALUES (?,?,?,?,?)",
                   [(i + 1, START_MS, 0, str(i + 1), "") for i in range(len(people))])
    rows = []
    for i in range(sms):
        who = rng.randrange(len(people))
        date = START_MS + rng.randrange(YEAR_MS)
        kind = rng.choice((1, 1, 2, 2, 2, 3, 5))
        rows.append((i + 1, who + 1, people[who], date, date - rng.randrange(5000) if kind == 1 else 0, 0,
                     int(kind != 1 or rng.random() < 0.8), -1, kind, 0, None, _text(rng),
                     "+218910000001" if kind == 1 else None, 0, 0, 1))
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, protocol, read, status, type, "
                   "reply_path_present, subject, body, service_center, locked, error_code, seen) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    db_path = folder / CALLS_DB
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(CALLLOG_SCHEMA)
    db.execute("INSERT INTO android_metadata VALUES ('en_US')")
    rows2 = []
    for i in range(calls):
        number = rng.choice(people)
        kind = rng.choice((1, 1, 2, 2, 3, 3, 5, 6))
        rows2.append((i + 1, number, 1, START_MS + rng.randrange(YEAR_MS), 0 if kind in (3, 5, 6) else
                      rng.randrange(1, 1800), kind, "com.android.phone/com.android.services.telephony."
                      "TelephonyConnectionService", "89218000123456789012", 1, "LY", "Libya",
                      number.replace(" ", ""), 1))
    db.executemany("INSERT INTO calls (_id, number, presentation, date, duration, type, "
                   "subscription_component_name, subscription_id, sub_id, countryiso, geocoded_location, "
                   "normalized_number, is_read) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows2)
    db.commit()
    db.close()
    return {"messages": sms, "calls": calls}


def dalil(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage.cli.main", *args]


def dalil_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(work / "config"), DALIL_EXAMINER="Bench Examiner",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("DALIL_CASE", None)
    return env


PEAK_RSS: dict[str, list[float]] = {"dalil": [], "aleapp": []}  # MB, the largest process of each run
CPU: dict[str, list[float]] = {"dalil": [], "aleapp": []}  # s, user + system of the run's processes


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None, tool: str = "") -> float:
    os.sync()  # neither tool pays for the other's writes still in the page cache
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # its peak RSS (and that of the children it waited for)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                             f"{err.read().decode(errors='replace')[-3000:]}")
    if tool:
        PEAK_RSS[tool].append(usage.ru_maxrss / 1024)
        CPU[tool].append(usage.ru_utime + usage.ru_stime)
    return took


def dalil_run(work: Path, extraction: Path, n: int, count: bool) -> tuple[float, dict[str, int]]:
    env = dalil_env(work)
    case = work / f"case{n}"
    # run in ROOT: `python -m` puts the current folder first on sys.path, so from another checkout
    # it would run that checkout's Dalil
    subprocess.run(dalil("case", "init", str(case), "--case-id", f"BENCH-{n}", "--title", "phone bench",
                         "--examiner", "Bench Examiner"), env=env, check=True, capture_output=True, cwd=ROOT)
    seconds = timed(dalil("parse", str(extraction), "--exhibit", "B", "--no-yara", "--case", str(case)), env,
                    cwd=ROOT, tool="dalil")
    counts: dict[str, int] = {}
    if count:  # the same as `dalil messages --format jsonl | wc -l`, and calls
        for what in ("messages", "calls"):
            out = subprocess.run(dalil(what, "--case", str(case), "--format", "jsonl"), env=env, check=True,
                                 capture_output=True, cwd=ROOT).stdout
            counts[what] = sum(1 for line in out.splitlines() if line.strip())
    shutil.rmtree(case)
    return seconds, counts


def aleapp_run(work: Path, extraction: Path, aleapp: Path, python: Path, n: int, profile: Path | None,
               count: bool) -> tuple[float, dict[str, int], dict[str, int]]:
    out = work / f"aleapp{n}"
    out.mkdir()
    env = dict(os.environ)
    env.update(HOME=str(work / "home"), XDG_CONFIG_HOME=str(work / "home" / ".config"))  # its run history
    cmd = [str(python), "aleapp.py", "-t", "fs", "-i", str(extraction), "-o", str(out)]
    if profile is not None:
        cmd += ["-m", str(profile)]
    seconds = timed(cmd, env, cwd=aleapp, tool="aleapp")
    counts: dict[str, int] = {}
    reports: dict[str, int] = {}
    if count:
        for tsv in sorted(out.glob("*/_TSV Exports/*.tsv")):
            with open(tsv, encoding="utf-8", errors="replace", newline="") as fh:
                rows = max(0, sum(1 for _ in csv.reader(fh, delimiter="\t")) - 1)
            reports[tsv.stem.strip()] = rows
            for what, names in ALEAPP_REPORTS.items():
                if tsv.stem.strip() in names:
                    counts[what] = counts.get(what, 0) + rows
    shutil.rmtree(out)
    return seconds, counts, reports


def aleapp_version(aleapp: Path) -> str:
    head = subprocess.run(["git", "-C", str(aleapp), "log", "-1", "--format=%H %cs"], capture_output=True,
                          text=True).stdout.strip()
    version = ""
    info = aleapp / "scripts" / "version_info.py"
    if info.exists():
        for line in info.read_text(encoding="utf-8").splitlines():
            if line.startswith("leapp_version"):
                version = line.split("=", 1)[1].strip().strip("'\"")
    return f"ALEAPP {version} ({head})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extraction", type=Path, help="an extraction folder (default: build the fallback one)")
    parser.add_argument("--sms", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--aleapp", type=Path, default=WORK / "ALEAPP")
    parser.add_argument("--aleapp-python", type=Path, default=WORK / "aleapp-venv" / "bin" / "python")
    parser.add_argument("--aleapp-scope", choices=("all", "phone"), default="all",
                        help="all ALEAPP modules (as a user runs it), or only its SMS/MMS, call-log and WhatsApp ones")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    if not (args.aleapp / "aleapp.py").exists() or not args.aleapp_python.exists():
        raise SystemExit(f"ALEAPP not found: check it out into {args.aleapp} and make {args.aleapp_python} "
                         "(see this script's docstring)")
    work = Path(args.keep or tempfile.mkdtemp(prefix="dalil-phone-bench-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        expected: dict[str, int] | None = None
        extraction = args.extraction.resolve() if args.extraction else None  # ALEAPP runs in its own folder
        if extraction is None:
            extraction = work / "extraction"
            start = time.perf_counter()
            expected = build_fallback(extraction, args.sms, args.calls)
            size = sum(p.stat().st_size for p in extraction.rglob("*") if p.is_file())
            print(f"fallback extraction: {args.sms:,} SMS, {args.calls:,} calls, {size / 1e6:,.1f} MB, "
                  f"built in {time.perf_counter() - start:.1f} s")
        profile = None
        if args.aleapp_scope == "phone":
            profile = work / "phone.alprofile"
            profile.write_text(json.dumps({"leapp": "aleapp", "format_version": 1,
                                           "plugins": list(ALEAPP_PHONE_PLUGINS)}))
        print(aleapp_version(args.aleapp) + f", scope {args.aleapp_scope}; Dalil at "
              + subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True,
                               text=True).stdout.strip())
        d_times, a_times = [], []
        d_counts: dict[str, int] = {}
        a_counts: dict[str, int] = {}
        reports: dict[str, int] = {}
        for n in range(args.runs):
            first = n == 0
            order = ("dalil", "aleapp") if n % 2 == 0 else ("aleapp", "dalil")
            for tool in order:
                if tool == "dalil":
                    t, c = dalil_run(work, extraction, n, first)
                    d_times.append(t)
                    d_counts = c or d_counts
                else:
                    t, c, r = aleapp_run(work, extraction, args.aleapp, args.aleapp_python, n, profile, first)
                    a_times.append(t)
                    a_counts, reports = (c, r) if first else (a_counts, reports)
            print(f"run {n + 1} ({' then '.join(order)}): dalil {d_times[-1]:7.2f} s   ALEAPP {a_times[-1]:7.2f} s   "
                  f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        d, a = statistics.median(d_times), statistics.median(a_times)
        d_total, a_total = sum(d_counts.values()), sum(a_counts.values())
        agree = d_counts == a_counts and (expected is None or expected == d_counts)
        print(f"records: dalil {d_counts} (dalil messages/calls --format jsonl), ALEAPP {a_counts} (TSV rows)"
              + (f", generated {expected}" if expected else "") + ("" if agree else "  <-- COUNTS DIFFER"))
        print("ALEAPP TSV reports with rows: " + ", ".join(f"{k} {v}" for k, v in reports.items() if v))
        print(f"dalil  median {d:7.2f} s  {d_total / d:10,.0f} records/s")
        print(f"ALEAPP median {a:7.2f} s  {a_total / a:10,.0f} records/s")
        print(f"peak RSS median: dalil {statistics.median(PEAK_RSS['dalil']):,.0f} MB, "
              f"ALEAPP {statistics.median(PEAK_RSS['aleapp']):,.0f} MB")
        print(f"CPU time median (user + system, all processes; less swayed by a busy machine than wall time): "
              f"dalil {statistics.median(CPU['dalil']):.2f} s, ALEAPP {statistics.median(CPU['aleapp']):.2f} s")
        print(f"ratio (ALEAPP time / dalil time): {a / d:.2f}x  (target: > 1, and dalil under 60 s)")
        print(json.dumps({"dalil_s": d_times, "aleapp_s": a_times, "dalil_records": d_counts,
                          "aleapp_records": a_counts, "ratio": round(a / d, 2),
                          "peak_rss_mb": PEAK_RSS, "cpu_s": CPU}))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
