"""The team's calendar: duty weeks, duty days, business days and public holidays.

Pure: no clock, no I/O; every date or instant is passed in. Everything here is computed on the
team's *local calendar dates* (through `zoneinfo`), never by adding 24 or 168 hours to an instant,
so a daylight-saving change can never move a week boundary or make a day disappear: a week is
seven calendar dates from `team.duty_start`, and an instant belongs to the date its wall clock
shows in the team's zone.

Rules (SPEC 5 and 8): a duty week starts on `team.duty_start` (mon by default; some teams tue) and
runs until the next week's first day. A *business day* is a weekday (Mon-Fri) that is not a public
holiday of `team.holidays` (e.g. "US", or "US-CA" with a subdivision). The *duty days* of a week
are its business days. The reminders reuse these, so they take dates and a Team, nothing else.
"""
from __future__ import annotations

import bisect
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo


from maildaemon.errors import ConfigError
from maildaemon.model import DAYS, Team

WEEK = timedelta(days=7)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone(team: Team) -> ZoneInfo:
    return ZoneInfo(team.timezone)


def local_date(when: date | datetime, team: Team) -> date:
    """The team's calendar date of an instant (aware datetime), or the date itself.

    A naive datetime is read as the team's wall clock, like `--now` without an offset.
    """
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            when = when.astimezone(zone(team))
        return when.date()
    return when


def first_weekday(team: Team) -> int:
    """The weekday (Monday 0) a duty week starts on: `team.duty_start`."""
    return DAYS.index(team.duty_start)


def week_start(when: date | datetime, team: Team) -> date:
    """The first day of the duty week that contains `when` (a date, or an instant in any zone)."""
    d = local_date(when, team)
    return d - timedelta(days=(d.weekday() - first_weekday(team)) % 7)


def week_day(week: date, day_name: str, team: Team) -> date:
    """The date of the day named `day_name` ("mon".."sun") in the duty week that starts on `week`."""
    return week + timedelta(days=(DAYS.index(day_name) - first_weekday(team)) % 7)


def week_moment(week: date, setting: tuple[str, time], team: Team) -> datetime:
    """The instant of a weekly setting such as `policy.announce_time` ("fri", 15:00) in the duty
    week that starts on `week`, team time."""
    day_name, at = setting
    return datetime.combine(week_day(week, day_name, team), at, tzinfo=zone(team))


def is_week_start(d: date, team: Team) -> bool:
    return d.weekday() == first_weekday(team)


def first_week_start_on_or_after(d: date, team: Team) -> date:
    """The first week start not before `d`: where a plan may begin without overlapping `d`'s past."""
    start = week_start(d, team)
    return start if start == d else start + WEEK


def week_days(start: date) -> tuple[date, ...]:
    """The seven calendar dates of the week that starts on `start`."""
    return tuple(start + timedelta(days=i) for i in range(7))


def duty_days(start: date, team: Team) -> tuple[date, ...]:
    """The business days among the seven from `start`: the days someone is actually on duty.

    Empty when every weekday of the week is a public holiday; the week still has an owner (who
    takes what arrives), but nothing is due on it.
    """
    return tuple(d for d in week_days(start) if is_business_day(d, team))


def weekdays(start: date) -> tuple[date, ...]:
    """The Monday-to-Friday dates of the week: its duty days were there no holidays."""
    return tuple(d for d in week_days(start) if d.weekday() < 5)


def is_business_day(d: date, team: Team) -> bool:
    return d.weekday() < 5 and not (team.holidays and d.toordinal() in _weekday_holidays(team.holidays, d.year)[1])


def holiday_name(d: date, team: Team) -> str | None:
    """The public holiday's name on `d` for the team's country, or None (also with no country)."""
    return _year(team.holidays, d.year).get(d.toordinal()) if team.holidays else None


def holidays_in(start: date, end: date, team: Team) -> list[tuple[date, str]]:
    """Public holidays on weekdays from `start` to `end` inclusive (weekend holidays cost nothing)."""
    if not team.holidays or end < start:
        return []
    out = []
    for year in range(start.year, end.year + 1):
        for ordinal in _weekday_holidays(team.holidays, year)[0]:
            d = date.fromordinal(ordinal)
            if start <= d <= end:
                out.append((d, holiday_name(d, team)))
    return out


def business_days_between(start: date, end: date, team: Team) -> int:
    """Business days in (start, end]: how many business days have passed from `start` to `end`.

    Closed form: weekdays by arithmetic on ordinals, minus the weekday holidays in the range
    (a bisect in a per-year sorted list). The day-by-day walk it replaces did 2.4 million steps
    and 3.8 million holiday look-ups for one `remind` at 50,000 messages (issue 14's profile)."""
    if end <= start:
        return 0
    return _weekdays_upto(end.toordinal()) - _weekdays_upto(start.toordinal()) - \
        _holidays_between(start.toordinal(), end.toordinal(), team)


def add_business_days(start: date, n: int, team: Team) -> date:
    """The n-th business day after `start` (n >= 0; n == 0 is `start` itself)."""
    d = start
    while n > 0:
        if n > 10:                     # jump whole weeks, then correct for holidays in the jump
            jump = start_jump = d + timedelta(days=7 * ((n - 5) // 5))
            n -= business_days_between(d, start_jump, team)
            d = jump
            continue
        d += timedelta(days=1)
        n -= is_business_day(d, team)
    return d


def _weekdays_upto(ordinal: int) -> int:
    """Mon-Fri days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _holidays_between(lo: int, hi: int, team: Team) -> int:
    """Weekday holidays with ordinal in (lo, hi]."""
    if not team.holidays:
        return 0
    n = 0
    for year in range(date.fromordinal(lo).year, date.fromordinal(hi).year + 1):
        days = _weekday_holidays(team.holidays, year)[0]
        n += bisect.bisect_right(days, hi) - bisect.bisect_right(days, lo)
    return n


def workday(team: Team) -> timedelta:
    """The length of one business day: `team.work_hours` (8 hours for "09:00-17:00")."""
    return _workday(team.work_hours)


@lru_cache(maxsize=16)
def _workday(work_hours: tuple[time, time]) -> timedelta:
    return datetime.combine(date.min, work_hours[1]) - datetime.combine(date.min, work_hours[0])


def business_time(start: datetime, end: datetime, team: Team) -> timedelta:
    """Elapsed business time between two instants: `team.work_hours` of business days, local time.

    Closed form: the partial first and last days, plus one `workday` for each business day
    strictly between them (`business_days_between`), never a walk over the days. Exact (a
    timedelta, not float hours), so a threshold is crossed at the very moment it is reached.
    """
    if end <= start:
        return timedelta(0)
    first, last = local_date(start, team), local_date(end, team)
    if first == last:
        return _part(first, start, end, team)
    between = business_days_between(first, last - timedelta(days=1), team)
    return _part(first, start, end, team) + between * workday(team) + _part(last, start, end, team)


def _part(day: date, start: datetime, end: datetime, team: Team) -> timedelta:
    """The business time of [start, end) that falls on `day`'s working hours."""
    window = _work_window(day, team.timezone, team.work_hours, team.holidays)
    if window is None:
        return timedelta(0)
    return max(timedelta(0), min(end, window[1]) - max(start, window[0]))


@lru_cache(maxsize=8192)
def _work_window(day: date, timezone_name: str, work_hours: tuple[time, time],
                 holidays: str | None) -> tuple[datetime, datetime] | None:
    """A day's working hours as two instants (None on a weekend or a holiday): the handoff's
    medians ask for the same few hundred days thousands of times."""
    if day.weekday() >= 5 or (holidays and day.toordinal() in _weekday_holidays(holidays, day.year)[1]):
        return None
    tz = ZoneInfo(timezone_name)
    return (datetime.combine(day, work_hours[0], tzinfo=tz).astimezone(timezone.utc),
            datetime.combine(day, work_hours[1], tzinfo=tz).astimezone(timezone.utc))


def business_days_elapsed(start: datetime, end: datetime, team: Team) -> int:
    """Whole business days elapsed from `start` to `end` (SPEC 9, "Counting, exactly"): a ticket
    last updated Monday 13:30 is 0 business days idle on Tuesday 09:30 (2.5 business hours) and
    1 from Tuesday 13:30 (8 business hours with work_hours 09:00-17:00)."""
    return business_time(start, end, team) // workday(team)


def start_of_day(d: date, team: Team) -> datetime:
    """Local midnight of `d` as an aware instant. In the few zones whose DST change happens at
    midnight, zoneinfo resolves the missing hour with the offset before the change (fold=0)."""
    return datetime.combine(d, time(0), tzinfo=zone(team))


def duty_period(start: date, team: Team) -> tuple[datetime, datetime]:
    """The instants a week's owner is on duty: local midnight of its first day to local midnight
    of the next week's first day. 167 or 169 hours across a DST change, never a shifted week."""
    return start_of_day(start, team), start_of_day(start + WEEK, team)


def check_holidays(team: Team) -> None:
    """Raise ConfigError now if `team.holidays` names a country the holidays package lacks."""
    if team.holidays:
        _year(team.holidays, 2026)


class CalendarCache:
    """Where computed holiday years are kept between processes (the shell gives one: a file in
    the state folder). The holidays package imports all of its 500 country modules to build one
    calendar: 0.12 s of every command that counts business days (issue 14)."""

    def get(self, code: str, year: int) -> dict[int, str] | None:
        return None

    def put(self, code: str, year: int, days: dict[int, str]) -> None:
        pass


_CACHE: CalendarCache = CalendarCache()


def use_calendar_cache(cache: CalendarCache) -> None:
    """Install the shell's cache (years already computed in this process stay as they are)."""
    global _CACHE
    _CACHE = cache


@lru_cache(maxsize=256)
def _year(code: str, year: int) -> dict[int, str]:
    """ordinal -> name of one year's public holidays of `code` (a country, or country-subdivision)."""
    found = _CACHE.get(code, year)
    if found is not None:
        return found
    import holidays as holidays_lib
    country, _, subdiv = code.strip().upper().partition("-")
    try:
        calendar = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError as e:
        raise ConfigError("team.holidays", f"{code!r} is not supported by the holidays package ({e})",
                          'use a supported ISO 3166 code such as "US", "US-CA" or "DE", or leave it out') from None
    days = {d.toordinal(): str(name) for d, name in calendar.items() if d.year == year}
    _CACHE.put(code, year, days)
    return days


@lru_cache(maxsize=256)
def _weekday_holidays(code: str, year: int) -> tuple[tuple[int, ...], frozenset[int]]:
    """The ordinals of a year's holidays that fall on weekdays: sorted, and as a set."""
    days = sorted(o for o in _year(code, year) if date.fromordinal(o).weekday() < 5)
    return tuple(days), frozenset(days)
