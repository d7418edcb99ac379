"""A live local Maildir (`MAILDAEMON_MAILDIR`) as the source, strictly read-only.

The folder belongs to the MDA and perhaps a mail reader: we never move files from new/ to cur/,
never add flags, never write anything there. So "already delivered" cannot live in the folder; it
lives in the position: `{"seen": [sorted message keys]}`. A key is the file name before the info
suffix (`:2,FLAGS`), which stays the same when a reader moves the file to cur/ or changes its flags.
Keys whose files are gone are pruned from the position so it does not grow with deleted mail.
The stdlib `mailbox.Maildir` is not used here because it does not expose the file (for the
mtime ordering) without private API; `scan()` below is also what `import` uses for Maildirs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from maildaemon.model import RawMail
from maildaemon.source import SourceError

BATCH = 100


@dataclass(frozen=True)
class Entry:
    key: str
    path: Path
    mtime: float


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
                found.setdefault(key_of(name), Entry(key_of(name), file, st.st_mtime))
    return found


def ordered(entries: dict[str, Entry]) -> list[Entry]:
    """Oldest first (file mtime is the delivery time), ties broken by key for a stable order."""
    return sorted(entries.values(), key=lambda e: (e.mtime, e.key))


def read(path: Path, entry: Entry) -> bytes | None:
    """The message's bytes; None if it was deleted meanwhile (a rename is followed by a re-scan)."""
    try:
        return entry.path.read_bytes()
    except FileNotFoundError:
        moved = scan(path).get(entry.key)
        if moved is None:
            return None
        try:
            return moved.path.read_bytes()
        except FileNotFoundError:
            return None


class MaildirSource:
    """Source over a live Maildir; yields unseen messages in batches of 100, oldest first."""

    def __init__(self, path: str | os.PathLike, batch_size: int = BATCH):
        self.path = Path(path)
        self.batch_size = batch_size
        self.id = f"maildir:{os.path.abspath(self.path)}"

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        if not is_maildir(self.path):
            raise SourceError(f"{self.path} is not a Maildir (no cur/ or new/ directory)")
        present = scan(self.path)
        seen = {k for k in (position or {}).get("seen", ()) if k in present}    # prune vanished keys
        todo = [e for e in ordered(present) if e.key not in seen]
        for i in range(0, len(todo), self.batch_size):
            chunk = todo[i:i + self.batch_size]
            mails = []
            for entry in chunk:
                data = read(self.path, entry)
                if data is not None:
                    mails.append(RawMail(data, origin=f"maildir:{entry.key}"))
            seen.update(e.key for e in chunk)
            yield mails, {"seen": sorted(seen)}
