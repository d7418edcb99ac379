"""ImapSource against a real but hostile IMAP server (trickle.py): nothing may hang.

A read timeout is per recv(), so a server sending one byte every 0.3 s never trips it; only the
per-command deadline ends such a reply. Every test runs the code under test in a thread and
fails (instead of hanging the suite) if it has not returned within a generous bound.
"""
from __future__ import annotations

import json
import re
import threading
import time

import pytest
from imapclient import SocketTimeout

from maildaemon.config import ServerSettings
from maildaemon.source import SourceError
from maildaemon.source import imap
from maildaemon.source.imap import ImapSource
from trickle import HostileImap

pytestmark = pytest.mark.live

QUICK = SocketTimeout(connect=2, read=2)
BOUND = 30.0            # "returned within": far above any deadline used here, far below "forever"
PASSWORD = "pä$$wörd-Secr3t"


def mail(n: int, pad: int = 400) -> bytes:
    return (f"From: rt@example.org\r\nMessage-ID: <h{n}@example.org>\r\nSubject: [rt #{n}] hostile\r\n"
            f"X-Padding: {'p' * pad}\r\n\r\nbody {n}\r\n{'b' * pad}\r\n").encode()


def settings(server: HostileImap, **changes) -> ServerSettings:
    values = dict(host=server.host, port=server.port, user=server.user, password=server.password,
                  security="plain", folder="INBOX")
    values.update(changes)
    return ServerSettings(**values)


def bounded(fn, limit: float = BOUND):
    """(result, exception, seconds) of fn() run in a thread; fails the test if it did not return."""
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:      # noqa: BLE001 - handed to the test
            box["error"] = e

    started = time.monotonic()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still blocked after {limit} s: the source hangs"
    return box.get("result"), box.get("error"), time.monotonic() - started


def failing_pass(server, **kw):
    sleeps: list[float] = []
    src = ImapSource(settings(server), timeout=QUICK, deadline=2, sleep=sleeps.append, **kw)
    delivered: list = []

    def run():
        for mails, after in src.batches(None):
            delivered.append((mails, after))

    _, error, seconds = bounded(run)
    assert isinstance(error, SourceError), f"expected SourceError, got {error!r}"
    text = str(error)
    assert "\n" not in text and server.password not in text
    assert text.startswith(f"IMAP 127.0.0.1:{server.port}: ")
    return text, sleeps, delivered, seconds


def test_a_trickled_literal_ends_at_the_deadline():
    with HostileImap("trickle", {1: mail(1), 2: mail(2)}, slow={2}) as server:
        text, sleeps, delivered, seconds = failing_pass(server, attempts=2)
    assert "no complete reply to FETCH within" in text and "server too slow" in text
    assert sleeps == [1]                # retried once, like any lost connection, then given up
    assert delivered == []              # UID 1 shared the batch: nothing was handed out
    assert seconds < BOUND


def test_a_trickled_header_of_an_oversize_mail_ends_at_the_deadline():
    """The header-only FETCH (a mail over the limit) is bounded like any other."""
    with HostileImap("trickle", {1: mail(1), 2: mail(2)}, slow={2}, sizes={2: 50_000_000}) as server:
        text, sleeps, delivered, _ = failing_pass(server, attempts=1)
        fetches = [c for c in server.commands if "FETCH" in c]
    assert "no complete reply to FETCH within" in text and sleeps == []
    # UID 1 came in its own batch, with its per-mail position; UID 2 was only ever asked for its header
    assert [[m.origin for m in mails] for mails, _ in delivered] == ["imap:INBOX:42:1".split()]
    assert delivered[0][0][0].position == {"uidvalidity": 42, "last_uid": 1}
    assert any("BODY.PEEK[HEADER]<0.65536>" in c and " 2 " in c for c in fetches)
    assert not any("BODY.PEEK[]" in c and " 2 " in c for c in fetches)


def test_a_connection_dropped_mid_literal_is_a_clean_error():
    with HostileImap("drop", {1: mail(1)}, slow={1}) as server:
        text, sleeps, delivered, _ = failing_pass(server, attempts=3)
    assert "connection lost" in text and sleeps == [1, 2] and delivered == []


def test_a_server_that_never_greets_fails_within_the_connect_timeout():
    with HostileImap("silent", {1: mail(1)}) as server:
        text, sleeps, _, seconds = failing_pass(server, attempts=1)
    assert ("cannot connect: timed out" in text or "no complete reply to connect/greeting" in text)
    assert seconds < 10


def test_a_trickled_greeting_ends_at_the_deadline():
    with HostileImap("slow-greeting", {1: mail(1)}) as server:
        text, sleeps, _, seconds = failing_pass(server, attempts=2)
    assert "no complete reply to connect/greeting within" in text
    assert "(gave up after 2 attempts)" in text and sleeps == [1]


def test_non_ascii_password_goes_through_authenticate_plain_and_never_shows():
    with HostileImap("trickle", {1: mail(1)}, password=PASSWORD) as server:
        src = ImapSource(settings(server), timeout=QUICK, deadline=5)
        result, error, _ = bounded(lambda: [m.data for mails, _ in src.batches(None) for m in mails])
        commands = list(server.commands)
    assert error is None and result == [mail(1)]
    assert any(c.split()[1:3] == ["AUTHENTICATE", "PLAIN"] for c in commands)
    assert not any(" LOGIN " in c for c in commands)


def test_sync_through_the_cli_exits_1_with_one_line_and_keeps_the_position(cli, monkeypatch):
    """`maildaemon sync` as a user runs it: UID 1 is stored, UID 2 trickles; exit 1, no traceback,
    the position stays after UID 1 (nothing unread is skipped), the error is in `status`."""
    monkeypatch.setattr(imap, "DEADLINE", 2.0)          # the defaults the CLI's source is made with
    monkeypatch.setattr(imap, "TIMEOUT", QUICK)
    with HostileImap("trickle", {1: mail(1), 2: mail(2)}, slow={2}, sizes={2: 30_000_000},
                     password=PASSWORD) as server:
        env = dict(MAILDAEMON_IMAP_HOST=server.host, MAILDAEMON_IMAP_PORT=str(server.port),
                   MAILDAEMON_IMAP_USER=server.user, MAILDAEMON_IMAP_PASSWORD=server.password,
                   MAILDAEMON_IMAP_SECURITY="plain")
        (code, out, err), error, _ = bounded(lambda: cli("sync", **env), limit=60)
    assert error is None
    assert code == 1, err
    assert "Traceback" not in err and PASSWORD not in out + err
    failures = [line for line in err.splitlines() if "sync failed" in line]
    assert len(failures) == 1
    assert re.search(r"IMAP 127\.0\.0\.1:\d+: no complete reply to FETCH within [\d.]+ s \(server too slow\)$",
                     failures[0])
    code, out, _ = cli("status", "--json", **env)
    status = json.loads(out)
    position = status["positions"][f"imap://{server.user}@127.0.0.1:{server.port}/INBOX"]
    assert position == {"uidvalidity": 42, "last_uid": 1}
    assert "server too slow" in status["last_error"]["message"] and PASSWORD not in out
