"""ingest.py: the stream in, safe to kill at any moment (SPEC 4: "A message is applied once ...
whatever restarts, re-deliveries or folder resets happen"; SPEC 9: "commits at least every few
seconds, so a restart resumes after the mails already handled").

The source is a stand-in in memory with the shape every source has (source/__init__.py:
`batches(position)` yields `(mails, position_after)`, each mail carrying the position after it),
so a test can break it, reset it or move its position behind ingest's back. What the operator sees
is read through the command line (`tickets`, `status`).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from builders import CST, goc_mail
from maildaemon import ingest as ingest_module
from maildaemon.config import load_team
from maildaemon.ingest import ingest
from maildaemon.model import RawMail
from maildaemon.source import SourceError
from maildaemon.store import Store

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
SOURCE = "test:stream"


def notifications(n: int) -> list[bytes]:
    """`n` updates of three tickets, an hour apart."""
    return [goc_mail(41300 + i % 3, f"Ticket {i % 3}", datetime(2026, 11, 23, 9 + i, tzinfo=CST), n=i)
            for i in range(n)]


class Stream:
    """A live source in memory: `mails` in batches of `size`; its position is how many were read.
    `remote` (as IMAP): ingest commits each batch. `broken_at`: the batch starting there raises
    SourceError; `crash_after`: reading stops dead after that many mails of a batch (a kill)."""

    def __init__(self, mails: list[bytes], size: int = 2, remote: bool = True):
        self.id, self.mails, self.size, self.remote = SOURCE, mails, size, remote
        self.broken_at: int | None = None
        self.crash_after: int | None = None
        self.forget = False                    # start over whatever the position (a folder reset)
        self.asked: list = []

    def batches(self, position):
        self.asked.append(position)
        start = 0 if self.forget else (position or {}).get("read", 0)
        for i in range(start, len(self.mails), self.size):
            if self.broken_at is not None and i >= self.broken_at:
                raise SourceError(f"{SOURCE}: connection lost")
            yield self._batch(i), {"read": min(i + self.size, len(self.mails))}

    def _batch(self, i: int):
        for j in range(i, min(i + self.size, len(self.mails))):
            if self.crash_after is not None and j >= self.crash_after:
                raise KeyboardInterrupt("killed")
            yield RawMail(self.mails[j], f"{SOURCE}:{j}", position={"read": j + 1})


@pytest.fixture
def run(cli):
    store = Store(cli.root / "state")
    team = load_team(cli.team_file)
    return lambda source: ingest(source, store, team, NOW)


def messages(cli) -> dict[str, int]:
    return {t["key"]: t["messages"] for t in json.loads(cli("tickets", "--json", "--all")[1])}


def position(cli) -> dict | None:
    return Store(cli.root / "state").view().position(SOURCE)


def test_a_pass_the_source_breaks_keeps_what_it_read_says_why_and_the_next_resumes_after_it(cli, run):
    stream = Stream(notifications(6))
    stream.broken_at = 4
    with pytest.raises(SourceError):
        run(stream)
    assert position(cli) == {"read": 4} and sum(messages(cli).values()) == 4
    status = json.loads(cli("status", "--json")[1])
    assert status["last_error"]["message"] == f"{SOURCE}: connection lost"
    stream.broken_at = None
    counts = run(stream)
    assert (counts.fetched, counts.applied, counts.duplicate) == (2, 2, 0)
    assert stream.asked[-1] == {"read": 4}                        # resumed after what was committed
    assert messages(cli) == {"goc:41300": 2, "goc:41301": 2, "goc:41302": 2}
    assert json.loads(cli("status", "--json")[1])["last_error"] is None


def test_a_source_that_starts_over_applies_nothing_twice(cli, run):
    stream = Stream(notifications(5))
    assert run(stream).applied == 5
    stream.forget = True                                          # UIDVALIDITY changed, a folder reset
    counts = run(stream)
    assert (counts.fetched, counts.applied, counts.duplicate) == (5, 0, 5)
    assert messages(cli) == {"goc:41300": 2, "goc:41301": 2, "goc:41302": 1}


def test_a_long_local_batch_commits_as_it_goes_so_a_kill_loses_only_the_mail_in_hand(cli, run, monkeypatch):
    monkeypatch.setattr(ingest_module, "COMMIT_SECONDS", 0.0)      # every mail is "a few seconds" of work
    stream = Stream(notifications(6), size=6, remote=False)       # one batch, one transaction
    stream.crash_after = 4
    with pytest.raises(KeyboardInterrupt):
        run(stream)
    read = position(cli)["read"]                  # committed part way (how often: the pace's business)
    assert 1 <= read <= 4 and sum(messages(cli).values()) == read      # the changes with their position
    stream.crash_after = None
    assert run(stream).applied == 6 - read and sum(messages(cli).values()) == 6


def test_a_kill_before_the_first_commit_leaves_nothing_half_done(cli, run):
    stream = Stream(notifications(6), size=6, remote=False)
    stream.crash_after = 4
    with pytest.raises(KeyboardInterrupt):
        run(stream)
    assert position(cli) is None and messages(cli) == {}
    stream.crash_after = None
    assert run(stream).applied == 6 and sum(messages(cli).values()) == 6


def test_a_position_another_maildaemon_moved_leaves_the_stream_to_it(cli, run):
    stream = Stream(notifications(4))
    real = stream.batches

    def behind_our_back(position):
        with Store(cli.root / "state").transaction() as txn:     # another process committed meanwhile
            txn.set_position(SOURCE, {"read": 2})
            txn.commit()
        yield from real(position)

    stream.batches = behind_our_back
    counts = run(stream)
    assert (counts.fetched, counts.applied) == (0, 0) and messages(cli) == {}
    assert position(cli) == {"read": 2}
