"""The weekly handoff data (handoff.py is pure): Friday 2026-11-20 15:00 in Chicago, Alan hands over
to Grace (the week of Thanksgiving). Tickets are built by folding changes through `apply`, so the
past counts are rebuilt from their history as in production.
"""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import ADA, ALAN, GRACE, LEDGER, LINUS, TRIAGE, fold, local, team, week
from maildaemon import workdays
from maildaemon import weekly_figures as handoff_mod
from maildaemon.handoff import handoff
from maildaemon.model import parse_iso
from maildaemon.weekly_figures import signed, status_at, weekly_counts
from maildaemon.render import compose, environment

OUTAGES = [
    {"member": GRACE, "start": date(2026, 11, 20), "end": date(2026, 11, 20)},     # Grace off on handoff day
    {"member": ALAN, "start": date(2026, 12, 1), "end": date(2026, 12, 2)},        # during Ada's week
    {"member": ADA, "start": date(2026, 12, 21), "end": date(2027, 1, 1)},
]
TEAM = team(outages=OUTAGES)
NOW = local(2026, 11, 20, 15, 0)
OPS = "Alice Operator (GOC)"


def scenario():
    t = TEAM
    return [
        # A: arrived this week, still with the triage pseudo-user only
        fold(t, "goc:101",
             (local(2026, 11, 17, 10), dict(title="New arrival", status="open", assignees=(OPS, TRIAGE),
                                             next_action="SOFTWARE TRIAGE", actor=OPS))),
        # B: Ada's, opened 2026-10-01 (over 30 days), last team update Thursday 11-12: stale
        fold(t, "goc:102",
             (local(2026, 10, 1, 10), dict(title="Old and stale", status="open", assignees=(OPS, TRIAGE), actor=OPS)),
             (local(2026, 10, 1, 12), dict(assignees=(OPS, TRIAGE, "Ada Lovelace"), next_action="Investigate",
                                            actor=OPS)),
             (local(2026, 10, 1, 16), dict(actor="Ada Lovelace", summary="first look")),
             (local(2026, 11, 12, 10), dict(actor="Ada Lovelace", summary="still on it"))),
        # C: Grace's (triage pseudo-user removed), updated yesterday, next-action deadline passed, Grace away today
        fold(t, "goc:103",
             (local(2026, 11, 9, 9), dict(title="Deadline passed", status="open", assignees=(OPS, TRIAGE), actor=OPS)),
             (local(2026, 11, 9, 11), dict(assignees=("Grace Hopper",), actor=OPS)),
             (local(2026, 11, 19, 10), dict(actor="Grace Hopper", next_action="Patch",
                                             next_action_deadline=local(2026, 11, 19, 17)))),
        # D: Alan's, waiting on the user since Friday 11-13
        fold(t, "goc:104",
             (local(2026, 11, 2, 10), dict(title="Waiting on Jane", status="open", assignees=(TRIAGE,),
                                            submitter="jane@example.edu", actor=OPS)),
             (local(2026, 11, 2, 15), dict(assignees=(TRIAGE, "Alan Turing"), actor=OPS)),
             (local(2026, 11, 3, 9), dict(actor="Alan Turing")),
             (local(2026, 11, 13, 10), dict(status="waiting-on-user", status_raw="Customer", actor="Alan Turing"))),
        # E: closed this week
        fold(t, "goc:105",
             (local(2026, 11, 10, 10), dict(title="Closed this week", status="open", assignees=(TRIAGE,), actor=OPS)),
             (local(2026, 11, 10, 11), dict(assignees=(TRIAGE, "Ada Lovelace"), actor=OPS)),
             (local(2026, 11, 10, 12), dict(actor="Ada Lovelace")),
             (local(2026, 11, 18, 10), dict(status="closed", status_raw="Closed", actor="Ada Lovelace"))),
        # F: closed, reopened, closed again
        fold(t, "goc:106",
             (local(2026, 10, 20, 9), dict(title="Reopened once", status="open", assignees=(TRIAGE,), actor=OPS)),
             (local(2026, 10, 21, 9), dict(assignees=(TRIAGE, "Alan Turing"), actor=OPS)),
             (local(2026, 10, 22, 9), dict(actor="Alan Turing")),
             (local(2026, 11, 5, 10), dict(status="resolved", status_raw="Resolved", actor="Alan Turing")),
             (local(2026, 11, 11, 10), dict(status="open", status_raw="Engineering", actor="jane@example.edu")),
             (local(2026, 11, 19, 10), dict(status="closed", status_raw="Closed", actor="Alan Turing"))),
        # G: opened and closed this week
        fold(t, "goc:107",
             (local(2026, 11, 18, 9), dict(title="Quick one", status="open", assignees=(TRIAGE,), actor=OPS)),
             (local(2026, 11, 18, 12), dict(assignees=(TRIAGE, "Grace Hopper"), actor=OPS)),
             (local(2026, 11, 18, 13), dict(actor="Grace Hopper")),
             (local(2026, 11, 19, 9), dict(status="closed", status_raw="Closed", actor="Grace Hopper"))),
    ]


