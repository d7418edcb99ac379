"""Dispatching the duty's mail: policy -> render -> outbox -> send, in that order.

The imperative shell around the pure `policy` and `handoff`: read a snapshot of the state, decide
what is due at `now`, render it, persist it in the outbox (skipping what the outbox already has:
that is the no-duplicates rule), then hand the queue to SMTP, or leave the .eml files in
`STATE_DIR/outbox/` when no SMTP server is configured. `remind`, `handoff`, `demo` and the daemon
all come through `due_mails` (the pure `plan` over the state's `Snapshot`) and `commit`.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from jinja2 import Environment

from maildaemon import brief, policy, rotation, workdays
from maildaemon import handoff as handoff_policy
from maildaemon.config import Settings
from maildaemon.errors import ConfigError
from maildaemon.model import Outgoing, Snapshot, Team
from maildaemon.render import TemplateProblem, check_templates, compose, environment, message_id
from maildaemon.store import Store

log = logging.getLogger("maildaemon.dispatch")


def templates(overrides: Path | None, cache: Path | None = None) -> Environment:
    """The Jinja environment, the team's overrides checked now; a broken one is a configuration
    error naming the file and line (exit 2 for a command, start-up refused for the daemon).
    `cache`: a folder of the state for compiled templates (render.CompiledTemplates)."""
    env = environment(overrides, cache)
    try:
        check_templates(env)
    except TemplateProblem as e:
        raise ConfigError("MAILDAEMON_TEMPLATES_DIR", f"template {e}", "fix the template or remove the override") \
            from None
    return env


def plan(snapshot: Snapshot, team: Team, now: datetime, env: Environment, key: bytes, reminders: bool = True,
         handoff: bool = False, mime: bool = True) -> list[Outgoing]:
    """The mails due at `now` that the outbox of `snapshot` does not hold yet: the reminders
    (announcement included) and/or the handoff of the week containing `now`. Pure: the state is
    the snapshot, `key` the installation's (ownmail: keyed Message-IDs).
    `mime=False`: previews for a dry run (no MIME built; `Outgoing.text` is what it says)."""
    tickets = list(snapshot.tickets)
    ledger = rotation.from_weeks(snapshot.rotation)
    known = snapshot.outbox
    if rotation.nobody_on_duty(ledger, team, workdays.local_date(now, team)):
        return []                    # no mail signed by nobody (SPEC 9): `nobody_on_duty` says why
    dues = policy.due_reminders(tickets, ledger, team, list(known.values()), now, snoozes=snapshot.snoozes,
                                briefs=brief.due_briefs, stream=snapshot.health) if reminders else []
    if handoff:
        dues.append(handoff_policy.handoff(tickets, ledger, team, now, snoozes=snapshot.snoozes))
    # the Message-ID is a function of what a mail is about: drop what the outbox holds before
    # rendering (a stale backlog was rendered again every minute, then dropped: issue 14)
    # the Date header and the templates' `now` on the team's clock (a daemon's clock is UTC)
    shown = now.astimezone(workdays.zone(team))
    new = [d for d in dues if message_id(d, team, key) not in known]
    suggest_owners(new, tickets, team, now)
    digests = [d for d in new if d.kind == "unassigned"]
    if digests:          # SPEC 10: the person on duty hears of stored weeks hit by an outage
        lines = rotation.conflict_lines(ledger, team, workdays.local_date(now, team))
        for d in digests:
            d.data["rotation_conflicts"] = lines
    return [compose(env, d, team, shown, key, mime) for d in new]


def due_mails(store: Store, team: Team, now: datetime, env: Environment, reminders: bool = True,
              handoff: bool = False, mime: bool = True) -> list[Outgoing]:
    """`plan` over the state folder: one read of the state, and its key (made on first use)."""
    snapshot = store.snapshot()
    store.ensure()
    return plan(snapshot, team, now, env, store.key(), reminders, handoff, mime)


def suggest_owners(dues: list, tickets, team: Team, now: datetime) -> None:
    """Up to two suggested members on each unassigned ticket of the digests and handoffs about to
    be sent (SPEC 10), learnt from the open and recent tickets. Only for mails that go out: the
    model is built when a digest is due, not at every tick."""
    rows = [r for d in dues for r in (d.data.get("tickets", []) if d.kind == "unassigned"
                                      else d.data.get("unassigned", []) if d.kind == "handoff" else [])]
    if not rows:
        return
    from maildaemon import suggest
    found = suggest.suggested_owners(tickets, team, now)
    for row in rows:
        picks = [dict(s, name=team.member(s["email"]).name if team.member(s["email"]) else s["email"])
                 for s in found.get(row["key"], [])]
        row["suggested"] = picks
        row["suggested_text"] = "; ".join(f"{s['name']} ({s['reason']})" for s in picks)


def nobody_on_duty(store: Store, team: Team, now: datetime) -> str | None:
    """`no one on duty in the week of <date>` while the stored rotation has no one for the week of
    `now` (then `plan` gives no mail at all), else None."""
    ledger = rotation.from_weeks(store.view().rotation())
    return rotation.nobody_on_duty(ledger, team, workdays.local_date(now, team))


def persist(store: Store, settings: Settings, mails: list[Outgoing], now: datetime) -> list[Outgoing]:
    """Write `mails` to the outbox under the lock (local files only, no network). Returns the new ones."""
    from maildaemon import outbox          # with SMTP and TLS: 8 ms a dry run does not need
    smtp = settings.smtp is not None
    new = []
    if not mails:
        return new                  # nothing due: no lock, no state read (a quiet tick costs nothing)
    with store.transaction() as txn:
        for m in mails:
            if outbox.enqueue(txn, store.dir, m, now, smtp):
                new.append(m)
        retired = outbox.retire(txn, store.dir, now)
        txn.commit()
    outbox.remove_files(store.dir, retired)
    return new


def commit(store: Store, settings: Settings, mails: list[Outgoing], now: datetime) -> tuple[list[Outgoing], dict]:
    """Persist `mails` in the outbox, then send the queue. Returns what was new and the send counts."""
    from maildaemon import outbox
    new = persist(store, settings, mails, now)
    counts = outbox.deliver(store, settings.smtp, now) if settings.smtp else {"sent": 0, "retry": 0, "failed": 0}
    return new, counts


def describe(m: Outgoing) -> str:
    """One line a person reads: kind, recipients, subject."""
    return f"{m.kind:<11} to {', '.join(m.recipients) or '(nobody)'}: {m.subject}"


def text_part(m: Outgoing) -> str:
    """The text part as rendered (compose keeps it: no need to parse the mail just built)."""
    return m.text


def agenda_snapshot(store):
    """One read of the state for the agenda, the key (read, never made here), and the ledger."""
    from maildaemon import agenda
    snapshot = store.snapshot()
    key = store.key(make=False)
    snap = agenda.Snapshot(list(snapshot.tickets), snapshot.outbox, key, snapshot.snoozes, snapshot.health)
    return snap, rotation.from_weeks(snapshot.rotation)
