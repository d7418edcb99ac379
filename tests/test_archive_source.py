"""ArchiveSource and count() on plain files: mbox (incl. From_ quoting), Maildir, and non-mailboxes."""
from __future__ import annotations

import mailbox
import os

import pytest

from maildaemon.source import SourceError
from maildaemon.source.archive import ArchiveSource, count, kind, unquote_from


def msg(n: int, body: str = "") -> bytes:
    return (f"From: rt@example.org\nMessage-ID: <m{n}@example.org>\nSubject: [rt #{n}] ticket\n\n"
            f"{body or f'body {n}'}\n").encode()


def all_mails(path, **kw):
    return [m for mails, pos in ArchiveSource(path, **kw).batches(None) for m in mails]


def test_mbox_written_by_the_stdlib_round_trips_a_from_line_in_a_body(tmp_path):
    path = tmp_path / "list.mbox"
    box = mailbox.mbox(str(path))
    tricky = "first line\n\nFrom the desk of the operator: restarted.\n>From an older quote\nend"
    for n, body in enumerate(["one", tricky, "three"], start=1):
        box.add(msg(n, body))
    box.close()
    raw = path.read_bytes()
    assert b"\n>From the desk" in raw and b"\n>>From an older" not in raw   # stdlib writes mboxo

    mails = all_mails(path)
    assert len(mails) == 3 == count(path)          # the body's From_ line did not split a message
    assert b"\nFrom the desk of the operator" in mails[1].data
    assert mails[0].data.startswith(b"From: rt@example.org\n")
    where = os.path.abspath(path)
    assert [m.origin for m in mails] == [f"mbox:{where}#1", f"mbox:{where}#2", f"mbox:{where}#3"]


def test_mboxrd_quoting_loses_exactly_one_level(tmp_path):
    path = tmp_path / "rd.mbox"
    path.write_bytes(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + msg(1, "a\n>From x\n>>From y\nFrom-ish") +
                     b"\nFrom MAILER-DAEMON Thu Jan  1 00:00:01 2026\n" + msg(2) + b"\n")
    mails = all_mails(path)
    assert len(mails) == 2
    assert b"\nFrom x\n>From y\nFrom-ish\n" in mails[0].data
    assert mails[1].data == msg(2)


def test_mbox_bytes_are_kept_as_bytes(tmp_path):
    path = tmp_path / "8bit.mbox"
    body = "Grüße, Jürgen".encode("latin-1")
    path.write_bytes(b"From x Thu Jan  1 00:00:00 2026\nSubject: 8bit\n\n" + body + b"\n")
    assert body in all_mails(path)[0].data


def test_batches_of_200_and_no_position(tmp_path):
    path = tmp_path / "big.mbox"
    path.write_bytes(b"".join(b"From x Thu Jan  1 00:00:00 2026\n" + msg(n) + b"\n" for n in range(450)))
    out = list(ArchiveSource(path).batches(None))
    assert [len(mails) for mails, _ in out] == [200, 200, 50]
    assert all(pos is None for _, pos in out)
    assert count(path) == 450


def test_maildir_archive_new_and_cur_with_flags(tmp_path):
    root = tmp_path / "archive"
    for sub in ("cur", "new"):                      # no tmp/: archives often lose empty dirs
        (root / sub).mkdir(parents=True)
    files = [("new", "k2", 2000), ("cur", "k1:2,S", 1000), ("cur", "k3:2,RS", 3000)]
    for n, (sub, name, mtime) in enumerate(files):
        p = root / sub / name
        p.write_bytes(msg(n))
        os.utime(p, (mtime, mtime))
    assert kind(root) == "maildir" and count(root) == 3
    mails = all_mails(root)
    assert [m.origin for m in mails] == ["maildir:k1", "maildir:k2", "maildir:k3"]
    assert mails[0].data == msg(1)
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["k1:2,S", "k2", "k3:2,RS"]


def test_empty_mbox_is_an_empty_archive(tmp_path):
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    assert count(path) == 0 and all_mails(path) == []


@pytest.mark.parametrize("setup", ["eml", "dir", "missing"])
def test_not_a_mailbox(tmp_path, setup):
    path = tmp_path / "thing"
    if setup == "eml":
        path.write_bytes(msg(1))
    elif setup == "dir":
        path.mkdir()
        (path / "readme.txt").write_text("hi")
    expected = "does not exist" if setup == "missing" else "is neither an mbox file nor a Maildir"
    with pytest.raises(SourceError, match=expected):
        list(ArchiveSource(path).batches(None))
    with pytest.raises(SourceError, match=expected):
        count(path)


