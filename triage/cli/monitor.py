"""`dalil monitor add|run|list|events`: re-capture pages on a schedule, record changes and disappearances."""

from __future__ import annotations

from typing import Annotated

import typer

from collectors import schema  # noqa: F401 - registers the collectors tables
from collectors.job import DEFAULT_USER_AGENT, Job, check_url, parse_duration, parse_size
from triage.core.errors import UsageError
from . import common

monitor_app = typer.Typer(help="Watch pages and channels: re-capture when due, record changes.", no_args_is_help=True)


@monitor_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Page or channel to watch.")],
    every: Annotated[str, typer.Option("--every", help="Interval: 30m, 6h, 1d …")] = "6h",
    exhibit: Annotated[str | None, typer.Option("--exhibit", help="Exhibit id of the captures (default MON-<n>).")]
    = None,
    spider: Annotated[str, typer.Option("--spider", help="auto, page, telegram or selectors.")] = "auto",
    depth: Annotated[int, typer.Option("--depth", help="Follow same-site links this many levels.")] = 0,
    max_pages: Annotated[int, typer.Option("--max-pages", help="Stop after this many pages.")] = 20,
    max_size: Annotated[str, typer.Option("--max-size", help="Largest response, e.g. 5MB.")] = "100MB",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 30.0,
    region: Annotated[str | None, typer.Option("--region", help="Default region for phone numbers.")] = None,
    screenshot: Annotated[bool, typer.Option("--screenshot/--no-screenshot", help="Screenshots.")] = True,
    proxy: Annotated[str | None, typer.Option("--proxy", help="Proxy URL (http, socks5, socks5h); credentials "
                                              "from $DALIL_PROXY_AUTH at run time.")] = None,
    user_agent: Annotated[str, typer.Option("--user-agent", help="User-Agent header.")] = DEFAULT_USER_AGENT,
    obey_robots: Annotated[bool, typer.Option("--obey-robots/--ignore-robots", help="robots.txt policy.")] = True,
    tsa: Annotated[str | None, typer.Option("--tsa", help="RFC 3161 TSA URL for each re-capture.")] = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Watch URL; `dalil monitor run` re-captures it when due."""
    from collectors import monitor, spiders

    from collectors.proxy import AUTH_ENV, has_credentials

    if has_credentials(proxy):
        raise UsageError(f"--proxy: give the proxy's user name and password in ${AUTH_ENV}=user:pass when "
                         "`monitor run` runs, not in the URL: monitor options are stored in the case")
    spiders.get(spider)
    seconds = parse_duration(every)
    case = common.open_case(case_dir)
    job = Job(urls=[check_url(url)], exhibit=exhibit or "MON", spider=spider, depth=depth, max_pages=max_pages,
              max_size=parse_size(max_size), timeout=timeout, region=region or case.region, screenshot=screenshot,
              proxy=proxy, user_agent=user_agent, obey_robots=obey_robots).check()
    mon = monitor.add(case, url, seconds, exhibit, monitor.options_record(job, tsa), reason=reason)
    common.say(f"monitor {mon['id']}: {url} every {every} as exhibit {mon['exhibit']} (due now)")


@monitor_app.command("run")
def run(
    force: Annotated[bool, typer.Option("--force", help="Re-capture every monitor, due or not.")] = False,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Re-capture what is due; print one line per event."""
    from collectors import monitor

    case = common.open_case(case_dir)
    found = monitor.run(case, force=force, reason=reason, progress=lambda url: common.info(f"re-capturing {url}"))
    if not found:
        common.say("nothing due")
    for ev in found:
        extra = ev["details"].get("post_id") or ev["details"].get("error") or ""
        common.say(f"monitor {ev['monitor']}: {ev['kind']} {ev['url']} {extra}".rstrip())


@monitor_app.command("list")
def list_(
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """Monitors with their schedule and last result."""
    from collectors import monitor

    case = common.open_case(case_dir)
    cols = ["id", "url", "exhibit", "every_seconds", "last_run", "next_due", "last_status", "events", "active"]
    common.emit(monitor.list_all(case), fmt, cols if fmt != common.ListFormat.jsonl else None, title="Monitors")


@monitor_app.command("events")
def events_(
    monitor_id: Annotated[int | None, typer.Option("--monitor", help="Only this monitor.")] = None,
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """Changes and disappearances recorded, with the captures before and after."""
    from collectors import monitor

    case = common.open_case(case_dir)
    cols = ["id", "monitor", "time", "kind", "url", "capture", "previous_capture", "collection", "details"]
    common.emit(monitor.events(case, monitor_id), fmt, cols if fmt != common.ListFormat.jsonl else None, title="Events")


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")
