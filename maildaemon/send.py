"""Send stage: SMTP through smtplib (ssl, starttls, or plain to loopback only).

`Session` is one authenticated connection that sends many mails. Failures are sorted the way the
outbox needs them: `PermanentFailure` (the server said 5xx: retrying cannot help, keep the reason)
versus `SendError` (4xx, timeouts, connection trouble: retry later). No password in any message.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl

from maildaemon.config import ServerSettings

log = logging.getLogger("maildaemon.send")


class SendError(Exception):
    """A temporary SMTP failure; the text names the server, never the password."""


class PermanentFailure(SendError):
    """The server refused for good (5xx)."""


def connect(settings: ServerSettings, timeout: float = 30) -> smtplib.SMTP:
    """A connected, authenticated SMTP session."""
    where = f"SMTP {settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo_or_helo_if_needed()
        if settings.user:
            smtp.login(settings.user, settings.password)
        return smtp
    except smtplib.SMTPAuthenticationError as e:
        raise SendError(f"{where}: login refused for {settings.user}: {e.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as e:
        raise SendError(f"{where}: {type(e).__name__}: {e}") from None


class Session:
    def __init__(self, settings: ServerSettings, timeout: float = 60):
        self.where = f"SMTP {settings.host}:{settings.port}"
        self.smtp = connect(settings, timeout)

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        # smtplib sends bytes as they are; SMTP wants CRLF (bare LF reads as one endless line)
        wire = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        try:
            refused = self.smtp.sendmail(sender, list(recipients), wire)
        except smtplib.SMTPRecipientsRefused as e:
            codes = {code for code, _ in e.recipients.values()}
            text = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in e.recipients.items())
            if all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"{self.where}: all recipients refused: {text}") from None
            raise SendError(f"{self.where}: recipients refused: {text}") from None
        except smtplib.SMTPResponseException as e:
            msg = f"{self.where}: {e.smtp_code} {e.smtp_error.decode(errors='replace') if isinstance(e.smtp_error, bytes) else e.smtp_error}"
            if 500 <= e.smtp_code < 600:
                raise PermanentFailure(msg) from None
            raise SendError(msg) from None
        except (OSError, smtplib.SMTPException) as e:
            raise SendError(f"{self.where}: {type(e).__name__}: {e}") from None
        if refused:
            log.warning("%s: some recipients refused: %s", self.where,
                        ", ".join(f"{r} ({c})" for r, (c, _) in refused.items()))

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()


def probe(settings: ServerSettings) -> str:
    smtp = connect(settings, timeout=15)
    try:
        features = sorted(k.upper() for k in smtp.esmtp_features)
        return f"connected{', authenticated' if settings.user else ''}; {' '.join(features[:8])}"
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
