"""The stream mailbox over IMAP, read-only, tracked by (UIDVALIDITY, last UID): fetching and batching.

The connection itself (deadlines, TLS, login, EXAMINE, IDLE) is `imap_session.py`; the daemon's
stream, which holds one connection open and waits on it, is `imap_follow.py`.
Why it is written this way (measured pitfalls, dependencies.md §0, §1, §5.1):
- `BODY.PEEK[]` on a folder opened with EXAMINE: the list mailbox is shared; reading must not set
  \\Seen or change anything else.
- `UID SEARCH` first, then `fetch()` with lists of int UIDs: IMAPClient 4.1's `fetch()` crashes on
  sequence-set strings such as "5:*" (upstream #666).
- `UID N:*` always returns the highest UID even when nothing is new (RFC 3501), so results are
  filtered `> last_uid`, or the last message would be re-read forever.
- Batches are cut by count *and* by summed RFC822.SIZE, because imapclient holds a whole FETCH reply
  in memory; sizes are fetched in windows so the UID list (sent comma-joined) stays short.
- A new UIDVALIDITY restarts at UID 1; the caller dedupes by Message-ID, so a re-scan is harmless,
  while trusting old UIDs under a new UIDVALIDITY could skip mail.
- Every command has an overall deadline (`imap_session`); a body FETCH gets `deadline` plus its
  size / `min_rate`.
- Size limit (SPEC 9): RFC822.SIZE is known before any body is fetched; a message over
  `max_bytes` is never fetched whole, only `BODY.PEEK[HEADER]<0.65536>` (reply key
  b"BODY[HEADER]<0>", measured with Dovecot), in header-only batches of its own; it comes out as
  `RawMail(header, oversize=size)`.

`connect()` (a logged-in `Session`, folder selected) and `catch_up()` are the seams the daemon's
stream and `init --from-imap` reuse; `batches()` is one pass for `sync`.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator

from imapclient import SocketTimeout

from maildaemon.config import ServerSettings
from maildaemon.limits import DEFAULT_MAX_MAIL_BYTES
from maildaemon.model import RawMail
from maildaemon.source import HEADER_CAP, SourceError, default_batch_bytes, header_of
from maildaemon.source.imap_session import (DEADLINE, IMAP_ERRORS, MIN_RATE, Failure, Session,  # noqa: F401
                                            TooSlow, classify, open_session, safe)

log = logging.getLogger(__name__)

SIZE_WINDOW = 1000      # UIDs per RFC822.SIZE fetch: ~7 kB of command line, far below server limits
# Defaults, read when a source is made (not when this module is imported):
TIMEOUT = SocketTimeout(connect=15, read=60)   # per connect() / per recv()
HEADER_ITEM, HEADER_KEY = f"BODY.PEEK[HEADER]<0.{HEADER_CAP}>", b"BODY[HEADER]<0>"
BODY_ITEM, BODY_KEY = "BODY.PEEK[]", b"BODY[]"       # the reply key is b"BODY[]" even for PEEK


def start_uid(position: dict | None, uidvalidity: int) -> tuple[int, str | None]:
    """The last UID already delivered, and why we start from scratch (None if we do not)."""
    if position is None:
        return 0, "no stored position"
    if position.get("uidvalidity") != uidvalidity:
        return 0, f"UIDVALIDITY changed from {position.get('uidvalidity')} to {uidvalidity}"
    return int(position.get("last_uid", 0)), None


def cut(sized: list[tuple[int, int]], count: int, max_bytes: int) -> Iterator[list[int]]:
    """Split ascending (uid, size) pairs into UID batches of <= count and <= max_bytes.

    A single message larger than max_bytes gets a batch of its own rather than being skipped."""
    batch: list[int] = []
    total = 0
    for uid, size in sized:
        if batch and (len(batch) >= count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def plan(sized: list[tuple[int, int]], count: int, batch_bytes: int,
         max_mail: int) -> Iterator[tuple[list[int], bool]]:
    """`cut`, keeping UID order, into (batch, header_only) pairs: a message over `max_mail` goes in
    a header-only batch (one FETCH asks the same items of every UID), counted as HEADER_CAP bytes."""
    run: list[tuple[int, int]] = []
    big = False
    for uid, size in sized:
        over = size > max_mail
        if run and over != big:
            yield from ((b, big) for b in cut(run, count, batch_bytes))
            run = []
        big = over
        run.append((uid, min(size, HEADER_CAP) if over else size))
    if run:
        yield from ((b, big) for b in cut(run, count, batch_bytes))


class ImapSource:
    """Source over one IMAP folder; position `{"uidvalidity": int, "last_uid": int}`, also on each
    RawMail (its own UID as `last_uid`).

    `max_bytes`: larger messages come as header only with `oversize`. `deadline`: seconds for the
    complete reply to any one command; a body FETCH gets `deadline + size / min_rate`. `timeout`:
    imapclient's per-connect/per-recv timeouts. `batch_bytes` defaults to two messages at the limit.
    """

    remote = True           # reading it is network I/O: ingest holds the state lock per batch only

    def __init__(self, settings: ServerSettings, batch_size: int = SIZE_WINDOW, batch_bytes: int | None = None,
                 timeout: SocketTimeout | None = None, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep, max_bytes: int = DEFAULT_MAX_MAIL_BYTES,
                 deadline: float | None = None, min_rate: float | None = None):
        self.settings = settings
        self.batch_size = max(1, min(batch_size, SIZE_WINDOW))
        self.max_bytes = max_bytes
        self.batch_bytes = batch_bytes if batch_bytes is not None else default_batch_bytes(max_bytes)
        self.timeout = timeout if timeout is not None else TIMEOUT
        self.deadline = deadline if deadline is not None else DEADLINE
        self.min_rate = min_rate if min_rate is not None else MIN_RATE
        self.attempts = max(1, attempts)
        self.sleep = sleep
        # the largest literal a reply may announce: a message at the limit, with room for servers
        # whose RFC822.SIZE is a little off
        self.max_literal = 2 * max(max_bytes, HEADER_CAP) + 1024 * 1024
        s = settings
        self.id = f"imap://{s.user}@{s.host}:{s.port}/{s.folder}"

    def connect(self) -> Session:
        """A logged-in Session, retrying transient failures with backoff 1 s, 2 s, 4 s ...

        A refused login or a missing folder is raised at once: retrying cannot fix a wrong
        password, and repeated failures may lock the account."""
        for attempt in range(1, self.attempts + 1):
            try:
                return open_session(self.settings, self.timeout, self.deadline, self.min_rate, self.max_literal)
            except Failure as f:
                if not f.transient or attempt == self.attempts:
                    tail = f" (gave up after {attempt} attempts)" if f.transient and attempt > 1 else ""
                    raise SourceError(safe(self.settings, f.message + tail)) from f.__cause__
                self._backoff(f.message, attempt)
        raise AssertionError("unreachable")

    def _backoff(self, message: str, attempt: int) -> None:
        delay = 2 ** (attempt - 1)
        log.warning("%s; retrying in %ss (attempt %d of %d)", safe(self.settings, message), delay, attempt,
                    self.attempts)
        self.sleep(delay)

    # --- reading ------------------------------------------------------------------------

    def batches(self, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """One pass: every message after `position`, in UID order, in batches.

        If the connection drops or a reply is too slow mid-pass, reconnect and resume after the
        last batch handed out (up to `attempts` failures in a row); the socket is closed however
        the pass ends."""
        failures = 0
        while True:
            session = self.connect()
            try:
                for mails, after in self.catch_up(session, position):
                    yield mails, after
                    position, failures = after, 0
                return
            except TooSlow as exc:
                failures += 1
                if failures >= self.attempts:
                    raise
                message = exc.reason
            except IMAP_ERRORS as exc:
                f = classify(self.settings, "fetch", exc)
                failures += 1
                if not f.transient or failures >= self.attempts:
                    raise SourceError(safe(self.settings, f.message)) from exc
                message = f.message
            finally:
                session.close()
            self._backoff(message, failures)

    def catch_up(self, session: Session, position: dict | None) -> Iterator[tuple[list[RawMail], dict]]:
        """Yield new messages of an open session; raw IMAP/socket errors propagate to the caller,
        and `TooSlow` (a SourceError) when a reply does not complete in time.

        A batch may be empty when all its messages were expunged meanwhile; its position still
        advances, so they are not asked for again."""
        client, v = session.client, session.uidvalidity
        last, why = start_uid(position, v)
        if why:
            log.info("%s: %s; reading %s from UID 1 (messages already applied are recognised by "
                     "Message-ID)", self.id, why, session.folder)
        with session.limit("SEARCH"):
            found = client.search(["UID", f"{last + 1}:*"])
        uids = sorted(u for u in found if u > last)
        for i in range(0, len(uids), SIZE_WINDOW):
            window = uids[i:i + SIZE_WINDOW]
            with session.limit("FETCH RFC822.SIZE"):
                sizes = client.fetch(window, ["RFC822.SIZE"])
            # a UID missing here was expunged after the SEARCH: skipped, not an error
            size_of = {u: int(sizes[u].get(b"RFC822.SIZE", 0)) for u in window if u in sizes}
            sized = [(u, size_of[u]) for u in window if u in size_of]
            for batch, header_only in plan(sized, self.batch_size, self.batch_bytes, self.max_bytes):
                item, key = (HEADER_ITEM, HEADER_KEY) if header_only else (BODY_ITEM, BODY_KEY)
                expected = sum(min(size_of[u], HEADER_CAP) if header_only else size_of[u] for u in batch)
                with session.limit("FETCH", expected):
                    reply = client.fetch(batch, [item])
                mails = []
                for u in batch:
                    data = reply.get(u, {}).get(key)
                    if not isinstance(data, bytes):
                        continue
                    oversize = size_of[u] if header_only else 0
                    if len(data) > self.max_bytes:       # RFC822.SIZE understated it
                        data, oversize = header_of(data), len(data)
                    mails.append(RawMail(data, origin=f"imap:{session.folder}:{v}:{u}",
                                         position={"uidvalidity": v, "last_uid": u}, oversize=oversize))
                del reply
                yield mails, {"uidvalidity": v, "last_uid": batch[-1]}


def probe(settings: ServerSettings, timeout: SocketTimeout | None = None, deadline: float | None = None) -> str:
    """For `maildaemon check`: connect, log in, EXAMINE; one line about the folder. Raises SourceError."""
    session = ImapSource(settings, timeout=timeout, attempts=1, deadline=deadline).connect()
    try:
        idle = "IDLE supported" if session.idle else "no IDLE (the daemon will poll)"
        return f"{session.folder}: {session.exists} messages, UIDVALIDITY {session.uidvalidity}, {idle}"
    finally:
        session.close()
