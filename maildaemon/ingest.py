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
import time
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from maildaemon import outbox, ownmail, workdays
from maildaemon.apply import LATE, apply
from maildaemon.model import Problem, RawMail, Team
from maildaemon.model import iso as _iso
from maildaemon.parse import Accepted, Ignored, Quarantined, classify, parsers_for, trust
from maildaemon.quarantine import Quarantine
from maildaemon.source import Source, SourceError
from maildaemon.store import Store, Transaction

log = logging.getLogger("maildaemon.ingest")
COMMIT_SECONDS = 2.0          # a batch slower than this (hostile mail) is committed part by part
CLAIMED = ("applied", "late")  # outcomes that own a Message-ID


@dataclass
class Counts:
    fetched: int = 0
    applied: int = 0
    duplicate: int = 0
    quarantined: int = 0
    ignored: int = 0
    late: int = 0
    newest: str | None = field(default=None, compare=False)   # the newest Date applied (not a count)
    last: dict | None = field(default=None, compare=False)    # that notification: key, title, subject, date

    def line(self) -> str:
        return (f"fetched={self.fetched} applied={self.applied} duplicate={self.duplicate} "
                f"quarantined={self.quarantined} ignored={self.ignored}")

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("newest", "last")}


def ingest(source: Source, store: Store, team: Team, now: datetime,
           progress: Callable[[int], None] | None = None, live: bool = True) -> Counts:
    """Read everything new from `source`. Raises SourceError after committing what was read.

    `live`: the configured stream (its success is the "last sync" `status` reports), as opposed
    to an archive `import`. A `remote` source (IMAP) is read with the state lock released: each
    batch is fetched first, then applied and committed under the lock (SPEC 9: no network
    exchange under the lock, so a slow server never blocks `remind` or the daemon's sender).
    A local source (a Maildir, an archive) is applied in one transaction, read once.
    """
    counts = Counts()
    stamp = _iso(now)
    q = store.quarantine()
    parsers = parsers_for(team)
    remote = bool(getattr(source, "remote", False))
    whole = None
    with ExitStack() as held:

        def batch_txn():
            """Remote: a transaction per batch. Local: one for the pass, opened at the first batch,
            so a poll that finds nothing new takes no lock and reads no state."""
            nonlocal whole
            if remote:
                return store.transaction()
            if whole is None:
                whole = held.enter_context(store.transaction())
            return nullcontext(whole)

        store.ensure()
        key = store.key()
        before = store.view()                    # kept between calls while the state is unchanged
        expected = before.position(source.id)
        first = True
        pace = _Pace()
        try:
            for mails, position in source.batches(expected):
                with batch_txn() as txn:
                    if (remote or first) and txn.position(source.id) != expected:
                        log.info("%s: another maildaemon moved the position; leaving the stream to it", source.id)
                        break
                    first = False
                    expected = _apply_batch(txn, q, source.id, mails, position, team, parsers, stamp,
                                            counts, key, progress, expected, pace)
                    if remote or pace.due():
                        pace.commit(txn, q)
        except SourceError as e:
            with batch_txn() as txn:
                txn.update_health(last_error=Problem(stamp, str(e)))
                pace.commit(txn, q)
            raise
        if live and first and before.health().last_error is None:
            store.record_sync(stamp)             # nothing new: the state is not rewritten (issue 14)
            return counts
        with batch_txn() as txn:
            if live:
                txn.update_health(last_sync=stamp, last_error=None)
                if counts.newest:       # the stream is alive: for the metrics and the silence alarm
                    _resumed(txn, team, stamp)
                    txn.update_health(last_applied_at=stamp, last_applied_date=counts.newest, last_applied=counts.last)
            else:
                txn.note_import(stamp, source.id, counts.as_dict())
            pace.commit(txn, q)
    store.clear_error()
    return counts


def _resumed(txn: Transaction, team: Team, stamp: str) -> None:
    """Before a live pass records what it applied: when the previous notification was applied at
    least `policy.silence_after_hours` business hours ago, the stream was silent and is back; keep
    that (`Health.stream_resumed`: `at`, `silent_since`, `last`) for the next digest (the policy)."""
    health = txn.health()
    previous, threshold = health.last_applied_at, team.policy.silence_after_hours
    if not previous or not threshold:
        return
    try:
        gap = workdays.business_time(datetime.fromisoformat(previous), datetime.fromisoformat(stamp), team)
    except (TypeError, ValueError):
        return
    if gap >= timedelta(hours=threshold):
        txn.update_health(stream_resumed={"at": stamp, "silent_since": previous, "last": health.last_applied})


class _Pace:
    """When a local ingest commits: every COMMIT_SECONDS of work, and never so often that writing
    the state takes more than a fifth of the time (each commit rewrites the state file, so
    committing every batch made a long import quadratic). Also the quarantine entries to drop
    once the mails that replaced them are committed."""

    def __init__(self):
        self.last = time.monotonic()
        self.cost = 0.0
        self.release: list[str] = []

    def due(self) -> bool:
        return time.monotonic() - self.last >= max(COMMIT_SECONDS, 4 * self.cost)

    def commit(self, txn: Transaction, q: Quarantine) -> None:
        started = time.monotonic()
        txn.commit()
        for entry_id in filter(None, self.release):
            q.release(entry_id)
        self.release.clear()
        self.last = time.monotonic()
        self.cost = self.last - started


