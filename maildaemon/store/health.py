"""What `status` shows of the state folder's health, kept where neither a full disk nor a quiet
stream can hide it.

- `health.json`: when the state cannot be written (disk full), the error is kept in this small file
  of fixed size, written ahead of time, so it can still be overwritten in place when nothing new
  can be allocated (`record_error`, `last_error`).
- `last-sync`: a pass over the stream that found nothing new records its success in this tiny
  file, not in the state (a poll with nothing new rewrites nothing: issue 14).
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from maildaemon.atomic import read_bytes, write_atomic
from maildaemon.model import Health, Problem, iso, parse_iso
from maildaemon.store.storage import CLOEXEC

HEALTH_NAME = "health.json"
SYNC_NAME = "last-sync"
HEALTH_SIZE = 4096          # health.json is always this long (padded), so it can be rewritten in place


class HealthFiles:
    """`STATE_DIR/health.json` and `STATE_DIR/last-sync` (a mixin of the Store: `self.dir`)."""

    dir: Path

    @property
    def health_path(self) -> Path:
        return self.dir / HEALTH_NAME

    def prepare_health(self) -> None:
        """Room to record an error when the disk is full (`ensure` calls it)."""
        if not os.path.lexists(self.health_path):
            try:
                write_atomic(self.health_path, health_bytes(None), follow_dir=True)
            except OSError:
                pass

    # --- the last sync, kept apart so a pass with nothing new rewrites nothing ---------------

    def record_sync(self, stamp: str) -> None:
        """A pass that found nothing new succeeded at `stamp`: a tiny file, not the state."""
        write_atomic(self.dir / SYNC_NAME, stamp.encode("ascii"), follow_dir=True)
        self.clear_error()

    def with_files(self, stored: Health) -> Health:
        """`stored` (what the state file says) with what the files add: the newer of the two last
        syncs, and the newer of the two last errors unless a success came after it."""
        kept = None
        try:
            kept = read_bytes(self.dir / SYNC_NAME, follow_dir=True, limit=64).decode("ascii").strip() or None
        except (OSError, UnicodeDecodeError):
            pass
        times = [t for t in (stored.last_sync, kept) if when(t) is not None]
        last_sync = max(times, key=when) if times else None
        return replace(stored, last_sync=last_sync,
                       last_error=self._last_error(stored.last_error, (last_sync, stored.last_import)))

    # --- the last error, kept where a full disk cannot hide it ---------------------------

    def record_error(self, message: str, now: datetime) -> None:
        """Best effort: keep `message` as the last error `status` shows, even when the state file
        cannot be written (disk full). Never raises."""
        payload = health_bytes({"at": iso(now), "message": str(message)[:HEALTH_SIZE // 2]})
        try:
            write_atomic(self.health_path, payload, follow_dir=True)
            return
        except OSError:
            pass
        try:                          # no room for a new file: overwrite the one made in advance
            fd = os.open(self.health_path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size >= len(payload):
                os.pwrite(fd, payload.ljust(st.st_size), 0)
                os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def recorded_error(self) -> Problem | None:
        """The error `record_error` kept, or None. Never raises."""
        try:
            fd = os.open(self.health_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC)
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    return None
                err = json.loads(f.read(HEALTH_SIZE * 4)).get("last_error")
        except (OSError, ValueError, AttributeError):
            return None
        if isinstance(err, dict) and isinstance(err.get("at"), str) and isinstance(err.get("message"), str):
            return Problem(err["at"], err["message"])
        return None

    def _last_error(self, stored: Problem | None, successes) -> Problem | None:
        """What `status` shows as the last error: the newer of the state's and the one
        `record_error` kept (a success clears that one: `clear_error`)."""
        recorded = self.recorded_error()
        at = when(recorded.at) if recorded else None
        if at is None:
            return stored
        for success in successes:
            done = when(success)
            if done is not None and done > at:            # a success in a later second
                return stored
        stored_at = when(stored.at) if stored is not None else None
        return stored if stored_at is not None and stored_at >= at else recorded

    def clear_error(self) -> None:
        """A pass succeeded: the error `record_error` kept is over. Writes only if there is one."""
        if self.recorded_error() is not None:
            try:
                write_atomic(self.health_path, health_bytes(None), follow_dir=True)
            except OSError:
                pass


def when(value) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def health_bytes(error: dict | None) -> bytes:
    data = json.dumps({"last_error": error}, ensure_ascii=False).encode()
    while len(data) > HEALTH_SIZE:            # a very long message (multi-byte): cut it to fit
        error = dict(error, message=error["message"][: len(error["message"]) * 3 // 4])
        data = json.dumps({"last_error": error}, ensure_ascii=False).encode()
    return data.ljust(HEALTH_SIZE)
