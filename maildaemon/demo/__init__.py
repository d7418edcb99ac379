"""`maildaemon demo`: the whole job on a bundled stream and team, with no servers and no settings.

Plays the duty week of Mon 2026-11-23 (America/Chicago; Thursday is Thanksgiving) hour by hour:
at each moment the mails delivered by then are ingested (in delivery order, so a mail delayed in
transit arrives late), then whatever is due is decided, rendered and written. Every mail goes to
`./demo-out/NN-<kind>-<about>.eml` and gets one line on the terminal; the week ends with the
handoff. The state lives in `./demo-out/state`, so `tickets`, `ticket` and `status` can be tried
on it afterwards. Runs through exactly the code the daemon uses (ingest, policy, render, outbox).

`play_week` tells the story through the function it is given; the command line (`maildaemon demo`,
cli/stream.py) prints it and the tickets at the end. This package imports nothing of the command
line.
"""
from __future__ import annotations

import logging
import mailbox
import shutil
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Callable, NamedTuple

from maildaemon import dispatch, rotation, workdays
from maildaemon.config import DAYS, Settings, load_team, parse_now
from maildaemon.ingest import ingest
from maildaemon.model import RawMail, Team
from maildaemon.parse.mail import read_mail
from maildaemon.quarantine import Quarantine
from maildaemon.store import Store

WEEK = date(2026, 11, 23)
OUT = Path("demo-out")


def bundled(name: str) -> Path:
    return Path(str(files("maildaemon.demo") / name))


class Delivered:
    """The demo stream as a source: mails in delivery order, up to the first not yet sent."""

    id = "demo-stream"

    def __init__(self, mails: list[tuple[datetime | None, bytes]], until: datetime):
        self.mails, self.until = mails, until           # (Date, bytes), dated once by the caller

    def batches(self, position):
        start = (position or {}).get("next", 0)
        end = start
        while end < len(self.mails) and (self.mails[end][0] or self.until) <= self.until:
            end += 1
        if end > start:
            yield [RawMail(m, f"demo:{i + 1}") for i, (_, m) in enumerate(self.mails[start:end], start)], \
                {"next": end}


def moments(team, end: datetime) -> list[tuple[datetime, str]]:
    """When the daemon would act during the demo week: announce, reminder slots, handoff."""
    tz = workdays.zone(team)
    out = []
    for i in range(5):
        day = WEEK + timedelta(days=i)
        if team.policy.announce_time[0] == DAYS[day.weekday()]:
            out.append((datetime.combine(day, team.policy.announce_time[1], tzinfo=tz), "remind"))
        for t in team.policy.reminder_times:
            out.append((datetime.combine(day, t, tzinfo=tz), "remind"))
        if team.policy.handoff_time[0] == DAYS[day.weekday()]:
            out.append((datetime.combine(day, team.policy.handoff_time[1], tzinfo=tz), "handoff"))
    return sorted(m for m in out if m[0] <= end)


class Week(NamedTuple):
    """The demo's week played: its state, its team, and how many mails it wrote."""
    store: Store
    team: Team
    written: int


def play_week(out: Callable[[str], None], now: str | None = None) -> Week:
    """Play the duty week up to `now` (`--now`; default its Friday 17:00), one line through `out`
    per delivery, mail and holiday."""
    team = load_team(bundled("team.toml"))
    end = parse_now(now or "2026-11-27T17:00", workdays.zone(team))
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    store = Store(OUT / "state")          # demo defaults: the quarantine limits are the defaults
    settings = Settings(state_dir=store.dir, team_file=bundled("team.toml"), templates_dir=None, imap=None,
                        maildir=None, smtp=None, poll_seconds=60, log_level="WARNING", now=None)
    ledger_text = bundled("rotation.txt").read_text()
    parsed = rotation.parse(ledger_text, team)
    with store.transaction() as txn:
        txn.change_rotation(parsed.assignments, "load", end)
        txn.commit()
    mails = [(read_mail(raw).date, raw) for raw in (m.as_bytes() for m in mailbox.mbox(str(bundled("stream.mbox"))))]
    out(f"maildaemon demo: {team.name}, {len(team.members)} members, duty week of {WEEK} "
        f"({team.timezone}); {len(mails)} notifications in the stream; mail goes to {OUT}/\n")
    env = dispatch.templates(None)
    written = 0
    logging.getLogger("maildaemon").setLevel(logging.ERROR)     # the demo prints its own story
    days_seen = set()
    for moment, what in moments(team, end):
        for d in _days_between(days_seen, moment.date()):
            name = workdays.holiday_name(d, team)
            if name and d.weekday() < 5:
                out(f"{d:%a %Y-%m-%d}        {name}: a public holiday, no reminders")
        counts = ingest(Delivered(mails, moment), store, team, moment, live=False)
        stamp = moment.strftime("%a %Y-%m-%d %H:%M")
        if counts.fetched:
            out(f"{stamp}  stream: {counts.line()}")
        if not workdays.is_business_day(moment.date(), team) and what == "remind":
            continue
        due = dispatch.due_mails(store, team, moment, env, reminders=what == "remind", handoff=what == "handoff")
        new, _ = dispatch.commit(store, settings, due, moment)
        for m in new:
            written += 1
            name = f"{written:02d}-{(store.dir / 'outbox' / _file(m)).name}"
            shutil.copyfile(store.dir / "outbox" / _file(m), OUT / name)
            out(f"{stamp}  {dispatch.describe(m)}")
    ingest(Delivered(mails, end), store, team, end, live=False)
    for entry in Quarantine(store.dir).list():
        out(f"quarantined {entry.id}: {entry.reason}")
    return Week(store, team, written)


def _days_between(seen: set, day: date):
    """The days from the last one seen up to `day`, each once (to mention holidays in order)."""
    start = max(seen) + timedelta(days=1) if seen else day
    while start <= day:
        seen.add(start)
        yield start
        start += timedelta(days=1)


def _file(m) -> str:
    from maildaemon.outbox import file_name
    return file_name(m.message_id)
