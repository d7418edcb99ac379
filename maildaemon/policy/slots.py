"""When the policy speaks: reminder slots on business days, the weekly announcement and handoff
moments, and the `repeat_after_days` pause between two reminders of one kind.

Apart from the rules because the agenda asks the same questions to find the moments to visit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from maildaemon import workdays
from maildaemon.model import Team, parse_iso


@dataclass(frozen=True)
class Slot:
    day: date
    at: time
    first_of_day: bool

    @property
    def period(self) -> str:
        return f"{self.day.isoformat()}T{self.at:%H%M}"


def current_slot(now: datetime, team: Team) -> Slot | None:
    """The reminder time slot `now` falls in, on a business day; None before the first or off days."""
    local = now.astimezone(workdays.zone(team))
    if not workdays.is_business_day(local.date(), team):
        return None
    passed = [t for t in team.policy.reminder_times if t <= local.time().replace(tzinfo=None)]
    if not passed:
        return None
    return Slot(local.date(), passed[-1], passed[-1] == team.policy.reminder_times[0])


def slot_start(when: datetime, team: Team) -> datetime:
    """The start of the reminder slot an instant falls in (the instant itself outside any slot)."""
    slot = current_slot(when, team)
    return datetime.combine(slot.day, slot.at, tzinfo=workdays.zone(team)) if slot else when


def repeated(previous: str | None, now: datetime, team: Team) -> bool:
    """Sent less than `repeat_after_days` business days ago, counted from the reminder slot the
    previous one went out in (a daemon's tick a few seconds after 09:30 must not push the repeat
    two days later from 09:30 to 14:00)."""
    if not previous:
        return False
    return workdays.business_days_elapsed(slot_start(parse_iso(previous), team), now, team) \
        < team.policy.repeat_after_days


def announce_moment(now: datetime, team: Team) -> datetime:
    """When the duty announcement of the week containing `now` falls due (`announce_time`)."""
    return workdays.week_moment(workdays.week_start(now, team), team.policy.announce_time, team)


def handoff_due(team: Team, now: datetime) -> bool:
    """From `handoff_time` in the duty week until the week ends (a daemon that was down catches up)."""
    return now >= workdays.week_moment(workdays.week_start(now, team), team.policy.handoff_time, team)
