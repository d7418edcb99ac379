"""The state folder: `maildaemon.json`, `lock`, `health.json`, `history/`, `quarantine/`, `outbox/`.

- TinyDB is not process-safe. Writers take an exclusive `flock` on `STATE_DIR/lock`; readers
  never lock (atomic replace gives them a consistent file) and so never block behind the daemon.
- The folder is trusted only if no one else may write it (SPEC 9, "The state folder"): `check()`
  refuses a group- or world-writable folder, or one owned by another user, with a ConfigError
  (exit 2). No symbolic link inside it is followed: the state file and the lock are opened with
  O_NOFOLLOW, `subdir()` refuses a linked `quarantine/` or `outbox/` (the state folder itself may
  be a link: systemd's DynamicUser makes /var/lib/maildaemon one). Folders are made 0700, files 0600.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from tinydb import TinyDB

from maildaemon.atomic import DIR_MODE, FILE_MODE, ensure_dir, explain, open_own
from maildaemon.errors import ConfigError, StoreError
from maildaemon.model import Health, Snapshot
from maildaemon.store.health import HealthFiles
from maildaemon.store.key import KEY_FILE, load_key
from maildaemon.store.layout import LOG_DIR, Index, identity, log_file
from maildaemon.store.storage import CLOEXEC, DB_NAME, AtomicJSONStorage, Batched
from maildaemon.store.transaction import Transaction
from maildaemon.store.view import View

log = logging.getLogger("maildaemon")


class Store(HealthFiles):
    """The state folder: `maildaemon.json`, `lock`, `health.json`, and the quarantine and outbox folders."""

    def __init__(self, state_dir: Path, quarantine_max_mb: int | None = None, quarantine_days: int | None = None):
        self.dir = Path(state_dir)
        self.path = self.dir / DB_NAME
        self.quarantine_max_mb = quarantine_max_mb
        self.quarantine_days = quarantine_days
        self._cached: tuple | None = None          # (file identity, View) of the last view()
        self._indexes: dict[str, Index] = {}
        self._key: bytes | None = None               # the key file, once read (see key())

    @classmethod
    def from_settings(cls, settings) -> "Store":
        """The store of `settings.state_dir`, with the quarantine's limits (SPEC 9, Limits)."""
        return cls(settings.state_dir, quarantine_max_mb=getattr(settings, "quarantine_max_mb", None),
                   quarantine_days=getattr(settings, "quarantine_days", None))

    def quarantine(self):
        """The quarantine of this state folder, bounded by this store's limits (pruned on `put`)."""
        from maildaemon.quarantine import DEFAULT_DAYS, DEFAULT_MAX_MB, Quarantine
        return Quarantine(self.dir, max_bytes=(self.quarantine_max_mb or DEFAULT_MAX_MB) * 1024 * 1024,
                          max_days=self.quarantine_days or DEFAULT_DAYS)

    # --- the folder ---------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the folder (0700) if missing, then `check()` it. Every writer comes through here."""
        if not os.path.isdir(self.dir):
            make_dirs(self.dir)
        self.check()
        self.prepare_health()

    def check(self) -> None:
        """Refuse a state folder other users may write (ConfigError: exit 2). A missing one is fine
        here (a reading command shows an empty state); `ensure()` creates it."""
        try:
            st = os.stat(self.dir)
        except FileNotFoundError:
            return
        except OSError as e:
            raise ConfigError("MAILDAEMON_STATE_DIR", f"cannot use {self.dir}: {e.strerror}",
                              "point it at a folder this user owns") from None
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError("MAILDAEMON_STATE_DIR", f"{self.dir} is not a folder",
                              "point it at a folder (it is created if missing)")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o022:
            who = " and ".join(w for w, bit in (("its group", 0o020), ("all users", 0o002)) if mode & bit)
            raise ConfigError("MAILDAEMON_STATE_DIR",
                              f"{self.dir} may be written by {who} (mode {mode:04o}), so anyone could plant "
                              f"files or links in it", f"run `chmod 700 {self.dir}`")
        me = os.geteuid()
        if me != 0 and st.st_uid not in (0, me):
            raise ConfigError("MAILDAEMON_STATE_DIR",
                              f"{self.dir} belongs to another user (uid {st.st_uid}), not to this one (uid {me})",
                              f"run maildaemon as that user, or `chown -R {me} {self.dir}`")

    def subdir(self, name: str) -> Path:
        """`STATE_DIR/name` as a folder, created 0700 if missing; a symbolic link or a file in its
        place is refused (`atomic.StateIOError`), never followed. For `quarantine` and `outbox`."""
        self.ensure()
        return ensure_dir(self.dir / name)

    def key(self, make: bool = True) -> bytes:
        """The installation's key for our own mail's Message-IDs (store/key.py), made on first
        use; `make=False`: b"" while there is none (a reader that must not write)."""
        if self._key is None:                  # read once: it never changes while we run
            if not make and not (self.dir / KEY_FILE).exists():
                return b""
            self._key = load_key(self.dir)
        return self._key

    # --- reading and writing ------------------------------------------------------------

    def identity(self):
        """(inode, size, mtime) of the state file, None without one: changes with every commit."""
        found = identity(self.path)
        return found if found[0] is not None else None

    def view(self) -> View:
        """A consistent read-only snapshot, without the lock.

        The last one read is kept while the state file is the same file (inode, size, mtime): the
        daemon asks for a view several times a minute and the state rarely changes, so a tick or a
        poll with nothing new parses nothing (issue 14). A view is never changed by its users."""
        self.check()
        identity = self.identity()
        if identity is not None and self._cached is not None and self._cached[0] == identity:
            return self._cached[1]
        db = TinyDB(str(self.path), storage=Batched(lambda p: AtomicJSONStorage(p, read_only=True)))
        db.storage.read()
        view = View(db, self.path, self)
        self._cached = (identity, view) if identity is not None else None
        return view

    def health(self) -> Health:
        """What `status` shows of the stream and the sender: the state's, with the health files."""
        return self.with_files(self.view().health())

    def snapshot(self) -> Snapshot:
        """One read of the state: the tickets that are open or recent, the rotation, the outbox,
        the snoozes and the health; what `dispatch.plan` and the agenda decide from."""
        snap = self.view().snapshot()
        return replace(snap, health=self.with_files(snap.health))

    @contextmanager
    def transaction(self, wait: float = 30.0) -> Iterator[Transaction]:
        """Lock, read fresh, yield; `commit()` inside as often as needed (each one atomic)."""
        with self.lock(wait):
            db = TinyDB(str(self.path), storage=Batched(AtomicJSONStorage))
            db.storage.read()
            txn = Transaction(db, self.path, self)
            if txn.needs_upgrade():
                tickets, messages = txn.upgrade()
                log.info("state upgraded in place: %d tickets' history and %d Message-IDs moved to %s/",
                         tickets, messages, self.dir / LOG_DIR)
            yield txn

    def index(self, name: str, length: int) -> dict:
        """The committed part of a log as a dict, kept between calls and read on only by its new
        tail: "messages" maps Message-ID to outcome, "tickets" maps key to the offset of its line."""
        if name not in self._indexes:
            log = log_file(self.dir, name)
            self._indexes[name] = (Index(log, "id", lambda _, d: d.get("outcome")) if name == "messages"
                                   else Index(log, "key", lambda offset, _: offset))
        return self._indexes[name].upto(length)

    @contextmanager
    def lock(self, wait: float = 30.0):
        self.ensure()
        path = self.dir / "lock"
        fd, st = open_own(path, os.O_RDWR, fix="remove it (maildaemon creates it again)")
        try:
            if stat.S_IMODE(st.st_mode) != FILE_MODE:
                try:
                    os.fchmod(fd, FILE_MODE)
                except OSError:
                    pass
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        holder = "".join(c for c in holder if c.isdigit()) or "?"
                        raise StoreError(f"state folder {self.dir} is locked by another maildaemon "
                                         f"(pid {holder}); wait for it or stop it") from None
                    time.sleep(0.05)
            try:                      # who holds it, for the message above; on a full disk, no matter
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError:
                pass
            self._remove_stale_temporaries()
            yield
        finally:
            os.close(fd)     # closing releases the flock

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a crash mid-write. Only under the lock: a concurrent writer's
        temporary file is never taken for a stale one."""
        for stale in self.dir.glob(".tmp-*"):      # never the live file
            try:
                stale.unlink()
            except OSError:
                pass


def make_dirs(path: Path) -> None:
    """`mkdir -p` whose new folders are 0700 whatever the umask (existing ones are left alone)."""
    missing = []
    p = Path(path)
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise explain(e, d, "create the folder") from None
            raise ConfigError("MAILDAEMON_STATE_DIR", f"cannot create state folder {d}: {e.strerror}",
                              "check MAILDAEMON_STATE_DIR and the permissions of its parent folder") from None
        try:
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC)
            try:
                os.fchmod(fd, DIR_MODE)
            finally:
                os.close(fd)
        except OSError:
            pass
