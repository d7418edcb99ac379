"""`maildaemon agenda` (SPEC 10, issue 12): the mails due over the next N days if nothing new arrived,
decided by the daemon's own policy at the moments it can change its answer, changing nothing.

The week: Tue 2026-11-24 12:00 to Tue 2026-12-01 12:00, America/Chicago, US holidays
(Thanksgiving, Thursday 2026-11-26, is no business day), work hours 09:00-17:00, reminders at 09:30
and 14:00, announcement mon 09:00, handoff fri 15:00, repeat after 2 business days.
- goc:500  opened Tue 10:00 with the triage pseudo-user only: unassigned after 4 business hours,
  Tue 14:00, then in the digest at every slot of every business day;
- rt:1234  given to Alan Tue 10:00 by Grace: stale after 2 business days, Fri 10:00 (not Thu
  10:00: Thanksgiving), again 2 business days after Friday's 09:30 slot: Tue 12-01 09:30;
- goc:41234 Ada's, waiting on the user since Mon 11-23 11:00: the user reminder after 5 business
  days, Tue 12-01 11:00 (Thanksgiving and the weekend skipped).
Grace is on duty the week of 11-23, Ada the week of 11-30 (Grace is away 11-30..12-04).
"""
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from builders import CST, goc_mail, rt_mail
from builders import write_mbox
from team_file import TEAM_TOML
from maildaemon.brief import due_briefs
from maildaemon import agenda as agenda_mod
from maildaemon import dispatch, policy, rotation, workdays
from maildaemon import handoff as handoff_policy
from maildaemon.config import load_team
from maildaemon.model import OutboxRecord
from maildaemon.render import environment, message_id
from maildaemon.store import Store

NOW = "2026-11-24T12:00"
ROTATION = "2026-11-23  grace@example.org  Grace Hopper\n2026-11-30  ada@example.org  Ada Lovelace\n"
LIST = "software-support-stream@example.org"


def t(d, h, mi=0):
    return datetime(2026, 11, d, h, mi, tzinfo=CST)


def setup(cli, rota=ROTATION):
    cli.team_file.write_text(TEAM_TOML.replace('[team]\n', '[team]\nholidays = "US"\n', 1))
    mbox = write_mbox(cli.root / "stream.mbox", [
        goc_mail(41234, "Pilot jobs fail", t(23, 9), n=1, entries=[(t(23, 9), "Jane User", "It fails.")]),
        goc_mail(41234, "Pilot jobs fail", t(23, 11), n=2, status="Customer", next_action="WAIT FOR USER",
                 assignees=("Software Support (Triage)", "Ada Lovelace"),
                 entries=[(t(23, 11), "Ada Lovelace", "Logs please."), (t(23, 9), "Jane User", "It fails.")]),
        rt_mail(1234, "Cannot install client", t(24, 10), transaction="Given to alan by grace", actor="Grace Hopper",
                actor_email="grace@example.org", owner="alan", status="open", n=3),
        goc_mail(500, "Unowned thing", t(24, 10), n=4, entries=[(t(24, 10), "Jane User", "Help.")]),
    ])
    code, out, err = cli("import", mbox)
    assert code == 0 and "applied=4" in out, err
    (cli.root / "rotation.txt").write_text(rota)
    code, _, err = cli("rotation", "load", str(cli.root / "rotation.txt"))
    assert code == 0, err


def agenda_json(cli, *args):
    code, out, err = cli("agenda", "--json", "--now", NOW, *args)
    assert code == 0, err
    return json.loads(out)


def rows(entries):
    return [(e["at"][5:16], e["kind"], tuple(e["tickets"])) for e in entries]


