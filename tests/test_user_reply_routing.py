"""A user's answer to a user reminder reaches the ticket (SPEC 8, user-reminder row; issue 10).

Real-looking notifications of each system go through the real pipeline: `classify` (recognition,
trust, the system's parser), `apply`, the policy's decision at a moment the ticket has waited on
the user for `user_wait_days` business days, and `compose`. The reminder is then read back from its
bytes as a mail client reads it: its Reply-To, its Subject and its text.

Rule under test: Reply-To is the ticket system's reply address (the trusted `Reply-To`, else the
trusted sender, of the ticket's latest applied notification), never the person on duty; the
subject keeps the system's own token exactly as the latest notification wrote it; a system that
takes no replies by mail (GitHub) gets no reply address: Reply-To is the stream list (never one
person privately) and the text asks the user to answer on the ticket's page.
"""
from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from builders import ALAN, LEDGER, LIST, local, team
from maildaemon.apply import apply
from maildaemon.config import team_from_dict
from maildaemon.model import Due, RawMail, Ticket
from maildaemon.parse import Accepted, classify
from maildaemon.policy import due_reminders
from maildaemon.render import compose, environment

FIXTURES = Path(__file__).parent / "parse" / "fixtures"
TRUSTED = ["ticket@example.org", "*@rt.example.org", "jira@example.org", "support@example.atlassian.net",
           "helpdesk@ggus.eu", "noreply@helpdesk.example.org", "notifications@github.com",
           "*@reply.github.com"]      # even trusted, GitHub's reply+ address is never used (github.py)
TEAM = team(trusted_senders=TRUSTED)
ENV = environment()
NOW = local(2026, 12, 7, 9, 30)       # Monday; Alan on duty; the fixtures' tickets wait since 11-24
JANE = "jane@example.edu"


# --- the pipeline ------------------------------------------------------------------------------

