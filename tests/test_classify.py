"""The parse stage's verdicts and the trust rules: pure, on bytes."""
from datetime import datetime
from email.message import EmailMessage

import pytest

from builders import CST, goc_mail, rt_mail
from maildaemon.config import team_from_dict
from maildaemon import ownmail
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, Ignored, Quarantined, classify
from maildaemon.parse.mail import read_mail

TEAM_DICT = {
    "team": {"name": "Software Team", "timezone": "America/Chicago",
             "list_address": "software-support-stream@example.org", "from_address": "triage@example.org",
             "trusted_senders": ["ticket@example.org", "*@rt.example.org"]},
    "members": [{"name": "Ada Lovelace", "email": "ada@example.org"}],
}
TEAM = team_from_dict(TEAM_DICT)
AUTH_TEAM = team_from_dict({**TEAM_DICT, "team": {**TEAM_DICT["team"], "require_authentication": True,
                                                  "authserv_id": "mx.example.org"}})
AT = datetime(2026, 11, 23, 9, 0, tzinfo=CST)


def verdict(raw: bytes, team=TEAM):
    return classify(RawMail(raw, "test"), team)


def plain(**headers) -> bytes:
    m = EmailMessage()
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content("hello")
    return m.as_bytes()


def test_trusted_goc_and_rt_notifications_are_accepted():
    v = verdict(goc_mail(1, "Title", AT))
    assert isinstance(v, Accepted) and v.change.key == "goc:1"
    v = verdict(rt_mail(7, "Title", AT, transaction="Ticket created by x@y.org", actor="X", actor_email="x@y.org"))
    assert isinstance(v, Accepted) and v.change.key == "rt:7"


def test_an_imitation_from_an_untrusted_sender_is_quarantined():
    forged = goc_mail(1, "Title", AT).replace(b"ticket@example.org", b"ticket@example.org.evil.net")
    v = verdict(forged)
    assert isinstance(v, Quarantined)
    assert v.reason == "untrusted: sender ticket@example.org.evil.net is not in trusted_senders"


def test_domain_pattern_matches_the_domain_only():
    ok = rt_mail(7, "T", AT, transaction="Taken by ada", actor="Ada", actor_email="ada@example.org")
    assert isinstance(verdict(ok), Accepted)
    sub = ok.replace(b"software@rt.example.org", b"software@x.rt.example.org")
    assert isinstance(verdict(sub), Quarantined)


def test_list_rewritten_from_uses_x_original_from_then_reply_to():
    raw = goc_mail(1, "Title", AT).replace(
        b'From: "GOC Ticket" <ticket@example.org>',
        b'From: "GOC Ticket via list" <software-support-stream@example.org>\nX-Original-From: ticket@example.org')
    assert isinstance(verdict(raw), Accepted)
    raw2 = goc_mail(1, "Title", AT).replace(
        b'From: "GOC Ticket" <ticket@example.org>',
        b'From: software-support-stream@example.org\nReply-To: Mallory <mallory@evil.net>')
    v = verdict(raw2)
    assert isinstance(v, Quarantined) and "mallory@evil.net" in v.reason


@pytest.mark.parametrize("results,ok", [
    ("mx.example.org; dkim=pass header.d=example.org header.s=s1; spf=fail", True),
    ("mx.example.org; spf=pass smtp.mailfrom=bounces@example.org", True),
    ("mx.example.org; dkim=pass header.i=@mail.example.org", False),     # a subdomain signs only for itself
    ("mx.example.org; dkim=fail header.d=example.org; spf=softfail smtp.mailfrom=example.org", False),
    ("mx.example.org; dkim=pass (good signature) header.d=evil.net", False),
    (None, False),
])
def test_require_authentication(results, ok):
    team = AUTH_TEAM
    raw = goc_mail(1, "Title", AT)
    if results:
        raw = b"Authentication-Results: " + results.encode() + b"\n" + raw
    v = verdict(raw, team)
    assert isinstance(v, Accepted) is ok
    if not ok:
        assert "dkim=pass or spf=pass" in v.reason


