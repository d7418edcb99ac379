"""The weekly handoff: what the outgoing person hands the incoming one. Pure: data in, data out.

Counts in the past ("open a week ago", the eight-week chart) are rebuilt from each ticket's history
(every applied entry records the status it left), so they need no stored snapshots and agree with
`tickets` at any `now`.

One comparison, used by the headline and the table (SPEC 9, "Counting, exactly"): `N (+D) open
tickets` is the count at `now` and D its change against the count at the same moment one week
earlier (the same wall-clock time in the team's zone); the week-over-week table compares this week
and the previous one each up to that moment (new, closed, open), so its open row is the headline.

Idle and waiting figures are elapsed business time (policy.idle, policy.waited), as in the
reminders. Times to assignment and to first team response are medians in business hours: for
each of the last four weeks (tickets opened that week) and over the last eight weeks together
(`median_hours_to_*`: business hours, the keys kept for the templates).
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Sequence

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Due, Snooze, Team, Ticket, parse_iso
from maildaemon.people import away_until, member_name, outages_between
from maildaemon.policy import (business_hours_between, flags, idle, key_width, snoozed, snoozed_rows, team_addresses,
                               ticket_row, waited, waiting_for_triage)
from maildaemon.rotation import UNASSIGNED, Assignment, who_on

WEEKS_SHOWN = 8
MEDIAN_WEEKS = 4            # SPEC 10: the week and the previous three


def status_at(t: Ticket, when: datetime) -> str | None:
    """The ticket's status at an instant (None: not opened yet), from its applied history."""
    if not t.opened_at or parse_iso(t.opened_at) > when:
        return None
    status = "open"
    for h in t.history:
        if not h.late and h.status and parse_iso(h.at) <= when:
            status = h.status
    return status


def open_at(tickets: Sequence[Ticket], when: datetime) -> int:
    """How many of `tickets` were open (not resolved or closed) at `when`."""
    count = 0
    for line in map(_steps, tickets):
        if line is None or line[0] > when or (line[3] and line[4] <= when):
            continue                     # not opened yet, or finished before `when` for good
        count += _status_of(line, when) not in DONE_STATUSES
    return count


def _status_of(line, when: datetime) -> str:
    """The status a ticket's steps (`_steps`) give it at `when` (opened by then)."""
    status = "open"
    for at, s in line[1]:
        if at > when:
            break
        status = s
    return status


def closed_between(t: Ticket, start: datetime, end: datetime) -> bool:
    """Closed in [start, end): half-open, so an instant on a week boundary counts in one week."""
    line = _steps(t)                       # its closing times parsed once
    return line is not None and any(start <= c < end for c in line[2])


def opened_between(t: Ticket, start: datetime, end: datetime) -> bool:
    line = _steps(t)                       # its opening time parsed once
    return line is not None and start <= line[0] < end


_STEPS: dict[int, tuple] = {}       # id(ticket) -> (ticket, its steps): Tickets are immutable


def _steps(t: Ticket):
    """(opened, [(at, status)] in order, [closed at], done now, last step) of a ticket, or None if
    it has no opening time: `status_at` and `closed_between` for many moments at once. Kept per
    ticket object (the views keep theirs: the daemon's handoff, brief and agenda ask again)."""
    known = _STEPS.get(id(t))
    if known is not None and known[0] is t:
        return known[1]
    if len(_STEPS) > 100_000:
        _STEPS.clear()
    line = _steps_of(t)
    _STEPS[id(t)] = (t, line)
    return line


def _steps_of(t: Ticket):
    if not t.opened_at:
        return None
    steps = sorted((parse_iso(h.at), h.status) for h in t.history if not h.late and h.status)
    closes = [parse_iso(h.at) for h in t.history if not h.late and "closed" in h.kinds]
    opened = parse_iso(t.opened_at)
    last = steps[-1][0] if steps else opened
    return opened, steps, closes, (steps[-1][1] if steps else "open") in DONE_STATUSES, last


def signed(n: int) -> str:
    return f"+{n}" if n >= 0 else str(n)


