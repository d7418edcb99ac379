"""Unit tests of the Jira parser's tricky parts; whole mails are in fixtures/jira (test_fixtures)."""
from __future__ import annotations

from pathlib import Path

import pytest

from builders import one_part
from maildaemon.config import team_from_dict
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, Quarantined, classify
from maildaemon.parse.base import Unparseable
from maildaemon.parse.goc import GocParser
from maildaemon.parse.jira import JiraParser, field_block, new_value, parse_subject
from maildaemon.parse.mail import read_mail

FIXTURES = Path(__file__).parent / "fixtures"
FP = "9f4c2b7e1d0a3c5b8e6f4a2d1c0b9e8f"


def make(subject: str, body: str = "", from_: str = '"Ada Lovelace (Jira)" <jira@example.org>', html: bool = False,
         **headers: str):
    return read_mail(one_part(subject, body, from_=from_, date="Tue, 24 Nov 2026 10:00:02 -0600",
                              message_id="<JIRA.1.2.3.4@Atlassian.JIRA>", html=html, **headers))


@pytest.mark.parametrize("subject, key, verb, title", [
    ("[JIRA] (SOFTWARE-1234) Cannot build", "SOFTWARE-1234", "", "Cannot build"),
    ("[Sakai Jira] Commented: (KERN-631) Expose tools", "KERN-631", "commented", "Expose tools"),
    ("[JIRA] Work logged on: (OPS_2-7) Rotate certs", "OPS_2-7", "work logged on", "Rotate certs"),
    ("[JIRA] (FQA-123) [Breadcrumb] (nested) parens", "FQA-123", "", "[Breadcrumb] (nested) parens"),
    ("[JIRA] Daily digest", None, "", "[JIRA] Daily digest"),
])
def test_subject_generations(subject, key, verb, title):
    assert parse_subject(subject) == (key, verb, title)


def test_jsm_bare_key_at_the_start_only_and_never_a_standard():
    # Jira Service Management: the key bare at the start of the subject (SPEC 7.6)
    assert parse_subject("SEC-1732 DWF/CVE - openssl 3.0") == ("SEC-1732", "", "DWF/CVE - openssl 3.0")
    assert parse_subject("SEC-1732: Cannot log in") == ("SEC-1732", "", "Cannot log in")
    assert parse_subject("UTF-8 names break the portal") == (None, "", "UTF-8 names break the portal")
    assert parse_subject("CVE-2026-1234 in openssl") == (None, "", "CVE-2026-1234 in openssl")
    assert parse_subject("Please see SEC-1732") == (None, "", "Please see SEC-1732")       # only at the start
    assert parse_subject("SEC-1732-draft notes") == (None, "", "SEC-1732-draft notes")


def test_recognised_by_the_fingerprint_only():
    assert JiraParser().recognises(make("[JIRA] (SOFTWARE-1) x", X_JIRA_FingerPrint=FP))
    assert not JiraParser().recognises(make("Re: [JIRA] (SOFTWARE-1) x", "quoted by a person"))
    for name in ("goc/create.eml", "rt/create.eml", "github/create.eml", "zammad/create.eml"):
        assert not JiraParser().recognises(read_mail((FIXTURES / name).read_bytes())), name


def test_key_from_the_body_link_when_the_subject_has_none():
    mail = make("[JIRA] Ada updated an issue", "See https://jira.example.org/browse/SOFTWARE-77?focus=1\n",
                X_JIRA_FingerPrint=FP)
    assert JiraParser().parse(mail).key == "jira:SOFTWARE-77"


@pytest.mark.parametrize("value, new", [
    ("In Progress  (was: Open)", "In Progress"),
    ("Open → In Progress", "In Progress"),
    ("Open -> In Progress", "In Progress"),
    ("Open -&gt; In Progress", "In Progress"),
    ("    (was: Fixed)", ""),
    ("Waiting for customer", "Waiting for customer"),
])
def test_update_values(value, new):
    assert new_value(value) == new


@pytest.mark.parametrize("status, mapped", [
    ("Resolved", "resolved"), ("Done", "resolved"), ("DONE", "resolved"), ("Closed", "closed"),
    ("Waiting for customer", "waiting-on-user"), ("Waiting for Customer", "waiting-on-user"),
    ("In Progress", "open"), ("Reopened", "open"), ("Triage", "open"),
])
def test_statuses(status, mapped):
    body = f"Ada Lovelace updated SOFTWARE-1:\n----\n    Status: {status}  (was: Open)\n"
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-1) x", body, X_JIRA_FingerPrint=FP))
    assert (c.status, c.status_raw) == (mapped, status)