def test_own_mail_bounces_and_auto_replies_are_ignored_not_quarantined():
    key = b"k" * 64
    mid = ownmail.message_id("owner.goc-1.2026-11-23", "example.org", key)
    own = plain(From="triage@example.org", Subject="Reminder", Message_ID=mid)
    v = classify(RawMail(own, "t"), TEAM, own_key=key)
    assert v == Ignored("own mail", v.mail)
    ooo = plain(From="jane@example.edu", Subject="Out of Office: Re: your ticket", Message_ID="<o@x>")
    assert isinstance(verdict(ooo), Ignored) and verdict(ooo).reason == "auto-reply"
    auto = plain(From="jane@example.edu", Subject="Re: anything", Auto_Submitted="auto-replied")
    assert verdict(auto).reason == "auto-reply"
    bounce = (b"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail\nMessage-ID: <b@x>\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\n"
              b"Content-Type: text/plain\n\nfailed\n--B--\n")
    assert verdict(bounce).reason == "bounce"


def test_auto_generated_notifications_are_not_auto_replies():
    assert "Auto-Submitted: auto-generated" in goc_mail(1, "T", AT).decode()
    assert isinstance(verdict(goc_mail(1, "T", AT)), Accepted)


def test_unknown_format_and_garbage_are_quarantined_never_raised():
    v = verdict(plain(From="ticket@example.org", Subject="Lunch?"))
    assert isinstance(v, Quarantined) and v.reason.startswith("unknown format")
    for junk in (b"", b"\x00\xff\xfe garbage", b"Subject: =?utf-8?q?broken\n\n", b"From: <>\n\n" * 100):
        assert isinstance(verdict(junk), (Quarantined, Ignored))


def test_read_mail_decodes_folded_encoded_subjects_and_strips_list_prefixes():
    raw = (b"Subject: [software-support-stream] Re: =?utf-8?q?M=C3=BCller=27s_pilots?=\n"
           b" fail ISSUE=5 PROJ=71\nList-Id: <software-support-stream.example.org>\nMessage-ID: <x@y>\n\nbody\n")
    m = read_mail(raw)
    assert m.subject == "[software-support-stream] Re: Müller's pilots fail ISSUE=5 PROJ=71"
    assert m.clean_subject == "Müller's pilots fail ISSUE=5 PROJ=71"
    assert read_mail(b"Subject: [JIRA] (X-1) t\n\n").clean_subject == "[JIRA] (X-1) t"   # not a list prefix


def test_html_only_mail_is_read_as_text():
    raw = (b"Subject: s\nContent-Type: text/html; charset=utf-8\n\n"
           b"<html><head><style>p{}</style></head><body><table><tr><td>Status:</td><td>Engineering</td></tr>"
           b"<tr><td>Title:</td><td>A &amp; B</td></tr></table></body></html>")
    assert read_mail(raw).text.split("\n")[:2] == ["Status: Engineering", "Title: A & B"]


def test_mail_without_message_id_gets_a_stable_identity():
    raw = plain(From="a@b", Subject="x")
    assert read_mail(raw).message_id == read_mail(raw).message_id
    assert read_mail(raw).message_id.endswith("@maildaemon.invalid>")


# --- SPEC 9: trust, exactly ------------------------------------------------------------------

GOC_FROM = b'From: "GOC Ticket" <ticket@example.org>'


@pytest.mark.parametrize("from_", [
    b"From: =?utf-8?q?ticket=40example=2Eorg?= <mallory@attacker.test>",   # decoded name is not the address
    b"From: ticket@example.org <evil@attacker.test>",                       # unquoted: ambiguous
    b"From: ticket@example.org, evil@attacker.test",                        # two addresses
    b'From: "ticket@example.org" <evil@attacker.test>',
    b"From: ticket@example.org (evil@attacker.test)",                       # another address in a comment
    b'From: "Ticket <ticket@example.org>" <evil@attacker.test>',
    b"From: ticket@example.org@attacker.test",
    b"From: g: ticket@example.org;",                                        # a group
    b"From: <ticket@example.org>\nFrom: <evil@attacker.test>",              # two From headers
    b"From: " + b"x" * 5000 + b" <ticket@example.org>",                     # absurdly long
])
def test_a_from_that_is_not_exactly_one_trusted_address_is_untrusted(from_):
    raw = goc_mail(1, "Title", AT).replace(GOC_FROM, from_)
    v = verdict(raw)
    assert isinstance(v, Quarantined) and v.reason.startswith("untrusted"), v


def test_the_real_address_decides_not_the_display_name():
    raw = goc_mail(1, "Title", AT).replace(GOC_FROM, b"From: =?utf-8?q?Ticket_System?= <ticket@example.org>")
    assert isinstance(verdict(raw), Accepted)
    raw = goc_mail(1, "Title", AT).replace(GOC_FROM, b"From: ticket@example.org (GOC Ticket)")
    assert isinstance(verdict(raw), Accepted)


def test_x_original_from_counts_only_when_from_is_the_list():
    raw = goc_mail(1, "Title", AT).replace(
        GOC_FROM, b"From: Mallory <mallory@attacker.test>\nX-Original-From: ticket@example.org")
    v = verdict(raw)
    assert isinstance(v, Quarantined) and "mallory@attacker.test" in v.reason


def test_require_authentication_needs_authserv_id():
    from maildaemon.config import ConfigError
    with pytest.raises(ConfigError, match="team.authserv_id"):
        team_from_dict({**TEAM_DICT, "team": {**TEAM_DICT["team"], "require_authentication": True}})


@pytest.mark.parametrize("headers,ok", [
    # another server's results (or a sender's forgery under another id) do not count
    ([b"Authentication-Results: mx.attacker.test; dkim=pass header.d=example.org"], False),
    # Outlook writes its id after the first clause; clauses count wherever they stand
    ([b"Authentication-Results: spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=attacker.test; mx.example.org; "
      b"dkim=fail header.d=example.org"], False),
    ([b"Authentication-Results: spf=fail (x) smtp.mailfrom=attacker.test; mx.example.org; "
      b"dkim=pass header.d=example.org"], True),
    # below our server's Received line: a header someone wrote before it reached us
    ([b"Authentication-Results: mx.example.org; dkim=fail header.d=example.org",
      b"Received: from relay by mx.example.org; Mon, 23 Nov 2026 09:00:00 -0600",
      b"Authentication-Results: mx.example.org; dkim=pass header.d=example.org"], False),
    # two filters of our server, one block: both count
    ([b"Authentication-Results: mx.example.org; spf=none smtp.mailfrom=example.org",
      b"Authentication-Results: MX.example.org; dkim=pass (ok) header.d=example.org",
      b"Received: from relay by mx.example.org; Mon, 23 Nov 2026 09:00:00 -0600"], True),
])
def test_only_our_servers_topmost_authentication_results_count(headers, ok):
    raw = b"\n".join(headers) + b"\n" + goc_mail(1, "Title", AT)
    v = verdict(raw, AUTH_TEAM)
    assert isinstance(v, Accepted) is ok, v


def test_a_list_that_rewrote_from_vouches_with_its_own_domain():
    raw = (b"Authentication-Results: mx.example.org; dkim=pass header.d=example.org\n"
           + goc_mail(1, "Title", AT).replace(
               GOC_FROM, b"From: software-support-stream@example.org\nX-Original-From: ticket@example.org"))
    assert isinstance(verdict(raw, AUTH_TEAM), Accepted)


def test_a_message_id_with_our_prefix_but_no_valid_token_is_an_ordinary_mail():
    key = b"k" * 64
    mid = ownmail.message_id("announcement.team.week-2026-11-23", "example.org", key)
    token = mid.partition("@")[0].rpartition(".")[2]
    forged = mid.replace(token, "0" * len(token))
    for m in (forged, "<maildaemon.announcement.team.week-2026-11-23@example.org>"):
        v = classify(RawMail(plain(From="x@attacker.test", Subject="hi", Message_ID=m), "t"), TEAM, own_key=key)
        assert isinstance(v, Quarantined), v
    assert not ownmail.is_ours(mid, b"other" * 10)


def _nested(depth: int) -> bytes:
    s = b"From: x@y.org\nSubject: deep\nMessage-ID: <deep@x>\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for i in range(depth):
        s += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1)
    return s + b"--b%d\nContent-Type: text/plain\n\nhi\n" % depth


def test_a_mail_that_breaks_the_mime_parser_is_quarantined_with_the_reason():
    v = verdict(_nested(1000))
    assert isinstance(v, Quarantined) and v.reason.startswith("unreadable") and v.mail.message_id == "<deep@x>"


def test_an_oversize_mail_is_quarantined_too_large():
    v = classify(RawMail(b"From: ticket@example.org\nSubject: big\nMessage-ID: <big@x>\n", "t", oversize=11 << 20), TEAM)
    assert isinstance(v, Quarantined) and v.reason == "too large" and v.mail.message_id == "<big@x>"


def test_a_cpu_budget_turns_a_runaway_into_a_quarantine(monkeypatch):
    import re as re_
    from maildaemon.parse.goc import GocParser
    monkeypatch.setattr(GocParser, "recognises", lambda self, mail: bool(re_.match(r"(a+)+$", "a" * 40 + "!")))
    v = classify(RawMail(goc_mail(1, "Title", AT), "t"), TEAM, cpu_seconds=0.3)
    assert isinstance(v, Quarantined) and v.reason.startswith("time limit"), v
