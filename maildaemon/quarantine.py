"""The quarantine: every mail that was not accepted, kept whole with the reason, within bounds.

Each entry is two files in `STATE_DIR/quarantine/`: `<id>.eml` (the bytes as received, or only the
headers of a mail that was too large) and `<id>.json` (reason, subject, sender, origin, when, and
any extra fields such as `size`). The id is a hash of the bytes with line endings made LF, so the
same mail delivered twice is one entry, whether it came from an mbox archive (LF) or over IMAP
(CRLF), and file names stay short whatever the mail holds. Both are written durably (temp file,
fsync, rename) *before* the source position moves past the mail; the `.json` is written last and
marks a complete entry. An entry written before ids ignored line endings keeps its name; once
`get` has read it, `put` and `release` of the same mail take that name along.

Bounded (SPEC 9, Limits): after each `put`, entries older than `max_days` are removed, then the
oldest until the entries (`.eml` + `.json`) take at most `max_bytes`. The first `put` of a
`Quarantine` object reads the folder once; later ones keep count in memory, so a flood of
quarantined mail costs O(log n) per mail, not a scan. `prune()` does the same on demand.

The folder is never followed if it is a symbolic link (refused with `atomic.StateIOError`), and
neither is a linked entry file (skipped).
"""
from __future__ import annotations

import errno
import hashlib
import heapq
import json
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from maildaemon.atomic import StateIOError, ensure_dir, explain, open_dir, write_atomic

log = logging.getLogger("maildaemon.quarantine")

DEFAULT_MAX_MB = 500
DEFAULT_DAYS = 90
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_MAX_JSON = 1 << 20            # an entry's .json is small; anything bigger is not one of ours
_FIELDS = ("reason", "message_id", "subject", "sender", "origin", "quarantined_at")


@dataclass(frozen=True)
class QuarantineEntry:
    id: str
    reason: str
    message_id: str = ""
    subject: str = ""
    sender: str = ""
    origin: str = ""
    quarantined_at: str = ""
    extra: dict = field(default_factory=dict, compare=False)   # e.g. {"size": 123456} for a mail too large

    def to_json(self) -> dict:
        doc = {"id": self.id, **{k: getattr(self, k) for k in _FIELDS}}
        for k, v in self.extra.items():
            doc.setdefault(k, v)
        return doc

    @classmethod
    def from_json(cls, doc: dict, entry_id: str) -> "QuarantineEntry":
        """An entry from its .json, old or new: missing fields are empty, unknown ones kept in `extra`.
        The id is the file's name, never what the file claims."""
        values = {k: "" if doc.get(k) is None else str(doc.get(k)) for k in _FIELDS}
        extra = {k: v for k, v in doc.items() if k not in _FIELDS and k != "id"}
        return cls(id=entry_id, extra=extra, **values)


