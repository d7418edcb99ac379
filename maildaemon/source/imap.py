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
- Always a read timeout: with imapclient's default `None` a dead peer blocks forever. And a read
  timeout is per recv(): a server trickling one byte every few seconds never trips it. So every
  command (connect+greeting, login, EXAMINE, SEARCH, each FETCH, LOGOUT) also has an overall
  deadline (`_Watch`): a timer shuts the socket down when the complete reply has not come in time,
  the blocked read returns, and the caller gets `TooSlow` (a SourceError, one line). The deadline
  is `deadline` seconds (SPEC 9: at most 60 s per reply), plus size / `min_rate` for a body FETCH.
- Size limit (SPEC 9): RFC822.SIZE is known before any body is fetched; a message over
  `max_bytes` is never fetched whole, only `BODY.PEEK[HEADER]<0.65536>` (reply key
  b"BODY[HEADER]<0>", measured with Dovecot), in header-only batches of its own; it comes out as
  `RawMail(header, oversize=size)`. A literal far larger than any message we asked for (a server
  lying about sizes) is refused before it is read.
- A non-ASCII user name or password cannot go through LOGIN (imaplib sends commands as ASCII):
  then AUTHENTICATE PLAIN (RFC 4616, UTF-8) is used; ASCII credentials keep using LOGIN, which
  every server has.

`connect()` (a logged-in `Session`, folder selected) and `catch_up()` are the seams the daemon's
IDLE loop will reuse; `batches()` is one pass for `sync`.
"""
from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from imapclient import IMAPClient, SocketTimeout
from imapclient import tls as imapclient_tls
from imapclient.exceptions import LoginError

from maildaemon.config import ServerSettings
from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.model import RawMail
from maildaemon.source import HEADER_CAP, SourceError, default_batch_bytes, header_of

log = logging.getLogger(__name__)

SIZE_WINDOW = 1000      # UIDs per RFC822.SIZE fetch: ~7 kB of command line, far below server limits
IMAP_ERRORS = (OSError, imaplib.IMAP4.error)   # IMAP4.abort and LoginError are IMAP4.error
# Defaults, read when a source is made (not when this module is imported):
TIMEOUT = SocketTimeout(connect=15, read=60)   # per connect() / per recv()
DEADLINE = 60.0         # seconds for the complete reply to one command (SPEC 9)
MIN_RATE = 200_000      # bytes/s: a body FETCH gets DEADLINE + its size / MIN_RATE
HEADER_ITEM, HEADER_KEY = f"BODY.PEEK[HEADER]<0.{HEADER_CAP}>", b"BODY[HEADER]<0>"
BODY_ITEM, BODY_KEY = "BODY.PEEK[]", b"BODY[]"       # the reply key is b"BODY[]" even for PEEK


class TooSlow(SourceError):
    """A command's complete reply did not come within its deadline; the connection is closed."""

    def __init__(self, label: str, what: str, seconds: float):
        self.reason = f"no complete reply to {what} within {seconds:.3g} s (server too slow)"
        super().__init__(f"{label}: {self.reason}")


class _Watch:
    """Per connection: the socket's descriptor, and a timer per command that shuts the socket
    down when the command has not completed in time (SHUT_RDWR wakes the blocked recv()).

    The descriptor number is what stays the same when TLS wraps the socket (also mid-STARTTLS, when
    neither Python object is usable), so the timer works on it; it is forgotten (under the lock)
    before imaplib closes the socket, so a late timer can never touch a reused descriptor."""

    def __init__(self, label: str):
        self.label = label
        self._lock = threading.Lock()
        self._fd = -1
        self._armed = 0          # number of the running command; 0 when none
        self._count = 0
        self._fired = 0          # number of the command whose deadline passed

    def attach(self, fd: int) -> None:
        with self._lock:
            self._fd = fd

    def detach(self) -> None:
        with self._lock:
            self._fd = -1

    @contextlib.contextmanager
    def limit(self, what: str, seconds: float):
        with self._lock:
            self._count += 1
            number = self._armed = self._count
        timer = threading.Timer(seconds, self._expire, args=(number,))
        timer.daemon = True
        timer.name = "imap-deadline"
        timer.start()
        try:
            yield
        except Exception as exc:
            if self._fired == number:
                raise TooSlow(self.label, what, seconds) from exc
            raise
        finally:
            with self._lock:
                self._armed = 0
            timer.cancel()

    def _expire(self, number: int) -> None:
        with self._lock:
            if self._armed != number or self._fd < 0:
                return
            self._fired = number
            sock = socket.socket(fileno=self._fd)     # borrows the descriptor; detach() gives it back
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                sock.detach()


