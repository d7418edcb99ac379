"""The command line: parse arguments, read configuration and the clock once, run one command.

`main(argv, environ, stdout, stderr) -> int` takes its streams so tests drive it in-process.
Exit status: 0 success; 2 bad configuration or usage (one line naming the setting and the fix,
no traceback); 1 a runtime failure that was logged, in one line (an OSError as the file and the
reason; a failure to write the state folder is also kept for `status`, `Store.record_error`);
141 (128 + SIGPIPE, what a shell reports for a program killed by SIGPIPE) when whoever reads the
output stopped reading, as in `maildaemon rotation show | head -1`: nothing is printed then.
Every expected failure is a `MaildaemonError` (maildaemon/errors.py), caught once here.

The package, from the top down (a module imports only those below it):
- `manual.py` generates the man page and the completions from the parser;
- `__init__.py` (this): the parser, the entry point, the dispatch to the command's module;
- one module per command group: `stream.py` (sync, import, run, demo), `tickets.py` (tickets,
  ticket), `status.py`, `quarantine.py`, `duty_mail.py` (remind, handoff), `rotation.py`,
  `snooze.py` (snooze, snoozes), `agenda.py`, `init_team.py` (init), `monitoring.py` (check,
  metrics);
- `presentation.py` (tables and JSON of tickets), `logs.py` (the log's lines), `context.py`
  (`Context`: arguments, settings, team, state and `now`, read once).
Only `context.py` reads the clock (`--now` / `MAILDAEMON_NOW` / the system time) and passes
`now` down; nothing outside this package imports it (`python -m maildaemon` aside).
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from datetime import datetime, timezone
from typing import NoReturn

from maildaemon import __version__
from maildaemon.atomic import StateIOError, describe
from maildaemon.cli import logs
from maildaemon.cli.context import Context, UsageError
from maildaemon.errors import ConfigError, MaildaemonError
from maildaemon.store import Store
from maildaemon.terminal import safe

EXIT_PIPE = 141         # 128 + SIGPIPE: the reader of our output went away

log = logging.getLogger("maildaemon")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS,
                        help="env file to read (default: .env here, if present; the environment wins)")
    common.add_argument("--now", metavar="WHEN", default=argparse.SUPPRESS,
                        help="ISO 8601 date or date-time to act at (default: the clock, or MAILDAEMON_NOW)")
    from maildaemon.config import ENVIRONMENT
    width = max(len(name) for name, _ in ENVIRONMENT)
    p = _Parser(prog="maildaemon", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Triage-duty bookkeeping: reads the ticket stream, tracks owners, reminds,\n"
                            "hands over.",
                epilog="environment (or an env file: --env-file; see maildaemon.env.example):\n"
                       + "\n".join(f"  {name:<{width}}  " + text.replace("\n", "\n" + " " * (width + 4))
                                   for name, text in ENVIRONMENT)
                       + "\n\nexit status: 0 success, 1 a failure (logged), 2 bad configuration or usage")
    p.add_argument("--version", action="version", version=f"maildaemon {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name, help_, *switches):
        """A command; each switch a (flag, help) option that is on or off."""
        parser = sub.add_parser(name, parents=[common], help=help_, description=help_)
        for flag, text in switches:
            parser.add_argument(flag, action="store_true", help=text)
        return parser

    add("demo", "run the job on the bundled example stream and team, no servers needed")
    add("sync", "one pass over the source: fetch new messages, apply, print counts")
    add("import", "backfill from an mbox file or a Maildir (a list archive)").add_argument(
        "path", metavar="PATH", help="an mbox file or a Maildir folder")
    add("tickets", "list open tickets", ("--json", "print JSON (the schema of the README)"),
        ("--all", "include resolved and closed tickets")).add_argument(
        "--owner", metavar="EMAIL", help="only tickets owned by EMAIL")
    add("ticket", "one ticket's state and full history", ("--json", "print JSON (the ticket and its history)")
        ).add_argument("key", metavar="KEY", help='e.g. goc:41234 or rt:1234')
    add("status", "health: last sync, counts, quarantine, last error", ("--json", "print JSON"))
    add("check", "validate configuration and connect to IMAP and SMTP")
    add("run", "the daemon: IMAP IDLE (poll fallback), scheduled reminders and handoff, systemd notify")
    add("remind", "send the reminders due now", ("--dry-run", "print them; send and store nothing"))
    add("handoff", "send the handoff summary for the duty week that ends at --now",
        ("--dry-run", "print it; send and store nothing"))
    q = add("quarantine", "mails that were not accepted, with the reason")
    qsub = q.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    qsub.add_parser("list", parents=[common], help="list quarantined mails (default)").add_argument(
        "--json", action="store_true", help="print JSON")
    qsub.add_parser("show", parents=[common], help="show one quarantined mail").add_argument(
        "id", metavar="ID", help="an entry id from `quarantine list`")
    qsub.add_parser("retry", parents=[common], help="classify every quarantined mail again")
    add("metrics", "print the Prometheus text metrics (what MAILDAEMON_METRICS_FILE holds)")
    from maildaemon.cli import agenda, init_team, rotation, snooze
    snooze.add_parsers(add)
    agenda.add_parser(add)                        # `agenda` (SPEC 10)
    init_team.add_parser(sub, common)             # `init` (SPEC 11, "Starting a team")
    rotation.add_parser(sub, common)
    return p


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None, stdout=None, stderr=None,
         whole_process: bool = False) -> int:
    """Run one command; `whole_process`: this command is all the process does (the console
    script), so the garbage collector is tuned for it (`_collect_less`)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = dict(os.environ) if environ is None else environ
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        return _failed(e, stderr)
    except SystemExit as e:           # --help, --version
        return int(e.code or 0)
    if whole_process:
        _collect_less(args.command)
    ctx = None
    with logs.restored() as handlers:
        try:
            if args.command == "check":           # every problem in one run, so not through Context
                from maildaemon.cli import monitoring
                handlers.append(logs.setup("WARNING", stderr))
                code = monitoring.check(args, environ, stdout, stderr)
            else:
                ctx = Context(args, environ, stdout, stderr)
                handlers.append(logs.setup(ctx.settings.log_level, stderr, daemon=args.command == "run"))
                code = _run(ctx)
            stdout.flush()        # inside the try: a reader gone away is handled here, not at exit
            return code
        except MaildaemonError as e:
            return _failed(e, stderr)
        except BrokenPipeError:
            _quiet_stdout(stdout)
            return EXIT_PIPE
        except OSError as e:      # the disk is full, a file is unreadable...: one line, no traceback
            line = describe(e)
            log.error("%s", line)
            if isinstance(e, StateIOError) and ctx is not None:
                _record(ctx, line)
            return 1
        except KeyboardInterrupt:
            log.error("interrupted")
            return 1
        except Exception as e:  # a bug: one line for the user, the traceback at debug level
            log.error("unexpected %s: %s", type(e).__name__, e)
            log.debug("traceback", exc_info=True)
            return 1


