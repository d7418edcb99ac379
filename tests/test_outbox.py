"""outbox.py: every mail is persisted before it is sent, marked sent after the server took it, and
a Message-ID is queued once (README, "The outbox"). The wire is a stand-in here (`deliver` takes
the session factory), so a test can look at the state folder while a mail is on it; real SMTP
answers are tests/live/test_send_retries.py's and test_smtp_hostile.py's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from maildaemon import outbox
from maildaemon.config import ServerSettings
from maildaemon.model import Outgoing
from maildaemon.send import PermanentFailure, SendError
from maildaemon.store import Store

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
SMTP = ServerSettings(host="127.0.0.1", port=25, security="plain")


def mail(n: int, recipients: tuple[str, ...] = ("ada@example.org",), text: str = "") -> Outgoing:
    mid = f"<maildaemon.owner.goc-{n}.2026-11-24@example.org>"
    raw = f"Message-ID: {mid}\nSubject: reminder {n}\n\n{text or f'Please look at goc:{n}.'}\n".encode()
    return Outgoing(message_id=mid, kind="owner", period="2026-11-24", tickets=(f"goc:{n}",),
                    sender="software-triage@example.org", recipients=recipients, subject=f"reminder {n}", raw=raw)


def queue(store: Store, *mails: Outgoing, smtp: bool = True) -> list[bool]:
    with store.transaction() as txn:
        new = [outbox.enqueue(txn, store.dir, m, NOW - timedelta(seconds=len(mails) - i), smtp)
               for i, m in enumerate(mails)]
        txn.commit()
    return new


class Wire:
    """A stand-in for send.SmtpSession and its factory: `send` raises what `answers` holds for a
    Message-ID, and remembers what it was given and what the state folder said meanwhile."""

    def __init__(self, store: Store, answers: dict[str, Exception] | None = None):
        self.store, self.answers = store, answers or {}
        self.given: list[tuple[str, bytes]] = []
        self.during: list = []

    def __call__(self, settings, **kw):
        return self

    def send(self, sender, recipients, raw, deadline=None):
        mid = next(line.split(b": ", 1)[1].decode() for line in raw.splitlines() if line.startswith(b"Message-ID"))
        self.given.append((mid, raw))
        self.during.append(self.store.view().outbox()[mid])
        if mid in self.answers:
            raise self.answers[mid]

    def close(self):
        pass


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state")
    s.ensure()
    return s


def test_a_mail_is_on_disk_and_marked_sending_with_its_attempt_counted_before_it_goes_on_the_wire(store):
    m = mail(1)
    queue(store, m)
    rec = store.view().outbox()[m.message_id]
    assert (rec.state, rec.attempts, rec.sent_at) == ("queued", 0, None)
    assert (store.dir / "outbox" / rec.file).read_bytes() == m.raw                 # the bytes, before any send
    wire = Wire(store)
    assert outbox.deliver(store, SMTP, NOW, session_factory=wire) == {"sent": 1, "retry": 0, "failed": 0}
    [(mid, raw)] = wire.given
    assert (mid, raw) == (m.message_id, m.raw)
    [during] = wire.during                                 # what a crash on the wire would leave behind
    assert (during.state, during.attempts) == ("sending", 1) and during.sending_until > NOW.isoformat()
    rec = store.view().outbox()[m.message_id]
    assert (rec.state, rec.attempts, rec.sent_at, rec.sending_until) == ("sent", 1, NOW.isoformat(), None)


def test_a_message_id_is_queued_once_whatever_comes_later_with_it(store):
    first = mail(2)
    assert queue(store, first) == [True]
    other_text = mail(2, text="A second rendering of the same reminder.")
    assert queue(store, other_text) == [False]                                        # not replaced
    wire = Wire(store)
    outbox.deliver(store, SMTP, NOW, session_factory=wire)
    assert queue(store, first) == [False]                                             # nor after it went
    outbox.deliver(store, SMTP, NOW + timedelta(days=1), session_factory=wire)
    assert wire.given == [(first.message_id, first.raw)]


def test_a_pass_sends_the_oldest_first_and_each_failure_is_that_mails_alone(store):
    refused, busy, fine = mail(3), mail(4), mail(5)
    queue(store, refused, busy, fine)
    wire = Wire(store, {refused.message_id: PermanentFailure("SMTP x: 550 5.1.1 no such user"),
                        busy.message_id: SendError("SMTP x: 451 4.3.0 try later")})
    assert outbox.deliver(store, SMTP, NOW, session_factory=wire) == {"sent": 1, "retry": 1, "failed": 1}
    assert [mid for mid, _ in wire.given] == [refused.message_id, busy.message_id, fine.message_id]
    recs = store.view().outbox()
    assert (recs[refused.message_id].state, recs[refused.message_id].last_error) == \
        ("failed", "SMTP x: 550 5.1.1 no such user")
    assert (recs[busy.message_id].state, recs[busy.message_id].last_error) == ("queued", "SMTP x: 451 4.3.0 try later")
    assert recs[busy.message_id].next_attempt_at == (NOW + timedelta(seconds=outbox.BACKOFF[0])).isoformat()
    assert recs[fine.message_id].state == "sent"


def test_a_mail_with_no_valid_recipient_fails_at_once_and_a_mail_without_smtp_is_written(store):
    nobody, kept = mail(6, recipients=()), mail(7)
    queue(store, nobody)
    queue(store, kept, smtp=False)
    recs = store.view().outbox()
    assert (recs[nobody.message_id].state, recs[nobody.message_id].last_error) == \
        ("failed", "no valid recipient address")
    assert recs[kept.message_id].state == "written"
    assert (store.dir / "outbox" / recs[kept.message_id].file).read_bytes() == kept.raw    # the delivery
    wire = Wire(store)
    assert outbox.deliver(store, SMTP, NOW, session_factory=wire) == {"sent": 0, "retry": 0, "failed": 0}
    assert wire.given == []
    assert outbox.summary(recs) == {"queued": 0, "sending": 0, "sent": 0, "written": 1, "failed": 1}


def test_a_mail_that_came_back_through_the_list_is_sent_and_never_goes_out_again(store):
    m = mail(8)
    queue(store, m)
    with store.transaction() as txn:
        assert outbox.confirm(txn, m.message_id, NOW) is True
        assert outbox.confirm(txn, m.message_id, NOW) is False                      # once
        assert outbox.confirm(txn, "<someone.else@example.org>", NOW) is False
        txn.commit()
    wire = Wire(store)
    assert outbox.deliver(store, SMTP, NOW, session_factory=wire)["sent"] == 0 and wire.given == []
    assert store.view().outbox()[m.message_id].state == "sent"
