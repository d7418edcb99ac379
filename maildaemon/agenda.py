"""The agenda (SPEC 10): every mail the daemon would send over the next N days if nothing new arrived.

Pure: a snapshot of the state (tickets, outbox records, snoozes, what ingest knows of the stream),
the rotation, the team and `now` in; a list of entries (moment, kind, recipients, subject,
tickets) out. Nothing is written.

It asks the daemon's own policy, never a copy of its rules: at each moment it calls
`policy.due_reminders` (announcement, silence alarm, meeting briefs, unassigned digest, owner /
owner-away / user / close reminders, work-done), `policy.handoff_due` and `handoff.handoff`, as
`dispatch.plan` does at a tick, and keeps what the outbox would not refuse (`render.message_id`).
Each mail listed becomes an outbox record of the simulation (kind, period, tickets, `created_at` =
its moment), so later moments see it as sent: a reminder comes back only when `repeat_after_days`
have passed, the digest once per slot, the announcement and the handoff once a week.

The moments. Without new mail the policy's answer changes only at these instants, so the loop
visits them in order instead of every minute of the window:
- `now` (what is due at once: a missed slot's catch-up, the announcement, the handoff);
- each reminder slot of each business day (`reminder_times`), the announcement and handoff times
  of each duty week, and the start of each meeting brief's window (`brief_minutes` before a
  meeting marked `brief`);
- the crossings, computed in closed form (`reach`: the instant N business days or H business
  hours after a moment): a ticket going stale (`stale_after_days` of its team clock), its
  next-action deadline, `user_wait_days` and `user_close_days` of waiting on the user,
  `unassigned_after_hours` without an owner, `repeat_after_days` after the slot of the previous
  reminder of the same kind, and `silence_after_hours` after the last notification applied.
A crossing counts from the whole minute at or after it (the daemon ticks every minute). A rule
that makes mail due at a new kind of moment must add that moment here: tests/test_agenda.py
compares the agenda with a walk over every five minutes of a week.

Cost: the whole policy runs at `now`, at each slot, announcement, brief window and silence, and
at an unassigned ticket's crossing while its slot had no digest yet; a ticket's own crossing asks
the policy about that ticket alone (its reminder depends on nothing else). Only the subjects are
rendered (`render.compose` with the other templates left out).

The handoff: its subject and recipients depend on the week, the rotation and the open counts now
and a week earlier, so by default it is computed over the tickets open at one of those two
moments (the same figures, a fraction of the history to read); `exact_handoff=True` gives it
every ticket (for a team whose own handoff subject template may show anything).
"""
from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

from jinja2 import Environment

from maildaemon import brief, policy, rotation, workdays
from maildaemon import handoff as handoff_policy
from maildaemon.model import DAYS
from maildaemon.model import DONE_STATUSES, Due, Health, OutboxRecord, Snooze, Team, Ticket, iso, parse_iso
from maildaemon.render import heading, message_id
from maildaemon.weekly_figures import a_week_earlier, status_at

MINUTE = timedelta(minutes=1)
MAX_DAYS = 366
_UTC = timezone.utc


@dataclass(frozen=True)
class PlannedMail:
    """One mail of the agenda: when it would go out, to whom, and its subject."""
    at: datetime                   # the moment it falls due, team time
    kind: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    tickets: tuple[str, ...]
    message_id: str

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(timespec="seconds"), "kind": self.kind, "to": list(self.to),
                "cc": list(self.cc), "subject": self.subject, "tickets": list(self.tickets)}


@dataclass
class Snapshot:
    """What the agenda reads of the state's `model.Snapshot`, as dispatch.plan reads it."""
    tickets: Sequence[Ticket]                  # open and recently changed
    sent: dict[str, OutboxRecord]              # the outbox by Message-ID
    key: bytes = b""                           # the installation's key (ownmail): the Message-IDs
    snoozes: dict[str, Snooze] = field(default_factory=dict)   # by ticket key
    stream: Health | None = None               # the silence alarm reads it


