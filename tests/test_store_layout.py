"""The state's layout at scale (issue 14): hot state in maildaemon.json, history in append-only logs.

What a user would see if it went wrong: a ticket whose history is gone, a finished ticket missing
from `tickets --all`, a handoff whose counts change once old tickets leave the state file, a mail
applied twice after a crash, or a state written by the previous release read again from the stream.
"""
import json
from dataclasses import replace
import logging
import random
from datetime import timedelta

import pytest

from builders import LEDGER, TRIAGE, fold, local, team
from maildaemon.handoff import handoff
from maildaemon.model import Ticket
from maildaemon.store import ARCHIVE_AFTER, LOG_DIR, Store

TEAM = team()


def closed_ticket(key, opened, closed_after=timedelta(days=2)):
    return fold(TEAM, key,
                (opened, dict(title=f"t {key}", status="open", assignees=(TRIAGE,), actor="GOC")),
                (opened + timedelta(hours=3), dict(assignees=(TRIAGE, "Ada Lovelace"), actor="GOC")),
                (opened + closed_after, dict(status="closed", actor="Ada Lovelace")))


def open_ticket(key, opened):
    return fold(TEAM, key, (opened, dict(title=f"t {key}", status="open", assignees=(TRIAGE,), actor="GOC")),
                (opened + timedelta(hours=1), dict(actor="Jane User", summary="more details")))


def state_json(store):
    return json.loads((store.dir / "maildaemon.json").read_bytes())


def one_archived(tmp_path):
    """goc:1 closed, then goc:2 opened a quarter and three days later: goc:1 leaves the state file."""
    store = Store(tmp_path)
    start = local(2026, 1, 5, 10)
    with store.transaction() as txn:
        txn.put_ticket(closed_ticket("goc:1", start))
        txn.put_ticket(open_ticket("goc:2", start + ARCHIVE_AFTER + timedelta(days=3)))
        txn.commit()
    return store, start


def test_a_finished_quiet_ticket_leaves_the_state_file_and_stays_listed(tmp_path):
    store, start = one_archived(tmp_path)
    doc = state_json(store)
    assert [d["key"] for d in doc["tickets"].values()] == ["goc:2"]     # goc:1 is in the log now
    view = store.view()
    assert [t.key for t in view.current()] == ["goc:2"]
    assert [t.key for t in view.tickets()] == ["goc:1", "goc:2"]          # `tickets --all`
    listed = Store(tmp_path).view().tickets(history=False)                 # what its table and JSON read
    assert [replace(t, history=()) for t in listed] == [replace(t, history=()) for t in view.tickets()]
    assert listed[0].history == () and listed[0].messages == 3 and listed[1].history == view.current()[0].history
    assert view.ticket("goc:1").status == "closed"
    assert "created" in view.history("goc:1")[0].kinds
    assert len(view.history("goc:1")) == 3 and view.ticket("goc:1").messages == 3
    assert view.status_counts() == {"closed": 1, "open": 1}


def test_an_archived_ticket_that_changes_again_comes_back(tmp_path):
    store, start = one_archived(tmp_path)
    from builders import change
    from maildaemon.apply import apply
    later = start + ARCHIVE_AFTER + timedelta(days=4)
    with store.transaction() as txn:
        old = txn.ticket("goc:1")
        assert old is not None and old.status == "closed"
        t, _ = apply(old, change("goc:1", later, 9, status="open", actor="Jane User", summary="it broke again"), TEAM)
        txn.put_ticket(t)
        txn.commit()
    view = store.view()
    assert {t.key for t in view.current()} == {"goc:1", "goc:2"}
    assert view.status_counts() == {"open": 2}
    assert [t.key for t in view.tickets()] == ["goc:1", "goc:2"]          # once, not twice
    assert [h.summary for h in view.history("goc:1")][-1] == "it broke again"
    assert len(view.history("goc:1")) == 4


def test_the_handoff_is_the_same_from_the_hot_state_as_from_every_ticket(tmp_path):
    """Archiving must not change a single count: a year of random tickets, the handoff from
    `current()` (what the daemon reads) equals the handoff from all tickets."""
    rnd = random.Random(14)
    store = Store(tmp_path)
    start = local(2025, 11, 3, 9)
    tickets = []
    for i in range(400):
        opened = start + timedelta(hours=rnd.randrange(0, 24 * 7 * 56))
        if rnd.random() < 0.85:
            tickets.append(closed_ticket(f"goc:{i}", opened, timedelta(hours=rnd.randrange(2, 24 * 40))))
        else:
            tickets.append(open_ticket(f"goc:{i}", opened))
    tickets.sort(key=lambda t: t.updated_at)
    for chunk in range(0, len(tickets), 50):
        with store.transaction() as txn:
            for t in tickets[chunk:chunk + 50]:
                txn.put_ticket(t)
            txn.commit()
    view = store.view()
    current, every = view.current(), view.tickets()
    assert len(current) < len(every) / 2                                  # most of the year left the file
    assert sorted(t.key for t in every) == sorted(t.key for t in tickets)
    now = max(t.updated_at for t in tickets)
    from maildaemon.model import parse_iso
    when = parse_iso(now) + timedelta(hours=1)
    assert handoff(current, LEDGER, TEAM, when).data == handoff(every, LEDGER, TEAM, when).data


