"""The outbox: every mail is persisted before it is sent, and marked sent after the server took it.

States of an `OutboxRecord` (the file `STATE_DIR/outbox/<name>.eml` holds the bytes):
    queued   -> sending -> sent             (SMTP accepted it: 250)
                        -> queued           (temporary failure: retried with backoff)
                        -> failed           (5xx, a mail that cannot be sent, or too many attempts)
    written                                 (no SMTP configured: the .eml file is the delivery)
A crash while `sending` leaves the record to be sent again with the *same* Message-ID (SMTP cannot
be exactly-once: at worst a recognisable duplicate, never a lost mail), unless the mail meanwhile
came back through the list stream, which confirms it (`confirm`). A Message-ID already in the
table is never enqueued again: that is what makes a restart or a repeated tick send nothing twice.

No network I/O happens while the state lock is held (SPEC 9): a mail is marked `sending` in one
short transaction, sent without the lock, and its result recorded in another. `sending_until`
tells a concurrent sender (the daemon and a `remind`) that the mail is on the wire; a `sending`
record past it was left by a crash: its attempt counts, and it is sent again.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from maildaemon.atomic import ensure_dir, read_bytes, write_atomic
from maildaemon.config import ServerSettings
from maildaemon.model import OutboxRecord, Outgoing, Problem
from maildaemon.model import iso as _iso
from maildaemon.send import TIMEOUT, PermanentFailure, SendError, SmtpSession
from maildaemon.store import Store, Transaction

log = logging.getLogger("maildaemon.outbox")
MAX_ATTEMPTS = 29          # with the backoff below: the last attempt 23.8 hours after the first
BACKOFF = (60, 120, 300, 600, 1800, 3600)
MAIL_DEADLINE = 120        # seconds for one mail, connecting included
PASS_DEADLINE = 300        # seconds for one send pass; what is left stays queued for the next
NAME_PREFIX = 80           # readable part of an outbox file name (a file name stops at 255 bytes)
KEEP = timedelta(weeks=13) # finished mails older than this leave the outbox table (and their .eml file)


def file_name(message_id: str) -> str:
    """A readable prefix and a hash of the whole Message-ID: bounded in length whatever the ticket id,
    and distinct for distinct Message-IDs even when the prefix is cut or characters replaced."""
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", message_id.strip("<>").partition("@")[0])[:NAME_PREFIX]
    digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:12]
    return f"{stem}-{digest}.eml"


def enqueue(txn: Transaction, state_dir: Path, out: Outgoing, now: datetime, smtp: bool) -> bool:
    """Persist `out` (file first, then its record at the caller's commit). False if known already."""
    if txn.outbox_record(out.message_id) is not None:
        return False
    folder = Path(state_dir) / "outbox"
    ensure_dir(folder)                                  # 0700; a symlink in its place is refused
    name = file_name(out.message_id)
    write_atomic(folder / name, out.raw)
    stamp = _iso(now)
    state = ("queued" if smtp else "written") if out.recipients else "failed"
    txn.put_outbox(OutboxRecord(
        out.message_id, out.kind, out.period, tuple(out.tickets), out.subject, out.sender, tuple(out.recipients),
        name, state, attempts=0, created_at=stamp, next_attempt_at=stamp,
        last_error=None if out.recipients else "no valid recipient address"))
    return True


def is_due(r: OutboxRecord, stamp: str) -> bool:
    """Queued and its time has come, or `sending` and nobody is sending it any more."""
    return (r.state == "queued" and r.next_attempt_at <= stamp) or \
        (r.state == "sending" and (r.sending_until or "") <= stamp)


def due(records: dict[str, OutboxRecord], stamp: str) -> list[OutboxRecord]:
    """The mails `is_due`, oldest first."""
    return sorted((r for r in records.values() if is_due(r, stamp)), key=lambda r: r.created_at)


def deliver(store: Store, settings: ServerSettings, now: datetime, session_factory=SmtpSession, *,
            timeout: float = TIMEOUT, mail_seconds: float = MAIL_DEADLINE, pass_seconds: float = PASS_DEADLINE,
            stop: threading.Event | None = None) -> dict:
    """Send the mails whose time has come over one SMTP session, one at a time. Returns counts.

    Per mail: lock, mark it `sending` (+1 attempt), unlock; send; lock, record the result, unlock.
    So a `sync` waits for a commit at most, never for the network, and a crash loses one result.
    Any failure of one mail is that mail's alone. The pass ends at its deadline or when `stop` is
    set (the daemon stopping): what is left stays queued for the next pass.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    stamp = _iso(now)
    lease = _iso(now + timedelta(seconds=pass_seconds + 2 * timeout))
    end = time.monotonic() + pass_seconds
    session, tried = None, set()
    try:
        while True:
            waiting = [r for r in due(store.view().outbox(), stamp) if r.id not in tried]
            if not waiting:
                break
            if time.monotonic() >= end or (stop is not None and stop.is_set()):
                counts["retry"] += len(waiting)
                log.warning("outbox: send pass %s; %d mail(s) wait for the next",
                            "stopped" if stop is not None and stop.is_set() else "out of time", len(waiting))
                break
            if session is None:
                try:
                    session = session_factory(settings, timeout=timeout, stop=stop,
                                              deadline=min(end, time.monotonic() + mail_seconds))
                except SendError as e:            # server unreachable: nothing was attempted
                    log.warning("outbox: %d mail(s) wait: %s", len(waiting), e)
                    counts["retry"] += len(waiting)
                    _note(store, [r.id for r in waiting], _line(str(e)), stamp)
                    break
            rec = _claim(store, waiting[0].id, stamp, lease)
            tried.add(waiting[0].id)
            if rec is None:                        # another sender took it meanwhile
                continue
            if rec.state == "failed":
                counts["failed"] += 1
                log.error("outbox: %s failed: %s", rec.id, rec.last_error)
                continue
            outcome, error, session = _send_one(session, store, rec, min(end, time.monotonic() + mail_seconds))
            outcome = _record(store, rec.id, outcome, error, now)
            counts[outcome] += 1
    finally:
        _close(session)
    return counts


def _claim(store: Store, message_id: str, stamp: str, lease: str) -> OutboxRecord | None:
    """Mark one due mail `sending` (its attempt counted before the wire), or `failed` when its
    attempts are used up (a mail that crashed the sender again and again). None if no longer due."""
    with store.transaction() as txn:
        rec = txn.outbox_record(message_id)
        if rec is None or not is_due(rec, stamp):
            return None
        if rec.state == "sending":
            log.warning("outbox: %s was left sending (attempt %d): sending again", message_id, rec.attempts)
        if rec.attempts >= MAX_ATTEMPTS:
            last = rec.last_error or "interrupted while sending"
            rec = replace(rec, state="failed", sending_until=None,
                          last_error=_line(f"gave up after {rec.attempts} attempts: {last}"))
        else:
            rec = replace(rec, state="sending", attempts=rec.attempts + 1, sending_until=lease)
        txn.put_outbox(rec)
        txn.commit()
    return rec


def _send_one(session, store: Store, rec: OutboxRecord, deadline: float):
    """Put one mail on the wire, without the lock. Returns (outcome, error, the session to go on with)."""
    try:
        raw = read_bytes(store.dir / "outbox" / rec.file)   # never through a symlink
    except OSError as e:
        return "failed", _line(f"outbox file {rec.file}: {e.strerror or e}"), session
    try:
        session.send(rec.sender, list(rec.recipients), raw, deadline=deadline)
    except PermanentFailure as e:                  # the session is still usable
        return "failed", _line(str(e)), session
    except SendError as e:
        return "retry", _line(str(e)), _close(session)
    except Exception as e:                         # whatever it is, it is this mail's alone
        log.debug("traceback", exc_info=True)
        return "failed", _line(f"{type(e).__name__}: {e}"), _close(session)
    return "sent", None, session


def _record(store: Store, message_id: str, outcome: str, error: str | None, now: datetime) -> str:
    """Record one result (re-read: the mail may have come back through the list meanwhile, `sent`).
    A mail sent ends the server's outage that `status` shows (`Health.send_error`)."""
    stamp = _iso(now)
    with store.transaction() as txn:
        rec = txn.outbox_record(message_id)
        if rec is None:
            return outcome
        if rec.state == "sent":
            outcome, error = "sent", None
        elif outcome == "sent":
            rec = replace(rec, state="sent", sent_at=stamp, last_error=None)
        elif outcome == "retry" and rec.attempts < MAX_ATTEMPTS:
            wait = BACKOFF[min(rec.attempts - 1, len(BACKOFF) - 1)]
            rec = replace(rec, state="queued", last_error=error, next_attempt_at=_iso(now + timedelta(seconds=wait)))
        else:
            if outcome == "retry":
                error = _line(f"gave up after {rec.attempts} attempts: {error}")
            outcome = "failed"
            rec = replace(rec, state="failed", last_error=error)
        txn.put_outbox(replace(rec, sending_until=None))
        if outcome == "sent" and txn.health().send_error is not None:
            txn.update_health(send_error=None)
        txn.commit()
    if outcome == "sent":
        log.info("sent %s %s to %s", rec.kind, rec.id, ", ".join(rec.recipients))
    elif outcome == "failed":
        log.error("outbox: %s failed: %s", rec.id, error)
    else:
        log.warning("outbox: %s not sent (attempt %d): %s", rec.id, rec.attempts, error)
    return outcome


def _note(store: Store, ids: list[str], message: str, stamp: str) -> None:
    """The server could not be reached: say so on the waiting mails (no attempt counted), and in
    `status` until a mail is sent (`Health.send_error`)."""
    with store.transaction() as txn:
        for message_id in ids:
            rec = txn.outbox_record(message_id)
            if rec is not None and rec.state == "queued":
                txn.put_outbox(replace(rec, last_error=message))
        txn.update_health(send_error=Problem(stamp, message))
        txn.commit()


def _line(text: str, limit: int = 500) -> str:
    """One line a person reads in `status` (a server's multi-line reply included), bounded."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def confirm(txn: Transaction, message_id: str, now: datetime) -> bool:
    """Our mail came back through the list: it was delivered, whatever the outbox last knew."""
    rec = txn.outbox_record(message_id)
    if rec is None or rec.state in ("sent", "written"):
        return False
    txn.put_outbox(replace(rec, state="sent", sent_at=rec.sent_at or _iso(now), last_error=None))
    return True


def retire(txn: Transaction, state_dir: Path, now: datetime) -> list[str]:
    """Move finished mails queued more than KEEP ago to the history log, and return their files
    to delete after the commit. Every Message-ID a policy could decide again is of a day or a week
    well inside KEEP, so a retired record can never be re-sent; what is retired still counts in
    `status` (`View.outbox_retired`)."""
    cutoff = _iso(now - KEEP)
    old = [r for r in txn.outbox().values() if r.state in ("sent", "written", "failed") and r.created_at < cutoff]
    txn.retire_outbox([r.id for r in old])
    return [r.file for r in old if r.file]


def remove_files(state_dir: Path, names: list[str]) -> None:
    """Best effort, after the commit that retired their records."""
    for name in names:
        try:
            (Path(state_dir) / "outbox" / name).unlink()
        except OSError:
            pass


def summary(records: dict[str, OutboxRecord], retired: dict[str, int] | None = None) -> dict:
    """How many mails are in each state, those retired to the history log included."""
    out = {"queued": 0, "sending": 0, "sent": 0, "written": 0, "failed": 0}
    for state, n in (retired or {}).items():
        out[state] = out.get(state, 0) + n
    for r in records.values():
        out[r.state] = out.get(r.state, 0) + 1
    return out


def _close(session):
    if session is not None:
        session.close()
    return None