def console() -> NoReturn:
    """The console script (and `python -m maildaemon`): `main()`, its output flushed, then the
    process ends without Python's teardown, which frees every object one by one: 40 ms of a
    `handoff` at 50,000 messages (issue 14). Nothing is left to do at exit: the state is committed
    and fsynced before a command returns, no atexit handler of ours exists, and the log handlers
    are flushed here. Under a profiler or a coverage tracer it exits as usual, for their reports."""
    code = main(whole_process=True)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)              # a profiler or coverage writes its report at exit: let it
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):          # the reader went away, or the stream is closed
            pass
    logging.shutdown()
    os._exit(code)


def _collect_less(command: str) -> None:
    """The cyclic garbage collector, tuned for a command that decodes a few thousand tickets and
    exits: what is loaded by now (modules, the parser) is never scanned again, and a collection
    runs every 20,000 allocations rather than 700. A command at 50,000 messages built 100,000
    objects and paid ~40 ms in collections that found almost nothing (issue 14). The daemon keeps
    Python's thresholds: it runs for months and its garbage must not pile up."""
    gc.freeze()
    if command != "run":
        gc.set_threshold(20_000, 10, 10)


def _failed(e: MaildaemonError, stderr) -> int:
    """An expected failure: its one line, its exit code. What the operator must fix in the
    configuration or the command line goes to standard error as it is; the rest is logged."""
    if isinstance(e, ConfigError):
        stderr.write(f"maildaemon: {safe(e)}\n")
    elif isinstance(e, UsageError):
        stderr.write(f"{e}\n")           # names the command already: "maildaemon rotation set: ..."
    else:
        log.error("%s", e)
    return e.exit_code


def _run(ctx: Context) -> int:
    """Run the command in its module (imported only for it), then write the metrics file after
    each pass of `sync`, `remind` and `handoff` (SPEC 11; the daemon writes it after each tick)."""
    command = ctx.args.command
    if command not in ("demo", "init"):
        _become_state_owner(ctx)
    if command in ("sync", "import", "run", "demo"):
        from maildaemon.cli import stream as group
    elif command in ("tickets", "ticket"):
        from maildaemon.cli import tickets as group
    elif command == "status":
        from maildaemon.cli import status as group
    elif command == "quarantine":
        from maildaemon.cli import quarantine as group
    elif command in ("remind", "handoff"):
        from maildaemon.cli import duty_mail as group
    elif command == "rotation":
        from maildaemon.cli import rotation as group
    elif command in ("snooze", "snoozes"):
        from maildaemon.cli import snooze as group
    elif command == "agenda":
        from maildaemon.cli import agenda as group
    elif command == "init":                       # needs no team file: ctx.team is never read
        from maildaemon.cli import init_team as group
    else:
        from maildaemon.cli import monitoring     # `metrics`
        return monitoring.metrics(ctx)
    code = group.run(ctx)
    if command in ("sync", "remind", "handoff") and getattr(ctx.settings, "metrics_file", None):
        from maildaemon.metrics_file import write_metrics_file
        write_metrics_file(ctx.settings, ctx.store, ctx.team, ctx.now)
    return code


def _become_state_owner(ctx: Context) -> None:
    """Run by root on a state folder that belongs to another user (the service's): every file
    written there is given to that user (SPEC 11, "Ownership"); a root-owned state file would stop
    the service with "Permission denied". Root keeps reading what it may (its 0600 env file)."""
    if os.geteuid() != 0:
        return
    try:
        st = os.stat(ctx.settings.state_dir)
    except OSError:
        return                                   # no state yet: whoever creates it owns it
    if st.st_uid == 0:
        return
    from maildaemon.atomic import adopt_owner
    adopt_owner(ctx.settings.state_dir, st.st_uid, st.st_gid)
    log.debug("files made in %s are given to uid %d, its owner", ctx.settings.state_dir, st.st_uid)


def _record(ctx: Context, line: str) -> None:
    """Keep a failure to write the state folder where `status` shows it (best effort)."""
    try:
        now = ctx.now
    except Exception:
        now = datetime.now(timezone.utc)
    try:
        Store.from_settings(ctx.settings).record_error(line, now)
    except Exception:
        pass


def _quiet_stdout(stdout) -> None:
    """The reader closed the pipe: send what is still buffered to /dev/null, so that flushing at
    exit does not print "Exception ignored ... BrokenPipeError" after us."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass
