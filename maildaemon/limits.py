"""Budgets for work whose cost depends on what a stranger wrote (SPEC 9): the size of a mail
read (`DEFAULT_MAX_MAIL_BYTES`, MAILDAEMON_MAX_MAIL_BYTES) and the CPU time spent on one.

Every regex and conversion on mail text is meant to be linear; the CPU budget is the backstop that
makes a mistake there (or in a library) cost one quarantined mail instead of a stalled stream. The budget
is process CPU time (ITIMER_PROF), not wall time, so a busy machine does not quarantine good mail.
Python delivers the signal between bytecodes, and `re` checks for signals while it matches, so a
runaway match is interrupted too. Signals reach only the main thread: elsewhere the budget is not
enforced (nothing there classifies mail).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

DEFAULT_MAX_MAIL_BYTES = 10 * 1024 * 1024     # a bigger mail is quarantined "too large", unread
CLASSIFY_CPU_SECONDS = 1.0


class OutOfTime(BaseException):
    """The CPU budget ran out. A BaseException, so a library's `except Exception` cannot swallow
    it; and the timer repeats every 50 ms after it fires, in case something swallows it anyway."""


def _expired(signum, frame):
    raise OutOfTime()


@contextmanager
def cpu_limit(seconds: float):
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGPROF, _expired)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
