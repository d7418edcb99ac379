"""`STATE_DIR/holidays.json`: a cache of the public holiday years, kept between processes."""
from __future__ import annotations

import os
from pathlib import Path

import orjson

from maildaemon.atomic import read_bytes, write_atomic


class HolidayFile:
    """`STATE_DIR/holidays.json`: the public holiday years the holidays package computed, kept for
    the next process (see workdays.CalendarCache). Tied to the installed package (its path and
    mtime): an upgrade computes anew. Best effort: a file that cannot be read or written is no
    cache at all, never an error."""

    NAME = "holidays.json"

    def __init__(self, state_dir: Path, writable: bool = True):
        self.path = Path(state_dir) / self.NAME
        self._data: dict | None = None
        self.writable = writable        # False until the state folder has passed its safety check
        self._unsaved = False

    def _package(self) -> list:
        import importlib.util
        try:
            origin = importlib.util.find_spec("holidays").origin
            return [origin, os.stat(origin).st_mtime_ns]
        except (AttributeError, ImportError, OSError, TypeError):
            return []

    def _load(self) -> dict:
        if self._data is None:
            data = {}
            try:
                data = orjson.loads(read_bytes(self.path, follow_dir=True, limit=4 << 20))
            except (OSError, ValueError):
                pass
            package = self._package()
            if not isinstance(data, dict) or data.get("package") != package or not isinstance(data.get("years"), dict):
                data = {"package": package, "years": {}}
            self._data = data
        return self._data

    def get(self, code: str, year: int) -> dict[int, str] | None:
        days = self._load()["years"].get(f"{code}:{year}")
        if not isinstance(days, list):
            return None
        try:
            return {int(o): str(n) for o, n in days}
        except (TypeError, ValueError):
            return None

    def known(self, code: str) -> bool:
        """True if the installed holidays package built a calendar for `code` (so it supports it)."""
        prefix = f"{code}:"
        return any(k.startswith(prefix) for k in self._load()["years"])

    def put(self, code: str, year: int, days: dict[int, str]) -> None:
        data = self._load()
        data["years"][f"{code}:{year}"] = sorted([o, n] for o, n in days.items())
        self._unsaved = True
        self._save()

    def allow_writes(self) -> None:
        """The state folder passed its safety check: write what was computed before it, and from now on."""
        self.writable = True
        self._save()

    def _save(self) -> None:
        if not (self.writable and self._unsaved):
            return                      # nothing new, or kept in memory until the folder is checked
        self._unsaved = False
        data = self._load()
        try:
            if os.path.isdir(self.path.parent):
                write_atomic(self.path, orjson.dumps(data), follow_dir=True)
        except OSError:
            pass
