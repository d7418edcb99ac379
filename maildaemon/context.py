"""What a command needs, read once: its arguments, settings, team, state and `now`.

The command line (`cli.py`) builds a `Context`; commands, the rotation commands and the demo take
one. Kept apart from `cli.py` so that imports point one way: cli -> commands -> context.
`parse_now` is the one reader of `--now` / `MAILDAEMON_NOW`.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

from maildaemon.config import ConfigError, load_settings, load_team, read_environment
from maildaemon.store import Store


class UsageError(Exception):
    """A wrong command line: exit 2 with the one line."""


class Context:
    """What a command needs, read once: settings, team, state, `now`."""

    def __init__(self, args, environ: dict[str, str], stdout, stderr):
        self.args, self.stdout, self.stderr, self.environ = args, stdout, stderr, environ
        self.env = read_environment(getattr(args, "env_file", None), environ)
        self.settings = load_settings(self.env)

    @cached_property
    def team(self):
        return load_team(self.settings.team_file)

    @cached_property
    def store(self) -> Store:
        """The state folder, checked at first use: one that other users may write is refused (exit 2)."""
        store = Store.from_settings(self.settings)
        store.check()
        return store

    @cached_property
    def now(self) -> datetime:
        value = getattr(self.args, "now", None) or self.settings.now
        return parse_now(value, ZoneInfo(self.team.timezone)) if value else datetime.now(timezone.utc)

    def clock(self):
        """The clock for long-running commands: `--now` (if given) moving forward in real time."""
        start = self.now
        if not (getattr(self.args, "now", None) or self.settings.now):
            return lambda: datetime.now(timezone.utc)
        t0 = time.monotonic()
        return lambda: start + timedelta(seconds=time.monotonic() - t0)

    def out(self, text: str = "") -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")


def parse_now(value: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 date (its start, in the team's zone) or date-time (naive: the team's zone)."""
    v = value.strip()
    try:
        if len(v) == 10:
            d = date.fromisoformat(v)
            return datetime(d.year, d.month, d.day, tzinfo=tz)
        dt = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError("--now", f"{value!r} is not an ISO 8601 date or date-time",
                          "write e.g. 2026-11-24 or 2026-11-24T09:30 or 2026-11-24T09:30:00-06:00") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)
