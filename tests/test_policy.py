"""Which reminders are due at an exact moment (the policy is pure: tickets, ledger, team, sent log, now).

Team time zone America/Chicago, US holidays, reminder times 09:30 and 14:00, see builders.py.
"""
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from builders import (ADA, ALAN, GRACE, LEDGER, LINUS, LIST, TRIAGE, fold, liso, local, sent, team,
                      ticket, week)
from maildaemon import policy
from maildaemon.policy import business_hours_between, current_slot, due_reminders

TEAM = team()
OLD = liso(2026, 11, 2, 10, 0)          # long ago: every threshold passed


def due(tickets, now, sent_log=(), t=TEAM, ledger=LEDGER):
    return due_reminders(tickets, ledger, t, list(sent_log), now)


def kinds(mails):
    return sorted(m.kind for m in mails)


def reminders(mails):
    """Everything but the week's announcement (which has its own rules)."""
    return [m for m in mails if m.kind != "announcement"]


def one(mails, kind):
    found = [m for m in mails if m.kind == kind]
    assert len(found) == 1, (kind, mails)
    return found[0]


def unowned(key="goc:1", opened=OLD, **kw):
    return ticket(key, opened_at=opened, next_action="SOFTWARE TRIAGE", assignees=(TRIAGE,), **kw)


def owned(key="goc:2", owner=ADA, team_update=OLD, next_action="Investigate", **kw):
    kw.setdefault("opened_at", OLD)
    kw.setdefault("owner_changed_at", OLD)
    return ticket(key, owner=owner, assignees=(TRIAGE, owner), assignment_order=(owner,),
                  next_action=next_action, last_team_update_at=team_update, **kw)


def waiting(key="goc:3", since=liso(2026, 11, 16, 10, 0), owner=ADA, **kw):
    kw.setdefault("opened_at", OLD)
    return ticket(key, owner=owner, assignees=(owner,) if owner else (), assignment_order=(owner,) if owner else (),
                  status="waiting-on-user", status_raw="Customer", status_since=since,
                  last_team_update_at=since, owner_changed_at=OLD, **kw)


# --- time slots: business days only, at the configured times -----------------------------------

@pytest.mark.parametrize("now", [
    local(2026, 11, 21, 10, 0),     # Saturday
    local(2026, 11, 22, 14, 30),    # Sunday
    local(2026, 11, 26, 9, 30),     # Thanksgiving (Thursday), at the first slot
    local(2026, 11, 26, 15, 0),     # Thanksgiving, after the second slot
    local(2026, 11, 23, 9, 29),     # Monday, one minute before the first reminder time
    local(2026, 11, 23, 0, 0),      # Monday midnight: no catch-up of Friday's slots
])
def test_no_reminders_on_weekends_holidays_or_before_the_first_time(now):
    tickets = [unowned(), owned(), waiting(since=OLD)]
    assert current_slot(now, TEAM) is None
    assert reminders(due(tickets, now)) == []


def test_the_day_after_thanksgiving_is_a_business_day():
    slot = current_slot(local(2026, 11, 27, 9, 30), TEAM)
    assert slot is not None and slot.period == "2026-11-27T0930"


@pytest.mark.parametrize("now, period, first", [
    (local(2026, 11, 23, 9, 30), "2026-11-23T0930", True),    # exactly at the first time
    (local(2026, 11, 23, 13, 59), "2026-11-23T0930", True),   # still the 09:30 slot
    (local(2026, 11, 23, 14, 0), "2026-11-23T1400", False),   # exactly at the second time
    (local(2026, 11, 23, 16, 45), "2026-11-23T1400", False),
    # Friday evening, after work hours: the latest slot at or before now (14:00) still applies
    (local(2026, 11, 20, 18, 0), "2026-11-20T1400", False),
    (local(2026, 11, 20, 23, 59), "2026-11-20T1400", False),
])
def test_the_latest_slot_at_or_before_now_is_used(now, period, first):
    slot = current_slot(now, TEAM)
    assert slot.period == period
    assert slot.first_of_day is first
    digest = one(due([unowned()], now), "unassigned")
    assert digest.period == period