FIRST_LAYOUT = {
    "tickets": {"1": {"key": "rt:7", "system": "rt", "id": "7", "title": "Cannot install", "status": "resolved",
                      "opened_at": "2025-01-06T15:00:00+00:00", "updated_at": "2025-01-08T15:00:00+00:00",
                      "history": [
                          {"message_id": "<a@rt>", "at": "2025-01-06T15:00:00+00:00", "kinds": ["created"],
                           "status": "open"},
                          {"message_id": "<b@rt>", "at": "2025-01-07T15:00:00+00:00", "kinds": ["commented"],
                           "summary": "tried again", "status": "open"},
                          {"message_id": "<c@rt>", "at": "2025-01-08T15:00:00+00:00", "kinds": ["status", "closed"],
                           "status": "resolved"}]},
                "2": {"key": "rt:8", "system": "rt", "id": "8", "title": "Still open", "status": "open",
                      "opened_at": "2025-06-02T15:00:00+00:00", "updated_at": "2025-06-02T15:00:00+00:00",
                      "history": [{"message_id": "<d@rt>", "at": "2025-06-02T15:00:00+00:00",
                                   "kinds": ["created"], "status": "open"}]}},
    "messages": {str(i + 1): {"id": mid, "outcome": "applied", "ticket": key}
                 for i, (mid, key) in enumerate([("<a@rt>", "rt:7"), ("<b@rt>", "rt:7"), ("<c@rt>", "rt:7"),
                                                 ("<d@rt>", "rt:8")])}
    | {"5": {"id": "<spam@x>", "outcome": "quarantined", "reason": "untrusted sender"}},
    "sources": {"1": {"id": "imap:INBOX", "position": {"uidvalidity": 9, "last_uid": 5}}},
    "meta": {"1": {"counters": {"fetched": 5, "applied": 4, "quarantined": 1}}},
}


def test_a_state_of_the_first_layout_is_upgraded_in_place_once(tmp_path, caplog):
    (tmp_path / "maildaemon.json").write_text(json.dumps(FIRST_LAYOUT))
    tmp_path.chmod(0o700)
    store = Store(tmp_path)
    before = store.view()                                    # a reader before the upgrade sees it all
    assert before.message_count() == 5 and len(before.history("rt:7")) == 3
    with caplog.at_level(logging.INFO, logger="maildaemon"):
        with store.transaction() as txn:
            assert txn.seen("<b@rt>") == "applied" and txn.seen("<spam@x>") == "quarantined"
    upgraded = [r.getMessage() for r in caplog.records if "upgraded" in r.getMessage()]
    assert upgraded == [f"state upgraded in place: 2 tickets' history and 5 Message-IDs moved to {tmp_path / LOG_DIR}/"]
    doc = state_json(store)
    assert "messages" not in doc or not doc["messages"]
    assert all(len(t["history"]) <= 2 for t in doc["tickets"].values())     # only the status-setting entries
    view = store.view()
    assert view.message_count() == 5 and view.position("imap:INBOX") == {"uidvalidity": 9, "last_uid": 5}
    assert [h.summary for h in view.history("rt:7")] == ["", "tried again", ""]
    assert view.message("<spam@x>")["reason"] == "untrusted sender"
    assert view.ticket("rt:7").messages == 3 and view.status_counts() == {"resolved": 1, "open": 1}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="maildaemon"):
        with store.transaction() as txn:
            txn.commit()
    assert not [r for r in caplog.records if "upgraded" in r.getMessage()]
    assert store.view().message_count() == 5