@pytest.fixture(scope="module")
def data():
    return handoff(scenario(), LEDGER, TEAM, NOW).data


def keys(rows):
    return [r["key"] for r in rows]


def test_recipients_incoming_person_cc_the_team_signed_by_the_outgoing():
    due = handoff(scenario(), LEDGER, TEAM, NOW)
    assert due.kind == "handoff"
    assert due.period == "week-2026-11-16"
    assert due.to == (GRACE,)
    assert due.cc == (ADA, ALAN, LINUS)
    assert due.duty == ALAN


def test_the_three_lines(data):
    assert data["week"] == "2026-11-16"
    assert data["this_week"] == "Alan Turing"
    assert data["next_week"] == "Grace Hopper"
    # open now: A B C D; open a week ago (2026-11-13 15:00): B C D E F
    assert data["open_now"] == 4
    assert data["open_delta"] == "-1"


def test_open_delta_is_signed():
    assert signed(2) == "+2" and signed(0) == "+0" and signed(-1) == "-1"
    two_new = [fold(TEAM, f"goc:{n}", (local(2026, 11, 18, 10), dict(title="x", status="open"))) for n in (1, 2)]
    d = handoff(two_new, LEDGER, TEAM, NOW).data
    assert (d["open_now"], d["open_delta"]) == (2, "+2")
    old = [fold(TEAM, "goc:3", (local(2026, 11, 2, 10), dict(title="x", status="open")))]
    d = handoff(old, LEDGER, TEAM, NOW).data
    assert (d["open_now"], d["open_delta"]) == (1, "+0")


def test_unassigned_opened_and_closed_this_week(data):
    assert keys(data["unassigned"]) == ["goc:101"]
    assert data["unassigned"][0]["reason"] == "no owner"
    assert keys(data["opened"]) == ["goc:101", "goc:107"]
    assert keys(data["closed"]) == ["goc:105", "goc:106", "goc:107"]


def test_open_tickets_by_owner_with_age_idle_days_and_stale_marks(data):
    by_owner = data["by_owner"]
    assert list(by_owner) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    [b] = by_owner["Ada Lovelace"]
    assert b["key"] == "goc:102"
    assert b["idle_days"] == 6                 # business days after Thu 11-12 up to Fri 11-20
    assert b["stale"] is True
    assert b["age_days"] == 50
    [c] = by_owner["Grace Hopper"]
    assert (c["key"], c["idle_days"], c["stale"]) == ("goc:103", 1, False)
    [d] = by_owner["Alan Turing"]
    assert d["key"] == "goc:104" and d["stale"] is False     # waiting on the user is not stale


def test_past_deadline_over_30_days_and_waiting_on_users(data):
    assert keys(data["past_deadline"]) == ["goc:103"]
    assert data["past_deadline"][0]["deadline"] == "2026-11-19 17:00"
    assert data["past_deadline"][0]["owner_name"] == "Grace Hopper"
    assert keys(data["over_30_days"]) == ["goc:102"]
    assert keys(data["waiting_on_users"]) == ["goc:104"]
    assert data["waiting_on_users"][0]["waiting_days"] == 5


def test_warnings_owner_away_and_flags(data):
    warnings = {r["key"]: r["flags"] for r in data["warnings"]}
    assert warnings == {"goc:103": ["triage pseudo-user removed: the stream no longer hears about it",
                                    "owner away until 2026-11-20"]}


def test_weekly_counts_over_eight_weeks_rebuilt_from_history(data):
    weekly = data["weekly"]
    assert [w["week"] for w in weekly] == ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19",
                                           "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
    assert [w["open"] for w in weekly] == [1, 1, 1, 2, 2, 2, 5, 4]
    assert [w["new"] for w in weekly] == [1, 0, 0, 1, 0, 1, 2, 2]
    assert [w["closed"] for w in weekly] == [0, 0, 0, 0, 0, 1, 0, 3]
    assert data["week_over_week"] == {"new": (2, 2), "closed": (3, 0), "open": (4, 5)}
    assert max(w["open_pct"] for w in weekly) == 100


