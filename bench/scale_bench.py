"""What does a year or two of stream cost? The measurements issue 14 asks for, at several sizes.

For each stream size N this generates N GOC notifications shaped like a real team's stream (about
four per ticket, 25 new tickets a day, so the stream spans about N/100 days; nearly every ticket is
resolved or closed by its last mail, a seeded few stay open and pile up as the stale backlog), then
runs the command line the way an operator does, each command in its own process (start included):

  import FILE      into an empty state, once: CPU s, ms per message, peak RSS (VmHWM)
  remind --dry-run at the next reminder slot after the last mail (a weekday 09:30, team time)
  handoff --dry-run at that week's Friday 15:00
  tickets, tickets --json, status, ticket KEY      (these five and the two above: median of --runs)
  the state folder's size
  run              the daemon on an empty Maildir polled every 5 s, clock at the reminder slot:
                   its start (catch-up + first tick), then CPU per minute of idle running and how
                   often it rewrote the state file while nothing arrived

and prints one table (the issue's columns) and the ratio of the per-message import cost at the
largest size to the smallest (the issue's goal: within 1.2x). Times are seconds; "wall" includes
process start. Peak RSS is read by the child itself from /proc/self/status (VmHWM): ru_maxrss is
useless here because Linux carries it across exec (it would report the benchmark's own peak).

    python3 -m bench.scale_bench [--sizes 2000,8000,20000,50000] [--runs 3] [--keep DIR] [--no-daemon]

Sizes above 8,000 take minutes each (the import dominates); --keep DIR caches the generated mboxes
and leaves each size's state folder in DIR/work-N for profiling.
"""
from __future__ import annotations

import argparse
import json
import mailbox
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as dt_time
from pathlib import Path

from bench.corpus import SITES, TEAM, TITLES, goc_mail

ROOT = Path(__file__).resolve().parent.parent
TEAM_FILE = ROOT / "maildaemon" / "demo" / "team.toml"   # its members are bench.corpus.TEAM
SEED = 14
GENERATOR = "v1"                 # bump when the stream's shape changes: the cache key of --keep
TICKETS_PER_DAY = 25             # x 4 mails = 100 a day: N messages span N/100 days
LAST_MAIL = datetime(2027, 3, 2, 4, 0, tzinfo=timezone.utc)   # Monday night in Chicago
NEVER_DONE = 0.02                # tickets that never get resolved: the stale backlog
OPERATOR = "Alice Operator (GOC)"
TRIAGE = "Software Support (Triage)"
USERS = [(f"{first} {last}", f"{first[0].lower()}{last.lower()}@{site}")
         for first in ("Jane", "Omar", "Li", "Priya", "Marco", "Ines")
         for last, site in (("User", "example.edu"), ("Nakamura", "lab.example.net"), ("Schmidt", "uni.example.de"))]
DAEMON_SETTLE = 75.0             # after the second tick: the first after a change also asks the agenda
DAEMON_WINDOW = 65.0             # the idle window: at least one minute tick and a dozen polls

# The child: run the CLI, then report its own peak RSS on stderr (ru_maxrss survives exec).
# As the console script (cli.console) runs a command: tuned for one command, no teardown.
WRAPPER = ("import os, sys\n"
           "from maildaemon.cli import main\n"
           "rc = main(sys.argv[1:], whole_process=True)\n"
           "sys.stdout.flush()\n"
           "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
           "sys.stderr.write('scale_bench ' + hwm[0])\n"
           "sys.stderr.flush()\n"
           "os._exit(rc)\n")


# --- the stream ------------------------------------------------------------------------------

@dataclass
class Ticket:
    """One generated ticket: what every one of its notifications repeats."""
    id: int
    title: str
    submitter: tuple[str, str]
    member: str
    entries: list = field(default_factory=list)      # (at, author, text), newest first, as FootPrints


def lifecycle(rnd: random.Random) -> list[str]:
    """The steps a ticket's mails take. Four mails for most (opened, assigned, asked the user,
    resolved), some three or five; a seeded few stop early and stay open for good."""
    full = ["open", "assign", "customer", "reply", "done"]
    if rnd.random() < NEVER_DONE:
        return full[:rnd.randint(1, 4)]
    r = rnd.random()
    if r < 0.1:
        return ["open", "assign", "done"]
    if r < 0.2:
        return full
    return ["open", "assign", "customer", "done"]


GAP_HOURS = {"assign": (0.5, 30), "customer": (2, 72), "reply": (4, 120), "done": (1, 48)}