def test_a_tail_no_commit_owns_is_never_read_and_is_cut(tmp_path):
    """A crash between the log append and the state file's replace leaves bytes past the
    committed length: the Message-ID in them was never applied, so it must not count as seen."""
    store = Store(tmp_path)
    with store.transaction() as txn:
        txn.record_message("<one@x>", "applied", ticket="rt:1")
        txn.commit()
    messages = tmp_path / LOG_DIR / "messages.jsonl"
    committed = messages.stat().st_size
    with messages.open("ab") as f:
        f.write(b'{"id":"<ghost@x>","outcome":"applied"}\n{"id":"<half')
    view = store.view()
    assert view.message("<ghost@x>") is None and view.message_count() == 1
    with store.transaction() as txn:
        assert txn.seen("<ghost@x>") is None
        txn.record_message("<two@x>", "applied", ticket="rt:2")
        txn.commit()
    data = messages.read_bytes()
    assert b"ghost" not in data and b"<half" not in data and data.startswith(messages.read_bytes()[:committed])
    assert store.view().message_count() == 2 and store.view().message("<two@x>")["outcome"] == "applied"


def test_a_log_that_lost_committed_bytes_is_an_error_not_a_fresh_history(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        for i in range(3):
            txn.record_message(f"<{i}@x>", "applied")
        txn.commit()
    messages = tmp_path / LOG_DIR / "messages.jsonl"
    messages.write_bytes(messages.read_bytes()[:10])
    with pytest.raises(OSError, match="shorter .* than the state records"):
        with store.transaction() as txn:
            txn.record_message("<3@x>", "applied")
            txn.commit()


def test_a_log_replaced_by_a_link_is_refused(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        txn.record_message("<0@x>", "applied")
        txn.commit()
    target = tmp_path.parent / "elsewhere.jsonl"
    target.write_bytes(b"")
    messages = tmp_path / LOG_DIR / "messages.jsonl"
    messages.unlink()
    messages.symlink_to(target)
    with pytest.raises(OSError, match="link"):
        with store.transaction() as txn:
            txn.record_message("<1@x>", "applied")
            txn.commit()
    assert target.read_bytes() == b""


def test_the_daemons_index_of_seen_mail_follows_other_writers(tmp_path):
    """The Store keeps the Message-ID index between transactions; a commit by another process
    (a `sync` run by hand) must be seen by the next transaction of the long-lived one."""
    daemon, other = Store(tmp_path), Store(tmp_path)
    with daemon.transaction() as txn:
        txn.record_message("<a@x>", "applied")
        txn.commit()
    with other.transaction() as txn:
        assert txn.seen("<a@x>") == "applied"
        txn.record_message("<b@x>", "ignored")
        txn.commit()
    with daemon.transaction() as txn:
        assert txn.seen("<b@x>") == "ignored"
        assert txn.seen("<c@x>") is None


def test_put_ticket_logs_each_history_entry_once(tmp_path):
    store = Store(tmp_path)
    t = open_ticket("goc:5", local(2026, 3, 2, 9))
    for _ in range(3):                              # the same ticket written by three batches
        with store.transaction() as txn:
            txn.put_ticket(txn.ticket("goc:5") or t)
            txn.commit()
    assert len(store.view().history("goc:5")) == 2
    lines = (tmp_path / LOG_DIR / "changes.jsonl").read_bytes().splitlines()
    assert len(lines) == 2
    assert isinstance(store.view().ticket("goc:5"), Ticket)


def test_mails_sent_a_quarter_ago_leave_the_outbox_and_still_count(tmp_path):
    from maildaemon import outbox
    from maildaemon.model import Outgoing
    store = Store(tmp_path)
    first = local(2026, 1, 5, 9)

    def mail(n):
        return Outgoing(message_id=f"<m{n}@maildaemon>", kind="owner", period=f"2026-01-0{n}", tickets=("goc:1",),
                        sender="team@example.org", recipients=("ada@example.org",), subject="s", raw=b"x")

    with store.transaction() as txn:
        assert outbox.enqueue(txn, store.dir, mail(1), first, smtp=False)
        assert outbox.retire(txn, store.dir, first) == []            # a fresh mail stays
        txn.commit()
    later = first + outbox.KEEP + timedelta(days=1)
    with store.transaction() as txn:
        assert outbox.enqueue(txn, store.dir, mail(2), later, smtp=False)
        files = outbox.retire(txn, store.dir, later)
        txn.commit()
    outbox.remove_files(store.dir, files)
    view = store.view()
    assert list(view.outbox()) == ["<m2@maildaemon>"]
    assert outbox.summary(view.outbox(), view.outbox_retired())["written"] == 2
    assert not (tmp_path / "outbox" / outbox.file_name("<m1@maildaemon>")).exists()
    assert (tmp_path / "outbox" / outbox.file_name("<m2@maildaemon>")).exists()
    assert b"<m1@maildaemon>" in (tmp_path / LOG_DIR / "outbox.jsonl").read_bytes()