def test_status_at_follows_a_closed_then_reopened_ticket():
    f = [t for t in scenario() if t.key == "goc:106"][0]
    assert status_at(f, local(2026, 10, 19)) is None
    assert status_at(f, local(2026, 11, 4)) == "open"
    assert status_at(f, local(2026, 11, 6)) == "resolved"
    assert status_at(f, local(2026, 11, 12)) == "open"
    assert status_at(f, local(2026, 11, 20)) == "closed"


def test_medians_of_time_to_assignment_and_first_response_in_business_hours(data):
    # business hours to assignment: B 2, C 2, D 5, E 1, F 8 (Tue 09:00 -> Wed 09:00; 24 wall-clock
    # hours), G 3 (A never) -> median 2.5
    assert data["median_hours_to_assignment"] == 2.5
    # to first team response: B 6, C 65 (Mon 11-09 09:00 -> Thu 11-19 10:00), D 7 (Mon 10:00 -> Tue
    # 09:00; 23 wall-clock hours), E 2, F 16, G 4 -> median (6 + 7) / 2
    assert data["median_hours_to_first_response"] == 6.5


def test_medians_only_over_tickets_opened_in_the_last_eight_weeks():
    ancient = fold(TEAM, "goc:1",
                   (local(2026, 9, 1, 10), dict(title="old", status="open", assignees=(TRIAGE,))),
                   (local(2026, 9, 3, 10), dict(assignees=("Ada Lovelace",), actor="Ada Lovelace")))
    recent = fold(TEAM, "goc:2",
                  (local(2026, 11, 16, 10), dict(title="new", status="open", assignees=(TRIAGE,))),
                  (local(2026, 11, 16, 13), dict(assignees=("Ada Lovelace",), actor="Ada Lovelace")))
    d = handoff([ancient, recent], LEDGER, TEAM, NOW).data
    assert d["median_hours_to_assignment"] == 3.0
    assert d["median_hours_to_first_response"] == 3.0
    assert handoff([ancient], LEDGER, TEAM, NOW).data["median_hours_to_assignment"] is None


def test_next_four_weeks_of_rotation_with_outages_and_holidays(data):
    rotation = data["rotation"]
    assert [(w["week"], w["name"]) for w in rotation] == [
        ("2026-11-23", "Grace Hopper"), ("2026-11-30", "Ada Lovelace"),
        ("2026-12-07", "Alan Turing"), ("2026-12-14", "Grace Hopper")]
    assert rotation[0]["holidays"] == ["2026-11-26 Thanksgiving Day"]
    assert rotation[0]["away"] == []                       # Grace's day off was in the outgoing week
    assert rotation[1]["away"] == ["Alan Turing 2026-12-01..2026-12-02"]
    assert rotation[2]["away"] == [] and rotation[3]["away"] == []


def test_rotation_shows_unassigned_weeks_and_long_outages():
    ledger = [week(date(2026, 12, 7), ALAN), week(date(2026, 12, 14), GRACE), week(date(2026, 12, 21), GRACE)]
    d = handoff([], ledger, TEAM, local(2026, 12, 11, 15)).data
    assert [(w["week"], w["name"]) for w in d["rotation"]] == [
        ("2026-12-14", "Grace Hopper"), ("2026-12-21", "Grace Hopper"),
        ("2026-12-28", "UNASSIGNED"), ("2027-01-04", "UNASSIGNED")]
    assert d["rotation"][1]["away"] == ["Ada Lovelace 2026-12-21..2027-01-01"]
    assert d["rotation"][1]["holidays"] == ["2026-12-25 Christmas Day"]
    assert d["rotation"][2]["holidays"] == ["2027-01-01 New Year's Day"]
    assert d["next_week"] == "Grace Hopper" and d["this_week"] == "Alan Turing"


def test_incoming_weeks_meetings_with_dates(data):
    assert data["meetings"] == [
        {"date": "2026-11-23", "day": "Monday", "time": "11:00", "name": "Team standup"},
        {"date": "2026-11-25", "day": "Wednesday", "time": "16:00", "name": "Operations meeting"},
    ]


def test_nobody_incoming_goes_to_the_whole_team():
    due = handoff([], [week(date(2026, 11, 16), ALAN)], TEAM, NOW)
    assert due.data["next_week"] == "UNASSIGNED"
    assert due.to == (ADA, GRACE, ALAN, LINUS) and due.cc == ()


