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
Callers outside this module see plain `Ticket`s and dicts, never TinyDB.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from maildaemon.atomic import write_atomic
from maildaemon.model import DONE_STATUSES, Ticket

DB_NAME = "maildaemon.json"


class StoreError(Exception):
    """The state cannot be read or written; the message says what to do."""


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically and never creates it on read."""

    def __init__(self, path: str, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only

    def read(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except json.JSONDecodeError as e:
            raise StoreError(f"{self.path} is not valid JSON ({e}); restore it from a backup "
                             "or move it away to start from an empty state") from None

    def write(self, data) -> None:
        if self.read_only:
            raise StoreError("internal: write through a read-only view")
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        write_atomic(self.path, payload)


class _Batched(CachingMiddleware):
    """Reads once, keeps every write in memory until `flush()` (never on its own)."""
    WRITE_CACHE_SIZE = sys.maxsize


class View:
    """Read access to one consistent snapshot of the state."""

    def __init__(self, db: TinyDB):
        self._db = db

    def tickets(self, include_done: bool = True) -> list[Ticket]:
        out = [Ticket.from_doc(d) for d in self._db.table("tickets").all()]
        if not include_done:
            out = [t for t in out if t.status not in DONE_STATUSES]
        return sorted(out, key=_ticket_sort)

    def ticket(self, key: str) -> Ticket | None:
        docs = self._db.table("tickets").search(Query().key == key)
        return Ticket.from_doc(docs[0]) if docs else None

    def position(self, source_id: str) -> dict | None:
        docs = self._db.table("sources").search(Query().id == source_id)
        return dict(docs[0]["position"]) if docs and docs[0].get("position") is not None else None

    def positions(self) -> dict[str, dict]:
        return {d["id"]: dict(d.get("position") or {}) for d in self._db.table("sources").all()}

    def meta(self) -> dict:
        docs = self._db.table("meta").all()
        return json.loads(json.dumps(docs[0])) if docs else {}

    def message_count(self) -> int:
        return len(self._db.table("messages"))

    def message(self, message_id: str) -> dict | None:
        docs = self._db.table("messages").search(Query().id == message_id)
        return dict(docs[0]) if docs else None

    def table(self, name: str) -> list[dict]:
        """Plain copies of a table's documents, for stages with a table of their own."""
        return [json.loads(json.dumps(d)) for d in self._db.table(name).all()]

    def records(self, name: str) -> dict[str, dict]:
        """A table of documents keyed by their "id" field (the outbox, say), as plain copies."""
        return {d["id"]: json.loads(json.dumps(d)) for d in self._db.table(name).all()}


class Transaction(View):
    """A writer's batch: reads see its own writes; nothing reaches disk before `commit()`."""

    def __init__(self, db: TinyDB):
        super().__init__(db)
        self._tickets: dict[str, Ticket] = {}
        self._ids = {d["key"]: d.doc_id for d in db.table("tickets").all()}
        self._seen = {d["id"]: d.get("outcome") for d in db.table("messages").all()}
        self._on_disk = set(self._seen)
        self._new_messages: dict[str, dict] = {}
        self._positions: dict[str, dict | None] = {}
        self._meta = self.meta()
        self._tables: dict[str, list[dict]] = {}
        self._records: dict[str, dict[str, dict]] = {}
        self._record_ids: dict[str, set[str]] = {}

    def records(self, name: str) -> dict[str, dict]:
        out = super().records(name)
        out.update(json.loads(json.dumps(self._records.get(name, {}))))
        return out

    def put_record(self, name: str, doc: dict) -> None:
        """Insert or replace the document with this "id" in table `name` (at the next commit)."""
        self._records.setdefault(name, {})[doc["id"]] = json.loads(json.dumps(doc))

    def ticket(self, key: str) -> Ticket | None:
        if key in self._tickets:
            return self._tickets[key]
        doc_id = self._ids.get(key)
        return Ticket.from_doc(self._db.table("tickets").get(doc_id=doc_id)) if doc_id else None

    def put_ticket(self, ticket: Ticket) -> None:
        self._tickets[ticket.key] = ticket

    def seen(self, message_id: str) -> str | None:
        """The recorded outcome of a message (applied, late, ignored, quarantined), or None."""
        return self._seen.get(message_id)

    def record_message(self, message_id: str, outcome: str, **fields) -> None:
        self._seen[message_id] = outcome
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

    def commit(self) -> None:
        db = self._db
        tickets = db.table("tickets")
        updates = {k: t.to_doc() for k, t in self._tickets.items() if k in self._ids}
        if updates:   # one pass over the table for the whole batch, not one per ticket
            def replace(doc):
                new = updates[doc["key"]]
                doc.clear()
                doc.update(new)
            tickets.update(replace, doc_ids=[self._ids[k] for k in updates])
        inserts = [t.to_doc() for k, t in self._tickets.items() if k not in self._ids]
        if inserts:
            for doc_id in tickets.insert_multiple(inserts):
                self._ids[tickets.get(doc_id=doc_id)["key"]] = doc_id
        messages = db.table("messages")
        if self._new_messages:
            existing = [mid for mid in self._new_messages if mid in self._on_disk]
            if existing:
                messages.remove(Query().id.one_of(existing))
            messages.insert_multiple(list(self._new_messages.values()))
            self._on_disk.update(self._new_messages)
        sources = db.table("sources")
        for sid, pos in self._positions.items():
            sources.upsert({"id": sid, "position": pos}, Query().id == sid)
        meta = db.table("meta")
        meta.truncate()
        meta.insert(self._meta)
        for name, docs in self._tables.items():
            t = db.table(name)
            t.truncate()
            if docs:
                t.insert_multiple(docs)
        for name, docs in self._records.items():
            t = db.table(name)
            if name not in self._record_ids:
                self._record_ids[name] = {d["id"] for d in t.all()}
            replaced = [i for i in docs if i in self._record_ids[name]]
            if replaced:
                t.remove(Query().id.one_of(replaced))
            t.insert_multiple(list(docs.values()))
            self._record_ids[name].update(docs)
        db.storage.flush()
        self._tickets.clear()
        self._new_messages.clear()
        self._positions.clear()
        self._tables.clear()
        self._records.clear()


class Store:
    """The state folder: `maildaemon.json`, `lock`, and the quarantine and outbox folders."""

    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir)
        self.path = self.dir / DB_NAME

    def ensure(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create state folder {self.dir}: {e.strerror}; "
                             "check MAILDAEMON_STATE_DIR and its permissions") from None
        for stale in self.dir.glob(".tmp-*"):      # left by a crash mid-write; never the live file
            try:
                stale.unlink()
            except OSError:
                pass

    def view(self) -> View:
        """A consistent read-only snapshot, without the lock."""
        db = TinyDB(str(self.path), storage=_Batched(lambda p: AtomicJSONStorage(p, read_only=True)))
        db.storage.read()
        return View(db)

    @contextmanager
    def transaction(self, wait: float = 30.0) -> Iterator[Transaction]:
        """Lock, read fresh, yield; `commit()` inside as often as needed (each one atomic)."""
        self.ensure()
        with self.lock(wait):
            db = TinyDB(str(self.path), storage=_Batched(AtomicJSONStorage))
            db.storage.read()
            yield Transaction(db)

    @contextmanager
    def lock(self, wait: float = 30.0):
        self.ensure()
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
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
                        raise StoreError(f"state folder {self.dir} is locked by another maildaemon "
                                         f"(pid {holder}); wait for it or stop it") from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)     # closing releases the flock


def _ticket_sort(t: Ticket):
    return (t.opened_at or "", t.key)
