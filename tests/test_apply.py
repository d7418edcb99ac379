"""State transitions: pure, no files, no clock."""
from datetime import datetime, timedelta, timezone

from maildaemon.apply import APPLIED, LATE, apply
from maildaemon.config import team_from_dict
from maildaemon.model import Change

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
TEAM = team_from_dict({
    "team": {"name": "Software Team", "timezone": "America/Chicago",
             "list_address": "software-support-stream@example.org", "from_address": "triage@example.org",
             "triage_user": "Software Support (Triage)"},
    "members": [{"name": "Ada Lovelace", "email": "ada@example.org", "aliases": ["alovelace", "@alovelace"]},
                {"name": "Grace Hopper", "email": "grace@example.org"},
                {"name": "Alan Turing", "email": "alan@example.org"}],
})


def change(n: int, hours: float = 0, **kw) -> Change:
    base = dict(key="goc:1", system="goc", id="1", message_id=f"<m{n}@x>", at=T0 + timedelta(hours=hours))
    base.update(kw)
    return Change(**base)


def fold(*changes):
    t = None
    outcomes = []
    for c in changes:
        t, o = apply(t, c, TEAM)
        outcomes.append(o)
    return t, outcomes


def test_first_mail_creates_the_ticket_and_triage_user_is_never_owner():
    t, _ = fold(change(1, title="Pilot jobs fail", status="open", status_raw="Engineering",
                       assignees=("Alice Operator (GOC)", "Software Support (Triage)"), submitter="jane@example.edu"))
    assert t.title == "Pilot jobs fail"
    assert t.owner is None
    assert t.assignees == ("Alice Operator (GOC)", "Software Support (Triage)")
    assert t.opened_at == "2026-11-23T15:00:00+00:00"
    assert t.history[0].kinds[0] == "assignees" or "created" in t.history[0].kinds


def test_member_assigned_becomes_owner_matched_by_name_alias_or_local_part():
    for who in ("Ada Lovelace", "alovelace", "@alovelace", "ada", "Ada Lovelace <ada@example.org>",
                "ada@example.org", "Ada Lovelace (Software)"):
        t, _ = fold(change(1, assignees=("Software Support (Triage)", who)))
        assert t.owner == "ada@example.org", who


def test_several_members_newest_wins_first_listed_when_added_together():
    t, _ = fold(change(1, assignees=("Software Support (Triage)", "Grace Hopper", "Ada Lovelace")))
    assert t.owner == "grace@example.org"
    t, _ = apply(t, change(2, 1, assignees=("Grace Hopper", "Ada Lovelace", "Alan Turing")), TEAM)
    assert t.owner == "alan@example.org"
    assert len(t.assignment_order) == 3


def test_owner_removed_hands_over_to_most_recent_remaining_or_none():
    t, _ = fold(change(1, assignees=("Grace Hopper",)), change(2, 1, assignees=("Grace Hopper", "Ada Lovelace")))
    assert t.owner == "ada@example.org"
    t, _ = apply(t, change(3, 2, assignees=("Grace Hopper",)), TEAM)
    assert t.owner == "grace@example.org"
    t, _ = apply(t, change(4, 3, assignees=("Software Support (Triage)",)), TEAM)
    assert t.owner is None


def test_delta_assignment_for_systems_that_send_only_changes():
    t, _ = fold(change(1, assignees_added=("@alovelace",)))
    assert t.owner == "ada@example.org"
    t, _ = apply(t, change(2, 1, assignees_removed=("@alovelace",)), TEAM)
    assert t.owner is None and t.assignees == ()


def test_fields_not_carried_keep_their_value():
    t, _ = fold(change(1, title="A", status="waiting-on-user", status_raw="Customer", next_action="ENG Action",
                       cc=("bob@example.edu",)),
                change(2, 1, summary="a comment"))
    assert (t.title, t.status, t.next_action, t.cc) == ("A", "waiting-on-user", "ENG Action", ("bob@example.edu",))


def test_status_kinds_closed_and_reopened():
    t, _ = fold(change(1, status="open"), change(2, 1, status="resolved"))
    assert set(t.history[-1].kinds) >= {"status", "closed"}
    t, _ = apply(t, change(3, 2, status="open"), TEAM)
    assert set(t.history[-1].kinds) >= {"status", "reopened"}


def test_late_mail_is_recorded_without_rolling_back():
    t, outcomes = fold(change(1, status="open", title="A"), change(2, 5, status="resolved"),
                       change(3, 2, status="waiting-on-user", submitter="jane@example.edu"))
    assert outcomes == [APPLIED, APPLIED, LATE]
    assert t.status == "resolved"
    assert t.submitter == "jane@example.edu"          # unknown before: filled in
    assert [h.late for h in t.history] == [False, True, False]   # history in time order
    assert t.updated_at == (T0 + timedelta(hours=5)).isoformat()


