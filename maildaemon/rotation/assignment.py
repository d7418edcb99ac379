"""One week of the rotation, and what the team file says about it: who is free, what to warn about.

The availability rules live here because the generator, the conflict check and the warnings
shown to a human who sets a week by hand must agree on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from maildaemon import workdays
from maildaemon.model import Member, Outage, Team
from maildaemon.people import outage_on

UNASSIGNED = "UNASSIGNED"
WINDOW = timedelta(weeks=52)      # the fairness window: `generate` and `rotation show` count weeks in it
WEEK = workdays.WEEK


@dataclass(frozen=True)
class Assignment:
    """One week of the rotation. `email` None means UNASSIGNED; `note` is printed as `# note`."""
    week: date
    email: str | None
    name: str = ""
    note: str = ""

    def line(self) -> str:
        """The text format `parse` reads back: `2026-11-30  ada@example.org  Ada Lovelace`."""
        text = "  ".join(x for x in (self.week.isoformat(), self.email or UNASSIGNED, self.name) if x)
        return f"{text}  # {self.note}" if self.note else text


def blocking_days(start: date, team: Team) -> tuple[date, ...]:
    """The days an outage keeps a member off the week: its duty days, or, when every duty day is
    a holiday, its weekdays (the week still needs an owner who is around)."""
    return workdays.duty_days(start, team) or workdays.weekdays(start)


def away_in_week(email: str, week: date, team: Team) -> Outage | None:
    """The outage that keeps `email` off the week starting `week` (on a blocking day), or None."""
    return outage_on(team, email, blocking_days(week, team))


def free_members(start: date, team: Team) -> list[Member]:
    """Rotation members with no outage on any blocking day of the week, in team-file order."""
    return [m for m in team.members if m.rotation and not away_in_week(m.email, start, team)]


def holiday_note(week: date, team: Team) -> str:
    """`no duty days: 2026-12-24 Christmas Eve, ...` for a week with no business day, else ""."""
    if workdays.duty_days(week, team):
        return ""
    return "no duty days: " + ", ".join(f"{d.isoformat()} {n}" for d, n in workdays.holidays_in(
        week, week + timedelta(days=6), team))


def week_notes(a: Assignment, team: Team) -> str:
    """Why a stored week needs a look: an outage of its owner, no duty days. Empty if none."""
    notes = [holiday_note(a.week, team)]
    if a.email:
        o = away_in_week(a.email, a.week, team)
        if o:
            notes.append(f"conflict: {a.name or a.email} is away {o.start.isoformat()}..{o.end.isoformat()}")
        m = team.member(a.email)
        if m is None:
            notes.append("not in the team file")
        elif not m.rotation:
            notes.append("not on the rotation")
    return "; ".join(n for n in notes if n)


def assignment_warnings(a: Assignment, team: Team) -> list[str]:
    """What a human should know about an assignment they chose (stored anyway: their call)."""
    if not a.email:
        return []
    out = []
    m = team.member(a.email)
    if m is not None and not m.rotation:
        out.append(f"{m.name} is not on the rotation (rotation = false)")
    o = away_in_week(a.email, a.week, team)
    if o:
        out.append(f"{a.name} is away {o.start.isoformat()}..{o.end.isoformat()}, during the week of {a.week.isoformat()}")
    return out
