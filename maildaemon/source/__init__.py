"""Where mail comes from: IMAP, a local Maildir, or an archive (mbox/Maildir) for `import`.

Every source has the same shape, so one pipeline serves all three: `batches(position)` yields
`(mails, position_after)`; the caller stores the batch's effects *and* `position_after` in one
atomic commit, then asks for the next batch (persist before acknowledge). A position is a plain
JSON-able dict the source alone understands; `None` means "from the beginning".

Each `RawMail` of a live source also carries `position`: the source position just after that mail,
so the caller may commit in the middle of a long batch; the last mail's position means the same as
the batch's `position_after`. Archives have no position (`None` everywhere).

Size limit (SPEC 9): every source takes `max_bytes` (default `MAILDAEMON_MAX_MAIL_BYTES`'s). A mail
bigger than that is never read whole: it comes as `RawMail(data=<its header section, at most
HEADER_CAP bytes>, oversize=<its full size>)` for the caller to quarantine as `too large`. Batches
are cut by bytes too (`default_batch_bytes`), so memory stays a small multiple of the limit.

A live source (`LiveSource`: the IMAP folder or the Maildir the daemon follows) also says when to
read: `wait(seconds, wake)` blocks until there is news, a poll is due, or a signal arrives, and
connecting, reconnecting and its backoff are its own business. So the daemon's loop only orders
its steps and knows nothing of IMAP: a stream it cannot read raises `Unavailable`, which says when
the source will try again.
"""
from __future__ import annotations

import os
import re
import select
import time
from pathlib import Path
from typing import Iterator, Protocol

from maildaemon.model import RawMail
from maildaemon.errors import SourceError  # noqa: F401 (re-exported)

HEADER_CAP = 64 * 1024          # at most this much of an oversize mail's header is kept
_END_OF_HEADER = re.compile(rb"\n\r?\n")


def header_of(data: bytes, cap: int = HEADER_CAP) -> bytes:
    """The header section of a message, through its first empty line, at most `cap` bytes."""
    if data[:1] == b"\n" or data[:2] == b"\r\n":          # no header at all
        return data[:1] if data[:1] == b"\n" else data[:2]
    end = _END_OF_HEADER.search(data, 0, cap)
    return data[:end.end()] if end else data[:cap]


class Unavailable(SourceError):
    """The stream cannot be read now (connection lost, server down, login refused). The source has
    dropped its connection and connects again by itself in `retry_in` seconds (its backoff): the
    caller only reports it (one line, `str()`)."""

    def __init__(self, message: str, retry_in: float):
        super().__init__(message)
        self.retry_in = retry_in


def pause(seconds: float, wake: int | None = None) -> bool:
    """Sleep at most `seconds`; True at once when the descriptor `wake` (the read end of the daemon's
    signal pipe) is readable. It is not read: its owner drains it."""
    if wake is None:
        time.sleep(max(0.0, seconds))
        return False
    ready, _, _ = select.select([wake], [], [], max(0.0, seconds))
    return bool(ready)


def reached(at: float, seconds: float, wake: int | None = None) -> bool:
    """Sleep until the monotonic time `at`, at most `seconds`; True when `at` has come. False when
    woken by `wake` first (see `pause`) or `seconds` ran out before it."""
    left = at - time.monotonic()
    return left <= 0 or (not pause(min(seconds, left), wake) and time.monotonic() >= at)


def default_batch_bytes(max_bytes: int) -> int:
    """Bytes per batch: two mails at the limit (20 MiB at the default), at least 1 MiB."""
    return max(2 * max_bytes, 1024 * 1024)


class FileSource:
    """What the two local sources (a live Maildir, an archive) share: the path, their id, and the
    limits (mails per batch, bytes per mail, bytes per batch)."""

    kind = "file"

    def __init__(self, path, batch_size: int = 100, max_bytes: int | None = None,
                 batch_bytes: int | None = None):
        from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.max_bytes = max_bytes if max_bytes is not None else DEFAULT_MAX_MAIL_BYTES
        self.batch_bytes = batch_bytes if batch_bytes is not None else default_batch_bytes(self.max_bytes)
        self.id = f"{self.kind}:{os.path.abspath(self.path)}"


class Source(Protocol):
    id: str            # stable name under which the position is stored

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict | None]]: ...


class LiveSource(Source, Protocol):
    """A stream the daemon follows (`live.live_source(settings, follow=True)`)."""

    def wait(self, seconds: float, wake: int | None = None) -> bool:
        """Block at most `seconds`, less when the descriptor `wake` becomes readable (it is not read).
        True when the caller should read `batches()` now: news, a poll that is due, or a fresh
        (re)connection. Raises `Unavailable` when the stream cannot be reached."""
        ...

    def close(self) -> None:
        """Let go of any connection (the next `wait` connects again). Never raises."""
        ...
