"""The configured stream: the Maildir when `MAILDAEMON_MAILDIR` is set, else the IMAP folder.

Its own module so the package's shared pieces (`SourceError`, header helpers) never import the
sources that use them.
"""
from __future__ import annotations

from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.source import LiveSource, Source


def live_source(settings, attempts: int = 3, follow: bool = False) -> "Source | LiveSource":
    """The configured stream: the Maildir when `MAILDAEMON_MAILDIR` is set, else the IMAP folder.

    `follow`: the daemon's stream (a `LiveSource`), which keeps its IMAP connection open between
    passes and waits on it; otherwise one pass per `batches()` call, with `attempts` tries."""
    max_bytes = getattr(settings, "max_mail_bytes", DEFAULT_MAX_MAIL_BYTES)
    if settings.maildir:
        from maildaemon.source.maildir import MaildirSource
        return MaildirSource(settings.maildir, max_bytes=max_bytes, poll_seconds=settings.poll_seconds)
    if follow:
        from maildaemon.source.imap_follow import ImapFollower
        return ImapFollower(settings.imap, poll_seconds=settings.poll_seconds, max_bytes=max_bytes)
    from maildaemon.source.imap import ImapSource
    return ImapSource(settings.imap, attempts=attempts, max_bytes=max_bytes)
