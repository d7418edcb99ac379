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


# --- size limit, per-mail positions, non-ASCII passwords ---------------------------------------

def big(tag: str, body_bytes: int) -> tuple[bytes, bytes]:
    """(header, whole message) of a mail with a `body_bytes` body in 76-character lines."""
    header = (f"From: rt@example.org\r\nMessage-ID: <{tag}@example.org>\r\nSubject: [rt #9] {tag}\r\n"
              f"Content-Type: text/plain\r\n\r\n").encode()
    line = b"y" * 76 + b"\r\n"
    return header, header + line * (body_bytes // len(line))


def test_a_mail_over_the_limit_comes_as_its_header_only(dovecot):
    header, huge = big("big", 12 * 1024 * 1024)          # over the default limit of 10 MiB
    dovecot.append(msg(1))
    dovecot.append(huge)
    dovecot.append(msg(3))
    v = dovecot.uidvalidity()
    batches, mails = run(source(dovecot))
    assert [origins for origins, _ in batches] == [[f"imap:INBOX:{v}:{u}"] for u in (1, 2, 3)]
    assert [m.data for m in mails] == [msg(1), header, msg(3)]
    assert [m.oversize for m in mails] == [0, len(huge), 0]
    assert [m.position for m in mails] == [{"uidvalidity": v, "last_uid": u} for u in (1, 2, 3)]
    assert not any(b"\\Seen" in flags for flags in dovecot.flags().values())


def test_per_mail_positions_increase_and_the_last_is_the_batch_position(dovecot):
    for n in range(1, 6):
        dovecot.append(msg(n))
    out = list(source(dovecot, batch_size=2).batches(None))
    uids = [m.position["last_uid"] for mails, _ in out for m in mails]
    assert uids == [1, 2, 3, 4, 5]
    for mails, after in out:
        assert mails[-1].position == after
        assert all(m.position["uidvalidity"] == after["uidvalidity"] for m in mails)


MAKE_SOURCE = """
from imapclient import SocketTimeout
from maildaemon.config import ServerSettings
from maildaemon.source.imap import ImapSource
settings = ServerSettings(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2],
                          password=os.environ["TEST_IMAP_PASSWORD"], security="plain")
source = ImapSource(settings, timeout=SocketTimeout(connect=5, read=30), max_bytes=int(sys.argv[3]))
"""


def test_memory_stays_bounded_by_the_limit_not_the_mail(dovecot):
    """A 60 MB mail with a 1 MiB limit: the reading process grows by less than 4x the limit."""
    import os
    from rss import read_in_child
    limit = 1024 * 1024
    header, huge = big("huge", 60 * 1000 * 1000)
    dovecot.append(msg(1))
    dovecot.append(huge)
    dovecot.append(msg(3))
    result = read_in_child(MAKE_SOURCE, dovecot.port, dovecot.user, limit,
                           env=dict(os.environ, TEST_IMAP_PASSWORD=dovecot.password))
    assert result["mails"] == [[len(msg(1)), 0], [len(header), len(huge)], [len(msg(3)), 0]]
    assert result["growth"] < 4 * limit, result


NON_ASCII = "pä$$wörd"


def test_non_ascii_password_logs_in_with_authenticate_plain(dovecot, caplog):
    from dovecot import Mailbox
    box = Mailbox(dovecot.server, f"{dovecot.user}x", NON_ASCII)
    dovecot.server.add_user(box.user, box.password)
    box.append(msg(1))
    assert [m.data for m in run(ImapSource(box.settings(), timeout=FAST))[1]] == [msg(1)]
    assert probe(box.settings(), timeout=FAST).startswith("INBOX: 1 messages")

    sleeps: list[float] = []
    wrong = "wrö$$-Passwort"
    src = ImapSource(box.settings(password=wrong), timeout=FAST, sleep=sleeps.append)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        list(src.batches(None))
    text = str(err.value)
    assert text.startswith(f"IMAP 127.0.0.1:{dovecot.port}: login refused for {box.user}: ")
    assert "AUTHENTICATIONFAILED" in text and "\n" not in text and sleeps == []
    import base64
    secret = base64.b64encode(f"\0{box.user}\0{wrong}".encode()).decode()
    assert wrong not in text + caplog.text and secret not in caplog.text and NON_ASCII not in text
