"""Reading the state: one consistent snapshot of the TinyDB file and the committed part of the logs."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tinydb import Query, TinyDB

from maildaemon.logfile import LogFile, needle
from maildaemon.model import DONE_STATUSES, HistoryEntry, Ticket
from maildaemon.store.layout import entry, log_file, ticket_sort
from maildaemon.store.records import RecordsView
from maildaemon.store.storage import DB_NAME, copy, load_ticket, ticket_shape


class Indexes(Protocol):
    """The store folder's index cache (folder.Store.index), as a view uses it: Message-ID or
    archived ticket -> offset, read once per process and then only the logs' new tail."""

    def index(self, name: str, length: int) -> dict: ...


class View(RecordsView):
    """Read access to one consistent snapshot of the state."""

    def __init__(self, db: TinyDB, path: Path | None = None, store: "Indexes | None" = None):
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

    def _ticket(self, doc, history: bool = True) -> Ticket:
        return load_ticket(doc, self._path or DB_NAME, history)

    def _log(self, name: str) -> LogFile:
        return log_file(self._dir, name)

    def _length(self, name: str) -> int:
        return int(self._lengths.get(name, 0))

    def current(self) -> list[Ticket]:
        """Open tickets and those that changed in the last quarter, in opening order: all that the
        policies and the handoff read. Decoded once per view (Tickets are immutable)."""
        if self._current is None:
            self._current = sorted((self._ticket(d) for d in self._db.table("tickets").all()), key=ticket_sort)
        return list(self._current)

    def tickets(self, history: bool = True) -> list[Ticket]:
        """Every ticket ever seen, in opening order (the finished ones of past quarters read from
        the history log). `history=False`: those finished ones without their status history, for a
        listing (`tickets --all` at 50,000 messages: 0.82 -> 0.5 s)."""
        if not history and self._decoded is None:
            hot = self.current()
            keys = {t.key for t in hot}
            cold = [self._ticket(d, history=False) for k, d in self._archived().items() if k not in keys]
            return sorted(hot + cold, key=ticket_sort)
        if self._decoded is None:
            hot = self.current()
            keys = {t.key for t in hot}
            cold = [self._ticket(d) for k, d in self._archived().items() if k not in keys]
            self._decoded = sorted(hot + cold, key=ticket_sort)
        return list(self._decoded)

    def open_tickets(self) -> list[Ticket]:
        """The tickets not resolved or closed (a few hundred), in opening order."""
        if self._open is None:
            self._open = sorted((self._ticket(d) for d in self._db.table("tickets").all()
                                 if d.get("status", "open") not in DONE_STATUSES), key=ticket_sort)
        return list(self._open)

    def _archived(self) -> dict[str, dict]:
        docs: dict[str, dict] = {}
        for _, doc in self._log("tickets").lines(0, self._length("tickets")):
            if isinstance(doc.get("key"), str) and ticket_shape(doc) is None:
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
            if doc.get("key") == key and ticket_shape(doc) is None:
                found = doc
        return found

    def history(self, key: str) -> list[HistoryEntry]:
        """The full history of one ticket, oldest first: the log's entries and any kept inline."""
        entries: dict[str, HistoryEntry] = {}
        for _, doc in self._log("changes").lines(0, self._length("changes"), needle("key", key)):
            if doc.get("key") == key and (h := entry(doc)) is not None:
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
        """The meta document as stored (the typed part of it: `health()`)."""
        return copy(self._meta_doc)

    def _meta_now(self) -> dict:
        return self._meta_doc

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

    # --- the tables of records (records.py gives them types) --------------------------------------

    def _docs(self, name: str) -> list[dict]:
        """The documents of table `name`, as read (not to be changed)."""
        return self._db.table(name).all()

    def _doc(self, name: str, record_id: str) -> dict | None:
        """The document with this "id" in table `name` (the table indexed once per view)."""
        if self._by_id.get(name) is None:
            self._by_id[name] = {d["id"]: d for d in self._db.table(name).all()}
        return self._by_id[name].get(record_id)

    def find_ticket(self, key: str) -> Ticket | None:
        """A ticket by its key, or by its bare id when exactly one system has a ticket of that id
        (`ticket 45` for github:org/repo#45 or goc:45)."""
        t = self.ticket(key)
        if t is not None or ":" in key:
            return t
        found = [x for x in self.tickets() if x.id == key or x.id.rsplit("#", 1)[-1] == key]
        return found[0] if len(found) == 1 else None

    def _retired(self, name: str) -> dict[str, int]:
        """How many documents of table `name` were retired to the history log, by their "state"."""
        return dict((self._meta_doc.get("retired") or {}).get(name) or {})
