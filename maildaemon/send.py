"""Send stage: SMTP through smtplib (ssl, starttls, or plain to loopback only).

`SmtpSession` is one authenticated connection that sends many mails. Failures are sorted the way the
outbox needs them: `PermanentFailure` (the server said 5xx, or the mail cannot be put on the wire
at all: retrying cannot help, keep the reason) versus `SendError` (4xx, timeouts, connection
trouble, a deadline: retry later). A mail the server took for some recipients and refused for
others is a `PermanentFailure` naming them (SPEC 9: a refused recipient fails that mail, with the
reason): sending it again would give the others a second copy. After a refusal the transaction is
reset, so the next mail on the connection starts clean. No password in any message.

Time is bounded twice (SPEC 9): every socket operation has `timeout` (connect, greeting, each
reply), and a session has a deadline after which its socket is shut down. smtplib's timeout is
per recv, so a server that trickles a `220-` line every few seconds would otherwise hold a mail,
and the whole send pass, for ever.
"""
from __future__ import annotations

import base64
import logging
import re
import smtplib
import socket
import ssl
import threading
import time

from maildaemon.config import ServerSettings
from maildaemon.errors import SendError, PermanentFailure  # noqa: F401 (re-exported)

log = logging.getLogger("maildaemon.send")
TIMEOUT = 60            # seconds for the connection, the greeting and each reply (SPEC 9: at most 60)


class _Guard:
    """Shuts the connection down when its deadline passes or `stop` is set (another thread asks).

    It holds a duplicate of the TCP socket taken before any TLS, so a shutdown ends whatever the
    sending thread waits for (greeting, TLS handshake, a reply, a blocked write) at once.
    """

    def __init__(self, deadline: float | None, stop: threading.Event | None):
        self.deadline, self.stop = deadline, stop
        self.reason: str | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="smtp-deadline", daemon=True).start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock.dup()
            if self.reason:
                self._shut()

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            if self.stop is not None and self.stop.is_set():
                self.cut("stopped")
            elif self.deadline is not None and time.monotonic() >= self.deadline:
                self.cut("no complete answer before the deadline")

    def cut(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                self._shut()
        self._done.set()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._done.set()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP that shows its TCP socket to the guard as soon as it exists."""

    def __init__(self, guard: _Guard, **kw):
        self.guard = guard
        smtplib.SMTP.__init__(self, **kw)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self.guard.watch(sock)
        return sock


class _SMTP_SSL(smtplib.SMTP_SSL, _SMTP):
    """The same for implicit TLS (SMTP_SSL wraps what `_SMTP._get_socket` returns)."""

    def __init__(self, guard: _Guard, **kw):
        self.guard = guard
        smtplib.SMTP_SSL.__init__(self, **kw)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a non-ASCII one goes as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException("the server offers no AUTH PLAIN, which a non-ASCII user or password needs")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, resp = smtp.docmd("AUTH", "PLAIN " + token)
    if code == 334:                        # a server that wants the credentials after an empty challenge
        code, resp = smtp.docmd(token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


class SmtpSession:
    """One connection. `deadline` (time.monotonic()) bounds connecting; `send` takes its own. Setting
    `stop` (from another thread) cuts the connection at once."""

    def __init__(self, settings: ServerSettings, timeout: float = TIMEOUT, deadline: float | None = None,
                 stop: threading.Event | None = None):
        self.where = f"SMTP {settings.host}:{settings.port}"
        self.guard = _Guard(deadline, stop)
        try:
            kw = dict(host=settings.host, port=settings.port, timeout=timeout)
            if settings.security == "ssl":
                self.smtp = _SMTP_SSL(self.guard, context=ssl.create_default_context(), **kw)
            else:
                self.smtp = _SMTP(self.guard, **kw)
                if settings.security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            self.smtp.ehlo_or_helo_if_needed()
            if settings.user:
                _login(self.smtp, settings.user, settings.password)
        except smtplib.SMTPAuthenticationError as e:
            self.guard.close()
            raise SendError(f"{self.where}: login refused for {settings.user}: {e.smtp_code}") from None
        except Exception as e:
            self.guard.close()
            raise SendError(self._why(e)) from None
        self.guard.deadline = None        # idle between mails: nothing to cut

    def send(self, sender: str, recipients: list[str], raw: bytes, deadline: float | None = None) -> None:
        options = self._options(sender, recipients)
        # smtplib sends bytes as they are; SMTP wants CRLF (bare LF reads as one endless line)
        wire = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        self.guard.deadline = deadline
        try:
            refused = self.smtp.sendmail(sender, list(recipients), wire, mail_options=options)
        except smtplib.SMTPRecipientsRefused as e:
            codes = {code for code, _ in e.recipients.values()}
            text = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in e.recipients.items())
            if all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"{self.where}: all recipients refused: {text}") from None
            raise SendError(f"{self.where}: recipients refused: {text}") from None
        except smtplib.SMTPResponseException as e:
            text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else e.smtp_error
            msg = f"{self.where}: {e.smtp_code} {text}"
            if 500 <= e.smtp_code < 600 and not self.guard.reason:
                self._reset()          # a refused DATA command leaves the transaction open (smtplib does not RSET)
                raise PermanentFailure(msg) from None
            raise SendError(self._why(e) if self.guard.reason else msg) from None
        except (OSError, smtplib.SMTPException) as e:
            raise SendError(self._why(e)) from None
        except (UnicodeError, ValueError) as e:            # cannot be put on the wire: trying again won't help
            self._reset()
            raise PermanentFailure(f"{self.where}: cannot send: {type(e).__name__}: {e}") from None
        finally:
            self.guard.deadline = None
        if refused:
            text = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items())
            raise PermanentFailure(f"{self.where}: recipients refused: {text} (the other recipients took the mail; "
                                   "it is not sent again)")

    def _options(self, sender: str, recipients: list[str]) -> list[str]:
        """SMTPUTF8 when an address is not ASCII and the server takes it; without it such a mail fails."""
        odd = [a for a in [sender, *recipients] if not a.isascii()]
        if not odd:
            return []
        if self.smtp.has_extn("smtputf8"):
            return ["SMTPUTF8"]
        raise PermanentFailure(f"{self.where}: {', '.join(odd)}: a non-ASCII address needs SMTPUTF8, "
                               "which the server does not offer")

    def _reset(self) -> None:
        """End a half-sent transaction so the next mail starts clean (if that fails, it will say so)."""
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            pass

    def _why(self, e: Exception) -> str:
        if self.guard.reason:
            return f"{self.where}: {self.guard.reason}"
        return f"{self.where}: {type(e).__name__}: {e}"

    def close(self) -> None:
        """QUIT (a few seconds at most), then let go of the socket."""
        self.guard.deadline = time.monotonic() + 5
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        finally:
            self.guard.close()


def probe(settings: ServerSettings) -> str:
    session = SmtpSession(settings, timeout=15, deadline=time.monotonic() + 30)
    try:
        features = sorted(k.upper() for k in session.smtp.esmtp_features)
        return f"connected{', authenticated' if settings.user else ''}; {' '.join(features[:8])}"
    finally:
        session.close()
