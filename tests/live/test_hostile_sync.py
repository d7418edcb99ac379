"""SPEC 9 as a user sees it: the hostile corpus in a real Dovecot mailbox, interleaved with real
notifications, read by `maildaemon sync` and by the daemon, then `remind` against a real SMTP server.

What must hold (tests/hostile/corpus.py says, per mail, what is expected of it):
- `sync` exits 0 and reads every mail; `tickets --json` holds exactly the legitimate tickets (the
  fixtures' and those of trusted notifications built to break a parser), none naming an outsider;
- `quarantine list --json` holds each hostile mail with its reason (`too large`, `untrusted…`,
  `regex timeout: systems.…`); `status --json` has no last_error; a second `sync` fetches nothing;
- a Message-ID taken first by an auto-reply, a bounce or a forgery does not keep the real
  notification out;
- `remind` at a moment when the forged "Customer" tickets would be due a user reminder writes to
  nobody outside the team and the legitimate tickets (a real user reminder does go out);
- `run` reaches READY=1 on this mailbox, and keeps its watchdog fed while it reads it.
"""
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
from email.utils import getaddresses
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.hostile.corpus import PRECLAIMED, REMIND_AT, TEAM_ADDRESSES, Case, Legit, stream, team_toml  # noqa: E402

pytestmark = pytest.mark.live

SYNC_TIMEOUT = 600          # about a second of CPU per mail at most (SPEC 9), ~100 mails, a slow machine
READY_TIMEOUT = 300
OUTSIDE = ("outsider.test", "attacker.test")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TRAVERSAL = Path("/tmp/maildaemon-pwned")       # where corpus case message_id_path_traversal points
ROTATION = ("2026-11-16  ada@example.org  Ada Lovelace\n2026-11-23  grace@example.org  Grace Hopper\n"
            "2026-11-30  alan@example.org  Alan Turing\n")


class Maildaemon:
    """`python -m maildaemon` in a subprocess, with an environment of its own."""

    def __init__(self, root: Path, dovecot, smtp_server=None, auth: bool = False):
        self.root = root
        (root / "team.toml").write_text(team_toml(auth))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILDAEMON_")}
        env.update(PYTHONPATH=str(ROOT), MAILDAEMON_STATE_DIR=str(root / "state"),
                   MAILDAEMON_TEAM_FILE=str(root / "team.toml"), MAILDAEMON_IMAP_HOST=dovecot.host,
                   MAILDAEMON_IMAP_PORT=str(dovecot.port), MAILDAEMON_IMAP_USER=dovecot.user,
                   MAILDAEMON_IMAP_PASSWORD=dovecot.password, MAILDAEMON_IMAP_SECURITY="plain",
                   MAILDAEMON_POLL_SECONDS="3")
        if smtp_server is not None:
            env.update(MAILDAEMON_SMTP_HOST="127.0.0.1", MAILDAEMON_SMTP_PORT=str(smtp_server.port),
                       MAILDAEMON_SMTP_SECURITY="plain")
        self.env = env

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "maildaemon", *args], env=self.env, cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args: str, timeout: float = 120) -> str:
        done = self(*args, timeout=timeout)
        assert done.returncode == 0, f"maildaemon {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}"
        return done.stdout

    def json(self, *args: str):
        return json.loads(self.ok(*args))

    def tickets(self) -> dict[str, dict]:
        return {t["key"]: t for t in self.json("tickets", "--json", "--all")}


def fill(dovecot, items) -> None:
    c = dovecot.client()
    try:
        for _, raw, _ in items:
            c.append("INBOX", raw)
    finally:
        c.logout()


def expectations(items):
    """(keys that must exist, keys that may exist, the hostile cases, the legitimate mails)."""
    cases = [x for _, _, x in items if isinstance(x, Case)]
    legit = [x for _, _, x in items if isinstance(x, Legit)]
    must = {lg.key for lg in legit} | {c.key for c in cases if c.outcomes == {"applied"}}
    may = {c.key for c in cases if "applied" in c.outcomes and len(c.outcomes) > 1}
    return must, may, cases, legit


