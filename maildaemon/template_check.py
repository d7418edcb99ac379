"""`check`'s look at a team's template overrides: each compiles, and each renders with real data.

Compiling is not enough: `{{ ticket.nosuch.attr }}` compiles and fails at 09:30 on Monday. So the
overridden kinds are rendered once, with StrictUndefined, from sample mails made by the very
policy the daemon runs, on the bundled demo stream and team (the demo's duty week, plus the
reminders its tickets would get waiting on the user or with their owner away).
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import TemplateError

from maildaemon.render import KINDS, compose, environment, where_failed


def problems(overrides: Path | None) -> tuple[list[str], int]:
    """(one line per broken override, how many override files were looked at)."""
    if overrides is None or not Path(overrides).is_dir():
        return [], 0
    names = sorted(p.name for p in Path(overrides).iterdir() if p.name.endswith(".j2"))
    env = environment(overrides)
    out = []
    for name in names:
        try:
            env.get_template(name)
        except TemplateError as e:
            out.append(f"{where_failed(e, name)}: {getattr(e, 'message', None) or e}")
    bad = {line.split(" ", 1)[0].rstrip(":") for line in out}
    kinds = sorted({n.split(".", 1)[0] for n in names} & set(KINDS))
    if any(n.startswith("_") for n in names):      # a shared part: every kind uses it
        kinds = list(KINDS)
    kinds = [k for k in kinds if not any(n.startswith(k + ".") for n in bad) and not any(n.startswith("_") for n in bad)]
    if kinds:
        samples, team = sample_dues()
        for kind in kinds:
            due = samples.get(kind)
            if due is None:
                continue
            try:
                compose(env, due[0], team, due[1], mime=True)
            except (TemplateError, TypeError, ValueError, AttributeError, KeyError) as e:
                out.append(f"{where_failed(e, kind + ' templates')}: {type(e).__name__}: {e}")
    return out, len(names)


def sample_dues() -> tuple[dict, object]:
    """kind -> (Due, now): the first mail of each kind the policy gives on the demo stream."""
    import mailbox

    from maildaemon import rotation
    from maildaemon.config import load_team
    from maildaemon.demo import bundled
    from maildaemon.parse.mail import read_mail

    team = load_team(bundled("team.toml"))
    mails = [(read_mail(raw).date, raw) for raw in (m.as_bytes() for m in mailbox.mbox(str(bundled("stream.mbox"))))]
    ledger = rotation.parse(bundled("rotation.txt").read_text(), team).assignments
    found: dict = {}
    quiet = logging.getLogger("maildaemon")
    level = quiet.level
    quiet.setLevel(logging.ERROR)                  # the demo stream's forged mail is quarantined on purpose
    try:
        return _samples(team, mails, ledger, found)
    finally:
        quiet.setLevel(level)


def _samples(team, mails, ledger, found: dict) -> tuple[dict, object]:
    from maildaemon import dispatch, policy, rotation, workdays
    from maildaemon.demo import Delivered, moments
    from maildaemon.ingest import ingest
    from maildaemon.model import Outage, iso
    from maildaemon.store import Store
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "state")
        end = datetime(2026, 11, 27, 17, tzinfo=workdays.zone(team))
        with store.transaction() as txn:
            txn.change_rotation(ledger, "load", end)
            txn.commit()
        ledger_now = rotation.from_weeks(store.view().rotation())
        for moment, what in moments(team, end):
            ingest(Delivered(mails, moment), store, team, moment, live=False)
            view = store.view()
            dues = policy.due_reminders(view.current(), ledger_now, team, [], moment) \
                if what == "remind" else [dispatch.handoff_policy.handoff(view.current(), ledger_now, team, moment)]
            for d in dues:
                found.setdefault(d.kind, (d, moment))
        tickets = [t for t in store.view().current() if t.owner and t.submitter]
    day = end.date()
    for t in tickets[:3]:
        for back in (6, 12, 40):              # waiting on the user: a reminder, then the close suggestion
            waiting = dataclasses.replace(t, status="waiting-on-user", status_since=iso(end - timedelta(days=back)),
                                          last_user_update_at=None)
            d = policy.ticket_reminder(waiting, team, end, day, _duty(ledger_now, team, day))
            if d is not None:
                found.setdefault(d.kind, (d, end))
        away = dataclasses.replace(team, outages=tuple(team.outages) + (Outage(t.owner, day, day),))
        stale = dataclasses.replace(t, status="open", last_team_update_at=iso(end - timedelta(days=20)))
        d = policy.ticket_reminder(stale, away, end, day, _duty(ledger_now, team, day))
        if d is not None:
            found.setdefault(d.kind, (d, end))
    _spec10_samples(found, team, tickets, ledger_now, end)
    return found, team


def _spec10_samples(found: dict, team, tickets, ledger, end) -> None:
    """The silence alarm, a work-done mail and a meeting brief, made by their policies from the
    demo's tickets (the demo stream itself has none of them)."""
    from maildaemon import brief as brief_policy
    from maildaemon import policy
    from maildaemon.model import Health, HistoryEntry, Meeting, Ticket, iso
    if not tickets:
        return
    day = end.date()
    duty = _duty(ledger, team, day)
    t = tickets[0]
    last = end - timedelta(days=3)
    stream = Health(last_applied_at=iso(last), last_applied_date=iso(last),
                    last_applied={"key": t.key, "title": t.title, "subject": t.title, "date": iso(last)})
    d = policy.due_silence(stream, team, end, duty)
    if d is not None:
        found.setdefault(d.kind, (d, end))
    closed = iso(end - timedelta(hours=2))
    item = Ticket(key="jira:SOFT-1", system="jira", id="SOFT-1", title="The fix", status="resolved",
                  status_raw="Resolved", status_since=closed, opened_at=iso(end - timedelta(days=9)),
                  updated_at=closed, url="https://jira.example.org/browse/SOFT-1",
                  history=(HistoryEntry(message_id="<sample@jira>", at=closed, kinds=("status", "closed"),
                                        status="resolved"),))
    linked = dataclasses.replace(t, status="open", links=({"key": item.key, "url": item.url},))
    d = policy.work_done(linked, policy.tickets_by_key([linked, item]), team, end, day, duty)
    if d is not None:
        found.setdefault(d.kind, (d, end))
    if duty:
        meeting = Meeting(day=("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()],
                          time=(end + timedelta(minutes=30)).time().replace(tzinfo=None), name="Team meeting",
                          brief=True)
        d = brief_policy.brief(tickets, ledger, team, [], end, duty, meeting, end + timedelta(minutes=30), {})
        found.setdefault(d.kind, (d, end))


def _duty(ledger, team, day):
    from maildaemon import rotation
    who = rotation.on_duty(ledger, team, day)
    return who.email if who else None
