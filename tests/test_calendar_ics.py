"""The .ics export, parsed back with icalendar: all-day weeks, stable UIDs, outages, DST-proof."""
from datetime import date, datetime, timedelta, timezone

from icalendar import Calendar

from maildaemon import calendar_ics
from maildaemon.config import team_from_dict
from maildaemon.rotation import Assignment
from maildaemon.store.records import rotation_after

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def team(**extra):
    return team_from_dict({
        "team": {"name": "Software Team", "timezone": "America/Chicago", "list_address": "list@example.org",
                 "from_address": "duty@example.org", **extra},
        "members": [{"name": "Ada Lovelace", "email": "ada@example.org"},
                    {"name": "Grace Hopper", "email": "grace@example.org"}],
        "outages": [{"member": "grace@example.org", "start": date(2026, 11, 30), "end": date(2026, 12, 4),
                     "reason": "conference"}]})


def docs(*weeks, at=NOW):
    changes = [Assignment(w, f"{who}@example.org", {"ada": "Ada Lovelace", "grace": "Grace Hopper"}[who])
               for w, who in weeks]
    return rotation_after([], changes, "load", at)[0]


def events(data: bytes):
    cal = Calendar.from_ical(data)
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_one_all_day_event_per_week_over_its_duty_days():
    t = team()
    cal, evs = events(calendar_ics.calendar(t, docs((date(2026, 11, 23), "ada"), (date(2026, 11, 30), "ada")), NOW))
    assert str(cal["VERSION"]) == "2.0" and "maildaemon" in str(cal["PRODID"])
    week = evs[calendar_ics.week_uid(date(2026, 11, 23), t)]
    assert str(week["SUMMARY"]) == "Software Team duty: Ada Lovelace"
    assert week.decoded("DTSTART") == date(2026, 11, 23)
    assert week.decoded("DTEND") == date(2026, 11, 28)                     # Mon..Fri, end exclusive
    assert type(week.decoded("DTSTART")) is date                             # DATE, not DATE-TIME
    assert str(week["TRANSP"]) == "TRANSPARENT"
    assert "Duty days: Mon 2026-11-23" in str(week["DESCRIPTION"])
    assert len([u for u in evs if u.startswith("duty-")]) == 2


def test_outages_are_separate_events():
    t = team()
    _, evs = events(calendar_ics.calendar(t, docs((date(2026, 11, 23), "ada")), NOW))
    away = evs[calendar_ics.outage_uid("grace@example.org", date(2026, 11, 30), t)]
    assert str(away["SUMMARY"]) == "Away: Grace Hopper"
    assert away.decoded("DTSTART") == date(2026, 11, 30) and away.decoded("DTEND") == date(2026, 12, 5)
    assert str(away["DESCRIPTION"]) == "conference"


def test_uids_are_stable_across_runs_and_changes_so_reimports_update():
    t = team()
    first = docs((date(2026, 11, 23), "ada"), (date(2026, 11, 30), "grace"))
    _, a = events(calendar_ics.calendar(t, first, NOW))
    _, b = events(calendar_ics.calendar(t, first, NOW + timedelta(days=3)))
    assert set(a) == set(b)
    swapped, _ = rotation_after(first, [Assignment(date(2026, 11, 23), "grace@example.org", "Grace Hopper"),
                                        Assignment(date(2026, 11, 30), "ada@example.org", "Ada Lovelace")],
                                "swap", NOW + timedelta(days=1))
    _, c = events(calendar_ics.calendar(t, swapped, NOW + timedelta(days=1)))
    assert set(c) == set(a)                                                  # same events, updated
    uid = calendar_ics.week_uid(date(2026, 11, 23), t)
    assert str(c[uid]["SUMMARY"]) == "Software Team duty: Grace Hopper"
    assert int(c[uid]["SEQUENCE"]) == int(a[uid]["SEQUENCE"]) + 1
    assert c[uid].decoded("DTSTAMP") > a[uid].decoded("DTSTAMP")
    other = team_from_dict({"team": {"name": "Other", "timezone": "UTC", "list_address": "other@example.org",
                                     "from_address": "d@example.org"}})
    assert calendar_ics.week_uid(date(2026, 11, 23), other) != uid           # teams never collide


def test_weeks_across_dst_changes_are_dates_that_never_shift():
    t = team()
    weeks = [date(2026, 10, 19) + timedelta(weeks=i) for i in range(23)]     # 2026-11-01 and 2027-03-14
    data = calendar_ics.calendar(t, docs(*[(w, "ada") for w in weeks]), NOW)
    assert b"TZID" not in data and b"VTIMEZONE" not in data
    _, evs = events(data)
    for w in weeks:
        ev = evs[calendar_ics.week_uid(w, t)]
        assert ev.decoded("DTSTART") == w and ev.decoded("DTEND") == w + timedelta(days=5)
        assert f";VALUE=DATE:{w:%Y%m%d}" in ev.to_ical().decode()
    for line in data.decode().splitlines():
        if line.startswith(("DTSTART", "DTEND")):
            assert "VALUE=DATE:" in line and "T" not in line.split(":", 1)[1]


def test_holidays_shorten_the_event_and_a_week_of_holidays_says_so():
    ca = team(holidays="US-CA")
    _, evs = events(calendar_ics.calendar(ca, docs((date(2026, 11, 23), "ada")), NOW))
    ev = evs[calendar_ics.week_uid(date(2026, 11, 23), ca)]
    assert (ev.decoded("DTSTART"), ev.decoded("DTEND")) == (date(2026, 11, 23), date(2026, 11, 26))  # Mon..Wed
    assert "Holiday: Thu 2026-11-26 Thanksgiving Day" in str(ev["DESCRIPTION"])
    cn = team(holidays="CN", duty_start="thu", timezone="Asia/Shanghai")
    _, evs = events(calendar_ics.calendar(cn, docs((date(2026, 10, 1), "ada")), NOW))
    ev = evs[calendar_ics.week_uid(date(2026, 10, 1), cn)]
    assert str(ev["SUMMARY"]) == "Software Team duty: Ada Lovelace (no duty days: holidays)"
    assert (ev.decoded("DTSTART"), ev.decoded("DTEND")) == (date(2026, 10, 1), date(2026, 10, 8))


def test_an_empty_rotation_is_a_valid_calendar_with_the_outages():
    cal, evs = events(calendar_ics.calendar(team(), [], NOW))
    assert list(evs) == [calendar_ics.outage_uid("grace@example.org", date(2026, 11, 30), team())]
    assert str(cal["X-WR-CALNAME"]) == "Software Team duty"