def ticket_problems(tickets: dict, must: set, may: set) -> list[str]:
    keys, problems = set(tickets), []
    if not must <= keys:
        problems.append(f"legitimate tickets missing: {sorted(must - keys)}")
    if not keys <= must | may:
        problems.append(f"tickets no legitimate mail made: {sorted(keys - must - may)}")
    for t in tickets.values():
        named = [t.get("submitter"), t.get("url"), t.get("owner"), *(t.get("cc") or []), *(t.get("assignees") or [])]
        bad = [x for x in named if x and any(d in str(x).lower() for d in OUTSIDE)]
        if bad:
            problems.append(f"{t['key']} names {bad}")
    return problems


def check_tickets(tickets: dict, must: set, may: set) -> None:
    problems = ticket_problems(tickets, must, may)
    assert not problems, "\n".join(problems)


def quarantine_problems(entries: list[dict], cases: list[Case], tickets: dict) -> list[str]:
    """Each hostile mail that must be (or, by choice of the implementation, was) quarantined is
    there, with the reason SPEC 9 fixes; nothing else is. A mail is found by its Message-ID; one
    the reader could not take its Message-ID from (no header, or a header it could not read) is
    matched by count against the entries no Message-ID explains."""
    by_id: dict[str, list[dict]] = {}
    for e in entries:
        by_id.setdefault(e.get("message_id", ""), []).append(e)
    problems, unmatched, used = [], [], set()
    for c in cases:
        quarantined = c.outcomes == {"quarantined"} or ("quarantined" in c.outcomes and c.key not in tickets)
        if not quarantined:
            if c.message_id in by_id:
                problems.append(f"{c.name}: {c.expect} mail in the quarantine ({by_id[c.message_id][0].get('reason')})")
            continue
        found = by_id.get(c.message_id, []) if c.message_id else []
        if not found:
            unmatched.append(c)
            continue
        used.update(e["id"] for e in found)
        if c.reason and not any(e.get("reason", "").startswith(c.reason) for e in found):
            problems.append(f"{c.name}: reason {[e.get('reason') for e in found]}, expected {c.reason!r}…")
    leftover = [e for e in entries if e["id"] not in used]
    for c in unmatched:
        if c.reason and not any(e.get("reason", "").startswith(c.reason) for e in leftover):
            problems.append(f"{c.name}: no entry with reason {c.reason!r}…")
    if len(leftover) != len(unmatched):
        problems.append(f"{len(leftover)} entries without a known Message-ID for {len(unmatched)} mails "
                        f"({[c.name for c in unmatched]}): "
                        + json.dumps([(e.get('message_id'), e.get('reason')) for e in leftover])[:2000])
    return problems


def addresses_in(raw: bytes) -> set[str]:
    return {a.decode().lower() for a in re.findall(rb"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", raw)}


def recipients(messages) -> list[tuple[str, str]]:
    """(where, address) for every envelope recipient and every To/Cc/Reply-To address sent."""
    out = [("envelope", a.lower()) for m in messages for a in m["to"]]
    for m in messages:
        for h in ("To", "Cc", "Reply-To"):
            out += [(h, a.lower()) for _, a in getaddresses([str(v) for v in m["message"].get_all(h, [])]) if a]
    return out


def wait_quiet(smtp_server, seconds: float = 2.0, limit: float = 30.0) -> None:
    """Until the SMTP server has received nothing new for `seconds`."""
    deadline = time.monotonic() + limit
    seen, since = len(smtp_server.messages), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if len(smtp_server.messages) != seen:
            seen, since = len(smtp_server.messages), time.monotonic()
        elif time.monotonic() - since >= seconds:
            return


# --- sync, quarantine, status, remind --------------------------------------------------------

