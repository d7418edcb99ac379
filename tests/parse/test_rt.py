"""Unit tests of the RT parser's tricky parts; whole mails are in fixtures/rt (test_fixtures)."""
from __future__ import annotations

from pathlib import Path

import pytest

from builders import one_part
from maildaemon.parse.base import Unparseable
from maildaemon.parse.mail import read_mail
from maildaemon.parse.rt import RtParser, describe, parse_subject, split_transaction

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://rt.example.org/Ticket/Display.html?id=1234"


def make(subject: str, body: str = "", from_: str = '"Ada Lovelace via RT" <software@rt.example.org>',
         html: bool = False, **headers: str):
    return read_mail(one_part(subject, body, from_=from_, date="Tue, 24 Nov 2026 10:00:02 -0600",
                              message_id="<rt-5.0.5-12345-1795536002-1.1234-5-0@example.org>", html=html, **headers))


def transaction(desc: str, owner: str | None = "ada", status: str | None = "open", content: str = "") -> str:
    lines = ["Tue Nov 24 10:00:00 2026: Request 1234 was acted upon.", f" Transaction: {desc}",
             "       Queue: software", "     Subject: Cannot install client"]
    lines += [f"       Owner: {owner}"] if owner else []
    lines += ["  Requestors: jane@example.edu"]
    lines += [f"      Status: {status}"] if status else []
    lines += [f" Ticket <URL: {URL} >", "", "", content]
    return "\n".join(lines) + "\n"


def test_not_recognised_other_mail():
    p = RtParser()
    assert not p.recognises(read_mail((FIXTURES / "goc" / "create.eml").read_bytes()))
    assert not p.recognises(make("Lunch on Friday?", "Owner: me\nStatus: hungry\n", from_="ada@example.org"))
    # a person quoting a ticket tag is not RT's mail; nor is an RT header without a tag
    assert not p.recognises(make("Re: [rt.example.org #1234] Cannot install client", from_="ada@example.org"))
    assert not p.recognises(make("RT digest", X_Managed_by="RT 5.0.5 (http://www.bestpractical.com/rt/)"))


@pytest.mark.parametrize("headers", [
    {"X_RT_Ticket": "rt.example.org #1234"},
    {"RT_Ticket": "rt.example.org #1234"},
    {"X_Managed_by": "RT 5.0.5 (http://www.bestpractical.com/rt/)"},
    {"Managed_by": "RT 3.8.HEAD"},
])
def test_recognised_by_own_headers(headers):
    mail = make("[rt.example.org #1234] Cannot install client", **headers)
    assert RtParser().recognises(mail)
    assert RtParser().parse(mail).key == "rt:1234"


def test_rt_mail_without_a_number_is_unparseable():
    mail = make("Cannot install client", X_RT_Ticket="rt.example.org")
    assert RtParser().recognises(mail)
    with pytest.raises(Unparseable, match="without a ticket number"):
        RtParser().parse(mail)


def test_header_number_wins_and_its_tag_is_the_one_removed():
    mail = make("[rt.example.org #1234] Dup of [other.example.org #77]", X_RT_Ticket="rt.example.org #1234")
    c = RtParser().parse(mail)
    assert (c.id, c.title) == ("1234", "Dup of [other.example.org #77]")


@pytest.mark.parametrize("subject, title, status, comment, autoreply", [
    ("[rt.example.org #1234] Cannot install client", "Cannot install client", "", False, False),
    ("[rt.example.org #1234] [Comment] Cannot install client", "Cannot install client", "", True, False),
    ("[Comment] [rt.example.org #1234] Cannot install client", "Cannot install client", "", True, False),
    ("[rt.example.org #1234] Re: [Comment] Cannot install", "Cannot install", "", True, False),
    ("Resolved: [rt.example.org #1234] Cannot install client", "Cannot install client", "resolved", False, False),
    ("[rt.example.org #1234] Resolved: Cannot install client", "Cannot install client", "resolved", False, False),
    ("[rt.example.org #1234] Status Changed to: stalled", "", "stalled", False, False),
    ("Status Changed to: open [rt.example.org #1234] Cannot install client", "Cannot install client", "open",
     False, False),
    ("[rt.example.org #1234] AutoReply: Cannot install client", "Cannot install client", "", False, True),
    ("AutoReply: [rt.example.org #1234] Cannot install client", "Cannot install client", "", False, True),
])
def test_parse_subject(subject, title, status, comment, autoreply):
    assert parse_subject(subject, "1234") == {"title": title, "status": status, "comment": comment,
                                               "autoreply": autoreply}


