"""The layout (issue 14): hot state in the TinyDB file, history in append-only logs.

maildaemon.json   tickets that are open or changed in the last ARCHIVE_AFTER of the stream (each
                  with only the history entries that set its status), the outbox, the rotation,
                  source positions, counters, and the committed length of each log
history/changes.jsonl   every history entry of every ticket, one line each      (`ticket KEY`)
history/messages.jsonl  every Message-ID seen and what became of it               (idempotency)
history/tickets.jsonl   finished tickets quiet for ARCHIVE_AFTER; the last line of a key wins,
                        and a ticket in maildaemon.json wins over them all       (`tickets --all`)
history/outbox.jsonl    outbox records retired by `retire_records` (mails sent long ago)
"""
from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path

from maildaemon.logfile import LogFile
from maildaemon.model import DONE_STATUSES, HistoryEntry, Ticket, iso, parse_iso

LOG_DIR = "history"
LOGS = ("changes", "messages", "tickets", "outbox")
LAYOUT = 2
# the handoff looks back eight duty weeks and one more for "a week earlier": a ticket finished and
# quiet for a quarter can no longer change any count it shows
ARCHIVE_AFTER = timedelta(weeks=13)

_KEEP = frozenset(("key", "system", "id"))
_STATUS_FIELDS = ("message_id", "at", "kinds", "status")
_ENTRY_FIELDS = frozenset(f.name for f in dataclasses.fields(HistoryEntry))


def log_file(state_dir: Path, name: str) -> LogFile:
    """`STATE_DIR/history/<name>.jsonl`."""
    return LogFile(Path(state_dir) / LOG_DIR / f"{name}.jsonl")


def slim(doc: dict, history) -> dict:
    """A ticket document as stored: fields at their default (None, empty, false) left out, and
    only what the handoff's counts read of the status-setting entries (the rest is in the log).
    Half the bytes of the full document: every command reads every open ticket's."""
    kept = [{k: getattr(h, k) if k != "kinds" else list(h.kinds) for k in _STATUS_FIELDS} for h in history]
    return {k: kept if k == "history" else v for k, v in doc.items()
            if k == "history" or k in _KEEP or v not in (None, "", [], False)}


def entry(doc: dict) -> HistoryEntry | None:
    fields = {k: v for k, v in doc.items() if k in _ENTRY_FIELDS}
    try:
        return HistoryEntry(**dict(fields, kinds=tuple(fields.get("kinds") or ())))
    except TypeError:
        return None


def ticket_sort(t: Ticket):
    return (t.opened_at or "", t.key)


def retiring(docs: list[dict]) -> list[dict]:
    """Finished tickets quiet for ARCHIVE_AFTER, by the stream's own clock (the newest change
    applied), so that the result depends on the mail, never on when the command ran."""
    newest = max((d.get("updated_at") or "" for d in docs), default="")
    if not newest:
        return []
    try:
        cutoff = iso(parse_iso(newest) - ARCHIVE_AFTER)
    except ValueError:
        return []
    return [d for d in docs if d.get("status", "open") in DONE_STATUSES and (d.get("updated_at") or "") < cutoff]


def identity(path: Path):
    """(inode, size, mtime) of a file, (None, 0, 0) without one."""
    try:
        st = os.lstat(path)
        return (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        return (None, 0, 0)


class Index:
    """A log read into a dict, then only its new tail on each later call: the Store keeps one per
    log across views and transactions, so the daemon reads 50,000 Message-IDs once, not per batch."""

    def __init__(self, log: LogFile, field: str, value):
        self.log, self.field, self.value = log, field, value
        self.length, self.identity, self.data = 0, None, {}

    def upto(self, length: int) -> dict:
        found = identity(self.log.path)
        if length < self.length or found[0] != (self.identity or (None,))[0]:
            self.length, self.data = 0, {}          # another file (restored from a backup): read anew
        self.identity = found
        for offset, doc in self.log.lines(self.length, length):
            k = doc.get(self.field)
            if isinstance(k, str):
                self.data[k] = self.value(offset, doc)
        self.length = length
        return self.data
