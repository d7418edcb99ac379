"""`quarantine list|show|retry`: the mails that were not accepted, with the reason, and trying
them again. Text from the mails goes through `terminal.safe`, JSON through `terminal.dumps`."""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from maildaemon.cli.presentation import local_or_stored
from maildaemon.errors import ConfigError
from maildaemon.terminal import dumps, safe

log = logging.getLogger("maildaemon")


def run(ctx) -> int:
    return {"list": quarantine_list, "show": quarantine_show, "retry": quarantine_retry,
            None: quarantine_list}[ctx.args.action](ctx)


def _team_zone(ctx) -> ZoneInfo | None:
    """The team's time zone for showing times; None (times as stored) if the team file is broken,
    so the quarantine can still be looked at while the configuration is being fixed."""
    try:
        return ZoneInfo(ctx.team.timezone)
    except ConfigError:
        return None


def quarantine_list(ctx) -> int:
    entries = ctx.store.quarantine().list()
    tz = _team_zone(ctx)
    if getattr(ctx.args, "json", False):
        ctx.out(dumps([dict(e.to_json(), quarantined_at=local_or_stored(e.quarantined_at, tz)) for e in entries],
                      indent=2))
        return 0
    if not entries:
        ctx.out("quarantine is empty")
        return 0
    for e in entries:
        subject = safe(e.subject)
        subject = subject if len(subject) <= 60 else subject[:59] + "…"
        ctx.out(f"{e.id}  {local_or_stored(e.quarantined_at, tz)}  {safe(e.sender) or '-'}  {subject!r}\n"
                f"    {safe(e.reason)}")
    return 0


def quarantine_show(ctx) -> int:
    got = ctx.store.quarantine().get(ctx.args.id)
    if got is None:
        log.error("no quarantined mail %s (see `maildaemon quarantine list`)", ctx.args.id)
        return 1
    e, raw = got
    fields = [("id", e.id), ("reason", e.reason), ("subject", e.subject), ("message-id", e.message_id),
              ("sender", e.sender), ("origin", e.origin),
              ("quarantined", local_or_stored(e.quarantined_at, _team_zone(ctx)))]
    fields += [(k, v if isinstance(v, str) else dumps(v)) for k, v in sorted(e.extra.items())]
    ctx.out("".join(f"{k + ':':<13}{safe(v)}\n" for k, v in fields) + "\n")
    ctx.out(safe(raw.decode("utf-8", "replace"), multiline=True))
    return 0


def quarantine_retry(ctx) -> int:
    from maildaemon.ingest import retry_quarantine
    counts, left = retry_quarantine(ctx.store, ctx.team, ctx.now)
    ctx.out(f"retried: applied={counts.applied} ignored={counts.ignored} still-quarantined={left}")
    return 0
