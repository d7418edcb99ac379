"""The configured stream: the Maildir when `MAILDAEMON_MAILDIR` is set, else the IMAP folder.

Its own module so the package's shared pieces (`SourceError`, header helpers) never import the
sources that use them.
"""
from __future__ import annotations

from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.source import Source


def live_source(settings, attempts: int = 3) -> "Source":
    """The configured stream: the Maildir when `MAILDAEMON_MAILDIR` is set, else the IMAP folder."""
    max_bytes = getattr(settings, "max_mail_bytes", DEFAULT_MAX_MAIL_BYTES)
    if settings.maildir:
        from maildaemon.source.maildir import MaildirSource
        return MaildirSource(settings.maildir, max_bytes=max_bytes)
    from maildaemon.source.imap import ImapSource
    return ImapSource(settings.imap, attempts=attempts, max_bytes=max_bytes)
