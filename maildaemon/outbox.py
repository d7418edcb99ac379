"""The outbox: every mail is persisted before it is sent, and marked sent after the server took it.

States of a record in the `outbox` table (the file `STATE_DIR/outbox/<token>.eml` holds the bytes):
    queued   -> sending -> sent             (SMTP accepted it: 250)
                        -> queued           (temporary failure: retried with backoff)
                        -> failed           (5xx, or too many attempts: kept with the reason)
    written                                 (no SMTP configured: the .eml file is the delivery)
A crash while `sending` leaves the record to be sent again with the *same* Message-ID (SMTP cannot
be exactly-once: at worst a recognisable duplicate, never a lost mail), unless the mail meanwhile
came back through the list stream, which confirms it (`confirm`). A Message-ID already in the
table is never enqueued again: that is what makes a restart or a repeated tick send nothing twice.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

from maildaemon.atomic import write_atomic
from maildaemon.config import ServerSettings
from maildaemon.model import Outgoing
from maildaemon.model import iso as _iso
from maildaemon.send import PermanentFailure, SendError, Session
from maildaemon.store import Store, Transaction

log = logging.getLogger("maildaemon.outbox")
TABLE = "outbox"
MAX_ATTEMPTS = 12          # with the backoff below: about a day of retrying
BACKOFF = (60, 120, 300, 600, 1800, 3600)


def file_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", message_id.strip("<>").partition("@")[0]) + ".eml"


def enqueue(txn: Transaction, state_dir: Path, out: Outgoing, now: datetime, smtp: bool) -> bool:
    """Persist `out` (file first, then its record at the caller's commit). False if known already."""
    if out.message_id in txn.records(TABLE):
        return False
    folder = Path(state_dir) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(out.message_id)
    write_atomic(folder / name, out.raw)
    stamp = _iso(now)
    state = ("queued" if smtp else "written") if out.recipients else "failed"
    txn.put_record(TABLE, {
        "id": out.message_id, "kind": out.kind, "period": out.period, "tickets": list(out.tickets),
        "subject": out.subject, "sender": out.sender, "recipients": list(out.recipients), "file": name,
        "state": state, "attempts": 0, "created_at": stamp, "next_attempt_at": stamp, "sent_at": None,
        "last_error": None if out.recipients else "no valid recipient address",
    })
    return True


def deliver(store: Store, settings: ServerSettings, now: datetime, session_factory=Session) -> dict:
    """Send every queued mail whose time has come, over one SMTP session. Returns counts."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    stamp = _iso(now)
    with store.transaction() as txn:
        due = sorted((r for r in txn.records(TABLE).values()
                      if r["state"] in ("queued", "sending") and r["next_attempt_at"] <= stamp),
                     key=lambda r: r["created_at"])
        if not due:
            return counts
        try:
            session = session_factory(settings)
        except SendError as e:                  # server unreachable: nothing was attempted
            log.warning("outbox: %d mail(s) wait: %s", len(due), e)
            counts["retry"] = len(due)
            txn.set_meta("last_send_error", {"at": stamp, "message": str(e)})
            txn.commit()
            return counts
        for rec in due:
            rec.update(state="sending", attempts=rec["attempts"] + 1)
            txn.put_record(TABLE, rec)
            txn.commit()                                   # "sending" is durable before the wire
            try:
                if session is None:
                    session = session_factory(settings)
                raw = (store.dir / "outbox" / rec["file"]).read_bytes()
                session.send(rec["sender"], rec["recipients"], raw)
            except PermanentFailure as e:
                rec.update(state="failed", last_error=str(e))
                counts["failed"] += 1
                log.error("outbox: %s failed permanently: %s", rec["id"], e)
            except (SendError, OSError) as e:
                session = _close(session)
                retry = rec["attempts"] < MAX_ATTEMPTS
                wait = BACKOFF[min(rec["attempts"] - 1, len(BACKOFF) - 1)]
                rec.update(state="queued" if retry else "failed", last_error=str(e),
                           next_attempt_at=_iso(now + timedelta(seconds=wait)))
                counts["retry" if retry else "failed"] += 1
                log.warning("outbox: %s not sent (attempt %d): %s", rec["id"], rec["attempts"], e)
            else:
                rec.update(state="sent", sent_at=stamp, last_error=None)
                counts["sent"] += 1
                log.info("sent %s %s to %s", rec["kind"], rec["id"], ", ".join(rec["recipients"]))
            txn.put_record(TABLE, rec)
            txn.commit()
        _close(session)
    return counts


def confirm(txn: Transaction, message_id: str, now: datetime) -> bool:
    """Our mail came back through the list: it was delivered, whatever the outbox last knew."""
    rec = txn.records(TABLE).get(message_id)
    if rec is None or rec["state"] in ("sent", "written"):
        return False
    rec.update(state="sent", sent_at=rec.get("sent_at") or _iso(now), last_error=None)
    txn.put_record(TABLE, rec)
    return True


def summary(records: dict[str, dict]) -> dict:
    out = {"queued": 0, "sending": 0, "sent": 0, "written": 0, "failed": 0}
    for r in records.values():
        out[r["state"]] = out.get(r["state"], 0) + 1
    return out


def _close(session):
    if session is not None:
        session.close()
    return None