def weekly_counts(tickets: Sequence[Ticket], team: Team, now: datetime) -> list[dict]:
    """Open at the end, new and closed during each of the last eight duty weeks (the last: to now).
    Each ticket's status steps are walked once for all eight week ends, and a ticket finished before
    the first week counts in none of them (at 50,000 messages this was 0.2 s of every handoff)."""
    this = workdays.week_start(now, team)
    weeks = []
    for i in range(WEEKS_SHOWN - 1, -1, -1):
        start_day = this - timedelta(weeks=i)
        start, end = workdays.duty_period(start_day, team)
        weeks.append((start_day, start, min(end, now + timedelta(microseconds=1))))  # this week: up to now
    first = weeks[0][1]
    opened_n, new_n, closed_n = [0] * len(weeks), [0] * len(weeks), [0] * len(weeks)
    for t in tickets:
        line = _steps(t)
        if line is None or (line[3] and line[4] < first):
            continue
        opened, steps, closes = line[0], line[1], line[2]
        status, i = "open", 0
        for w, (_, start, end) in enumerate(weeks):
            if opened > end:
                continue
            while i < len(steps) and steps[i][0] <= end:
                status = steps[i][1]
                i += 1
            opened_n[w] += status not in DONE_STATUSES
            new_n[w] += start <= opened < end
            closed_n[w] += any(start <= c < end for c in closes)
    rows = [{"week": start_day.isoformat(), "open": opened_n[w], "new": new_n[w], "closed": closed_n[w]}
            for w, (start_day, _, _) in enumerate(weeks)]
    top = max([1] + [max(r["open"], r["new"]) for r in rows])
    for r in rows:                               # bar lengths for the HTML chart, in percent
        r["open_pct"], r["new_pct"] = round(100 * r["open"] / top), round(100 * r["new"] / top)
    return rows


def a_week_earlier(now: datetime, team: Team) -> datetime:
    """The same moment one week earlier: the same wall-clock time in the team's zone seven
    calendar days before (168 hours, or 167/169 across a daylight-saving change)."""
    tz = workdays.zone(team)
    local = now.astimezone(tz)
    return (local.replace(tzinfo=None) - workdays.WEEK).replace(tzinfo=tz)


def week_over_week(tickets: Sequence[Ticket], team: Team, now: datetime) -> dict:
    """This week and the previous one, each from its first day up to the same moment (`now`, and
    `a_week_earlier(now)`): new and closed tickets, and open tickets at that moment."""
    earlier = a_week_earlier(now, team)
    this_start, _ = workdays.duty_period(workdays.week_start(now, team), team)
    last_start, _ = workdays.duty_period(workdays.week_start(earlier, team), team)
    tick = timedelta(microseconds=1)                          # up to and with the moment itself
    open_now = sum(1 for t in tickets if t.status not in DONE_STATUSES)
    lines = [line for line in map(_steps, tickets) if line is not None and not (line[3] and line[4] < last_start)]

    def new(start, end):
        return sum(1 for line in lines if start <= line[0] < end)

    def closed(start, end):
        return sum(1 for line in lines if any(start <= c < end for c in line[2]))

    return {"new": (new(this_start, now + tick), new(last_start, earlier + tick)),
            "closed": (closed(this_start, now + tick), closed(last_start, earlier + tick)),
            "open": (open_now, open_at(tickets, earlier))}


def _median_hours(pairs: list[tuple[str | None, str | None]], team: Team, memo: dict | None = None) -> float | None:
    """The median, in business hours to a tenth, of the spans (start, end) that have both ends
    (`memo` keeps each span's hours: the weekly and the eight-week medians share their tickets)."""
    memo = {} if memo is None else memo
    values = []
    for a, b in pairs:
        if a and b and b >= a:
            if (a, b) not in memo:
                memo[a, b] = business_hours_between(parse_iso(a), parse_iso(b), team)
            values.append(memo[a, b])
    return round(statistics.median(values), 1) if values else None


def weekly_medians(tickets: Sequence[Ticket], team: Team, now: datetime, memo: dict | None = None) -> list[dict]:
    """Median business hours to assignment and to first team response of the tickets opened in
    each of the last MEDIAN_WEEKS duty weeks, newest first (the current week: up to now)."""
    this = workdays.week_start(now, team)
    first, _ = workdays.duty_period(this - timedelta(weeks=MEDIAN_WEEKS - 1), team)
    candidates = [(line[0], t) for t in tickets if (line := _steps(t)) is not None and line[0] >= first]
    out = []
    for i in range(MEDIAN_WEEKS):
        start, end = workdays.duty_period(this - timedelta(weeks=i), team)
        end = min(end, now + timedelta(microseconds=1))
        opened = [t for at, t in candidates if start <= at < end]
        out.append({"week": (this - timedelta(weeks=i)).isoformat(), "opened": len(opened),
                    "assignment": _median_hours([(t.opened_at, t.first_assigned_at) for t in opened], team, memo),
                    "first_response": _median_hours([(t.opened_at, t.first_team_update_at) for t in opened], team,
                                                    memo)})
    return out


