"""Meeting brief (SPEC 10): before a meeting marked `brief = true`, what changed since the last one.

Pure, like the policy and handoff.py: tickets, ledger, team, the sent log and `now` in, `Due`s out.
A brief goes to the person on duty from `brief_minutes` before the meeting until it starts (a
daemon that was down catches up, but a brief after the meeting began is no use), on business days
only (a meeting on a public holiday does not take place). It opens with the meeting (name, day,
time) and the three lines a team reads out in its weekly meeting, the handoff's (`This week:
NAME`, `Next week: NAME`, `N (+D) open tickets`), then lists what changed since the previous brief
for the same meeting (the newest `brief` in the sent log whose period names that meeting), or over
the last seven days when there was none: tickets opened, closed, newly assigned (to whom: the
owner took its current value in the window), and as they stand now: still unassigned, stale,
waiting on users, and the support tickets whose work items elsewhere were all done in the window.

Identity: period `<date>T<HHMM>-<meeting slug>`, so each occurrence of each meeting has one brief.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Sequence

from maildaemon import workdays
from maildaemon.handoff import name_or_unassigned
from maildaemon.weekly_figures import closed_between, opened_between, signed, week_over_week
from maildaemon.model import DAYS, DONE_STATUSES, Due, Meeting, OutboxRecord, Snooze, Team, Ticket, parse_iso
from maildaemon.policy import (idle, key_width, local_minute, ticket_row, tickets_by_key, waited, waiting_for_triage,
                               work_done_rows)
from maildaemon.rotation import Assignment, who_on

LOOKBACK = timedelta(days=7)        # the window when no earlier brief for the meeting is known


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "meeting"


def period(start: datetime, m: Meeting) -> str:
    return f"{start.date().isoformat()}T{start:%H%M}-{slug(m.name)}"


def next_briefed(team: Team, now: datetime) -> list[tuple[Meeting, datetime]]:
    """The meetings marked `brief` whose brief window (brief_minutes before the start, up to the
    start) holds `now`, each with its start (team time)."""
    tz = workdays.zone(team)
    local = now.astimezone(tz)
    out = []
    for day in (local.date(), local.date() + timedelta(days=1)):     # a brief may start the day before
        if not workdays.is_business_day(day, team):
            continue
        for m in team.meetings:
            if not m.brief or m.day != DAYS[day.weekday()]:
                continue
            start = datetime.combine(day, m.time, tzinfo=tz)
            if start - timedelta(minutes=m.brief_minutes) <= now < start:
                out.append((m, start))
    return out


def due_briefs(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team, sent: Sequence[OutboxRecord],
               now: datetime, duty: str | None, held: dict[str, Snooze] | None = None) -> list[Due]:
    if not duty:
        return []
    return [brief(tickets, ledger, team, sent, now, duty, m, start, held or {})
            for m, start in next_briefed(team, now)]


def previous_brief(sent: Sequence[OutboxRecord], m: Meeting, before: str) -> str | None:
    """When the newest earlier brief for meeting `m` was queued (UTC ISO), or None."""
    name = slug(m.name)
    times = [r.created_at for r in sent if r.kind == "brief" and r.period[16:] == name and r.period < before]
    return max(times, default=None)


def brief(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team, sent: Sequence[OutboxRecord],
          now: datetime, duty: str, m: Meeting, start: datetime, held: dict[str, Snooze]) -> Due:
    tz = workdays.zone(team)
    this = period(start, m)
    before = previous_brief(sent, m, this)
    since = parse_iso(before) if before else now - LOOKBACK
    until = now + timedelta(microseconds=1)
    week = workdays.week_start(now, team)
    outgoing, incoming = who_on(ledger, week), who_on(ledger, week + workdays.WEEK)
    open_now, open_before = week_over_week(tickets, team, now)["open"]
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    row = lambda t, **kw: ticket_row(t, team, now, **kw)  # noqa: E731

    def snoozed(t: Ticket) -> dict:
        r = held.get(t.key)
        return {"snoozed_until": r.until if r else None}

    stale = []
    for t in open_tickets:
        if t.status == "open" and t.owner:
            figures = idle(t, now, team)
            if figures["idle_days"] >= team.policy.stale_after_days:
                stale.append(row(t, **figures, **snoozed(t)))
    by_key = tickets_by_key(tickets)
    done_elsewhere = []
    for t in open_tickets:
        found = work_done_rows(t, by_key, team)
        if found and any(r["closed_at"] and since <= parse_iso(r["closed_at"]) < until for r in found[0]):
            done_elsewhere.append(row(t, items=found[0], **snoozed(t)))
    data = {
        "meeting": {"name": m.name, "day": workdays.DAY_NAMES[start.weekday()], "date": start.date().isoformat(),
                    "time": start.strftime("%H:%M"), "minutes": max(1, math.ceil((start - now) / timedelta(minutes=1)))},
        "this_week": name_or_unassigned(team, outgoing.email if outgoing else None),
        "next_week": name_or_unassigned(team, incoming.email if incoming else None),
        "open_now": open_now, "open_delta": signed(open_now - open_before),
        "since": local_minute(since, team),
        "since_day": workdays.DAY_NAMES[since.astimezone(tz).weekday()],
        "since_previous": before is not None,
        "opened": [row(t) for t in tickets if opened_between(t, since, until)],
        "closed": [row(t) for t in tickets if t.status in DONE_STATUSES and closed_between(t, since, until)],
        "assigned": [row(t) for t in tickets
                     if t.owner and t.owner_changed_at and since <= parse_iso(t.owner_changed_at) < until],
        "unassigned": [row(t, reason=r, **snoozed(t)) for t in open_tickets if (r := waiting_for_triage(t, team))],
        "stale": stale,
        "waiting_on_users": [row(t, **waited(t, now, team), **snoozed(t))
                             for t in open_tickets if t.status == "waiting-on-user"],
        "work_done": done_elsewhere,
    }
    listed = [r for k in ("opened", "closed", "assigned", "unassigned", "stale", "waiting_on_users", "work_done")
              for r in data[k]]
    data["key_width"] = key_width(listed)
    return Due(kind="brief", period=this, to=(duty,), duty=duty, data=data)