def test_slot_is_taken_on_the_team_clock_whatever_the_zone_of_now():
    # 2026-11-23 20:00 UTC is 14:00 CST (after the November DST change: UTC-6)
    assert current_slot(datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc), TEAM).period == "2026-11-23T1400"
    assert current_slot(datetime(2026, 11, 23, 19, 59, tzinfo=timezone.utc), TEAM).period == "2026-11-23T0930"
    # Tuesday 02:00 UTC is still Monday evening in Chicago
    assert current_slot(datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc), TEAM).period == "2026-11-23T1400"


# --- business hours ----------------------------------------------------------------------------

def test_business_hours_across_a_weekend():
    assert business_hours_between(local(2026, 11, 20, 16, 0), local(2026, 11, 23, 10, 0), TEAM) == 2.0
    assert business_hours_between(local(2026, 11, 21, 12, 0), local(2026, 11, 23, 9, 30), TEAM) == 0.5
    assert business_hours_between(local(2026, 11, 20, 17, 30), local(2026, 11, 23, 8, 0), TEAM) == 0.0


def test_business_hours_skip_a_holiday():
    # Wednesday 16:00 -> Friday 10:00 across Thanksgiving: 1 h Wednesday + 1 h Friday
    assert business_hours_between(local(2026, 11, 25, 16, 0), local(2026, 11, 27, 10, 0), TEAM) == 2.0
    # a whole holiday counts nothing
    assert business_hours_between(local(2026, 11, 26, 0, 0), local(2026, 11, 27, 0, 0), TEAM) == 0.0