class _IMAP4(imaplib.IMAP4):
    """imaplib's connection, telling the watch its socket and refusing absurd literals."""

    def __init__(self, host: str, port: int, timeout: float | None, context: ssl.SSLContext | None,
                 watch: _Watch, max_literal: int):
        self._context, self._watch, self._max_literal = context, watch, max_literal
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout=None):
        sock = socket.create_connection((self.host, self.port), timeout)
        self._watch.attach(sock.fileno())
        if self._context is not None:        # as imapclient's IMAP4_TLS; the handshake is watched too
            sock = imapclient_tls.wrap_socket(sock, self._context, self.host)
        return sock

    def read(self, size: int) -> bytes:
        if size > self._max_literal:
            raise self.abort(f"the server announced {size} bytes, more than any message asked for")
        return super().read(size)

    def shutdown(self) -> None:
        self._watch.detach()
        super().shutdown()


class _Client(IMAPClient):
    """IMAPClient on our `_IMAP4` (relies on IMAPClient 4.x's `_create_IMAP4` and `_timeout`)."""

    def __init__(self, host: str, port: int, ssl_on: bool, context: ssl.SSLContext | None,
                 timeout: SocketTimeout, watch: _Watch, max_literal: int):
        self._watch, self._max_literal = watch, max_literal
        super().__init__(host, port, ssl=ssl_on, ssl_context=context, timeout=timeout)

    def _create_IMAP4(self):
        context = (self.ssl_context or imapclient_tls.create_default_context()) if self.ssl else None
        return _IMAP4(self.host, self.port, self._timeout.connect, context, self._watch, self._max_literal)


@dataclass
class Session:
    """A logged-in connection with the folder selected read-only (EXAMINE)."""
    client: IMAPClient
    folder: str
    uidvalidity: int
    exists: int
    idle: bool              # the server offers IDLE (else the daemon polls)
    watch: _Watch | None = field(default=None, repr=False)
    deadline: float = DEADLINE
    min_rate: float = MIN_RATE

    def limit(self, what: str, size: int = 0):
        """Context for one command: TooSlow unless its reply is complete within the deadline
        (plus size / min_rate for a FETCH of `size` bytes). The daemon may use it around NOOP."""
        if self.watch is None:
            return contextlib.nullcontext()
        return self.watch.limit(what, self.deadline + size / self.min_rate)

    def close(self) -> None:
        """Log out; if the connection is already dead, just drop the socket. Never raises."""
        try:
            with self.limit("LOGOUT"):
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


def plan(sized: list[tuple[int, int]], count: int, batch_bytes: int,
         max_mail: int) -> Iterator[tuple[list[int], bool]]:
    """`cut`, keeping UID order, into (batch, header_only) pairs: a message over `max_mail` goes in
    a header-only batch (one FETCH asks the same items of every UID), counted as HEADER_CAP bytes."""
    run: list[tuple[int, int]] = []
    big = False
    for uid, size in sized:
        over = size > max_mail
        if run and over != big:
            yield from ((b, big) for b in cut(run, count, batch_bytes))
            run = []
        big = over
        run.append((uid, min(size, HEADER_CAP) if over else size))
    if run:
        yield from ((b, big) for b in cut(run, count, batch_bytes))


def _reason(exc: BaseException) -> str:
    """imaplib's text on one line, without its b'...' wrapping."""
    text = " ".join(str(exc).split())
    if len(text) > 2 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        text = text[2:-1]
    return text or type(exc).__name__


