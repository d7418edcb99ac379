"""SPEC 9, "Counting, exactly", read in the mails as the person on duty reads them.

Every threshold is tested at the moments on both sides of it. Team: America/Chicago, work hours
09:00-17:00 (8 business hours a business day), US holidays (Thanksgiving 2026-11-26), see builders.py.
Extra reminder times (13:29, 13:30) put a slot on each side of a Monday-13:30 threshold.
"""
from datetime import date, datetime, timezone

from builders import ADA, LEDGER, TRIAGE, fold, liso, local, sent, team, ticket, week
from maildaemon.handoff import handoff
from maildaemon.policy import due_reminders
from maildaemon.render import compose, environment

ENV = environment()
TIMES = {"reminder_times": ["09:30", "13:29", "13:30", "14:00"]}
TEAM = team(policy=TIMES)
ONE_DAY = team(policy=dict(TIMES, stale_after_days=1))


def due(tickets, now, t=TEAM, sent_log=(), ledger=LEDGER):
    return due_reminders(tickets, ledger, t, list(sent_log), now)


def mails(tickets, now, kind, t=TEAM, sent_log=(), ledger=LEDGER):
    return [m for m in due(tickets, now, t, sent_log, ledger) if m.kind == kind]


def text(mail, now, t=TEAM):
    """The text part exactly as the mail carries it, lines unwrapped for phrase matching."""
    return compose(ENV, mail, t, now, mime=False).text


def flat(s: str) -> str:
    return " ".join(s.split())


def owned(key="goc:2", team_update=liso(2026, 11, 16, 13, 30), **kw):
    """Ada's ticket, taken and last updated by the team on Monday 2026-11-16 13:30."""
    kw.setdefault("opened_at", liso(2026, 11, 16, 9, 0))
    kw.setdefault("owner_changed_at", team_update)
    return ticket(key, title="Pilot jobs fail", owner=ADA, assignees=(TRIAGE, "Ada Lovelace"),
                  assignment_order=(ADA,), next_action="Investigate", last_team_update_at=team_update, **kw)


def waiting(key="goc:3", since=liso(2026, 11, 16, 13, 30), **kw):
    kw.setdefault("opened_at", liso(2026, 11, 2, 10))
    return ticket(key, title="Cannot install client", owner=ADA, assignees=(ADA,), assignment_order=(ADA,),
                  status="waiting-on-user", status_raw="Customer", status_since=since, last_team_update_at=since,
                  owner_changed_at=liso(2026, 11, 2, 10), **kw)


# --- idle is elapsed business time ----------------------------------------------------------------

def test_spec_example_monday_1330_is_one_business_day_idle_from_tuesday_1330_not_before():
    t = owned()
    # Tuesday 09:30: 3.5 + 0.5 = 4 business hours (SPEC's example says 2.5, which its own 8-hour day
    # from 13:30 to 13:30 contradicts); 13:29: 7 h 59 min; neither is a business day
    assert mails([t], local(2026, 11, 17, 9, 30), "owner", t=ONE_DAY) == []
    assert mails([t], local(2026, 11, 17, 13, 29), "owner", t=ONE_DAY) == []
    [mail] = mails([t], local(2026, 11, 17, 13, 30), "owner", t=ONE_DAY)
    body = flat(text(mail, local(2026, 11, 17, 13, 30), ONE_DAY))
    assert 'goc:2 "Pilot jobs fail" is yours and has had no update from the team for 1 business day.' in body


def test_two_business_days_idle_from_wednesday_1330_and_the_handoff_says_the_same():
    t = owned()
    assert mails([t], local(2026, 11, 18, 13, 29), "owner") == []
    [mail] = mails([t], local(2026, 11, 18, 13, 30), "owner")
    assert "has had no update from the team for 2 business days." in flat(text(mail, local(2026, 11, 18, 13, 30)))
    assert "(2 days ago)" in text(mail, local(2026, 11, 18, 13, 30))        # opened Monday 09:00, wall clock


