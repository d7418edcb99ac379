"""MaildirSource on a plain tmp_path Maildir: order, position, pruning, and never touching files."""
from __future__ import annotations

import os

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
    assert out[-1][1] == {"seen": sorted(m.origin.split(":", 1)[1] for m in mails)}
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
    assert out[-1][1] == {"seen": ["a", "b"]}


def test_vanished_keys_are_pruned_from_the_position(tmp_path):
    box = make_maildir(tmp_path / "box")
    deliver(box, "keep:2,S", msg(1), 1000, sub="cur")
    deliver(box, "new1", msg(2), 2000)
    mails, out = collect(MaildirSource(box), {"seen": ["gone-1", "keep", "gone-2"]})
    assert [m.origin for m in mails] == ["maildir:new1"]
    assert out[-1][1] == {"seen": ["keep", "new1"]}


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
