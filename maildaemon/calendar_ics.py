"""The rotation as an iCalendar file (RFC 5545), built with the `icalendar` package.

Pure: takes the team, the stored rotation weeks (`RotationWeek`) and `now`, returns bytes. Decisions:
- One all-day event per stored duty week, from its first duty day to its last (DTEND is the day
  after, as RFC 5545 wants for DATE values). All-day DATE values carry no time and no zone, so a
  daylight-saving change can never shift an event, whatever the reader's zone.
- Stable UIDs: a duty week's UID is made of the week's first day and the team (not the person),
  so after a swap or a re-generated week a calendar that re-imports or subscribes updates the
  event instead of adding a second one. SEQUENCE grows with each stored change of the week.
- Outages are separate events ("Away: NAME"), keyed by member and first day.
- Events are TRANSPARENT ("show as available"): duty is not a meeting.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

from icalendar import Calendar, Event

from maildaemon import workdays
from maildaemon.model import RotationWeek, Team
from maildaemon.people import member_name

PRODID = "-//maildaemon//duty rotation//EN"


def team_key(team: Team) -> str:
    """A short, stable token for the team in UIDs: two teams' calendars never collide."""
    return hashlib.sha256(team.list_address.lower().encode()).hexdigest()[:12]


def week_uid(week: date, team: Team) -> str:
    return f"duty-{week.isoformat()}-{team_key(team)}@maildaemon"


def outage_uid(email: str, start: date, team: Team) -> str:
    return f"away-{email.lower()}-{start.isoformat()}-{team_key(team)}@maildaemon"


def calendar(team: Team, weeks: Sequence[RotationWeek], now: datetime) -> bytes:
    """The stored rotation's duty weeks and the team file's outages, as an .ics file."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{team.name} duty")
    cal.add("x-wr-timezone", team.timezone)
    stamp = now.astimezone(timezone.utc)
    for w in sorted(weeks, key=lambda w: w.week):
        cal.add_component(_week_event(team, w, stamp))
    for o in sorted(team.outages, key=lambda o: (o.start, o.member)):
        ev = Event()
        ev.add("uid", outage_uid(o.member, o.start, team))
        ev.add("dtstamp", stamp)
        ev.add("summary", f"Away: {member_name(team, o.member)}")
        ev.add("dtstart", o.start)
        ev.add("dtend", o.end + timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("categories", ["Away"])
        if o.reason:
            ev.add("description", o.reason)
        cal.add_component(ev)
    return cal.to_ical()


def _week_event(team: Team, w: RotationWeek, stamp: datetime) -> Event:
    week = w.week
    end = week + timedelta(days=6)
    days = workdays.duty_days(week, team)
    span = days or workdays.weekdays(week)
    changed = datetime.fromisoformat(w.changed_at).astimezone(timezone.utc) if w.changed_at else stamp
    name = w.name or w.email
    ev = Event()
    ev.add("uid", week_uid(week, team))
    ev.add("dtstamp", changed)
    ev.add("last-modified", changed)
    ev.add("sequence", max(w.revision - 1, 0))
    ev.add("summary", f"{team.name} duty: {name}" + ("" if days else " (no duty days: holidays)"))
    ev.add("dtstart", span[0])
    ev.add("dtend", span[-1] + timedelta(days=1))
    ev.add("transp", "TRANSPARENT")
    ev.add("categories", ["Duty"])
    lines = [f"On duty: {name} <{w.email}>",
             f"Week {week.isoformat()} to {end.isoformat()} ({team.timezone}); tickets arriving until the "
             f"next week starts are theirs.",
             "Duty days: " + (", ".join(f"{workdays.DAY_NAMES[d.weekday()][:3]} {d.isoformat()}" for d in days)
                              or "none")]
    lines += [f"Holiday: {workdays.DAY_NAMES[d.weekday()][:3]} {d.isoformat()} {n}"
              for d, n in workdays.holidays_in(week, end, team)]
    ev.add("description", "\n".join(lines))
    return ev
