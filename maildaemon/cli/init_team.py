"""`maildaemon init`: read the stream's recent mail and print (or write) a team-file proposal.

The reading shell around `maildaemon/propose/`. Sources: `--from-mbox FILE` (archive.py's streaming reader),
`--from-maildir DIR` (maildir.py), `--from-imap` (the configured `MAILDAEMON_IMAP_*` folder through
imap.py, read-only), or without any of them the configured stream (`MAILDAEMON_MAILDIR`, else IMAP).
Only the last `--last N` mails (default 500) are read: an mbox is counted first without keeping
anything, a Maildir is sorted by delivery time, IMAP is searched for its UIDs; every mail over
`MAILDAEMON_MAX_MAIL_BYTES` comes as its header only. Each mail costs at most the classifier's CPU
budget, and the whole survey stops reading after `TIME_BUDGET` seconds (the proposal says so).

No team file is needed (`Context.team` is never touched) and nothing is written to the state
folder. `--out FILE` is created exclusively: an existing file (or a link) is never overwritten,
exit 2 with one line.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Iterator

from maildaemon.cli.context import UsageError
from maildaemon.errors import ConfigError, SourceError
from maildaemon.model import RawMail

log = logging.getLogger(__name__)

DEFAULT_LAST = 500
TIME_BUDGET = 300.0         # seconds of reading and surveying, whatever the stream holds


def add_parser(sub, common) -> None:
    help_ = "propose a team file from the stream's recent mail (systems, senders, list, members, zone)"
    p = sub.add_parser("init", parents=[common], help=help_, description=help_ + "; prints it, or writes --out")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--from-mbox", metavar="FILE", help="read an mbox file (e.g. the list's archive)")
    src.add_argument("--from-maildir", metavar="DIR", help="read a Maildir folder")
    src.add_argument("--from-imap", action="store_true",
                     help="read the MAILDAEMON_IMAP_* folder (default: the configured stream)")
    p.add_argument("--out", metavar="FILE", help="write the proposal to FILE, which must not exist (default: stdout)")
    p.add_argument("--last", metavar="N", type=int, default=DEFAULT_LAST,
                   help=f"read the last N mails (default {DEFAULT_LAST})")


def run(ctx) -> int:
    args = ctx.args
    if args.last < 1:
        raise UsageError("maildaemon init: --last must be at least 1")
    out = Path(args.out) if args.out else None
    if out is not None and (out.exists() or out.is_symlink()):
        raise UsageError(f"maildaemon init: {out} exists; it is never overwritten: choose another --out")
    from maildaemon.propose import Survey         # the parsers: loaded only for this command
    label, mails = _source(ctx, args.last)
    survey = Survey()
    deadline = time.monotonic() + TIME_BUDGET
    for raw in mails:
        survey.add(raw)
        if time.monotonic() > deadline:
            survey.notes.append(f"Stopped reading after {TIME_BUDGET:g} s: the proposal rests on the first "
                                f"{len(survey.seen)} of the mails asked for.")
            mails.close()
            break
    text = survey.proposal(label)
    if out is None:
        ctx.out(text)
        return 0
    try:
        with open(out, "x", encoding="utf-8") as f:       # exclusive: never replaces a file or a link
            f.write(text)
    except FileExistsError:
        raise UsageError(f"maildaemon init: {out} exists; it is never overwritten: choose another --out") from None
    log.info("init: %d mails read, proposal written to %s", len(survey.seen), out)
    return 0


def _source(ctx, last: int) -> tuple[str, Iterator[RawMail]]:
    args, s = ctx.args, ctx.settings
    if args.from_mbox:
        return _mbox(args.from_mbox, last, s.max_mail_bytes)
    if args.from_maildir:
        return _maildir(args.from_maildir, last, s.max_mail_bytes)
    if not args.from_imap and s.maildir:
        return _maildir(str(s.maildir), last, s.max_mail_bytes)
    if not s.imap:
        raise ConfigError("MAILDAEMON_IMAP_HOST", "no stream to read",
                          "pass --from-mbox FILE or --from-maildir DIR, or set MAILDAEMON_IMAP_HOST "
                          "(with _USER and _PASSWORD) or MAILDAEMON_MAILDIR")
    for part in ("user", "password"):
        if not getattr(s.imap, part):
            raise ConfigError(f"MAILDAEMON_IMAP_{part.upper()}", "not set",
                              f"set MAILDAEMON_IMAP_{part.upper()} for the stream mailbox")
    return _imap(s, last)


def _mbox(path: str, last: int, max_bytes: int) -> tuple[str, Iterator[RawMail]]:
    from maildaemon.source.archive import count, kind, messages
    if kind(path) != "mbox":
        raise SourceError(f"{path} is a Maildir: use --from-maildir")
    total = count(path)
    skip = max(0, total - last)

    def mails():
        where = os.path.abspath(path)
        for n, (data, oversize) in enumerate(messages(path, max_bytes), start=1):
            if n > skip:
                yield RawMail(data, origin=f"mbox:{where}#{n}", oversize=oversize)

    return f"mbox {path}, the last {total - skip} of {total} mails", mails()


def _maildir(path: str, last: int, max_bytes: int) -> tuple[str, Iterator[RawMail]]:
    from maildaemon.source.maildir import is_maildir, ordered, read, scan
    folder = Path(path)
    if not folder.exists():
        raise SourceError(f"{folder} does not exist")
    if not is_maildir(folder):
        raise SourceError(f"{folder} is not a Maildir (no cur/ or new/)")
    entries = ordered(scan(folder))
    chosen = entries[-last:]

    def mails():
        for entry in chosen:
            got = read(folder, entry, max_bytes)
            if got is not None:
                yield RawMail(got[0], origin=f"maildir:{entry.key}", oversize=got[1])

    return f"Maildir {path}, the last {len(chosen)} of {len(entries)} mails", mails()


def _imap(settings, last: int) -> tuple[str, Iterator[RawMail]]:
    from maildaemon.source.imap import IMAP_ERRORS, ImapSource
    source = ImapSource(settings.imap, max_bytes=settings.max_mail_bytes)
    session = source.connect()                        # SourceError: one line, exit 1
    imap = settings.imap
    try:
        with session.limit("SEARCH"):
            uids = sorted(session.client.search(["ALL"]))
    except IMAP_ERRORS as e:
        session.close()
        raise SourceError(_line(imap, e)) from None
    except BaseException:
        session.close()
        raise
    start = uids[-last - 1] if len(uids) > last else 0

    def mails():
        try:
            for batch, _ in source.catch_up(session, {"uidvalidity": session.uidvalidity, "last_uid": start}):
                yield from batch
        except IMAP_ERRORS as e:
            raise SourceError(_line(imap, e)) from None
        finally:
            session.close()

    n = min(len(uids), last)
    return f"IMAP {imap.describe()} folder {imap.folder}, the last {n} of {len(uids)} mails", mails()


def _line(imap, exc: BaseException) -> str:
    text = " ".join(f"IMAP {imap.host}:{imap.port}: {type(exc).__name__}: {exc}".split())
    return text.replace(imap.password, "***") if imap.password else text
