"""The recorded command line: credentials in URLs never reach the ledger."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("arg", "want"), [
    ("socks5h://alice:s3cret@127.0.0.1:9050", "socks5h://<redacted>@127.0.0.1:9050"),
    ("--proxy=http://u:p@proxy.lab:3128", "--proxy=http://<redacted>@proxy.lab:3128"),
    ("socks5h://me:p@ss@127.0.0.1:9050", "socks5h://<redacted>@127.0.0.1:9050"),  # a raw '@' in the password
    ("https://site.example/a@b", "https://site.example/a@b"),  # an '@' in the path is not user-info
    ("plain text @handle", "plain text @handle"),
    # redis-py takes the broker's password from the query too
    ("--broker=redis://lab:6379/0?password=s3cret", "--broker=redis://lab:6379/0?password=<redacted>"),
    ("redis://lab/0?db=1&Password=s3cret&x=1", "redis://lab/0?db=1&Password=<redacted>&x=1"),
    ("notes?password=kept", "notes?password=kept"),  # not a URL
])
def test_command_line_credentials_redacted(arg: str, want: str) -> None:
    from triage.core import invocation

    invocation.set_command_line(["collect", arg])
    assert invocation.command_line() == ["dalil", "collect", want]


@pytest.mark.parametrize("url", ["redis://:s3cret@lab:6379/0", "redis://lab:6379/0?password=s3cret",
                                 "rediss://user:s3cret@lab/1?ssl_cert_reqs=none"])
def test_broker_url_redacted_for_ledger_and_messages(url: str) -> None:
    from triage.distributed.app import redact

    assert "s3cret" not in redact(url) and "lab" in redact(url)


def test_parse_options_repr_holds_no_key_or_broker_password() -> None:
    """A traceback or a debug line showing the options shows no secret."""
    from triage.image.parse import ParseOptions

    shown = repr(ParseOptions(exhibit="E1", password="pw-s3cret", recovery_key="rk-s3cret",
                              broker="redis://:broker-s3cret@lab:6379/0"))
    assert "s3cret" not in shown and "E1" in shown
