"""The small readers every part of the configuration uses: one value in, the value or a ConfigError.

Each names the setting it read (`team.work_hours`, `MAILDAEMON_POLL_SECONDS`), so the error line
points at the key to fix; `Problems` collects them so that `check` can list them all in one run.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

from maildaemon.errors import ConfigError
from maildaemon.model import DAYS


class Problems(list):
    """Every problem found in the configuration, in order: validation goes on after one, so `check`
    can name them all in one run."""

    def run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as e:
            self.append(e)
            return None


def whole_number(value: str | None, setting: str, low: int, high: int | None = None) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ConfigError(setting, f"{value!r} is not a whole number", "set a number") from None
    if n < low or (high is not None and n > high):
        raise ConfigError(setting, f"{n} is out of range", f"use a number from {low}" + (f" to {high}" if high else " up"))
    return n


def table(data: dict, key: str, required: bool = False) -> dict:
    v = data.get(key)
    if v is None:
        if required:
            raise ConfigError(key, "section missing", f"add a [{key}] section (see README)")
        return {}
    if not isinstance(v, dict):
        raise ConfigError(key, "must be a table", f"write [{key}]")
    return v


def array(data: dict, key: str) -> list:
    v = data.get(key, [])
    if not isinstance(v, list):
        raise ConfigError(key, "must be an array of tables", f"write [[{key}]] entries")
    return v


def string(t: dict, setting: str, required: bool = False) -> str | None:
    """The stripped string at the last part of `setting` in `t`; None (or `missing`) when blank."""
    v = t.get(setting.rsplit(".", 1)[-1])
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise ConfigError(setting, "missing", f"set {setting.rsplit('.', 1)[-1]} in the team file")
        return None
    if not isinstance(v, str):
        raise ConfigError(setting, f"{v!r} is not a string", "quote the value")
    return v.strip()


def address(t: dict, setting: str, required: bool = False) -> str | None:
    v = string(t, setting, required)
    if v is not None and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", v):
        raise ConfigError(setting, f"{v!r} is not an email address", "write a plain address like name@example.org")
    return v.lower() if v else v


def sender_pattern_ok(s: str) -> bool:
    """An exact address or `*@domain`, as trusted_senders holds them."""
    return bool(re.fullmatch(r"(\*|[^@\s*]+)@[^@\s*]+", s.strip()))


def weekday(v, setting: str) -> str:
    s = str(v or "").strip().lower()[:3]
    if s not in DAYS:
        raise ConfigError(setting, f"{v!r} is not a weekday", "use mon, tue, wed, thu, fri, sat or sun")
    return s


def clock(v, setting: str) -> time:
    """A `HH:MM` time of day."""
    if isinstance(v, time):
        return v
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(v))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(setting, f"{v!r} is not a HH:MM time", 'write e.g. "09:30"')
    return time(int(m.group(1)), int(m.group(2)))


def day_time(v, setting: str) -> tuple[str, time]:
    parts = str(v).split()
    if len(parts) != 2:
        raise ConfigError(setting, f"{v!r} is not 'day HH:MM'", 'write e.g. "fri 15:00"')
    return weekday(parts[0], setting), clock(parts[1], setting)


def hours(v) -> tuple[time, time]:
    parts = str(v).split("-")
    if len(parts) != 2:
        raise ConfigError("team.work_hours", f"{v!r} is not 'HH:MM-HH:MM'", 'write e.g. "09:00-17:00"')
    a, b = clock(parts[0], "team.work_hours"), clock(parts[1], "team.work_hours")
    if b <= a:
        raise ConfigError("team.work_hours", f"{v!r} ends before it starts", 'write e.g. "09:00-17:00"')
    return a, b


def calendar_date(v, setting: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise ConfigError(setting, f"{v!r} is not a date", "write YYYY-MM-DD") from None
