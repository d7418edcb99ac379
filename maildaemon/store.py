"""The state on disk: TinyDB in one JSON file, written atomically, one writer at a time.

Why it is built this way (figures in ../shared/reference/dependencies.md section 3):
- TinyDB's own JSONStorage rewrites the file in place and truncates afterwards; `kill -9` in that
  window leaves an unreadable file. `AtomicJSONStorage` writes a temporary file in the same
  folder, fsyncs it, `os.replace`s it over the old one and fsyncs the folder: a reader or a restart
  sees the old state or the new one, never half of either.
- TinyDB costs O(whole file) per write. A writer works in a `Transaction`: the file is read once,
  every change of a batch goes to memory, and `commit` flushes once — ticket changes, the message
  index and the source position together, so "done" is never recorded before the effect is.
- TinyDB is not process-safe. Writers take an exclusive `flock` on `STATE_DIR/lock`; readers
  never lock (atomic replace gives them a consistent file) and so never block behind the daemon.
- The folder is trusted only if no one else may write it (SPEC 9, "The state folder"): `check()`
  refuses a group- or world-writable folder, or one owned by another user, with a ConfigError
  (exit 2). No symbolic link inside it is followed: the state file and the lock are opened with
  O_NOFOLLOW, `subdir()` refuses a linked `quarantine/` or `outbox/` (the state folder itself may
  be a link: systemd's DynamicUser makes /var/lib/maildaemon one). Folders are made 0700, files 0600.
- An empty or malformed state file is an error naming the file, never silently a fresh state
  (that would queue every mail again and re-read IMAP from UID 1).
- When the state cannot be written (disk full), the error is kept in `health.json`, a small file
  of fixed size written ahead of time, so it can still be overwritten in place when nothing new can
  be allocated; `status` shows it (`record_error`, `last_error`).
Callers outside this module see plain `Ticket`s and dicts, never TinyDB.
"""
from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import logging
import os
import stat
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import orjson
from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from maildaemon.atomic import (DIR_MODE, FILE_MODE, ensure_dir, explain, link_refused, open_own, read_bytes,
                               write_atomic)
from maildaemon.errors import ConfigError
from maildaemon.logfile import LogFile, needle
from maildaemon.model import DONE_STATUSES, HistoryEntry, Ticket, compact
from maildaemon.model import iso as _iso
from maildaemon.model import parse_iso
from maildaemon.errors import StoreError  # noqa: F401 (re-exported)

log = logging.getLogger("maildaemon")

DB_NAME = "maildaemon.json"
HEALTH_NAME = "health.json"
SYNC_NAME = "last-sync"
HEALTH_SIZE = 4096          # health.json is always this long (padded), so it can be rewritten in place
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FIX = "restore the state folder from a backup, or move the file away to start from an empty state " \
       "(then `maildaemon sync` or `import` of the list archive reads the stream again)"


def _broken(path, problem: str) -> StoreError:
    return StoreError(f"{path} {problem}; {_FIX}")


def _load_ticket(doc: dict, path) -> Ticket:
    try:
        return Ticket.from_doc(doc)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise _broken(path, f"is not a maildaemon state: ticket {doc.get('key')!r} does not load "
                            f"({type(e).__name__}: {e})") from None


def _json_type(v) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


# tables whose documents other code indexes by a field: that field must be a string
_KEYED = {"tickets": "key", "messages": "id", "sources": "id", "outbox": "id"}


def shape_problem(data) -> str | None:
    """Why `data` is not a maildaemon state (a JSON object of tables of documents), or None."""
    if not isinstance(data, dict):
        return f"holds {_json_type(data)}, not an object of tables"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"has table {name!r} as {_json_type(table)}, not an object of documents"
        for doc_id, doc in table.items():
            if not doc_id.isdigit():
                return f"has document id {doc_id!r} in table {name!r}, not a number"
            if not isinstance(doc, dict):
                return f"has document {name}/{doc_id} as {_json_type(doc)}, not an object"
            field = _KEYED.get(name)
            if field and not isinstance(doc.get(field), str):
                return f"has document {name}/{doc_id} without a text {field!r}"
            if name == "tickets":
                problem = _ticket_shape(doc)
                if problem:
                    return f"holds tickets that cannot be read: ticket {doc.get('key')!r} does not load ({problem})"
            if name == "sources" and not isinstance(doc.get("position"), (dict, type(None))):
                return f"has document sources/{doc_id} whose position is not an object"
            if name == "meta":
                if not isinstance(doc.get("counters", {}), dict) or \
                        not all(isinstance(n, int) for n in doc.get("counters", {}).values()):
                    return f"has document meta/{doc_id} whose counters are not numbers"
                err = doc.get("last_error")
                if err is not None and not (isinstance(err, dict) and isinstance(err.get("at"), str)
                                            and isinstance(err.get("message"), str)):
                    return f"has document meta/{doc_id} whose last_error is not {{at, message}}"
                if not isinstance(doc.get("last_sync"), (str, type(None))):
                    return f"has document meta/{doc_id} whose last_sync is not a time"
                retired = doc.get("retired", {})
                if not isinstance(retired, dict) or not all(
                        isinstance(v, dict) and all(isinstance(n, int) for n in v.values()) for v in retired.values()):
                    return f"has document meta/{doc_id} whose retired are not counts"
                for field in ("logs", "archived"):
                    value = doc.get(field, {})
                    if not isinstance(value, dict) or not all(
                            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value.values()):
                        return f"has document meta/{doc_id} whose {field} are not counts"
                if not isinstance(doc.get("message_count", 0), int):
                    return f"has document meta/{doc_id} whose message_count is not a number"
    return None


