"""The schema: which table holds which record of model.py, and the meta keys `Health` is made of.

Callers read and write typed records (`OutboxRecord`, `RotationWeek`, `Snooze`, `Health`) and
never name a table or a meta key; the documents on disk are exactly what earlier releases wrote
(`to_doc`), and what they wrote reads back (`from_doc`). A document that no longer loads (edited
by hand) is left out of a read rather than stopping every command.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from maildaemon.model import Health, OutboxRecord, Problem, RotationWeek, Snapshot, Snooze

OUTBOX, ROTATION, ROTATION_LOG, SNOOZES = "outbox", "rotation", "rotation_log", "snoozes"
# Health's fields as meta keys (the rest of meta is the store's own: layout, logs, counts)
_META = {"last_sync": "last_sync", "last_import": "last_import", "last_error": "last_error",
         "send_error": "last_send_error", "last_applied_at": "last_applied_at",
         "last_applied_date": "last_applied_date", "last_applied": "last_applied",
         "stream_resumed": "stream_resumed", "counters": "counters"}
_PROBLEMS = ("last_error", "send_error")


def _loaded(cls, docs: Iterable[dict]) -> list:
    """The documents that load as `cls` records."""
    out = []
    for doc in docs:
        try:
            out.append(cls.from_doc(doc))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out


def _one(cls, doc):
    found = _loaded(cls, [doc]) if isinstance(doc, dict) else []
    return found[0] if found else None


def health_of(meta: dict) -> Health:
    """The `Health` the meta document holds."""
    values = {name: meta.get(key) for name, key in _META.items()}
    for name in _PROBLEMS:
        values[name] = _one(Problem, values[name])
    last_import = values["last_import"]
    values["last_import"] = last_import.get("at") if isinstance(last_import, dict) else None
    values["counters"] = dict(values["counters"] or {})
    return Health(**values)


class RecordsView:
    """The typed reads of a View (mixed into it): over its `_docs(table)` and `_meta_now()`."""

    def outbox(self) -> dict[str, OutboxRecord]:
        """The outbox by Message-ID."""
        return {r.id: r for r in _loaded(OutboxRecord, self._docs(OUTBOX))}

    def outbox_record(self, message_id: str) -> OutboxRecord | None:
        return _one(OutboxRecord, self._doc(OUTBOX, message_id))

    def outbox_retired(self) -> dict[str, int]:
        """How many outbox records were retired to the history log, by their state."""
        return self._retired(OUTBOX)

    def rotation(self) -> list[RotationWeek]:
        """The stored weeks, in order (a week without a person is not stored)."""
        return sorted(_loaded(RotationWeek, (d for d in self._docs(ROTATION) if d.get("email"))),
                      key=lambda w: w.week)

    def snoozes(self) -> dict[str, Snooze]:
        """The snoozes by ticket key, whether they still hold or not (snooze.py decides)."""
        return {s.id: s for s in _loaded(Snooze, self._docs(SNOOZES))}

    def health(self) -> Health:
        """What the state file knows of the stream and the sender (Store.health adds the files
        a full disk or a quiet poll write instead)."""
        return health_of(self._meta_now())

    def snapshot(self) -> Snapshot:
        """Everything deciding which mail is due reads, from this one view."""
        return Snapshot(tuple(self.current()), tuple(self.rotation()), self.outbox(), self.snoozes(), self.health())


class RecordsWriter(RecordsView):
    """The typed writes of a Transaction (mixed into it), at its next commit."""

    def put_outbox(self, record: OutboxRecord) -> None:
        self._put(OUTBOX, record.to_doc())

    def retire_outbox(self, message_ids: list[str]) -> None:
        """Move these outbox records to `history/outbox.jsonl` (they still count: `outbox_retired`)."""
        self._retire(OUTBOX, message_ids)

    def put_snooze(self, snooze: Snooze) -> None:
        self._put(SNOOZES, snooze.to_doc())

    def end_snooze(self, key: str) -> bool:
        """Remove the snooze of ticket `key`; False if there was none."""
        known = self._doc(SNOOZES, key) is not None
        self._delete(SNOOZES, key)
        return known

    def change_rotation(self, changes: Iterable, action: str, at: datetime) -> int:
        """Store rotation `changes` (see `rotation_after`); returns how many weeks changed."""
        weeks, log = rotation_after(_loaded(RotationWeek, self._docs(ROTATION)), changes, action, at)
        if log:
            self._replace(ROTATION, [w.to_doc() for w in weeks])
            self._replace(ROTATION_LOG, self._docs(ROTATION_LOG) + log)
        return len(log)

    def update_health(self, **changes) -> None:
        """Set fields of `Health` (`last_error=Problem(...)`, `send_error=None`, ...)."""
        for name, value in changes.items():
            if name not in _META or name in ("counters", "last_import"):     # bump, note_import
                raise TypeError(f"update_health: no field {name!r}")
            if isinstance(value, Problem):
                value = value.to_doc()
            self._set_meta(_META[name], value)

    def note_import(self, at: str, source_id: str, counts: dict) -> None:
        """An `import` of an archive finished (Health.last_import; a success that ends an error)."""
        self._set_meta("last_import", {"at": at, "source": source_id, **counts})


def rotation_after(weeks: Iterable[RotationWeek], changes: Iterable, action: str, at: datetime
                   ) -> tuple[list[RotationWeek], list[dict]]:
    """The stored weeks after `changes` (rotation Assignments: week, email, name; email None
    removes the week), in order, and the rotation log's lines that say so: a changed week gets
    the next revision (a calendar's SEQUENCE); weeks not named, or named with the person they
    have, stay as they are."""
    by_week = {w.week: w for w in weeks}
    log = []
    for a in changes:
        old = by_week.get(a.week)
        before = old.email if old else None
        if (before or "").lower() == (a.email or "").lower():
            continue
        log.append({"at": at.isoformat(), "action": action, "week": a.week.isoformat(), "before": before,
                    "after": a.email})
        if a.email is None:
            del by_week[a.week]
        else:
            by_week[a.week] = RotationWeek(a.week, a.email, a.name, action, at.isoformat(),
                                           (old.revision if old else 0) + 1)
    return [by_week[w] for w in sorted(by_week)], log
