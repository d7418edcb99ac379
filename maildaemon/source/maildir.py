"""A live local Maildir (`MAILDAEMON_MAILDIR`) as the source, strictly read-only.

The folder belongs to the MDA and perhaps a mail reader: we never move files from new/ to cur/,
never add flags, never write anything there. So "already delivered" cannot live in the folder; it
lives in the position: `{"mark": M, "seen": [sorted message keys]}`. A key is the file name before
the info suffix (`:2,FLAGS`), which stays the same when a reader moves the file to cur/ or changes
its flags. M is the newest file mtime read (a file's mtime is its delivery time); files older than
M - WINDOW count as read and their keys leave the position, so the position holds about a week
of mail, not every file the folder ever had (it is in the state every command reads). A file put
there with an mtime older than that (a copy that kept its time) is not read: `import` it.
A poll first compares the mtimes of new/ and cur/ with the last scan's: a delivery or a reader's
move changes them, so a poll with nothing new costs two stat calls, not one per file.
The stdlib `mailbox.Maildir` is not used here because it does not expose the file (for the
mtime ordering) without private API; `scan()` below is also what `import` uses for Maildirs.

Per-mail positions (a caller may commit in the middle of a batch): a mail's position is
`{"mark": M, "seen": BASE, "more": [keys of this batch up to and including it]}`, where BASE is the sorted
list of keys seen before the batch, one list object shared by every mail of the batch (never
copied, never changed). Building it costs O(batch size) per mail, whatever the number of keys
seen, so a pass stays linear; a plain `{"seen": sorted(all)}` per mail would cost O(seen) each.
The last mail of a batch carries the batch's own `{"mark": M, "seen": [...]}`. `batches()` accepts
both shapes, and a position without "mark" (written before it existed).

The daemon follows it with `wait()`: True every `poll_seconds` (MAILDAEMON_POLL_SECONDS), when
the next pass is due; a pass that finds nothing new costs the two stat calls above.

Size limit: a file is stat'ed first (fstat of the open file); one over `max_bytes` is never read
whole, only its header (`RawMail.oversize` = its size).
"""
from __future__ import annotations

import dataclasses
import heapq
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.model import RawMail
from maildaemon.source import HEADER_CAP, FileSource, SourceError, header_of, reached

BATCH = 100
WINDOW = 7 * 86400        # seconds behind the newest mail read that are still compared key by key
RACY = 2.0                # a folder changed this recently may change again within its mtime's tick


@dataclass(frozen=True)
class Entry:
    key: str
    path: Path
    mtime: float
    size: int = 0


def is_maildir(path: Path) -> bool:
    """A directory with cur/ or new/ (tmp/ and the other one are often lost by tar or git)."""
    return path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir())


def key_of(name: str) -> str:
    """The unique part of a Maildir file name: everything before the info (`:2,S`)."""
    return name.split(":", 1)[0]


def scan(path: Path) -> dict[str, Entry]:
    """key -> Entry for the messages in new/ and cur/ (subfolders, tmp/ and dot files ignored).

    new/ is listed before cur/: a reader moving a file new/ -> cur/ during the scan is then seen in
    one of the two (in cur/ if it moved before we listed new/), never in neither."""
    found: dict[str, Entry] = {}
    for sub in ("new", "cur"):
        try:
            names = os.listdir(path / sub)
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith("."):
                continue
            file = path / sub / name
            try:
                st = file.stat()
            except FileNotFoundError:       # moved or deleted since listdir
                continue
            if os.path.isfile(file):
                found.setdefault(key_of(name), Entry(key_of(name), file, st.st_mtime, st.st_size))
    return found


def ordered(entries: dict[str, Entry]) -> list[Entry]:
    """Oldest first (file mtime is the delivery time), ties broken by key for a stable order."""
    return sorted(entries.values(), key=lambda e: (e.mtime, e.key))


