"""`maildaemon rotation ...`: the duty rotation's commands (SPEC 2 and 5).

The decisions live in rotation/, workdays.py and calendar_ics.py (pure); this module reads the
store, the file or standard input, writes the store in one locked transaction, and prints.
`generate` only prints, so `generate | rotation load -` is the way a plan becomes the rotation and
no command ever overwrites its own input (the flaw of the tool this replaces).

Exit status: 0 done; 2 a bad argument or input line (nothing stored); 1 a runtime failure, e.g.
a week nobody can take, or nobody stored for the date `who` was asked about.
"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from maildaemon import rotation, workdays
from maildaemon.cli.context import UsageError, number_of, parse_now
from maildaemon.errors import ConfigError
from maildaemon.people import member_for

log = logging.getLogger("maildaemon")
HINT = "maildaemon rotation generate --weeks 8 | maildaemon rotation load -"


def add_parser(sub, common) -> None:
    """Add `rotation` and its actions to the top-level subparsers `sub` (same parser class)."""
    helps = "the duty rotation: generate, load, show, who, set, swap, check, ics, announce"
    p = sub.add_parser("rotation", parents=[common], help=helps, description=helps)
    acts = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    acts.required = True

    def add(name, help_):
        return acts.add_parser(name, parents=[common], help=help_, description=help_)

    g = add("generate", "print the next N weeks of duty, continuing fairly from the stored rotation (stores nothing)")
    g.add_argument("--weeks", type=number_of("weeks", 520), required=True, metavar="N", help="how many weeks (1-520)")
    g.add_argument("--start", type=_date, metavar="DATE", help="plan from the week containing DATE "
                   "(default: after the last stored week, and not before the current week)")
    ld = add("load", "store weeks from FILE (- for standard input): the format generate prints, "
             "or 'YYYY-MM-DD: Name' lines of the old calendar tool")
    ld.add_argument("file", metavar="FILE", help="a rotation file (README, docs/rotation.md); - reads standard input")
    add("show", "list the stored rotation, then each member's weeks over the last 52")
    w = add("who", "who is on duty at a date (default: now)")
    w.add_argument("--date", metavar="DATE", help="ISO 8601 date or date-time (team's zone if none given)")
    s = add("set", "give a week to a member (email, name or alias; UNASSIGNED clears the week)")
    s.add_argument("week", type=_date, metavar="WEEK", help="a day of the duty week (YYYY-MM-DD)")
    s.add_argument("member", metavar="EMAIL", help="the member on duty that week")
    sw = add("swap", "exchange the owners of two stored weeks")
    sw.add_argument("first", type=_date, metavar="WEEK1", help="a day of one week")
    sw.add_argument("second", type=_date, metavar="WEEK2", help="a day of the other week")
    add("check", "stored weeks whose person is away on a duty day, each with the fairest swap "
        "(exit 1 while there are any)")
    i = add("ics", "the stored rotation and outages as an iCalendar (RFC 5545) file")
    i.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    a = add("announce", "preview the week's duty announcement (This week / Next week)")
    a.add_argument("--date", metavar="DATE", help="the day to announce for (default: now)")
    a.add_argument("--html", action="store_true", help="print the HTML part instead of the text")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; write YYYY-MM-DD") from None


def run(ctx) -> int:
    workdays.check_holidays(ctx.team)      # an unsupported country: exit 2 before anything is done
    return ACTIONS[ctx.args.action](ctx)


def _usage(action: str, message: str) -> UsageError:
    return UsageError(f"maildaemon rotation {action}: {message}")


def _day(ctx, value: str | None, option: str) -> date:
    """`--date` as the team's calendar date; `now` when not given."""
    if not value:
        return workdays.local_date(ctx.now, ctx.team)
    try:
        return workdays.local_date(parse_now(value, workdays.zone(ctx.team)), ctx.team)
    except ConfigError:
        raise _usage(ctx.args.action, f"{option}: {value!r} is not an ISO 8601 date or date-time") from None


def generate(ctx) -> int:
    team = ctx.team
    ledger = _ledger(ctx)
    current = workdays.week_start(ctx.now, team)
    if ctx.args.start:
        start = workdays.week_start(ctx.args.start, team)
    elif ledger:
        start = max(workdays.first_week_start_on_or_after(ledger[-1].week + rotation.WEEK, team), current)
    else:
        start = current
    plan = rotation.generate(team, ledger, start, ctx.args.weeks)
    ctx.out("\n".join(a.line() for a in plan))
    nobody = [a.week.isoformat() for a in plan if not a.email]
    if nobody:
        log.error("%d week%s nobody can take (%s): %s; shorten an outage, add a member, or set the week "
                  "by hand after loading", len(nobody), "" if len(nobody) == 1 else "s", rotation.UNASSIGNED,
                  ", ".join(nobody))
        return 1
    return 0


