"""One function per subcommand: wire the stages together for that command and print the result.

Each returns its exit status. Configuration errors propagate as `ConfigError` (exit 2, handled by
cli.main); runtime failures are logged and return 1. Text that may come from mail (titles, names,
subjects, senders, reasons, quarantined mail) is printed through `terminal.safe`, JSON through
`terminal.dumps`: nothing a mail holds can drive the user's terminal.
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from maildaemon import outbox, views
from maildaemon.config import ConfigError, require_source
from maildaemon.context import UsageError
from maildaemon.policy import next_action
from maildaemon.source.live import live_source
from maildaemon.terminal import dumps, safe

log = logging.getLogger("maildaemon")


def _ingest():
    """The ingest stage, imported when a command reads mail: the parsers pull in mail-parser, lxml
    and the rest, which `tickets`, `status` and `remind` do not need (60 ms of every start)."""
    from maildaemon.ingest import ingest
    return ingest


def run(ctx) -> int:
    name = ctx.args.command
    if name == "rotation":
        from maildaemon import rotation_cli
        return rotation_cli.run(ctx)
    if name == "quarantine":
        return {"list": quarantine_list, "show": quarantine_show, "retry": quarantine_retry,
                None: quarantine_list}[ctx.args.action](ctx)
    return COMMANDS[name](ctx)


def sync(ctx) -> int:
    from maildaemon.source import SourceError
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
    from maildaemon.source import SourceError
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


def tickets(ctx) -> int:
    team, now = ctx.team, ctx.now
    view = ctx.store.view()
    owner = ctx.args.owner
    if owner and "@" not in owner:          # a name or an alias: the member's address
        from maildaemon.people import member_for
        member = member_for(team, owner)
        if member is None:                  # a first name, when only one member has it
            firsts = [m for m in team.members if m.name.split()[:1] == [owner.strip()] or
                      m.name.split()[0].lower() == owner.strip().lower()]
            member = firsts[0] if len(firsts) == 1 else None
        if member is None:
            raise UsageError(f"maildaemon tickets: --owner {safe(owner)} is no member of the team file; "
                             f"give a member's email, name or alias")
        owner = member.email
    chosen = views.select(view.tickets(include_done=ctx.args.all), ctx.args.all, owner)
    if ctx.args.json:
        from maildaemon import suggest
        # learnt from the open and recent tickets (the last quarter of the stream): recent owners
        # know today's problems, and the years behind stay unread (issue 14)
        suggested = suggest.suggested_owners(view.current(), team, now)
        ctx.out(dumps([dict(views.ticket_json(t, team, now), **({"suggested_owners": suggested.get(t.key, [])}
                                                              if suggest.wants_suggestion(t) else {}))
                       for t in chosen], indent=2))
    else:
        ctx.stdout.write(views.tickets_table(chosen, team))
    return 0


def ticket(ctx) -> int:
    team, now = ctx.team, ctx.now
    view = ctx.store.view()
    key = ctx.args.key
    t = view.find_ticket(key)
    if t is None:
        raise UsageError(f"maildaemon ticket: no ticket {safe(key)} (see `maildaemon tickets --all`)")
    data = views.ticket_json(t, team, now)
    tz = views.ZoneInfo(team.timezone)
    history = [dict(h.__dict__, at=views.local(h.at, tz)) for h in view.history(t.key)]
    if ctx.args.json:
        ctx.out(dumps(dict(data, history=history), indent=2))
    else:
        from maildaemon.render import environment, render_checked
        ctx.stdout.write(safe(render_checked(environment(ctx.settings.templates_dir), "ticket.txt.j2", t=data,
                                             history=history, next_action=next_action(t.next_action)),
                              multiline=True))
    return 0


def status(ctx) -> int:
    s = ctx.settings
    team = ctx.team
    view = ctx.store.view()
    meta = view.meta()
    meta["last_sync"] = ctx.store.last_sync(meta)
    counters = meta.get("counters", {})
    by_status = view.status_counts()
    total = sum(by_status.values())
    open_count = sum(n for status, n in by_status.items() if status not in views.DONE_STATUSES)
    quarantine = ctx.store.quarantine()
    q, q_bytes = quarantine.usage()
    q_max_mb = quarantine.max_bytes // (1024 * 1024)
    tz = ZoneInfo(team.timezone)
    last_error = ctx.store.last_error(meta)
    if last_error:
        last_error = dict(last_error, at=_local(last_error["at"], tz))
    outbox_dir = s.state_dir / "outbox"
    records = view.records(outbox.TABLE)
    from maildaemon import policy
    stream = policy.stream_meta(meta)
    silent = policy.silent_since(stream, team, ctx.now)
    last = stream.get("last_applied") or {}
    last_notification = dict(last, date=_local(last.get("date") or stream.get("last_applied_date"), tz),
                             applied_at=_local(stream["last_applied_at"], tz)) if stream.get("last_applied_at") else None
    from maildaemon.operations import duty_weeks
    _, [(week, member), _next] = duty_weeks(ctx)
    on_duty = {"week": week.isoformat(), "email": member.email if member else None,
               "name": member.name if member else None,
               "problem": None if member else f"no one on duty in the week of {week.isoformat()}"}
    data = {
        "state_dir": str(s.state_dir),
        "source": live_source(s).id if (s.maildir or s.imap) else "none configured",
        "last_sync": _local(meta.get("last_sync"), tz),
        "last_successful_sync": _local(meta.get("last_sync"), tz),
        "messages_seen": view.message_count(),
        "uids_seen": counters.get("fetched", 0),
        "fetched": counters.get("fetched", 0),
        "applied": counters.get("applied", 0),
        "late": counters.get("late", 0),
        "duplicates": counters.get("duplicate", 0),
        "ignored": counters.get("ignored", 0),
        "quarantined": q,
        "quarantine_count": q,
        "quarantine_bytes": q_bytes,
        "quarantine_max_mb": q_max_mb,
        "quarantine_days": quarantine.max_days,
        "open_tickets": open_count,
        "tickets_open": open_count,
        "tickets_total": total,
        "positions": view.positions(),
        "outbox": dict(outbox.summary(records, view.retired(outbox.TABLE)), mode="smtp" if s.smtp else "files",
                       failures=[{"id": r["id"], "kind": r["kind"], "error": r["last_error"]}
                                 for r in records.values() if r["state"] == "failed"]),
        "last_error": last_error,
        "team": team.name,
        "on_duty": on_duty,
        # SPEC 10: the stream's silence (policy.silence_after_hours business hours without a notification)
        "silent_since": _local(silent, tz),
        "last_notification": last_notification,
    }
    if ctx.args.json:
        ctx.out(dumps(data, indent=2))
        return 0
    err = data["last_error"]
    entries = f"{q} entr{'y' if q == 1 else 'ies'}"
    lines = [
        f"source:          {data['source']}",
        "on duty:         " + (f"{member.name} <{member.email}>, week of {week.isoformat()}" if member else
                               f"{on_duty['problem']}; no mail is sent until a rotation is stored"),
        f"last sync:       {data['last_sync'] or 'never'}",
        f"messages seen:   {data['messages_seen']} (applied {data['applied']}, duplicates {data['duplicates']}, "
        f"ignored {data['ignored']})",
        f"open tickets:    {open_count} of {total}",
        f"quarantine:      {entries}, {q_bytes / 1024 / 1024:.1f} MB of {q_max_mb} MB, kept {quarantine.max_days} days"
        + (" (see `maildaemon quarantine list`)" if q else ""),
        "outbox:          " + ("SMTP " + s.smtp.describe() if s.smtp else f"no SMTP configured: mail is written to {outbox_dir}/")
        + f"; queued {data['outbox']['queued']}, failed {data['outbox']['failed']}, "
        f"sent {data['outbox']['sent']}, written {data['outbox']['written']}",
        f"last error:      {err['at'] + ' ' + err['message'] if err else 'none'}",
        f"silent since:    {_silence_line(silent, last_notification, team, ctx.now)}",
    ]
    ctx.out("\n".join(safe(line) for line in lines))
    return 0


def _silence_line(silent: str | None, last: dict | None, team, now) -> str:
    """`status`'s word on the stream's silence (SPEC 10): since when, for how long, the last notification."""
    from maildaemon.policy import business_hours_since
    if last is None:
        return "not silent (no notification applied from the live stream yet)"
    seen = " ".join(x for x in (last.get("key"), f'"{last["subject"]}"' if last.get("subject") else None) if x)
    if silent:
        hours = business_hours_since(silent, now, team)
        return (f"{last['applied_at']}, {hours:g} business hour{'s' if hours != 1 else ''} without a trusted "
                "notification" + (f" (last: {seen})" if seen else ""))
    if not team.policy.silence_after_hours:
        return f"alarm off (policy.silence_after_hours = 0); last notification applied {last['applied_at']}"
    return f"not silent (last notification applied {last['applied_at']})"


def _team_zone(ctx) -> ZoneInfo | None:
    """The team's time zone for showing times; None (times as stored) if the team file is broken,
    so the quarantine can still be looked at while the configuration is being fixed."""
    try:
        return ZoneInfo(ctx.team.timezone)
    except ConfigError:
        return None


def _local(iso: str | None, tz: ZoneInfo | None) -> str | None:
    if not iso or tz is None:
        return iso
    try:
        return views.local(iso, tz)
    except (TypeError, ValueError):
        return iso


def quarantine_list(ctx) -> int:
    entries = ctx.store.quarantine().list()
    tz = _team_zone(ctx)
    if getattr(ctx.args, "json", False):
        ctx.out(dumps([dict(e.to_json(), quarantined_at=_local(e.quarantined_at, tz)) for e in entries], indent=2))
        return 0
    if not entries:
        ctx.out("quarantine is empty")
        return 0
    for e in entries:
        subject = safe(e.subject)
        subject = subject if len(subject) <= 60 else subject[:59] + "…"
        ctx.out(f"{e.id}  {_local(e.quarantined_at, tz)}  {safe(e.sender) or '-'}  {subject!r}\n"
                f"    {safe(e.reason)}")
    return 0


def quarantine_show(ctx) -> int:
    got = ctx.store.quarantine().get(ctx.args.id)
    if got is None:
        log.error("no quarantined mail %s (see `maildaemon quarantine list`)", ctx.args.id)
        return 1
    e, raw = got
    fields = [("id", e.id), ("reason", e.reason), ("subject", e.subject), ("message-id", e.message_id),
              ("sender", e.sender), ("origin", e.origin), ("quarantined", _local(e.quarantined_at, _team_zone(ctx)))]
    fields += [(k, v if isinstance(v, str) else dumps(v)) for k, v in sorted(e.extra.items())]
    ctx.out("".join(f"{k + ':':<13}{safe(v)}\n" for k, v in fields) + "\n")
    ctx.out(safe(raw.decode("utf-8", "replace"), multiline=True))
    return 0


def quarantine_retry(ctx) -> int:
    from maildaemon.ingest import retry_quarantine
    counts, left = retry_quarantine(ctx.store, ctx.team, ctx.now)
    ctx.out(f"retried: applied={counts.applied} ignored={counts.ignored} still-quarantined={left}")
    return 0


def remind(ctx) -> int:
    return _send(ctx, "remind")


def handoff(ctx) -> int:
    return _send(ctx, "handoff")


def _send(ctx, what: str) -> int:
    """`remind` / `handoff`: print what is due; without --dry-run persist it and send it."""
    from maildaemon import duty
    team, now = ctx.team, ctx.now
    env = duty.templates(ctx.settings.templates_dir, ctx.store.dir / "templates.cache")
    missing = duty.nobody_on_duty(ctx.store, team, now)
    if missing:
        # SPEC 9: no mail signed by nobody; nothing is decided, so nothing is lost: what is due
        # goes out at the first reminder time after a rotation is stored
        log.error("%s: no mail is sent (store a rotation: `maildaemon rotation load FILE`)", missing)
        return 1
    mails = duty.plan(ctx.store, team, now, env, reminders=what == "remind", handoff=what == "handoff",
                      mime=not ctx.args.dry_run)
    if ctx.args.dry_run:
        for m in mails:
            ctx.out(f"would send {safe(duty.describe(m))}\n")
            ctx.out("    " + safe(duty.text_part(m).rstrip(), multiline=True).replace("\n", "\n    ") + "\n")
        ctx.out(f"{len(mails)} mail(s) due; dry run: nothing sent or stored")
        return 0
    new, counts = duty.commit(ctx.store, ctx.settings, mails, now)
    where = "sent" if ctx.settings.smtp else f"written to {ctx.settings.state_dir / 'outbox'}/"
    for m in new:
        ctx.out(safe(duty.describe(m)))
    ctx.out(f"{len(new)} mail(s) queued; sent={counts['sent']} retry={counts['retry']} failed={counts['failed']}"
            + ("" if ctx.settings.smtp else f" (no SMTP configured: {where})"))
    return 1 if counts["failed"] else 0


def run_daemon(ctx) -> int:
    from maildaemon.daemon import Daemon
    ctx.team  # validated now: a wrong team file is exit 2 before anything starts
    return Daemon(getattr(ctx.args, "env_file", None), ctx.environ, ctx.clock()).run()


def demo(ctx) -> int:
    from maildaemon.demo import run_demo
    return run_demo(ctx)


COMMANDS = {"sync": sync, "import": import_, "tickets": tickets, "ticket": ticket, "status": status,
            "demo": demo, "remind": remind, "handoff": handoff, "run": run_daemon}