def handoff(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team, now: datetime,
            snoozes: dict[str, Snooze] | None = None) -> Due:
    """The handoff of the duty week containing `now`, to the incoming person, Cc the team.
    `snoozes`: the snooze records by ticket key; those that hold at `now` are listed
    with their date and reason (SPEC 10)."""
    week = workdays.week_start(now, team)
    start, _ = workdays.duty_period(week, team)
    until = now + timedelta(microseconds=1)
    today = workdays.local_date(now, team)
    outgoing, incoming = who_on(ledger, week), who_on(ledger, week + workdays.WEEK)
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    compared = week_over_week(tickets, team, now)
    open_now, open_before = compared["open"]
    row = lambda t, **kw: ticket_row(t, team, now, **kw)  # noqa: E731
    by_owner: dict[str, list[dict]] = {}
    for t in open_tickets:
        if t.owner:
            figures = idle(t, now, team)
            by_owner.setdefault(name_or_unassigned(team, t.owner), []).append(
                row(t, **figures, stale=t.status == "open" and figures["idle_days"] >= team.policy.stale_after_days))
    warnings = []
    for t in open_tickets:
        notes = flags(t)
        away = away_until(team, t.owner, today) if t.owner else None
        if away:
            notes.append(f"owner away until {away.isoformat()}")
        if notes:
            warnings.append(row(t, flags=notes))
    eight_weeks = now - timedelta(weeks=WEEKS_SHOWN)
    recent = [t for t in tickets if t.opened_at and parse_iso(t.opened_at) >= eight_weeks]
    weekly = weekly_counts(tickets, team, now)
    earlier = a_week_earlier(now, team)
    spans: dict = {}                  # business hours of each (opened, assigned/answered) span, once
    data = {
        "week": week.isoformat(),
        "this_week": name_or_unassigned(team, outgoing.email if outgoing else None),
        "next_week": name_or_unassigned(team, incoming.email if incoming else None),
        "open_now": open_now, "open_delta": signed(open_now - open_before),
        "unassigned": [row(t, reason=r, suggested=[], suggested_text="")       # filled by duty.suggest_owners
                       for t in open_tickets if (r := waiting_for_triage(t, team))],
        "opened": [row(t) for t in tickets if opened_between(t, start, until)],
        "closed": [row(t) for t in tickets if closed_between(t, start, until) and t.status in DONE_STATUSES],
        "by_owner": dict(sorted(by_owner.items())),
        "past_deadline": [row(t) for t in open_tickets
                          if t.next_action_deadline and parse_iso(t.next_action_deadline) <= now],
        "over_30_days": [row(t) for t in open_tickets
                         if t.opened_at and now - parse_iso(t.opened_at) > timedelta(days=30)],
        "waiting_on_users": [row(t, **waited(t, now, team)) for t in open_tickets if t.status == "waiting-on-user"],
        "warnings": warnings,
        "snoozed": snoozed_rows(open_tickets, snoozed(tickets, snoozes, team, now), team, now),
        "weekly": weekly,
        # both columns up to the same moment of their week; "open" is the headline's N and N - D
        "week_over_week": compared,
        "compared_at": earlier.strftime("%Y-%m-%d %H:%M"),
        "compared_moment": f"{workdays.DAY_NAMES[earlier.weekday()]} {earlier:%H:%M}",
        # business hours (SPEC 10), over tickets opened in the last eight weeks
        "median_hours_to_assignment": _median_hours([(t.opened_at, t.first_assigned_at) for t in recent], team,
                                                    spans),
        "median_hours_to_first_response": _median_hours([(t.opened_at, t.first_team_update_at) for t in recent],
                                                        team, spans),
        "medians": weekly_medians(tickets, team, now, spans),
        "rotation": _next_weeks(ledger, team, week + workdays.WEEK, 4),
        "meetings": _meetings(team, week + workdays.WEEK),
    }
    listed = [r for k in ("unassigned", "opened", "closed", "past_deadline", "over_30_days", "waiting_on_users",
                          "warnings", "snoozed") for r in data[k]] + [r for rows in by_owner.values() for r in rows]
    data["key_width"] = key_width(listed)
    to = (incoming.email,) if incoming else team_addresses(team)
    cc = tuple(a for a in team_addresses(team) if a not in to)
    return Due(kind="handoff", period=f"week-{week.isoformat()}", to=to, cc=cc,
               duty=outgoing.email if outgoing else None, data=data)


def name_or_unassigned(team: Team, email: str | None) -> str:
    """A week's person as the handoff and the brief show them: the member's name, else UNASSIGNED."""
    return member_name(team, email) or UNASSIGNED


def _next_weeks(ledger, team: Team, first, n: int) -> list[dict]:
    out = []
    for i in range(n):
        week = first + timedelta(weeks=i)
        a = who_on(ledger, week)
        end = week + timedelta(days=6)
        out.append({"week": week.isoformat(), "name": name_or_unassigned(team, a.email if a else None),
                    "away": [f"{name_or_unassigned(team, o.member)} {o.start.isoformat()}..{o.end.isoformat()}"
                             for o in outages_between(team, week, end)],
                    "holidays": [f"{d.isoformat()} {name}" for d, name in workdays.holidays_in(week, end, team)]})
    return out


def _meetings(team: Team, week) -> list[dict]:
    out = []
    for m in team.meetings:
        day = workdays.week_day(week, m.day, team)
        out.append({"date": day.isoformat(), "day": workdays.DAY_NAMES[day.weekday()],
                    "time": m.time.strftime("%H:%M"), "name": m.name})
    return sorted(out, key=lambda x: (x["date"], x["time"]))
