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


# --- mail-parser reads the body from the message's MIME structure alone (body_view) --------------

def _crafted() -> list[bytes]:
    """MIME shapes where mail-parser's choice of body parts has rules of its own: alternatives,
    text inside attachments, a forwarded message, an inline part with a file name, a Content-ID on
    a text part, 8-bit text in a declared and in an unknown charset, and a lost final boundary."""
    from email.message import EmailMessage
    head = "From: a@example.org\r\nTo: list@example.org\r\nSubject: s\r\nMessage-ID: <m@x>\r\n" \
           "Received: from x by y; Mon, 2 Mar 2026 10:00:00 +0000\r\n"
    alt = EmailMessage()
    alt["Subject"] = "alternative"
    alt.set_content("plain body")
    alt.add_alternative("<p>html body</p>", subtype="html")
    mixed = EmailMessage()
    mixed.set_content("the text")
    mixed.add_attachment("Status: Closed\n", filename="notes.txt")
    mixed.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream", filename="b.bin")
    inner = EmailMessage()
    inner["Subject"] = "inner"
    inner.set_content("forwarded text")
    forward = EmailMessage()
    forward.set_content("see below")
    forward.add_attachment(inner)
    named = EmailMessage()
    named.set_content("<p>inline with a name</p>", subtype="html", disposition="inline", filename="x.html")
    cid = EmailMessage()
    cid.set_content("text with an id")
    cid["Content-ID"] = "<part@x>"
    return [
        alt.as_bytes(), mixed.as_bytes(), forward.as_bytes(), named.as_bytes(), cid.as_bytes(),
        (head + "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
         "caf\xe9\r\n").encode("latin-1"),
        (head + "Content-Type: text/plain; charset=x-unknown\r\n\r\ncaf\xc3\xa9\r\n").encode("latin-1"),
        (head + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
         "<b>caf=C3=A9</b>\r\n").encode(),
        (head + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n'
         "--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond, "
         "no closing boundary\r\n").encode(),
        (head + "\r\nno MIME fields at all\r\n").encode(),
        b"\r\nno header at all\r\n",
    ]


def _fixtures() -> list[bytes]:
    from pathlib import Path
    here = Path(__file__).parent / "fixtures"
    return [p.read_bytes() for p in sorted(here.rglob("*.eml"))]


def test_mail_parser_finds_the_same_body_parts_in_the_body_view():
    import email

    import mailparser

    from maildaemon.parse.mail import body_view
    mails = _fixtures() + _crafted()
    assert len(mails) > 60
    for raw in mails:
        whole = mailparser.parse_from_bytes(raw)
        view = mailparser.MailParser(body_view(email.message_from_bytes(raw)))
        assert (view.text_plain, view.text_html) == (whole.text_plain, whole.text_html), raw[:200]
        assert view.text_plain or view.text_html or not raw.strip()


def test_the_body_view_carries_no_trace_or_address_fields():
    import email

    from maildaemon.parse.mail import body_view, read_mail
    raw = _crafted()[5]
    view = body_view(email.message_from_bytes(raw))
    assert sorted(view.keys()) == ["Content-Transfer-Encoding", "Content-Type"]
    mail = read_mail(raw)                       # the Mail still has every header of the message
    assert mail.text == "café\r\n".replace("\r\n", "\n") and mail.has("Received") and mail.from_addr == "a@example.org"


def test_a_message_id_with_8bit_bytes_is_read_not_refused():
    """The parser hands a header field holding 8-bit bytes over as an email.header.Header, not a
    str: such a Message-ID made the whole mail unreadable."""
    from maildaemon.parse.mail import read_mail
    raw = b"Message-ID: <caf\xc3\xa9.1@x.example>\r\nSubject: s\r\nFrom: a@example.org\r\n\r\nbody\r\n"
    mail = read_mail(raw)
    assert mail.message_id.startswith("<caf") and mail.message_id.endswith("@x.example>")
    assert read_mail(raw).message_id == mail.message_id and mail.text == "body\n"
    other = read_mail(raw.replace(b"\xc3\xa9", b"\xc3\xa8"))                    # cafè: another mail
    assert mail.message_id == "<café.1@x.example>" and other.message_id == "<cafè.1@x.example>"
