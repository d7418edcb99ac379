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
"""
from __future__ import annotations

import os
import re
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
