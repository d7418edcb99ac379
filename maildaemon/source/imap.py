"""The stream mailbox over IMAP, read-only, tracked by (UIDVALIDITY, last UID).

Why it is written this way (measured pitfalls, dependencies.md §0, §1, §5.1):
- EXAMINE (`readonly=True`) and `BODY.PEEK[]`: the list mailbox is shared; reading must not set
  \\Seen or change anything else.
- `UID SEARCH` first, then `fetch()` with lists of int UIDs: IMAPClient 4.1's `fetch()` crashes on
  sequence-set strings such as "5:*" (upstream #666).
- `UID N:*` always returns the highest UID even when nothing is new (RFC 3501), so results are
  filtered `> last_uid`, or the last message would be re-read forever.
- Batches are cut by count *and* by summed RFC822.SIZE, because imapclient holds a whole FETCH reply
  in memory; sizes are fetched in windows so the UID list (sent comma-joined) stays short.
- A new UIDVALIDITY restarts at UID 1; the caller dedupes by Message-ID, so a re-scan is harmless,
  while trusting old UIDs under a new UIDVALIDITY could skip mail.
- Always a read timeout: with imapclient's default `None` a dead peer blocks forever.

`connect()` (a logged-in `Session`, folder selected) and `catch_up()` are the seams the daemon's
IDLE loop will reuse; `batches()` is one pass for `sync`.
"""
from __future__ import annotations

import imaplib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError

from maildaemon.config import ServerSettings
from maildaemon.model import RawMail
from maildaemon.source import SourceError

log = logging.getLogger(__name__)

SIZE_WINDOW = 1000      # UIDs per RFC822.SIZE fetch: ~7 kB of command line, far below server limits
IMAP_ERRORS = (OSError, imaplib.IMAP4.error)   # IMAP4.abort and LoginError are IMAP4.error


@dataclass
class Session:
    """A logged-in connection with the folder selected read-only (EXAMINE)."""
    client: IMAPClient
    folder: str
    uidvalidity: int
    exists: int
    idle: bool              # the server offers IDLE (else the daemon polls)

    def close(self) -> None:
        """Log out; if the connection is already dead, just drop the socket. Never raises."""
        try:
            self.client.logout()
        except Exception:
            try:
                self.client.shutdown()
            except Exception:
                pass


class _Failure(Exception):
    """An IMAP error turned into one safe line, plus whether trying again could help."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.message, self.transient = message, transient


def start_uid(position: dict | None, uidvalidity: int) -> tuple[int, str | None]:
    """The last UID already delivered, and why we start from scratch (None if we do not)."""
    if position is None:
        return 0, "no stored position"
    if position.get("uidvalidity") != uidvalidity:
        return 0, f"UIDVALIDITY changed from {position.get('uidvalidity')} to {uidvalidity}"
    return int(position.get("last_uid", 0)), None


def cut(sized: list[tuple[int, int]], count: int, max_bytes: int) -> Iterator[list[int]]:
    """Split ascending (uid, size) pairs into UID batches of <= count and <= max_bytes.

    A single message larger than max_bytes gets a batch of its own rather than being skipped."""
    batch: list[int] = []
    total = 0
    for uid, size in sized:
        if batch and (len(batch) >= count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _reason(exc: BaseException) -> str:
    """imaplib's text on one line, without its b'...' wrapping."""
    text = " ".join(str(exc).split())
    if len(text) > 2 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        text = text[2:-1]
    return text or type(exc).__name__


