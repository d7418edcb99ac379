"""Where mail comes from: IMAP, a local Maildir, or an archive (mbox/Maildir) for `import`.

Every source has the same shape, so one pipeline serves all three: `batches(position)` yields
`(mails, position_after)`; the caller stores the batch's effects *and* `position_after` in one
atomic commit, then asks for the next batch (persist before acknowledge). A position is a plain
JSON-able dict the source alone understands; `None` means "from the beginning".
"""
from __future__ import annotations

from typing import Iterator, Protocol

from maildaemon.model import RawMail


class SourceError(Exception):
    """The source could not be read (server down, login refused); the text is safe to log."""


def live_source(settings, attempts: int = 3) -> "Source":
    """The configured stream: the Maildir when `MAILDAEMON_MAILDIR` is set, else the IMAP folder."""
    if settings.maildir:
        from maildaemon.source.maildir import MaildirSource
        return MaildirSource(settings.maildir)
    from maildaemon.source.imap import ImapSource
    return ImapSource(settings.imap, attempts=attempts)


class Source(Protocol):
    id: str            # stable name under which the position is stored

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict | None]]: ...