_HISTORY_TEXT = ("message_id", "at")


def _ticket_shape(doc: dict) -> str | None:
    """Why a ticket document cannot load, checked without building it (tickets are decoded only
    when a command needs them: `status` at 50,000 messages decoded 12,644 for a count)."""
    for name in ("system", "id"):
        if not isinstance(doc.get(name), str):
            return f"no text {name!r}"
    history = doc.get("history", [])
    if not isinstance(history, list):
        return "its history is not a list"
    for entry in history:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in _HISTORY_TEXT) \
                or not isinstance(entry.get("kinds", []), list):
            return "a history entry is not {message_id, at, kinds}"
    return None


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically and never creates it on read."""

    def __init__(self, path: str, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only

    def read(self):
        """The state, or None when there is no state file yet. Never follows a symbolic link."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise (link_refused(self.path) if e.errno == errno.ELOOP else explain(e, self.path, "read")) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise _broken(self.path, "is not a regular file")
            try:
                data = f.read()
            except OSError as e:
                raise explain(e, self.path, "read") from None
        if not data.strip():
            raise _broken(self.path, "is empty (the state was lost, e.g. on a full disk or a crash)")
        try:
            doc = orjson.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            where = f" at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
            raise _broken(self.path, f"is not valid JSON{where}") from None
        except RecursionError:
            raise _broken(self.path, "is not valid JSON (nested too deeply)") from None
        problem = shape_problem(doc)
        if problem:
            raise _broken(self.path, f"is not a maildaemon state: it {problem}")
        return doc

    def write(self, data) -> None:
        if self.read_only:
            raise StoreError("internal: write through a read-only view")
        try:
            payload = orjson.dumps(data)
        except TypeError as e:                   # not JSON data: a bug, named before anything is lost
            raise StoreError(f"internal: the state cannot be written as JSON ({e})") from None
        write_atomic(self.path, payload, follow_dir=True)    # the state folder itself may be a link


class _Batched(CachingMiddleware):
    """Reads once, keeps every write in memory until `flush()` (never on its own)."""
    WRITE_CACHE_SIZE = sys.maxsize


# --- the layout: hot state in the TinyDB file, history in append-only logs (issue 14) ------------
#
# maildaemon.json   tickets that are open or changed in the last ARCHIVE_AFTER of the stream (each
#                   with only the history entries that set its status), the outbox, the rotation,
#                   source positions, counters, and the committed length of each log
# history/changes.jsonl   every history entry of every ticket, one line each      (`ticket KEY`)
# history/messages.jsonl  every Message-ID seen and what became of it               (idempotency)
# history/tickets.jsonl   finished tickets quiet for ARCHIVE_AFTER; the last line of a key wins,
#                         and a ticket in maildaemon.json wins over them all       (`tickets --all`)
# history/outbox.jsonl    outbox records retired by `retire_records` (mails sent long ago)
LOG_DIR = "history"
LOGS = ("changes", "messages", "tickets", "outbox")
LAYOUT = 2
# the handoff looks back eight duty weeks and one more for "a week earlier": a ticket finished and
# quiet for a quarter can no longer change any count it shows
ARCHIVE_AFTER = timedelta(weeks=13)


_KEEP = frozenset(("key", "system", "id"))
_STATUS_FIELDS = ("message_id", "at", "kinds", "status")


def _slim(doc: dict, history) -> dict:
    """A ticket document as stored: fields at their default (None, empty, false) left out, and
    only what the handoff's counts read of the status-setting entries (the rest is in the log).
    Half the bytes of the full document: every command reads every open ticket's."""
    out = {k: v for k, v in doc.items() if k in _KEEP or v not in (None, "", [], False)}
    out["history"] = [{k: getattr(h, k) if k != "kinds" else list(h.kinds) for k in _STATUS_FIELDS}
                      for h in history]
    return out


def _entry_doc(h: HistoryEntry) -> dict:
    return dict(h.__dict__, kinds=list(h.kinds))


def _entry(doc: dict) -> HistoryEntry | None:
    fields = {k: v for k, v in doc.items() if k in _ENTRY_FIELDS}
    try:
        return HistoryEntry(**dict(fields, kinds=tuple(fields.get("kinds") or ())))
    except TypeError:
        return None


_ENTRY_FIELDS = frozenset(f.name for f in dataclasses.fields(HistoryEntry))


