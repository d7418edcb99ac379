"""`remind` and `handoff`: the mails of the duty due now, printed with --dry-run, else persisted in
the outbox and sent (or written to STATE_DIR/outbox/ without SMTP). What is due is dispatch.py's
decision; this module prints it. Text from mail goes through `terminal.safe`."""
from __future__ import annotations

import logging

from maildaemon.terminal import safe

log = logging.getLogger("maildaemon")


def run(ctx) -> int:
    """`remind` / `handoff`: print what is due; without --dry-run persist it and send it."""
    from maildaemon import dispatch
    what = ctx.args.command
    team, now = ctx.team, ctx.now
    env = dispatch.templates(ctx.settings.templates_dir, ctx.store.dir / "templates.cache")
    missing = dispatch.nobody_on_duty(ctx.store, team, now)
    if missing:
        # SPEC 9: no mail signed by nobody; nothing is decided, so nothing is lost: what is due
        # goes out at the first reminder time after a rotation is stored
        log.error("%s: no mail is sent (store a rotation: `maildaemon rotation load FILE`)", missing)
        return 1
    mails = dispatch.due_mails(ctx.store, team, now, env, reminders=what == "remind", handoff=what == "handoff",
                           mime=not ctx.args.dry_run)
    if ctx.args.dry_run:
        for m in mails:
            ctx.out(f"would send {safe(dispatch.describe(m))}\n")
            ctx.out("    " + safe(dispatch.text_part(m).rstrip(), multiline=True).replace("\n", "\n    ") + "\n")
        ctx.out(f"{len(mails)} mail(s) due; dry run: nothing sent or stored")
        return 0
    new, counts = dispatch.commit(ctx.store, ctx.settings, mails, now)
    where = "sent" if ctx.settings.smtp else f"written to {ctx.settings.state_dir / 'outbox'}/"
    for m in new:
        ctx.out(safe(dispatch.describe(m)))
    ctx.out(f"{len(new)} mail(s) queued; sent={counts['sent']} retry={counts['retry']} failed={counts['failed']}"
            + ("" if ctx.settings.smtp else f" (no SMTP configured: {where})"))
    return 1 if counts["failed"] else 0