def test_handoff_renders_with_the_three_lines_first():
    due = handoff(scenario(), LEDGER, TEAM, NOW)
    out = compose(environment(), due, TEAM, NOW)
    text = out.raw.decode("utf-8", "replace")
    assert "This week: Alan Turing\nNext week: Grace Hopper\n4 (-1) open tickets" in text.replace("\r\n", "\n")
    assert out.recipients == (GRACE, ADA, ALAN, LINUS)


def test_a_ticket_opened_at_the_week_boundary_counts_in_one_week_only():
    boundary = fold(TEAM, "goc:1", (local(2026, 11, 16, 0, 0), dict(title="midnight", status="open")))
    rows = weekly_counts([boundary], TEAM, NOW)
    assert sum(r["new"] for r in rows) == 1


def test_two_status_changes_in_the_same_second_count_in_the_order_they_were_applied():
    """Waiting on the user, then closed, both stamped 10:00:00: closed, in the status of the moment
    and in the week's count alike (the count once sorted same-second steps by their names)."""
    at = local(2026, 11, 17, 10, 0)
    t = fold(TEAM, "goc:9", (local(2026, 11, 16, 9, 0), dict(title="x", status="open", assignees=(TRIAGE,))),
             (at, dict(status="waiting-on-user", actor=OPS)), (at, dict(status="closed", actor=OPS)))
    assert t.status == "closed" and status_at(t, at) == "closed"
    assert weekly_counts([t], TEAM, NOW)[-1]["open"] == 0
    assert handoff_mod.open_at([t], at + timedelta(hours=1)) == 0


def test_past_counts_agree_with_current_state_at_now():
    tickets = scenario()
    assert handoff_mod.open_at(tickets, NOW) == sum(1 for t in tickets if t.status not in ("resolved", "closed"))
    assert handoff_mod.open_at(tickets, NOW - timedelta(weeks=1)) == 5


def status_by_history(t, when):
    """The definition, walked entry by entry in the order they were applied: the oracle of the
    counts below (and of `status_at`, which reads the parsed steps instead)."""
    if not t.opened_at or parse_iso(t.opened_at) > when:
        return None
    status = "open"
    for h in t.history:
        if not h.late and h.status and parse_iso(h.at) <= when:
            status = h.status
    return status


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 24 * 70), st.sampled_from(["open", "waiting-on-user", "resolved",
                                                                            "closed"])),
                         min_size=1, max_size=8, unique_by=lambda step: step[0]), min_size=1, max_size=12))
def test_weekly_counts_equal_their_definition_on_random_histories(histories):
    """The one-pass count equals, week by week, the status each ticket had at the week's end
    (status_at), the tickets opened and those closed in the week (opened_between, closed_between).
    Steps fall on whole hours, so on week bounds too, and a ticket may close twice in a week."""
    start = local(2026, 9, 25, 9, 0)
    tickets = []
    for n, steps in enumerate(histories):
        changes = []
        for i, (hours, status) in enumerate(sorted(steps)):
            fields = dict(status=status, status_raw=status.title(), actor=OPS)
            if i == 0:
                fields.update(title=f"ticket {n}", status="open", assignees=(TRIAGE,))
            changes.append((start + timedelta(hours=hours), fields))
        tickets.append(fold(TEAM, f"goc:{n}", *changes))
    rows = weekly_counts(tickets, TEAM, NOW)
    for r in rows:
        begin, end = workdays.duty_period(date.fromisoformat(r["week"]), TEAM)
        end = min(end, NOW + timedelta(microseconds=1))
        at_end = [status_by_history(t, end) for t in tickets]
        assert r["open"] == sum(1 for s in at_end if s is not None and s not in ("resolved", "closed"))
        assert [status_at(t, end) for t in tickets] == at_end
        assert r["new"] == sum(1 for t in tickets if handoff_mod.opened_between(t, begin, end))
        assert r["closed"] == sum(1 for t in tickets if handoff_mod.closed_between(t, begin, end))


def test_the_parsed_steps_go_with_their_tickets():
    """The figures keep each ticket's parsed steps while the ticket lives, and no longer: the daemon
    decodes a new view at every change of the state, and the old views must not stay in memory."""
    import gc
    before = len(handoff_mod._STEPS)
    tickets = [fold(TEAM, f"goc:{n}", (local(2026, 11, 16, 9, 0), dict(title="x", status="open", assignees=(TRIAGE,))))
               for n in range(50)]
    weekly_counts(tickets, TEAM, NOW)
    assert len(handoff_mod._STEPS) == before + 50
    del tickets
    gc.collect()
    assert len(handoff_mod._STEPS) == before