def test_old_subject_verb_stands_in_for_a_body_without_status():
    c = JiraParser().parse(make("[JIRA] Closed: (SOFTWARE-1) x", "Ada Lovelace closed SOFTWARE-1.\n",
                                X_JIRA_FingerPrint=FP))
    assert (c.status, c.status_raw) == ("closed", "Closed")
    c = JiraParser().parse(make("[JIRA] Created: (SOFTWARE-1) x", "", X_JIRA_FingerPrint=FP))
    assert c.kinds == {"created"}


def test_comment_text_and_quoted_issue_are_not_fields():
    body = ("Ada Lovelace commented on SOFTWARE-1:\n----\n\nStatus: Closed -> nothing to see\nAssignee: me\n\n"
            "> Key: SOFTWARE-1\n> Assignee: Grace Hopper\n> Status: Open\n")
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-1) x", body, X_JIRA_FingerPrint=FP))
    assert (c.status, c.assignees, c.kinds) == (None, None, {"commented"})
    assert c.summary == "Status: Closed -> nothing to see"


def test_unassigned_is_no_owner_and_a_reporter_without_address_is_no_submitter():
    body = "Jane User created SOFTWARE-1:\n----\n    Reporter: Jane User\n    Assignee: Unassigned\n\nText\n"
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-1) x", body, from_="Jira <jira@example.org>", X_JIRA_FingerPrint=FP))
    assert (c.assignees, c.submitter, c.actor) == ((), None, "Jane User")       # From names nobody: the event line


def test_field_block_skips_prose_and_joins_blank_separated_rows():
    block, rest = field_block("Software / Bug X-1\nTitle\n\nIssue Type: Bug\n\nAssignee: Ada\n\nDescription text\n")
    assert block == [("Issue Type", "Bug"), ("Assignee", "Ada")] and rest.startswith("Description text")


def test_actor_strips_the_jira_suffix_in_any_case():
    for from_ in ('"Ada Lovelace (JIRA)" <jira@example.org>', '"Ada Lovelace (Jira)" <jira@x.atlassian.net>'):
        c = JiraParser().parse(make("[JIRA] (SOFTWARE-1) x", "", from_=from_, X_JIRA_FingerPrint=FP))
        assert c.actor == "Ada Lovelace"


def test_no_key_anywhere_is_unparseable():
    with pytest.raises(Unparseable, match="without an issue key"):
        JiraParser().parse(make("[JIRA] Digest", "nothing here", X_JIRA_FingerPrint=FP))


# --- through classify -----------------------------------------------------------------------

TEAM = team_from_dict({
    "team": {"name": "T", "timezone": "UTC", "list_address": "software-support-stream@example.org",
             "from_address": "t@example.org", "trusted_senders": ["jira@example.org", "ticket@example.org"]},
})


def test_jira_mail_quoting_a_goc_token_is_jiras_and_links_other_issues_not_itself():
    raw = (FIXTURES / "jira" / "comment.eml").read_bytes().replace(
        b"Cannot build the client on EL9", b"Cannot build the client on EL9 ISSUE=41234 PROJ=71")
    assert not GocParser().recognises(read_mail(raw))
    v = classify(RawMail(raw, "x"), TEAM)
    assert isinstance(v, Accepted) and v.change.key == "jira:SOFTWARE-1234"
    assert [x["key"] for x in v.change.links] == ["github:example-org/client#46"]


def test_an_imitation_without_the_trusted_sender_is_quarantined():
    raw = (FIXTURES / "jira" / "assignment.eml").read_bytes().replace(b"<jira@example.org>", b"<jira@evil.example.net>")
    v = classify(RawMail(raw, "x"), TEAM)
    assert isinstance(v, Quarantined) and v.reason.startswith("untrusted: sender jira@evil.example.net")


# --- what users write (title, comment, description) is never a field --------------------------

def test_a_title_that_looks_like_a_field_is_not_one():
    title = "Reporter: victim@outsider.test"
    body = (f"Jane User created an issue\nSoftware / Bug SOFTWARE-9\n{title}\nIssue Type: Bug\n"
            "Assignee: Unassigned\nReporter: Jane User <jane@example.edu>\n\nDescription here\n")
    c = JiraParser().parse(make(f"[JIRA] (SOFTWARE-9) {title}", body, X_JIRA_FingerPrint=FP))
    assert (c.submitter, c.assignees, c.kinds) == ("jane@example.edu", (), {"created"})


