"""Writing the state: a writer's batch, read once, changed in memory, committed atomically.

TinyDB costs O(whole file) per write. A writer works in a `Transaction`: the file is read once,
every change of a batch goes to memory, and `commit` flushes once — ticket changes, the message
index and the source position together, so "done" is never recorded before the effect is. A commit
appends to the logs (fsync) first, then replaces the state file with their new lengths.
"""
from __future__ import annotations

from pathlib import Path

from tinydb import Query, TinyDB

from maildaemon.atomic import ensure_dir
from maildaemon.model import Ticket, compact
from maildaemon.store.layout import LAYOUT, LOG_DIR, LOGS, retiring, slim
from maildaemon.store.records import RecordsWriter
from maildaemon.store.storage import copy, ticket_shape
from maildaemon.store.view import Indexes, View


class Transaction(View, RecordsWriter):
    """A writer's batch: reads see its own writes; nothing reaches disk before `commit()`."""

    def __init__(self, db: TinyDB, path: Path | None = None, store: "Indexes | None" = None):
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

    def _docs(self, name: str) -> list[dict]:
        if name in self._tables:
            return list(self._tables[name])
        docs = super()._docs(name)
        pending, gone = self._records.get(name, {}), self._deleting.get(name, set())
        if not pending and not gone:
            return docs
        out = [pending.get(d.get("id"), d) for d in docs if d.get("id") not in gone]
        known = {d.get("id") for d in docs}
        return out + [d for k, d in pending.items() if k not in known]

    def _doc(self, name: str, record_id: str) -> dict | None:
        if record_id in self._deleting.get(name, ()):
            return None
        pending = self._records.get(name, {})
        return pending[record_id] if record_id in pending else super()._doc(name, record_id)

    def _meta_now(self) -> dict:
        return self._meta

    # --- the writes of the tables of records (records.py: the typed ones) ---------------------

    def _put(self, name: str, doc: dict) -> None:
        """Insert or replace the document with this "id" in table `name` (at the next commit)."""
        self._records.setdefault(name, {})[doc["id"]] = copy(doc)
        self._deleting.get(name, set()).discard(doc["id"])

    def _delete(self, name: str, record_id: str) -> None:
        """Remove the document with this "id" from table `name` (at the next commit)."""
        self._records.get(name, {}).pop(record_id, None)
        self._deleting.setdefault(name, set()).add(record_id)

    def _retire(self, name: str, record_ids: list[str]) -> None:
        """Move these documents of table `name` to `history/<name>.jsonl` at the next commit (a
        table that grows with every mail sent would make every command read years of it)."""
        self._retiring.setdefault(name, set()).update(record_ids)

    def _replace(self, name: str, docs: list[dict]) -> None:
        self._tables[name] = [dict(d) for d in docs]

    def _set_meta(self, name: str, value) -> None:
        self._meta[name] = value

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
        return found if found is not None and ticket_shape(found) is None else None

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
            changes.extend(dict(h.to_doc(), key=key) for h in t.history if h.message_id not in logged)
            docs[key] = slim(t.to_doc(history=False), compact(t.history))
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
        retired = retiring(tickets.all())
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
        self._meta_doc = copy(self._meta)
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
