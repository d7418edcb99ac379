"""One IMAP connection: connecting, logging in, EXAMINE, and waiting for news (IDLE or NOOP).

What `source/imap.py` reads mail over, and what the daemon's stream (`imap_follow.py`) holds open.
Why it is written this way (measured pitfalls, dependencies.md §0, §1, §5.1):
- EXAMINE (`readonly=True`): the list mailbox is shared; reading must not change anything.
- Always a read timeout: with imapclient's default `None` a dead peer blocks forever. And a read
  timeout is per recv(): a server trickling one byte every few seconds never trips it. So every
  command (connect+greeting, login, EXAMINE, SEARCH, each FETCH, IDLE, NOOP, LOGOUT) also has an
  overall deadline (`_Watch`): a timer shuts the socket down when the complete reply has not come
  in time, the blocked read returns, and the caller gets `TooSlow` (a SourceError, one line). The
  deadline is `deadline` seconds (SPEC 9: at most 60 s per reply), plus size / `min_rate` for a
  body FETCH.
- A literal far larger than any message we asked for (a server lying about sizes) is refused
  before it is read.
- A non-ASCII user name or password cannot go through LOGIN (imaplib sends commands as ASCII):
  then AUTHENTICATE PLAIN (RFC 4616, UTF-8) is used; ASCII credentials keep using LOGIN, which
  every server has.
- Waiting (`Session.idle_wait`): IDLE (RFC 2177), a `select` on the socket and the caller's wake
  descriptor, DONE; then a NOOP when the server said nothing, because a dead peer shows up there
  and not in IDLE. An empty read or a BYE is a lost connection (EOFError). News the server sent
  just before IDLE comes in the same read as IDLE's continuation and waits in imaplib's buffer,
  where `select` cannot see it: the buffer is looked at first, and what DONE brings counts too.
"""
from __future__ import annotations

import contextlib
import imaplib
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field

from imapclient import IMAPClient, SocketTimeout
from imapclient import tls as imapclient_tls
from imapclient.exceptions import LoginError

from maildaemon.config import ServerSettings
from maildaemon.source import SourceError

# a lost connection: IMAP4.abort and LoginError are IMAP4.error; EOFError is what IDLE raises
IMAP_ERRORS = (OSError, EOFError, imaplib.IMAP4.error)
DEADLINE = 60.0         # seconds for the complete reply to one command (SPEC 9)
MIN_RATE = 200_000      # bytes/s: a body FETCH gets DEADLINE + its size / MIN_RATE


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
        (plus size / min_rate for a FETCH of `size` bytes)."""
        if self.watch is None:
            return contextlib.nullcontext()
        return self.watch.limit(what, self.deadline + size / self.min_rate)

    def noop(self) -> list:
        """NOOP: the untagged responses it brought (EXISTS, EXPUNGE ...); an empty list if none."""
        with self.limit("NOOP"):
            return self.client.noop()[1]

    def idle_wait(self, seconds: float, wake: int | None = None) -> bool:
        """IDLE for at most `seconds`, or until the descriptor `wake` is readable (it is not read);
        True when the server told us something. A dead connection raises EOFError, TooSlow or an
        IMAP error (`IMAP_ERRORS`)."""
        client, ready, responses = self.client, [], []
        with self.limit("IDLE"):
            client.idle()
        try:
            sock = client.socket()
            if not self._buffered(sock):
                ready, _, _ = select.select([sock] + ([wake] if wake is not None else []), [], [], max(0.0, seconds))
                responses = client.idle_check(timeout=0) if sock in ready else []
        finally:
            with self.limit("DONE"):
                late = client.idle_done()[1]        # what came since idle_check, the buffered included
        if sock in ready and not responses:
            raise EOFError("the server closed the connection")
        responses += late
        if any(r and r[0] == b"BYE" for r in responses):
            raise EOFError("the server said BYE")
        return bool(responses or self.noop())          # a dead peer shows up in NOOP, not in IDLE

    def _buffered(self, sock: socket.socket) -> bool:
        """Whether bytes have come that a `select` on the socket would not show: news sent just
        before IDLE arrives with its continuation line in one read, and imaplib's buffered reader
        keeps the rest. Looked at without blocking (the socket is non-blocking for the peek)."""
        reader = getattr(self.client._imap, "file", None)
        if not hasattr(reader, "peek"):
            return False
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            return bool(reader.peek(1))
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        finally:
            sock.settimeout(timeout)

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


class Failure(Exception):
    """An IMAP error turned into one safe line, plus whether trying again could help."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.message, self.transient = message, transient


