"""dispatch.plan is a pure function of (snapshot, team, now, templates, key): what is due is decided from
one `model.Snapshot` built here in memory, without a state folder, and the outbox of the snapshot
is what keeps a mail from being decided twice."""
from __future__ import annotations

from dataclasses import replace

import spec10
from builders import ALAN, LEDGER, liso, local
from maildaemon import dispatch
from maildaemon.model import Health, OutboxRecord, RotationWeek, Snapshot, Snooze
from maildaemon.render import environment

KEY = b"k" * 32
WEDNESDAY = local(2026, 11, 18, 9, 30)              # Alan's week (LEDGER), a reminder slot
ENV = environment()


def state(*tickets, **kw) -> Snapshot:
    weeks = tuple(RotationWeek(a.week, a.email, a.name, "load", liso(2026, 10, 1), 1) for a in LEDGER)
    return Snapshot(tickets=tuple(tickets), rotation=weeks, **kw)


def kinds(mails) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((m.kind, m.tickets) for m in mails)


def plan(snapshot, now=WEDNESDAY, **kw):
    return dispatch.plan(snapshot, spec10.TEAM, now, ENV, KEY, mime=False, **kw)


def test_the_mails_due_come_from_the_snapshot_alone():
    mails = plan(state(spec10.unowned(), spec10.stale()))
    assert kinds(mails) == [("announcement", ()), ("owner", ("goc:41201",)), ("unassigned", ("goc:41250",))]
    assert all(m.sender == spec10.TEAM.from_address and m.text for m in mails)
    assert plan(state(spec10.unowned(), spec10.stale())) == mails               # the same answer again


def test_what_the_outbox_of_the_snapshot_holds_is_not_decided_again():
    first = plan(state(spec10.unowned(), spec10.stale()))
    held = {m.message_id: OutboxRecord(m.message_id, m.kind, m.period, m.tickets, state="sent",
                                       created_at=liso(2026, 11, 18, 9, 30)) for m in first}
    assert plan(state(spec10.unowned(), spec10.stale(), outbox=held)) == []
    # the key is part of a Message-ID: with another key the records are other mails, and only
    # what they say was sent counts (the owner reminder waits `repeat_after_days`)
    again = dispatch.plan(state(spec10.unowned(), spec10.stale(), outbox=held), spec10.TEAM, WEDNESDAY, ENV, b"x" * 32,
                      mime=False)
    assert kinds(again) == [("announcement", ()), ("unassigned", ("goc:41250",))]


def test_no_one_on_duty_in_the_snapshot_means_no_mail():
    assert plan(replace(state(spec10.unowned()), rotation=())) == []
    only_next_week = tuple(w for w in state().rotation if w.week > WEDNESDAY.date())
    assert plan(replace(state(spec10.unowned()), rotation=only_next_week)) == []


def test_a_snooze_and_the_health_in_the_snapshot_reach_the_policy():
    snoozed = {"goc:41201": Snooze("goc:41201", "2026-11-30", "vendor", liso(2026, 11, 16, 9))}
    assert kinds(plan(state(spec10.stale()))) == [("announcement", ()), ("owner", ("goc:41201",))]
    assert kinds(plan(state(spec10.stale(), snoozes=snoozed))) == [("announcement", ())]
    silent = Health(last_applied_at=liso(2026, 11, 16, 9), last_applied_date=liso(2026, 11, 16, 9))
    [alarm] = [m for m in plan(state(health=silent)) if m.kind != "announcement"]
    assert alarm.kind == "silence" and alarm.recipients == (ALAN,)


def test_the_handoff_is_planned_from_the_same_snapshot():
    friday = local(2026, 11, 20, 15, 0)
    [handoff] = plan(state(spec10.unowned()), now=friday, reminders=False, handoff=True)
    assert handoff.kind == "handoff" and handoff.period == "week-2026-11-16"
