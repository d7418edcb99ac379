"""Send stage: SMTP through smtplib (ssl, starttls, or plain to loopback only).

For now this holds the connection logic `check` uses; the outbox sender builds on `connect`.
"""
from __future__ import annotations

import smtplib
import ssl

from maildaemon.config import ServerSettings


class SendError(Exception):
    """SMTP failed; the text names the server, never the password."""


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
