"""`maildaemon run`: the long-running loop. The stream, the duty tick, systemd.

One loop; each turn blocks at most until the next thing to do (news on the stream, the poll
interval, the next minute tick, the watchdog) and never longer than the watchdog allows:
    source.wait() -> catch up (ingest) -> run_pending() (decide, send) -> WATCHDOG=1
The loop only orders these steps. How to wait for news (IMAP IDLE with a poll fallback, a
Maildir's poll), connecting, reconnecting and its backoff belong to the source
(`source.LiveSource`); a stream that cannot be read raises `Unavailable`, which is logged with
the time of the next attempt while the ticks go on.
SMTP is the one thing not in the loop: the tick writes what is due to the outbox and a sender
thread delivers it (one pass at a time, bounded by the outbox's deadlines), so a slow or silent
SMTP server never stops the stream from being read or the watchdog from being fed (SPEC 9).
Correctness never depends on timing: the `schedule` package only says "tick about every minute";
each tick asks the pure policy what is due at `now` and the outbox refuses duplicates, so a restart
at any moment catches up what was due and sends nothing twice (schedule itself would neither
persist nor catch up, and a raising job would starve the others, so every job is guarded).
SIGTERM stops after the current step (a mail on the wire is cut and stays queued); SIGHUP re-reads
the env file, the team file and the templates, keeping the old configuration if the new one is
wrong. A signal wakes the loop at once (`signal.set_wakeup_fd`: the source's wait watches the
pipe), so a stop never waits for an IDLE timeout.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Callable

import schedule

from maildaemon import dispatch, outbox, policy, workdays
from maildaemon.config import ConfigError, Settings, load_settings, load_team, read_environment, require_source
from maildaemon.ingest import ingest
from maildaemon.model import DONE_STATUSES, Problem
from maildaemon.notify import Notifier
from maildaemon.source import LiveSource, SourceError, Unavailable
from maildaemon.source.live import live_source
from maildaemon.store import Store, StoreError

log = logging.getLogger("maildaemon.daemon")
QUIET_MAX = timedelta(hours=1)   # a tick decides again at least this often, whatever the agenda says


class _Wake:
    """A pipe the signal handlers write to, so `select` returns at once on SIGTERM/SIGHUP."""

    def __init__(self):
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)

    def drain(self) -> None:
        try:
            while os.read(self.r, 512):
                pass
        except BlockingIOError:
            pass


class _Sender:
    """Delivers the outbox in a thread of its own, one pass at a time."""

    def __init__(self):
        self.thread: threading.Thread | None = None
        self.stop = threading.Event()

    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, store, smtp, now: datetime) -> None:
        if self.busy() or self.stop.is_set():
            return
        self.thread = threading.Thread(target=self._pass, args=(store, smtp, now), name="send", daemon=True)
        self.thread.start()

    def _pass(self, store, smtp, now: datetime) -> None:
        try:
            counts = outbox.deliver(store, smtp, now, stop=self.stop)
            if any(counts.values()):
                log.info("outbox: sent=%(sent)d retry=%(retry)d failed=%(failed)d", counts)
        except Exception as e:          # a failed pass is logged; the next tick tries again
            log.error("send failed: %s: %s", type(e).__name__, e)
            log.debug("traceback", exc_info=True)

    def shutdown(self, wait: float = 20) -> None:
        """Cut a mail on the wire and wait (bounded: systemd's TimeoutStopSec is 30 s) for its result."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(wait)


class Daemon:
    def __init__(self, env_file: str | None, environ: dict[str, str],
                 clock: Callable[[], datetime], notifier: Notifier | None = None):
        self.env_file, self.environ, self.clock = env_file, environ, clock
        self.notify = notifier or Notifier(environ)
        self.stopping = False
        self.reload_requested = False
        self.source: LiveSource | None = None
        self.sender = _Sender()
        self.quiet: tuple | None = None      # (state identity, time): no mail falls due before it
        self.nobody_said = None          # the local date "no one on duty" was last logged
        self.load()

    # --- configuration ------------------------------------------------------------------

    def load(self) -> None:
        """Read and check everything, then use it; raises ConfigError (exit 2 at start; on reload
        the running configuration is kept, whole)."""
        settings: Settings = load_settings(read_environment(self.env_file, self.environ))
        require_source(settings)
        team = load_team(settings.team_file)
        templates = dispatch.templates(settings.templates_dir)
        store = Store.from_settings(settings)
        store.ensure()
        from maildaemon.store import HolidayFile
        workdays.use_calendar_cache(HolidayFile(store.dir))
        old, self.source = self.source, live_source(settings, follow=True)
        self.settings, self.team, self.templates, self.store = settings, team, templates, store
        if old is not None:
            old.close()             # the new source connects at its first wait and catches up

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> int:
        self.wake = _Wake()
        signal.set_wakeup_fd(self.wake.w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        jobs = schedule.Scheduler()
        jobs.every(60).seconds.do(self._guarded, self.tick)
        self.read_stream()
        self._guarded(self.tick)
        self.notify.ready(self._status_line())
        log.info("running: %s; %s", self.source.id, self._status_line())
        try:
            while not self.stopping:
                if self.reload_requested:
                    self._reload()
                self.read_stream(wait=min(jobs.idle_seconds or 60, self.notify.max_wait))
                jobs.run_pending()
                self.notify.watchdog()
        finally:
            self.notify.send("STOPPING=1")
            self.sender.shutdown()
            self.source.close()
            signal.set_wakeup_fd(-1)
            log.info("stopped")
        return 0

    def tick(self) -> None:
        """Decide and persist what is due now (reminders, announcement, handoff, and SPEC 10's
        work-done, silence and meeting-brief mails: `dispatch.plan` reads the snoozes and the stream's
        health for the policy); the sender thread delivers it and the retries, unless a pass is still
        under way (then the next tick does)."""
        now = self.clock()
        self._say_nobody_on_duty(now)
        state = self.store.identity()
        if self.quiet is not None and self.quiet[0] == state and now < self.quiet[1]:
            pass                # nothing changed, and nothing falls due before quiet[1] (see below)
        else:
            mails = dispatch.due_mails(self.store, self.team, now, self.templates, reminders=True,
                                   handoff=policy.handoff_due(self.team, now))
            queued = dispatch.persist(self.store, self.settings, mails, now)
            for m in queued:
                log.info("queued %s", dispatch.describe(m))
            self.quiet = None if queued else (self.store.identity(), self._next_due(now))
        if self.settings.smtp is not None:
            self.sender.start(self.store, self.settings.smtp, now)
        if self.settings.metrics_file:                  # SPEC 11: after each pass
            from maildaemon import metrics_file as operations
            operations.write_metrics_file(self.settings, self.store, self.team, now)
        self.notify.status(self._status_line())

    def _next_due(self, now: datetime) -> datetime:
        """When the next mail can fall due if the state does not change: the first moment of the
        agenda (the same policy, visited only at the moments its answer can change), at most an
        hour ahead. Until then, and while the state file is the same, a tick decides nothing:
        at 50,000 messages deciding costs 28 ms over 339 open tickets (issue 14)."""
        cap = now + QUIET_MAX
        try:
            from maildaemon import agenda
            snap, ledger = dispatch.agenda_snapshot(self.store)
            found = agenda.agenda(snap, ledger, self.team, now, 1, self.templates)
        except Exception as e:  # noqa: BLE001 - no shortcut, never a missed mail
            log.debug("agenda for the next tick: %s: %s", type(e).__name__, e)
            return now
        times = [e.at for e in found.entries]
        if any(t <= now for t in times):
            return now                  # due now by the agenda, yet not queued: decide every tick
        return min([cap] + times)

    def _say_nobody_on_duty(self, now: datetime) -> None:
        """SPEC 9: while the rotation has no one for this week nothing is sent (`plan` gives no
        mail); the log says so once a day, in the words of `check` and `status`."""
        missing = dispatch.nobody_on_duty(self.store, self.team, now)
        day = workdays.local_date(now, self.team)
        if missing and self.nobody_said != day:
            log.error("%s: no mail is sent until a rotation is stored (maildaemon rotation load FILE)", missing)
            self.nobody_said = day
        elif not missing:
            self.nobody_said = None

    def read_stream(self, wait: float = 0.0) -> None:
        """Wait up to `wait` seconds for news on the stream (or a signal), then catch up with it."""
        try:
            if self.source.wait(wait, self.wake.r) and not self.stopping:
                self._ingest()
        except Unavailable as e:
            self._unavailable(e)
        except Exception as e:
            self._failed("_ingest", e)
        finally:
            self.wake.drain()

    def _ingest(self) -> None:
        counts = ingest(self.source, self.store, self.team, self.clock(), progress=self._progress)
        if counts.fetched:
            log.info("stream: %s", counts.line())

    def _progress(self, n: int) -> None:
        """A long catch-up keeps the watchdog fed, or the start timeout extended before READY."""
        self.notify.alive()

    # --- failures, signals, helpers -----------------------------------------------------

    def _unavailable(self, e: Unavailable) -> None:
        """The stream is down: say so (log, state, systemd status); the source retries by itself."""
        log.error("%s; reconnecting in %.0fs", e, e.retry_in)
        try:
            with self.store.transaction(wait=5) as txn:
                txn.update_health(last_error=Problem(self.clock().isoformat(timespec="seconds"), str(e)))
                txn.commit()
        except StoreError as err:
            log.error("%s", err)
        self.notify.status(f"stream unavailable: {e}")

    def _guarded(self, job, *args) -> None:
        """Run a job; log a failure in one line and carry on (one bad tick must not stop the rest)."""
        try:
            job(*args)
        except Exception as e:
            self._failed(getattr(job, "__name__", "job"), e)

    def _failed(self, name: str, e: Exception) -> None:
        if isinstance(e, (StoreError, SourceError, OSError)):
            log.error("%s failed: %s", name, e)
            self.store.record_error(f"{name}: {e}", self.clock())
        else:
            log.error("%s failed: %s: %s", name, type(e).__name__, e)
            log.debug("traceback", exc_info=True)
            self.store.record_error(f"{name}: {type(e).__name__}: {e}", self.clock())

    def _reload(self) -> None:
        self.reload_requested = False
        self.notify.send("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
        try:
            self.load()
            log.info("configuration reloaded")
        except (ConfigError, StoreError) as e:      # a wrong setting, or a state folder refused
            log.error("reload refused, keeping the running configuration: %s", e)
        self.notify.ready(self._status_line())

    def _on_term(self, signum, frame) -> None:
        self.stopping = True

    def _on_hup(self, signum, frame) -> None:
        self.reload_requested = True

    def _status_line(self) -> str:
        view, health = self.store.view(), self.store.health()
        open_count = sum(n for status, n in view.status_counts().items() if status not in DONE_STATUSES)
        line = f"{open_count} open tickets; last sync {health.last_sync or 'never'}"
        silent = policy.silent_since(health, self.team, self.clock())
        if not silent:
            return line
        since = datetime.fromisoformat(silent).astimezone(workdays.zone(self.team))
        return f"{line}; stream silent since {since:%Y-%m-%d %H:%M}"
