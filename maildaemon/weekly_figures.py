"""The figures of the past that the handoff and the brief show, rebuilt from each ticket's history.

Every applied history entry records the status it left, so "open a week ago" and the eight-week
chart need no stored snapshots and agree with `tickets` at any `now`. One comparison serves the
handoff's headline and its table (SPEC 9, "Counting, exactly"): the count at `now` against the
count at the same wall-clock moment one week earlier (`a_week_earlier`), and each week's new and
closed tickets up to that moment. Times to assignment and to first team response are medians in
business hours, per week (`weekly_medians`) and over a span (`median_hours`). Pure.
"""
from __future__ import annotations

import weakref
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import Sequence

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Team, Ticket, parse_iso
from maildaemon.policy import business_hours_between

WEEKS_SHOWN = 8
MEDIAN_WEEKS = 4            # SPEC 10: the week and the previous three


def status_at(t: Ticket, when: datetime) -> str | None:
    """The ticket's status at an instant (None: not opened yet), from its applied history (its
    status steps, parsed once per ticket: the agenda asks this of every finished ticket)."""
    line = _steps(t)
    return None if line is None or line[0] > when else _status_of(line, when)


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


# id(ticket) -> (a weak reference to it, its steps): Tickets are immutable, and an entry goes
# with its ticket (holding the ticket kept every view the daemon ever decoded alive, found in review)
_STEPS: dict[int, tuple] = {}


def _steps(t: Ticket):
    """(opened, [(at, status)] in order, [closed at], done now, last step) of a ticket, or None if
    it has no opening time: `status_at` and `closed_between` for many moments at once. Kept while
    the ticket object lives (a view keeps its own: the daemon's handoff, brief and agenda ask again)."""
    key = id(t)
    known = _STEPS.get(key)
    if known is not None and known[0]() is t:
        return known[1]
    line = _steps_of(t)
    _STEPS[key] = (weakref.ref(t, lambda _, key=key: _STEPS.pop(key, None)), line)
    return line


def _steps_of(t: Ticket):
    if not t.opened_at:
        return None
    # by time alone: steps of the same second keep the order they were applied in (a stable sort)
    steps = sorted(((parse_iso(h.at), h.status) for h in t.history if not h.late and h.status), key=itemgetter(0))
    closes = [parse_iso(h.at) for h in t.history if not h.late and "closed" in h.kinds]
    opened = parse_iso(t.opened_at)
    last = steps[-1][0] if steps else opened
    return opened, steps, closes, (steps[-1][1] if steps else "open") in DONE_STATUSES, last


def signed(n: int) -> str:
    return f"+{n}" if n >= 0 else str(n)


def weekly_counts(tickets: Sequence[Ticket], team: Team, now: datetime) -> list[dict]:
    """Open at the end, new and closed during each of the last eight duty weeks (the last: to now).
    Each ticket costs a few bisections over the week bounds, per status step, not a walk of the
    eight weeks, and a ticket finished before the first week counts in none of them (at 50,000
    messages this was 0.2 s of every handoff, then 30 ms, issue 14)."""
    this = workdays.week_start(now, team)
    weeks = []
    for i in range(WEEKS_SHOWN - 1, -1, -1):
        start_day = this - timedelta(weeks=i)
        start, end = workdays.duty_period(start_day, team)
        weeks.append((start_day, start, min(end, now + timedelta(microseconds=1))))  # this week: up to now
    starts, ends = [w[1] for w in weeks], [w[2] for w in weeks]
    n = len(weeks)
    first = starts[0]
    open_from = [0] * (n + 1)        # differences: open at the end of week w is their sum up to w
    new_n, closed_n = [0] * n, [0] * n
    for t in tickets:
        line = _steps(t)
        if line is None or (line[3] and line[4] < first):
            continue
        opened, steps, closes = line[0], line[1], line[2]
        w = _week_of(opened, starts, ends)
        if w is not None:
            new_n[w] += 1
        for w in {_week_of(c, starts, ends) for c in closes} - {None}:
            closed_n[w] += 1
        # a status counts for the weeks whose end falls from its step (inclusive) to the next one
        status, since = "open", bisect_left(ends, opened)
        for at, next_status in steps:
            until = max(since, bisect_left(ends, at))
            if status not in DONE_STATUSES:
                open_from[since] += 1
                open_from[until] -= 1
            status, since = next_status, until
        if status not in DONE_STATUSES:
            open_from[since] += 1
            open_from[n] -= 1
    opened_n = list(accumulate(open_from[:n]))
    rows = [{"week": start_day.isoformat(), "open": opened_n[w], "new": new_n[w], "closed": closed_n[w]}
            for w, (start_day, _, _) in enumerate(weeks)]
    top = max([1] + [max(r["open"], r["new"]) for r in rows])
    for r in rows:                               # bar lengths for the HTML chart, in percent
        r["open_pct"], r["new_pct"] = round(100 * r["open"] / top), round(100 * r["new"] / top)
    return rows


def _week_of(when: datetime, starts: list[datetime], ends: list[datetime]) -> int | None:
    """The week w with starts[w] <= when < ends[w], if any."""
    w = bisect_right(starts, when) - 1
    return w if w >= 0 and when < ends[w] else None


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


def median_hours(pairs: list[tuple[str | None, str | None]], team: Team, memo: dict | None = None) -> float | None:
    """The median, in business hours to a tenth, of the spans (start, end) that have both ends
    (`memo` keeps each span's hours: the weekly and the eight-week medians share their tickets)."""
    memo = {} if memo is None else memo
    values = []
    for a, b in pairs:
        if a and b and b >= a:
            if (a, b) not in memo:
                memo[a, b] = business_hours_between(parse_iso(a), parse_iso(b), team)
            values.append(memo[a, b])
    return round(_median(values), 1) if values else None


def _median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count), as statistics.median
    computes it; that module costs 5 ms of every handoff's start (fractions, decimal)."""
    s = sorted(values)
    half = len(s) // 2
    return s[half] if len(s) % 2 else (s[half - 1] + s[half]) / 2


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
                    "assignment": median_hours([(t.opened_at, t.first_assigned_at) for t in opened], team, memo),
                    "first_response": median_hours([(t.opened_at, t.first_team_update_at) for t in opened], team,
                                                    memo)})
    return out
