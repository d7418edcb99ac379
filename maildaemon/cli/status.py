"""`status [--json]`: the health of the service: the stream, who is on duty, counts, the
quarantine, the outbox, the last error, the stream's silence (SPEC, `status`).

`gather` reads the state and returns plain data, exactly what `--json` prints; `lines` turns that
data into the text a person reads. Times are in the team's time zone.
"""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from maildaemon.cli.presentation import local_or_stored
from maildaemon.cli.rotation import duty_weeks
from maildaemon.model import DONE_STATUSES
from maildaemon.terminal import dumps, safe


def run(ctx) -> int:
    data = gather(ctx)
    if ctx.args.json:
        ctx.out(dumps(data, indent=2))
    else:
        smtp = ctx.settings.smtp
        ctx.out("\n".join(safe(line) for line in lines(data, ctx.team, ctx.now, smtp.describe() if smtp else None)))
    return 0


def gather(ctx) -> dict:
    """What `status --json` prints: the state's health at `ctx.now`, as plain data."""
    from maildaemon import outbox, policy
    from maildaemon.source.live import live_source
    s, team = ctx.settings, ctx.team
    view = ctx.store.view()
    health = ctx.store.health()
    counters = health.counters
    by_status = view.status_counts()
    open_count = sum(n for status, n in by_status.items() if status not in DONE_STATUSES)
    quarantine = ctx.store.quarantine()
    q, q_bytes = quarantine.usage()
    tz = ZoneInfo(team.timezone)
    last_error, send_error = ({"at": local_or_stored(e.at, tz), "message": e.message} if e else None
                              for e in (health.last_error, health.send_error))
    records = view.outbox()
    last = health.last_applied or {}
    last_notification = dict(last, date=local_or_stored(last.get("date") or health.last_applied_date, tz),
                             applied_at=local_or_stored(health.last_applied_at, tz)) if health.last_applied_at else None
    _, [(week, member), _next] = duty_weeks(ctx)
    return {
        "state_dir": str(s.state_dir),
        "source": live_source(s).id if (s.maildir or s.imap) else "none configured",
        "last_sync": local_or_stored(health.last_sync, tz),
        "last_successful_sync": local_or_stored(health.last_sync, tz),
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
        "quarantine_max_mb": quarantine.max_bytes // (1024 * 1024),
        "quarantine_days": quarantine.max_days,
        "open_tickets": open_count,
        "tickets_open": open_count,
        "tickets_total": sum(by_status.values()),
        "positions": view.positions(),
        "outbox": dict(outbox.summary(records, view.outbox_retired()), mode="smtp" if s.smtp else "files",
                       failures=[{"id": r.id, "kind": r.kind, "error": r.last_error}
                                 for r in records.values() if r.state == "failed"],
                       send_error=send_error),         # the SMTP server could not be reached (until a mail goes)
        "last_error": last_error,
        "team": team.name,
        "on_duty": {"week": week.isoformat(), "email": member.email if member else None,
                    "name": member.name if member else None,
                    "problem": None if member else f"no one on duty in the week of {week.isoformat()}"},
        # SPEC 10: the stream's silence (policy.silence_after_hours business hours without a notification)
        "silent_since": local_or_stored(policy.silent_since(health, team, ctx.now), tz),
        "last_notification": last_notification,
    }


def lines(data: dict, team, now, smtp: str | None) -> list[str]:
    """The text of `status`, one line per subject, from `gather`'s data; `smtp` is the server
    mail is sent to as `SmtpSettings.describe` gives it, None when mail is written to files."""
    duty, q, sent, err = data["on_duty"], data["quarantine_count"], data["outbox"], data["last_error"]
    return [
        f"source:          {data['source']}",
        "on duty:         " + (f"{duty['name']} <{duty['email']}>, week of {duty['week']}" if duty["email"] else
                               f"{duty['problem']}; no mail is sent until a rotation is stored"),
        f"last sync:       {data['last_sync'] or 'never'}",
        f"messages seen:   {data['messages_seen']} (applied {data['applied']}, duplicates {data['duplicates']}, "
        f"ignored {data['ignored']})",
        f"open tickets:    {data['open_tickets']} of {data['tickets_total']}",
        f"quarantine:      {q} entr{'y' if q == 1 else 'ies'}, {data['quarantine_bytes'] / 1024 / 1024:.1f} MB of "
        f"{data['quarantine_max_mb']} MB, kept {data['quarantine_days']} days"
        + (" (see `maildaemon quarantine list`)" if q else ""),
        "outbox:          " + (f"SMTP {smtp}" if smtp else
                               f"no SMTP configured: mail is written to {Path(data['state_dir']) / 'outbox'}/")
        + f"; queued {sent['queued']}, failed {sent['failed']}, sent {sent['sent']}, written {sent['written']}",
        *_failures(sent["failures"]),
        *([f"send error:      {sent['send_error']['at']} {sent['send_error']['message']} (queued mail waits for the "
           "server)"] if sent["send_error"] else []),
        f"last error:      {err['at'] + ' ' + err['message'] if err else 'none'}",
        f"silent since:    {_silence(data['silent_since'], data['last_notification'], team, now)}",
    ]


FAILURES_SHOWN = 5


def _failures(failures: list[dict]) -> list[str]:
    """One line per failed mail with the server's reason (SPEC 9: "shown by status"), the first few."""
    out = [f"failed mail:     {f['kind']} {f['id']}: {f['error'] or 'no reason recorded'}"
           for f in failures[:FAILURES_SHOWN]]
    if len(failures) > FAILURES_SHOWN:
        out.append(f"                 and {len(failures) - FAILURES_SHOWN} more (see `maildaemon status --json`)")
    return out


def _silence(silent: str | None, last: dict | None, team, now) -> str:
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