class ImapSource:
    """Source over one IMAP folder; position `{"uidvalidity": int, "last_uid": int}`."""

    def __init__(self, settings: ServerSettings, batch_size: int = 100, batch_bytes: int = 20_000_000,
                 timeout: SocketTimeout = SocketTimeout(connect=15, read=60), attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.batch_size = max(1, min(batch_size, SIZE_WINDOW))
        self.batch_bytes = batch_bytes
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.sleep = sleep
        s = settings
        self.id = f"imap://{s.user}@{s.host}:{s.port}/{s.folder}"

    # --- connecting ---------------------------------------------------------------------

    def connect(self) -> Session:
        """A logged-in Session, retrying transient failures with backoff 1 s, 2 s, 4 s ...

        A refused login or a missing folder is raised at once: retrying cannot fix a wrong
        password, and repeated failures may lock the account."""
        for attempt in range(1, self.attempts + 1):
            try:
                return self._open()
            except _Failure as f:
                if not f.transient or attempt == self.attempts:
                    tail = f" (gave up after {attempt} attempts)" if f.transient and attempt > 1 else ""
                    raise SourceError(self._safe(f.message + tail)) from f.__cause__
                self._backoff(f.message, attempt)
        raise AssertionError("unreachable")

    def _open(self) -> Session:
        s = self.settings
        client = None
        stage = "connect"
        try:
            # the default context verifies the certificate and the host name
            context = ssl.create_default_context() if s.security in ("ssl", "starttls") else None
            client = IMAPClient(s.host, s.port, ssl=s.security == "ssl",
                                ssl_context=context if s.security == "ssl" else None, timeout=self.timeout)
            if s.security == "starttls":
                client.starttls(context)
            stage = "login"
            client.login(s.user, s.password)
            stage = "select"
            sel = client.select_folder(s.folder, readonly=True)
            return Session(client, s.folder, int(sel[b"UIDVALIDITY"]), int(sel.get(b"EXISTS", 0)),
                           bool(client.has_capability("IDLE")))
        except IMAP_ERRORS as exc:
            if client is not None:
                Session(client, s.folder, 0, 0, False).close()
            raise self._classify(stage, exc) from exc

    def _classify(self, stage: str, exc: BaseException) -> _Failure:
        s, why = self.settings, _reason(exc)
        if isinstance(exc, LoginError):
            # RFC 5530 [UNAVAILABLE]: the server's auth backend is down; that one may pass.
            return _Failure(f"login refused for {s.user}: {why}", "[UNAVAILABLE]" in why)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return _Failure(f"TLS certificate not accepted: {why}", False)
        if isinstance(exc, (OSError, imaplib.IMAP4.abort)):
            what = "cannot connect" if stage == "connect" else "connection lost"
            return _Failure(f"{what}: {why}", True)
        if stage == "select":
            return _Failure(f"cannot open folder {s.folder!r}: {why}", False)
        return _Failure(f"server refused {stage}: {why}", False)

    def _backoff(self, message: str, attempt: int) -> None:
        delay = 2 ** (attempt - 1)
        log.warning("%s; retrying in %ss (attempt %d of %d)", self._safe(message), delay, attempt, self.attempts)
        self.sleep(delay)

    def _safe(self, message: str) -> str:
        """`IMAP host:port: message` on one line, with the password blanked should a server echo it."""
        text = f"IMAP {self.settings.host}:{self.settings.port}: {message}"
        if self.settings.password:
            text = text.replace(self.settings.password, "***")
        return " ".join(text.split())

    # --- reading ------------------------------------------------------------------------

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """One pass: every message after `position`, in UID order, in batches.

        If the connection drops mid-pass, reconnect and resume after the last batch handed out
        (up to `attempts` failures in a row); the socket is closed however the pass ends."""
        failures = 0
        while True:
            session = self.connect()
            try:
                for mails, after in self.catch_up(session, position):
                    yield mails, after
                    position, failures = after, 0
                return
            except IMAP_ERRORS as exc:
                f = self._classify("fetch", exc)
                failures += 1
                if not f.transient or failures >= self.attempts:
                    raise SourceError(self._safe(f.message)) from exc
            finally:
                session.close()
            self._backoff(f.message, failures)

    def catch_up(self, session: Session, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """Yield new messages of an open session; raw IMAP/socket errors propagate to the caller.

        A batch may be empty when all its messages were expunged meanwhile; its position still
        advances, so they are not asked for again."""
        client, v = session.client, session.uidvalidity
        last, why = start_uid(position, v)
        if why:
            log.info("%s: %s; reading %s from UID 1 (messages already applied are recognised by "
                     "Message-ID)", self.id, why, session.folder)
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        for i in range(0, len(uids), SIZE_WINDOW):
            window = uids[i:i + SIZE_WINDOW]
            sizes = client.fetch(window, ["RFC822.SIZE"])
            # a UID missing here was expunged after the SEARCH: skipped, not an error
            sized = [(u, int(sizes[u].get(b"RFC822.SIZE", 0))) for u in window if u in sizes]
            for batch in cut(sized, self.batch_size, self.batch_bytes):
                reply = client.fetch(batch, ["BODY.PEEK[]"])      # reply key is b"BODY[]"
                mails = [RawMail(reply[u][b"BODY[]"], origin=f"imap:{session.folder}:{v}:{u}")
                         for u in batch if isinstance(reply.get(u, {}).get(b"BODY[]"), bytes)]
                yield mails, {"uidvalidity": v, "last_uid": batch[-1]}


def probe(settings: ServerSettings, timeout: SocketTimeout = SocketTimeout(connect=15, read=60)) -> str:
    """For `maildaemon check`: connect, log in, EXAMINE; one line about the folder. Raises SourceError."""
    session = ImapSource(settings, timeout=timeout, attempts=1).connect()
    try:
        idle = "IDLE supported" if session.idle else "no IDLE (the daemon will poll)"
        return f"{session.folder}: {session.exists} messages, UIDVALIDITY {session.uidvalidity}, {idle}"
    finally:
        session.close()