def ticket_schedule(rnd: random.Random, n_tickets: int) -> list[tuple[datetime, Ticket, str, int]]:
    """(at, ticket, step, serial) for every mail of `n_tickets` tickets, arriving at random
    (exponential gaps, TICKETS_PER_DAY on average) from an arbitrary origin, in time order."""
    origin = datetime(2020, 1, 1, tzinfo=timezone.utc)
    at = origin
    out = []
    for i in range(n_tickets):
        at += timedelta(days=rnd.expovariate(TICKETS_PER_DAY))
        t = Ticket(41000 + i, rnd.choice(TITLES).format(s=rnd.choice(SITES)), rnd.choice(USERS),
                   rnd.choice(TEAM)[0])
        when = at
        for step in lifecycle(rnd):
            if step != "open":
                when += timedelta(hours=rnd.uniform(*GAP_HOURS[step]))
            out.append((when, t, step, len(out)))
    out.sort(key=lambda x: (x[0], x[3]))
    return out


def stream_plan(n: int, seed: int = SEED) -> list[tuple[datetime, Ticket, str, int]]:
    """The first `n` mails of a stream long enough to hold them, shifted so the last one is
    LAST_MAIL. Tickets whose later mails fall past the cut are the ones in flight at the end."""
    rnd = random.Random(f"{seed}-{n}")
    plan = ticket_schedule(rnd, n // 4 + n // 10 + 50)[:n]
    shift = LAST_MAIL - plan[-1][0]
    return [(at + shift, t, step, serial) for at, t, step, serial in plan]


def render(at: datetime, t: Ticket, step: str, serial: int, rnd: random.Random) -> bytes:
    """One notification for `step`, repeating the ticket's earlier entries as FootPrints does."""
    user_name, user_mail = t.submitter
    assignees, status, action, deadline = (OPERATOR, TRIAGE), "Engineering", "SOFTWARE TRIAGE", None
    if step == "open":
        author, text = user_name, "Pilot jobs at our site fail since this morning; logs attached.\n" * rnd.randint(1, 6)
    else:
        owned = (OPERATOR, t.member) if t.id % 2 else (OPERATOR, TRIAGE, t.member)   # half drop triage
        assignees, action = owned, "Investigate"
        author, text = t.member, "Looking into it; we can reproduce it here."
        if step == "assign" and rnd.random() < 0.3:
            deadline = at + timedelta(days=5)
        elif step == "customer":
            status, action, text = "Customer", "User response", "Could you send the job logs and the CE version?"
        elif step == "reply":
            author, text = user_name, "Here are the logs; still failing after the upgrade.\n" * rnd.randint(1, 4)
        elif step == "done":
            status = "Closed" if rnd.random() < 0.3 else "Resolved"
            text = "The fix is in the next release; closing. Reopen if it comes back."
    t.entries.insert(0, (at - timedelta(seconds=30), author, text))
    return goc_mail(t.id, t.title, at, status=status, assignees=assignees, next_action=action,
                    deadline=deadline, submitter=f"{user_name} <{user_mail}>", entries=t.entries[:6],
                    html=rnd.random() < 0.1, n=serial)


def write_stream(path: Path, plan) -> None:
    """Render and append one mail at a time (50,000 rendered mails would not fit in memory
    comfortably), to a temporary name first so an interrupted run never leaves a cached half."""
    rnd = random.Random(SEED)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    box = mailbox.mbox(str(tmp), create=True)
    try:
        for at, t, step, serial in plan:
            box.add(render(at, t, step, serial, rnd))
        box.flush()
    finally:
        box.close()
    tmp.replace(path)


def moments(last: datetime, team) -> tuple[datetime, datetime]:
    """The first reminder slot after the last mail (a business day, 09:30 team time), and the
    handoff of that duty week (Friday 15:00)."""
    from maildaemon import workdays
    tz = workdays.zone(team)
    day = workdays.local_date(last, team)
    while True:
        slot = datetime.combine(day, dt_time(9, 30), tzinfo=tz)
        if slot > last and workdays.is_business_day(day, team):
            break
        day += timedelta(days=1)
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    return slot, datetime.combine(friday, dt_time(15, 0), tzinfo=tz)


# --- running a command -----------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    out: str
    err: str


def base_env(work: Path) -> dict[str, str]:
    """Our environment without any MAILDAEMON_ or systemd settings (no SMTP: mail goes to files)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MAILDAEMON_") and k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC")}
    env.update(PYTHONPATH=str(ROOT), MAILDAEMON_STATE_DIR=str(work / "state"),
               MAILDAEMON_TEAM_FILE=str(work / "team.toml"))
    return env


def run_cli(args: list[str], env: dict, cwd: Path, check: bool = True) -> Run:
    """One CLI process; its own CPU time from wait4 (exact, whatever else runs), wall time from
    here, peak RSS as the child printed it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", WRAPPER, *args], env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and p.returncode != 0:
        raise SystemExit(f"maildaemon {' '.join(args)} exited {p.returncode}:\n{stderr[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, _hwm_mb(stderr), stdout, stderr)


def _hwm_mb(stderr: str) -> float:
    for line in reversed(stderr.splitlines()):
        if line.startswith("scale_bench VmHWM:"):
            return int(line.split()[2]) / 1024          # "VmHWM:   51234 kB"
    return float("nan")


def median_run(args: list[str], env: dict, cwd: Path, runs: int) -> Run:
    """The median (by wall time) of `runs` runs of a command that changes nothing."""
    results = sorted((run_cli(args, env, cwd) for _ in range(runs)), key=lambda r: r.wall)
    return results[len(results) // 2]


def state_size(state: Path) -> tuple[int, int]:
    """(bytes of maildaemon.json, bytes of everything else in the state folder)."""
    main = (state / "maildaemon.json").stat().st_size
    total = sum(p.stat().st_size for p in state.rglob("*") if p.is_file())
    return main, total - main


# --- the daemon ------------------------------------------------------------------------------

def proc_cpu(pid: int) -> float:
    """utime + stime of a live process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def state_identity(state: Path) -> tuple[int, int]:
    """Changes whenever the state file is rewritten (atomic writes rename a new file in place)."""
    try:
        st = (state / "maildaemon.json").stat()
        return st.st_ino, st.st_mtime_ns
    except FileNotFoundError:
        return 0, 0


@dataclass
class DaemonFigures:
    start_wall: float = float("nan")      # until "running:" (catch-up and first tick done)
    start_cpu: float = float("nan")
    queued: int = 0                        # mails the first tick queued
    idle_cpu_per_min: float = float("nan")
    rewrites_per_min: float = float("nan")
    rss_mb: float = float("nan")


def measure_daemon(work: Path, env: dict, now: datetime, timeout: float = 3600) -> DaemonFigures:
    """Start `run` on an empty Maildir with the clock at `now`, wait for its first tick to finish
    ("running:" in the log), then watch it idle for DAEMON_WINDOW seconds: CPU from /proc, state
    file rewrites by sampling the file's inode twice a second. Stopped with SIGTERM."""
    maildir = work / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    env = dict(env, MAILDAEMON_MAILDIR=str(maildir), MAILDAEMON_POLL_SECONDS="5",
               MAILDAEMON_NOW=now.isoformat(), MAILDAEMON_LOG_LEVEL="INFO")
    log_path = work / "daemon.log"
    fig = DaemonFigures()
    with open(log_path, "wb") as log:
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-c", WRAPPER, "run"], env=env, cwd=work,
                             stdout=subprocess.DEVNULL, stderr=log)
        try:
            if not _wait_running(p, log_path, t0 + timeout):
                raise SystemExit(f"the daemon did not start:\n{log_path.read_text()[-2000:]}")
            fig.start_wall, fig.start_cpu = time.monotonic() - t0, proc_cpu(p.pid)
            fig.queued = log_path.read_text().count(" queued ")
            _sleep_until(p, t0 + DAEMON_SETTLE)
            fig.idle_cpu_per_min, fig.rewrites_per_min = _idle_window(p, work / "state")
            fig.rss_mb = proc_hwm_mb(p.pid)
        finally:
            _stop(p)
    return fig


def _wait_running(p: subprocess.Popen, log_path: Path, deadline: float) -> bool:
    while time.monotonic() < deadline and p.poll() is None:
        if "INFO running:" in log_path.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def _sleep_until(p: subprocess.Popen, moment: float) -> None:
    while time.monotonic() < moment and p.poll() is None:
        time.sleep(0.1)


def _idle_window(p: subprocess.Popen, state: Path) -> tuple[float, float]:
    """(CPU seconds per minute, state file rewrites per minute) over DAEMON_WINDOW seconds."""
    t, cpu = time.monotonic(), proc_cpu(p.pid)
    end, seen, rewrites = t + DAEMON_WINDOW, state_identity(state), 0
    while time.monotonic() < end and p.poll() is None:
        time.sleep(0.5)
        now_id = state_identity(state)
        rewrites += now_id != seen
        seen = now_id
    minutes = (time.monotonic() - t) / 60
    return (proc_cpu(p.pid) - cpu) / minutes, rewrites / minutes


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# --- one size --------------------------------------------------------------------------------

@dataclass
class Figures:
    n: int
    mbox_mb: float = 0.0
    import_: Run | None = None
    reads: dict[str, Run] = field(default_factory=dict)
    open_tickets: int = 0
    tickets_total: int = 0
    due: str = ""
    state_json: int = 0
    state_other: int = 0
    daemon: DaemonFigures | None = None


def prepare_mbox(n: int, keep: Path | None, work: Path, plan) -> Path:
    """The mbox for size `n`: from the --keep cache when there, else written (and cached)."""
    folder = keep if keep else work
    path = folder / f"goc-{n}-s{SEED}-{GENERATOR}.mbox"
    if not path.exists():
        t = time.perf_counter()
        write_stream(path, plan)
        say(f"  wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.0f} s")
    return path


def load_rotation(env: dict, work: Path, first: datetime, handoff_at: datetime) -> None:
    """A fair rotation from the stream's first week to a few weeks past the handoff, stored the
    way a team does it (`rotation generate` then `rotation load`)."""
    weeks = min(520, (handoff_at - first).days // 7 + 6)
    plan = run_cli(["rotation", "generate", "--weeks", str(weeks), "--start", first.date().isoformat()], env, work)
    (work / "rotation.txt").write_text(plan.out)
    run_cli(["rotation", "load", str(work / "rotation.txt")], env, work)


def measure_size(n: int, runs: int, keep: Path | None, daemon: bool) -> Figures:
    work = Path(tempfile.mkdtemp(prefix=f"scale-{n}-")) if keep is None else keep / f"work-{n}"
    if keep is not None:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(mode=0o700, parents=True)
    try:
        return _measure_in(n, runs, keep, daemon, work)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _measure_in(n: int, runs: int, keep: Path | None, daemon: bool, work: Path) -> Figures:
    from maildaemon.config import load_team
    shutil.copy(TEAM_FILE, work / "team.toml")
    team = load_team(work / "team.toml")
    plan = stream_plan(n)
    remind_at, handoff_at = moments(plan[-1][0], team)
    fig = Figures(n)
    say(f"{n} messages, {len({t.id for _, t, _, _ in plan})} tickets, {plan[0][0]:%Y-%m-%d} .. "
        f"{plan[-1][0]:%Y-%m-%d %H:%M} UTC; remind at {remind_at:%a %Y-%m-%d %H:%M}, handoff {handoff_at:%a %H:%M}")
    mbox = prepare_mbox(n, keep, work, plan)
    fig.mbox_mb = mbox.stat().st_size / 1e6
    env = base_env(work)

    fig.import_ = run_cli(["import", str(mbox)], env, work)
    say(f"  import: {fig.import_.out.strip()}; {fig.import_.cpu:.1f} s CPU, {fig.import_.wall:.1f} s wall, "
        f"peak RSS {fig.import_.rss_mb:.0f} MB")
    load_rotation(env, work, plan[0][0], handoff_at)
    measure_reads(fig, env, work, runs, remind_at, handoff_at)
    fig.state_json, fig.state_other = state_size(work / "state")
    if daemon:
        fig.daemon = measure_daemon(work, env, remind_at)
        d = fig.daemon
        say(f"  daemon: start {d.start_wall:.1f} s wall / {d.start_cpu:.1f} s CPU ({d.queued} queued); idle "
            f"{d.idle_cpu_per_min:.2f} CPU s/min, state rewritten {d.rewrites_per_min:.0f}x/min; peak RSS {d.rss_mb:.0f} MB")
    return fig


def measure_reads(fig: Figures, env: dict, work: Path, runs: int, remind_at: datetime, handoff_at: datetime) -> None:
    """The commands that change nothing, median of `runs` each."""
    commands = {
        "remind": ["remind", "--dry-run", "--now", remind_at.isoformat()],
        "handoff": ["handoff", "--dry-run", "--now", handoff_at.isoformat()],
        "tickets": ["tickets", "--now", remind_at.isoformat()],
        "tickets --json": ["tickets", "--json", "--now", remind_at.isoformat()],
        "status": ["status", "--json"],
    }
    for name, args in commands.items():
        fig.reads[name] = median_run(args, env, work, runs)
    listed = json.loads(fig.reads["tickets --json"].out)
    status = json.loads(fig.reads["status"].out)
    fig.open_tickets, fig.tickets_total = status["open_tickets"], status["tickets_total"]
    fig.due = fig.reads["remind"].out.strip().splitlines()[-1]
    key = listed[len(listed) // 2]["key"] if listed else "goc:41000"
    fig.reads[f"ticket {key}"] = median_run(["ticket", key], env, work, runs)
    say(f"  {fig.open_tickets} open of {fig.tickets_total}; remind: {fig.due}")
    for name, r in fig.reads.items():
        say(f"  {name:<18} {r.wall:6.2f} s wall {r.cpu:6.2f} s CPU  peak RSS {r.rss_mb:5.0f} MB")


# --- the report ------------------------------------------------------------------------------

COLUMNS = ["messages", "import CPU s", "import ms/msg", "remind s", "handoff s", "tickets s", "status s",
           "peak RSS MB", "state MB", "daemon CPU s/min"]


def row(f: Figures) -> list[str]:
    imp = f.import_
    d = f.daemon
    return [f"{f.n:,}", f"{imp.cpu:.1f}", f"{imp.cpu / f.n * 1000:.2f}",
            f"{f.reads['remind'].wall:.2f}", f"{f.reads['handoff'].wall:.2f}", f"{f.reads['tickets'].wall:.2f}",
            f"{f.reads['status'].wall:.2f}", f"{imp.rss_mb:.0f}", f"{(f.state_json + f.state_other) / 1e6:.1f}",
            f"{d.idle_cpu_per_min:.2f}" if d else "-"]


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def command_table(figs: list[Figures]) -> list[str]:
    """Every read-only command at every size: wall / CPU seconds and peak RSS."""
    names = ["remind", "handoff", "tickets", "tickets --json", "status", "ticket KEY"]

    def cell(f: Figures, name: str) -> str:
        r = f.reads[name] if name in f.reads else next(v for k, v in f.reads.items() if k.startswith("ticket "))
        return f"{r.wall:.2f} / {r.cpu:.2f} s, {r.rss_mb:.0f} MB"
    return markdown(["command (wall / CPU, peak RSS)"] + [f"{f.n:,}" for f in figs],
                    [[name] + [cell(f, name) for f in figs] for name in names])


def report(figs: list[Figures]) -> str:
    lines = markdown(COLUMNS, [row(f) for f in figs])
    lines.append("")
    lines.append("remind/handoff/tickets/status: wall seconds, process start included, median of the runs; "
                 "peak RSS: the import's.")
    lines.append("Goals of issue 14 at 50,000: each command under 0.5 s wall; idle daemon under 0.06 CPU s/min "
                 "(0.1 % of a core); peak RSS under 150 MB; import per message within 1.2x of the cost at 2,000.")
    if len(figs) > 1:
        small, large = figs[0], figs[-1]
        ratio = (large.import_.cpu / large.n) / (small.import_.cpu / small.n)
        lines.append(f"import CPU per message at {large.n:,} / at {small.n:,}: {ratio:.2f}x (goal: within 1.2x)")
    for f in figs:
        d = f.daemon
        first_tick = d.start_cpu - f.reads["status"].cpu if d else 0      # start minus a bare read of the state
        extra = (f"; daemon start {d.start_wall:.1f} s wall / {d.start_cpu:.1f} s CPU with {d.queued} mails queued "
                 f"(first tick about {first_tick:.1f} s CPU: start minus `status`), "
                 f"idle rewrites of the state file {d.rewrites_per_min:.0f}/min, daemon peak RSS {d.rss_mb:.0f} MB"
                 if d else "")
        lines.append(f"{f.n:,}: mbox {f.mbox_mb:.1f} MB, {f.open_tickets} open of {f.tickets_total} tickets, "
                     f"state {f.state_json / 1e6:.1f} MB maildaemon.json + {f.state_other / 1e6:.1f} MB other"
                     f"{extra}")
    lines.append("")
    lines += command_table(figs)
    return "\n".join(lines)


def say(text: str) -> None:
    print(text, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="maildaemon at stream sizes of a year or two (issue 14)")
    p.add_argument("--sizes", default="2000,8000", help="comma-separated message counts (default 2000,8000)")
    p.add_argument("--runs", type=int, default=3, help="runs of each read-only command; the median is shown")
    p.add_argument("--keep", metavar="DIR", help="cache the mboxes here and keep each size's work folder")
    p.add_argument("--no-daemon", action="store_true", help="skip the ~80 s daemon measurement per size")
    a = p.parse_args(argv)
    sizes = sorted(int(s) for s in a.sizes.split(",") if s.strip())
    keep = Path(a.keep).resolve() if a.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    # Measure what an installed maildaemon costs: pip writes bytecode at install, but a checkout run
    # with PYTHONDONTWRITEBYTECODE set (as some CI images do) compiles every module at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "maildaemon")], check=True,
                   stdout=subprocess.DEVNULL)
    figs = [measure_size(n, max(1, a.runs), keep, not a.no_daemon) for n in sizes]
    say("")
    say(report(figs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
