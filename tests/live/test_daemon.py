"""`maildaemon run` as systemd runs it: a real Dovecot, a real SMTP server, the notify socket.

Every wait is for an event the daemon really produces (a datagram on the notify socket, a line in
its log, a ticket in the state, a file it writes), never a sleep that hopes it happened."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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

    def wait_for(self, *fields: str, timeout: float = 20) -> bool:
        """True once one datagram carried all `fields` (e.g. READY=1 and MAINPID=<pid>)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(set(fields) <= set(msg.split("\n")) for msg in self.heard):
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


class Running:
    """A started `maildaemon run` (the Popen's methods) and its log, read as it is written."""

    def __init__(self, popen: subprocess.Popen):
        self.popen, self.lines = popen, []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __getattr__(self, name):
        return getattr(self.popen, name)

    def _read(self) -> None:
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append(None)           # end of the log
            self._changed.notify_all()

    def wait_log(self, text: str, timeout: float = 20) -> str | None:
        """The first log line containing `text`, once it is written (None if it is not in time)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [line for line in self.lines if line is not None and text in line]
                if found or None in self.lines or not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    return found[0] if found else None

    def log(self) -> str:
        """The whole log, once the process has ended."""
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            return self.text() + "\n(still running)"
        self._reader.join(timeout=5)
        return self.text()

    def text(self) -> str:
        """The log so far."""
        with self._changed:
            return "\n".join(line for line in self.lines if line is not None)

    def ready(self, notify: "NotifySocket") -> bool:
        """This process's own READY=1 (the datagram names its MAINPID), sent after its first tick."""
        return notify.wait_for("READY=1", f"MAINPID={self.pid}")


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
        p = Running(subprocess.Popen([sys.executable, "-m", "maildaemon", "run", "--now", now], env=env,
                                     cwd=cli.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        procs.append(p)
        return p

    yield start, notify
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.log()
    notify.close()


def tickets(cli, **env: str):
    return {t["key"]: t for t in json.loads(cli("tickets", "--json", "--all", **env)[1])}


def until(check, timeout: float, every: float = 0.2) -> bool:
    """Look again and again until `check()` holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def end_sessions(dovecot) -> None:
    """End the imap processes serving `dovecot.user` (dovecot.log names each as mpid=PID): with its
    master stopped, Dovecot still serves a connection that is already open (about 30 s, measured),
    so stopping the server alone is no outage for a client that holds one."""
    for pid in {int(n) for n in re.findall(rf"Login: user=<{re.escape(dovecot.user)}>.*mpid=(\d+)", dovecot.log())}:
        try:
            if b"imap" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
        except (FileNotFoundError, ProcessLookupError):
            pass                                               # logged out already


def stop(p: Running) -> str:
    """SIGTERM: the daemon stops cleanly (exit 0); its log."""
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=15) == 0, p.log()
    return p.log()


def test_run_reads_the_stream_as_it_arrives_reminds_and_stops_cleanly(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 23, 9, 0, tzinfo=CST), n=1,
                            entries=[(datetime(2026, 11, 23, 9, 0, tzinfo=CST), "Jane User", "Is it safe?")]))
    # the folder is searched only every 300 s: within the 15 s below, only IDLE can bring news
    p = start("2026-11-24T09:31", MAILDAEMON_POLL_SECONDS="300")
    assert p.ready(notify), p.log() if p.poll() is not None else "no READY=1"
    assert "goc:41240" in tickets(cli)                       # caught up before READY
    assert p.wait_log("connected to imap://").endswith(" (IDLE)")
    # the first tick sent the announcement and the unassigned digest to the person on duty
    assert until(lambda: len(smtp_server.messages) >= 2, 10, every=0.1)
    kinds = sorted(m["message"]["X-Maildaemon-Kind"] for m in smtp_server.messages)
    assert kinds == ["announcement", "unassigned"]
    # new mail is seen within seconds (IDLE), not at the next poll
    dovecot.append(goc_mail(41300, "New arrival", datetime(2026, 11, 24, 9, 40, tzinfo=CST), n=2))
    assert until(lambda: "goc:41300" in tickets(cli), 15)
    assert notify.wait_for("WATCHDOG=1", timeout=5)
    p.send_signal(signal.SIGHUP)
    assert notify.wait_for("RELOADING=1")
    assert p.wait_log("configuration reloaded")
    log = stop(p)
    assert notify.wait_for("STOPPING=1", timeout=2)
    assert dovecot.password not in log


def test_run_survives_an_imap_outage_and_a_restart_sends_nothing_twice(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 23, 9, 0, tzinfo=CST), n=1))
    p = start("2026-11-24T09:31")
    assert p.ready(notify)
    assert until(lambda: len(smtp_server.messages) >= 2, 10, every=0.1)
    dovecot.stop()
    end_sessions(dovecot)
    lost = p.wait_log("reconnecting in")                   # the daemon noticed, and keeps trying
    assert lost and "connection lost" in lost and p.poll() is None, p.text()
    assert p.wait_log("Connection refused") and p.poll() is None, p.text()      # and tried again
    dovecot.start()
    dovecot.append(goc_mail(41301, "After the outage", datetime(2026, 11, 24, 9, 45, tzinfo=CST), n=3))
    assert until(lambda: "goc:41301" in tickets(cli), 20, every=0.3), p.text()
    log = stop(p)
    assert log.count("connected to imap://") == 2 and " queued " in log, log
    sent = len(smtp_server.messages)
    # a restart in the same slot: its own READY=1 comes after its first tick, which wrote the metrics
    metrics = cli.root / "restart.prom"
    q = start("2026-11-24T09:50", MAILDAEMON_METRICS_FILE=str(metrics))
    assert q.ready(notify), q.log() if q.poll() is not None else "no READY=1 from the restarted daemon"
    assert until(metrics.exists, 10, every=0.05)
    log = stop(q)
    assert [line for line in log.splitlines() if " queued " in line] == [], log     # decided nothing again
    assert len(smtp_server.messages) == sent


def test_a_reload_that_refuses_a_bad_configuration_keeps_the_running_one(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    good = cli.team_file.read_text()
    (cli.root / "good.toml").write_text(good)                     # for the `tickets` below
    p = start("2026-11-24T09:31", MAILDAEMON_POLL_SECONDS="300")
    assert p.ready(notify)
    cli.team_file.write_text(good.replace("stale_after_days", "stale_days"))     # a typo
    notify.forget()
    p.send_signal(signal.SIGHUP)
    assert notify.wait_for("RELOADING=1")
    refused = p.wait_log("reload refused")
    assert refused and refused.endswith("reload refused, keeping the running configuration: policy.stale_days: "
                                        "unknown key in [policy]; did you mean stale_after_days?"), p.log()
    assert p.ready(notify) and p.poll() is None                # ready again, on the old configuration
    # it still works: new mail is read (IDLE, over a connection the refused reload left alone) ...
    dovecot.append(goc_mail(41302, "After the reload", datetime(2026, 11, 24, 9, 45, tzinfo=CST), n=1))
    assert until(lambda: "goc:41302" in tickets(cli, MAILDAEMON_TEAM_FILE=str(cli.root / "good.toml")), 15)
    # ... and once the file is right again, a reload takes it
    cli.team_file.write_text(good)
    p.send_signal(signal.SIGHUP)
    assert p.wait_log("configuration reloaded")
    log = stop(p)
    assert [line for line in log.splitlines() if "stale_days" in line] == [refused]   # one line, no traceback
    assert "Traceback" not in log


def test_run_with_a_wrong_team_file_exits_2_with_one_line(cli):
    cli.team_file.write_text("[team]\nname = 'x'\n")
    code, out, err = cli("run", MAILDAEMON_MAILDIR=str(cli.root))
    assert code == 2 and err.count("\n") == 1 and "team.timezone" in err


def test_run_with_no_one_on_duty_sends_nothing_and_says_so(daemon, cli, dovecot, smtp_server):
    start, notify = daemon
    gap = cli.root / "gap.txt"
    gap.write_text("2026-11-23  UNASSIGNED\n")                 # the week of --now has no one
    assert cli("rotation", "load", str(gap))[0] == 0
    dovecot.append(goc_mail(41240, "HTCondor-CE upgrade question", datetime(2026, 11, 20, 9, 0, tzinfo=CST), n=1))
    p = start("2026-11-24T09:31")
    assert p.ready(notify), p.log() if p.poll() is not None else "no READY=1"    # after the first tick
    log = stop(p)
    said = [line for line in log.splitlines() if "no one on duty" in line]
    assert len(said) == 1, log             # once (a day: tests/test_daemon_duty.py has the next day)
    assert said[0].endswith("no one on duty in the week of 2026-11-23: no mail is sent until a rotation is stored "
                            "(maildaemon rotation load FILE)")
    assert smtp_server.messages == []                        # no announcement, digest or reminder
