"""Snooze (SPEC 10): the person on duty silences one ticket's reminders until a date.

Pure: a snooze is a `model.Snooze` record (ticket key, until YYYY-MM-DD, reason, when set) kept in
the state; whether it holds is a function of the record, the ticket and `now`. It holds until the end
of its day in the team's time zone, or until the ticket is resolved or closed (a reopened ticket
is not silenced by an old snooze: it was closed in between, so the snooze ended).
"""
from __future__ import annotations

from datetime import date, datetime

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Snooze, Team, Ticket, parse_iso


def record(key: str, until: date, reason: str, now: datetime) -> Snooze:
    return Snooze(key, until.isoformat(), reason.strip(), now.isoformat(timespec="seconds"))


def holds(rec: Snooze | None, ticket: Ticket | None, team: Team, now: datetime) -> bool:
    """Whether `rec` silences `ticket` at `now`."""
    if not rec or ticket is None or ticket.status in DONE_STATUSES:
        return False
    try:
        until = date.fromisoformat(rec.until)
        since = parse_iso(rec.at)
    except (TypeError, ValueError):
        return False
    if workdays.local_date(now, team) > until:
        return False
    # closed and reopened after the snooze was set: the snooze ended with the closing
    return not any("closed" in h.kinds and not h.late and parse_iso(h.at) >= since for h in ticket.history)


def active(records: dict[str, Snooze], tickets: dict[str, Ticket], team: Team, now: datetime) -> dict[str, Snooze]:
    """The snoozes that hold at `now`, by ticket key."""
    return {k: r for k, r in records.items() if holds(r, tickets.get(k), team, now)}
