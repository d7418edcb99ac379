"""The stream's commands: `sync` (one pass over the source), `import PATH` (backfill from an
archive), `run` (the daemon) and `demo` (the bundled stream, no servers).

A source that cannot be read is logged in one line, exit 1; a missing source setting is a
`ConfigError` (exit 2, through the entry point).
"""
from __future__ import annotations

import logging

from maildaemon.cli.presentation import select, tickets_table
from maildaemon.errors import SourceError

log = logging.getLogger("maildaemon")


def run(ctx) -> int:
    return {"sync": sync, "import": import_, "run": run_daemon, "demo": demo}[ctx.args.command](ctx)


def _ingest():
    """The ingest stage, imported when a command reads mail: the parsers pull in mail-parser, lxml
    and the rest, which `tickets`, `status` and `remind` do not need (60 ms of every start)."""
    from maildaemon.ingest import ingest
    return ingest


def sync(ctx) -> int:
    from maildaemon.config import require_source
    from maildaemon.source.live import live_source
    team = ctx.team
    require_source(ctx.settings)
    source = live_source(ctx.settings)
    try:
        counts = _ingest()(source, ctx.store, team, ctx.now)
    except SourceError as e:
        log.error("sync failed: %s", e)
        return 1
    ctx.out(counts.line())
    return 0


def import_(ctx) -> int:
    from maildaemon.source.archive import ArchiveSource, count
    team = ctx.team
    try:
        source = ArchiveSource(ctx.args.path, max_bytes=ctx.settings.max_mail_bytes)
        total = count(ctx.args.path)
    except SourceError as e:
        log.error("%s", e)
        return 1
    bar = _progress(ctx.stderr, total)
    try:
        counts = _ingest()(source, ctx.store, team, ctx.now, progress=bar.update if bar else None, live=False)
    finally:
        if bar:
            bar.close()
    ctx.out(counts.line())
    return 0


def _progress(stream, total: int):
    """A progress bar only on a terminal (tqdm: resizing, rate, ETA done right)."""
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="msg", file=stream, desc="import")


def run_daemon(ctx) -> int:
    from maildaemon.daemon import Daemon
    ctx.team  # validated now: a wrong team file is exit 2 before anything starts
    return Daemon(getattr(ctx.args, "env_file", None), ctx.environ, ctx.clock()).run()


def demo(ctx) -> int:
    """The demo's week (maildaemon/demo/), then the tickets at its end and where to look next."""
    from maildaemon import demo
    week = demo.play_week(ctx.out, getattr(ctx.args, "now", None))
    ctx.out("\nTickets at the end of the week:\n")
    ctx.stdout.write(tickets_table(select(week.store.view().tickets(), None), week.team))
    ctx.out(f"\n{week.written} mails written to {demo.OUT}/. Look around:\n"
            f"  MAILDAEMON_STATE_DIR={week.store.dir} MAILDAEMON_TEAM_FILE={demo.bundled('team.toml')} "
            f"python3 -m maildaemon ticket goc:41234")
    return 0