def test_business_hours_across_the_november_dst_change():
    # Friday 2026-10-30 16:00 CDT (21:00 UTC) -> Monday 2026-11-02 10:00 CST (16:00 UTC):
    # 1 h Friday + 1 h Monday, whatever the 25-hour Sunday
    start = datetime(2026, 10, 30, 21, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
    assert business_hours_between(start, end, TEAM) == 2.0
    # a full day on each side of the change is 8 hours
    assert business_hours_between(local(2026, 10, 30), local(2026, 10, 31), TEAM) == 8.0
    assert business_hours_between(local(2026, 11, 2), local(2026, 11, 3), TEAM) == 8.0


def test_business_hours_edge_cases():
    assert business_hours_between(local(2026, 11, 23, 10), local(2026, 11, 23, 9), TEAM) == 0.0
    assert business_hours_between(local(2026, 11, 23, 7), local(2026, 11, 23, 18), TEAM) == 8.0
    assert business_hours_between(local(2026, 11, 23, 10), local(2026, 11, 24, 10), TEAM) == 8.0


# --- unassigned digest -------------------------------------------------------------------------

def test_friday_afternoon_arrival_is_not_due_monday_morning_under_the_threshold():
    t = unowned(opened=liso(2026, 11, 20, 16, 0))      # Friday 16:00: 1 business hour on Friday
    assert reminders(due([t], local(2026, 11, 20, 16, 30))) == []
    assert reminders(due([t], local(2026, 11, 23, 9, 30))) == []        # 1 + 0.5 = 1.5 h < 4
    digest = one(due([t], local(2026, 11, 23, 14, 0)), "unassigned")   # 1 + 5 = 6 h
    assert digest.tickets == ("goc:1",)
    assert digest.data["tickets"][0]["hours"] == 6.0
    assert digest.data["tickets"][0]["reason"] == "no owner"


def test_weekend_arrival_counts_from_monday_nine():
    t = unowned(opened=liso(2026, 11, 21, 12, 0))      # Saturday noon
    assert reminders(due([t], local(2026, 11, 23, 9, 30))) == []        # 0.5 h
    assert one(due([t], local(2026, 11, 23, 14, 0)), "unassigned").data["tickets"][0]["hours"] == 5.0
    quick = team(policy={"unassigned_after_hours": 0.5})
    digest = one(due([t], local(2026, 11, 23, 9, 30), t=quick), "unassigned")
    assert digest.data["tickets"][0]["hours"] == 0.5


def test_holiday_arrival_counts_from_the_next_business_morning():
    t = unowned(opened=liso(2026, 11, 26, 10, 0))      # Thanksgiving
    assert reminders(due([t], local(2026, 11, 27, 9, 30))) == []        # 0.5 h on Friday
    assert one(due([t], local(2026, 11, 27, 14, 0)), "unassigned").data["tickets"][0]["hours"] == 5.0


def test_threshold_is_reached_at_exactly_unassigned_after_hours():
    noon = team(policy={"reminder_times": ["12:00", "09:30", "16:00"]})        # sorted by the config
    t = unowned(opened=liso(2026, 11, 20, 16, 0))                             # Friday 16:00
    assert [m for m in due([t], local(2026, 11, 23, 9, 30), t=noon) if m.kind == "unassigned"] == []
    digest = one(due([t], local(2026, 11, 23, 12, 0), t=noon), "unassigned")  # 1 + 3 = 4 h
    assert digest.data["tickets"][0]["hours"] == 4.0
    assert digest.period == "2026-11-23T1200"
    assert current_slot(local(2026, 11, 23, 12, 0), noon).first_of_day is False
    assert current_slot(local(2026, 11, 23, 9, 30), noon).first_of_day is True


def test_digest_goes_to_the_person_on_duty_from_the_ledger():
    t = unowned()
    monday = one(due([t], local(2026, 11, 23, 9, 30)), "unassigned")
    assert monday.to == (GRACE,) and monday.duty == GRACE
    assert monday.cc == ()
    friday_before = one(due([t], local(2026, 11, 20, 14, 0)), "unassigned")
    assert friday_before.to == (ALAN,) and friday_before.duty == ALAN


def test_digest_is_due_at_every_slot_whatever_was_sent():
    t = unowned()
    log = [sent("unassigned", ["goc:1"], local(2026, 11, 23, 9, 30)),
           sent("unassigned", ["goc:1"], local(2026, 11, 23, 14, 0))]
    assert one(due([t], local(2026, 11, 23, 14, 0), log), "unassigned").period == "2026-11-23T1400"
    assert one(due([t], local(2026, 11, 24, 9, 30), log), "unassigned").period == "2026-11-24T0930"


def test_owned_ticket_still_on_the_triage_next_action_counts_as_unassigned():
    t = owned("goc:7", next_action="software triage")       # case does not matter
    digest = one(due([t], local(2026, 11, 23, 9, 30)), "unassigned")
    assert digest.tickets == ("goc:7",)
    assert digest.data["tickets"][0]["reason"] == "next action is still SOFTWARE TRIAGE"
    # with a real next action it is no longer waiting for triage
    moved = replace(t, next_action="Investigate")
    assert [m for m in due([moved], local(2026, 11, 23, 9, 30)) if m.kind == "unassigned"] == []


def test_closed_and_resolved_tickets_are_never_in_the_digest():
    tickets = [unowned("goc:1", status="closed"), unowned("goc:2", status="resolved")]
    assert reminders(due(tickets, local(2026, 11, 23, 9, 30))) == []


def test_owner_removed_is_unassigned_from_the_removal():
    t = fold(TEAM, "goc:9",
             (local(2026, 11, 2, 10), dict(title="Old", status="open", assignees=(TRIAGE, "Ada Lovelace"),
                                            next_action="Investigate")),
             (local(2026, 11, 23, 13, 0), dict(assignees=(TRIAGE,))))
    assert t.owner is None and t.owner_changed_at == liso(2026, 11, 23, 13, 0)
    assert [m for m in due([t], local(2026, 11, 23, 14, 0)) if m.kind == "unassigned"] == []   # 1 h
    digest = one(due([t], local(2026, 11, 24, 9, 30)), "unassigned")                          # 4.5 h
    assert digest.data["tickets"][0]["hours"] == 4.5


def test_first_digest_sent_on_a_day_lists_that_days_meetings_later_ones_do_not():
    t = unowned()
    wed_morning = one(due([t], local(2026, 11, 25, 9, 30)), "unassigned")
    assert wed_morning.data["meetings"] == [{"time": "16:00", "name": "Operations meeting"}]
    morning_sent = [sent("unassigned", ["goc:1"], local(2026, 11, 25, 9, 30))]
    assert morning_sent[0].period == "2026-11-25T0930"
    # re-deciding the morning slot after it was queued gives the same mail, meetings included
    assert one(due([t], local(2026, 11, 25, 9, 45), morning_sent), "unassigned").data["meetings"] != []
    wed_afternoon = one(due([t], local(2026, 11, 25, 14, 0), morning_sent), "unassigned")
    assert wed_afternoon.data["meetings"] == []
    # the first digest of the day is at 14:00 (nothing was due at 09:30): it lists them
    assert one(due([t], local(2026, 11, 25, 14, 0)), "unassigned").data["meetings"] == \
        [{"time": "16:00", "name": "Operations meeting"}]
    # yesterday's digests do not count, and only that day's meetings are listed
    tuesday_sent = [sent("unassigned", ["goc:1"], local(2026, 11, 24, 14, 0))]
    mon = one(due([t], local(2026, 11, 23, 9, 45), tuesday_sent), "unassigned")
    assert mon.data["meetings"] == [{"time": "11:00", "name": "Team standup"}]
    assert one(due([t], local(2026, 11, 25, 9, 30), tuesday_sent), "unassigned").data["meetings"] != []
    assert one(due([t], local(2026, 11, 24, 9, 30)), "unassigned").data["meetings"] == []   # none on Tuesdays


def test_flagged_tickets_several_members_and_triage_removed():
    several = fold(TEAM, "goc:20",
                   (local(2026, 11, 20, 10), dict(title="Two owners", assignees=(TRIAGE,))),
                   (local(2026, 11, 20, 11), dict(assignees=(TRIAGE, "Ada Lovelace", "Grace Hopper"))))
    removed = fold(TEAM, "goc:21",
                   (local(2026, 11, 20, 10), dict(title="Quiet", assignees=(TRIAGE,))),
                   (local(2026, 11, 20, 11), dict(assignees=("Alan Turing",))))
    assert several.owner == ADA and len(several.assignment_order) == 2
    assert removed.triage_removed and removed.owner == ALAN
    digest = one(due([unowned(), several, removed], local(2026, 11, 23, 9, 30)), "unassigned")
    flagged = {r["key"]: r["flags"] for r in digest.data["flagged"]}
    assert flagged == {"goc:20": ["several team members assigned"],
                       "goc:21": ["triage pseudo-user removed: the stream no longer hears about it"]}
    assert digest.tickets == ("goc:1",)          # flagged but owned: not waiting for triage


def test_no_digest_without_an_unassigned_ticket_past_the_threshold():
    fresh = unowned(opened=liso(2026, 11, 23, 9, 0))
    assert [m for m in due([fresh, owned(team_update=liso(2026, 11, 23, 9))], local(2026, 11, 23, 9, 30))
            if m.kind == "unassigned"] == []


# --- owner reminder ----------------------------------------------------------------------------

def test_owner_reminder_after_stale_after_days_business_days_cc_duty():
    t = owned(team_update=liso(2026, 11, 16, 10, 0))         # Monday 10:00
    assert reminders(due([t], local(2026, 11, 18, 9, 30))) == []     # 15.5 business hours: 1 business day
    mail = one(due([t], local(2026, 11, 18, 14, 0)), "owner")        # 20 business hours: 2 business days
    assert mail.to == (ADA,)
    assert mail.cc == (ALAN,)                                        # on duty the week of 11-16
    assert mail.duty == ALAN
    assert mail.tickets == ("goc:2",)
    assert mail.period == "2026-11-18"
    assert mail.in_reply_to == t.latest_message_id
    assert mail.data["ticket"]["idle_days"] == 2 and mail.data["ticket"]["overdue"] is False
    assert mail.data["owner"] == {"name": "Ada Lovelace", "email": ADA}


def test_stale_days_skip_the_weekend_and_thanksgiving():
    friday = owned(team_update=liso(2026, 11, 20, 15, 0))
    assert reminders(due([friday], local(2026, 11, 24, 14, 0))) == []         # Tuesday: 2 + 8 + 5 = 15 h
    assert one(due([friday], local(2026, 11, 25, 9, 30)), "owner").data["ticket"]["idle_days"] == 2   # 18.5 h
    wednesday = owned(team_update=liso(2026, 11, 25, 10, 0))
    assert reminders(due([wednesday], local(2026, 11, 30, 9, 30))) == []      # 7 + 0 (Thu) + 8 + 0.5 h
    assert one(due([wednesday], local(2026, 11, 30, 14, 0)), "owner").data["ticket"]["idle_days"] == 2


def test_owner_reminder_cc_is_empty_when_the_owner_is_on_duty():
    t = owned(owner=GRACE, team_update=liso(2026, 11, 25, 10, 0))
    mail = one(due([t], local(2026, 11, 30, 14, 0)), "owner")    # Ada on duty the week of 11-30
    assert mail.cc == (ADA,)
    mine = owned(owner=ADA, team_update=liso(2026, 11, 25, 10, 0))
    assert one(due([mine], local(2026, 11, 30, 14, 0)), "owner").cc == ()


def test_owner_reminder_when_the_next_action_deadline_passed():
    t = owned(team_update=liso(2026, 11, 23, 16, 0), next_action_deadline=liso(2026, 11, 24, 9, 0))
    assert reminders(due([t], local(2026, 11, 23, 14, 0))) == []
    mail = one(due([t], local(2026, 11, 24, 9, 30)), "owner")
    assert mail.data["ticket"]["overdue"] is True
    assert mail.data["ticket"]["deadline"] == "2026-11-24 09:00"      # local time
    assert mail.data["ticket"]["idle_days"] == 0                      # 1.5 business hours


def test_owner_reminder_only_while_open():
    stale = dict(team_update=liso(2026, 11, 16, 10, 0))
    for status in ("waiting-on-user", "resolved", "closed"):
        t = owned(status=status, status_since=liso(2026, 11, 20, 10, 0), **stale)
        assert [m for m in due([t], local(2026, 11, 23, 9, 30)) if m.kind in ("owner", "owner-away")] == [], status


def test_no_owner_reminder_after_a_fresh_team_update():
    t = owned(team_update=liso(2026, 11, 16, 10, 0))
    assert one(due([t], local(2026, 11, 18, 14, 0)), "owner")
    updated = replace(t, last_team_update_at=liso(2026, 11, 18, 11, 0))
    assert reminders(due([updated], local(2026, 11, 18, 14, 0))) == []
    assert reminders(due([updated], local(2026, 11, 19, 9, 30))) == []


def test_team_update_by_folding_changes_resets_staleness():
    t = fold(TEAM, "goc:30",
             (local(2026, 11, 16, 10), dict(title="Build fails", status="open", assignees=(TRIAGE, "Ada Lovelace"),
                                             next_action="Investigate", actor="Alice Operator")),
             (local(2026, 11, 19, 10), dict(actor="Ada Lovelace", summary="looking")))
    assert t.last_team_update_at == liso(2026, 11, 19, 10)
    assert reminders(due([t], local(2026, 11, 23, 9, 30))) == []          # 7 + 8 + 0.5 business hours
    assert one(due([t], local(2026, 11, 23, 14, 0)), "owner").data["ticket"]["idle_days"] == 2


def test_owner_reminder_not_repeated_within_repeat_after_days():
    t = owned(team_update=liso(2026, 11, 16, 10, 0))
    log = [sent("owner", ["goc:2"], local(2026, 11, 18, 9, 30))]
    assert reminders(due([t], local(2026, 11, 18, 14, 0), log)) == []      # same day
    assert reminders(due([t], local(2026, 11, 19, 9, 30), log)) == []      # 1 business day later
    assert one(due([t], local(2026, 11, 20, 9, 30), log), "owner").period == "2026-11-20"
    # another kind, or another ticket, does not count
    other = [sent("user", ["goc:2"], local(2026, 11, 18, 9, 30)), sent("owner", ["goc:99"], local(2026, 11, 18, 9, 30))]
    assert one(due([t], local(2026, 11, 19, 9, 30), other), "owner")


def test_repeat_window_counts_business_days_not_calendar_days():
    t = owned(team_update=liso(2026, 11, 16, 10, 0))
    log = [sent("owner", ["goc:2"], local(2026, 11, 20, 9, 30))]          # Friday
    assert reminders(due([t], local(2026, 11, 23, 9, 30), log)) == []      # Monday: 1 business day
    assert one(due([t], local(2026, 11, 24, 9, 30), log), "owner")          # Tuesday: 2
    log = [sent("owner", ["goc:2"], local(2026, 11, 25, 9, 30))]          # Wednesday before Thanksgiving
    assert reminders(due([t], local(2026, 11, 27, 9, 30), log)) == []      # Friday: 1
    assert one(due([t], local(2026, 11, 30, 9, 30), log), "owner")


def test_owner_away_tells_the_person_on_duty_instead():
    t = owned(team_update=liso(2026, 12, 16, 10, 0))                      # Ada away 12-21..2027-01-01
    mail = one(due([t], local(2026, 12, 22, 9, 30)), "owner-away")
    assert mail.to == (GRACE,) and mail.duty == GRACE and mail.cc == ()
    assert mail.data["away_until"] == "2027-01-01"
    assert mail.data["owner"]["name"] == "Ada Lovelace"
    assert mail.in_reply_to == t.latest_message_id
    assert [m for m in due([t], local(2026, 12, 22, 9, 30)) if m.kind == "owner"] == []
    # back at work: the owner is reminded again
    ledger = LEDGER + [week(date(2027, 1, 4), GRACE)]
    assert one(due([t], local(2027, 1, 4, 9, 30), ledger=ledger), "owner").to == (ADA,)


def test_an_outage_counts_whatever_the_case_of_its_address_in_every_stage():
    """Addresses compare case-insensitively (people.outage_on): an outage written `Ada@Example.ORG`
    is Ada's for the reminders, the handoff, the rotation and the suggested owners alike."""
    from maildaemon import rotation
    from maildaemon.handoff import handoff
    from maildaemon.suggest import Suggester
    shouting = team(outages=[{"member": ADA.upper(), "start": date(2026, 12, 21), "end": date(2027, 1, 1)}])
    t = owned(team_update=liso(2026, 12, 16, 10, 0))
    now = local(2026, 12, 22, 9, 30)
    mail = one(due([t], now, t=shouting), "owner-away")
    assert mail.data["away_until"] == "2027-01-01"
    [warned] = handoff([t], LEDGER, shouting, now).data["warnings"]
    assert "owner away until 2027-01-01" in warned["flags"]
    assert ADA not in {m.email for m in rotation.free_members(date(2026, 12, 21), shouting)}
    assert ADA not in Suggester(shouting, [t]).eligible(now)


# --- user reminder and close suggestion ---------------------------------------------------------

def test_user_reminder_from_user_wait_days_to_the_submitter_cc_the_list():
    t = waiting(since=liso(2026, 11, 16, 10, 0))         # Monday 10:00
    assert reminders(due([t], local(2026, 11, 23, 9, 30))) == []          # 39.5 business hours: 4 days
    mail = one(due([t], local(2026, 11, 23, 14, 0)), "user")             # 44 business hours: 5 days
    assert mail.to == ("jane@example.edu",)
    assert mail.cc == (LIST,)
    assert mail.duty == GRACE
    assert mail.data["ticket"]["waiting_days"] == 5
    assert mail.in_reply_to == t.latest_message_id


def test_no_user_reminder_without_a_submitter():
    t = waiting(since=liso(2026, 11, 16, 10, 0), submitter=None)
    assert reminders(due([t], local(2026, 11, 23, 9, 30))) == []


def test_user_reminder_repeats_after_repeat_after_days_then_the_close_suggestion():
    t = waiting(since=liso(2026, 11, 16, 10, 0))
    log = [sent("user", ["goc:3"], local(2026, 11, 23, 14, 0))]
    assert reminders(due([t], local(2026, 11, 24, 14, 0), log)) == []
    assert one(due([t], local(2026, 11, 25, 14, 0), log), "user")
    # 10 business days of 8 hours from Monday 10:00, Thanksgiving skipped: Tuesday 12-01 10:00
    assert one(due([t], local(2026, 11, 30, 14, 0)), "user").data["ticket"]["waiting_days"] == 9
    assert one(due([t], local(2026, 12, 1, 9, 30)), "user").data["ticket"]["waiting_days"] == 9   # 79.5 h
    close = one(due([t], local(2026, 12, 1, 14, 0), log), "close")
    assert [m for m in due([t], local(2026, 12, 1, 14, 0)) if m.kind == "user"] == []
    assert close.to == (ADA,)
    assert close.cc == ()
    assert close.data["ticket"]["waiting_days"] == 10
    assert close.data["owner"]["email"] == ADA


def test_close_suggestion_goes_to_duty_when_there_is_no_owner_or_the_owner_is_away():
    nobody = waiting("goc:4", since=liso(2026, 11, 16, 10, 0), owner=None)
    mails = due([nobody], local(2026, 12, 1, 14, 0))
    assert one(mails, "close").to == (ADA,)            # Ada is on duty the week of 11-30
    away = waiting("goc:5", since=liso(2026, 12, 1, 10, 0), owner=ADA)
    assert one(due([away], local(2026, 12, 22, 9, 30)), "close").to == (GRACE,)


def test_no_user_reminder_right_after_the_user_replied():
    t = waiting(since=liso(2026, 11, 16, 10, 0), last_user_update_at=liso(2026, 11, 20, 16, 0))
    assert [m for m in due([t], local(2026, 11, 23, 9, 30)) if m.kind == "user"] == []


# --- handoff time ------------------------------------------------------------------------------

def test_handoff_is_due_from_handoff_time_until_the_week_ends():
    assert not policy.handoff_due(TEAM, local(2026, 11, 20, 14, 59))
    assert policy.handoff_due(TEAM, local(2026, 11, 20, 15, 0))
    assert policy.handoff_due(TEAM, local(2026, 11, 22, 23, 59))         # caught up over the weekend
    assert not policy.handoff_due(TEAM, local(2026, 11, 23, 9, 0))        # the next week, before Friday
    assert not policy.handoff_due(TEAM, local(2026, 11, 18, 15, 0))


# --- duty announcement -------------------------------------------------------------------------

def test_announcement_due_from_announce_time_and_caught_up_later_in_the_week():
    assert due([], local(2026, 11, 23, 8, 59)) == []
    at_nine = one(due([], local(2026, 11, 23, 9, 0)), "announcement")
    assert at_nine.period == "week-2026-11-23"
    assert at_nine.duty == GRACE
    assert at_nine.to == (ADA, GRACE, ALAN, LINUS)
    assert at_nine.data["this_week"]["name"] == "Grace Hopper"
    assert at_nine.data["next_week"]["name"] == "Ada Lovelace"
    assert [h["name"] for h in at_nine.data["this_week"]["holidays"]] == ["Thanksgiving Day"]
    later = one(due([], local(2026, 11, 25, 15, 0)), "announcement")
    assert later.period == "week-2026-11-23"
    assert one(due([], local(2026, 11, 29, 23, 59)), "announcement").period == "week-2026-11-23"
    assert due([], local(2026, 11, 30, 8, 0)) == []                  # the next week, before 09:00


def test_announcement_week_is_taken_on_the_team_calendar():
    # Monday 2026-11-30 14:30 UTC = 08:30 CST: before the announcement
    assert due([], datetime(2026, 11, 30, 14, 30, tzinfo=timezone.utc)) == []
    assert one(due([], datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)), "announcement").period == "week-2026-11-30"


