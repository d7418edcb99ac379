"""How long a ticket has waited, in elapsed business time (SPEC 9, "Counting, exactly").

One home for the figures the reminders, the handoff, the brief and `status` show, so they can
never disagree: "N business days" is N whole `work_hours` days of business time since the
moment, counted in closed form by workdays.business_time, so Monday 13:30 is 1 business day ago
from Tuesday 13:30, not before. Hours are shown to a tenth, rounded down.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from maildaemon import workdays
from maildaemon.model import Team, Ticket, parse_iso


def business_hours_between(start: datetime, end: datetime, team: Team) -> float:
    """Working hours (team.work_hours on business days, local time) between two instants, in
    closed form (workdays.business_time)."""
    return workdays.business_time(start, end, team) / timedelta(hours=1)


def business_days_since(since: str | None, now: datetime, team: Team) -> int:
    """Whole business days elapsed from a stored time to `now` (0 when unknown)."""
    return workdays.business_days_elapsed(parse_iso(since), now, team) if since else 0


def business_hours_since(since: str | None, now: datetime, team: Team) -> float:
    """Business hours elapsed from a stored time to `now`, in whole tenths (0 when unknown)."""
    return tenths(business_hours_between(parse_iso(since), now, team)) if since else 0.0


def tenths(hours: float) -> float:
    """Hours shown to a tenth, rounded down: 7 h 59 min is 7.9 business hours, never the 8 that
    would read as a whole business day not yet elapsed."""
    return math.floor(round(hours * 10, 6)) / 10


def team_clock(t: Ticket) -> str | None:
    """Since when an owned ticket has waited for its team: the latest team update, change of
    owner or opening (stored UTC ISO strings compare as times)."""
    return max((x for x in (t.last_team_update_at, t.owner_changed_at, t.opened_at) if x), default=None)


def waiting_since(t: Ticket) -> str | None:
    """Since when a ticket has waited on its user: the status change, or the user's own later
    reply (which restarts the wait even if the ticket system left the status as it was)."""
    return max((x for x in (t.status_since, t.last_user_update_at) if x), default=None) if t.status_since else None


def idle(t: Ticket, now: datetime, team: Team) -> dict:
    """`idle_days` and `idle_hours` of an owned ticket since its team clock, as the mails show them."""
    days, hours = _days_and_hours(team_clock(t), now, team)
    return {"idle_days": days, "idle_hours": hours}


def waited(t: Ticket, now: datetime, team: Team) -> dict:
    """`waiting_days` and `waiting_hours` of a ticket waiting on its user, as the mails show them."""
    days, hours = _days_and_hours(waiting_since(t), now, team)
    return {"waiting_days": days, "waiting_hours": hours}


def _days_and_hours(since: str | None, now: datetime, team: Team) -> tuple[int, float]:
    """`business_days_since` and `business_hours_since` from one business-time sum (every open
    ticket asks at every moment the agenda and the daemon decide at)."""
    if not since:
        return 0, 0.0
    elapsed = workdays.business_time(parse_iso(since), now, team)
    return elapsed // workdays.workday(team), tenths(elapsed / timedelta(hours=1))
