"""`maildaemon run` as systemd runs it: a real Dovecot, a real SMTP server, the notify socket."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from builders import CST, goc_mail

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[2]


class NotifySocket:
    """What systemd would hear: datagrams on $NOTIFY_SOCKET (a short path: AF_UNIX limit)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nfy-", dir="/tmp")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.heard: list[str] = []

    def wait_for(self, field: str, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(field in msg.split("\n") for msg in self.heard):
                return True
            try:
                self.heard.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return False

    def forget(self) -> None:
        """Drop what was heard so far (before a restart: the old process's READY=1 must not count)."""
        while True:
            try:
                self.sock.recv(4096)
            except socket.timeout:
                break
        self.heard.clear()

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def daemon(cli, dovecot, smtp_server):
    cli.team_file.write_text((ROOT / "maildaemon/demo/team.toml").read_text())
    rotation = cli.root / "rotation.txt"
    rotation.write_text("2026-11-23  grace@example.org  Grace Hopper\n2026-11-30  alan@example.org  Alan Turing\n")
    assert cli("rotation", "load", str(rotation))[0] == 0
    cli.env.update(MAILDAEMON_IMAP_HOST=dovecot.host, MAILDAEMON_IMAP_PORT=str(dovecot.port),
                   MAILDAEMON_IMAP_USER=dovecot.user, MAILDAEMON_IMAP_PASSWORD=dovecot.password,
                   MAILDAEMON_IMAP_SECURITY="plain", MAILDAEMON_SMTP_HOST="127.0.0.1",
                   MAILDAEMON_SMTP_PORT=str(smtp_server.port), MAILDAEMON_SMTP_SECURITY="plain",
                   MAILDAEMON_POLL_SECONDS="3")
    notify = NotifySocket()
    procs = []

    def start(now: str, **extra: str):
        env = {**os.environ, **cli.env, "PYTHONPATH": str(ROOT), "NOTIFY_SOCKET": notify.path,
               "WATCHDOG_USEC": "2000000", **extra}
        p = subprocess.Popen([sys.executable, "-m", "maildaemon", "run", "--now", now], env=env, cwd=cli.root,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(p)
        return p

    yield start, notify
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    notify.close()


def tickets(cli):
    return {t["key"]: t for t in json.loads(cli("tickets", "--json", "--all")[1])}


def test_run_reads_the_stream_as_it_arrives_reminds_and_stops_cleanly(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 23, 9, 0, tzinfo=CST), n=1,
                            entries=[(datetime(2026, 11, 23, 9, 0, tzinfo=CST), "Jane User", "Is it safe?")]))
    # the folder is searched only every 300 s: within the 15 s below, only IDLE can bring news
    p = start("2026-11-24T09:31", MAILDAEMON_POLL_SECONDS="300")
    assert notify.wait_for("READY=1"), p.stdout.read() if p.poll() is not None else "no READY=1"
    assert "goc:41240" in tickets(cli)                       # caught up before READY
    # the first tick sent the announcement and the unassigned digest to the person on duty
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    kinds = sorted(m["message"]["X-Maildaemon-Kind"] for m in smtp_server.messages)
    assert kinds == ["announcement", "unassigned"]
    # new mail is seen within seconds (IDLE), not at the next poll
    dovecot.append(goc_mail(41300, "New arrival", datetime(2026, 11, 24, 9, 40, tzinfo=CST), n=2))
    deadline = time.monotonic() + 15
    while "goc:41300" not in tickets(cli) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "goc:41300" in tickets(cli)
    assert notify.wait_for("WATCHDOG=1", timeout=5)
    p.send_signal(signal.SIGHUP)
    assert notify.wait_for("RELOADING=1")
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0
    assert notify.wait_for("STOPPING=1", timeout=2)
    assert dovecot.password not in p.stdout.read()


def test_run_survives_an_imap_outage_and_a_restart_sends_nothing_twice(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 23, 9, 0, tzinfo=CST), n=1))
    p = start("2026-11-24T09:31")
    assert notify.wait_for("READY=1")
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    dovecot.stop()
    time.sleep(1.5)
    assert p.poll() is None                                  # still running, retrying
    dovecot.start()
    dovecot.append(goc_mail(41301, "After the outage", datetime(2026, 11, 24, 9, 45, tzinfo=CST), n=3))
    deadline = time.monotonic() + 20
    while "goc:41301" not in tickets(cli) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert "goc:41301" in tickets(cli)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0
    sent = len(smtp_server.messages)
    notify.forget()
    q = start("2026-11-24T09:50")                            # a restart in the same slot
    assert notify.wait_for("READY=1")                        # READY comes after the first tick
    time.sleep(1)
    q.send_signal(signal.SIGTERM)
    assert q.wait(timeout=15) == 0
    assert len(smtp_server.messages) == sent


def test_run_with_a_wrong_team_file_exits_2_with_one_line(cli):
    cli.team_file.write_text("[team]\nname = 'x'\n")
    code, out, err = cli("run", MAILDAEMON_MAILDIR=str(cli.root))
    assert code == 2 and err.count("\n") == 1 and "team.timezone" in err


def test_run_with_no_one_on_duty_sends_nothing_and_says_so_once_a_day(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    gap = cli.root / "gap.txt"
    gap.write_text("2026-11-23  UNASSIGNED\n")                 # the week of --now has no one
    assert cli("rotation", "load", str(gap))[0] == 0
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 20, 9, 0, tzinfo=CST), n=1))
    p = start("2026-11-24T09:31")
    assert notify.wait_for("READY=1"), p.stdout.read() if p.poll() is not None else "no READY=1"
    time.sleep(2)                                             # a first tick and a retry pass have run
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0
    log = p.stdout.read()
    said = [line for line in log.splitlines() if "no one on duty" in line]
    assert len(said) == 1, log
    assert said[0].endswith("no one on duty in the week of 2026-11-23: no mail is sent until a rotation is stored "
                            "(maildaemon rotation load FILE)")
    assert smtp_server.messages == []                        # no announcement, digest or reminder
