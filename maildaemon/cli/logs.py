"""How the command line logs: one line per record, on standard error, safe for a terminal.

journald gets its priority prefix instead of a timestamp, the daemon elsewhere (a log file) a
timestamp. DEBUG is maildaemon's own: libraries stay at WARNING, so imapclient's wire traffic
(passwords, whole messages) and mail-parser's dumps never appear. Every line goes through
`terminal.safe`: a subject in a message cannot drive the terminal or forge a second log line.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

from maildaemon.terminal import safe

log = logging.getLogger("maildaemon")


@contextmanager
def restored():
    """Leave logging as it was found (tests and embedders call `main()` in-process); yields the
    list the handlers added meanwhile go into, to be removed again."""
    root = logging.getLogger()
    levels = root.level, log.level
    added: list[logging.Handler] = []
    try:
        yield added
    finally:
        for handler in added:
            root.removeHandler(handler)
        root.setLevel(levels[0])
        log.setLevel(levels[1])


def setup(level: str, stream, daemon: bool = False) -> logging.Handler:
    """Log maildaemon's records from `level` on (libraries' from WARNING) to `stream`."""
    handler = logging.StreamHandler(stream)
    if _under_journald(stream):
        handler.setFormatter(_JournalFormatter("%(message)s"))
    elif daemon:
        handler.setFormatter(_SafeFormatter("%(asctime)s maildaemon: %(levelname)s %(message)s",
                                            datefmt="%Y-%m-%d %H:%M:%S%z"))
    else:
        handler.setFormatter(_SafeFormatter("maildaemon: %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    wanted = getattr(logging, level)
    root.setLevel(max(wanted, logging.WARNING))
    log.setLevel(wanted)
    return handler


class _SafeFormatter(logging.Formatter):
    """One record, one line: control characters in the message (a subject, say) are made visible."""

    def formatMessage(self, record):
        record.message = safe(record.message)
        return super().formatMessage(record)


class _JournalFormatter(_SafeFormatter):
    PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}

    def format(self, record):
        return f"<{self.PRIORITY.get(record.levelname, 6)}>{super().format(record)}"


def _under_journald(stream) -> bool:
    spec = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
        dev, ino = (int(x) for x in spec.split(":"))
        return (st.st_dev, st.st_ino) == (dev, ino)
    except (ValueError, OSError, AttributeError):
        return False
