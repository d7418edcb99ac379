"""Acting for the person on duty: policy -> render -> outbox -> send, in that order.

The imperative shell around the pure `policy` and `handoff`: read a snapshot of the state, decide
what is due at `now`, render it, persist it in the outbox (skipping what the outbox already has:
that is the no-duplicates rule), then hand the queue to SMTP, or leave the .eml files in
`STATE_DIR/outbox/` when no SMTP server is configured. `remind`, `handoff`, `demo` and the daemon
all come through `plan` and `commit`.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from maildaemon import handoff as handoff_policy
from maildaemon import outbox, ownmail, policy, rotation
from maildaemon.config import Settings
from maildaemon.model import Outgoing, Team
from jinja2 import Environment

from maildaemon.config import ConfigError
from maildaemon.render import TemplateProblem, check_templates, compose, environment
from maildaemon.store import Store

log = logging.getLogger("maildaemon.duty")


def templates(overrides: Path | None) -> Environment:
    """The Jinja environment, every template compiled once; a broken one is a configuration error
    naming the file and line (exit 2 for a command, start-up refused for the daemon)."""
    env = environment(overrides)
    try:
        check_templates(env)
    except TemplateProblem as e:
        raise ConfigError("MAILDAEMON_TEMPLATES_DIR", f"template {e}", "fix the template or remove the override") \
            from None
    return env


def plan(store: Store, team: Team, now: datetime, env: Environment, reminders: bool = True,
         handoff: bool = False) -> list[Outgoing]:
    """The mails due at `now` that the outbox does not hold yet: the reminders (announcement
    included) and/or the handoff of the week containing `now`. One read of the state."""
    view = store.view()
    tickets = view.tickets()
    ledger = rotation.from_docs(view.table("rotation"))
    known = view.records(outbox.TABLE)
    dues = policy.due_reminders(tickets, ledger, team, list(known.values()), now) if reminders else []
    if handoff:
        dues.append(handoff_policy.handoff(tickets, ledger, team, now))
    store.ensure()
    key = ownmail.load_key(store.dir)        # keyed Message-IDs: only our own mail is recognised as ours
    mails = [compose(env, d, team, now, key) for d in dues]
    return [m for m in mails if m.message_id not in known]


def persist(store: Store, settings: Settings, mails: list[Outgoing], now: datetime) -> list[Outgoing]:
    """Write `mails` to the outbox under the lock (local files only, no network). Returns the new ones."""
    smtp = settings.smtp is not None
    new = []
    with store.transaction() as txn:
        for m in mails:
            if outbox.enqueue(txn, store.dir, m, now, smtp):
                new.append(m)
        txn.commit()
    return new


def commit(store: Store, settings: Settings, mails: list[Outgoing], now: datetime) -> tuple[list[Outgoing], dict]:
    """Persist `mails` in the outbox, then send the queue. Returns what was new and the send counts."""
    new = persist(store, settings, mails, now)
    counts = outbox.deliver(store, settings.smtp, now) if settings.smtp else {"sent": 0, "retry": 0, "failed": 0}
    return new, counts


def describe(m: Outgoing) -> str:
    """One line a person reads: kind, recipients, subject."""
    return f"{m.kind:<11} to {', '.join(m.recipients) or '(nobody)'}: {m.subject}"


def text_part(m: Outgoing) -> str:
    from email import message_from_bytes
    from email.policy import default
    msg = message_from_bytes(m.raw, policy=default)
    body = msg.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""
