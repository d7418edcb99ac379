"""The subject token each parser keeps for mail a user answers (SPEC 8, user reminder; issue 10):
the system's own token exactly as its notification wrote it, never a user's imitation in a title.
Whole mails are in fixtures/*/ (their JSON names `subject_token`); these are the tricky shapes."""
from __future__ import annotations


import pytest

from builders import one_part
from maildaemon.parse.base import MAX_TOKEN, subject_token
from maildaemon.parse.goc import GocParser
from maildaemon.parse.rt import RtParser
from maildaemon.parse.zammad import ZammadParser
from maildaemon.parse.mail import read_mail


def make(subject: str, body: str = "", from_: str = "ticket@example.org", **headers: str):
    return read_mail(one_part(subject, body, from_=from_, date="Tue, 24 Nov 2026 10:00:02 -0600",
                              message_id="<token-unit@example.org>", **headers), ("software-support-stream",))


def test_goc_keeps_the_token_of_the_bodys_ticket_not_one_quoted_in_the_title():
    mail = make("[software-support-stream] Please close ISSUE=41000 PROJ=71 - ISSUE=41234 PROJ=71",
                "Ticket ID: 41234\nStatus: Customer\n")
    c = GocParser().parse(mail)
    assert (c.key, c.subject_token) == ("goc:41234", "ISSUE=41234 PROJ=71")


def test_rt_keeps_the_tag_of_its_ticket_exactly_as_written():
    c = RtParser().parse(make("[Comment] [rt.example.org #1234 ] Re: see [rt.example.org #99]",
                              X_RT_Ticket="rt.example.org #1234"))
    assert (c.key, c.subject_token) == ("rt:1234", "[rt.example.org #1234 ]")


def test_rt_without_a_subject_tag_uses_the_tag_its_header_names():
    c = RtParser().parse(make("Cannot install client", X_RT_Ticket="rt.example.org #1234"))
    assert (c.key, c.subject_token) == ("rt:1234", "[rt.example.org #1234]")
    c = RtParser().parse(make("Cannot install client", X_RT_Ticket="rt.example.org] Bcc: x [y #1234"))
    assert c.subject_token is None                          # brackets in the name: not a tag


def test_zammad_keeps_the_hook_outside_the_title_a_user_wrote():
    c = ZammadParser().parse(make("Updated Ticket ([Ticket#99] please merge) [Ticket#031007]"))
    assert (c.key, c.subject_token) == ("zammad:31007", "[Ticket#031007]")


def test_zammad_with_a_sites_own_hook_word():
    c = ZammadParser().parse(make("[Case#31007] Printer", X_Zammad_Ticket_Number="31007"))
    assert (c.key, c.subject_token) == ("zammad:31007", "[Case#31007]")


@pytest.mark.parametrize("text, kept", [
    ("[rt.example.org #1]", "[rt.example.org #1]"),
    ("  (SEC-1)  ", "(SEC-1)"),
    ("[rt #1]\r\nBcc: evil@x.org", None),
    ("[rt #1]\u2028x", None),
    ("", None),
    (None, None),
    ("[" + "a" * MAX_TOKEN + " #1]", None),
])
def test_a_token_is_one_short_line_or_nothing(text, kept):
    assert subject_token(text) == kept