def read_capped(file: Path, max_bytes: int) -> tuple[bytes, int]:
    """(bytes, 0) for a file of at most `max_bytes`; (its header, its size) for a bigger one.

    Never holds more than max_bytes + 1 bytes, even if the file grows while we read it."""
    with open(file, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= max_bytes:
            data = f.read(max_bytes + 1)
            if len(data) <= max_bytes:
                return data, 0
            return header_of(data), max(len(data), os.fstat(f.fileno()).st_size)
        return header_of(f.read(HEADER_CAP)), size


def read(path: Path, entry: Entry, max_bytes: int = DEFAULT_MAX_MAIL_BYTES) -> tuple[bytes, int] | None:
    """`read_capped` of the message; None if it was deleted meanwhile (a rename is followed by a
    re-scan)."""
    try:
        return read_capped(entry.path, max_bytes)
    except FileNotFoundError:
        moved = scan(path).get(entry.key)
        if moved is None:
            return None
        try:
            return read_capped(moved.path, max_bytes)
        except FileNotFoundError:
            return None


def seen_keys(position: dict | None) -> set[str]:
    """The keys a position says were delivered (both shapes, see the module docstring)."""
    position = position or {}
    return set(position.get("seen", ())) | set(position.get("more", ()))


class MaildirSource(FileSource):
    """Source over a live Maildir; yields unseen messages oldest first, in batches of at most
    `batch_size` messages and about `batch_bytes` bytes."""

    kind = "maildir"

    def __init__(self, path: str | os.PathLike, batch_size: int = BATCH,
                 max_bytes: int = DEFAULT_MAX_MAIL_BYTES, batch_bytes: int | None = None,
                 poll_seconds: float = 60):
        super().__init__(path, batch_size, max_bytes, batch_bytes)
        self._quiet: tuple | None = None      # (folder mtimes, position) of the last pass that read all
        self.poll_seconds = poll_seconds
        self._next_poll = 0.0                 # monotonic time of the daemon's next pass

    def wait(self, seconds: float, wake: int | None = None) -> bool:
        """The daemon's poll (see LiveSource): True when a pass is due, at most every `poll_seconds`."""
        if not reached(self._next_poll, seconds, wake):
            return False
        self._next_poll = time.monotonic() + self.poll_seconds
        return True

    def close(self) -> None:
        """Nothing is held open."""

    def _folders(self) -> tuple:
        out = []
        for sub in ("new", "cur"):
            try:
                out.append(os.stat(self.path / sub).st_mtime_ns)
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        if not is_maildir(self.path):
            raise SourceError(f"{self.path} is not a Maildir (no cur/ or new/ directory)")
        folders = self._folders()
        if self._quiet is not None and self._quiet == (folders, position):
            return                              # nothing delivered or moved since the last full pass
        present = scan(self.path)
        known = seen_keys(position)
        mark = (position or {}).get("mark")
        if not isinstance(mark, (int, float)):  # a position from before the mark: the newest read
            mark = max((e.mtime for e in present.values() if e.key in known), default=0.0)
        floor = mark - WINDOW
        base = sorted(k for k in known if k in present and present[k].mtime >= floor)   # prune
        done = set(base)
        todo = [e for e in ordered(present) if e.mtime >= floor and e.key not in done]
        new: list[str] = []             # keys handled in this batch, vanished ones included
        mails: list[RawMail] = []
        size = 0
        last = {"mark": mark, "seen": base}
        for entry in todo:
            got = read(self.path, entry, self.max_bytes)
            new.append(entry.key)
            mark = max(mark, entry.mtime)
            if got is not None:
                data, oversize = got
                size += len(data)
                mails.append(RawMail(data, origin=f"maildir:{entry.key}",
                                     position={"mark": mark, "seen": base, "more": list(new)}, oversize=oversize))
            if len(new) >= self.batch_size or size >= self.batch_bytes:
                last = yield from self._flush(base, new, mails, mark, present)
                base, new, mails, size = last["seen"], [], [], 0
        if new:
            last = yield from self._flush(base, new, mails, mark, present)
        newest = max((f for f in folders if f is not None), default=0)
        if time.time() - newest / 1e9 > RACY:   # not racy: the folders' mtimes tell the next change
            self._quiet = (folders, last if todo else position)
        else:
            self._quiet = None

    @staticmethod
    def _flush(base: list[str], new: list[str], mails: list[RawMail], mark: float, present: dict):
        """Yield one batch; return the position after it (its "seen" is the next batch's base)."""
        floor = mark - WINDOW
        keep = [k for k in heapq.merge(base, sorted(new))          # keys are unique: no dedupe
                if k not in present or present[k].mtime >= floor]
        after = {"mark": mark, "seen": keep}
        if mails:
            mails[-1] = dataclasses.replace(mails[-1], position=after)
        yield mails, after
        return after
