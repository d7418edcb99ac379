"""An archive for `maildaemon import PATH`: an mbox file or a Maildir folder (e.g. a list archive).

No position is kept (`position_after` is always None, and so is every mail's `position`): applying
is idempotent by Message-ID, so importing the same or an overlapping archive twice is harmless, and
an archive is not a stream that grows under us.

mbox is read by our own streaming reader, not `mailbox.mbox`, which reads each message whole (a
200 MB message would take 200+ MB) and builds a table of contents first. `messages()` reads the file
in binary, line by line with lines cut at `CHUNK` bytes (a 200 MB line is no problem either), and
holds at most `max_bytes` + one chunk of a message: past the limit only its header is kept and the
rest is counted (`RawMail.oversize`). `count()` for the progress bar runs the same reader keeping
nothing. Separation as the stdlib does it, plus one rule: a message starts at a `From ` line at the
start of the file or after an empty line (the stdlib splits at any `From ` line; an unquoted
`From ` after a non-empty body line is body text); the empty line before a `From ` line, and one at
the end of the file, belong to no message.

mbox quoting: writers escape a body line starting with "From " as ">From " (mboxo) or add one
">" to any ">*From " line (mboxrd, used by list archivers such as public-inbox). We remove one
">" from `>+From ` lines: exact for mboxrd and for mboxo's own quoting; only a genuine ">From "
line in an mboxo file loses its ">", which does not matter for reading ticket notifications.
"""
from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path
from typing import Iterator

from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.model import RawMail
from maildaemon.source import HEADER_CAP, FileSource, SourceError, header_of
from maildaemon.source.maildir import is_maildir, ordered, read, scan

BATCH = 200
CHUNK = 64 * 1024               # longest piece of a line read at once
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_QUOTED_LINE = re.compile(rb">+From ")
_BLANK = (b"\n", b"\r\n")


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


class _Message:
    """One mbox message being read: its pieces while within the limit, else its header only."""

    def __init__(self, max_bytes: int, keep: bool):
        self.max_bytes, self.keep = max_bytes, keep
        self.parts: list[bytes] = []
        self.size = 0
        self.head: bytes | None = None      # set once the message is over the limit

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if not self.keep or self.head is not None:
            return
        self.parts.append(piece)
        if self.size > self.max_bytes:       # over the limit: keep the header, count the rest
            prefix, got = [], 0
            for p in self.parts:
                if got >= HEADER_CAP:
                    break
                prefix.append(p)
                got += len(p)
            self.head = header_of(b"".join(prefix))
            self.parts = []

    def result(self) -> tuple[bytes, int]:
        if self.head is not None:
            return self.head, self.size
        return b"".join(self.parts), 0


def messages(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_MAIL_BYTES,
             keep: bool = True) -> Iterator[tuple[bytes, int]]:
    """(data, oversize) for each message of an mbox file, in file order (see the module docstring).

    `keep=False` only counts: every data is b""."""
    with open(path, "rb", buffering=CHUNK) as f:
        msg: _Message | None = None
        at_line_start = True        # the next piece begins a line
        after_blank = True          # the last complete line was empty (or there was none)
        in_from_line = False        # skipping the rest of a From_ line longer than CHUNK
        pending = b""               # an empty line: the separator if a From_ line follows
        for piece in iter(partial(f.readline, CHUNK), b""):
            line_start, at_line_start = at_line_start, piece.endswith(b"\n")
            if in_from_line:
                in_from_line = not at_line_start
                continue
            if line_start and piece.startswith(b"From ") and (after_blank or msg is None):
                if msg is not None:
                    yield msg.result()
                msg, pending, after_blank = _Message(max_bytes, keep), b"", False
                in_from_line = not at_line_start
                continue
            blank = line_start and piece in _BLANK
            after_blank = blank
            if msg is None:                 # before the first From_ line: not a message
                continue
            if pending:
                msg.add(pending)
                pending = b""
            if blank:
                pending = piece
                continue
            if line_start and piece[:1] == b">" and _QUOTED_LINE.match(piece):
                piece = piece[1:]
            msg.add(piece)
        if msg is not None:
            yield msg.result()


def count(path: str | os.PathLike) -> int:
    """Number of messages, for the progress bar; reads no message into memory."""
    if kind(path) == "maildir":
        return len(scan(Path(path)))
    return sum(1 for _ in messages(path, keep=False))


class ArchiveSource(FileSource):
    """Yields the archive's messages, mbox in file order, Maildir oldest first, in batches of at
    most `batch_size` messages and about `batch_bytes` bytes."""

    kind = "archive"

    def __init__(self, path: str | os.PathLike, batch_size: int = BATCH,
                 max_bytes: int = DEFAULT_MAX_MAIL_BYTES, batch_bytes: int | None = None):
        super().__init__(path, batch_size, max_bytes, batch_bytes)

    def batches(self, position: dict | None = None) -> Iterator[tuple[list[RawMail], None]]:
        mails = self._maildir() if kind(self.path) == "maildir" else self._mbox()
        batch: list[RawMail] = []
        size = 0
        for mail in mails:
            batch.append(mail)
            size += len(mail.data)
            if len(batch) >= self.batch_size or size >= self.batch_bytes:
                yield batch, None
                batch, size = [], 0
        if batch:
            yield batch, None

    def _mbox(self) -> Iterator[RawMail]:
        """Messages as bytes (no str round trip, so 8-bit bodies survive); origin numbers from 1."""
        where = os.path.abspath(self.path)
        for n, (data, oversize) in enumerate(messages(self.path, self.max_bytes), start=1):
            yield RawMail(data, origin=f"mbox:{where}#{n}", oversize=oversize)

    def _maildir(self) -> Iterator[RawMail]:
        for entry in ordered(scan(self.path)):
            got = read(self.path, entry, self.max_bytes)
            if got is not None:
                yield RawMail(got[0], origin=f"maildir:{entry.key}", oversize=got[1])