def test_the_handoff_counts_idle_time_like_the_reminders():
    t = owned()
    tuesday = handoff([t], LEDGER, TEAM, local(2026, 11, 17, 9, 30))
    body = text(tuesday, local(2026, 11, 17, 9, 30))
    assert "    goc:2  Pilot jobs fail\n        1 day old, no team update for 4 business hours\n" in body
    before = text(handoff([t], LEDGER, TEAM, local(2026, 11, 17, 13, 29)), local(2026, 11, 17, 13, 29))
    assert "no team update for 7.9 business hours\n" in before
    after = text(handoff([t], LEDGER, TEAM, local(2026, 11, 17, 13, 30)), local(2026, 11, 17, 13, 30))
    assert "no team update for 1 business day\n" in after
    stale = text(handoff([t], LEDGER, TEAM, local(2026, 11, 18, 13, 30)), local(2026, 11, 18, 13, 30))
    assert "no team update for 2 business days; STALE\n" in stale


def test_a_weekend_and_a_holiday_add_no_idle_time():
    t = owned(team_update=liso(2026, 11, 25, 13, 30))         # Wednesday before Thanksgiving
    # Wed 3.5 h + Thanksgiving 0 + Fri 8 h + weekend 0 + Mon 4.5 h = 16 h on Monday 13:30
    assert mails([t], local(2026, 11, 30, 13, 29), "owner") == []
    [mail] = mails([t], local(2026, 11, 30, 13, 30), "owner", ledger=LEDGER)
    assert "for 2 business days." in flat(text(mail, local(2026, 11, 30, 13, 30)))


def test_the_user_is_reminded_after_five_business_days_and_the_owner_told_to_close_after_ten():
    t = waiting()
    assert mails([t], local(2026, 11, 23, 13, 29), "user") == []
    [user] = mails([t], local(2026, 11, 23, 13, 30), "user")                 # 40 business hours
    assert user.to == ("jane@example.edu",)
    # 80 business hours, Thanksgiving skipped: Tuesday 12-01 13:30
    assert mails([t], local(2026, 12, 1, 13, 29), "close") == []
    assert [m.kind for m in due([t], local(2026, 12, 1, 13, 29)) if m.kind != "announcement"] == ["user"]
    [close] = mails([t], local(2026, 12, 1, 13, 30), "close")
    now = local(2026, 12, 1, 13, 30)
    out = compose(ENV, close, TEAM, now, mime=False)
    assert out.subject == "Close goc:3? Waiting on the user for 10 business days"
    assert 'goc:3 "Cannot install client" has waited on the user for 10 business days' in flat(out.text)


def test_a_reminder_is_repeated_after_repeat_after_days_counted_from_the_slot_it_went_out_in():
    t = owned(team_update=liso(2026, 11, 9, 10))
    # the daemon's tick queued it 40 seconds into Wednesday's 14:00 slot
    log = [sent("owner", ["goc:2"], datetime(2026, 11, 18, 14, 0, 40, tzinfo=local(2026, 11, 18).tzinfo))]
    assert mails([t], local(2026, 11, 19, 14, 0), "owner", sent_log=log) == []     # 8 h: 1 business day
    assert mails([t], local(2026, 11, 20, 9, 30), "owner", sent_log=log) == []     # 11.5 h, two dates later
    assert mails([t], local(2026, 11, 20, 13, 30), "owner", sent_log=log) == []    # 15.5 h
    assert len(mails([t], local(2026, 11, 20, 14, 0), "owner", sent_log=log)) == 1  # 16 h from the slot


# --- units, in words, agreeing in number ----------------------------------------------------------

def test_the_unassigned_digest_names_business_hours_in_agreement():
    one = ticket("goc:1", title="New", opened_at=liso(2026, 11, 20, 16, 0), assignees=(TRIAGE,),
                 next_action="SOFTWARE TRIAGE")
    now = local(2026, 11, 23, 14, 0)
    [digest] = mails([one], now, "unassigned", t=team())
    assert "      opened 2026-11-20 16:00, 6 business hours ago; no owner\n" in text(digest, now, team())
    quick = team(policy={"unassigned_after_hours": 0.5})
    [digest] = mails([one], local(2026, 11, 20, 16, 30), "unassigned", t=team(policy={
        "unassigned_after_hours": 0.5, "reminder_times": ["16:30"]}))
    assert "opened 2026-11-20 16:00, 0.5 business hours ago" in text(digest, local(2026, 11, 20, 16, 30), quick)
    hour = ticket("goc:9", title="New", opened_at=liso(2026, 11, 23, 9, 0), assignees=(TRIAGE,))
    [digest] = mails([hour], local(2026, 11, 23, 10, 0), "unassigned", t=team(policy={
        "unassigned_after_hours": 1, "reminder_times": ["10:00"]}))
    assert "opened 2026-11-23 09:00, 1 business hour ago" in text(digest, local(2026, 11, 23, 10, 0))


def test_the_owner_reminder_says_1_day_ago_not_1_days():
    t = owned(opened_at=liso(2026, 11, 17, 13, 0), team_update=liso(2026, 11, 17, 13, 0))
    now = local(2026, 11, 18, 13, 30)
    [mail] = mails([t], now, "owner", t=ONE_DAY)
    body = text(mail, now, ONE_DAY)
    assert "  opened:       2026-11-17 13:00 (1 day ago)\n" in body
    assert "no update from the team for 1 business day." in flat(body)


def test_handoff_medians_are_business_hours_and_say_so():
    friday = fold(TEAM, "goc:1",
                  (local(2026, 11, 13, 16), dict(title="Friday arrival", status="open", assignees=(TRIAGE,))),
                  (local(2026, 11, 16, 10), dict(assignees=(TRIAGE, "Ada Lovelace"), actor="Alice Operator")),
                  (local(2026, 11, 16, 12), dict(actor="Ada Lovelace", summary="looking")))
    now = local(2026, 11, 20, 15)
    due_ = handoff([friday], LEDGER, TEAM, now)
    # Friday 16:00 -> Monday 10:00 is 66 wall-clock hours but 2 business hours
    assert due_.data["median_hours_to_assignment"] == 2.0
    body = text(due_, now)
    assert "Median time in business hours   to assignment  to first response\n" in body
    assert "  week of 2026-11-09                      2.0                4.0\n" in body
    assert "  last eight weeks                        2.0                4.0\n" in body
    assert " h\n" not in body and "Median time to assignment" not in body


# --- the handoff's headline and table agree --------------------------------------------------------

def test_the_headline_delta_and_the_week_over_week_table_are_the_same_figures():
    # opened last Friday after 15:00: open at the end of last week, not at the same moment
    late = fold(TEAM, "goc:1", (local(2026, 11, 13, 16), dict(title="Late Friday", status="open",
                                                             assignees=(TRIAGE,))))
    monday = fold(TEAM, "goc:2", (local(2026, 11, 16, 10), dict(title="Monday", status="open", assignees=(TRIAGE,))))
    now = local(2026, 11, 20, 15)
    body = text(handoff([late, monday], LEDGER, TEAM, now), now)
    assert body.startswith("This week: Alan Turing\nNext week: Grace Hopper\n2 (+2) open tickets\n")
    assert ("Week over week, each week up to Friday 15:00:\n"
            "                          this week  last week\n"
            "  new tickets                     1          0\n"
            "  closed tickets                  0          0\n"
            "  open tickets                    2          0\n") in body
    # the eight-week chart is a different figure, and says so
    assert "(open: at the end of each week,\nthis week: now)" in body
    assert "  2026-11-09       1      1       0\n" in body


def test_a_week_earlier_is_the_same_wall_clock_time_across_the_dst_change():
    # Friday 2026-11-06 15:00 CST; a week earlier is Friday 10-30 15:00 CDT (168 h before would be 16:00)
    t = fold(TEAM, "goc:1", (local(2026, 10, 30, 15, 30), dict(title="Half past three", status="open",
                                                              assignees=(TRIAGE,))))
    now = datetime(2026, 11, 6, 21, 0, tzinfo=timezone.utc)
    d = handoff([t], LEDGER, TEAM, now).data
    assert (d["open_now"], d["open_delta"]) == (1, "+1")
    assert d["week_over_week"]["open"] == (1, 0) and d["week_over_week"]["new"] == (0, 0)


# --- meetings still to come ------------------------------------------------------------------------

def test_a_digest_lists_only_the_meetings_still_to_come_that_day():
    t = ticket("goc:1", title="Unowned", opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,))
    both = team()
    morning = local(2026, 11, 23, 9, 30)                      # Monday: Team standup at 11:00
    [digest] = mails([t], morning, "unassigned", t=both)
    assert "Today's meetings still to come:\n  11:00  Team standup\n" in text(digest, morning, both)
    afternoon = local(2026, 11, 23, 14, 0)                   # the first digest of the day at 14:00
    [digest] = mails([t], afternoon, "unassigned", t=both)
    assert digest.data["meetings"] == []
    body = text(digest, afternoon, both)
    assert "11:00" not in body and "Team standup" not in body and "meetings" not in body
    wednesday = local(2026, 11, 25, 14, 0)                   # the Operations meeting at 16:00 is still to come
    [digest] = mails([t], wednesday, "unassigned", t=both)
    assert "  16:00  Operations meeting\n" in text(digest, wednesday, both)


