"""`dalil messages | calls | contacts | records | artifacts`: what the phone parsers read."""

from __future__ import annotations

from typing import Annotated

import typer

from ..artifacts import query, schema  # noqa: F401  (schema registers the tables)
from . import common

ExhibitOpt = Annotated[str | None, typer.Option("--exhibit", help="Only this exhibit.")]
AppOpt = Annotated[str | None, typer.Option("--app", help="Only this app: sms, mms, imessage, whatsapp, telegram, …")]
RecoveredOpt = Annotated[bool, typer.Option("--recovered", help="Only records recovered from deleted space.")]
FormatOpt = Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")]
ContainsOpt = Annotated[str | None, typer.Option("--contains", help="Text it contains (case, accents and digit "
                                                                    "forms ignored).")]
NumberOpt = Annotated[str | None, typer.Option("--number", help="A phone number in any written form.")]


def messages(
    exhibit: ExhibitOpt = None, app: AppOpt = None,
    thread: Annotated[str | None, typer.Option("--thread", help="A thread id (as listed), or a number taking part.")] = None,
    contains: ContainsOpt = None, recovered: RecoveredOpt = False,
    fmt: FormatOpt = common.ListFormat.table, case_dir: common.CaseOpt = None,
) -> None:
    """Messages (SMS, MMS, iMessage, WhatsApp, Telegram…) read from phones, times in UTC."""
    case = common.open_case(case_dir)
    rows = query.messages(case, query.Filters(exhibit, app, thread, contains, recovered))
    table = ["exhibit", "app", "time", "direction", "sender", "recipients", "text", "recovered"]
    common.emit(rows, fmt, table if fmt == common.ListFormat.table else query.MESSAGE_FIELDS, title="Messages")


def calls(
    exhibit: ExhibitOpt = None, app: AppOpt = None, number: NumberOpt = None, recovered: RecoveredOpt = False,
    fmt: FormatOpt = common.ListFormat.table, case_dir: common.CaseOpt = None,
) -> None:
    """Calls (phone, WhatsApp, …): direction, number, name, time (UTC), duration in seconds."""
    case = common.open_case(case_dir)
    rows = query.calls(case, query.Filters(exhibit, app, recovered=recovered, number=number))
    table = ["exhibit", "app", "time", "direction", "number", "name", "duration", "recovered"]
    common.emit(rows, fmt, table if fmt == common.ListFormat.table else query.CALL_FIELDS, title="Calls")


def contacts(
    exhibit: ExhibitOpt = None, app: AppOpt = None, number: NumberOpt = None, contains: ContainsOpt = None,
    recovered: RecoveredOpt = False, fmt: FormatOpt = common.ListFormat.table, case_dir: common.CaseOpt = None,
) -> None:
    """Contacts kept by the phone and its apps: names, numbers (E.164), e-mail addresses, handles."""
    case = common.open_case(case_dir)
    rows = query.contacts(case, query.Filters(exhibit, app, contains=contains, recovered=recovered, number=number))
    table = ["exhibit", "app", "name", "phones", "emails", "handles", "recovered"]
    common.emit(rows, fmt, table if fmt == common.ListFormat.table else query.CONTACT_FIELDS, title="Contacts")


def records(
    exhibit: ExhibitOpt = None, app: AppOpt = None,
    kind: Annotated[str | None, typer.Option("--kind", help="visit, download, search, account, wifi, app, device, "
                                                            "sim, location, …")] = None,
    contains: ContainsOpt = None, recovered: RecoveredOpt = False,
    fmt: FormatOpt = common.ListFormat.table, case_dir: common.CaseOpt = None,
) -> None:
    """Other phone records: web visits, accounts, Wi-Fi networks, installed apps, device and SIM facts, places."""
    case = common.open_case(case_dir)
    rows = query.items(case, query.Filters(exhibit, app, contains=contains, recovered=recovered, kind=kind))
    table = ["exhibit", "app", "kind", "time", "title", "value", "recovered"]
    common.emit(rows, fmt, table if fmt == common.ListFormat.table else query.ITEM_FIELDS, title="Phone records")


def artifacts(
    exhibit: ExhibitOpt = None, fmt: FormatOpt = common.ListFormat.table, case_dir: common.CaseOpt = None,
) -> None:
    """Each phone parser that ran: its version, the files it read (SHA-256), record counts, warnings."""
    case = common.open_case(case_dir)
    rows = query.artifact_runs(case, exhibit)
    table = ["exhibit", "parser", "version", "path", "counts", "status", "warnings"]
    common.emit(rows, fmt, table if fmt == common.ListFormat.table else query.ARTIFACT_FIELDS, title="Artifact parsers")
    if not rows:
        common.info("no phone artifacts parsed in this case")


def register(app: typer.Typer) -> None:
    for command in (messages, calls, contacts, records, artifacts):
        app.command(command.__name__)(command)
