"""The state file: atomic commits, one writer at a time, readers never blocked, kill -9 safe."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from maildaemon.model import Ticket
from maildaemon.store import Store, StoreError


def test_nothing_reaches_disk_before_commit(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        txn.put_ticket(Ticket(key="rt:1", system="rt", id="1", title="A"))
        txn.record_message("<a@x>", "applied", ticket="rt:1")
        txn.set_position("src", {"last_uid": 5})
        assert store.view().ticket("rt:1") is None          # readers see the old state meanwhile
        assert txn.ticket("rt:1").title == "A"               # the writer sees its own writes
        txn.commit()
    view = store.view()
    assert view.ticket("rt:1").title == "A"
    assert view.position("src") == {"last_uid": 5}
    assert view.message("<a@x>")["outcome"] == "applied"


def test_updates_replace_documents_and_inserts_add(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        for i in range(5):
            txn.put_ticket(Ticket(key=f"rt:{i}", system="rt", id=str(i), title=f"t{i}"))
        txn.commit()
        txn.put_ticket(Ticket(key="rt:2", system="rt", id="2", title="changed"))
        txn.put_ticket(Ticket(key="rt:9", system="rt", id="9", title="new"))
        txn.commit()
    titles = {t.key: t.title for t in store.view().tickets()}
    assert titles == {"rt:0": "t0", "rt:1": "t1", "rt:2": "changed", "rt:3": "t3", "rt:4": "t4", "rt:9": "new"}


def test_a_rerecorded_message_keeps_one_record(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as txn:
        txn.record_message("<a@x>", "quarantined")
        txn.commit()
        txn.record_message("<a@x>", "applied")
        txn.commit()
    with store.transaction() as txn:
        assert txn.seen("<a@x>") == "applied"
    assert store.view().message_count() == 1


def test_uncommitted_batch_is_lost_as_a_whole(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        with store.transaction() as txn:
            txn.put_ticket(Ticket(key="rt:1", system="rt", id="1"))
            txn.set_position("src", {"last_uid": 9})
            raise RuntimeError("crash before commit")
    assert store.view().tickets() == [] and store.view().position("src") is None


def test_second_writer_waits_then_reports_the_lock(tmp_path):
    store = Store(tmp_path)
    with store.transaction():
        with pytest.raises(StoreError, match="locked by another maildaemon"):
            with Store(tmp_path).transaction(wait=0.2):
                pass
        assert store.view().tickets() == []                 # reading is never blocked


def test_a_corrupt_state_file_is_a_clear_error(tmp_path):
    (tmp_path / "maildaemon.json").write_text('{"tickets": {"1": ')
    with pytest.raises(StoreError, match="not valid JSON"):
        Store(tmp_path).view()


WRITER = textwrap.dedent("""
    import sys
    from maildaemon.model import Ticket
    from maildaemon.store import Store
    store = Store(sys.argv[1])
    n = 0
    with store.transaction() as txn:
        while True:
            n += 1
            # shrinking and growing documents: the case that corrupts TinyDB's own storage
            txn.put_ticket(Ticket(key="rt:1", system="rt", id="1", title="x" * (20000 if n % 2 else 10)))
            txn.put_ticket(Ticket(key=f"rt:{n + 1}", system="rt", id=str(n + 1)))
            txn.record_message(f"<{n}@x>", "applied", ticket=f"rt:{n + 1}")
            txn.set_position("src", {"last_uid": n})
            txn.commit()
""")


def test_kill_9_at_random_moments_never_leaves_a_broken_or_inconsistent_state(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    rnd = random.Random(3)
    for _ in range(12):
        p = subprocess.Popen([sys.executable, str(script), str(tmp_path / "state")], env=env)
        deadline = time.monotonic() + 60            # a loaded machine may start Python slowly:
        while not (tmp_path / "state" / "maildaemon.json").exists() and time.monotonic() < deadline:
            time.sleep(0.01)                        # kill only once the writer has committed once
        time.sleep(rnd.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        raw = (tmp_path / "state" / "maildaemon.json").read_bytes()
        json.loads(raw)                                    # never half-written
        view = Store(tmp_path / "state").view()
        last = view.position("src")["last_uid"]
        # the position and the effects were committed together
        assert view.message_count() >= last
        assert view.message(f"<{last}@x>") is not None
        assert view.ticket(f"rt:{last + 1}") is not None


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"), (b"\n  \n", "is empty"), (b'{"tickets": []}', "table 'tickets' as an array"),
    (b'"state"', "holds a string"), (b'{"messages": {"1": {"outcome": "applied"}}}', "without a text 'id'"),
])
def test_an_empty_or_malformed_state_file_is_never_a_fresh_state(tmp_path, content, problem):
    (tmp_path / "maildaemon.json").write_bytes(content)
    for open_it in (lambda: Store(tmp_path).view(), lambda: Store(tmp_path).transaction().__enter__()):
        with pytest.raises(StoreError) as e:
            open_it()
        assert str(tmp_path / "maildaemon.json") in str(e.value) and problem in str(e.value)
        assert "\n" not in str(e.value)
    assert (tmp_path / "maildaemon.json").read_bytes() == content


def test_a_ticket_that_does_not_load_names_the_file(tmp_path):
    (tmp_path / "maildaemon.json").write_text(json.dumps(
        {"tickets": {"1": {"key": "rt:1", "system": "rt", "id": "1", "no_such_field": 1, "history": [{"x": 1}]}}}))
    with pytest.raises(StoreError, match="ticket 'rt:1' does not load"):
        Store(tmp_path).view()


def test_the_lock_is_never_a_link(tmp_path):
    from maildaemon.atomic import StateIOError
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "lock").symlink_to(target)
    with pytest.raises(StateIOError, match="lock is a symbolic link"):
        with Store(tmp_path / "state").transaction():
            pass
    assert target.read_text() == "keep"
