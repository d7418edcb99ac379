"""The store's schema (store/records.py): typed records in, the documents earlier releases wrote on
disk, and those documents back as records; the rotation's revisions and log; Health from the meta
keys, and the SMTP outage `status` shows until a mail goes."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from builders import goc_mail, local, team
from maildaemon import outbox
from maildaemon.config import ServerSettings
from maildaemon.ingest import ingest
from maildaemon.errors import SendError
from maildaemon.model import OutboxRecord, Outgoing, Problem, RawMail, RotationWeek, Snooze
from maildaemon.rotation import Assignment
from maildaemon.store import Store
from maildaemon.store.records import rotation_after

AT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
MON, W = date(2026, 11, 23), timedelta(weeks=1)
# documents as the release before the typed records wrote them
OUTBOX_DOC = {"id": "<m1@maildaemon>", "kind": "owner", "period": "2026-11-24", "tickets": ["goc:1"],
              "subject": "Reminder", "sender": "duty@example.org", "recipients": ["ada@example.org"],
              "file": "m1-0123456789ab.eml", "state": "queued", "attempts": 0, "created_at": "2026-11-24T15:30:00+00:00",
              "next_attempt_at": "2026-11-24T15:30:00+00:00", "sent_at": None, "last_error": None}
ROTATION_DOC = {"week": "2026-11-23", "email": "ada@example.org", "name": "Ada Lovelace", "action": "load",
                "changed_at": "2026-11-23T15:00:00+00:00", "revision": 1}
SNOOZE_DOC = {"id": "goc:1", "until": "2026-11-30", "reason": "vendor", "at": "2026-11-23T09:00:00-06:00"}


def state_json(store) -> dict:
    return json.loads((store.dir / "maildaemon.json").read_bytes())


def test_records_write_the_documents_of_before_and_read_them_back():
    assert OutboxRecord.from_doc(OUTBOX_DOC).to_doc() == dict(OUTBOX_DOC, sending_until=None)
    assert OutboxRecord.from_doc(OUTBOX_DOC).tickets == ("goc:1",)
    assert RotationWeek.from_doc(ROTATION_DOC).to_doc() == ROTATION_DOC
    assert RotationWeek.from_doc(ROTATION_DOC).week == MON
    assert Snooze.from_doc(SNOOZE_DOC).to_doc() == SNOOZE_DOC
    assert OutboxRecord.from_doc(dict(OUTBOX_DOC, added_later=1)) == OutboxRecord.from_doc(OUTBOX_DOC)


def test_a_state_of_before_reads_as_records_and_a_broken_record_is_left_out(tmp_path):
    store = Store(tmp_path)
    store.ensure()
    meta = {"counters": {"applied": 3}, "last_sync": "2026-11-24T15:00:00+00:00",
            "last_error": {"at": "2026-11-24T14:00:00+00:00", "message": "IMAP down"},
            "last_send_error": {"at": "2026-11-24T15:31:00+00:00", "message": "SMTP refused"},
            "last_import": {"at": "2026-11-20T10:00:00+00:00", "source": "mbox:a", "fetched": 9},
            "last_applied_at": "2026-11-24T15:00:00+00:00", "last_source": "maildir:/x"}
    (tmp_path / "maildaemon.json").write_text(json.dumps({
        "outbox": {"1": OUTBOX_DOC, "2": {"id": "<broken@x>", "tickets": 5}},
        "rotation": {"1": ROTATION_DOC, "2": {"week": "not a date", "email": "x@example.org"}},
        "snoozes": {"1": SNOOZE_DOC}, "meta": {"1": meta}}))
    snap = store.snapshot()
    assert list(snap.outbox) == ["<m1@maildaemon>"] and snap.outbox["<m1@maildaemon>"].state == "queued"
    assert snap.rotation == (RotationWeek.from_doc(ROTATION_DOC),)
    assert snap.snoozes == {"goc:1": Snooze.from_doc(SNOOZE_DOC)}
    h = snap.health
    assert (h.last_sync, h.last_import, h.last_applied_at, h.counters) == (
        "2026-11-24T15:00:00+00:00", "2026-11-20T10:00:00+00:00", "2026-11-24T15:00:00+00:00", {"applied": 3})
    assert h.last_error == Problem("2026-11-24T14:00:00+00:00", "IMAP down")
    assert h.send_error == Problem("2026-11-24T15:31:00+00:00", "SMTP refused")


def test_rotation_after_keeps_other_weeks_and_counts_revisions():
    weeks, log = rotation_after([], [Assignment(MON, "ada@example.org", "Ada Lovelace"),
                                     Assignment(MON + W, "grace@example.org", "Grace Hopper")], "load", AT)
    assert weeks[0].to_doc() == ROTATION_DOC
    assert [e["after"] for e in log] == ["ada@example.org", "grace@example.org"]
    later = AT + timedelta(days=1)
    weeks2, log2 = rotation_after(weeks, [Assignment(MON, "ada@example.org", "Ada Lovelace"),
                                          Assignment(MON + W, "alan@example.org", "Alan Turing")], "set", later)
    assert weeks2[0] == weeks[0]                                         # unchanged: untouched
    assert weeks2[1].email == "alan@example.org" and weeks2[1].revision == 2
    assert log2 == [{"at": later.isoformat(), "action": "set", "week": "2026-11-30",
                     "before": "grace@example.org", "after": "alan@example.org"}]
    weeks3, _ = rotation_after(weeks2, [Assignment(MON, None)], "set", later)
    assert [(w.week, w.email, w.name) for w in weeks3] == [(MON + W, "alan@example.org", "Alan Turing")]


def test_the_store_keeps_the_rotation_and_its_log_in_the_tables_of_before(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        assert txn.change_rotation([Assignment(MON, "ada@example.org", "Ada Lovelace")], "load", AT) == 1
        assert txn.rotation()[0].email == "ada@example.org"             # a batch reads its own writes
        txn.commit()
    with store.transaction() as txn:
        assert txn.change_rotation([Assignment(MON, "ada@example.org", "Ada Lovelace")], "load", AT) == 0
        assert txn.change_rotation([Assignment(MON, "grace@example.org", "Grace Hopper")], "swap", AT) == 1
        txn.commit()
    doc = state_json(store)
    assert list(doc["rotation"].values()) == [dict(ROTATION_DOC, email="grace@example.org", name="Grace Hopper",
                                                   action="swap", revision=2)]
    assert [e["after"] for e in doc["rotation_log"].values()] == ["ada@example.org", "grace@example.org"]


def test_health_is_written_under_the_meta_keys_of_before(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        txn.update_health(last_sync="2026-11-24T15:00:00+00:00", last_error=None,
                          send_error=Problem("2026-11-24T15:31:00+00:00", "SMTP refused"))
        txn.note_import("2026-11-24T16:00:00+00:00", "mbox:a", {"fetched": 2})
        assert txn.health().send_error.message == "SMTP refused"
        txn.commit()
    meta = next(iter(state_json(store)["meta"].values()))
    assert meta["last_send_error"] == {"at": "2026-11-24T15:31:00+00:00", "message": "SMTP refused"}
    assert meta["last_import"] == {"at": "2026-11-24T16:00:00+00:00", "source": "mbox:a", "fetched": 2}
    assert "send_error" not in meta
    assert store.health().last_import == "2026-11-24T16:00:00+00:00"


def test_a_live_pass_writes_the_health_status_reads_and_nothing_it_does_not(tmp_path):
    class Feed:                                   # a live stream of one notification
        id = "test-feed"

        def batches(self, position):
            if not position:
                yield [RawMail(goc_mail(41234, "Pilot jobs fail", AT, entries=[(AT, "Jane User", "It fails.")]),
                               "feed:0")], {"next": 1}

    store = Store(tmp_path)
    ingest(Feed(), store, team(), AT + timedelta(minutes=5))
    meta = next(iter(state_json(store)["meta"].values()))
    assert meta["last_sync"] == meta["last_applied_at"] == (AT + timedelta(minutes=5)).isoformat()
    assert meta["last_error"] is None and "last_source" not in meta          # written and never read: gone
    h = store.health()
    assert (h.last_sync, h.last_error, h.last_applied["key"], h.counters["applied"]) == (
        meta["last_sync"], None, "goc:41234", 1)


def test_an_smtp_outage_is_health_until_a_mail_goes(tmp_path):
    store = Store(tmp_path)
    now = local(2026, 11, 24, 9, 31)
    mail = Outgoing("<m1@maildaemon>", "owner", "2026-11-24", ("goc:1",), "duty@example.org", ("ada@example.org",),
                    "Reminder", raw=b"Subject: x\r\n\r\nx\r\n")
    with store.transaction() as txn:
        assert outbox.enqueue(txn, store.dir, mail, now, smtp=True)
        txn.commit()
    sent = []

    class Down:
        def __init__(self, *a, **kw):
            raise SendError("SMTP 127.0.0.1:25: Connection refused")

    class Up:
        def __init__(self, *a, **kw):
            pass

        def send(self, sender, recipients, raw, deadline=None):
            sent.append(recipients)

        def close(self):
            pass

    settings = ServerSettings(host="127.0.0.1", port=25, security="plain")
    assert outbox.deliver(store, settings, now, session_factory=Down) == {"sent": 0, "retry": 1, "failed": 0}
    problem = store.health().send_error
    assert problem is not None and "Connection refused" in problem.message
    assert store.view().outbox_record(mail.message_id).last_error == problem.message
    assert outbox.deliver(store, settings, now + timedelta(minutes=1), session_factory=Up)["sent"] == 1
    assert sent == [["ada@example.org"]] and store.health().send_error is None
    assert store.view().outbox_record(mail.message_id) == replace(
        store.view().outbox_record(mail.message_id), state="sent", last_error=None)
