"""An archive for `maildaemon import PATH`: an mbox file or a Maildir folder (e.g. a list archive).

No position is kept (`position_after` is always None): applying is idempotent by Message-ID, so
importing the same or an overlapping archive twice is harmless, and an archive is not a stream
that grows under us.

mbox quoting: writers escape a body line starting with "From " as ">From " (mboxo) or add one
">" to any ">*From " line (mboxrd, used by list archivers such as public-inbox). The stdlib
quotes on write but never unquotes on read, so we remove one ">" from `>+From ` lines: exact for
mboxrd and for mboxo's own quoting; only a genuine ">From " line in an mboxo file loses its ">",
which does not matter for reading ticket notifications.
"""
from __future__ import annotations

import mailbox
import os
import re
from pathlib import Path
from typing import Iterator

from maildaemon.model import RawMail
from maildaemon.source import SourceError
from maildaemon.source.maildir import is_maildir, ordered, read, scan

BATCH = 200
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def unquote_from(data: bytes) -> bytes:
    return _QUOTED_FROM.sub(rb"\1", data)


def kind(path: str | os.PathLike) -> str:
    """"mbox" or "maildir"; SourceError for anything else, so a typo is not imported as nothing."""
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p} does not exist")
    if is_maildir(p):
        return "maildir"
    if p.is_file():
        with p.open("rb") as f:
            head = f.read(4096).lstrip(b"\r\n")
        if head == b"" or head.startswith(b"From "):        # an empty file is an empty mbox
            return "mbox"
    raise SourceError(f"{p} is neither an mbox file nor a Maildir")


def count(path: str | os.PathLike) -> int:
    """Number of messages, for the progress bar."""
    if kind(path) == "maildir":
        return len(scan(Path(path)))
    box = mailbox.mbox(os.fspath(path), create=False)
    try:
        return len(box)
    finally:
        box.close()


class ArchiveSource:
    """Yields the archive's messages in batches of 200: mbox in file order, Maildir oldest first."""

    def __init__(self, path: str | os.PathLike, batch_size: int = BATCH):
        self.path = Path(path)
        self.batch_size = batch_size
        self.id = f"archive:{os.path.abspath(self.path)}"

    def batches(self, position: dict | None = None) -> Iterator[tuple[list[RawMail], None]]:
        mails = self._maildir() if kind(self.path) == "maildir" else self._mbox()
        batch: list[RawMail] = []
        for mail in mails:
            batch.append(mail)
            if len(batch) >= self.batch_size:
                yield batch, None
                batch = []
        if batch:
            yield batch, None

    def _mbox(self) -> Iterator[RawMail]:
        """Messages as bytes (no str round trip, so 8-bit bodies survive); origin numbers from 1."""
        where = os.path.abspath(self.path)
        box = mailbox.mbox(os.fspath(self.path), create=False)   # never locked or flushed: read only
        try:
            for n, key in enumerate(box.iterkeys(), start=1):
                yield RawMail(unquote_from(box.get_bytes(key)), origin=f"mbox:{where}#{n}")
        finally:
            box.close()

    def _maildir(self) -> Iterator[RawMail]:
        for entry in ordered(scan(self.path)):
            data = read(self.path, entry)
            if data is not None:
                yield RawMail(data, origin=f"maildir:{entry.key}")