class ImapSource:
    """Source over one IMAP folder; position `{"uidvalidity": int, "last_uid": int}`, also on each
    RawMail (its own UID as `last_uid`).

    `max_bytes`: larger messages come as header only with `oversize`. `deadline`: seconds for the
    complete reply to any one command; a body FETCH gets `deadline + size / min_rate`. `timeout`:
    imapclient's per-connect/per-recv timeouts. `batch_bytes` defaults to two messages at the limit.
    """

    remote = True           # reading it is network I/O: ingest holds the state lock per batch only

    def __init__(self, settings: ServerSettings, batch_size: int = SIZE_WINDOW, batch_bytes: int | None = None,
                 timeout: SocketTimeout | None = None, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep, max_bytes: int = DEFAULT_MAX_MAIL_BYTES,
                 deadline: float | None = None, min_rate: float | None = None):
        self.settings = settings
        self.batch_size = max(1, min(batch_size, SIZE_WINDOW))
        self.max_bytes = max_bytes
        self.batch_bytes = batch_bytes if batch_bytes is not None else default_batch_bytes(max_bytes)
        self.timeout = timeout if timeout is not None else TIMEOUT
        self.deadline = deadline if deadline is not None else DEADLINE
        self.min_rate = min_rate if min_rate is not None else MIN_RATE
        self.attempts = max(1, attempts)
        self.sleep = sleep
        # the largest literal a reply may announce: a message at the limit, with room for servers
        # whose RFC822.SIZE is a little off
        self.max_literal = 2 * max(max_bytes, HEADER_CAP) + 1024 * 1024
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
        watch = _Watch(f"IMAP {s.host}:{s.port}")
        session = Session(None, s.folder, 0, 0, False, watch, self.deadline, self.min_rate)
        stage, done = "connect", False
        try:
            # the default context verifies the certificate and the host name
            context = ssl.create_default_context() if s.security in ("ssl", "starttls") else None
            with session.limit("connect/greeting"):
                client = session.client = _Client(s.host, s.port, s.security == "ssl",
                                                  context if s.security == "ssl" else None,
                                                  self.timeout, watch, self.max_literal)
                if s.security == "starttls":
                    client.starttls(context)
            stage = "login"
            self._login(session)
            stage = "select"
            with session.limit("EXAMINE"):
                sel = client.select_folder(s.folder, readonly=True)
                idle = bool(client.has_capability("IDLE"))     # may send CAPABILITY after login
            if b"UIDVALIDITY" not in sel:
                raise _Failure(f"folder {s.folder!r} has no UIDVALIDITY", False)
            session.uidvalidity, session.exists = int(sel[b"UIDVALIDITY"]), int(sel.get(b"EXISTS", 0))
            session.idle = idle
            done = True
            return session
        except TooSlow as exc:
            raise _Failure(exc.reason, True) from exc
        except IMAP_ERRORS as exc:
            raise self._classify(stage, exc) from exc
        finally:
            if client is not None and not done:        # failed: do not leak the socket
                session.close()

    def _login(self, session: Session) -> None:
        """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8) otherwise."""
        s, client = self.settings, session.client
        if s.user.isascii() and s.password.isascii():
            with session.limit("LOGIN"):
                client.login(s.user, s.password)
            return
        with session.limit("AUTHENTICATE"):
            if not client.has_capability("AUTH=PLAIN"):        # may send CAPABILITY after STARTTLS
                raise _Failure(f"cannot log in as {s.user}: the user name or password is not ASCII and "
                               "the server offers no AUTHENTICATE PLAIN to send it in UTF-8", False)
            client.plain_login(s.user, s.password)

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

        If the connection drops or a reply is too slow mid-pass, reconnect and resume after the
        last batch handed out (up to `attempts` failures in a row); the socket is closed however
        the pass ends."""
        failures = 0
        while True:
            session = self.connect()
            try:
                for mails, after in self.catch_up(session, position):
                    yield mails, after
                    position, failures = after, 0
                return
            except TooSlow as exc:
                failures += 1
                if failures >= self.attempts:
                    raise
                message = exc.reason
            except IMAP_ERRORS as exc:
                f = self._classify("fetch", exc)
                failures += 1
                if not f.transient or failures >= self.attempts:
                    raise SourceError(self._safe(f.message)) from exc
                message = f.message
            finally:
                session.close()
            self._backoff(message, failures)

    def catch_up(self, session: Session, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """Yield new messages of an open session; raw IMAP/socket errors propagate to the caller,
        and `TooSlow` (a SourceError) when a reply does not complete in time.

        A batch may be empty when all its messages were expunged meanwhile; its position still
        advances, so they are not asked for again."""
        client, v = session.client, session.uidvalidity
        last, why = start_uid(position, v)
        if why:
            log.info("%s: %s; reading %s from UID 1 (messages already applied are recognised by "
                     "Message-ID)", self.id, why, session.folder)
        with session.limit("SEARCH"):
            found = client.search(["UID", f"{last + 1}:*"])
        uids = sorted(u for u in found if u > last)
        for i in range(0, len(uids), SIZE_WINDOW):
            window = uids[i:i + SIZE_WINDOW]
            with session.limit("FETCH RFC822.SIZE"):
                sizes = client.fetch(window, ["RFC822.SIZE"])
            # a UID missing here was expunged after the SEARCH: skipped, not an error
            size_of = {u: int(sizes[u].get(b"RFC822.SIZE", 0)) for u in window if u in sizes}
            sized = [(u, size_of[u]) for u in window if u in size_of]
            for batch, header_only in plan(sized, self.batch_size, self.batch_bytes, self.max_bytes):
                item, key = (HEADER_ITEM, HEADER_KEY) if header_only else (BODY_ITEM, BODY_KEY)
                expected = sum(min(size_of[u], HEADER_CAP) if header_only else size_of[u] for u in batch)
                with session.limit("FETCH", expected):
                    reply = client.fetch(batch, [item])
                mails = []
                for u in batch:
                    data = reply.get(u, {}).get(key)
                    if not isinstance(data, bytes):
                        continue
                    oversize = size_of[u] if header_only else 0
                    if len(data) > self.max_bytes:       # RFC822.SIZE understated it
                        data, oversize = header_of(data), len(data)
                    mails.append(RawMail(data, origin=f"imap:{session.folder}:{v}:{u}",
                                         position={"uidvalidity": v, "last_uid": u}, oversize=oversize))
                del reply
                yield mails, {"uidvalidity": v, "last_uid": batch[-1]}


def probe(settings: ServerSettings, timeout: SocketTimeout | None = None, deadline: float | None = None) -> str:
    """For `maildaemon check`: connect, log in, EXAMINE; one line about the folder. Raises SourceError."""
    session = ImapSource(settings, timeout=timeout, attempts=1, deadline=deadline).connect()
    try:
        idle = "IDLE supported" if session.idle else "no IDLE (the daemon will poll)"
        return f"{session.folder}: {session.exists} messages, UIDVALIDITY {session.uidvalidity}, {idle}"
    finally:
        session.close()