class Quarantine:
    def __init__(self, state_dir: Path, max_bytes: int | None = DEFAULT_MAX_MB * 1024 * 1024,
                 max_days: int | None = DEFAULT_DAYS):
        self.dir = Path(state_dir) / "quarantine"
        self.max_bytes, self.max_days = max_bytes, max_days
        self._index: dict[str, tuple[float, int]] | None = None     # id -> (quarantined at, bytes)
        self._heap: list[tuple[float, str]] = []
        self._total = 0
        self._older: dict[str, str] = {}       # id -> the name an older version gave the same mail

    @staticmethod
    def entry_id(raw: bytes) -> str:
        return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()[:12]

    # --- writing ------------------------------------------------------------------------

    def put(self, raw: bytes, reason: str, message_id: str, subject: str, sender: str,
            origin: str, now: str, extra: dict | None = None) -> QuarantineEntry:
        """Keep `raw` with the reason (durably), then keep the quarantine within its limits."""
        ensure_dir(self.dir)
        entry = QuarantineEntry(self.entry_id(raw), str(reason)[:2000], str(message_id)[:1000], str(subject)[:300],
                      str(sender)[:500], str(origin)[:1000], now, dict(extra or {}))
        write_atomic(self.dir / f"{entry.id}.eml", raw)
        doc = json.dumps(entry.to_json(), ensure_ascii=False, indent=1).encode()
        write_atomic(self.dir / f"{entry.id}.json", doc)
        if self._index is None:
            self._scan()
        else:
            self._add(entry.id, _stamp(now, None), len(raw) + len(doc))
        if entry.id in self._older:                  # the same mail under its older name: one entry
            self._remove(self._older.pop(entry.id))
        self._enforce(now)
        return entry

    def release(self, entry_id: str) -> None:
        """Remove an entry once its mail has been accepted (after the state is committed)."""
        self._remove(entry_id)
        if entry_id in self._older:
            self._remove(self._older.pop(entry_id))

    def prune(self, now, max_bytes: int | None = None, max_days: int | None = None) -> list[str]:
        """Remove entries older than `max_days`, then the oldest until at most `max_bytes` remain.
        Reads the folder afresh. `now` is a datetime or an ISO string. Returns the removed ids."""
        if max_bytes is not None:
            self.max_bytes = max_bytes
        if max_days is not None:
            self.max_days = max_days
        self._scan()
        return self._enforce(now)

    # --- reading ------------------------------------------------------------------------

    def list(self) -> list[QuarantineEntry]:
        fd = self._open()
        if fd is None:
            return []
        out = []
        try:
            for name in os.listdir(fd):
                stem, dot, ext = name.rpartition(".")
                if ext != "json" or not _ID.fullmatch(stem):
                    continue
                doc = _read_json(fd, name)
                if doc is not None:
                    out.append(QuarantineEntry.from_json(doc, stem))
        finally:
            os.close(fd)
        return sorted(out, key=lambda e: (e.quarantined_at, e.id))

    def count(self) -> int:
        return self.usage()[0]

    def usage(self) -> tuple[int, int]:
        """(entries, bytes they take: .eml + .json, and left-over .eml files)."""
        fd = self._open()
        if fd is None:
            return 0, 0
        count = size = 0
        try:
            for name in os.listdir(fd):
                stem, _, ext = name.rpartition(".")
                if ext not in ("json", "eml") or not _ID.fullmatch(stem):
                    continue
                st = _lstat(fd, name)
                if st is None or not stat.S_ISREG(st.st_mode):
                    continue
                size += st.st_size
                count += ext == "json"
        finally:
            os.close(fd)
        return count, size

    def get(self, entry_id: str) -> tuple[QuarantineEntry, bytes] | None:
        """An entry by id or unique id prefix."""
        matches = [e for e in self.list() if e.id.startswith(entry_id.lower())] if entry_id else []
        if len(matches) != 1:
            return None
        e = matches[0]
        fd = self._open()
        if fd is None:
            return None
        try:
            raw = _read(fd, f"{e.id}.eml")
        finally:
            os.close(fd)
        if raw is None:
            return None
        if self.entry_id(raw) != e.id:
            self._older[self.entry_id(raw)] = e.id
        return e, raw

    # --- the bounds ---------------------------------------------------------------------

    def _open(self) -> int | None:
        """An fd of the folder, or None if there is none; a symbolic link is refused."""
        if not os.path.lexists(self.dir):
            return None
        return open_dir(self.dir)

    def _scan(self) -> None:
        self._index, self._heap, self._total = {}, [], 0
        fd = self._open()
        if fd is None:
            return
        try:
            names = os.listdir(fd)
            present = set(names)
            for name in names:
                stem, _, ext = name.rpartition(".")
                if not _ID.fullmatch(stem) or ext not in ("json", "eml"):
                    continue
                if ext == "eml" and f"{stem}.json" in present:
                    continue                      # counted with its .json
                sizes = [_lstat(fd, n) for n in (f"{stem}.json", f"{stem}.eml")]
                if any(st is not None and not stat.S_ISREG(st.st_mode) for st in sizes):
                    continue
                size = sum(st.st_size for st in sizes if st is not None)
                mtime = max(st.st_mtime for st in sizes if st is not None)
                doc = _read_json(fd, f"{stem}.json") if ext == "json" else None
                at = _stamp((doc or {}).get("quarantined_at"), mtime)
                self._add(stem, at, size)
        finally:
            os.close(fd)

    def _add(self, entry_id: str, at: float, size: int) -> None:
        old = self._index.get(entry_id)
        if old is not None:
            self._total -= old[1]
        self._index[entry_id] = (at, size)
        self._total += size
        heapq.heappush(self._heap, (at, entry_id))

    def _enforce(self, now) -> list[str]:
        cutoff = None
        if self.max_days:
            cutoff = _stamp(now, datetime.now(timezone.utc).timestamp()) - timedelta(days=self.max_days).total_seconds()
        removed, old, big = [], 0, 0
        while self._heap:
            at, entry_id = self._heap[0]
            if self._index.get(entry_id, (None,))[0] != at:
                heapq.heappop(self._heap)       # released or re-put since: a stale heap item
                continue
            too_old = cutoff is not None and at < cutoff
            too_big = self.max_bytes is not None and self._total > self.max_bytes
            if not (too_old or too_big):
                break
            heapq.heappop(self._heap)
            self._remove(entry_id)
            removed.append(entry_id)
            old += too_old
            big += not too_old
        if removed:
            log.warning("quarantine: removed %d entr%s (%d older than %d days, %d over the %.0f MB cap)",
                        len(removed), "y" if len(removed) == 1 else "ies", old, self.max_days or 0, big,
                        (self.max_bytes or 0) / 1024 / 1024)
        return removed

    def _remove(self, entry_id: str) -> None:
        if not _ID.fullmatch(entry_id):
            return
        fd = self._open()
        if fd is None:
            return
        try:
            for suffix in (".json", ".eml"):          # the .json first: the entry is gone as a whole
                try:
                    os.unlink(f"{entry_id}{suffix}", dir_fd=fd)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    raise explain(e, self.dir / f"{entry_id}{suffix}", "remove") from None
        finally:
            os.close(fd)
        if self._index is not None and entry_id in self._index:
            self._total -= self._index.pop(entry_id)[1]


def _stamp(value, default: float | None) -> float:
    """An ISO time (or datetime) as a POSIX timestamp; `default` when it is not one."""
    if isinstance(value, datetime):
        d = value
    else:
        try:
            d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except (TypeError, ValueError):
            return default if default is not None else datetime.now(timezone.utc).timestamp()
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()


def _lstat(dir_fd: int, name: str):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None


def _read(dir_fd: int, name: str, limit: int | None = None) -> bytes | None:
    """A regular file of the folder, never through a symbolic link; None if it is not one."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.read() if limit is None else f.read(limit)


def _read_json(dir_fd: int, name: str) -> dict | None:
    try:
        data = _read(dir_fd, name, _MAX_JSON + 1)
        doc = json.loads(data) if data is not None and len(data) <= _MAX_JSON else None
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


__all__ = ["DEFAULT_DAYS", "DEFAULT_MAX_MB", "QuarantineEntry", "Quarantine", "StateIOError"]