def test_a_week_with_a_weekend_and_a_holiday_lists_each_mail_at_its_moment(cli):
    setup(cli)
    entries = agenda_json(cli)
    assert rows(entries) == [
        ("11-24T12:00", "announcement", ()),               # this week's was never sent: due at once
        ("11-24T14:00", "unassigned", ("goc:500",)),
        ("11-25T09:30", "unassigned", ("goc:500",)),
        ("11-25T14:00", "unassigned", ("goc:500",)),
        # Thursday 11-26 is Thanksgiving: no digest, and rt:1234 is not stale yet
        ("11-27T09:30", "unassigned", ("goc:500",)),
        ("11-27T10:00", "owner", ("rt:1234",)),            # 2 business days after Tue 10:00, mid-slot
        ("11-27T14:00", "unassigned", ("goc:500",)),
        ("11-27T15:00", "handoff", ()),
        # nothing on the weekend
        ("11-30T09:00", "announcement", ()),
        ("11-30T09:30", "unassigned", ("goc:500",)),
        ("11-30T14:00", "unassigned", ("goc:500",)),
        ("12-01T09:30", "unassigned", ("goc:500",)),
        ("12-01T09:30", "owner", ("rt:1234",)),            # the repeat: 2 business days after Friday's slot
        ("12-01T11:00", "user", ("goc:41234",)),           # 5 business days of waiting on the user
    ]
    assert entries[1]["at"] == "2026-11-24T14:00:00-06:00"
    by_kind = {}
    for e in entries:
        by_kind.setdefault(e["kind"], []).append(e)
    assert [(e["to"], e["cc"]) for e in by_kind["unassigned"]] == [(["grace@example.org"], [])] * 5 + \
        [(["ada@example.org"], [])] * 3                    # the person on duty of each week
    assert [(e["to"], e["cc"]) for e in by_kind["owner"]] == \
        [(["alan@example.org"], ["grace@example.org"]), (["alan@example.org"], ["ada@example.org"])]
    assert by_kind["handoff"][0]["to"] == ["ada@example.org"]              # the incoming person, Cc the team
    assert by_kind["handoff"][0]["cc"] == ["grace@example.org", "alan@example.org"]
    team_ = ["ada@example.org", "grace@example.org", "alan@example.org"]
    assert [e["to"] for e in by_kind["announcement"]] == [team_] * 2
    assert by_kind["user"][0]["to"] == ["jane@example.edu"] and by_kind["user"][0]["cc"] == [LIST]
    assert by_kind["owner"][0]["subject"] == "Reminder: rt:1234 Cannot install client"
    assert set(by_kind["handoff"][0]) == {"at", "kind", "to", "cc", "subject", "tickets"}


def test_the_handoff_is_listed_when_a_ticket_has_closed(cli):
    """A closed ticket is asked its status a week before the handoff (does it count in "N (+D)
    open"?): the agenda failed there with an AttributeError since the handoff's figures moved."""
    setup(cli)
    closed = write_mbox(cli.root / "closed.mbox", [
        goc_mail(77, "Solved quickly", t(23, 9), n=5, entries=[(t(23, 9), "Jane User", "Broken.")]),
        goc_mail(77, "Solved quickly", t(24, 11), n=6, status="Closed", assignees=("Ada Lovelace",),
                 entries=[(t(24, 11), "Ada Lovelace", "Fixed."), (t(23, 9), "Jane User", "Broken.")]),
    ])
    code, out, err = cli("import", closed)
    assert code == 0 and "applied=2" in out, err
    code, out, _ = cli("tickets", "--all")
    assert "goc:77" in out and "closed" in out
    entries = agenda_json(cli)
    assert ("11-27T15:00", "handoff", ()) in rows(entries)


def test_the_handoff_and_the_announcement_appear_once_a_week(cli):
    setup(cli, ROTATION + "2026-12-07  alan@example.org  Alan Turing\n")
    entries = agenda_json(cli, "--days", "14")
    assert [e["at"][:16] for e in entries if e["kind"] == "handoff"] == ["2026-11-27T15:00", "2026-12-04T15:00"]
    assert [e["at"][:16] for e in entries if e["kind"] == "announcement"] == ["2026-11-24T12:00", "2026-11-30T09:00",
                                                                                 "2026-12-07T09:00"]
    # and the repeat keeps its rhythm: every 2 business days from the slot it went out in
    assert [e["at"][5:16] for e in entries if e["kind"] == "owner"] == \
        ["11-27T10:00", "12-01T09:30", "12-03T09:30", "12-07T09:30"]


