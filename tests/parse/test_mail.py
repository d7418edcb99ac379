"""parse/mail.py: reading one raw mail the way every parser sees it. Decoding subjects, HTML-only
mail and mail without a Message-ID are tested through classify (tests/test_classify.py); here the
subject a parser matches on, HTML made text, and the header of a mail too broken or too big to read."""
from __future__ import annotations

import pytest

from maildaemon.parse.mail import (FIELD_BYTES, HEADER_BYTES, HEADER_LIMIT, HTML_LIMIT, MAX_FIELDS,
                                  bounded_header, clean_subject, header_view, html_to_text)

LISTS = ("software-support-stream",)


@pytest.mark.parametrize("subject, clean", [
    ("[software-support-stream] Re: Fwd: Pilot jobs fail", "Pilot jobs fail"),
    ("Re: [software-support-stream] Re: Pilot jobs fail", "Pilot jobs fail"),
    ("AW: WG: Re[2]: Pilot jobs fail", "Pilot jobs fail"),                  # German, and numbered replies
    ("RE:FW: Pilot jobs fail", "Pilot jobs fail"),
    ("[other-list] Re: Pilot jobs fail", "[other-list] Re: Pilot jobs fail"),   # not our list: kept as it is
    ("Pilot jobs fail ISSUE=41234 PROJ=71", "Pilot jobs fail ISSUE=41234 PROJ=71"),
])
def test_the_list_prefix_and_reply_prefixes_are_stripped_before_matching(subject, clean):
    assert clean_subject(subject, LISTS) == clean


def test_html_becomes_the_text_a_reader_sees():
    html = ("<html><head><title>T</title><style>p {color: red}</style></head><body>"
            "<script>alert('Status: Closed')</script><p>Ticket&nbsp;ID: 1&amp;2</p>"
            "<ul><li>first</li><li>second</li></ul>one<br>two</body></html>")
    assert html_to_text(html) == "Ticket ID: 1&2\n\nfirst\nsecond\none\ntwo\n"      # no script, style or title


def test_html_beyond_the_limit_is_cut_before_it_is_converted():
    head, tail = "<p>" + "a" * (HTML_LIMIT - 3), "<p>Status: Closed</p>"
    text = html_to_text(head + tail)
    assert "Status: Closed" not in text and text.startswith("a")


def test_the_header_of_an_unreadable_mail_is_read_from_its_first_bytes_only():
    raw = (b"Message-ID: <broken@example.org>\r\nFrom: GOC <Ticket@Example.org>\r\nSubject: "
           + b"x" * HEADER_BYTES + b"\r\nX-Last: never read\r\n\r\nbody\r\n")
    mail = header_view(raw)
    assert (mail.message_id, mail.from_addr, mail.text) == ("<broken@example.org>", "ticket@example.org", "")
    assert mail.subject == "x" * HEADER_LIMIT and mail.raw_headers("X-Last") == []
    assert header_view(b"\xff\xfe garbage").message_id == header_view(b"\xff\xfe garbage").message_id != ""


def test_a_header_is_cut_to_its_topmost_fields_each_of_bounded_size_before_any_library_reads_it():
    fields = b"".join(b"X-Filler-%d: y\r\n" % i for i in range(MAX_FIELDS + 50))
    raw = b"Subject: " + b"x" * (FIELD_BYTES * 3) + b"\r\n" + fields + b"\r\nthe body\r\n"
    cut = bounded_header(raw)
    head, _, body = cut.partition(b"\r\n\r\n")
    lines = head.split(b"\n")
    assert len(lines) == MAX_FIELDS and max(map(len, lines)) == FIELD_BYTES
    assert lines[-1] == b"X-Filler-%d: y" % (MAX_FIELDS - 2) and body == b"the body\r\n"
    small = b"Subject: hi\r\n\r\nbody"
    assert bounded_header(small) is small
