"""systemd's notify protocol without systemd-python: one datagram per state change.

`READY=1` once the daemon works, `STATUS=` one line for `systemctl status`, `WATCHDOG=1` at half
the `WatchdogSec=` interval from the main loop (so a hung IMAP or SMTP call stops the pings and
systemd restarts the service), `RELOADING=1`/`READY=1` around SIGHUP, `STOPPING=1` on SIGTERM.
Outside systemd (`NOTIFY_SOCKET` unset) every call is a no-op.
"""
from __future__ import annotations

import os
import socket
import time


EXTEND_EVERY = 10.0
EXTEND_USEC = 60_000_000


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        addr = env.get("NOTIFY_SOCKET", "")
        self.address = ("\0" + addr[1:]) if addr.startswith("@") else addr
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        enabled = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        self.watchdog_interval = int(usec) / 2e6 if enabled else None
        self._last_ping = 0.0
        self._last_extend = 0.0
        self.is_ready = False

    def send(self, *fields: str) -> None:
        if not self.address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            try:
                s.sendto("\n".join(fields).encode(), self.address)
            except OSError:
                pass          # systemd gone or socket missing: nothing to tell

    def ready(self, status: str) -> None:
        self.is_ready = True
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def alive(self) -> None:
        """Called often during long work (a catch-up of many mails). Once ready it feeds the
        watchdog; while still starting it asks systemd for 60 s more each 10 s
        (EXTEND_TIMEOUT_USEC), so a first catch-up longer than TimeoutStartSec is not killed."""
        if self.is_ready:
            self.watchdog()
            return
        now = time.monotonic()
        if self.address and now - self._last_extend >= EXTEND_EVERY:
            self._last_extend = now
            self.send(f"EXTEND_TIMEOUT_USEC={EXTEND_USEC}", "STATUS=catching up with the stream")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def watchdog(self) -> None:
        """Ping when half the interval has passed since the last ping (cheap to call often)."""
        if self.watchdog_interval is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_interval:
            self._last_ping = now
            self.send("WATCHDOG=1")

    @property
    def max_wait(self) -> float:
        """The longest the main loop may block and still ping in time."""
        return self.watchdog_interval if self.watchdog_interval is not None else 30.0