@pytest.mark.parametrize("desc, expected", [
    ("Ticket created by jane@example.edu", {"kinds": ("created",)}),
    ("Correspondence added by jane@example.edu", {"kinds": ("commented",)}),
    ("Comments added by ada", {"kinds": ("commented",)}),
    ("Given to ada by grace", {"assignees": ("ada",)}),
    ("Given to ada (Ada Lovelace) by grace", {"assignees": ("ada",)}),
    ("Taken by ada", {"assignees": ("ada",)}),
    ("Stolen from grace by ada", {"assignees": ("ada",)}),
    ("Owner forcibly changed from grace to ada by root", {"assignees": ("ada",)}),
    ("Owner forcibly changed from ada to Nobody by root", {"assignees": ()}),
    ("Untaken by ada", {"assignees": ()}),
    ("Status changed from 'open' to 'stalled' by ada", {"status": "stalled"}),
    ("Ticket deleted by root", {"status": "deleted"}),
    ("Subject changed to Cannot install the client by ada", {}),
    ("", {}),
])
def test_describe(desc, expected):
    assert describe(desc) == expected


@pytest.mark.parametrize("desc, assignees", [
    ("Given to ada by grace", ("ada",)), ("Taken by grace", ("grace",)),
    ("Stolen from ada by grace", ("grace",)), ("Owner forcibly changed from ada to grace by root", ("grace",)),
    ("Untaken by ada", ()),
])
def test_owner_from_transaction_line_when_template_has_no_owner(desc, assignees):
    c = RtParser().parse(make("[rt.example.org #1234] Cannot install client",
                              transaction(desc, owner=None), X_RT_Ticket="rt.example.org #1234"))
    assert c.assignees == assignees


def test_owner_line_wins_over_transaction_line():
    c = RtParser().parse(make("[rt.example.org #1234] x", transaction("Given to ada by grace", owner="Nobody"),
                              X_RT_Ticket="rt.example.org #1234"))
    assert c.assignees == ()


def test_status_from_transaction_line_then_subject():
    mail = make("[rt.example.org #1234] Cannot install client",
                transaction("Status changed from 'open' to 'stalled' by ada", status=None),
                X_RT_Ticket="rt.example.org #1234")
    assert (RtParser().parse(mail).status, RtParser().parse(mail).status_raw) == ("waiting-on-user", "stalled")
    mail = make("[rt.example.org #1234] Status Changed to: deleted", f"{URL}\n\n",
                X_RT_Ticket="rt.example.org #1234")
    c = RtParser().parse(mail)
    assert (c.status, c.status_raw, c.title, c.kinds) == ("closed", "deleted", None, frozenset())


def test_content_below_the_block_is_not_read_as_fields():
    block, content = split_transaction(transaction("Comments added by ada", content="Status: resolved\nOwner: me"))
    assert [line.strip().split(":")[0] for line in block] == [
        "Transaction", "Queue", "Subject", "Owner", "Requestors", "Status", "Ticket URL"]
    assert content.strip() == "Status: resolved\nOwner: me"
    body = transaction("Comments added by ada", content="Status: resolved")
    c = RtParser().parse(make("[rt.example.org #1234] x", body, X_RT_Ticket="rt.example.org #1234"))
    assert (c.status_raw, c.assignees, c.kinds) == ("open", ("ada",), frozenset({"commented"}))
    assert c.summary == "Comments added by ada: Status: resolved"