def test_a_field_named_twice_in_the_block_is_not_read():
    body = ("Jane User created SOFTWARE-9:\n----\n    Reporter: victim@outsider.test\n"
            "    Reporter: Jane User <jane@example.edu>\n    Status: Open\n")
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-9) x", body, X_JIRA_FingerPrint=FP))
    assert (c.submitter, c.status_raw) == (None, "Open")


def test_an_event_line_imitated_below_the_top_is_text():
    body = ("Hello,\nthe build still fails.\nLogs:\nline 1\nline 2\nline 3\n\n"
            "Mallory created SOFTWARE-9:\n----\n    Reporter: victim@outsider.test\n    Status: Closed\n")
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-9) x", body, X_JIRA_FingerPrint=FP))
    assert (c.submitter, c.status, c.kinds) == (None, None, set())


def test_a_comment_with_field_lines_sets_no_submitter():
    body = "Ada Lovelace commented on SOFTWARE-1:\n----\nReporter: victim@outsider.test\nStatus: Closed\n"
    c = JiraParser().parse(make("[JIRA] (SOFTWARE-1) x", body, X_JIRA_FingerPrint=FP))
    assert (c.submitter, c.status, c.kinds) == (None, None, {"commented"})


# --- Jira Service Management customer notifications (SPEC 7.6) ---------------------------------

JSM_TEAM = team_from_dict({
    "team": {"name": "T", "timezone": "UTC", "list_address": "software-support-stream@example.org",
             "from_address": "t@example.org", "trusted_senders": ["support@example.atlassian.net"]},
})
PORTAL = "https://example.atlassian.net/servicedesk/customer/portal/2/SEC-1732"


def jsm_raw(subject: str, body: str, html: bool = False, from_: str = '"Ada Lovelace (Example Security)" '
            "<support@example.atlassian.net>") -> bytes:
    return one_part(subject, body, from_=from_, date="Wed, 25 Nov 2026 08:02:16 -0600", html=html,
                    message_id="<JIRA.240117.1796140936000.8812.1796140936512@Atlassian.JIRA>",
                    X_JIRA_FingerPrint=FP)


def test_a_jsm_customer_notification_is_accepted_with_its_bare_key_and_trust_is_unchanged():
    raw = (FIXTURES / "jira" / "service_desk_customer.eml").read_bytes()
    v = classify(RawMail(raw, "x"), JSM_TEAM)
    assert isinstance(v, Accepted), v
    assert (v.change.key, v.change.title, v.change.url) == ("jira:SEC-1732", "DWF/CVE - openssl 3.0 in the osg-client image",
                                                            PORTAL)
    assert (v.change.subject_token, v.change.reply_to) == ("SEC-1732", "support@example.atlassian.net")
    # the same mail from anyone else is still untrusted, however well it names the issue
    forged = raw.replace(b"<support@example.atlassian.net>", b"<support@evil.example.net>")
    v = classify(RawMail(forged, "x"), JSM_TEAM)
    assert isinstance(v, Quarantined) and v.reason.startswith("untrusted: sender support@evil.example.net")


@pytest.mark.parametrize("body, html", [
    (f"Reply above this line.\n\nAda Lovelace commented:\nSend the log.\n\nView request ( {PORTAL}?sda_source=notification-email )\n",
     False),
    (f'<p>Ada Lovelace commented:</p><p>Send the log.</p><p><a href="{PORTAL}?sda_source=notification-email">View request</a></p>',
     True),
])
def test_the_portal_link_alone_identifies_the_issue(body, html):
    v = classify(RawMail(jsm_raw("Your request has an update", body, html), "x"), JSM_TEAM)
    assert isinstance(v, Accepted), v
    assert (v.change.key, v.change.url, v.change.subject_token) == ("jira:SEC-1732", PORTAL, None)
    assert v.change.summary == "Ada Lovelace commented:"              # JSM's marker line is not news
    # only the portal's own path, and only a whole key
    for other in ("https://example.atlassian.net/servicedesk/customer/portals/SEC-1732",
                  "https://example.atlassian.net/servicedesk/customer/portal/2/SEC-1732-draft"):
        with pytest.raises(Unparseable, match="without an issue key"):
            JiraParser().parse(make("Your request has an update", body.replace(PORTAL, other), html=html,
                                    X_JIRA_FingerPrint=FP))
