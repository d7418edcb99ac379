"""Sending against hostile or broken SMTP (SPEC 9, "Sending"): one mail's failure is its own,
attempts are bounded, every exchange is bounded in time, and no network I/O holds the state lock.

Real servers only: aiosmtpd (smtp.py) and the stalling servers of tarpit.py on 127.0.0.1. The
timeouts and deadlines are parameters of `outbox.deliver`, so these tests take seconds; bounds on
time are generous "it returned at all" checks, never measurements.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from builders import CST, goc_mail
from maildaemon import outbox
from maildaemon.config import ServerSettings
from maildaemon.model import Outgoing
from maildaemon.send import SendError, SmtpSession
from maildaemon.store import Store

from smtp import SmtpServer
from tarpit import Tarpit
from test_daemon import daemon, tickets  # noqa: F401  (the daemon fixture: Dovecot, notify socket)

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
FROM = "software-triage@example.org"


def mail(n: int, to: str = "ada@example.org", about: str | None = None) -> Outgoing:
    mid = f"<maildaemon.owner.{about or n}.2026-11-24@example.org>"
    raw = (f"From: {FROM}\nTo: {to}\nSubject: reminder {n}\nMessage-ID: {mid}\n\nPlease look at ticket {n}.\n")
    return Outgoing(message_id=mid, kind="owner", period="2026-11-24", tickets=(f"goc:{n}",), sender=FROM,
                    recipients=(to,), subject=f"reminder {n}", raw=raw.encode())


def queue(store: Store, *mails: Outgoing, now: datetime = NOW) -> None:
    with store.transaction() as txn:
        for i, m in enumerate(mails):        # created a second apart before `now`: sent in this order
            assert outbox.enqueue(txn, store.dir, m, now - timedelta(seconds=len(mails) - i), smtp=True)
        txn.commit()


def records(store: Store) -> dict[str, dict]:
    return {k: r.to_doc() for k, r in store.view().outbox().items()}


def plain(port: int, **kw) -> ServerSettings:
    return ServerSettings(host="127.0.0.1", port=port, security="plain", **kw)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state")
    s.ensure()
    return s


@pytest.fixture
def tarpit():
    pits = []

    def make(mode: str) -> Tarpit:
        pits.append(Tarpit(mode))
        return pits[-1]

    yield make
    for p in pits:
        p.close()


def in_thread(fn, *args, **kw):
    """Run `fn` in a thread; returns (thread, result dict) so a hang is seen, not suffered."""
    result = {}

    def run():
        try:
            result["value"] = fn(*args, **kw)
        except BaseException as e:       # noqa: BLE001 - reported by the test
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


# --- one mail's failure is its own; attempts are bounded -----------------------------------

@pytest.fixture
def ascii_server():
    """aiosmtpd without SMTPUTF8 (its Controller offers it by default)."""
    server = SmtpServer(enable_SMTPUTF8=False)
    server.start()
    yield server
    server.stop()


def test_a_recipient_that_cannot_be_encoded_fails_alone_and_the_others_go(cli, ascii_server):
    smtp_server = ascii_server
    store = Store(cli.root / "state")
    bad = mail(2, to="jöran@example.se")
    queue(store, bad, mail(1), mail(3, to="grace@example.org"))           # the bad one is first in line
    counts = outbox.deliver(store, plain(smtp_server.port), NOW)
    assert counts == {"sent": 2, "retry": 0, "failed": 1}
    assert sorted(m["to"][0] for m in smtp_server.messages) == ["ada@example.org", "grace@example.org"]
    rec = records(store)[bad.message_id]
    assert rec["state"] == "failed" and rec["attempts"] == 1
    assert "jöran@example.se" in rec["last_error"] and "SMTPUTF8" in rec["last_error"]
    assert "\n" not in rec["last_error"]
    for hours in (1, 5, 30):                                             # later passes leave it alone
        assert outbox.deliver(store, plain(smtp_server.port), NOW + timedelta(hours=hours)) == \
            {"sent": 0, "retry": 0, "failed": 0}
    assert records(store)[bad.message_id]["attempts"] == 1 and len(smtp_server.messages) == 2
    failures = json.loads(cli("status", "--json")[1])["outbox"]["failures"]
    assert [f["id"] for f in failures] == [bad.message_id]


def test_a_non_ascii_recipient_goes_with_smtputf8_when_the_server_offers_it(store, smtp_server):
    queue(store, mail(1, to="jöran@example.se"))
    assert outbox.deliver(store, plain(smtp_server.port), NOW)["sent"] == 1
    assert smtp_server.messages[0]["to"] == ["jöran@example.se"]


def test_a_mail_left_sending_by_a_crash_counts_its_attempt_and_gives_up_at_the_limit(store, smtp_server):
    crashed, hopeless, busy = mail(1), mail(2), mail(3)
    queue(store, crashed, hopeless, busy)
    with store.transaction() as txn:               # as a sender killed on the wire would leave them
        recs = txn.outbox()
        for m, attempts, until in ((crashed, 3, None), (hopeless, outbox.MAX_ATTEMPTS, None),
                                   (busy, 1, (NOW + timedelta(minutes=5)).isoformat())):
            txn.put_outbox(replace(recs[m.message_id], state="sending", attempts=attempts, sending_until=until))
        txn.commit()
    counts = outbox.deliver(store, plain(smtp_server.port), NOW)
    assert counts == {"sent": 1, "retry": 0, "failed": 1}
    recs = records(store)
    assert recs[crashed.message_id]["state"] == "sent" and recs[crashed.message_id]["attempts"] == 4
    assert recs[hopeless.message_id]["state"] == "failed"
    assert f"gave up after {outbox.MAX_ATTEMPTS} attempts" in recs[hopeless.message_id]["last_error"]
    # a mail another sender has on the wire (its lease not over) is left to it
    assert recs[busy.message_id]["state"] == "sending"
    assert [m["message"]["Message-ID"] for m in smtp_server.messages] == [crashed.message_id]


def test_a_300_digit_ticket_id_is_queued_and_delivered(store, smtp_server):
    huge = mail(1, about="goc-" + "7" * 300)
    legacy = mail(2)
    queue(store, huge, legacy)
    old_name = "maildaemon.owner.2.2026-11-24.eml"
    with store.transaction() as txn:               # a record from before names were bounded keeps its own
        rec = txn.outbox_record(legacy.message_id)
        (store.dir / "outbox" / rec.file).rename(store.dir / "outbox" / old_name)
        txn.put_outbox(replace(rec, file=old_name))
        txn.commit()
    name = records(store)[huge.message_id]["file"]
    assert len(name.encode()) <= 120 and name.startswith("maildaemon.owner.goc-777") and name.endswith(".eml")
    almost = mail(1, about="goc-" + "7" * 299 + "8")                  # differs beyond the readable prefix
    assert outbox.file_name(huge.message_id) != outbox.file_name(almost.message_id)
    assert outbox.deliver(store, plain(smtp_server.port), NOW)["sent"] == 2
    assert {m["message"]["Message-ID"] for m in smtp_server.messages} == {huge.message_id, legacy.message_id}


# --- every exchange is bounded in time ------------------------------------------------------

@pytest.mark.parametrize("mode, timeout, mail_seconds, claimed", [
    ("data", 30, 2, True),          # no answer after the final ".": the mail's deadline cuts it
    ("trickle", 2, 3, False),       # a 220- line every half second: no recv times out, the deadline cuts
    ("silent", 1, 30, False),       # never greets: the greeting's timeout
])
def test_a_stalling_server_costs_a_bounded_time_and_the_mail_stays_queued(store, tarpit, mode, timeout,
                                                                            mail_seconds, claimed):
    pit = tarpit(mode)
    m = mail(1)
    queue(store, m)
    t, result = in_thread(outbox.deliver, store, plain(pit.port), NOW, timeout=timeout,
                          mail_seconds=mail_seconds, pass_seconds=60)
    t.join(45)
    assert not t.is_alive(), f"deliver still waiting on the {mode} tarpit"
    assert result == {"value": {"sent": 0, "retry": 1, "failed": 0}}
    rec = records(store)[m.message_id]
    assert rec["state"] == "queued" and rec["last_error"] and f"127.0.0.1:{pit.port}" in rec["last_error"]
    if claimed:                     # the mail was on the wire: a temporary failure, counted, with backoff
        assert rec["attempts"] == 1 and rec["next_attempt_at"] > NOW.isoformat()
        assert "deadline" in rec["last_error"]
    else:                           # the server never got as far as a mail: nothing attempted
        assert rec["attempts"] == 0


def test_a_send_pass_ends_at_its_deadline_and_leaves_the_rest_queued(store, tarpit):
    pit = tarpit("data")
    first, second, third = mail(1), mail(2), mail(3)
    queue(store, first, second, third)
    t, result = in_thread(outbox.deliver, store, plain(pit.port), NOW, timeout=60, mail_seconds=60, pass_seconds=2)
    t.join(30)                      # the pass deadline cuts the mail on the wire, long before any timeout
    assert not t.is_alive()
    assert result == {"value": {"sent": 0, "retry": 3, "failed": 0}}
    recs = records(store)
    assert recs[first.message_id]["state"] == "queued" and recs[first.message_id]["attempts"] == 1
    for m in (second, third):       # never tried: untouched, due at the next pass
        assert (recs[m.message_id]["state"], recs[m.message_id]["attempts"]) == ("queued", 0)
        assert recs[m.message_id]["next_attempt_at"] <= NOW.isoformat()


def test_no_state_lock_is_held_while_a_mail_is_on_the_wire(store, tarpit):
    pit = tarpit("data")
    m = mail(1)
    queue(store, m)
    stop = threading.Event()
    t, result = in_thread(outbox.deliver, store, plain(pit.port), NOW, timeout=60, mail_seconds=60,
                          pass_seconds=60, stop=stop)
    assert pit.stalled.wait(20), pit.heard
    assert records(store)[m.message_id]["state"] == "sending"
    with store.transaction(wait=2) as txn:            # what a `sync` would do meanwhile
        txn.bump("probe")                             # any write: the lock was taken while SMTP stalls
        txn.commit()
    stop.set()                                        # the daemon stopping: the mail is cut, stays queued
    t.join(20)
    assert not t.is_alive() and result == {"value": {"sent": 0, "retry": 1, "failed": 0}}
    rec = records(store)[m.message_id]
    assert rec["state"] == "queued" and "stopped" in rec["last_error"]
    assert store.view().health().counters["probe"] == 1


def test_the_daemon_reads_the_stream_and_feeds_the_watchdog_while_smtp_stalls(daemon, cli, dovecot,  # noqa: F811
                                                                             tarpit):
    start, notify = daemon
    pit = tarpit("data")
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 23, 9, 0, tzinfo=CST), n=1))
    p = start("2026-11-24T09:31", MAILDAEMON_SMTP_PORT=str(pit.port))
    assert notify.wait_for("READY=1"), p.stdout.read() if p.poll() is not None else "no READY=1"
    assert pit.stalled.wait(20), pit.heard                # the announcement is stuck after its "."
    dovecot.append(goc_mail(41300, "Arrived during the stall", datetime(2026, 11, 24, 9, 40, tzinfo=CST), n=2))
    deadline = time.monotonic() + 20
    while "goc:41300" not in tickets(cli) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "goc:41300" in tickets(cli)
    assert p.poll() is None
    notify.heard.clear()
    assert notify.wait_for("WATCHDOG=1", timeout=5)
    notify.heard.clear()
    assert notify.wait_for("WATCHDOG=1", timeout=5)        # and again: the loop is not stuck behind SMTP
    assert pit.stalled.is_set() and "." in pit.heard
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 0                         # the mail on the wire is cut, not waited for
    box = json.loads(cli("status", "--json")[1])["outbox"]
    assert (box["queued"], box["sending"], box["failed"]) == (2, 0, 0)     # both wait for the next run


# --- credentials ----------------------------------------------------------------------------

PASSWORD = "pä$$wörd"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"triage" and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server():
    server = SmtpServer(authenticator=_authenticator, auth_require_tls=False, auth_required=True)
    server.start()
    yield server
    server.stop()


def test_a_non_ascii_password_logs_in(auth_server):
    session = SmtpSession(plain(auth_server.port, user="triage", password=PASSWORD), timeout=10)
    session.send(FROM, ["ada@example.org"], b"Subject: hi\n\nhello\n")
    session.close()
    assert [m["to"] for m in auth_server.messages] == [["ada@example.org"]]


def test_a_wrong_non_ascii_password_is_one_line_without_the_password(auth_server, store, caplog):
    wrong = "fälsch-Pa55"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SendError) as e:
        SmtpSession(plain(auth_server.port, user="triage", password=wrong), timeout=10)
    assert "login refused for triage" in str(e.value) and "\n" not in str(e.value) and wrong not in str(e.value)
    queue(store, mail(1))
    assert outbox.deliver(store, plain(auth_server.port, user="triage", password=wrong), NOW)["retry"] == 1
    assert wrong not in json.dumps(records(store)) and wrong not in json.dumps(store.view().meta())
    assert not [r for r in caplog.records if wrong in r.getMessage()]
    assert auth_server.messages == []