def _apply_batch(txn: Transaction, q: Quarantine, source_id: str, mails, position, team: Team, parsers,
                 stamp: str, counts: Counts, key: bytes, progress, expected, pace: _Pace):
    """Apply one batch and set the position after it (the caller commits). A batch slower than
    the pace (hostile mail) is committed part by part. Returns the position last set."""
    for raw in mails:
        pace.release.append(_one(txn, q, raw, team, parsers, stamp, counts, key))
        if progress:
            progress(1)
        if raw.position is not None and pace.due():
            txn.set_position(source_id, raw.position)
            expected = raw.position
            pace.commit(txn, q)
    if position is not None:
        txn.set_position(source_id, position)
        expected = position
    return expected


def retry_quarantine(store: Store, team: Team, now: datetime) -> tuple[Counts, int]:
    """Classify every quarantined mail again (after a configuration fix).

    Returns the counts and how many remain in quarantine. An entry is released only after the
    mail's effect is committed.
    """
    counts = Counts()
    stamp = _iso(now)
    q = store.quarantine()
    parsers = parsers_for(team)
    released = []
    with store.transaction() as txn:
        key = store.key()
        for entry in q.list():
            got = q.get(entry.id)
            if got is None:
                continue
            oversize = int(entry.extra.get("size") or 0)     # only its header was kept: still too large
            raw = RawMail(got[1], entry.origin, oversize=oversize)
            released.append(_one(txn, q, raw, team, parsers, stamp, counts, key, retrying=entry.quarantined_at))
        txn.commit()
    for entry_id in filter(None, released):
        q.release(entry_id)
    return counts, q.count()


def _one(txn: Transaction, q: Quarantine, raw: RawMail, team: Team, parsers, stamp: str,
         counts: Counts, key: bytes | None, retrying: str | None = None) -> str | None:
    """Process one mail inside the open batch. Returns a quarantine entry to release after commit.

    Only an applied notification claims its Message-ID (SPEC 9): a mail that was ignored or
    quarantined under an id never stops a later mail with that id from being applied.
    `retrying` is the quarantine time of the entry being retried: one that stays keeps its age.
    """
    if not retrying:
        _tally(txn, counts, "fetched")
    verdict = classify(raw, team, parsers, own_key=key)
    mail = verdict.mail
    prior = txn.seen(mail.message_id)
    if prior in CLAIMED:
        if retrying:          # handled meanwhile: nothing left to do, unless this mail is still not trusted
            return None if isinstance(verdict, Quarantined) else q.entry_id(raw.data)
        _tally(txn, counts, "duplicate")
        return None
    if isinstance(verdict, Quarantined) and ownmail.looks_ours(mail.message_id):
        rec = txn.outbox_record(mail.message_id)
        if rec is not None and rec.state in ("sent", "written"):
            verdict = Ignored("own mail", mail)             # sent before keyed ids: nothing to confirm
    if not retrying and prior is not None and prior == _outcome(verdict):
        _tally(txn, counts, "duplicate")                    # the same mail again (a re-scan)
        return None
    if isinstance(verdict, Accepted):
        c = verdict.change
        try:
            ticket, outcome = apply(txn.ticket(c.key), c, team, origin=raw.origin)
        except Exception as e:  # noqa: BLE001 - a bug applying one mail must not stop the stream
            verdict = Quarantined(f"apply error ({c.key}): {type(e).__name__}: {e}"[:300], mail)
        else:
            txn.put_ticket(ticket)
            txn.record_message(mail.message_id, outcome, ticket=c.key, origin=raw.origin, at=stamp)
            if outcome != LATE and _iso(c.at) >= (counts.newest or ""):
                counts.newest = _iso(c.at)
                counts.last = {"key": c.key, "title": ticket.title,
                               "subject": " ".join(str(mail.subject or "").split())[:200], "date": counts.newest}
            _tally(txn, counts, "applied")
            if outcome == LATE:
                _tally(txn, counts, "late")
            log.debug("applied %s %s from %s%s", c.key, "/".join(sorted(c.kinds)) or "update",
                      mail.message_id, " (late)" if outcome == LATE else "")
    if isinstance(verdict, Ignored):
        if verdict.reason == "own mail" and outbox.confirm(txn, mail.message_id, datetime.fromisoformat(stamp)):
            log.info("outbox: %s came back through the list: delivered", mail.message_id)
        txn.record_message(mail.message_id, "ignored", reason=verdict.reason, origin=raw.origin, at=stamp)
        _tally(txn, counts, "ignored")
        log.debug("ignored %s: %s", mail.message_id, verdict.reason)
    elif isinstance(verdict, Quarantined):
        entry = q.put(raw.data, verdict.reason, mail.message_id, mail.subject,
                      trust.sender(mail, team.list_address) or mail.from_addr, raw.origin, retrying or stamp,
                      extra={"size": raw.oversize} if raw.oversize else None)
        txn.record_message(mail.message_id, "quarantined", quarantine=entry.id, reason=verdict.reason,
                           origin=raw.origin, at=stamp)
        _tally(txn, counts, "quarantined")
        log.warning("quarantined %s (%s): %s", entry.id, mail.message_id, verdict.reason)
        return None
    return q.entry_id(raw.data) if prior == "quarantined" or retrying else None


def _outcome(verdict) -> str:
    return "quarantined" if isinstance(verdict, Quarantined) else "ignored" if isinstance(verdict, Ignored) else ""


def _tally(txn: Transaction, counts: Counts, name: str) -> None:
    """Count for this run's output line and for the lifetime counters `status` reports."""
    setattr(counts, name, getattr(counts, name) + 1)
    txn.bump(name)