def test_late_creation_mail_moves_opened_at_back():
    t, _ = fold(change(2, 5, status="open"), change(1, 0, title="Original title"))
    assert t.opened_at == T0.isoformat()
    assert t.title == "Original title"


def test_update_clocks_team_member_versus_submitter_versus_operator():
    t, _ = fold(change(1, submitter="jane@example.edu", actor="Jane User <jane@example.edu>"))
    assert t.last_user_update_at == T0.isoformat() and t.last_team_update_at is None
    t, _ = apply(t, change(2, 1, actor="Ada Lovelace"), TEAM)
    assert t.last_team_update_at == (T0 + timedelta(hours=1)).isoformat()
    t, _ = apply(t, change(3, 2, actor="Alice Operator (GOC)"), TEAM)
    assert t.last_team_update_at == (T0 + timedelta(hours=1)).isoformat()
    assert t.last_user_update_at == T0.isoformat()


def test_actor_time_is_the_entry_time_and_never_moves_back():
    entry = T0 - timedelta(days=1)
    t, _ = fold(change(1, 0, actor="Ada Lovelace", actor_at=entry),
                change(2, 1, actor="Ada Lovelace", actor_at=entry - timedelta(days=1)))
    assert t.last_team_update_at == entry.isoformat()


def test_links_are_merged_without_duplicates():
    link = {"key": "jira:SOFTWARE-1", "url": "https://jira.example.org/browse/SOFTWARE-1"}
    t, _ = fold(change(1, links=(link,)), change(2, 1, links=(link, {"key": "github:o/r#2", "url": None})))
    assert [x["key"] for x in t.links] == ["jira:SOFTWARE-1", "github:o/r#2"]


def test_ticket_round_trips_through_its_stored_document():
    from maildaemon.model import Ticket
    t, _ = fold(change(1, title="Ü", assignees=("Ada Lovelace",), cc=("x@y",)), change(2, 1, status="closed"))
    assert Ticket.from_doc(t.to_doc()) == t


def test_assignment_and_response_times_are_remembered_once():
    t, _ = fold(change(1, assignees=("Software Support (Triage)",), actor="Jane User"),
                change(2, 2, assignees=("Software Support (Triage)", "Ada Lovelace"), actor="Ada Lovelace"),
                change(3, 5, assignees=("Software Support (Triage)", "Grace Hopper"), actor="Grace Hopper"))
    assert t.first_assigned_at == (T0 + timedelta(hours=2)).isoformat()
    assert t.owner_changed_at == (T0 + timedelta(hours=5)).isoformat()
    assert t.first_team_update_at == (T0 + timedelta(hours=2)).isoformat()


def test_removing_the_triage_pseudo_user_is_flagged():
    t, _ = fold(change(1, assignees=("Software Support (Triage)", "Ada Lovelace")),
                change(2, 1, assignees=("Ada Lovelace",)))
    assert t.triage_removed
    t, _ = apply(t, change(3, 2, assignees=("Ada Lovelace", "software-support-stream@example.org")), TEAM)
    assert not t.triage_removed


def test_a_relayed_out_of_office_changes_nothing_and_is_no_user_update():
    t, _ = fold(change(1, status="waiting-on-user", submitter="jane@example.edu"),
                change(2, 1, status="open", actor="jane@example.edu", auto_reply=True, summary="Out of office"))
    assert t.status == "waiting-on-user" and t.last_user_update_at is None
    assert t.history[-1].kinds == ("auto-reply",)


def test_classify_marks_out_of_office_updates():
    from maildaemon.parse import is_auto_reply_text
    assert is_auto_reply_text("Correspondence added by jane@example.edu: I am out of the office until Monday")
    assert is_auto_reply_text("Automatic reply: Re: ticket 5")
    assert not is_auto_reply_text("Sorry, I was out of the office last week; logs attached")


def test_reply_route_latest_applied_wins_a_mail_without_one_keeps_it_a_late_one_only_fills_unknown():
    # issue 10: the user reminder's Reply-To and subject token are those of the latest notification
    t, _ = fold(change(1, subject_token="ISSUE=1 PROJ=71", reply_to="ticket@example.org"),
                change(2, hours=2, subject_token="ISSUE=1 PROJ=72", reply_to="goc@example.org"),
                change(3, hours=3),                                              # carries neither: kept
                change(4, hours=1, subject_token="ISSUE=1 PROJ=70", reply_to="old@example.org"))   # late
    assert (t.subject_token, t.reply_to) == ("ISSUE=1 PROJ=72", "goc@example.org")
    unknown, _ = fold(change(1), change(2, hours=-1, subject_token="ISSUE=1 PROJ=71", reply_to="ticket@example.org"))
    assert (unknown.subject_token, unknown.reply_to) == ("ISSUE=1 PROJ=71", "ticket@example.org")
