"""What a command needs, read once: its arguments, settings, team, state and `now`.

The entry point (`cli/__init__.py`) builds a `Context` and hands it to the module of the command
group; those modules import this one, never the entry point, so imports point one way:
entry point -> command modules -> context. `UsageError` (maildaemon/errors.py) and `parse_now`
(maildaemon/config/, the one reader of `--now` / `MAILDAEMON_NOW`) are re-exported for them, and
`number_of` checks a count given on the command line.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

from maildaemon.config import load_settings, load_team, parse_now, read_environment
from maildaemon.errors import UsageError
from maildaemon.store import HolidayFile, Store

__all__ = ["Context", "UsageError", "number_of", "parse_now"]


def number_of(unit: str, most: int):
    """An argument type: a whole number of `unit` from 1 to `most`, else the usage error says so."""
    def whole_number(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if not 1 <= n <= most:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number of {unit} from 1 to {most}")
        return n
    return whole_number


class Context:
    """What a command needs, read once: settings, team, state, `now`."""

    def __init__(self, args, environ: dict[str, str], stdout, stderr):
        self.args, self.stdout, self.stderr, self.environ = args, stdout, stderr, environ
        self.env = read_environment(getattr(args, "env_file", None), environ)
        self.settings = load_settings(self.env)
        if self._now_value:      # a malformed moment is refused at start, whatever the command
            parse_now(self._now_value[0], timezone.utc, self._now_value[1])

    @cached_property
    def holidays(self) -> HolidayFile:
        """The holiday years computed before (STATE_DIR/holidays.json): a code found there needs no
        check at load, a year found there no holidays package (0.12 s of every command saved;
        0.37 s of `agenda`, which checks the team's country before it reads the state). Installed
        as the calendar cache as soon as it is read."""
        from maildaemon import workdays
        found = HolidayFile(self.settings.state_dir, writable=False)     # read now, written once checked
        workdays.use_calendar_cache(found)
        return found

    @cached_property
    def team(self):
        return load_team(self.settings.team_file, self.holidays.known)

    @cached_property
    def store(self) -> Store:
        """The state folder, checked at first use: one that other users may write is refused (exit 2)."""
        store = Store.from_settings(self.settings)
        store.check()
        self.holidays.allow_writes()               # the folder is safe: the calendar cache may write
        return store

    @property
    def _now_value(self) -> tuple[str, str] | None:
        """The moment to act at and where it came from: `--now`, else `MAILDAEMON_NOW`, else None."""
        if getattr(self.args, "now", None):
            return self.args.now, "--now"
        if self.settings.now:
            return self.settings.now, "MAILDAEMON_NOW"
        return None

    @cached_property
    def now(self) -> datetime:
        given = self._now_value
        return parse_now(given[0], ZoneInfo(self.team.timezone), given[1]) if given else datetime.now(timezone.utc)

    def clock(self):
        """The clock for long-running commands: `--now` (if given) moving forward in real time."""
        start = self.now
        if not (getattr(self.args, "now", None) or self.settings.now):
            return lambda: datetime.now(timezone.utc)
        t0 = time.monotonic()
        return lambda: start + timedelta(seconds=time.monotonic() - t0)

    def out(self, text: str = "") -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
