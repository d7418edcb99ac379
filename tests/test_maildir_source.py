"""MaildirSource on a plain tmp_path Maildir: order, position, pruning, and never touching files."""
from __future__ import annotations

import os
import time

import pytest

from maildaemon.source import SourceError
from maildaemon.source.maildir import MaildirSource, key_of


def msg(n: int) -> bytes:
    return f"Message-ID: <m{n}@example.org>\nSubject: ticket {n}\n\nbody {n}\n".encode()


def make_maildir(root):
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(root, name: str, data: bytes, mtime: float, sub: str = "new"):
    path = root / sub / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def snapshot(root):
    """Every file with its bytes and mtime: the source must leave all of it as it was."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file()}


def collect(source, position):
    out = list(source.batches(position))
    return [m for mails, _ in out for m in mails], out


def test_new_and_cur_with_flag_suffixes_in_mtime_order(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "1700000003.M3P1.host", msg(3), 3000)
    deliver(box, "1700000001.M1P1.host:2,S", msg(1), 1000, sub="cur")
    deliver(box, "1700000002.M2P1.host:2,RS", msg(2), 2000, sub="cur")
    deliver(box, "1700000000.M0P1.host:2,", msg(0), 2000, sub="cur")     # same mtime: key decides
    (box / "cur" / ".hidden").write_bytes(b"not mail")
    (box / "tmp" / "1700000009.M9P1.host").write_bytes(msg(9))          # still being written
    before = snapshot(box)

    mails, out = collect(MaildirSource(box), None)

    assert [m.data for m in mails] == [msg(1), msg(0), msg(2), msg(3)]
    assert [m.origin for m in mails] == ["maildir:1700000001.M1P1.host", "maildir:1700000000.M0P1.host",
                                         "maildir:1700000002.M2P1.host", "maildir:1700000003.M3P1.host"]
    assert out[-1][1]["seen"] == sorted(m.origin.split(":", 1)[1] for m in mails)
    assert snapshot(box) == before          # read-only: nothing moved, renamed or flagged


def test_batches_of_100_with_cumulative_position(tmp_path):
    box = make_maildir(tmp_path / "box")
    for n in range(250):
        deliver(box, f"k{n:04d}", msg(n), 1000 + n)
    out = list(MaildirSource(box).batches(None))
    assert [len(mails) for mails, _ in out] == [100, 100, 50]
    assert [len(pos["seen"]) for _, pos in out] == [100, 200, 250]
    assert out[0][1]["seen"] == sorted(f"k{n:04d}" for n in range(100))


def test_stored_position_yields_only_new_mail(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "a", msg(1), 1000)
    source = MaildirSource(box)
    (_, position), = source.batches(None)
    assert list(source.batches(position)) == []

    # a reader moves the seen message to cur/ and flags it: same key, still seen
    os.rename(box / "new" / "a", box / "cur" / "a:2,S")
    deliver(box, "b", msg(2), 2000)
    mails, out = collect(source, position)
    assert [m.origin for m in mails] == ["maildir:b"]
    assert out[-1][1]["seen"] == ["a", "b"]


def test_vanished_keys_are_pruned_from_the_position(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "keep:2,S", msg(1), 1000, sub="cur")
    deliver(box, "new1", msg(2), 2000)
    mails, out = collect(MaildirSource(box), {"seen": ["gone-1", "keep", "gone-2"]})
    assert [m.origin for m in mails] == ["maildir:new1"]
    assert out[-1][1]["seen"] == ["keep", "new1"]


def test_empty_maildir_yields_nothing(tmp_path):
    assert list(MaildirSource(make_maildir(tmp_path / "box")).batches(None)) == []


def test_not_a_maildir(tmp_path):
    with pytest.raises(SourceError, match="is not a Maildir"):
        list(MaildirSource(tmp_path / "missing").batches(None))
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match="is not a Maildir"):
        list(MaildirSource(tmp_path / "plain").batches(None))


def test_key_of():
    assert key_of("1700000000.M1P2.host:2,FRS") == "1700000000.M1P2.host"
    assert key_of("1700000000.M1P2.host") == "1700000000.M1P2.host"


# --- size limit and per-mail positions -------------------------------------------------------

HEADER = b"From: rt@example.org\nMessage-ID: <big@example.org>\nSubject: [rt #9] big\n\n"


def test_a_file_over_the_limit_is_read_as_its_header_only(tmp_path):
    box = make_maildir(tmp_path / "box")
    huge = HEADER + b"y" * 76 * 1000 + b"\n"
    deliver(box, "a", msg(1), 1000)
    deliver(box, "b:2,S", huge, 2000, sub="cur")
    deliver(box, "c", msg(3), 3000)
    mails, _ = collect(MaildirSource(box, max_bytes=8192), None)
    assert [m.data for m in mails] == [msg(1), HEADER, msg(3)]
    assert [m.oversize for m in mails] == [0, len(huge), 0]
    # a file exactly at the limit is not over it; a header alone longer than 64 KiB is cut there
    deliver(box, "d", b"X-Long: " + b"h" * 100_000 + b"\n\nbody\n", 4000)
    exact = collect(MaildirSource(box, max_bytes=len(msg(1))), None)[0][0]
    assert exact.data == msg(1) and exact.oversize == 0
    long_header = collect(MaildirSource(box, max_bytes=8192), {"seen": ["a", "b", "c"]})[0][0]
    assert long_header.origin == "maildir:d" and long_header.oversize > 100_000
    assert len(long_header.data) == 64 * 1024 and long_header.data.startswith(b"X-Long: hhh")


def test_batches_are_cut_by_bytes_too(tmp_path):
    box = make_maildir(tmp_path / "box")
    for n in range(6):
        deliver(box, f"k{n}", msg(n) + b"z" * 3000, 1000 + n)
    out = list(MaildirSource(box, max_bytes=4096, batch_bytes=7000).batches(None))
    assert [len(mails) for mails, _ in out] == [3, 3]


def test_per_mail_positions_grow_and_the_last_is_the_batch_position(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "old", msg(0), 500)
    for n in range(1, 8):
        deliver(box, f"k{n}", msg(n), 1000 + n)
    source = MaildirSource(box, batch_size=3)
    out = list(source.batches({"seen": ["old", "gone"]}))
    mails = [m for batch, _ in out for m in batch]
    covered = [set(m.position["seen"]) | set(m.position.get("more", ())) for m in mails]
    assert covered == [{"old"} | {f"k{i}" for i in range(1, n + 1)} for n in range(1, 8)]
    for batch, after in out:
        assert batch[-1].position == after and set(after) == {"mark", "seen"}
    # any mail's position, stored and given back, resumes right after that mail
    for n, mail in enumerate(mails, start=1):
        rest = [m.origin for batch, _ in source.batches(mail.position) for m in batch]
        assert rest == [f"maildir:k{i}" for i in range(n + 1, 8)]


MAKE_SOURCE = """
from maildaemon.source.maildir import MaildirSource
source = MaildirSource(sys.argv[1], max_bytes=int(sys.argv[2]))
"""


def test_memory_stays_bounded_by_the_limit_not_the_mail(tmp_path):
    from rss import read_in_child
    limit = 1024 * 1024
    box = make_maildir(tmp_path / "box")
    deliver(box, "a", msg(1), 1000)
    with open(box / "new" / "b", "wb") as f:
        f.write(HEADER)
        for _ in range(60):
            f.write(b"y" * 999_999 + b"\n")
    os.utime(box / "new" / "b", (2000, 2000))
    result = read_in_child(MAKE_SOURCE, box, limit)
    assert result["mails"] == [[len(msg(1)), 0], [len(HEADER), len(HEADER) + 60_000_000]]
    assert result["growth"] < 4 * limit, result


DAY = 86400


def test_the_position_holds_a_week_of_mail_not_the_whole_folder(tmp_path):
    """The position lives in the state every command reads: a year of mail in the folder must
    not mean a year of keys in it. Mail older than a week behind the newest read stays read."""
    box = make_maildir(tmp_path / "box")
    t0 = 1_700_000_000
    for n in range(30):                                       # a month of mail, one a day
        deliver(box, f"d{n:02d}", msg(n), t0 + n * DAY)
    source = MaildirSource(box)
    mails, out = collect(source, None)
    assert len(mails) == 30
    position = out[-1][1]
    assert position["mark"] == t0 + 29 * DAY
    assert position["seen"] == [f"d{n:02d}" for n in range(22, 30)]     # the last 7 days (and the edge)
    deliver(box, "late", msg(99), t0 + 29 * DAY + 60)
    mails, out = collect(MaildirSource(box), position)              # a restart: a new source object
    assert [m.origin for m in mails] == ["maildir:late"]             # nothing old read again
    assert collect(MaildirSource(box), out[-1][1])[0] == []


def test_a_position_written_before_the_mark_reads_nothing_twice(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "a", msg(1), 1000)
    deliver(box, "b", msg(2), 1000 + 30 * DAY)
    deliver(box, "c", msg(3), 1000 + 31 * DAY)
    mails, out = collect(MaildirSource(box), {"seen": ["a", "b"]})
    assert [m.origin for m in mails] == ["maildir:c"]
    assert out[-1][1] == {"mark": 1000 + 31 * DAY, "seen": ["b", "c"]}


def test_a_quiet_poll_then_a_delivery_and_a_readers_move(tmp_path):
    """After a pass over a folder that has not changed for a while, the next poll looks at the
    folders' mtimes only; a delivery changes new/, so it is read at once; a reader moving a read
    mail to cur/ changes both, and the mail is not read again."""
    box = make_maildir(tmp_path / "box")
    deliver(box, "a", msg(1), 1000)
    for sub in ("new", "cur"):
        os.utime(box / sub, (5000, 5000))                     # a folder untouched for long
    source = MaildirSource(box)
    (_, position), = source.batches(None)
    assert list(source.batches(position)) == []
    deliver(box, "b", msg(2), 2000)                            # new/ changes now
    mails, out = collect(source, position)
    assert [m.origin for m in mails] == ["maildir:b"]
    position = out[-1][1]
    os.rename(box / "new" / "b", box / "cur" / "b:2,S")
    assert collect(source, position)[0] == []


def test_the_daemon_reads_a_maildir_every_poll_interval_and_a_signal_ends_the_wait(tmp_path):
    """`wait` (the LiveSource side the daemon uses): the first pass is due at once, the next one
    `poll_seconds` later; a byte on the wake pipe (a signal) ends a wait early, with no pass."""
    source = MaildirSource(make_maildir(tmp_path / "box"), poll_seconds=1)
    r, w = os.pipe()
    try:
        start = time.monotonic()
        assert source.wait(0, r) is True
        assert source.wait(0.1, r) is False                    # waited, and the pass is not due
        assert time.monotonic() - start >= 0.1
        assert source.wait(5, r) is True                       # the poll, 1 s after the first pass
        assert 0.9 <= time.monotonic() - start < 4
        os.write(w, b"\x01")
        start = time.monotonic()
        assert source.wait(5, r) is False and time.monotonic() - start < 2
    finally:
        os.close(r)
        os.close(w)
    source.close()                                             # nothing held: nothing to do