def test_a_reminder_already_in_the_outbox_is_not_listed_again_until_its_repeat(cli):
    setup(cli)
    code, out, err = cli("remind", "--now", "2026-11-27T10:00")      # sent for real: the outbox holds it
    assert code == 0 and "owner" in out, err
    entries = agenda_json(cli, "--now", "2026-11-27T10:05")
    assert [e["at"][5:16] for e in entries if e["kind"] == "owner"] == ["12-01T09:30", "12-03T09:30"]
    assert [e["at"][5:16] for e in entries if e["kind"] == "unassigned"][0] == "11-27T14:00"  # 09:30's was sent


def test_the_first_entry_is_what_remind_dry_run_prints_at_that_moment(cli):
    setup(cli)
    assert cli("remind", "--now", NOW)[0] == 0            # the announcement goes: the outbox has it
    first = agenda_json(cli)[0]
    assert first["at"] == "2026-11-24T14:00:00-06:00"
    code, out, _ = cli("remind", "--dry-run", "--now", first["at"])
    assert code == 0
    recipients = ", ".join(first["to"] + first["cc"])
    assert f"would send {first['kind']:<11} to {recipients}: {first['subject']}\n" in out
    assert out.count("would send") == 1
    # a minute earlier nothing was due yet: the moment is the first one
    _, before, _ = cli("remind", "--dry-run", "--now", "2026-11-24T13:59")
    assert "would send" not in before