def load(ctx) -> int:
    team = ctx.team
    name = ctx.args.file
    try:
        if name == "-":
            stdin = getattr(ctx, "stdin", None) or sys.stdin
            text = stdin.read()
        else:
            with open(name, encoding="utf-8-sig") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise _usage("load", f"cannot read {name} ({getattr(e, 'strerror', None) or e})") from None
    parsed = rotation.parse(text, team)
    for line in parsed.errors:
        ctx.stderr.write(line + "\n")
    if parsed.errors:
        n = len(parsed.errors)
        ctx.stderr.write(f"maildaemon rotation load: {n} bad line{'' if n == 1 else 's'} in "
                         f"{'standard input' if name == '-' else name}; nothing stored\n")
        return 2
    for line in parsed.warnings:
        ctx.stderr.write(line + "\n")
    _, changed = _store(ctx, parsed.assignments, "load")
    weeks = sorted(a.week for a in parsed.assignments)
    span = f": {weeks[0].isoformat()} to {weeks[-1].isoformat()}" if weeks else ""
    ctx.out(f"loaded {len(weeks)} week{'' if len(weeks) == 1 else 's'}{span} ({changed} changed)")
    return 0


def _store(ctx, changes, action: str) -> tuple[list[rotation.Assignment], int]:
    """Store changes in one locked transaction, with a log entry per changed week. `changes` is a
    list, or a function of the stored ledger that returns one (read under the lock, as `swap`
    needs). Returns the changes and how many weeks changed."""
    with ctx.store.transaction() as txn:
        if callable(changes):
            changes = changes(rotation.from_weeks(txn.rotation()))
        changed = txn.change_rotation(changes, action, ctx.now)
        if changed:
            txn.commit()
    return changes, changed


def show(ctx) -> int:
    team = ctx.team
    ledger = _ledger(ctx)
    for a in ledger:
        ctx.out(rotation.Assignment(a.week, a.email, a.name, rotation.week_notes(a, team)).line())
    if not ledger:
        ctx.out(f"# no weeks stored yet; to start: {HINT}")
    current = workdays.week_start(ctx.now, team)
    ctx.out("")
    ctx.out(f"# fairness: duty weeks in the 52 weeks {(current - rotation.WINDOW + rotation.WEEK).isoformat()}"
            f"..{current.isoformat()}")
    for f in rotation.fairness(team, ledger, current):
        ctx.out(f.line())
    return 0


def who(ctx) -> int:
    team = ctx.team
    day = _day(ctx, ctx.args.date, "--date")
    ledger = _ledger(ctx)
    if not ledger:
        log.error("no rotation is stored; store one first: %s", HINT)
        return 1
    a = rotation.who_on(ledger, day)
    if a is None:
        log.error("nobody is on duty on %s: the week of %s is not in the stored rotation (%s to %s); "
                  "add it with `maildaemon rotation set WEEK EMAIL` or load more weeks", day.isoformat(),
                  workdays.week_start(day, team).isoformat(), ledger[0].week.isoformat(), ledger[-1].week.isoformat())
        return 1
    ctx.out(a.line())
    return 0


def set_(ctx) -> int:
    team = ctx.team
    week = _week_arg(ctx, ctx.args.week)
    who_ = ctx.args.member.strip()
    if who_.upper() == rotation.UNASSIGNED:
        change = rotation.Assignment(week, None)
    else:
        m = team.member(who_) or member_for(team, who_)
        if m is None:
            raise _usage("set", f"unknown member {who_!r}; use a member's email, name or alias from the team file")
        change = rotation.Assignment(week, m.email, m.name)
    _warn(ctx, rotation.assignment_warnings(change, team))
    _store(ctx, [change], "set")
    ctx.out(change.line())
    return 0