# --- no mail signed by nobody ----------------------------------------------------------------------

def test_nothing_at_all_is_due_while_no_one_is_on_duty_this_week():
    gap = [w for w in LEDGER if w.week != date(2026, 11, 23)]     # the week of 11-23 has no one
    tickets = [ticket("goc:1", title="Unowned", opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,)),
               owned(team_update=liso(2026, 11, 2, 10)), waiting(since=liso(2026, 11, 2, 10))]
    for now in (local(2026, 11, 23, 9, 0), local(2026, 11, 23, 9, 30), local(2026, 11, 25, 14, 0),
                local(2026, 11, 29, 23, 59)):
        assert due(tickets, now, ledger=gap) == [], now
    # the week before and the week after: the announcement, the digest and the reminders go out
    assert {m.kind for m in due(tickets, local(2026, 11, 30, 9, 30), ledger=gap)} == \
        {"announcement", "unassigned", "owner", "close"}
    assert {m.kind for m in due(tickets, local(2026, 11, 20, 9, 30), ledger=gap)} >= {"unassigned", "owner"}


def test_someone_stored_who_is_not_in_the_team_file_signs_nothing():
    ledger = [week(date(2026, 11, 23), "gone@example.org")]
    t = ticket("goc:1", title="Unowned", opened_at=liso(2026, 11, 2, 10), assignees=(TRIAGE,))
    assert due([t], local(2026, 11, 23, 9, 30), ledger=ledger) == []


# --- text parts within 78 columns, columns aligned -------------------------------------------------

LONG = "Pilot jobs fail at the Example site since the upgrade to HTCondor 24 with a very long title"


def test_text_parts_stay_within_78_columns_with_long_titles_and_keys():
    t = team()
    tickets = [
        fold(t, "github:example-org/a-rather-long-repository-name#12345",
             (local(2026, 11, 16, 10), dict(title=LONG, status="open", assignees=(TRIAGE,)))),
        fold(t, "goc:41234", (local(2026, 11, 16, 10), dict(title=LONG, status="open", assignees=(TRIAGE,)))),
        fold(t, "github:example-org/client#45",
             (local(2026, 11, 2, 10), dict(title=LONG, status="open", assignees=(TRIAGE, "Ada Lovelace"))),
             (local(2026, 11, 2, 11), dict(actor="Ada Lovelace"))),
        fold(t, "rt:1234", (local(2026, 11, 2, 10), dict(title=LONG, status="open", assignees=("Grace Hopper",),
                                                          next_action_deadline=local(2026, 11, 3, 10)))),
    ]
    now = local(2026, 11, 20, 15)
    found = [handoff(tickets, LEDGER, t, now)] + due(tickets, local(2026, 11, 20, 14, 0), t=t)
    assert {m.kind for m in found} >= {"handoff", "unassigned", "owner"}
    for mail in found:
        body = text(mail, now, t)
        too_long = [line for line in body.splitlines() if len(line) > 78]
        assert too_long == [], (mail.kind, too_long)
    body = text(found[0], now, t)
    # keys in one column (at most 30 wide): every title of a list starts in the same column
    assert ("Unassigned tickets (2):\n"
            "  github:example-org/a-rather-long-repository-name#12345\n"
            "                                  Pilot jobs fail at the Example site since t…\n"
            "      opened 2026-11-16 10:00, 4 days old; no owner\n"
            "  goc:41234                       Pilot jobs fail at the Example site since t…\n") in body
    assert ("  Ada Lovelace (1):\n"
            "    github:example-org/client#45    Pilot jobs fail at the Example site since…\n"
            "        18 days old, no team update for 13 business days; STALE\n") in body
    # lists of the rotation and the meetings are columns too
    assert "  Monday     2026-11-23  11:00  Team standup\n  Wednesday  2026-11-25  16:00  Operations meeting\n" \
        in body
    assert "  2026-11-23  Grace Hopper\n              holiday: 2026-11-26 Thanksgiving Day\n" in body