def state_bytes(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def test_agenda_writes_nothing(cli):
    setup(cli)
    state = cli.root / "state"
    before = state_bytes(state)
    assert not (state / "outbox").exists()
    for args in ((), ("--json",), ("--days", "30")):
        code, _, err = cli("agenda", "--now", NOW, *args)
        assert code == 0, err
    assert state_bytes(state) == before


def test_the_text_table_fits_78_columns_and_says_the_moment_in_the_teams_zone(cli):
    setup(cli)
    code, out, err = cli("agenda", "--now", NOW)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "14 mails due in the 7 days from Tue 2026-11-24 12:00 (America/Chicago)"
    assert lines[1:6] == ["Tue 2026-11-24",
                          "  12:00  announcement  to ada@example.org, grace@example.org, alan@example.org",
                          "         This week's Software Team duty: Grace Hopper",
                          "  14:00  unassigned    to grace@example.org",
                          "         " + agenda_json(cli)[1]["subject"]]
    assert "Thu 2026-11-26" not in out and "Sat 2026-11-28" not in out
    assert "  10:00  owner         to alan@example.org, cc grace@example.org" in lines
    assert "  09:00  announcement  to ada@example.org, grace@example.org, alan@example.org" in lines
    assert max(len(line) for line in lines) <= 78


def test_no_one_on_duty_those_mails_are_absent_and_one_line_says_why(cli):
    setup(cli, "2026-11-23  grace@example.org  Grace Hopper\n")
    code, out, err = cli("agenda", "--now", NOW)
    assert code == 0, err
    note = ("no one on duty in the week of 2026-11-30: no mail goes out that week (store a rotation: "
            "maildaemon rotation load FILE)")
    assert out.splitlines()[1] == note[:77] + "…"
    assert "Mon 2026-11-30" not in out and "Tue 2026-12-01" not in out
    code, out, err = cli("agenda", "--json", "--days", "14", "--now", NOW)
    assert err == f"maildaemon agenda: {note}\n" + f"maildaemon agenda: {note}\n".replace("11-30", "12-07")
    assert json.loads(out)[-1]["at"].startswith("2026-11-27T15:00")          # the handoff, then nothing


def test_a_crossing_between_two_minutes_is_listed_at_the_next_whole_minute(cli):
    setup(cli)
    late = rt_mail(1234, "Cannot install client", t(24, 10) + timedelta(seconds=30), transaction="Comment by grace",
                   actor="Grace Hopper", actor_email="grace@example.org", owner="alan", status="open", n=5)
    code, out, err = cli("import", write_mbox(cli.root / "late.mbox", [late]))
    assert code == 0 and "applied=1" in out, err
    owner = [e for e in agenda_json(cli) if e["kind"] == "owner"][0]
    assert owner["at"] == "2026-11-27T10:01:00-06:00"         # stale at 10:00:30: the tick at 10:01 sends it
    assert "would send owner" not in cli("remind", "--dry-run", "--now", "2026-11-27T10:00")[1]
    assert "would send owner" in cli("remind", "--dry-run", "--now", "2026-11-27T10:01")[1]


def test_days_must_be_a_positive_number(cli):
    setup(cli)
    for bad in ("0", "x", "400"):
        code, _, err = cli("agenda", "--days", bad, "--now", NOW)
        assert code == 2 and "--days" in err


# --- the moments: the closed form against the clock -------------------------------------------------

def team_of(cli):
    return load_team(cli.team_file)


@pytest.mark.parametrize("start, hours, expected", [
    (t(24, 10), 4, t(24, 14)),               # within the day
    (t(24, 10), 16, t(27, 10)),              # two business days over Thanksgiving
    (t(24, 16), 8, t(25, 16)),               # one workday across the night
    (t(25, 9, 30), 15.5, t(27, 17)),         # ends exactly at the end of a workday
    (t(28, 12), 1, t(30, 10)),               # from a Saturday
    (t(24, 20), 0.5, t(25, 9, 30)),          # from the evening
])
def test_reach_is_the_inverse_of_business_time(cli, start, hours, expected):
    cli.team_file.write_text(TEAM_TOML.replace('[team]\n', '[team]\nholidays = "US"\n', 1))
    team = team_of(cli)
    amount = timedelta(hours=hours)
    at = agenda_mod.reach(start, amount, team)
    assert at == expected
    assert workdays.business_time(start, at, team) == amount
    assert workdays.business_time(start, at - timedelta(seconds=1), team) < amount


def walk(snap, ledger, team, start, end, step=timedelta(minutes=5)):
    """The reference: the daemon's tick every five minutes, with what it queued counted as sent."""
    sent, ids, out = list(snap.sent.values()), set(snap.sent), []
    at = start
    while at < end:
        if rotation.nobody_on_duty(ledger, team, workdays.local_date(at, team)) is None:
            dues = policy.due_reminders(snap.tickets, ledger, team, sent, at, snoozes=snap.snoozes, stream=snap.stream,
                                        briefs=due_briefs)
            week = workdays.week_start(at, team).isoformat()
            if policy.handoff_due(team, at) and not any(r.kind == "handoff" and r.period == f"week-{week}"
                                                        for r in sent):
                dues.append(handoff_policy.handoff(snap.tickets, ledger, team, at, snoozes=snap.snoozes))
            for d in dues:
                mid = message_id(d, team, snap.key)
                if mid not in ids:
                    ids.add(mid)
                    sent.append(OutboxRecord(mid, d.kind, d.period, tuple(d.tickets),
                                             created_at=at.astimezone(CST).isoformat()))
                    out.append((at, d.kind, d.tickets, mid))
        at += step
    return out


def test_the_agenda_is_the_daemon_ticking_every_five_minutes(cli):
    setup(cli, ROTATION + "2026-12-07  alan@example.org  Alan Turing\n")
    # a meeting brief (its window opens 09:45) and a snooze that ends with Wednesday
    cli.team_file.write_text(cli.team_file.read_text() + '\n[[meetings]]\nday = "wed"\ntime = "10:10"\n'
                             'name = "Ops"\nbrief = true\nbrief_minutes = 25\n')
    assert cli("snooze", "goc:500", "--until", "2026-11-25", "--now", NOW)[0] == 0
    team = team_of(cli)
    store = Store(cli.root / "state")
    snap, ledger = dispatch.agenda_snapshot(store)
    snap.stream = replace(snap.stream, last_applied_at="2026-11-24T16:00:00+00:00")   # then silence
    start = datetime(2026, 11, 24, 12, 0, tzinfo=workdays.zone(team))
    result = agenda_mod.agenda(snap, ledger, team, start, 10, environment())
    expected = walk(snap, ledger, team, start, start + timedelta(days=10))
    assert [(e.at, e.kind, e.tickets, e.message_id) for e in result.entries] == expected
    assert len(expected) > 15
    kinds = [e.kind for e in result.entries]
    assert kinds.count("brief") == 2 and "unassigned" in kinds
    assert [e.at.isoformat() for e in result.entries if e.kind == "silence"] == ["2026-11-25T10:00:00-06:00"]
    assert not [e for e in result.entries if e.kind == "unassigned" and e.at.day in (24, 25)]   # snoozed
