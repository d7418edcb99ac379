"""Unit tests of the GOC parser's tricky parts; whole mails are in fixtures/goc (test_fixtures)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from builders import one_part
from maildaemon.parse.base import Unparseable
from maildaemon.parse.goc import GocParser, deadline, newest_entry, split_entries, subject_title
from maildaemon.parse.mail import read_mail

FIXTURES = Path(__file__).parent / "fixtures"
CST = timezone(timedelta(hours=-6))


def make(subject: str, body: str = "", **headers: str):
    return read_mail(one_part(subject, body, from_="GOC Ticket System <ticket@example.org>",
                              date="Mon, 23 Nov 2026 20:03:15 +0000", message_id="<goc-unit@example.org>", **headers))


def test_not_recognised_other_mail():
    p = GocParser()
    assert not p.recognises(read_mail((FIXTURES / "rt" / "create.eml").read_bytes()))
    assert not p.recognises(make("Lunch on Friday?", "Status: hungry\nISSUE: none\n"))
    assert not p.recognises(make("The ISSUE is the PROJ budget"))


def test_other_systems_headers_win_over_a_quoted_token():
    mail = make("[rt.example.org #1234] Same as ISSUE=41234 PROJ=71", X_RT_Ticket="rt.example.org #1234")
    assert not GocParser().recognises(mail)


def test_token_without_numeric_id_is_unparseable():
    mail = make("Pilot jobs ISSUE=abc PROJ=71", "Status: Engineering\n")
    assert GocParser().recognises(mail)
    with pytest.raises(Unparseable, match="numeric ticket id"):
        GocParser().parse(mail)


def test_subject_token_is_the_key_whatever_the_body_says():
    c = GocParser().parse(make("ISSUE=41234 PROJ=71 - Pilot jobs", "Ticket ID: 99999\nStatus: Vendor\n"))
    assert (c.key, c.id, c.status, c.status_raw) == ("goc:41234", "41234", "open", "Vendor")


def test_token_is_case_insensitive_and_project_may_be_a_name():
    c = GocParser().parse(make("issue=7 proj=OSG-DEV Test"))
    assert (c.key, c.title) == ("goc:7", "Test")


@pytest.mark.parametrize("subject, title", [
    ("Pilot jobs fail ISSUE=1 PROJ=71", "Pilot jobs fail"),
    ("ISSUE=1 PROJ=71 - Pilot jobs fail", "Pilot jobs fail"),
    ("ISSUE=1 PROJ=71: Pilot jobs fail", "Pilot jobs fail"),
    ("Pilot jobs fail - ISSUE=1 PROJ=71", "Pilot jobs fail"),
    ("ISSUE=1 PROJ=71 Re: Pilot jobs fail", "Pilot jobs fail"),
    ("Update: ISSUE=1 PROJ=71 - Pilot jobs fail", "Update - Pilot jobs fail"),
    ("ISSUE=1 PROJ=71", ""),
])
def test_subject_title(subject, title):
    assert subject_title(subject) == title


def test_body_title_wins_over_subject():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 - old title", "Title: New title\n  continued\n"))
    assert c.title == "New title continued"


@pytest.mark.parametrize("raw, status", [
    ("Customer", "waiting-on-user"), ("customer", "waiting-on-user"), ("Resolved", "resolved"),
    ("Closed", "closed"), ("Engineering", "open"), ("Network Administration", "open"),
    ("Support Agency", "open"), ("Vendor", "open"), ("Something New", "open"),
])
def test_status_map_keeps_the_raw_word(raw, status):
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", f"Status: {raw}\n"))
    assert (c.status, c.status_raw) == (status, raw)


@pytest.mark.parametrize("value, expected", [
    ("2026-11-25 17:00:00 UTC", datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)),
    ("2026-11-25 17:00 UTC", datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)),
    ("2026-11-25 17:00:00", datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)),
    ("2026-11-25T11:00:00-0600", datetime(2026, 11, 25, 11, 0, tzinfo=CST)),
    ("2026-11-25 11:00:00 CST", datetime(2026, 11, 25, 11, 0, tzinfo=CST)),
    ("2026-11-25", datetime(2026, 11, 25, 23, 59, 59, tzinfo=timezone.utc)),
    ("2026-13-40 10:00:00 UTC", None), ("next week", None), ("", None), (None, None),
])
def test_deadline(value, expected):
    got = deadline(value)
    assert got == expected
    assert got is None or got.utcoffset() == expected.utcoffset()


def test_fields_below_the_first_entry_are_text():
    head, entries = split_entries(
        "Status: Engineering\n\nEntered on 11/23/2026 at 14:03:11 CST (GMT-0600) by Jane User:\n"
        "Status: still broken\nAssignees: me\n")
    assert "still broken" not in head
    assert entries == [("Jane User", datetime(2026, 11, 23, 14, 3, 11, tzinfo=CST),
                        "Status: still broken\nAssignees: me")]
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Status: Engineering\n\n"
                               "Entered on 11/23/2026 at 14:03:11 CST (GMT-0600) by Jane User:\n"
                               "Status: still broken\nAssignees: me\n"))
    assert (c.status_raw, c.assignees, c.summary) == ("Engineering", None, "Status: still broken")


def test_newest_entry_by_time_not_position():
    _, entries = split_entries(
        "Entered on 11/22/2026 at 09:10:00 CST (GMT-0600) by Old:\nold\n\n"
        "Entered on 11/24/2026 at 4:41:52 PM EST (GMT-05:00) by Newest:\nnew\n\n"
        "Entered on 11/24/2026 at 10:41:52 CST by Middle:\nmiddle\n\n"
        "Entered on 13/45/2026 at 10:00:00 CST (GMT-0600) by Broken:\nbroken\n")
    who, at, text = newest_entry(entries)
    assert (who, text) == ("Newest", "new")
    assert at == datetime(2026, 11, 24, 16, 41, 52, tzinfo=timezone(timedelta(hours=-5)))
    assert entries[2][1].utcoffset() == timedelta(hours=-6)      # CST without a GMT offset
    assert entries[3][1] is None                                 # unreadable time loses


def test_equal_times_first_listed_wins():
    _, entries = split_entries("Entered on 11/22/2026 at 09:10:00 UTC by A:\na\n"
                               "Entered on 11/22/2026 at 09:10:00 UTC by B:\nb\n")
    assert newest_entry(entries)[0] == "A"
    assert newest_entry([]) is None


def test_submitter_without_address_is_unknown_and_actor_stays_a_name():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Submitter: Jane User\n\n"
                               "Entered on 11/22/2026 at 09:10:00 CST (GMT-0600) by Jane User:\nhi\n"))
    assert (c.submitter, c.actor) == (None, "Jane User")


def test_actor_is_the_submitter_with_address_when_names_match():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Submitter: \"Jane User\" <Jane@Example.EDU>\n\n"
                               "Entered on 11/22/2026 at 09:10:00 CST (GMT-0600) by jane user:\nhi\n"))
    assert (c.submitter, c.actor) == ("jane@example.edu", "jane user <jane@example.edu>")


def test_empty_assignees_and_cc_are_carried_as_empty():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Assignees:\nCC:\nNext Action:\n"))
    assert (c.assignees, c.cc, c.next_action) == ((), (), "")


def test_missing_fields_are_not_carried():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Nothing to see here.\n"))
    assert (c.assignees, c.cc, c.next_action, c.status, c.url, c.priority) == (None,) * 6
    assert c.kinds == frozenset() and c.summary == ""


def test_url_must_look_like_one():
    assert GocParser().parse(make("ISSUE=1 PROJ=71 t", "Ticket URL: see portal\n")).url is None
    assert GocParser().parse(make("ISSUE=1 PROJ=71 t", "Ticket URL: <https://t.example.org/1>\n")).url \
        == "https://t.example.org/1"


# --- what users write in entries is never a field (SPEC 9: no one written to who is not part of the ticket)

ENTRY_LINE = "Entered on 11/23/2026 at 14:03:11 CST (GMT-0600) by Jane User:\n"
INJECTED = "Submitter: Victim <victim@outsider.test>\nCC: victim@outsider.test\nStatus: Closed\nAssignees: Mallory\n"


def test_a_field_label_in_an_entry_never_replaces_the_block_above():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Status: Engineering\nSubmitter: Jane User <jane@example.edu>\n\n"
                               + ENTRY_LINE + INJECTED))
    assert (c.submitter, c.cc, c.status_raw, c.assignees) == ("jane@example.edu", None, "Engineering", None)


def test_a_field_found_only_in_an_entry_is_not_taken():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Status: Engineering\n\n" + ENTRY_LINE + INJECTED))
    assert (c.submitter, c.cc, c.assignees, c.actor) == (None, None, None, "Jane User")


def test_an_unreadable_entry_line_still_ends_the_field_block():
    c = GocParser().parse(make("ISSUE=1 PROJ=71 t", "Status: Engineering\n\n"
                               "Entered on 2026-11-23 (a format we do not read) by Jane User:\n" + INJECTED))
    assert (c.submitter, c.cc, c.status_raw, c.assignees) == (None, None, "Engineering", None)


@pytest.mark.parametrize("subject, body, key, title", [
    ("Please close ISSUE=41234 PROJ=71 ISSUE=41926 PROJ=71", "Status: Closed\n", "goc:41926",
     "Please close ISSUE=41234 PROJ=71"),                                  # FootPrints appends its token
    ("ISSUE=41926 PROJ=71 - Please close ISSUE=41234 PROJ=71", "Ticket ID: 41926\n", "goc:41926",
     "Please close ISSUE=41234 PROJ=71"),                                  # the body's Ticket ID decides
])
def test_a_token_a_user_wrote_into_the_title_is_not_the_key(subject, body, key, title):
    c = GocParser().parse(make(subject, body))
    assert (c.key, c.title) == (key, title)