def reason(exc: BaseException) -> str:
    """imaplib's text on one line, without its b'...' wrapping."""
    text = " ".join(str(exc).split())
    if len(text) > 2 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        text = text[2:-1]
    return text or type(exc).__name__


def safe(settings: ServerSettings, message: str) -> str:
    """`IMAP host:port: message` on one line, with the password blanked should a server echo it."""
    text = f"IMAP {settings.host}:{settings.port}: {message}"
    if settings.password:
        text = text.replace(settings.password, "***")
    return " ".join(text.split())


def open_session(s: ServerSettings, timeout: SocketTimeout, deadline: float, min_rate: float,
                 max_literal: int) -> Session:
    """Connect, log in and EXAMINE the folder, each step under its deadline; raises `Failure`."""
    client = None
    watch = _Watch(f"IMAP {s.host}:{s.port}")
    session = Session(None, s.folder, 0, 0, False, watch, deadline, min_rate)
    stage, done = "connect", False
    try:
        # the default context verifies the certificate and the host name
        context = ssl.create_default_context() if s.security in ("ssl", "starttls") else None
        with session.limit("connect/greeting"):
            client = session.client = _Client(s.host, s.port, s.security == "ssl",
                                              context if s.security == "ssl" else None,
                                              timeout, watch, max_literal)
            if s.security == "starttls":
                client.starttls(context)
        stage = "login"
        _login(s, session)
        stage = "select"
        with session.limit("EXAMINE"):
            sel = client.select_folder(s.folder, readonly=True)
            idle = bool(client.has_capability("IDLE"))     # may send CAPABILITY after login
        if b"UIDVALIDITY" not in sel:
            raise Failure(f"folder {s.folder!r} has no UIDVALIDITY", False)
        session.uidvalidity, session.exists = int(sel[b"UIDVALIDITY"]), int(sel.get(b"EXISTS", 0))
        session.idle = idle
        done = True
        return session
    except TooSlow as exc:
        raise Failure(exc.reason, True) from exc
    except IMAP_ERRORS as exc:
        raise classify(s, stage, exc) from exc
    finally:
        if client is not None and not done:        # failed: do not leak the socket
            session.close()


def _login(s: ServerSettings, session: Session) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8) otherwise."""
    client = session.client
    if s.user.isascii() and s.password.isascii():
        with session.limit("LOGIN"):
            client.login(s.user, s.password)
        return
    with session.limit("AUTHENTICATE"):
        if not client.has_capability("AUTH=PLAIN"):        # may send CAPABILITY after STARTTLS
            raise Failure(f"cannot log in as {s.user}: the user name or password is not ASCII and "
                          "the server offers no AUTHENTICATE PLAIN to send it in UTF-8", False)
        client.plain_login(s.user, s.password)


def classify(s: ServerSettings, stage: str, exc: BaseException) -> Failure:
    why = reason(exc)
    if isinstance(exc, LoginError):
        # RFC 5530 [UNAVAILABLE]: the server's auth backend is down; that one may pass.
        return Failure(f"login refused for {s.user}: {why}", "[UNAVAILABLE]" in why)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failure(f"TLS certificate not accepted: {why}", False)
    if isinstance(exc, (OSError, EOFError, imaplib.IMAP4.abort)):
        what = "cannot connect" if stage == "connect" else "connection lost"
        return Failure(f"{what}: {why}", True)
    if stage == "select":
        return Failure(f"cannot open folder {s.folder!r}: {why}", False)
    return Failure(f"server refused {stage}: {why}", False)
