"""The installation's secret key, `STATE_DIR/key`, that keys the Message-IDs of our own mail
(ownmail.py): 64 hex characters, 0600, made once on first use and never read through a link."""
from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from maildaemon.atomic import give
from maildaemon.errors import KeyFileError

KEY_FILE = "key"


def load_key(state_dir: Path) -> bytes:
    """The installation's key: read it, or make it once (never through a symbolic link)."""
    path = Path(state_dir) / KEY_FILE
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            _make(path)
            continue
        except OSError as e:
            raise KeyFileError(f"cannot read {path}: {e.strerror}"
                            + ("; it is a symbolic link: remove it" if e.errno == errno.ELOOP else "")) from None
        with os.fdopen(fd, "rb") as f:
            data = f.read(256).strip()
        if len(data) < 32:
            raise KeyFileError(f"{path} is damaged (too short); remove it to make a new one "
                            "(mail already sent is then no longer recognised when it comes back)")
        return data
    raise KeyFileError(f"cannot create {path}")


def _make(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return                                   # another process made it first
    except OSError as e:
        raise KeyFileError(f"cannot create {path}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        give(f.fileno(), path)
        f.write(secrets.token_hex(32).encode("ascii"))
        f.flush()
        os.fsync(f.fileno())