def swap(ctx) -> int:
    team = ctx.team
    first, second = _week_arg(ctx, ctx.args.first), _week_arg(ctx, ctx.args.second)
    if first == second:
        raise _usage("swap", f"WEEK1 and WEEK2 are the same week ({first.isoformat()}); name two weeks")

    def exchange(ledger):
        try:
            return rotation.swap(ledger, first, second)
        except KeyError as e:
            raise _usage("swap", f"week {e.args[0].isoformat()} is not stored; "
                                 "see `maildaemon rotation show`, or use `rotation set`") from None

    changes, _ = _store(ctx, exchange, "swap")
    for a in changes:
        _warn(ctx, rotation.assignment_warnings(a, team))
    ctx.out("\n".join(a.line() for a in changes))
    return 0


def check(ctx) -> int:
    """SPEC 10: one `conflict ...` line per stored week (from the current one on) whose person is
    away on one of its duty days, with the fairest swap; exit 1 while there are any, else one
    `ok` line and 0."""
    team = ctx.team
    ledger = _ledger(ctx)
    today = workdays.local_date(ctx.now, team)
    lines = rotation.conflict_lines(ledger, team, today)
    if not lines:
        ctx.out(f"ok: no stored week from {workdays.week_start(today, team).isoformat()} on has its person away")
        return 0
    ctx.out("\n".join(lines))
    return 1


def _ledger(ctx) -> list[rotation.Assignment]:
    return rotation.from_weeks(ctx.store.view().rotation())


def duty_weeks(ctx):
    """The ledger, and (week start, member or None) for the week of `--now` and the next
    (`status`, `check`)."""
    team = ctx.team
    ledger = _ledger(ctx)
    today = workdays.local_date(ctx.now, team)
    return ledger, [(workdays.week_start(day, team), rotation.on_duty(ledger, team, day))
                    for day in (today, today + workdays.WEEK)]


def _week_arg(ctx, week: date) -> date:
    problem = rotation.week_start_problem(week, ctx.team)
    if problem:
        raise _usage(ctx.args.action, problem)
    return week


def _warn(ctx, warnings) -> None:
    for w in warnings:
        ctx.stderr.write(f"maildaemon: warning: {w}\n")


def ics(ctx) -> int:
    team = ctx.team
    stored = ctx.store.view().rotation()
    from maildaemon import calendar_ics            # icalendar: only for `rotation ics`
    data = calendar_ics.calendar(team, stored, ctx.now)
    if not ctx.args.out:
        buffer = getattr(ctx.stdout, "buffer", None)
        if buffer is not None:
            ctx.stdout.flush()
            buffer.write(data)
            buffer.flush()
        else:
            ctx.stdout.write(data.decode("utf-8"))
        return 0
    from pathlib import Path
    from maildaemon.atomic import write_atomic
    try:
        write_atomic(Path(ctx.args.out), data)
    except OSError as e:
        log.error("cannot write %s: %s", ctx.args.out, e.strerror or e)
        return 1
    weeks = len(stored)
    ctx.out(f"wrote {weeks} duty week{'' if weeks == 1 else 's'} and {len(team.outages)} "
            f"outage{'' if len(team.outages) == 1 else 's'} to {ctx.args.out}")
    return 0


def render_announcement(team, stored, day: date, now, templates_dir=None) -> tuple[str, str, str]:
    """The duty announcement for `day`: (subject, text, html) from announcement.*.j2, with the
    context render.compose gives every mail (team, duty, signer, signature, now, kind), so the
    preview is the text the scheduler sends at `policy.announce_time`."""
    data = rotation.announcement(team, rotation.from_weeks(stored), day)
    duty = team.member(data["this_week"]["email"])
    context = dict(data, team=team, duty=duty, signer=duty.name if duty else team.name,
                   signature=duty.signature if duty else None, now=now, kind="announcement")
    from maildaemon.render import environment, render_checked      # Jinja: only for the announcement
    env = environment(templates_dir)
    return tuple(render_checked(env, f"announcement.{part}.j2", **context) for part in ("subject", "txt", "html"))


def announce(ctx) -> int:
    team = ctx.team
    day = _day(ctx, ctx.args.date, "--date")
    subject, text, html = render_announcement(team, ctx.store.view().rotation(), day, ctx.now,
                                              ctx.settings.templates_dir)
    if ctx.args.html:
        ctx.stdout.write(html)
    else:
        ctx.out("Subject: " + " ".join(subject.split()))
        ctx.out("")
        ctx.stdout.write(text)
    return 0


ACTIONS = {"generate": generate, "load": load, "show": show, "who": who, "set": set_, "swap": swap,
           "check": check, "ics": ics, "announce": announce}