class _Index:
    """A log read into a dict, then only its new tail on each later call: the Store keeps one per
    log across views and transactions, so the daemon reads 50,000 Message-IDs once, not per batch."""

    def __init__(self, log: LogFile, field: str, value):
        self.log, self.field, self.value = log, field, value
        self.length, self.identity, self.data = 0, None, {}

    def upto(self, length: int) -> dict:
        identity = _identity(self.log.path)
        if length < self.length or identity[0] != (self.identity or (None,))[0]:
            self.length, self.data = 0, {}          # another file (restored from a backup): read anew
        self.identity = identity
        for offset, doc in self.log.lines(self.length, length):
            k = doc.get(self.field)
            if isinstance(k, str):
                self.data[k] = self.value(offset, doc)
        self.length = length
        return self.data


def _identity(path: Path):
    try:
        st = os.lstat(path)
        return (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        return (None, 0, 0)


class View:
    """Read access to one consistent snapshot of the state."""

    def __init__(self, db: TinyDB, path: Path | None = None, store: "Store | None" = None):
        self._db = db
        self._path = path
        self._store = store
        self._dir = Path(path).parent if path else Path(".")
        self._decoded: list[Ticket] | None = None
        self._current: list[Ticket] | None = None
        self._open: list[Ticket] | None = None
        self._counts: dict[str, int] | None = None
        docs = db.table("meta").all()
        self._meta_doc = docs[0] if docs else {}
        self._lengths: dict[str, int] = dict(self._meta_doc.get("logs") or {})
        self._by_id: dict[str, dict | None] = {}

    def _ticket(self, doc) -> Ticket:
        return _load_ticket(doc, self._path or DB_NAME)

    def _log(self, name: str) -> LogFile:
        return LogFile(self._dir / LOG_DIR / f"{name}.jsonl")

    def _length(self, name: str) -> int:
        return int(self._lengths.get(name, 0))

    def current(self) -> list[Ticket]:
        """Open tickets and those that changed in the last quarter, in opening order: all that the
        policies and the handoff read. Decoded once per view (Tickets are immutable)."""
        if self._current is None:
            self._current = sorted((self._ticket(d) for d in self._db.table("tickets").all()), key=_ticket_sort)
        return list(self._current)

    def tickets(self, include_done: bool = True) -> list[Ticket]:
        """Every ticket ever seen, in opening order (the finished ones of past quarters read from
        the history log); without `include_done` only the open ones (a few hundred)."""
        if not include_done:
            if self._open is None:
                self._open = sorted((self._ticket(d) for d in self._db.table("tickets").all()
                                     if d.get("status", "open") not in DONE_STATUSES), key=_ticket_sort)
            return list(self._open)
        if self._decoded is None:
            hot = self.current()
            keys = {t.key for t in hot}
            cold = [self._ticket(d) for k, d in self._archived().items() if k not in keys]
            self._decoded = sorted(hot + cold, key=_ticket_sort)
        return list(self._decoded)

    def _archived(self) -> dict[str, dict]:
        docs: dict[str, dict] = {}
        for _, doc in self._log("tickets").lines(0, self._length("tickets")):
            if isinstance(doc.get("key"), str) and _ticket_shape(doc) is None:
                docs[doc["key"]] = doc
        return docs

    def status_counts(self) -> dict[str, int]:
        """How many tickets are in each status, from the documents and the archived counts (nothing
        decoded); once per view (the daemon's status line asks every minute)."""
        if self._counts is None:
            counts: dict[str, int] = {}
            for status, n in (self._meta_doc.get("archived") or {}).items():
                counts[status] = counts.get(status, 0) + n
            for d in self._db.table("tickets").all():
                status = d.get("status", "open")
                counts[status] = counts.get(status, 0) + 1
            self._counts = {k: v for k, v in counts.items() if v}
        return dict(self._counts)

    def ticket(self, key: str) -> Ticket | None:
        docs = self._db.table("tickets").search(Query().key == key)
        if docs:
            return self._ticket(docs[0])
        found = self._archived_doc(key)
        return self._ticket(found) if found else None

    def _archived_doc(self, key: str) -> dict | None:
        """The last line of `key` in the finished tickets' log (a reader scans it for the key's
        bytes: one command, one ticket; a writer uses the store's index, see Transaction)."""
        found = None
        for _, doc in self._log("tickets").lines(0, self._length("tickets"), needle("key", key)):
            if doc.get("key") == key and _ticket_shape(doc) is None:
                found = doc
        return found

    def history(self, key: str) -> list[HistoryEntry]:
        """The full history of one ticket, oldest first: the log's entries and any kept inline."""
        entries: dict[str, HistoryEntry] = {}
        for _, doc in self._log("changes").lines(0, self._length("changes"), needle("key", key)):
            if doc.get("key") == key and (h := _entry(doc)) is not None:
                entries[h.message_id] = h
        t = self.ticket(key)
        for h in t.history if t else ():
            entries.setdefault(h.message_id, h)
        return sorted(entries.values(), key=lambda h: h.at)

    def position(self, source_id: str) -> dict | None:
        docs = self._db.table("sources").search(Query().id == source_id)
        return dict(docs[0]["position"]) if docs and docs[0].get("position") is not None else None

    def positions(self) -> dict[str, dict]:
        return {d["id"]: dict(d.get("position") or {}) for d in self._db.table("sources").all()}

    def meta(self) -> dict:
        docs = self._db.table("meta").all()
        return _copy(docs[0]) if docs else {}

    def message_count(self) -> int:
        """Distinct Message-IDs seen (a state of the first layout still holds them in a table)."""
        return int(self._meta_doc.get("message_count", 0)) + len(self._db.table("messages"))

    def message(self, message_id: str) -> dict | None:
        docs = self._db.table("messages").search(Query().id == message_id)
        if docs:
            return dict(docs[0])
        found = None
        for _, doc in self._log("messages").lines(0, self._length("messages"), needle("id", message_id)):
            if doc.get("id") == message_id:
                found = doc
        return found

    def table(self, name: str) -> list[dict]:
        """Plain copies of a table's documents, for stages with a table of their own."""
        return [_copy(d) for d in self._db.table(name).all()]

    def records(self, name: str) -> dict[str, dict]:
        """A table of documents keyed by their "id" field (the outbox, say), as plain copies."""
        return {d["id"]: _copy(d) for d in self._db.table(name).all()}

    def record(self, name: str, record_id: str) -> dict | None:
        """One document of `records(name)`, without copying the others (once per view, a dict)."""
        if self._by_id.get(name) is None:
            self._by_id[name] = {d["id"]: d for d in self._db.table(name).all()}
        doc = self._by_id[name].get(record_id)
        return _copy(doc) if doc is not None else None

    def find_ticket(self, key: str) -> Ticket | None:
        """A ticket by its key, or by its bare id when exactly one system has a ticket of that id
        (`ticket 45` for github:org/repo#45 or goc:45)."""
        t = self.ticket(key)
        if t is not None or ":" in key:
            return t
        found = [x for x in self.tickets() if x.id == key or x.id.rsplit("#", 1)[-1] == key]
        return found[0] if len(found) == 1 else None

    def retired(self, name: str) -> dict[str, int]:
        """How many documents of table `name` were retired to the history log, by their "state"."""
        return dict((self._meta_doc.get("retired") or {}).get(name) or {})


class Transaction(View):
    """A writer's batch: reads see its own writes; nothing reaches disk before `commit()`."""

    def __init__(self, db: TinyDB, path: Path | None = None, store: "Store | None" = None):
        super().__init__(db, path, store)
        self._tickets: dict[str, Ticket] = {}
        self._ids = {d["key"]: d.doc_id for d in db.table("tickets").all()}
        self._loaded: dict[str, set[str]] = {}        # history entries already logged, per ticket
        self._revived: dict[str, str] = {}            # archived tickets changed again: their old status
        self._new_messages: dict[str, dict] = {}
        self._positions: dict[str, dict | None] = {}
        self._meta = self.meta()
        self._tables: dict[str, list[dict]] = {}
        self._records: dict[str, dict[str, dict]] = {}
        self._record_ids: dict[str, set[str]] = {}
        self._drop_messages_table = False
        self._retiring: dict[str, set[str]] = {}
        self._deleting: dict[str, set[str]] = {}

    # --- the upgrade from the first layout (everything in maildaemon.json) ---------------------

    def needs_upgrade(self) -> bool:
        return self._meta.get("layout") != LAYOUT and bool(
            len(self._db.table("tickets")) or len(self._db.table("messages")))

    def upgrade(self) -> tuple[int, int]:
        """Move every history entry and Message-ID to the logs, archive what is finished, in one
        commit. Returns (tickets, messages) moved."""
        for doc in self._db.table("tickets").all():
            t = self._ticket(doc)
            self._tickets[t.key] = t                   # nothing logged yet: every entry goes out
        docs = [dict(d) for d in self._db.table("messages").all()]
        for d in docs:
            self._new_messages[d["id"]] = d
        self._meta["message_count"] = len(self._new_messages)
        self._drop_messages_table = True
        n = len(self._tickets)
        self.commit()
        return n, len(docs)

    # --- reads that see this batch ------------------------------------------------------------

    def records(self, name: str) -> dict[str, dict]:
        out = super().records(name)
        out.update(_copy(self._records.get(name, {})))
        for gone in self._deleting.get(name, ()):
            out.pop(gone, None)
        return out

    def record(self, name: str, record_id: str) -> dict | None:
        pending = self._records.get(name, {})
        if record_id in self._deleting.get(name, ()):
            return None
        return _copy(pending[record_id]) if record_id in pending else super().record(name, record_id)

    def put_record(self, name: str, doc: dict) -> None:
        """Insert or replace the document with this "id" in table `name` (at the next commit)."""
        self._records.setdefault(name, {})[doc["id"]] = _copy(doc)
        self._deleting.get(name, set()).discard(doc["id"])

    def delete_record(self, name: str, record_id: str) -> None:
        """Remove the document with this "id" from table `name` (at the next commit)."""
        self._records.get(name, {}).pop(record_id, None)
        self._deleting.setdefault(name, set()).add(record_id)

    def retire_records(self, name: str, record_ids: list[str]) -> None:
        """Move these documents of table `name` to `history/<name>.jsonl` at the next commit (a
        table that grows with every mail sent would make every command read years of it)."""
        self._retiring.setdefault(name, set()).update(record_ids)

    def ticket(self, key: str) -> Ticket | None:
        if key in self._tickets:
            return self._tickets[key]
        doc_id = self._ids.get(key)
        if doc_id:
            doc = self._db.table("tickets").get(doc_id=doc_id)
        else:
            doc = self._archived_doc(key)
            if doc is not None:
                self._revived[key] = doc.get("status", "open")
        if doc is None:
            return None
        t = self._ticket(doc)
        self._loaded[key] = {h.message_id for h in t.history}
        return t

    def _archived_doc(self, key: str) -> dict | None:
        length = self._length("tickets")
        if not length or self._store is None:
            return super()._archived_doc(key) if length else None
        offset = self._store.index("tickets", length).get(key)
        found = self._log("tickets").line_at(offset, length) if offset is not None else None
        return found if found is not None and _ticket_shape(found) is None else None

    def put_ticket(self, ticket: Ticket) -> None:
        self._tickets[ticket.key] = ticket
        self._decoded = self._current = self._open = self._counts = None

    def seen(self, message_id: str) -> str | None:
        """The recorded outcome of a message (applied, late, ignored, quarantined), or None."""
        if message_id in self._new_messages:
            return self._new_messages[message_id]["outcome"]
        if self._store is None:
            doc = self.message(message_id)
            return doc.get("outcome") if doc else None
        return self._store.index("messages", self._length("messages")).get(message_id)

    def record_message(self, message_id: str, outcome: str, **fields) -> None:
        if self.seen(message_id) is None:
            self._meta["message_count"] = self._meta.get("message_count", 0) + 1
        self._new_messages[message_id] = {"id": message_id, "outcome": outcome, **fields}

    def set_position(self, source_id: str, position: dict | None) -> None:
        self._positions[source_id] = position

    def bump(self, counter: str, n: int = 1) -> None:
        counters = self._meta.setdefault("counters", {})
        counters[counter] = counters.get(counter, 0) + n

    def set_meta(self, name: str, value) -> None:
        self._meta[name] = value

    def replace_table(self, name: str, docs: list[dict]) -> None:
        self._tables[name] = [dict(d) for d in docs]

    # --- the commit -----------------------------------------------------------------------------

    def commit(self) -> None:
        """Append to the logs (fsync), then replace the state file with their new lengths."""
        db = self._db
        tickets = db.table("tickets")
        archived = dict(self._meta.get("archived") or {})
        changes: list[dict] = []
        docs: dict[str, dict] = {}
        for key, t in self._tickets.items():
            logged = self._loaded.get(key, ())
            changes.extend(dict(_entry_doc(h), key=key) for h in t.history if h.message_id not in logged)
            docs[key] = _slim(t.to_doc(), compact(t.history))
            if key in self._revived:
                old = self._revived.pop(key)
                archived[old] = max(0, archived.get(old, 0) - 1)
        updates = {k: d for k, d in docs.items() if k in self._ids}
        if updates:   # one pass over the table for the whole batch, not one per ticket
            def replace(doc):
                new = updates[doc["key"]]
                doc.clear()
                doc.update(new)
            tickets.update(replace, doc_ids=[self._ids[k] for k in updates])
        inserts = [d for k, d in docs.items() if k not in self._ids]
        if inserts:
            for doc_id, doc in zip(tickets.insert_multiple(inserts), inserts):
                self._ids[doc["key"]] = doc_id
        retired = self._retire(tickets.all())
        for doc in retired:
            archived[doc.get("status", "open")] = archived.get(doc.get("status", "open"), 0) + 1
            del self._ids[doc["key"]]
        if retired:
            tickets.remove(doc_ids=[d.doc_id for d in retired])
        lengths = {name: self._length(name) for name in LOGS}
        pending = {"changes": changes, "messages": list(self._new_messages.values()),
                   "tickets": [dict(d) for d in retired], "outbox": []}
        counts = {k: dict(v) for k, v in (self._meta.get("retired") or {}).items()}
        for name, ids in self._retiring.items():
            for rid in ids & set(self._records.get(name, {})):
                del self._records[name][rid]            # put then retired in one batch: retired
            table = db.table(name)
            gone = [d for d in table.all() if d.get("id") in ids]
            if gone:
                table.remove(doc_ids=[d.doc_id for d in gone])
                self._record_ids.get(name, set()).difference_update(ids)
                pending[name] = pending.get(name, []) + [dict(d) for d in gone]
                for d in gone:
                    by_state = counts.setdefault(name, {})
                    by_state[str(d.get("state", ""))] = by_state.get(str(d.get("state", "")), 0) + 1
        if counts:
            self._meta["retired"] = counts
        for name, ids in self._deleting.items():
            table = db.table(name)
            gone = [d.doc_id for d in table.all() if d.get("id") in ids]
            if gone:
                table.remove(doc_ids=gone)
                self._record_ids.get(name, set()).difference_update(ids)
        if any(pending.values()):
            ensure_dir(self._dir / LOG_DIR)
            for name, lines in pending.items():
                lengths[name] = self._log(name).append(lengths[name], lines)
        self._meta.update(layout=LAYOUT, logs=lengths, archived={k: v for k, v in archived.items() if v})
        if self._drop_messages_table:
            db.drop_table("messages")
        sources = db.table("sources")
        for sid, pos in self._positions.items():
            sources.upsert({"id": sid, "position": pos}, Query().id == sid)
        meta = db.table("meta")
        meta.truncate()
        meta.insert(self._meta)
        for name, table_docs in self._tables.items():
            t = db.table(name)
            t.truncate()
            if table_docs:
                t.insert_multiple(table_docs)
        for name, records in self._records.items():
            t = db.table(name)
            if name not in self._record_ids:
                self._record_ids[name] = {d["id"] for d in t.all()}
            replaced = [i for i in records if i in self._record_ids[name]]
            if replaced:
                t.remove(Query().id.one_of(replaced))
            t.insert_multiple(list(records.values()))
            self._record_ids[name].update(records)
        db.storage.flush()
        self._lengths = dict(lengths)
        self._meta_doc = _copy(self._meta)
        self._decoded = self._current = self._open = self._counts = None
        self._by_id.clear()
        self._tickets.clear()
        self._loaded.clear()
        self._new_messages.clear()
        self._positions.clear()
        self._tables.clear()
        self._records.clear()
        self._drop_messages_table = False
        self._retiring.clear()
        self._deleting.clear()
        self._by_id.clear()

    @staticmethod
    def _retire(docs: list[dict]) -> list[dict]:
        """Finished tickets quiet for ARCHIVE_AFTER, by the stream's own clock (the newest change
        applied), so that the result depends on the mail, never on when the command ran."""
        newest = max((d.get("updated_at") or "" for d in docs), default="")
        if not newest:
            return []
        try:
            cutoff = _iso(parse_iso(newest) - ARCHIVE_AFTER)
        except ValueError:
            return []
        return [d for d in docs if d.get("status", "open") in DONE_STATUSES and (d.get("updated_at") or "") < cutoff]


class HolidayFile:
    """`STATE_DIR/holidays.json`: the public holiday years the holidays package computed, kept for
    the next process (see business.CalendarCache). Tied to the installed package (its path and
    mtime): an upgrade computes anew. Best effort: a file that cannot be read or written is no
    cache at all, never an error."""

    NAME = "holidays.json"

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / self.NAME
        self._data: dict | None = None

    def _package(self) -> list:
        import importlib.util
        try:
            origin = importlib.util.find_spec("holidays").origin
            return [origin, os.stat(origin).st_mtime_ns]
        except (AttributeError, ImportError, OSError, TypeError):
            return []

    def _load(self) -> dict:
        if self._data is None:
            data = {}
            try:
                data = orjson.loads(read_bytes(self.path, follow_dir=True, limit=4 << 20))
            except (OSError, ValueError):
                pass
            package = self._package()
            if not isinstance(data, dict) or data.get("package") != package or not isinstance(data.get("years"), dict):
                data = {"package": package, "years": {}}
            self._data = data
        return self._data

    def get(self, code: str, year: int) -> dict[int, str] | None:
        days = self._load()["years"].get(f"{code}:{year}")
        if not isinstance(days, list):
            return None
        try:
            return {int(o): str(n) for o, n in days}
        except (TypeError, ValueError):
            return None

    def put(self, code: str, year: int, days: dict[int, str]) -> None:
        data = self._load()
        data["years"][f"{code}:{year}"] = sorted([o, n] for o, n in days.items())
        try:
            if os.path.isdir(self.path.parent):
                write_atomic(self.path, orjson.dumps(data), follow_dir=True)
        except OSError:
            pass


class Store:
    """The state folder: `maildaemon.json`, `lock`, `health.json`, and the quarantine and outbox folders."""

    def __init__(self, state_dir: Path, quarantine_max_mb: int | None = None, quarantine_days: int | None = None):
        self.dir = Path(state_dir)
        self.path = self.dir / DB_NAME
        self.health_path = self.dir / HEALTH_NAME
        self.quarantine_max_mb = quarantine_max_mb
        self.quarantine_days = quarantine_days
        self._cached: tuple | None = None          # (file identity, View) of the last view()
        self._indexes: dict[str, _Index] = {}

    @classmethod
    def from_settings(cls, settings) -> "Store":
        """The store of `settings.state_dir`, with the quarantine's limits (SPEC 9, Limits)."""
        return cls(settings.state_dir, quarantine_max_mb=getattr(settings, "quarantine_max_mb", None),
                   quarantine_days=getattr(settings, "quarantine_days", None))

    def quarantine(self):
        """The quarantine of this state folder, bounded by this store's limits (pruned on `put`)."""
        from maildaemon.quarantine import DEFAULT_DAYS, DEFAULT_MAX_MB, Quarantine
        return Quarantine(self.dir, max_bytes=(self.quarantine_max_mb or DEFAULT_MAX_MB) * 1024 * 1024,
                          max_days=self.quarantine_days or DEFAULT_DAYS)

    # --- the folder ---------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the folder (0700) if missing, then `check()` it. Every writer comes through here."""
        if not os.path.isdir(self.dir):
            _make_dirs(self.dir)
        self.check()
        if not os.path.lexists(self.health_path):      # room to record an error when the disk is full
            try:
                write_atomic(self.health_path, _health_bytes(None), follow_dir=True)
            except OSError:
                pass

    def check(self) -> None:
        """Refuse a state folder other users may write (ConfigError: exit 2). A missing one is fine
        here (a reading command shows an empty state); `ensure()` creates it."""
        try:
            st = os.stat(self.dir)
        except FileNotFoundError:
            return
        except OSError as e:
            raise ConfigError("MAILDAEMON_STATE_DIR", f"cannot use {self.dir}: {e.strerror}",
                              "point it at a folder this user owns") from None
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError("MAILDAEMON_STATE_DIR", f"{self.dir} is not a folder",
                              "point it at a folder (it is created if missing)")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o022:
            who = " and ".join(w for w, bit in (("its group", 0o020), ("all users", 0o002)) if mode & bit)
            raise ConfigError("MAILDAEMON_STATE_DIR",
                              f"{self.dir} may be written by {who} (mode {mode:04o}), so anyone could plant "
                              f"files or links in it", f"run `chmod 700 {self.dir}`")
        me = os.geteuid()
        if me != 0 and st.st_uid not in (0, me):
            raise ConfigError("MAILDAEMON_STATE_DIR",
                              f"{self.dir} belongs to another user (uid {st.st_uid}), not to this one (uid {me})",
                              f"run maildaemon as that user, or `chown -R {me} {self.dir}`")

    def subdir(self, name: str) -> Path:
        """`STATE_DIR/name` as a folder, created 0700 if missing; a symbolic link or a file in its
        place is refused (`atomic.StateIOError`), never followed. For `quarantine` and `outbox`."""
        self.ensure()
        return ensure_dir(self.dir / name)

    # --- reading and writing ------------------------------------------------------------

    def identity(self):
        """(inode, size, mtime) of the state file, None without one: changes with every commit."""
        found = _identity(self.path)
        return found if found[0] is not None else None

    def view(self) -> View:
        """A consistent read-only snapshot, without the lock.

        The last one read is kept while the state file is the same file (inode, size, mtime): the
        daemon asks for a view several times a minute and the state rarely changes, so a tick or a
        poll with nothing new parses nothing (issue 14). A view is never changed by its users."""
        self.check()
        identity = self.identity()
        if identity is not None and self._cached is not None and self._cached[0] == identity:
            return self._cached[1]
        db = TinyDB(str(self.path), storage=_Batched(lambda p: AtomicJSONStorage(p, read_only=True)))
        db.storage.read()
        view = View(db, self.path, self)
        self._cached = (identity, view) if identity is not None else None
        return view

    @contextmanager
    def transaction(self, wait: float = 30.0) -> Iterator[Transaction]:
        """Lock, read fresh, yield; `commit()` inside as often as needed (each one atomic)."""
        with self.lock(wait):
            db = TinyDB(str(self.path), storage=_Batched(AtomicJSONStorage))
            db.storage.read()
            txn = Transaction(db, self.path, self)
            if txn.needs_upgrade():
                tickets, messages = txn.upgrade()
                log.info("state upgraded in place: %d tickets' history and %d Message-IDs moved to %s/",
                         tickets, messages, self.dir / LOG_DIR)
            yield txn

    def index(self, name: str, length: int) -> dict:
        """The committed part of a log as a dict, kept between calls and read on only by its new
        tail: "messages" maps Message-ID to outcome, "tickets" maps key to the offset of its line."""
        if name not in self._indexes:
            log_file = LogFile(self.dir / LOG_DIR / f"{name}.jsonl")
            self._indexes[name] = (_Index(log_file, "id", lambda _, d: d.get("outcome")) if name == "messages"
                                   else _Index(log_file, "key", lambda offset, _: offset))
        return self._indexes[name].upto(length)

    @contextmanager
    def lock(self, wait: float = 30.0):
        self.ensure()
        path = self.dir / "lock"
        fd, st = open_own(path, os.O_RDWR, fix="remove it (maildaemon creates it again)")
        try:
            if stat.S_IMODE(st.st_mode) != FILE_MODE:
                try:
                    os.fchmod(fd, FILE_MODE)
                except OSError:
                    pass
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        holder = "".join(c for c in holder if c.isdigit()) or "?"
                        raise StoreError(f"state folder {self.dir} is locked by another maildaemon "
                                         f"(pid {holder}); wait for it or stop it") from None
                    time.sleep(0.05)
            try:                      # who holds it, for the message above; on a full disk, no matter
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError:
                pass
            self._remove_stale_temporaries()
            yield
        finally:
            os.close(fd)     # closing releases the flock

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a crash mid-write. Only under the lock: a concurrent writer's
        temporary file is never taken for a stale one."""
        for stale in self.dir.glob(".tmp-*"):      # never the live file
            try:
                stale.unlink()
            except OSError:
                pass

    # --- the last sync, kept apart so a pass with nothing new rewrites nothing ---------------

    def record_sync(self, stamp: str) -> None:
        """A pass that found nothing new succeeded at `stamp`: a tiny file, not the state."""
        write_atomic(self.dir / SYNC_NAME, stamp.encode("ascii"), follow_dir=True)
        self.clear_error()

    def last_sync(self, meta: dict) -> str | None:
        """The newest successful sync: the state's, or the one `record_sync` kept."""
        kept = None
        try:
            kept = read_bytes(self.dir / SYNC_NAME, follow_dir=True, limit=64).decode("ascii").strip() or None
        except (OSError, UnicodeDecodeError):
            pass
        times = [t for t in (meta.get("last_sync"), kept) if _when(t) is not None]
        return max(times, key=_when) if times else None

    # --- the last error, kept where a full disk cannot hide it ---------------------------

    def record_error(self, message: str, now: datetime) -> None:
        """Best effort: keep `message` as the last error `status` shows, even when the state file
        cannot be written (disk full). Never raises."""
        payload = _health_bytes({"at": _iso(now), "message": str(message)[:HEALTH_SIZE // 2]})
        try:
            write_atomic(self.health_path, payload, follow_dir=True)
            return
        except OSError:
            pass
        try:                          # no room for a new file: overwrite the one made in advance
            fd = os.open(self.health_path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size >= len(payload):
                os.pwrite(fd, payload.ljust(st.st_size), 0)
                os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def recorded_error(self) -> dict | None:
        """The error `record_error` kept ({"at", "message"}), or None. Never raises."""
        try:
            fd = os.open(self.health_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC)
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    return None
                err = json.loads(f.read(HEALTH_SIZE * 4)).get("last_error")
        except (OSError, ValueError, AttributeError):
            return None
        if isinstance(err, dict) and isinstance(err.get("at"), str) and isinstance(err.get("message"), str):
            return {"at": err["at"], "message": err["message"]}
        return None

    def last_error(self, meta: dict) -> dict | None:
        """What `status` shows as the last error: the newer of the state's `last_error` and the one
        `record_error` kept (a success clears that one: `clear_error`)."""
        stored = meta.get("last_error")
        recorded = self.recorded_error()
        when = _when(recorded["at"]) if recorded else None
        if when is None:
            return stored
        last_import = meta.get("last_import")
        for success in (self.last_sync(meta), last_import.get("at") if isinstance(last_import, dict) else None):
            done = _when(success)
            if done is not None and done > when:            # a success in a later second
                return stored
        stored_when = _when(stored.get("at")) if isinstance(stored, dict) else None
        return stored if stored_when is not None and stored_when >= when else recorded

    def clear_error(self) -> None:
        """A pass succeeded: the error `record_error` kept is over. Writes only if there is one."""
        if self.recorded_error() is not None:
            try:
                write_atomic(self.health_path, _health_bytes(None), follow_dir=True)
            except OSError:
                pass


def _when(value) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def _health_bytes(error: dict | None) -> bytes:
    data = json.dumps({"last_error": error}, ensure_ascii=False).encode()
    while len(data) > HEALTH_SIZE:            # a very long message (multi-byte): cut it to fit
        error = dict(error, message=error["message"][: len(error["message"]) * 3 // 4])
        data = json.dumps({"last_error": error}, ensure_ascii=False).encode()
    return data.ljust(HEALTH_SIZE)


def _make_dirs(path: Path) -> None:
    """`mkdir -p` whose new folders are 0700 whatever the umask (existing ones are left alone)."""
    missing = []
    p = Path(path)
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise explain(e, d, "create the folder") from None
            raise ConfigError("MAILDAEMON_STATE_DIR", f"cannot create state folder {d}: {e.strerror}",
                              "check MAILDAEMON_STATE_DIR and the permissions of its parent folder") from None
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC)
            try:
                os.fchmod(fd, DIR_MODE)
            finally:
                os.close(fd)
        except OSError:
            pass


def _copy(doc):
    """A deep copy of plain JSON data (orjson's round trip: several times faster than deepcopy)."""
    return orjson.loads(orjson.dumps(doc))


def _ticket_sort(t: Ticket):
    return (t.opened_at or "", t.key)
