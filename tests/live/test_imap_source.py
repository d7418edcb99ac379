"""ImapSource and probe() against a real Dovecot (tests/live/conftest.py), one fresh user per test."""
from __future__ import annotations

import logging
import ssl

import pytest
from imapclient import IMAPClient, SocketTimeout

from maildaemon.source import SourceError
from maildaemon.source.imap import ImapSource, cut, probe, start_uid

pytestmark = pytest.mark.live

FAST = SocketTimeout(connect=5, read=10)


def msg(n: int, pad: int = 0) -> bytes:
    return (f"From: rt@example.org\r\nMessage-ID: <m{n}@example.org>\r\nSubject: ticket {n}\r\n\r\n"
            f"body {n}\r\n{'x' * pad}\r\n").encode()


def source(box, sleeps: list | None = None, **kw) -> ImapSource:
    """The source under test; with `sleeps`, backoff delays are recorded instead of slept."""
    if sleeps is not None:
        kw["sleep"] = sleeps.append
    return ImapSource(box.settings(), timeout=FAST, **kw)


def run(src, position=None):
    """All batches of one pass, as ([origins...], position_after) pairs, plus the mails."""
    out = list(src.batches(position))
    return [([m.origin for m in mails], after) for mails, after in out], [m for mails, _ in out for m in mails]


def test_empty_mailbox_yields_nothing(dovecot):
    assert list(source(dovecot).batches(None)) == []


def test_reads_in_uid_order_then_only_new_mail(dovecot):
    for n in range(1, 6):
        dovecot.append(msg(n))
    v = dovecot.uidvalidity()
    src = source(dovecot)
    assert src.id == f"imap://{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"

    batches, mails = run(src)
    assert batches == [([f"imap:INBOX:{v}:{u}" for u in range(1, 6)], {"uidvalidity": v, "last_uid": 5})]
    assert [m.data for m in mails] == [msg(n) for n in range(1, 6)]

    position = batches[-1][1]
    assert list(src.batches(position)) == []        # `UID 6:*` returns UID 5; it must be filtered out

    dovecot.append(msg(6))
    dovecot.append(msg(7))
    batches, mails = run(src, position)
    assert batches == [([f"imap:INBOX:{v}:6", f"imap:INBOX:{v}:7"], {"uidvalidity": v, "last_uid": 7})]
    assert [m.data for m in mails] == [msg(6), msg(7)]


def test_batches_are_cut_by_count(dovecot):
    for n in range(1, 6):
        dovecot.append(msg(n))
    batches, _ = run(source(dovecot, batch_size=2))
    assert [len(origins) for origins, _ in batches] == [2, 2, 1]
    assert [after["last_uid"] for _, after in batches] == [2, 4, 5]


def test_batches_are_cut_by_bytes_and_a_huge_message_goes_alone(dovecot):
    for n, pad in enumerate([1000, 1000, 1000, 5000, 1000], start=1):
        dovecot.append(msg(n, pad))
    batches, mails = run(source(dovecot, batch_bytes=2500))
    assert [[int(o.rsplit(":", 1)[1]) for o in origins] for origins, _ in batches] == [[1, 2], [3], [4], [5]]
    assert len(mails) == 5


def test_reading_sets_no_flags(dovecot):
    for n in range(1, 4):
        dovecot.append(msg(n))
    before = dovecot.flags()
    run(source(dovecot))
    after = dovecot.flags()
    assert after == before
    assert not any(b"\\Seen" in flags for flags in after.values())


def test_uidvalidity_change_rescans_from_uid_1(dovecot, caplog):
    for n in range(1, 4):
        dovecot.append(msg(n))
    src = source(dovecot)
    batches, _ = run(src)
    position = batches[-1][1]
    new_v = position["uidvalidity"] + 1000
    dovecot.set_uidvalidity(new_v)

    with caplog.at_level(logging.INFO, logger="maildaemon.source.imap"):
        batches, mails = run(src, position)
    assert batches == [([f"imap:INBOX:{new_v}:{u}" for u in (1, 2, 3)], {"uidvalidity": new_v, "last_uid": 3})]
    notes = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(notes) == 1 and "UIDVALIDITY changed" in notes[0] and str(new_v) in notes[0]


def test_message_expunged_between_search_and_fetch_is_skipped(dovecot, monkeypatch):
    for n in range(1, 5):
        dovecot.append(msg(n))
    real_search = IMAPClient.search

    def search_then_expunge(self, *args, **kw):
        found = real_search(self, *args, **kw)
        dovecot.delete(2)
        return found

    monkeypatch.setattr(IMAPClient, "search", search_then_expunge)
    batches, mails = run(source(dovecot))
    assert [m.data for m in mails] == [msg(1), msg(3), msg(4)]
    assert batches[-1][1]["last_uid"] == 4


