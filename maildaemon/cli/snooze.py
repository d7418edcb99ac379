"""`snooze KEY --until DATE [--reason TEXT]`, `snooze KEY --off`, `snoozes [--json]` (SPEC 10)."""
from __future__ import annotations

from datetime import date

from maildaemon.cli.context import UsageError
from maildaemon.errors import ConfigError
from maildaemon.model import DONE_STATUSES
from maildaemon.terminal import dumps, safe


def add_parsers(add) -> None:
    s = add("snooze", "silence one ticket's reminders until a date (or --off)")
    s.add_argument("key", metavar="KEY", help="e.g. goc:41234, or the bare id when it is unique")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument("--until", metavar="DATE", help="the last day silenced (YYYY-MM-DD, team time)")
    when.add_argument("--off", action="store_true", help="end the snooze now")
    s.add_argument("--reason", metavar="TEXT", default="", help="why, for the handoff and `snoozes`")
    add("snoozes", "the tickets snoozed now", ("--json", "print JSON"))


def run(ctx) -> int:
    return snooze_(ctx) if ctx.args.command == "snooze" else snoozes(ctx)


def snooze_(ctx) -> int:
    from maildaemon import snooze, workdays     # not at import: every command builds the parser
    args, team, now = ctx.args, ctx.team, ctx.now
    ticket = ctx.store.view().find_ticket(args.key)
    if ticket is None:
        raise UsageError(f"maildaemon snooze: no ticket {safe(args.key)} (see `maildaemon tickets --all`)")
    if args.off:
        with ctx.store.transaction() as txn:
            known = txn.end_snooze(ticket.key)
            txn.commit()
        ctx.out(f"{ticket.key}: " + ("snooze ended" if known else "was not snoozed"))
        return 0
    try:
        until = date.fromisoformat(args.until)
    except ValueError:
        raise ConfigError("--until", f"{args.until!r} is not a date", "write it as YYYY-MM-DD") from None
    today = workdays.local_date(now, team)
    if until < today:
        raise ConfigError("--until", f"{until.isoformat()} is in the past (today is {today.isoformat()})",
                          "give today or a later day")
    if ticket.status in DONE_STATUSES:
        raise UsageError(f"maildaemon snooze: {ticket.key} is {ticket.status}: it gets no reminders")
    rec = snooze.record(ticket.key, until, args.reason, now)
    with ctx.store.transaction() as txn:
        txn.put_snooze(rec)
        txn.commit()
    ctx.out(safe(f"{ticket.key} snoozed until the end of {until.isoformat()} ({team.timezone})"
                 + (f": {rec.reason}" if rec.reason else "")))
    return 0


def snoozes(ctx) -> int:
    from maildaemon import snooze
    team, now = ctx.team, ctx.now
    view = ctx.store.view()
    records = view.snoozes()
    tickets = {k: view.ticket(k) for k in records}
    held = snooze.active(records, tickets, team, now)
    rows = [{"key": k, "until": r.until, "reason": r.reason, "title": tickets[k].title,
             "owner": tickets[k].owner, "status": tickets[k].status} for k, r in sorted(held.items())]
    if ctx.args.json:
        ctx.out(dumps(rows, indent=2))
        return 0
    if not rows:
        ctx.out("no tickets snoozed")
        return 0
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        ctx.out(safe(f"{r['key']:<{width}}  until {r['until']}  {r['title'][:40]}"
                     + (f"  ({r['reason']})" if r["reason"] else "")))
    return 0