def test_no_subject_given_falls_back_to_mail_subject():
    body = transaction("Taken by ada").replace("Subject: Cannot install client", "Subject: (No subject given)")
    c = RtParser().parse(make("[rt.example.org #1234] From the subject", body, X_RT_Ticket="rt.example.org #1234"))
    assert c.title == "From the subject"


def test_autoreply_is_a_creation_with_the_users_text_as_summary():
    body = ("Greetings,\n\nThis message has been automatically generated in response to the\n"
            "creation of a trouble ticket regarding:\n        \"Cannot install client\",\n"
            "a summary of which appears below.\n\n" + "-" * 73 + "\nyum install osg-client fails\n")
    c = RtParser().parse(make("[rt.example.org #1234] AutoReply: Cannot install client", body,
                              X_RT_Ticket="rt.example.org #1234"))
    assert (c.kinds, c.summary, c.title) == (frozenset({"created"}), "yum install osg-client fails",
                                             "Cannot install client")


def test_html_admin_comment_boilerplate_is_skipped():
    html = (f'<p>This is a comment about <a href="{URL}">ticket 1234</a>. It is not sent to the '
            "Requestor(s):</p>\n<p>Checked the mirrors, all signed.</p>")
    c = RtParser().parse(make("[rt.example.org #1234] [Comment] Cannot install client", html, html=True,
                              X_RT_Ticket="rt.example.org #1234"))
    assert (c.kinds, c.summary) == (frozenset({"commented"}), "Checked the mirrors, all signed.")


@pytest.mark.parametrize("from_, headers, actor", [
    ('"Ada Lovelace via RT" <software@rt.example.org>', {"X_RT_Originator": "Ada <ADA@example.org>"},
     "ada@example.org"),
    ('"Ada Lovelace via RT" <software@rt.example.org>', {"RT_Originator": "ada@example.org"}, "ada@example.org"),
    ('"Ada Lovelace via RT via software-support-stream" <software-support-stream@example.org>', {},
     "Ada Lovelace"),
    ("software@rt.example.org", {}, "grace"),
])
def test_actor(from_, headers, actor):
    c = RtParser().parse(make("[rt.example.org #1234] x", transaction("Given to ada by grace"), from_=from_,
                              X_RT_Ticket="rt.example.org #1234", **headers))
    assert c.actor == actor


def test_no_url_is_invented():
    c = RtParser().parse(make("[rt.example.org #1234] x", "Just a reply.\n", X_RT_Ticket="rt.example.org #1234"))
    assert (c.url, c.kinds, c.summary) == (None, frozenset({"commented"}), "Just a reply.")


# --- what requestors write is never the ticket's fields -------------------------------------

FAKE_BLOCK = ("Tue Nov 24 10:00:00 2026: Request 1234 was acted upon.\n Transaction: Given to mallory by root\n"
              "       Owner: mallory\n  Requestors: victim@outsider.test\n      Status: resolved\n")


def test_a_transaction_block_written_into_a_reply_is_content():
    body = f"<URL: {URL} >\n\nThanks, see below.\n\n" + FAKE_BLOCK
    c = RtParser().parse(make("[rt.example.org #1234] Re: Cannot install client", body,
                              X_RT_Ticket="rt.example.org #1234"))
    assert (c.submitter, c.assignees, c.status, c.status_raw) == (None, None, None, None)
    assert c.kinds == {"commented"}


def test_a_block_quoted_below_the_real_one_changes_nothing():
    c = RtParser().parse(make("[rt.example.org #1234] Cannot install client",
                              transaction("Correspondence added by jane@example.edu", content="> " + FAKE_BLOCK
                                          + "\n" + FAKE_BLOCK), X_RT_Ticket="rt.example.org #1234"))
    assert (c.submitter, c.assignees, c.status_raw) == ("jane@example.edu", ("ada",), "open")