def test_connection_dropped_mid_pass_resumes_after_the_last_batch(dovecot):
    for n in range(1, 5):
        dovecot.append(msg(n))
    sleeps: list[float] = []
    seen = []
    for mails, after in source(dovecot, sleeps=sleeps, batch_size=1).batches(None):
        seen += [m.data for m in mails]
        if after["last_uid"] == 2:
            dovecot.kick()                     # the server closes our session between batches
    assert seen == [msg(n) for n in range(1, 5)]   # nothing lost, nothing twice
    assert sleeps == [1]


def test_wrong_password_fails_at_once_without_leaking_it(dovecot, caplog):
    sleeps: list[float] = []
    src = ImapSource(dovecot.settings(password="Wr0ng-Passw0rd!"), timeout=FAST, sleep=sleeps.append)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:   # imapclient logs commands
        list(src.batches(None))
    text = str(err.value)
    assert sleeps == []
    assert "Wr0ng-Passw0rd!" not in text + caplog.text and dovecot.password not in text
    assert "Wr0ng-Passw0rd!" not in repr(src.settings)
    assert text.startswith(f"IMAP 127.0.0.1:{dovecot.port}: login refused for {dovecot.user}: ")
    assert "AUTHENTICATIONFAILED" in text and "\n" not in text


def test_server_down_fails_after_all_attempts(dovecot, caplog):
    dovecot.stop()
    sleeps: list[float] = []
    with pytest.raises(SourceError) as err:
        list(source(dovecot, sleeps=sleeps, attempts=3).batches(None))
    assert sleeps == [1, 2]
    text = str(err.value)
    assert text.startswith(f"IMAP 127.0.0.1:{dovecot.port}: cannot connect: ") and "3 attempts" in text
    assert dovecot.password not in text and dovecot.password not in caplog.text


def test_missing_folder_is_not_retried(dovecot):
    sleeps: list[float] = []
    src = ImapSource(dovecot.settings(folder="Nope"), timeout=FAST, sleep=sleeps.append)
    with pytest.raises(SourceError, match="cannot open folder 'Nope'"):
        list(src.batches(None))
    assert sleeps == []


def test_other_folder_and_probe(dovecot):
    dovecot.append(msg(1))
    dovecot.append(msg(2), folder="Lists")
    v = dovecot.uidvalidity()
    assert probe(dovecot.settings(), timeout=FAST) == f"INBOX: 1 messages, UIDVALIDITY {v}, IDLE supported"
    batches, _ = run(ImapSource(dovecot.settings(folder="Lists"), timeout=FAST))
    assert batches[0][0] == [f"imap:Lists:{dovecot.uidvalidity('Lists')}:1"]
    with pytest.raises(SourceError, match="login refused"):
        probe(dovecot.settings(password="nope"), timeout=FAST)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_certificate_is_verified(dovecot, monkeypatch, security):
    if dovecot.tls_port is None:
        pytest.skip("no openssl tool to make a test certificate")
    settings = dovecot.settings(security=security, port=dovecot.tls_port if security == "ssl" else dovecot.port)
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="TLS certificate not accepted") as err:
        list(ImapSource(settings, timeout=FAST, sleep=sleeps.append).batches(None))
    assert sleeps == [] and "CERTIFICATE_VERIFY_FAILED" in str(err.value)

    real = ssl.create_default_context          # now trust the test certificate: it must work
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **kw: real(cafile=str(dovecot.ca_file)))
    dovecot.append(msg(1))
    assert probe(settings, timeout=FAST).startswith("INBOX: 1 messages")
    assert [m.data for m in run(ImapSource(settings, timeout=FAST))[1]] == [msg(1)]


def test_pure_helpers():
    assert start_uid(None, 7) == (0, "no stored position")
    assert start_uid({"uidvalidity": 7, "last_uid": 9}, 7) == (9, None)
    assert start_uid({"uidvalidity": 6, "last_uid": 9}, 7)[0] == 0
    assert list(cut([(1, 10), (2, 10), (3, 10)], 2, 100)) == [[1, 2], [3]]
    assert list(cut([(1, 10), (2, 500), (3, 10)], 10, 100)) == [[1], [2], [3]]
    assert list(cut([], 10, 100)) == []
