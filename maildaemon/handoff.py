"""The weekly handoff: what the outgoing person hands the incoming one. Pure: data in, data out.

Counts in the past ("open a week ago", the eight-week chart) are rebuilt from each ticket's history
(every applied entry records the status it left), so they need no stored snapshots and agree with
`tickets` at any `now`. Times to assignment and to first team response are medians, in hours, over
tickets opened in the last eight weeks: the team's "feasible response time".
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Sequence

from maildaemon import business
from maildaemon.config import DAYS
from maildaemon.model import DONE_STATUSES, Due, Team, Ticket
from maildaemon.policy import _away, _dt, _ticket_row, flags, team_addresses, waiting_for_triage
from maildaemon.rotation import Assignment, who_on

WEEKS_SHOWN = 8


def status_at(t: Ticket, when: datetime) -> str | None:
    """The ticket's status at an instant (None: not opened yet), from its applied history."""
    if not t.opened_at or _dt(t.opened_at) > when:
        return None
    status = "open"
    for h in t.history:
        if not h.late and h.status and _dt(h.at) <= when:
            status = h.status
    return status


def open_at(tickets: Sequence[Ticket], when: datetime) -> int:
    return sum(1 for t in tickets if (s := status_at(t, when)) is not None and s not in DONE_STATUSES)


def closed_between(t: Ticket, start: datetime, end: datetime) -> bool:
    """Closed in [start, end): half-open, so an instant on a week boundary counts in one week."""
    return any(not h.late and "closed" in h.kinds and start <= _dt(h.at) < end for h in t.history)


def opened_between(t: Ticket, start: datetime, end: datetime) -> bool:
    return bool(t.opened_at) and start <= _dt(t.opened_at) < end


def signed(n: int) -> str:
    return f"+{n}" if n >= 0 else str(n)


def weekly_counts(tickets: Sequence[Ticket], team: Team, now: datetime) -> list[dict]:
    """Open at the end, new and closed during each of the last eight duty weeks (the last: to now)."""
    this = business.week_start(now, team)
    rows = []
    for i in range(WEEKS_SHOWN - 1, -1, -1):
        start_day = this - timedelta(weeks=i)
        start, end = business.duty_period(start_day, team)
        end = min(end, now + timedelta(microseconds=1))       # the current week: up to and with now
        rows.append({"week": start_day.isoformat(), "open": open_at(tickets, end),
                     "new": sum(opened_between(t, start, end) for t in tickets),
                     "closed": sum(closed_between(t, start, end) for t in tickets)})
    top = max([1] + [max(r["open"], r["new"]) for r in rows])
    for r in rows:                               # bar lengths for the HTML chart, in percent
        r["open_pct"], r["new_pct"] = round(100 * r["open"] / top), round(100 * r["new"] / top)
    return rows


def _median_hours(pairs: list[tuple[str | None, str | None]]) -> float | None:
    values = [(_dt(b) - _dt(a)).total_seconds() / 3600 for a, b in pairs if a and b and b >= a]
    return round(statistics.median(values), 1) if values else None