def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mail(subject: str, body: str, from_: str, date: str = "Tue, 24 Nov 2026 10:00:02 -0600",
         message_id: str = "<n1@example.org>", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = LIST
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def ticket_from(*mails: bytes, t=TEAM) -> Ticket:
    """The ticket the real classify + apply make of these notifications, in order."""
    state = None
    for raw in mails:
        verdict = classify(RawMail(raw, "test"), t)
        assert isinstance(verdict, Accepted), verdict
        state, _ = apply(state, verdict.change, t)
    return state


def waiting_on(state: Ticket, **kw) -> Ticket:
    """For systems whose mail never names the submitter's address or a waiting status (Zammad,
    Jira, GitHub): what the team knows from elsewhere, set on the ticket as parse/apply left it
    (a status set here holds since the ticket's latest notification)."""
    if "status" in kw and state.status != kw["status"]:
        kw.setdefault("status_since", state.updated_at)
    return dataclasses.replace(state, **kw)


def reminder(state: Ticket, now=NOW, t=TEAM):
    """The user reminder the real policy decides for `state` at `now`, composed and read back."""
    found = [d for d in due_reminders([state], LEDGER, t, [], now) if d.kind == "user"]
    assert len(found) == 1, found
    out = compose(ENV, found[0], t, now)
    return out, email.message_from_bytes(out.raw, policy=email.policy.default)


def reply_to(msg) -> list[str]:
    return [a.addr_spec for a in msg["Reply-To"].addresses]


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def html_of(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def assert_answer_goes_to_the_ticket(out, msg, address: str):
    assert reply_to(msg) == [address]
    assert ALAN not in reply_to(msg)                     # not privately to the person on duty
    text = text_of(msg)
    assert "please reply to this mail" in text and "Your reply is\nadded to the ticket." in text
    assert "does not reach the ticket" not in text
    assert [a.addr_spec for a in msg["To"].addresses] == [JANE]
    assert [a.addr_spec for a in msg["Cc"].addresses] == [LIST]


# --- per system --------------------------------------------------------------------------------

def test_goc_reply_to_the_ticket_system_subject_keeps_issue_proj():
    state = ticket_from(fixture("goc/create.eml"), fixture("goc/waiting_on_user.eml"))
    assert (state.status, state.submitter) == ("waiting-on-user", JANE)
    out, msg = reminder(state)
    assert_answer_goes_to_the_ticket(out, msg, "ticket@example.org")
    assert msg["Subject"] == "Re: ISSUE=41234 PROJ=71 Pilot jobs fail at Example site"


def test_rt_reply_to_the_queue_subject_keeps_rts_own_tag():
    state = ticket_from(fixture("rt/create.eml"), fixture("rt/stalled.eml"))
    assert (state.status, state.submitter) == ("waiting-on-user", JANE)
    out, msg = reminder(state)
    assert_answer_goes_to_the_ticket(out, msg, "software@rt.example.org")
    assert msg["Subject"] == "Re: [rt.example.org #1234] Cannot install client"
    assert "rt:1234]" not in msg["Subject"]              # not our internal key


def test_zammad_reply_to_the_helpdesk_subject_keeps_the_hook():
    state = waiting_on(ticket_from(fixture("zammad/ggus_helpdesk.eml")), submitter=JANE,
                       status="waiting-on-user", status_raw="pending reminder")
    out, msg = reminder(state)
    assert_answer_goes_to_the_ticket(out, msg, "helpdesk@ggus.eu")
    assert msg["Subject"].startswith("Re: [Ticket#2026112410000042] Übertragungen nach EXAMPLE-SE")


def test_zammad_notifications_from_a_noreply_address_point_to_the_ticket_page():
    state = waiting_on(ticket_from(fixture("zammad/create.eml"), fixture("zammad/waiting_on_user.eml")),
                       submitter=JANE)
    assert state.status == "waiting-on-user"
    out, msg = reminder(state)
    assert reply_to(msg) == [LIST]
    assert msg["Subject"] == "Re: [Ticket#31007] Cannot mount CVMFS on worker nodes"
    text = text_of(msg)
    assert "please answer on the ticket's page" in text and "https://helpdesk.example.org/#ticket/zoom/1207" in text


def test_jira_reply_to_jira_subject_keeps_the_parenthesised_key():
    state = waiting_on(ticket_from(fixture("jira/create.eml"), fixture("jira/waiting_on_user.eml")), submitter=JANE)
    assert state.status == "waiting-on-user"
    out, msg = reminder(state)
    assert_answer_goes_to_the_ticket(out, msg, "jira@example.org")
    assert msg["Subject"] == "Re: (SOFTWARE-1234) Cannot build the client on EL9"


JSM_BODY = """Reply above this line.

Ada Lovelace changed the status to Waiting for customer.

Could you send the full scanner report for the affected image?

View request ( https://example.atlassian.net/servicedesk/customer/portal/2/SEC-1732?sda_source=notification-email )
Turn off this request's notifications

This is shared with Jane User.

Powered by Jira Service Management
"""


def test_jira_service_management_reply_to_the_service_desk_subject_keeps_the_bare_key():
    raw = mail("SEC-1732 DWF/CVE - openssl 3.0 in the client image", JSM_BODY,
               '"Ada Lovelace (Jira)" <support@example.atlassian.net>', Reply_To="support@example.atlassian.net",
               X_JIRA_FingerPrint="9f4c2b7e1d0a3c5b8e6f4a2d1c0b9e8f")
    state = waiting_on(ticket_from(raw), submitter=JANE, status="waiting-on-user")
    assert state.key == "jira:SEC-1732"
    out, msg = reminder(state)
    assert_answer_goes_to_the_ticket(out, msg, "support@example.atlassian.net")
    assert msg["Subject"] == "Re: SEC-1732 DWF/CVE - openssl 3.0 in the client image"
    assert "https://example.atlassian.net/servicedesk/customer/portal/2/SEC-1732" in text_of(msg)


def test_github_takes_no_replies_by_mail_the_user_is_sent_to_the_issue_page():
    state = waiting_on(ticket_from(fixture("github/create.eml")), submitter=JANE, status="waiting-on-user")
    assert state.reply_to is None              # GitHub's reply+ address posts as the team's account
    out, msg = reminder(state)
    assert reply_to(msg) == [LIST]             # the whole team reads it; never one person privately
    assert ALAN not in reply_to(msg)
    text = text_of(msg)
    assert "please answer on the ticket's page" in text
    assert "A reply to this mail does not reach the ticket." in text
    assert "  https://github.com/example-org/client/issues/45\n" in text
    html = html_of(msg)
    assert re.search(r'<a href="https://github.com/example-org/client/issues/45"[^>]*>on the ticket\'s page</a>', html)


# --- which address is the reply address ---------------------------------------------------------

RT_STALLED = fixture("rt/stalled.eml")


def rt_mail(**headers: str) -> bytes:
    """rt/stalled.eml with its Reply-To (and From) headers replaced."""
    msg = email.message_from_bytes(RT_STALLED, policy=email.policy.compat32)
    for name, value in headers.items():
        name = name.replace("_", "-")
        del msg[name]
        if value is not None:
            msg[name] = value
    return msg.as_bytes()


@pytest.mark.parametrize("headers, expected", [
    ({"Reply_To": "rt-correspond@rt.example.org"}, "rt-correspond@rt.example.org"),   # Reply-To first
    ({"Reply_To": None}, "software@rt.example.org"),                                   # else the sender
    ({"Reply_To": "jane@example.edu"}, "software@rt.example.org"),        # not a trusted sender: never
    ({"Reply_To": LIST}, "software@rt.example.org"),                      # a list pointing at itself
    ({"Reply_To": "a@rt.example.org, b@rt.example.org"}, "software@rt.example.org"),   # not one address
    ({"Reply_To": '"software@rt.example.org" <mallory@attacker.test>'}, "software@rt.example.org"),
    ({"Reply_To": "noreply@rt.example.org"}, "software@rt.example.org"),  # says: no answers here
    ({"Reply_To": None, "From": '"Ada via RT" <no-reply@rt.example.org>'}, None),
])
def test_the_reply_address_is_the_trusted_reply_to_else_the_trusted_sender(headers, expected):
    verdict = classify(RawMail(rt_mail(**headers), "test"), TEAM)
    assert isinstance(verdict, Accepted), verdict
    assert verdict.change.reply_to == expected


def test_list_rewritten_mail_answers_to_the_original_sender():
    spec = {"name": "freshdesk", "trusted_senders": ["support@example.freshdesk.com"], "key": r"\[#(?P<id>\d+)\]",
            "fields": {"status": r"^Status:\s*(?P<value>.+?)\s*$", "submitter": r"^Requester:\s*(?P<value>.+?)\s*$"},
            "status_map": {"Waiting on Customer": "waiting-on-user"}}
    t = team_from_dict({"team": {"name": "T", "timezone": "America/Chicago", "list_address": LIST,
                                 "from_address": "t@example.org"}, "systems": [spec]})
    verdict = classify(RawMail(fixture("custom/list_rewritten.eml"), "test"), t)
    assert isinstance(verdict, Accepted), verdict
    assert verdict.change.reply_to == "support@example.freshdesk.com"
    assert verdict.change.subject_token == "[#5013]"          # a team's system: the key regex's match


def test_custom_system_reminder_keeps_the_key_match_and_answers_to_the_system():
    spec = {"name": "freshdesk", "trusted_senders": ["support@example.freshdesk.com"], "key": r"\[#(?P<id>\d+)\]",
            "fields": {"status": r"^Status:\s*(?P<value>.+?)\s*$", "submitter": r"^Requester:\s*(?P<value>.+?)\s*$",
                       "title": r"^Subject:\s*(?P<value>.+?)\s*$"},
            "status_map": {"Waiting on Customer": "waiting-on-user"}}
    t = team(trusted_senders=TRUSTED)
    t = dataclasses.replace(t, systems=team_from_dict({"team": {"name": "T", "timezone": "UTC",
                                                                "list_address": LIST, "from_address": "t@example.org"},
                                                       "systems": [spec]}).systems)
    state = ticket_from(fixture("custom/waiting_on_user.eml"), t=t)
    assert state.status == "waiting-on-user" and state.submitter
    state = waiting_on(state, submitter=JANE)
    out, msg = reminder(state, t=t)
    assert reply_to(msg) == ["support@example.freshdesk.com"]
    assert msg["Subject"] == "Re: [#5012] VPN certificate expired"


# --- ticket data cannot make headers -------------------------------------------------------------

def test_a_token_or_reply_address_with_line_breaks_injects_no_header():
    row = {"key": "rt:1", "title": "Cannot install client", "url": None,
           "subject_token": "[rt.example.org #1]\r\nBcc: evil@x.org", "reply_to": "rt@x.org\r\nBcc: evil@x.org"}
    due = Due(kind="user", period="2026-12-07", to=(JANE,), cc=(LIST,), duty=ALAN, tickets=("rt:1",), data={"ticket": row})
    out = compose(ENV, due, TEAM, NOW)
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    assert msg["Bcc"] is None
    assert b"\nBcc:" not in out.raw.split(b"\n\n", 1)[0]
    assert msg["Subject"] == "Re: [rt.example.org #1] Bcc: evil@x.org Cannot install client"   # one line
    assert reply_to(msg) == [LIST]                  # an address that is not one is never pasted
    assert out.recipients == (JANE, LIST)


# --- kept through apply and the store ------------------------------------------------------------

def test_the_latest_applied_notification_sets_the_route_a_late_one_does_not():
    create, stalled = fixture("rt/create.eml"), fixture("rt/stalled.eml")
    moved = rt_mail(Reply_To="help@rt.example.org", X_RT_Ticket="help.example.org #1234",
                    Subject="[help.example.org #1234] Cannot install client",
                    Date="Wed, 25 Nov 2026 09:00:00 -0600", Message_ID="<moved@rt.example.org>")
    state = ticket_from(create, moved)
    assert (state.reply_to, state.subject_token) == ("help@rt.example.org", "[help.example.org #1234]")
    late = ticket_from(create, moved, stalled)          # stalled (11-24 12:20) arrives after the 11-25 mail
    assert (late.reply_to, late.subject_token) == ("help@rt.example.org", "[help.example.org #1234]")


def test_old_state_without_the_route_loads_and_keeps_the_reminder_going():
    state = ticket_from(fixture("rt/create.eml"), fixture("rt/stalled.eml"))
    doc = state.to_doc()
    assert (doc["reply_to"], doc["subject_token"]) == ("software@rt.example.org", "[rt.example.org #1234]")
    assert Ticket.from_doc(doc) == state
    old = {k: v for k, v in doc.items() if k not in ("reply_to", "subject_token")}
    loaded = Ticket.from_doc(old)
    assert (loaded.reply_to, loaded.subject_token) == (None, None)
    out, msg = reminder(loaded)
    assert reply_to(msg) == [LIST]                   # unknown route: the team, not one person
    assert msg["Subject"] == "Re: Cannot install client [rt:1234]"
    assert "please answer on the ticket's page" in text_of(msg)


def test_the_policy_hands_the_route_to_the_templates():
    state = ticket_from(fixture("rt/create.eml"), fixture("rt/stalled.eml"))
    [due] = [d for d in due_reminders([state], LEDGER, TEAM, [], NOW) if d.kind == "user"]
    assert due.data["ticket"]["reply_to"] == "software@rt.example.org"
    assert due.data["ticket"]["subject_token"] == "[rt.example.org #1234]"
