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


def test_a_code_with_cached_calendars_loads_without_the_package_and_a_new_one_is_still_checked(cli):
    """The team file's `holidays` is checked against the package at load (SPEC 3) unless this
    installation built calendars for it already; a code the file does not know is still refused."""
    import os
    import subprocess
    import sys
    cli.team_file.write_text(cli.team_file.read_text().replace("[team]\n", '[team]\nholidays = "US"\n', 1))
    (cli.root / "state").mkdir(mode=0o700)
    try:                                 # what the first command that counts business time does
        workdays.use_calendar_cache(HolidayFile(cli.root / "state"))
        fresh()
        workdays._year("US", 2026)
    finally:
        workdays.use_calendar_cache(workdays.CalendarCache())
        fresh()
    assert HolidayFile(cli.root / "state").known("US") and not HolidayFile(cli.root / "state").known("XX")
    probe = ("import sys; from maildaemon.cli import main; code = main(['tickets']); "
             "print(code, 'holidays' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ, **cli.env), capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stderr
    probe = probe.replace("main(['tickets'])", "main(['agenda', '--now', '2026-06-02T09:00'])")   # checks first
    done = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ, **cli.env), capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stderr
    cli.team_file.write_text(cli.team_file.read_text().replace('holidays = "US"', 'holidays = "XX"'))
    code, out, err = cli("tickets")
    assert code == 2 and "team.holidays: 'XX' is not supported by the holidays package" in err, err


def test_a_year_computed_before_the_state_folder_is_checked_is_written_once_it_is(cli):
    """agenda checks the team's country before it opens the state folder: that year is kept in
    memory, and written to STATE_DIR/holidays.json when the folder has passed its check."""
    cli.team_file.write_text(cli.team_file.read_text().replace("[team]\n", '[team]\nholidays = "US"\n', 1))
    (cli.root / "state").mkdir(mode=0o700)
    try:
        fresh()
        code, _, err = cli("agenda", "--now", "2026-06-02T09:00")
        assert code == 0, err
        assert HolidayFile(cli.root / "state").known("US")
        assert HolidayFile(cli.root / "state").get("US", 2026)[date(2026, 7, 3).toordinal()]   # Independence Day observed
    finally:
        workdays.use_calendar_cache(workdays.CalendarCache())
        fresh()
