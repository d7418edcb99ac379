"""The stream in: source -> classify -> apply -> store, one atomic commit per batch.

This is the imperative shell around the pure stages (`parse.classify`, `apply.apply`): it owns
the order of side effects that makes ingestion safe to kill at any moment —
  1. a quarantined mail is written to the quarantine folder (durably) first;
  2. the batch's ticket changes, message records and the source position are committed together;
  3. only then does the source move on (and a re-delivered Message-ID is a duplicate).
`sync`, `import` and `quarantine retry` all come through here; the daemon will too.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable

from maildaemon import outbox
from maildaemon.apply import LATE, apply
from maildaemon.model import RawMail, Team
from maildaemon.model import iso as _iso
from maildaemon.parse import Accepted, Ignored, Quarantined, classify, parsers_for, trust
from maildaemon.quarantine import Quarantine
from maildaemon.source import Source, SourceError
from maildaemon.store import Store, Transaction

log = logging.getLogger("maildaemon.ingest")


@dataclass
class Counts:
    fetched: int = 0
    applied: int = 0
    duplicate: int = 0
    quarantined: int = 0
    ignored: int = 0
    late: int = 0

    def line(self) -> str:
        return (f"fetched={self.fetched} applied={self.applied} duplicate={self.duplicate} "
                f"quarantined={self.quarantined} ignored={self.ignored}")

    def as_dict(self) -> dict:
        return asdict(self)


def ingest(source: Source, store: Store, team: Team, now: datetime,
           progress: Callable[[int], None] | None = None, live: bool = True) -> Counts:
    """Read everything new from `source`. Raises SourceError after committing what was read.

    `live`: the configured stream (its success is the "last sync" `status` reports), as opposed
    to an archive `import`.
    """
    counts = Counts()
    stamp = _iso(now)
    q = Quarantine(store.dir)
    parsers = parsers_for(team)
    with store.transaction() as txn:
        try:
            for mails, position in source.batches(txn.position(source.id)):
                release = [_one(txn, q, raw, team, parsers, stamp, counts) for raw in mails]
                if position is not None:
                    txn.set_position(source.id, position)
                txn.commit()
                for entry_id in filter(None, release):
                    q.release(entry_id)
                if progress:
                    progress(len(mails))
        except SourceError as e:
            txn.set_meta("last_error", {"at": stamp, "message": str(e)})
            txn.commit()
            raise
        if live:
            txn.set_meta("last_sync", stamp)
            txn.set_meta("last_source", source.id)
            txn.set_meta("last_error", None)
        else:
            txn.set_meta("last_import", {"at": stamp, "source": source.id, **counts.as_dict()})
        txn.commit()
    return counts


def retry_quarantine(store: Store, team: Team, now: datetime) -> tuple[Counts, int]:
    """Classify every quarantined mail again (after a configuration fix).

    Returns the counts and how many remain in quarantine. An entry is released only after the
    mail's effect is committed.
    """
    counts = Counts()
    stamp = _iso(now)
    q = Quarantine(store.dir)
    parsers = parsers_for(team)
    released = []
    with store.transaction() as txn:
        for entry in q.list():
            got = q.get(entry.id)
            if got is None:
                continue
            released.append(_one(txn, q, RawMail(got[1], entry.origin), team, parsers, stamp, counts,
                                 retrying=True))
        txn.commit()
    for entry_id in filter(None, released):
        q.release(entry_id)
    return counts, q.count()


def _one(txn: Transaction, q: Quarantine, raw: RawMail, team: Team, parsers, stamp: str,
         counts: Counts, retrying: bool = False) -> str | None:
    """Process one mail inside the open batch. Returns a quarantine entry to release after commit."""
    if not retrying:
        _tally(txn, counts, "fetched")
    verdict = classify(raw, team, parsers)
    mail = verdict.mail
    prior = txn.seen(mail.message_id)
    if prior is not None and prior != "quarantined":       # applied, late or ignored before
        if retrying:
            return q.entry_id(raw.data)                     # handled meanwhile: nothing left to do
        _tally(txn, counts, "duplicate")
        return None
    if prior == "quarantined" and isinstance(verdict, Quarantined) and not retrying:
        _tally(txn, counts, "duplicate")                    # already waiting in the quarantine
        return None
    if isinstance(verdict, Accepted):
        c = verdict.change
        ticket, outcome = apply(txn.ticket(c.key), c, team, origin=raw.origin)
        txn.put_ticket(ticket)
        txn.record_message(mail.message_id, outcome, ticket=c.key, origin=raw.origin, at=stamp)
        _tally(txn, counts, "applied")
        if outcome == LATE:
            _tally(txn, counts, "late")
        log.debug("applied %s %s from %s%s", c.key, "/".join(sorted(c.kinds)) or "update",
                 mail.message_id, " (late)" if outcome == LATE else "")
    elif isinstance(verdict, Ignored):
        if verdict.reason == "own mail" and outbox.confirm(txn, mail.message_id, datetime.fromisoformat(stamp)):
            log.info("outbox: %s came back through the list: delivered", mail.message_id)
        txn.record_message(mail.message_id, "ignored", reason=verdict.reason, origin=raw.origin, at=stamp)
        _tally(txn, counts, "ignored")
        log.debug("ignored %s: %s", mail.message_id, verdict.reason)
    else:
        entry = q.put(raw.data, verdict.reason, mail.message_id, mail.subject,
                      trust.sender(mail, team.list_address), raw.origin, stamp)
        txn.record_message(mail.message_id, "quarantined", quarantine=entry.id, reason=verdict.reason,
                           origin=raw.origin, at=stamp)
        _tally(txn, counts, "quarantined")
        log.warning("quarantined %s (%s): %s", entry.id, mail.message_id, verdict.reason)
        return None
    return q.entry_id(raw.data) if prior == "quarantined" or retrying else None


def _tally(txn: Transaction, counts: Counts, name: str) -> None:
    """Count for this run's output line and for the lifetime counters `status` reports."""
    setattr(counts, name, getattr(counts, name) + 1)
    txn.bump(name)
