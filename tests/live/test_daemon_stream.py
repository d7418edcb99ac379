"""The IMAP stream the daemon follows (`ImapFollower`, the source side of `LiveSource`) against a
real Dovecot: connect and catch up, IDLE until news, a signal's wake pipe, the NOOP poll of a
server without IDLE, and the reconnect backoff that `Unavailable` reports."""
from __future__ import annotations

import os
import socket
import time

import pytest
from imapclient import SocketTimeout

from maildaemon.source import Unavailable
from maildaemon.source.imap_follow import ImapFollower

pytestmark = pytest.mark.live

FAST = SocketTimeout(connect=5, read=10)


def msg(n: int) -> bytes:
    return f"From: rt@example.org\r\nMessage-ID: <m{n}@example.org>\r\nSubject: ticket {n}\r\n\r\nbody {n}\r\n".encode()


@pytest.fixture
def wake():
    """The daemon's signal pipe: (read end for `wait`, write end for the 'signal')."""
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def read_all(src, position=None):
    out = list(src.batches(position))
    return [m.data for mails, _ in out for m in mails], (out[-1][1] if out else position)


def timed(call):
    """(result, seconds it took)."""
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connects_catches_up_then_idles_until_news(dovecot, wake):
    r, _ = wake
    dovecot.append(msg(1))
    src = ImapFollower(dovecot.settings(), poll_seconds=300, timeout=FAST)
    try:
        assert src.wait(0, r) is True                        # a fresh connection: catch up now
        assert src.session is not None and src.session.idle
        data, position = read_all(src)
        assert data == [msg(1)]
        quiet, took = timed(lambda: src.wait(0.5, r))
        assert quiet is False and took >= 0.45               # no news, no poll due: it waited
        dovecot.append(msg(2))
        news, took = timed(lambda: src.wait(20, r))
        assert news is True and took < 10                    # IDLE told it, long before the 20 s
        assert read_all(src, position)[0] == [msg(2)]
        session = src.session
        assert src.wait(0.2, r) is False and src.session is session    # one connection throughout
    finally:
        src.close()
    assert src.session is None


def test_a_signal_ends_the_wait_at_once(dovecot, wake):
    r, w = wake
    src = ImapFollower(dovecot.settings(), poll_seconds=300, timeout=FAST)
    try:
        assert src.wait(0, r)
        read_all(src)
        os.write(w, b"\x0f")                                  # what signal.set_wakeup_fd writes
        news, took = timed(lambda: src.wait(30, r))
        assert news is False and took < 5
    finally:
        src.close()


def test_without_idle_the_folder_is_polled_with_noop(dovecot, wake):
    r, _ = wake
    src = ImapFollower(dovecot.settings(), poll_seconds=1, timeout=FAST)
    try:
        assert src.wait(0, r)
        src.session.idle = False                              # as a server that lacks IDLE
        read_all(src)                                         # a catch-up: the next poll in 1 s
        assert src.wait(0.1, r) is False
        dovecot.append(msg(3))
        polled, took = timed(lambda: src.wait(10, r))
        assert polled is True and took < 2                    # at the poll, not at the 10 s
        assert read_all(src)[0] == [msg(3)]
    finally:
        src.close()


def test_a_lost_connection_is_unavailable_and_retried_with_backoff(dovecot, wake):
    r, _ = wake
    src = ImapFollower(dovecot.settings(port=free_port()), poll_seconds=300, timeout=FAST)
    attempts = []
    real_connect = src.connect
    src.connect = lambda: attempts.append(time.monotonic()) or real_connect()
    with pytest.raises(Unavailable) as down:
        src.wait(0, r)
    assert "cannot connect" in str(down.value) and 0.8 <= down.value.retry_in <= 1.2
    assert src.wait(0.1, r) is False and len(attempts) == 1  # not before its time
    with pytest.raises(Unavailable) as again:
        src.wait(5, r)                                        # sleeps until the retry, tries, fails
    assert len(attempts) == 2 and 0.7 <= attempts[1] - attempts[0] <= 1.5
    assert 1.6 <= again.value.retry_in <= 2.4                 # the backoff doubles
    src.settings = dovecot.settings()                         # the server is back
    try:
        assert src.wait(5, r) is True and src.backoff == 1.0  # connected: the backoff starts over
        read_all(src)
        src.session.client.socket().shutdown(socket.SHUT_RDWR)         # the connection dies
        with pytest.raises(Unavailable) as lost:
            src.wait(1, r)
        assert "connection lost" in str(lost.value) and src.session is None
        assert dovecot.password not in str(lost.value)
    finally:
        src.close()
