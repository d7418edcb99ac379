"""The IMAP folder as the daemon follows it: one connection held open, IDLE between catch-ups.

`ImapFollower` is an `ImapSource` that is also a `LiveSource`:
- `wait(seconds, wake)` connects when there is no connection (and says True: every (re)connect is
  followed by a catch-up), then IDLEs on it (re-issued every IDLE_SLICE, within RFC 2177's 29
  minutes, with a NOOP after each wait: a dead peer shows up there). A server without IDLE is
  polled with NOOP every `poll_seconds`; with IDLE the folder is searched at that interval too,
  because a server may miss a notification.
- `batches(position)` reads over the held connection.
- Whatever goes wrong on the connection (a lost socket, a BYE, a reply that does not come in time,
  a refused login) drops it and raises `Unavailable` with the delay before the next attempt:
  1 s, doubling up to MAX_BACKOFF, with jitter; a connection that opens resets it to 1 s.
"""
from __future__ import annotations

import contextlib
import logging
import random
import time
from typing import Iterator

from maildaemon.config import ServerSettings
from maildaemon.model import RawMail
from maildaemon.source import SourceError, Unavailable, reached
from maildaemon.source.imap import ImapSource
from maildaemon.source.imap_session import IMAP_ERRORS, Session, safe

log = logging.getLogger(__name__)
IDLE_SLICE = 25 * 60          # re-issue IDLE well within RFC 2177's 29 minutes
MAX_BACKOFF = 300


class ImapFollower(ImapSource):
    """The daemon's IMAP stream; `ImapSource`'s arguments, plus `poll_seconds`. One attempt per
    connection: the retries are the daemon's turns, spaced by this source's backoff."""

    def __init__(self, settings: ServerSettings, poll_seconds: float = 60, **kw):
        super().__init__(settings, attempts=1, **kw)
        self.poll_seconds = poll_seconds
        self.session: Session | None = None
        self.retry_at = 0.0           # monotonic time of the next connection attempt
        self.backoff = 1.0
        self.next_poll = 0.0          # monotonic time the folder is searched whatever IDLE said

    def wait(self, seconds: float, wake: int | None = None) -> bool:
        if self.session is None:
            return self._reconnect(seconds, wake)
        with self._losing():
            return self._listen(self.session, seconds, wake)

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """A catch-up over the held connection (opened now if there is none)."""
        if self.session is None:
            self._connect()
        self.next_poll = time.monotonic() + self.poll_seconds
        with self._losing():
            yield from self.catch_up(self.session, position)

    def close(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()

    def _reconnect(self, seconds: float, wake: int | None) -> bool:
        if not reached(self.retry_at, seconds, wake):
            return False
        self._connect()
        return True

    def _connect(self) -> None:
        with self._losing():
            self.session = self.connect()
        self.backoff = 1.0
        log.info("connected to %s (%s)", self.id, "IDLE" if self.session.idle else
                 f"no IDLE: polling every {self.poll_seconds}s")

    def _listen(self, session: Session, seconds: float, wake: int | None) -> bool:
        if not session.idle:
            if not reached(self.next_poll, seconds, wake):
                return False
            session.noop()
            return True
        news = seconds > 0 and session.idle_wait(min(seconds, IDLE_SLICE), wake)
        return news or time.monotonic() >= self.next_poll

    @contextlib.contextmanager
    def _losing(self):
        """Whatever fails on the connection (a refused connect, TooSlow, a socket or IMAP error)
        raises `Unavailable` in one line, the connection dropped and the next attempt scheduled."""
        try:
            yield
        except SourceError as e:
            raise self._lost(str(e)) from e
        except IMAP_ERRORS as e:
            raise self._lost(safe(self.settings, f"connection lost: {type(e).__name__}: {e}")) from e

    def _lost(self, message: str) -> Unavailable:
        """Drop the connection and schedule the next attempt."""
        self.close()
        delay = min(MAX_BACKOFF, self.backoff) * random.uniform(0.8, 1.2)
        self.backoff = min(MAX_BACKOFF, self.backoff * 2)
        self.retry_at = time.monotonic() + delay
        return Unavailable(message, delay)
