"""How fast is `maildaemon sync`, and what does it cost over fetching and parsing bare?

Starts a throw-away Dovecot on 127.0.0.1 (the test recipe), appends N realistic notifications
(bench/corpus.py), then measures:
  1. bare:   imapclient search + FETCH BODY.PEEK[] in batches of 100 + email.message_from_bytes
  2. sync:   `python -m maildaemon sync` as a user runs it (a fresh state; process start included)
  3. resync: the same command again with nothing new
  4. import: the same stream from an mbox (no IMAP), to separate the IMAP cost
and prints messages/s, the ratio sync/bare, the state file size and the sync's peak RSS.

    python3 -m bench.sync_bench [--count 2000]
"""
from __future__ import annotations

import argparse
import email
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

from bench.corpus import corpus, write_mbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "live"))
from dovecot import Dovecot  # noqa: E402

TEAM = ROOT / "maildaemon" / "demo" / "team.toml"


def bare(host: str, port: int, user: str, password: str) -> int:
    c = IMAPClient(host, port, ssl=False, timeout=60)
    c.login(user, password)
    c.select_folder("INBOX", readonly=True)
    uids = c.search(["ALL"])
    n = 0
    for i in range(0, len(uids), 100):
        for data in c.fetch(uids[i:i + 100], ["BODY.PEEK[]"]).values():
            email.message_from_bytes(data[b"BODY[]"])
            n += 1
    c.logout()
    return n


def run_cli(args: list[str], env: dict, cwd: str) -> tuple[float, str, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "maildaemon", *args], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True).stdout.strip()
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, out, max(peak, before)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="sync vs bare fetch+parse over a loopback Dovecot")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--deliver", choices=("append", "files"), default=None,
                   help="how the mailbox is filled: IMAP APPEND (slow: Dovecot's APPEND of 50,000 mails "
                        "takes over ten minutes) or Maildir files written as an MDA would (default above 5,000)")
    a = p.parse_args(argv)
    deliver = a.deliver or ("files" if a.count > 5000 else "append")
    mails = corpus(a.count)
    size = sum(len(m) for m in mails)
    server = Dovecot()
    server.start()
    work = tempfile.mkdtemp(prefix="bench-")
    try:
        server.add_user("bench", "bench-pw")
        c = IMAPClient("127.0.0.1", server.port, ssl=False, timeout=60)
        c.login("bench", "bench-pw")
        c.select_folder("INBOX")                  # makes the user's Maildir
        t = time.perf_counter()
        if deliver == "append":
            for m in mails:
                c.append("INBOX", m)
        else:
            box = server.root / "mail" / "bench"
            for i, m in enumerate(mails):
                name = box / "new" / f"{1800000000 + i}.M{i}P1.bench"
                name.write_bytes(m)
                os.utime(name, (1800000000 + i, 1800000000 + i))
            if os.geteuid() == 0:
                subprocess.run(["chown", "-R", "mail:mail", str(box)], check=True)
        append_s = time.perf_counter() - t
        c.logout()
        print(f"corpus: {a.count} notifications, {size / 1e6:.1f} MB; {deliver}: {a.count / append_s:.0f} msg/s")

        t = time.perf_counter()
        n = bare("127.0.0.1", server.port, "bench", "bench-pw")
        bare_s = time.perf_counter() - t
        print(f"bare fetch+parse (imapclient + email): {n} msgs in {bare_s:.2f} s = {n / bare_s:.0f} msg/s")

        env = dict(os.environ, PYTHONPATH=str(ROOT), MAILDAEMON_IMAP_HOST="127.0.0.1",
                   MAILDAEMON_IMAP_PORT=str(server.port), MAILDAEMON_IMAP_USER="bench",
                   MAILDAEMON_IMAP_PASSWORD="bench-pw", MAILDAEMON_IMAP_SECURITY="plain",
                   MAILDAEMON_STATE_DIR=os.path.join(work, "state"), MAILDAEMON_TEAM_FILE=str(TEAM))
        sync_s, out, rss = run_cli(["sync"], env, work)
        state = Path(work, "state", "maildaemon.json").stat().st_size
        print(f"maildaemon sync: {out} in {sync_s:.2f} s = {a.count / sync_s:.0f} msg/s; "
              f"peak RSS {rss / 1024:.0f} MB; state file {state / 1e6:.2f} MB")
        print(f"ratio sync/bare: {sync_s / bare_s:.1f}x")
        resync_s, out, _ = run_cli(["sync"], env, work)
        print(f"maildaemon sync again (nothing new): {resync_s:.2f} s ({out})")
        mbox = os.path.join(work, "stream.mbox")
        write_mbox(mbox, mails)
        env["MAILDAEMON_STATE_DIR"] = os.path.join(work, "state2")
        import_s, out, _ = run_cli(["import", mbox], env, work)
        print(f"maildaemon import (mbox, no IMAP): {import_s:.2f} s = {a.count / import_s:.0f} msg/s")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
