"""The holiday years kept in STATE_DIR/holidays.json give the same calendar as the package, and a
broken or foreign file is no cache at all, never an error."""
from datetime import date

from maildaemon import workdays
from maildaemon.store import HolidayFile


def fresh():
    workdays._year.cache_clear()
    workdays._weekday_holidays.cache_clear()


def test_a_year_computed_once_is_read_back_the_same(tmp_path):
    import holidays
    try:
        workdays.use_calendar_cache(HolidayFile(tmp_path))
        fresh()
        first = dict(workdays._year("US", 2026))
        assert (tmp_path / "holidays.json").exists()
        fresh()
        workdays.use_calendar_cache(HolidayFile(tmp_path))          # a new process: read from the file
        assert workdays._year("US", 2026) == first
        expected = {d.toordinal(): n for d, n in holidays.country_holidays("US", years=2026).items()}
        assert first == expected
        assert first[date(2026, 11, 26).toordinal()] == "Thanksgiving Day"
    finally:
        workdays.use_calendar_cache(workdays.CalendarCache())
        fresh()


def test_a_broken_or_foreign_cache_file_is_ignored(tmp_path):
    try:
        (tmp_path / "holidays.json").write_bytes(b'{"package": ["elsewhere", 1], "years": {"US:2026": [[1, "Fake"]]}}')
        workdays.use_calendar_cache(HolidayFile(tmp_path))
        fresh()
        assert 1 not in workdays._year("US", 2026)                  # another package's file: computed anew
        (tmp_path / "holidays.json").write_bytes(b"\x00not json")
        workdays.use_calendar_cache(HolidayFile(tmp_path))
        fresh()
        assert date(2026, 11, 26).toordinal() in workdays._year("US", 2026)
    finally:
        workdays.use_calendar_cache(workdays.CalendarCache())
        fresh()