@dataclass
class Agenda:
    start: datetime
    end: datetime                              # exclusive
    entries: list[PlannedMail] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # why mails are missing (no one on duty)


def agenda(snapshot: Snapshot, ledger: Sequence[rotation.Assignment], team: Team, now: datetime, days: int,
           env: Environment, exact_handoff: bool = False) -> Agenda:
    """Every mail due from `now` (inclusive) for `days` days (to the same wall-clock time `days`
    calendar days later, exclusive) if nothing new arrived, in the order they would go out."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}")
    return _Run(snapshot, ledger, team, now, days, env, exact_handoff).go()


def reach(start: datetime, amount: timedelta, team: Team) -> datetime:
    """The first instant at which `amount` of business time (team.work_hours on business days)
    has elapsed since `start`: the inverse of workdays.business_time, in closed form (UTC)."""
    start = start.astimezone(_UTC)
    if amount <= timedelta(0):
        return start
    tz = workdays.zone(team)
    work_from, work_to = team.work_hours
    day = workdays.local_date(start, team)
    if workdays.is_business_day(day, team):
        lo = max(start, datetime.combine(day, work_from, tzinfo=tz).astimezone(_UTC))
        hi = datetime.combine(day, work_to, tzinfo=tz).astimezone(_UTC)
        available = max(timedelta(0), hi - lo)
        if available >= amount:
            return lo + amount
        amount -= available
    whole, rest = divmod(amount, workdays.workday(team))
    if not rest:
        return datetime.combine(workdays.add_business_days(day, whole, team), work_to, tzinfo=tz).astimezone(_UTC)
    last = workdays.add_business_days(day, whole + 1, team)
    return datetime.combine(last, work_from, tzinfo=tz).astimezone(_UTC) + rest


def _ceil_minute(when: datetime) -> datetime:
    when = when.astimezone(_UTC)
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + MINUTE
    return when


class _SubjectsOnly:
    """The Jinja environment for `compose` that renders subjects only: the agenda shows no body,
    and the bodies were nine tenths of its time (a digest of 70 tickets, in text and HTML)."""

    class _Blank:
        @staticmethod
        def render(*args, **kwargs) -> str:
            return ""

    def __init__(self, env: Environment):
        self._env = env

    def get_template(self, name: str, *args, **kwargs):
        if name.endswith(".subject.j2"):
            return self._env.get_template(name, *args, **kwargs)
        return self._Blank

    def __getattr__(self, name):
        return getattr(self._env, name)


class _Run:
    """One agenda: the simulated outbox and the queue of moments still to visit."""

    def __init__(self, snap: Snapshot, ledger, team: Team, now: datetime, days: int, env: Environment,
                 exact_handoff: bool):
        self.snap, self.ledger, self.team, self.exact_handoff = snap, list(ledger), team, exact_handoff
        self.env = _SubjectsOnly(env)
        self.tz = workdays.zone(team)
        local = now.astimezone(self.tz)
        self.start = now.astimezone(_UTC)
        self.end = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=self.tz).astimezone(_UTC)
        self.tickets = list(snap.tickets)
        self.open = [t for t in self.tickets if t.status not in DONE_STATUSES]
        self.by_key = {t.key: t for t in self.open}
        self.sent: list[OutboxRecord] = list(snap.sent.values())
        self.ids = set(snap.sent)
        self.by_ticket: dict[str, list[OutboxRecord]] = defaultdict(list)
        for rec in self.sent:
            for k in rec.tickets:
                self.by_ticket[k].append(rec)
        self.digests = {rec.period for rec in self.sent if rec.kind == "unassigned"}
        self.entries: list[tuple[datetime, int, PlannedMail]] = []
        self.queue: list[tuple] = []
        self.order = itertools.count()
        self.workday = workdays.workday(team)

    # --- the moments ---------------------------------------------------------------------------

    def push(self, when: datetime, what: str, arg=None) -> None:
        heapq.heappush(self.queue, (when.astimezone(_UTC), next(self.order), what, arg))

    def fixed_moments(self) -> None:
        self.push(self.start, "all")
        first, last = workdays.local_date(self.start, self.team), workdays.local_date(self.end, self.team)
        day = first
        while day <= last + timedelta(days=1):          # a brief's window may open the day before
            if workdays.is_business_day(day, self.team):
                for at in self.team.policy.reminder_times:
                    self.push(datetime.combine(day, at, tzinfo=self.tz), "all")
                for m in self.team.meetings:
                    if m.brief and m.day == DAYS[day.weekday()]:
                        start = datetime.combine(day, m.time, tzinfo=self.tz)
                        self.push(start - timedelta(minutes=m.brief_minutes), "all")
            day += timedelta(days=1)
        week = workdays.week_start(first, self.team)
        while week <= last:
            self.push(workdays.week_moment(week, self.team.policy.announce_time, self.team), "all")
            self.push(workdays.week_moment(week, self.team.policy.handoff_time, self.team), "handoff")
            week += workdays.WEEK
        hours = self.team.policy.silence_after_hours
        last_applied = self.snap.stream.last_applied_at if self.snap.stream else None
        if hours and last_applied:
            self.push(_ceil_minute(reach(parse_iso(last_applied), timedelta(hours=hours), self.team)), "all")

    def ticket_moments(self) -> None:
        p = self.team.policy
        for t in self.open:
            if t.status == "open" and t.owner:
                clock = policy.team_clock(t)
                if clock:
                    self.push(_ceil_minute(reach(parse_iso(clock), p.stale_after_days * self.workday, self.team)),
                              "ticket", t.key)
                if t.next_action_deadline:
                    self.push(_ceil_minute(parse_iso(t.next_action_deadline)), "ticket", t.key)
            if t.status == "waiting-on-user" and t.status_since:
                since = parse_iso(policy.waiting_since(t))
                for n in (p.user_wait_days, p.user_close_days):
                    self.push(_ceil_minute(reach(since, n * self.workday, self.team)), "ticket", t.key)
            if policy.waiting_for_triage(t, self.team):
                since = t.owner_changed_at if (t.owner is None and t.owner_changed_at) else t.opened_at
                if since:
                    self.push(_ceil_minute(reach(parse_iso(since), timedelta(hours=p.unassigned_after_hours),
                                                 self.team)), "digest", t.key)
        for (kind, key), created in policy.last_sent(self.sent).items():
            if key in self.by_key:
                self.repeat_moment(key, parse_iso(created))

    def repeat_moment(self, key: str, sent_at: datetime) -> None:
        """When a reminder sent at `sent_at` may go again (policy.repeated: `repeat_after_days`
        business days from the start of the slot it went out in)."""
        base = policy.slot_start(sent_at, self.team)
        self.push(_ceil_minute(reach(base, self.team.policy.repeat_after_days * self.workday, self.team)),
                  "ticket", key)

    # --- the loop ------------------------------------------------------------------------------

    def go(self) -> Agenda:
        self.fixed_moments()
        self.ticket_moments()
        while self.queue and self.queue[0][0] < self.end:
            when = self.queue[0][0]
            group = []
            while self.queue and self.queue[0][0] == when:
                group.append(heapq.heappop(self.queue))
            at = max(when, self.start)             # a moment already past: what it made due is due now
            whats = {g[2] for g in group}
            if "all" in whats or ("digest" in whats and self.digest_possible(at)):
                self.emit(at, self.whole(at))
            elif "ticket" in whats:
                self.emit(at, self.some(at, {g[3] for g in group if g[2] == "ticket"}))
            if "handoff" in whats:
                self.handoff(at)
        return Agenda(self.start.astimezone(self.tz), self.end.astimezone(self.tz),
                      [e for _, _, e in sorted(self.entries, key=lambda x: (x[0], x[1]))], self.notes())

    def digest_possible(self, at: datetime) -> bool:
        slot = policy.current_slot(at, self.team)
        return slot is not None and slot.period not in self.digests

    def nobody(self, at: datetime) -> bool:
        return rotation.nobody_on_duty(self.ledger, self.team, workdays.local_date(at, self.team)) is not None

    def whole(self, at: datetime) -> list[Due]:
        """What the daemon's tick decides at `at` (dispatch.plan's reminders)."""
        if self.nobody(at):
            return []
        return policy.due_reminders(self.tickets, self.ledger, self.team, self.sent, at, snoozes=self.snap.snoozes,
                                    stream=self.snap.stream, briefs=brief.due_briefs)

    def some(self, at: datetime, keys: set[str]) -> list[Due]:
        """The same policy asked about a few tickets only: their own reminders (the digest and the
        other mails depend on more, and are decided at the moments that ask the whole policy)."""
        keys = {k for k in keys if k in self.by_key}
        if not keys or self.nobody(at) or policy.current_slot(at, self.team) is None:
            return []
        sent = [r for k in sorted(keys) for r in self.by_ticket.get(k, ())]
        dues = policy.due_reminders([self.by_key[k] for k in sorted(keys)], self.ledger, self.team, sent, at,
                                    snoozes=self.snap.snoozes)
        return [d for d in dues if d.kind in policy.REPEATING and set(d.tickets) <= keys]

    def handoff(self, at: datetime) -> None:
        if self.nobody(at) or not policy.handoff_due(self.team, at):
            return
        week = workdays.week_start(at, self.team)
        if any(r.kind == "handoff" and r.period == f"week-{week.isoformat()}" for r in self.sent):
            return                                    # cheap first: the handoff reads every ticket
        due = handoff_policy.handoff(self.handoff_tickets(at), self.ledger, self.team, at, snoozes=self.snap.snoozes)
        self.emit(at, [due])

    def handoff_tickets(self, at: datetime) -> list[Ticket]:
        """Every ticket, or (the default) those open at `at` or a week earlier: the ones that
        count in the handoff's headline `N (+D) open tickets`."""
        if self.exact_handoff:
            return self.tickets
        earlier = a_week_earlier(at, self.team)
        return [t for t in self.tickets if t.status not in DONE_STATUSES
                or (s := status_at(t, earlier)) is not None and s not in DONE_STATUSES]

    def emit(self, at: datetime, dues: list[Due]) -> None:
        shown = at.astimezone(self.tz)
        for d in dues:
            mid = message_id(d, self.team, self.snap.key)
            if mid in self.ids:
                continue
            subject, to, cc = heading(self.env, d, self.team, shown)          # as compose has them; no body
            entry = PlannedMail(shown, d.kind, to, cc, subject, d.tickets, mid)
            self.entries.append((at, next(self.order), entry))
            rec = OutboxRecord(mid, d.kind, d.period, tuple(d.tickets), created_at=iso(at))
            self.sent.append(rec)
            self.ids.add(mid)
            if d.kind == "unassigned":
                self.digests.add(d.period)
                continue
            for k in d.tickets:
                self.by_ticket[k].append(rec)
                if k in self.by_key and d.kind in policy.REPEATING:
                    self.repeat_moment(k, at)

    def notes(self) -> list[str]:
        """One line for each duty week of the window with no one on duty (no mail goes out then)."""
        out = []
        week = workdays.week_start(self.start, self.team)
        while workdays.start_of_day(week, self.team) < self.end:
            missing = rotation.nobody_on_duty(self.ledger, self.team, week)
            if missing:
                out.append(f"{missing}: no mail goes out that week (store a rotation: "
                           "maildaemon rotation load FILE)")
            week += workdays.WEEK
        return out
