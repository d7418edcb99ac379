"""The ledger: the weeks as stored (the store's `RotationWeek` records), read.

Who is on duty on a day, the fairness summary `rotation show` ends with, the duty announcement's
two weeks, the changes a swap makes. Pure: the store keeps the weeks and records the changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from maildaemon import workdays
from maildaemon.model import Member, RotationWeek, Team
from maildaemon.people import member_name, outages_between
from maildaemon.rotation.assignment import UNASSIGNED, WEEK, WINDOW, Assignment


# --- who is on duty ---------------------------------------------------------------------------

def who_on(ledger: Sequence[Assignment], day: date) -> Assignment | None:
    """The stored week `day` falls in: on duty from its first day until the next week's first
    day (weekend arrivals are theirs). Looks by span, so a changed duty_start still finds it."""
    found = [a for a in ledger if a.week <= day < a.week + WEEK]
    return max(found, key=lambda a: a.week) if found else None


def on_duty(ledger: Sequence[Assignment], team: Team, day: date) -> Member | None:
    """The member on duty on `day`, or None: no week stored, or a stored email that is not a
    member of the team file (nobody whose full name could sign a mail)."""
    a = who_on(ledger, day)
    return team.member(a.email) if a and a.email else None


def nobody_on_duty(ledger: Sequence[Assignment], team: Team, day: date) -> str | None:
    """SPEC 9: while the rotation has no one for the week of `day`, no mail goes out (it would be
    signed by nobody). This says so, in the words `check`, `status` and the daemon's log use:
    `no one on duty in the week of 2026-11-23`; None when someone is on duty."""
    if on_duty(ledger, team, day) is not None:
        return None
    return f"no one on duty in the week of {workdays.week_start(day, team).isoformat()}"


# --- the fairness summary ---------------------------------------------------------------------

@dataclass(frozen=True)
class Fairness:
    """One member's line of the ledger summary `rotation show` ends with."""
    email: str
    name: str
    weeks: int                # duty weeks in the 52 weeks up to and including the current one
    last: date | None         # latest week that has started
    next: date | None         # first stored week after the current one
    on_rotation: bool

    def line(self) -> str:
        n = f"{self.weeks} week" + ("" if self.weeks == 1 else "s")
        last = self.last.isoformat() if self.last else "never"
        nxt = self.next.isoformat() if self.next else "none stored"
        off = " (not on the rotation)" if not self.on_rotation else ""
        return f"# {self.name} <{self.email}>{off}: {n}, last {last}, next {nxt}"


def fairness(team: Team, ledger: Sequence[Assignment], current: date) -> list[Fairness]:
    """Each rotation member's weeks over the last 52 (ending with `current`, a week start), plus
    anyone else who served in that window, in team-file order then by email."""
    lo = current - WINDOW
    people = [(m.email, m.name, True) for m in team.members if m.rotation]
    known = {e.lower() for e, _, _ in people}
    for a in sorted(ledger, key=lambda a: (a.email or "", a.week)):
        if a.email and a.email.lower() not in known and lo < a.week <= current:
            m = team.member(a.email)
            people.append((a.email, m.name if m else a.name, False))
            known.add(a.email.lower())
    out = []
    for email, name, rot in people:
        mine = sorted(a.week for a in ledger if a.email and a.email.lower() == email.lower())
        past = [w for w in mine if w <= current]
        out.append(Fairness(email, name, sum(1 for w in past if w > lo), past[-1] if past else None,
                            next((w for w in mine if w > current), None), rot))
    return out


# --- the duty announcement (SPEC 8) -----------------------------------------------------------

def announcement(team: Team, ledger: Sequence[Assignment], day: date) -> dict:
    """This week's and next week's person on duty at `day`, for the announcement templates
    (`this_week.name` / `next_week.name`, UNASSIGNED when no week is stored), with each week's
    dates, holidays and who is away. Plain JSON-friendly values: the outbox may keep them."""
    this = workdays.week_start(day, team)
    return {"date": day.isoformat(),
            "this_week": _week_info(team, ledger, this), "next_week": _week_info(team, ledger, this + WEEK)}


def _week_info(team: Team, ledger: Sequence[Assignment], start: date) -> dict:
    a = who_on(ledger, start)
    end = start + timedelta(days=6)
    days = workdays.duty_days(start, team)
    return {"start": start.isoformat(), "end": end.isoformat(),
            "email": a.email if a else None, "name": a.name if a else UNASSIGNED,
            "duty_days": [d.isoformat() for d in days], "no_duty_days": not days,
            "holidays": [{"date": d.isoformat(), "day": workdays.DAY_NAMES[d.weekday()], "name": n}
                         for d, n in workdays.holidays_in(start, end, team)],
            "away": [{"name": member_name(team, o.member), "start": o.start.isoformat(), "end": o.end.isoformat()}
                     for o in outages_between(team, start, end)]}


# --- the stored weeks ------------------------------------------------------------------------

def from_weeks(weeks: Iterable[RotationWeek]) -> list[Assignment]:
    """The ledger from the stored weeks (the store's records): who served, by the name they had then."""
    return sorted((Assignment(w.week, w.email, w.name) for w in weeks if w.email), key=lambda a: a.week)


def swap(ledger: Sequence[Assignment], first: date, second: date) -> list[Assignment]:
    """The two changes that exchange two stored weeks' owners. KeyError names a missing week."""
    weeks = {a.week: a for a in ledger}
    for w in (first, second):
        if w not in weeks:
            raise KeyError(w)
    a, b = weeks[first], weeks[second]
    return [Assignment(first, b.email, b.name), Assignment(second, a.email, a.name)]