def test_tuesday_team_monday_belongs_to_the_week_that_started_last_tuesday():
    tue = team(duty_start="tue", policy={"announce_time": "tue 09:00"})
    ledger = [week(date(2026, 11, 17), ALAN), week(date(2026, 11, 24), GRACE)]
    mails = due([unowned()], local(2026, 11, 23, 9, 30), t=tue, ledger=ledger)
    assert one(mails, "unassigned").to == (ALAN,)
    assert one(mails, "announcement").period == "week-2026-11-17"
    assert [m for m in due([], local(2026, 11, 24, 8, 59), t=tue, ledger=ledger)] == []
    announce = one(due([], local(2026, 11, 24, 9, 0), t=tue, ledger=ledger), "announcement")
    assert announce.period == "week-2026-11-24" and announce.duty == GRACE


def test_every_mail_of_a_moment_is_decided_once():
    tickets = [unowned("goc:1"), owned("goc:2", team_update=liso(2026, 11, 16)),
               waiting("goc:3", since=liso(2026, 11, 13, 10))]
    mails = due(tickets, local(2026, 11, 23, 9, 30))
    assert kinds(mails) == ["announcement", "owner", "unassigned", "user"]
    assert len({(m.kind, m.tickets, m.period) for m in mails}) == len(mails)
    # the same moment decides the same mails
    assert due(tickets, local(2026, 11, 23, 9, 30)) == mails