def test_hostile_stream_through_dovecot_sync_and_remind(tmp_path, dovecot, smtp_server):
    shutil.rmtree(TRAVERSAL, ignore_errors=True)
    items = stream("plain")
    fill(dovecot, items)
    md = Maildaemon(tmp_path, dovecot, smtp_server)
    md.ok("rotation", "load", str(_rotation(tmp_path)))

    done = md("sync", timeout=SYNC_TIMEOUT)
    assert done.returncode == 0, f"sync exited {done.returncode}:\n{done.stderr[-4000:]}"
    counts = dict(re.findall(r"(\w+)=(\d+)", done.stdout))
    assert int(counts.get("fetched", -1)) == len(items), done.stdout

    # every finding is collected, so one run shows them all; the steps go on as far as they can
    problems: list[str] = []

    def expect(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    must, may, cases, legit = expectations(items)
    tickets = md.tickets()
    problems += ticket_problems(tickets, must, may)
    # the forgeries of ticket 41234 changed nothing of it
    real = tickets.get("goc:41234", {})
    expect((real.get("submitter"), real.get("url"), real.get("status")) ==
           ("jane@example.edu", "https://ticket.example.org/41234", "open"),
           f"goc:41234 was changed by a forgery or a user's title: {[real.get(k) for k in ('submitter', 'url', 'status')]}")
    # a title carrying another ticket's hook changed the user's own ticket, not that one
    expect(tickets.get("zammad:31007", {}).get("status") == "open", "a user's title closed zammad:31007")
    # the user's comment in a team-defined system is not read as the system's fields
    bugs = tickets.get("bugs:7001", {})
    expect((bugs.get("submitter"), bugs.get("status_raw"), bugs.get("owner")) == (None, "NEW", None),
           f"bugs:7001 took fields from a user's comment: {bugs.get('submitter')!r}, {bugs.get('status_raw')!r}")
    # a Message-ID taken first by an auto-reply, a bounce or a forgery does not keep the real one out
    legit_by_path = {lg.name: lg for lg in legit}
    for hostile, path in PRECLAIMED.items():
        expect(legit_by_path[path].key in tickets, f"{path} was kept out by {hostile}")

    problems += quarantine_problems(md.json("quarantine", "list", "--json"), cases, tickets)

    # text from mail printed by the command line has its terminal control characters replaced
    for args in (("tickets", "--all"), ("ticket", "goc:41929"), ("quarantine", "list"), ("status",)):
        out = md(*args)
        expect(out.returncode == 0, f"`maildaemon {' '.join(args)}` exited {out.returncode}: {out.stderr[-500:]}")
        expect(not CONTROL.search(out.stdout),
               f"`maildaemon {' '.join(args)}` prints {sorted(set(CONTROL.findall(out.stdout)))}")
    expect(not TRAVERSAL.exists(), f"a Message-ID made maildaemon write {TRAVERSAL}")

    status = md.json("status", "--json")
    expect(status.get("last_error") is None, f"status has last_error {status.get('last_error')}")

    again = md("sync", timeout=SYNC_TIMEOUT)
    expect(again.returncode == 0, f"second sync exited {again.returncode}: {again.stderr[-2000:]}")
    expect(bool(re.search(r"\bfetched=0\b", again.stdout)),
           f"the position did not advance past everything: {again.stdout.strip()}")

    # at REMIND_AT every forged "Customer" ticket would be due a user reminder to its victim
    done = md("remind", "--now", REMIND_AT, timeout=300)
    expect(done.returncode == 0, f"remind exited {done.returncode}: {done.stderr[-2000:]}")
    wait_quiet(smtp_server)
    sent = recipients(smtp_server.messages)
    expect(bool(sent), "remind sent nothing at all")
    outside = [(w, a) for w, a in sent if any(d in a for d in OUTSIDE)]
    expect(not outside, f"mail to or via outsiders: {outside}")
    allowed = set(TEAM_ADDRESSES) | {a for lg in legit for a in addresses_in(lg.data)} | {"jane@example.edu"}
    strangers = sorted({(w, a) for w, a in sent if a not in allowed and not a.endswith("@reply.github.com")})
    expect(not strangers, f"mail to addresses of no team member and no legitimate ticket: {strangers}")
    expect(("envelope", "jane@example.edu") in sent, "the real user reminder (goc:41980) did not go out")
    expect(not TRAVERSAL.exists(), f"a Message-ID made maildaemon write {TRAVERSAL}")
    assert not problems, "\n".join(problems)


def test_authentication_spoofs_through_dovecot(tmp_path, dovecot):
    items = stream("auth")
    fill(dovecot, items)
    md = Maildaemon(tmp_path, dovecot, auth=True)
    done = md("sync", timeout=SYNC_TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
    must, may, cases, _ = expectations(items)
    tickets = md.tickets()
    problems = ticket_problems(tickets, must, may)
    problems += quarantine_problems(md.json("quarantine", "list", "--json"), cases, tickets)
    last_error = md.json("status", "--json")["last_error"]
    if last_error is not None:
        problems.append(f"status has last_error {last_error}")
    assert not problems, "\n".join(problems)


# --- memory -----------------------------------------------------------------------------------

# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork+exec, so a child would report the
# test process's own peak (it held the 100 MB mail); VmHWM belongs to the new address space
_MAXRSS = ("import re, sys\nfrom maildaemon.cli import main\ncode = main(sys.argv[1:])\n"
           "hwm = re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1)\n"
           "sys.stderr.write('\\nMAXRSS_KB %s\\n' % hwm)\n"
           "sys.exit(code)\n")


def test_a_mail_far_over_the_limit_keeps_memory_bounded(tmp_path, dovecot):
    """SPEC 9: a mail over MAILDAEMON_MAX_MAIL_BYTES is quarantined `too large` with its header, and
    memory stays bounded by a small multiple of the limit, not of the mail. With the limit at 1 MiB a
    100 MB notification must leave `sync` under 150 MB (an interpreter with maildaemon loaded is about
    60 MB; reading the mail whole costs its 100 MB several times over)."""
    import base64
    from tests.hostile.corpus import goc_body, goc_mail
    blob = base64.encodebytes(bytes(range(256)) * (75_000_000 // 256)).replace(b"\n", b"\r\n")
    body = ("--big\r\nContent-Type: text/plain\r\n\r\n" + goc_body(41990, "Huge core dump").replace("\n", "\r\n")
            + "\r\n--big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    raw = goc_mail("memory_100mb", 41990, "Huge core dump", body.encode() + blob + b"\r\n--big--\r\n",
                   ctype='multipart/mixed; boundary="big"')
    assert len(raw) > 100_000_000
    small = goc_mail("memory_after", 41991, "After the big one", goc_body(41991, "After the big one"))
    c = dovecot.client()
    try:
        c.append("INBOX", raw)
        c.append("INBOX", small)
    finally:
        c.logout()
    del raw, blob
    md = Maildaemon(tmp_path, dovecot)
    md.env["MAILDAEMON_MAX_MAIL_BYTES"] = str(1024 * 1024)
    done = subprocess.run([sys.executable, "-c", _MAXRSS, "sync"], env=md.env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=SYNC_TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
    peak_mb = int(re.search(r"MAXRSS_KB (\d+)", done.stderr).group(1)) / 1024
    tickets = md.tickets()
    assert "goc:41991" in tickets and "goc:41990" not in tickets, sorted(tickets)
    entries = md.json("quarantine", "list", "--json")
    assert [e["reason"] for e in entries if e.get("message_id") == "<hostile.memory_100mb@tick.example.org>"] == ["too large"]
    assert peak_mb < 150, f"sync peaked at {peak_mb:.0f} MB for a 100 MB mail over a 1 MiB limit"


# --- the daemon ------------------------------------------------------------------------------

class NotifySocket:
    """What systemd would hear on $NOTIFY_SOCKET: every datagram with the monotonic time it came,
    read by a thread of its own so the times are right while the test does other things."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nfy-", dir="/tmp")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.heard: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.heard.append((time.monotonic(), msg.decode(errors="replace")))

    def wait_for(self, field: str, timeout: float, proc=None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.times_of(field):
                return True
            if proc is not None and proc.poll() is not None:
                return bool(self.times_of(field))
            time.sleep(0.1)
        return False

    def times_of(self, field: str) -> list[float]:
        return [t for t, msg in list(self.heard) if field in msg.split("\n")]

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def daemon(tmp_path, dovecot, smtp_server):
    md = Maildaemon(tmp_path, dovecot, smtp_server)
    md.ok("rotation", "load", str(_rotation(tmp_path)))
    notify = NotifySocket()
    procs = []

    def start(watchdog_seconds: float = 10.0):
        env = dict(md.env, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(int(watchdog_seconds * 1e6)))
        log = open(tmp_path / f"run-{len(procs)}.log", "w")
        p = subprocess.Popen([sys.executable, "-m", "maildaemon", "run", "--now", REMIND_AT], env=env,
                             cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        procs.append((p, log))
        return p

    yield md, start, notify
    for p, log in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
    notify.close()


def _log(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("run-*.log")))


def _stop(p, notify) -> None:
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0


def test_run_reaches_ready_on_the_hostile_mailbox(daemon, tmp_path, dovecot, smtp_server):
    md, start, notify = daemon
    items = stream("plain")
    fill(dovecot, items)
    p = start()
    assert notify.wait_for("READY=1", READY_TIMEOUT, proc=p), f"no READY=1 (exit {p.poll()}):\n{_log(tmp_path)}"
    assert p.poll() is None
    must, may, _, _ = expectations(items)
    check_tickets(md.tickets(), must, may)          # caught up before READY
    wait_quiet(smtp_server)
    _stop(p, notify)
    outside = [(w, a) for w, a in recipients(smtp_server.messages) if any(d in a for d in OUTSIDE)]
    assert not outside, f"the daemon wrote to outsiders: {outside}"


def test_run_keeps_its_watchdog_fed_while_it_reads_the_hostile_stream(daemon, tmp_path, dovecot):
    """WatchdogSec=10s: systemd kills a service that goes 10 s without WATCHDOG=1."""
    md, start, notify = daemon
    p = start(watchdog_seconds=10.0)
    assert notify.wait_for("READY=1", 60, proc=p), f"no READY=1 on an empty mailbox:\n{_log(tmp_path)}"
    items = stream("plain")
    began = time.monotonic()
    fill(dovecot, items)                                  # arrives while the daemon runs
    deadline = time.monotonic() + READY_TIMEOUT
    fetched = 0
    while time.monotonic() < deadline and p.poll() is None:
        time.sleep(2)
        fetched = md.json("status", "--json").get("fetched", 0)
        if fetched >= len(items):
            break
    assert p.poll() is None, f"the daemon stopped (exit {p.poll()}):\n{_log(tmp_path)}"
    assert fetched >= len(items), f"read {fetched} of {len(items)} mails in {READY_TIMEOUT} s"
    ended = time.monotonic()
    pings = notify.times_of("WATCHDOG=1")
    before = [t for t in pings if t <= began]
    marks = [before[-1] if before else began] + [t for t in pings if began < t <= ended] + [ended]
    worst = max(b - a for a, b in zip(marks, marks[1:]))
    assert worst < 10.0, f"{worst:.1f} s without WATCHDOG=1 while reading the stream (systemd would kill it)"
    _stop(p, notify)


def _rotation(root: Path) -> Path:
    path = root / "rotation.txt"
    path.write_text(ROTATION)
    return path
