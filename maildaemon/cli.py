"""The command line: parse arguments, read configuration and the clock once, run one command.

`main(argv, environ, stdout, stderr) -> int` takes its streams so tests drive it in-process.
Exit status: 0 success; 2 bad configuration or usage (one line naming the setting and the fix,
no traceback); 1 a runtime failure that was logged, in one line (an OSError as the file and the
reason; a failure to write the state folder is also kept for `status`, `Store.record_error`);
141 (128 + SIGPIPE, what a shell reports for a program killed by SIGPIPE) when whoever reads the
output stopped reading, as in `maildaemon rotation show | head -1`: nothing is printed then.
This module and `context.py` are the only ones that read the clock (`--now` / `MAILDAEMON_NOW` / the system time) and
passes `now` down. Every log line goes through `terminal.safe`: a subject in a message cannot
drive the terminal or forge a second log line.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime, timezone

from maildaemon import __version__
from maildaemon.atomic import StateIOError, describe
from maildaemon.config import ConfigError
from maildaemon.context import Context, UsageError
from maildaemon.source import SourceError
from maildaemon.store import Store, StoreError
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

    def add(name, help_):
        return sub.add_parser(name, parents=[common], help=help_, description=help_)

    add("demo", "run the job on the bundled example stream and team, no servers needed")
    add("sync", "one pass over the source: fetch new messages, apply, print counts")
    imp = add("import", "backfill from an mbox file or a Maildir (a list archive)")
    imp.add_argument("path", metavar="PATH", help="an mbox file or a Maildir folder")
    t = add("tickets", "list open tickets")
    t.add_argument("--json", action="store_true", help="print JSON (the schema of the README)")
    t.add_argument("--all", action="store_true", help="include resolved and closed tickets")
    t.add_argument("--owner", metavar="EMAIL", help="only tickets owned by EMAIL")
    one = add("ticket", "one ticket's state and full history")
    one.add_argument("key", metavar="KEY", help='e.g. goc:41234 or rt:1234')
    one.add_argument("--json", action="store_true", help="print JSON (the ticket and its history)")
    st = add("status", "health: last sync, counts, quarantine, last error")
    st.add_argument("--json", action="store_true", help="print JSON")
    add("check", "validate configuration and connect to IMAP and SMTP")
    add("run", "the daemon: IMAP IDLE (poll fallback), scheduled reminders and handoff, systemd notify")
    r = add("remind", "send the reminders due now")
    r.add_argument("--dry-run", action="store_true", help="print them; send and store nothing")
    h = add("handoff", "send the handoff summary for the duty week that ends at --now")
    h.add_argument("--dry-run", action="store_true", help="print it; send and store nothing")
    q = add("quarantine", "mails that were not accepted, with the reason")
    qsub = q.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ql = qsub.add_parser("list", parents=[common], help="list quarantined mails (default)")
    ql.add_argument("--json", action="store_true", help="print JSON")
    qs = qsub.add_parser("show", parents=[common], help="show one quarantined mail")
    qs.add_argument("id", metavar="ID", help="an entry id from `quarantine list`")
    qsub.add_parser("retry", parents=[common], help="classify every quarantined mail again")
    add("metrics", "print the Prometheus text metrics (what MAILDAEMON_METRICS_FILE holds)")
    from maildaemon import snooze_cli
    snooze_cli.add_parsers(add)
    from maildaemon import agenda_cli             # `agenda` (SPEC 10)
    agenda_cli.add_parser(add)
    from maildaemon import propose_cli            # `init` (SPEC 11, "Starting a team")
    propose_cli.add_parser(sub, common)
    from maildaemon import rotation_cli
    rotation_cli.add_parser(sub, common)
    return p


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None, stdout=None, stderr=None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = dict(os.environ) if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        stderr.write(f"{e}\n")
        return 2
    except SystemExit as e:           # --help, --version
        return int(e.code or 0)
    handler = None
    ctx = None
    root_level = logging.getLogger().level
    maildaemon_level = log.level
    if args.command == "check":               # every problem in one run, so not through Context
        from maildaemon import operations
        handler = _setup_logging("WARNING", stderr)
        try:
            code = operations.check(args, environ, stdout, stderr)
            stdout.flush()
            return code
        except BrokenPipeError:
            _quiet_stdout(stdout)
            return EXIT_PIPE
        finally:
            logging.getLogger().removeHandler(handler)
            logging.getLogger().setLevel(root_level)
            log.setLevel(maildaemon_level)
    try:
        ctx = Context(args, environ, stdout, stderr)
        handler = _setup_logging(ctx.settings.log_level, stderr, daemon=args.command == "run")
        if args.command not in ("demo", "init"):
            _become_state_owner(ctx)
        if args.command == "metrics":
            from maildaemon import operations
            code = operations.metrics(ctx)
        elif args.command in ("snooze", "snoozes"):
            from maildaemon import snooze_cli
            code = snooze_cli.run(ctx)
        elif args.command == "agenda":
            from maildaemon import agenda_cli
            code = agenda_cli.run(ctx)
        elif args.command == "init":        # needs no team file: ctx.team is never read
            from maildaemon import propose_cli
            code = propose_cli.run(ctx)
        else:
            from maildaemon import commands
            code = commands.run(ctx)
        if args.command in ("sync", "remind", "handoff") and getattr(ctx.settings, "metrics_file", None):
            from maildaemon import operations     # after each pass (SPEC 11); the daemon after each tick
            operations.write_metrics_file(ctx.settings, ctx.store, ctx.team, ctx.now)
        stdout.flush()            # inside the try: a reader gone away is handled here, not at exit
        return code
    except ConfigError as e:
        stderr.write(f"maildaemon: {safe(e)}\n")
        return 2
    except UsageError as e:
        stderr.write(f"{e}\n")
        return 2
    except (StoreError, SourceError) as e:
        log.error("%s", e)
        return 1
    except BrokenPipeError:
        _quiet_stdout(stdout)
        return EXIT_PIPE
    except OSError as e:          # the disk is full, a file is unreadable...: one line, no traceback
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
    finally:   # leave logging as we found it (tests and embedders call main() in-process)
        if handler:
            logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
        log.setLevel(maildaemon_level)


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


def _setup_logging(level: str, stream, daemon: bool = False) -> logging.Handler:
    """One line per record; journald gets its priority prefix instead of a timestamp, the daemon
    elsewhere (a log file) a timestamp. DEBUG is maildaemon's own: libraries stay at WARNING, so
    imapclient's wire traffic (passwords, whole messages) and mail-parser's dumps never appear."""
    journald = _under_journald(stream)
    handler = logging.StreamHandler(stream)
    if journald:
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
