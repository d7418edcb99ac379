"""The team's calendar: week starts, duty days, holidays, and daylight saving never shifting a week."""
from datetime import date, datetime, timedelta, timezone

import pytest

from maildaemon import workdays
from maildaemon.config import ConfigError, team_from_dict


def team(**extra):
    data = {"team": {"name": "T", "timezone": "America/Chicago", "list_address": "list@example.org",
                     "from_address": "duty@example.org", **extra},
            "members": [{"name": "Ada Lovelace", "email": "ada@example.org"}]}
    return team_from_dict(data)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_week_start_of_a_date_for_monday_and_tuesday_teams():
    assert workdays.week_start(date(2026, 11, 25), team()) == date(2026, 11, 23)
    assert workdays.week_start(date(2026, 11, 23), team()) == date(2026, 11, 23)
    assert workdays.week_start(date(2026, 11, 29), team()) == date(2026, 11, 23)     # Sunday: still that week
    tue = team(duty_start="tue")
    assert workdays.week_start(date(2026, 11, 23), tue) == date(2026, 11, 17)       # Monday ends a Tue week
    assert workdays.week_start(date(2026, 11, 24), tue) == date(2026, 11, 24)
    assert workdays.is_week_start(date(2026, 11, 24), tue) and not workdays.is_week_start(date(2026, 11, 23), tue)


def test_week_start_of_an_instant_is_taken_on_the_team_calendar():
    t = team()
    # 2026-11-23 03:00 UTC is still Sunday 2026-11-22 21:00 in Chicago: the previous week
    assert workdays.week_start(utc(2026, 11, 23, 3, 0), t) == date(2026, 11, 16)
    assert workdays.week_start(utc(2026, 11, 23, 6, 0), t) == date(2026, 11, 23)
    assert workdays.week_start(datetime(2026, 11, 23, 0, 30), t) == date(2026, 11, 23)   # naive: wall clock


@pytest.mark.parametrize("instant, week", [
    # November change (2026-11-01, 02:00 CDT -> 01:00 CST): Sunday night 23:30 CST is 05:30 UTC
    (utc(2026, 11, 2, 5, 30), date(2026, 10, 26)),
    (utc(2026, 11, 2, 6, 0), date(2026, 11, 2)),             # 00:00 CST Monday
    (utc(2026, 10, 26, 4, 59), date(2026, 10, 19)),          # 23:59 CDT Sunday, before the change
    (utc(2026, 10, 26, 5, 0), date(2026, 10, 26)),           # 00:00 CDT Monday
    # March change (2027-03-14, 02:00 CST -> 03:00 CDT)
    (utc(2027, 3, 15, 4, 59), date(2027, 3, 8)),             # 23:59 CDT Sunday
    (utc(2027, 3, 15, 5, 0), date(2027, 3, 15)),             # 00:00 CDT Monday
    (utc(2027, 3, 8, 5, 59), date(2027, 3, 1)),              # 23:59 CST Sunday, before the change
    (utc(2027, 3, 8, 6, 0), date(2027, 3, 8)),
])
def test_week_boundaries_follow_local_midnight_across_dst(instant, week):
    assert workdays.week_start(instant, team()) == week


def test_weeks_across_dst_are_seven_calendar_days_from_local_midnight():
    t = team()
    starts = [date(2026, 10, 19) + timedelta(weeks=i) for i in range(24)]     # through 2027-03-14
    for s in starts:
        begin, end = workdays.duty_period(s, t)
        assert begin.date() == s and (begin.hour, begin.minute) == (0, 0)
        assert end.date() == s + timedelta(days=7) and (end.hour, end.minute) == (0, 0)
        assert workdays.week_start(begin, t) == s
        assert workdays.week_start(end - timedelta(seconds=1), t) == s
        assert workdays.duty_days(s, t) == tuple(s + timedelta(days=i) for i in range(5))
    # elapsed time, in UTC: Python subtracts two datetimes of one zone by their wall clocks
    hours = {s: (e.astimezone(timezone.utc) - b.astimezone(timezone.utc)).total_seconds() / 3600
             for s in starts for b, e in [workdays.duty_period(s, t)]}
    assert hours[date(2026, 10, 26)] == 169          # the week that gains an hour
    assert hours[date(2027, 3, 8)] == 167            # the week that loses one
    assert all(h == 168 for s, h in hours.items() if s not in (date(2026, 10, 26), date(2027, 3, 8)))


def test_duty_days_are_the_business_days_of_the_seven():
    assert workdays.duty_days(date(2026, 11, 23), team()) == tuple(date(2026, 11, d) for d in (23, 24, 25, 26, 27))
    us = team(holidays="US")
    assert workdays.duty_days(date(2026, 11, 23), us) == tuple(date(2026, 11, d) for d in (23, 24, 25, 27))
    ca = team(holidays="US-CA")                      # California also keeps the day after Thanksgiving
    assert workdays.duty_days(date(2026, 11, 23), ca) == tuple(date(2026, 11, d) for d in (23, 24, 25))
    tue = team(holidays="US", duty_start="tue")      # Tue..Mon: the following Monday is a duty day
    assert workdays.duty_days(date(2026, 11, 24), tue) == (
        date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30))


def test_a_week_whose_weekdays_are_all_holidays_has_no_duty_days():
    cn = team(holidays="CN", duty_start="thu", timezone="Asia/Shanghai")   # National Day week 2026
    assert workdays.duty_days(date(2026, 10, 1), cn) == ()
    assert workdays.weekdays(date(2026, 10, 1)) == tuple(date(2026, 10, d) for d in (1, 2, 5, 6, 7))
    assert [d for d, _ in workdays.holidays_in(date(2026, 10, 1), date(2026, 10, 7), cn)] == \
        [date(2026, 10, d) for d in (1, 2, 5, 6, 7)]


def test_holiday_name_and_business_day():
    us = team(holidays="US")
    assert workdays.holiday_name(date(2026, 11, 26), us) == "Thanksgiving Day"
    assert workdays.holiday_name(date(2026, 11, 26), team()) is None            # no country: no holidays
    assert not workdays.is_business_day(date(2026, 11, 26), us)
    assert workdays.is_business_day(date(2026, 11, 26), team())
    assert not workdays.is_business_day(date(2026, 11, 28), team())            # Saturday
    assert workdays.holiday_name(date(2026, 12, 25), team(holidays="us")) == "Christmas Day"   # any case


def test_business_day_arithmetic_skips_weekends_and_holidays():
    us = team(holidays="US")
    assert workdays.business_days_between(date(2026, 11, 25), date(2026, 11, 30), us) == 2   # Fri, Mon
    assert workdays.business_days_between(date(2026, 11, 25), date(2026, 11, 30), team()) == 3
    assert workdays.add_business_days(date(2026, 11, 25), 2, us) == date(2026, 11, 30)
    assert workdays.add_business_days(date(2026, 11, 25), 0, us) == date(2026, 11, 25)


def test_an_unsupported_country_is_a_configuration_error_naming_the_setting():
    with pytest.raises(ConfigError) as e:
        workdays.check_holidays(team(holidays="XX"))
    assert e.value.setting == "team.holidays"
    with pytest.raises(ConfigError):
        workdays.holiday_name(date(2026, 1, 1), team(holidays="US-ZZ"))
    workdays.check_holidays(team())                  # no country: nothing to check


def test_first_week_start_on_or_after():
    t = team()
    assert workdays.first_week_start_on_or_after(date(2026, 11, 23), t) == date(2026, 11, 23)
    assert workdays.first_week_start_on_or_after(date(2026, 11, 24), t) == date(2026, 11, 30)


# --- closed forms agree with walking the calendar day by day --------------------------------

def _walk_days(start, end, team):
    n, d = 0, start + timedelta(days=1)
    while d <= end:
        n += workdays.is_business_day(d, team)
        d += timedelta(days=1)
    return n


def _walk_hours(start, end, team):
    tz, (a, b) = workdays.zone(team), team.work_hours
    total, day = 0.0, workdays.local_date(start, team)
    while day <= workdays.local_date(end, team):
        if workdays.is_business_day(day, team):
            lo = max(start, datetime.combine(day, a, tzinfo=tz))
            hi = min(end, datetime.combine(day, b, tzinfo=tz))
            total += max(0.0, (hi - lo).total_seconds() / 3600)
        day += timedelta(days=1)
    return total


@pytest.mark.parametrize("holidays", [None, "US", "DE"])
def test_closed_form_business_time_matches_the_calendar_walk(holidays):
    import random
    from maildaemon.policy import business_hours_between
    team = globals()["team"](**({"holidays": holidays} if holidays else {}))
    rnd = random.Random(holidays or "none")
    tz = workdays.zone(team)
    for _ in range(400):
        s = date(2025, 1, 1) + timedelta(days=rnd.randrange(900))
        e = s + timedelta(days=rnd.randrange(-5, 400))
        assert workdays.business_days_between(s, e, team) == _walk_days(s, e, team), (s, e)
        n = rnd.randrange(0, 120)
        walked = s
        for _ in range(n):
            walked += timedelta(days=1)
            while not workdays.is_business_day(walked, team):
                walked += timedelta(days=1)
        assert workdays.add_business_days(s, n, team) == walked, (s, n)
        a = datetime.combine(s, datetime.min.time(), tzinfo=tz) + timedelta(minutes=rnd.randrange(60 * 24))
        b = a + timedelta(minutes=rnd.randrange(0, 60 * 24 * 40))
        assert business_hours_between(a, b, team) == pytest.approx(_walk_hours(a, b, team)), (a, b)