def handoff(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team, now: datetime) -> Due:
    """The handoff of the duty week containing `now`, to the incoming person, Cc the team."""
    week = business.week_start(now, team)
    start, _ = business.duty_period(week, team)
    until = now + timedelta(microseconds=1)
    today = business.local_date(now, team)
    outgoing, incoming = who_on(ledger, week), who_on(ledger, week + business.WEEK)
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    open_now, open_before = len(open_tickets), open_at(tickets, now - business.WEEK)
    row = lambda t, **kw: _ticket_row(t, team, now, **kw)  # noqa: E731
    by_owner: dict[str, list[dict]] = {}
    for t in open_tickets:
        if t.owner:
            clock = max(x for x in (t.last_team_update_at, t.owner_changed_at, t.opened_at) if x)
            idle = business.business_days_between(business.local_date(_dt(clock), team), today, team)
            by_owner.setdefault(_name(team, t.owner), []).append(
                row(t, idle_days=idle, stale=t.status == "open" and idle >= team.policy.stale_after_days))
    warnings = []
    for t in open_tickets:
        notes = flags(t)
        away = _away(team, t.owner, today) if t.owner else None
        if away:
            notes.append(f"owner away until {away.isoformat()}")
        if notes:
            warnings.append(row(t, flags=notes))
    eight_weeks = now - timedelta(weeks=WEEKS_SHOWN)
    recent = [t for t in tickets if t.opened_at and _dt(t.opened_at) >= eight_weeks]
    weekly = weekly_counts(tickets, team, now)
    last, previous = weekly[-1], weekly[-2]
    data = {
        "week": week.isoformat(),
        "this_week": _name(team, outgoing.email) if outgoing else "UNASSIGNED",
        "next_week": _name(team, incoming.email) if incoming else "UNASSIGNED",
        "open_now": open_now, "open_delta": signed(open_now - open_before),
        "unassigned": [row(t, reason=r) for t in open_tickets if (r := waiting_for_triage(t, team))],
        "opened": [row(t) for t in tickets if opened_between(t, start, until)],
        "closed": [row(t) for t in tickets if closed_between(t, start, until) and t.status in DONE_STATUSES],
        "by_owner": dict(sorted(by_owner.items())),
        "past_deadline": [row(t) for t in open_tickets if t.next_action_deadline and _dt(t.next_action_deadline) <= now],
        "over_30_days": [row(t) for t in open_tickets if t.opened_at and now - _dt(t.opened_at) > timedelta(days=30)],
        "waiting_on_users": [row(t, waiting_days=business.business_days_between(
            business.local_date(_dt(t.status_since), team), today, team) if t.status_since else 0)
            for t in open_tickets if t.status == "waiting-on-user"],
        "warnings": warnings,
        "weekly": weekly,
        "week_over_week": {"new": (last["new"], previous["new"]), "closed": (last["closed"], previous["closed"]),
                           "open": (last["open"], previous["open"])},
        "median_hours_to_assignment": _median_hours([(t.opened_at, t.first_assigned_at) for t in recent]),
        "median_hours_to_first_response": _median_hours([(t.opened_at, t.first_team_update_at) for t in recent]),
        "rotation": _next_weeks(ledger, team, week + business.WEEK, 4),
        "meetings": _meetings(team, week + business.WEEK),
    }
    to = (incoming.email,) if incoming else team_addresses(team)
    cc = tuple(a for a in team_addresses(team) if a not in to)
    return Due(kind="handoff", period=f"week-{week.isoformat()}", to=to, cc=cc,
               duty=outgoing.email if outgoing else None, data=data)


def _name(team: Team, email: str | None) -> str:
    m = team.member(email)
    return m.name if m else (email or "UNASSIGNED")


def _next_weeks(ledger, team: Team, first, n: int) -> list[dict]:
    out = []
    for i in range(n):
        week = first + timedelta(weeks=i)
        a = who_on(ledger, week)
        end = week + timedelta(days=6)
        out.append({"week": week.isoformat(), "name": _name(team, a.email) if a else "UNASSIGNED",
                    "away": [f"{_name(team, o.member)} {o.start.isoformat()}..{o.end.isoformat()}"
                             for o in team.outages if o.start <= end and o.end >= week],
                    "holidays": [f"{d.isoformat()} {name}" for d, name in business.holidays_in(week, end, team)]})
    return out


def _meetings(team: Team, week) -> list[dict]:
    out = []
    for m in team.meetings:
        day = week + timedelta(days=(DAYS.index(m.day) - DAYS.index(team.duty_start)) % 7)
        out.append({"date": day.isoformat(), "day": business.DAY_NAMES[day.weekday()],
                    "time": m.time.strftime("%H:%M"), "name": m.name})
    return sorted(out, key=lambda x: (x["date"], x["time"]))