def test_unquote_from():
    assert unquote_from(b"a\n>From b\n>>From c\nFrom d\n> From e\n") == b"a\nFrom b\n>From c\nFrom d\n> From e\n"


# --- the streaming mbox reader and the size limit --------------------------------------------

HEADER = b"From: rt@example.org\nMessage-ID: <big@example.org>\nSubject: [rt #9] big\n\n"
SEP = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"


def test_an_mbox_message_over_the_limit_is_its_header_and_its_size(tmp_path):
    path = tmp_path / "big.mbox"
    body = b"".join(b"line %d\n" % i for i in range(2000)) + b"\n>From a quoted line\n"
    path.write_bytes(SEP + msg(1) + b"\n" + SEP + HEADER + body + b"\n" + SEP + msg(3) + b"\n")
    mails = all_mails(path, max_bytes=4096)
    assert [m.data for m in mails] == [msg(1), HEADER, msg(3)]
    assert [m.oversize for m in mails] == [0, len(HEADER + body) - 1, 0]     # one ">" unquoted
    assert [m.position for m in mails] == [None, None, None]
    assert count(path) == 3
    assert [m.data for m in all_mails(path)] == [msg(1), HEADER + body.replace(b">From", b"From"), msg(3)]


def test_mbox_separation_needs_an_empty_line_before_from_and_cuts_long_lines(tmp_path):
    path = tmp_path / "odd.mbox"
    long_line = b"z" * 300_000 + b"\n"                  # longer than a read chunk
    path.write_bytes(b"\r\n" + SEP + b"Subject: a\n\nintro\nFrom here on it is body\n" + long_line +
                     b"unquoted:\nFrom inside a paragraph\n\n" + SEP[:-1] + b"x" * 100_000 + b"\n" +
                     b"Subject: b\r\n\r\nCRLF body\r\n\r\n")
    mails = all_mails(path)
    assert [m.data for m in mails] == [b"Subject: a\n\nintro\nFrom here on it is body\n" + long_line +
                                       b"unquoted:\nFrom inside a paragraph\n",
                                       b"Subject: b\r\n\r\nCRLF body\r\n"]
    assert count(path) == 2


def test_archive_batches_are_cut_by_bytes_too(tmp_path):
    path = tmp_path / "many.mbox"
    path.write_bytes(b"".join(SEP + msg(n, "b" * 3000) + b"\n" for n in range(6)))
    out = list(ArchiveSource(path, max_bytes=4096, batch_bytes=7000).batches(None))
    assert [len(mails) for mails, _ in out] == [3, 3]


def test_maildir_archive_file_over_the_limit(tmp_path):
    root = tmp_path / "archive"
    (root / "cur").mkdir(parents=True)
    (root / "cur" / "k1:2,S").write_bytes(HEADER + b"y" * 10_000)
    (mail,) = all_mails(root, max_bytes=4096)
    assert mail.data == HEADER and mail.oversize == len(HEADER) + 10_000 and mail.origin == "maildir:k1"


RSS_SCRIPT = r"""
def peak_rss():
    # VmHWM: this process's own high-water mark. Not ru_maxrss: Linux keeps that across fork and
    # exec, so the child would start with the test runner's peak (which holds the test mail).
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
import json, sys
from maildaemon.source.archive import ArchiveSource, count
path, limit = sys.argv[1], int(sys.argv[2])
base = peak_rss()
total = count(path)
mails = [(len(m.data), m.oversize) for batch, _ in ArchiveSource(path, max_bytes=limit).batches(None)
         for m in batch]
peak = peak_rss()
print(json.dumps({"growth": peak - base, "mails": mails, "count": total}))
"""


def test_memory_stays_bounded_by_the_limit_not_the_message(tmp_path):
    """count() and the reader on a 60 MB message with a 1 MiB limit: growth under 4x the limit."""
    import json
    import subprocess
    import sys
    limit = 1024 * 1024
    path = tmp_path / "huge.mbox"
    with open(path, "wb") as f:
        f.write(SEP + msg(1) + b"\n" + SEP + HEADER)
        for _ in range(60):
            f.write(b"y" * 999_999 + b"\n")
        f.write(b"\n" + SEP + msg(3) + b"\n")
    done = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(path), str(limit)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["count"] == 3
    assert result["mails"] == [[len(msg(1)), 0], [len(HEADER), len(HEADER) + 60_000_000], [len(msg(3)), 0]]
    assert result["growth"] < 4 * limit, result
