"""Unit tests of the GitHub parser's tricky parts; whole mails are in fixtures/github (test_fixtures)."""
from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from builders import one_part
from maildaemon.apply import apply
from maildaemon.config import team_from_dict
from maildaemon.model import RawMail
from maildaemon.parse import Accepted, Quarantined, classify
from maildaemon.parse.base import Unparseable
from maildaemon.parse.github import GithubParser, read_event, thread
from maildaemon.parse.mail import read_mail

FIXTURES = Path(__file__).parent / "fixtures"


def make(subject: str, body: str = "", message_id: str = "<org/repo/issues/12@github.com>", **headers: str):
    return read_mail(one_part(subject, body, from_='"Ada Lovelace" <notifications@github.com>',
                              to="org/repo <repo@noreply.github.com>", date="Tue, 24 Nov 2026 10:00:02 -0800",
                              message_id=message_id, **headers))


@pytest.mark.parametrize("message_id, expected", [
    ("<org/repo/issues/12@github.com>", ("org/repo", "issues", "12", None)),
    ("<org/repo/pull/7@github.com>", ("org/repo", "pull", "7", None)),
    ("<angular/angular/issues/15281/287565308@github.com>", ("angular/angular", "issues", "15281", "287565308")),
    ("<SkogAI/setup/pull/84/c3592061197@github.com>", ("SkogAI/setup", "pull", "84", "c3592061197")),
    ("<org/repo/pull/7/review/2450012345@github.com>", ("org/repo", "pull", "7", "review/2450012345")),
    ("<Homebrew/brew/issue/1607/issue_event/1005909208@github.com>", ("Homebrew/brew", "issues", "1607",
                                                                      "issue_event/1005909208")),
    ("<my.org/repo.js/issues/3@github.com>", ("my.org/repo.js", "issues", "3", None)),
])
def test_message_id_patterns(message_id, expected):
    assert thread(make("x", message_id=message_id)) == expected


def test_thread_from_references_or_subject_when_the_message_id_is_foreign():
    mail = make("Re: [org/repo] Title (Issue #12)", message_id="<abc@mail.example.org>",
                In_Reply_To="<org/repo/issues/12@github.com>")
    assert thread(mail)[:3] == ("org/repo", "issues", "12")
    mail = make("[org/repo] Title (#12)", message_id="<abc@mail.example.org>", X_GitHub_Reason="author")
    assert thread(mail)[:3] == ("org/repo", "issues", "12")


@pytest.mark.parametrize("line, event", [
    ("Closed #12.", ("closed", ())),
    ("Closed #12 as not planned.", ("closed", ())),
    ("Closed #12 via #13.", ("closed", ())),
    ("Reopened #12.", ("reopened", ())),
    ("Merged #12 into main.", ("merged", ())),
    ("Assigned #12 to @alovelace.", ("assigned", ("@alovelace",))),
    ("Assigned #12 to @alovelace and @ghopper.", ("assigned", ("@alovelace", "@ghopper"))),
    ("Unassigned @ghopper from #12.", ("unassigned", ("@ghopper",))),
    ("@ghopper requested your review on: #12 Title.", None),
])
def test_one_line_events(line, event):
    assert read_event(line) == event


def test_recognised_by_headers_message_id_or_list_id():
    p = GithubParser()
    assert p.recognises(make("x", message_id="<a@b>", X_GitHub_Reason="mention"))
    assert p.recognises(make("x", message_id="<a@b>", X_GitHub_Sender="alovelace"))
    assert p.recognises(make("x"))                                                # thread Message-ID
    assert p.recognises(make("x", message_id="<a@b>", List_Id="org/repo <repo.org.github.com>"))
    assert not p.recognises(make("Re: [org/repo] x (#12)", message_id="<a@b>"))   # a person quoting a subject
    for name in ("goc/create.eml", "rt/create.eml", "jira/create.eml", "zammad/create.eml"):
        assert not p.recognises(read_mail((FIXTURES / name).read_bytes())), name


def test_pr_subject_makes_an_issue_event_a_pull_request():
    c = GithubParser().parse(make("Re: [org/repo] Fix (PR #7)", "Closed #7.",
                                  message_id="<org/repo/issue/7/issue_event/99@github.com>"))
    assert (c.url, c.status) == ("https://github.com/org/repo/pull/7", "closed")


def test_actor_falls_back_to_the_from_display_name():
    c = GithubParser().parse(make("[org/repo] Title (Issue #12)", "Body"))
    assert (c.actor, c.submitter) == ("Ada Lovelace", None)


def test_a_comment_that_says_closed_is_a_comment():
    c = GithubParser().parse(make("Re: [org/repo] T (#12)", "Closed #12. I think.",
                                  message_id="<org/repo/issues/12/555@github.com>"))
    assert (c.status, c.kinds) == (None, {"commented"})


def test_release_is_unparseable():
    mail = make("[org/repo] Release v1", message_id="<org/repo/releases/1@github.com>", X_GitHub_Reason="subscribed")
    with pytest.raises(Unparseable, match="no issue or pull request"):
        GithubParser().parse(mail)


# --- through classify and apply: logins map to members ---------------------------------------

TEAM = team_from_dict({
    "team": {"name": "T", "timezone": "UTC", "list_address": "software-support-stream@example.org",
             "from_address": "t@example.org", "trusted_senders": ["notifications@github.com"],
             "require_authentication": True, "authserv_id": "mx1.example.org"},
    "members": [{"name": "Ada Lovelace", "email": "ada@example.org", "aliases": ["@alovelace"]},
                {"name": "Grace Hopper", "email": "grace@example.org", "aliases": ["@ghopper"]}],
})


def accepted(name: str):
    v = classify(RawMail((FIXTURES / "github" / name).read_bytes(), name), TEAM)
    assert isinstance(v, Accepted), v
    return v.change


def test_a_thread_through_classify_and_apply():
    ticket = None
    for name in ("create.eml", "comment.eml", "assignment.eml"):
        ticket, _ = apply(ticket, accepted(name), TEAM)
    assert (ticket.owner, ticket.assignees, ticket.status) == ("ada@example.org", ("@alovelace",), "open")
    assert ticket.last_team_update_at is not None           # @alovelace's comment is a member's update
    assert [x["key"] for x in ticket.links] == ["jira:SOFTWARE-1234"]
    for name in ("closed.eml", "reopen.eml"):
        ticket, _ = apply(ticket, accepted(name), TEAM)
    assert ticket.status == "open" and "reopened" in ticket.history[-1].kinds
    assert [x["key"] for x in ticket.links] == ["jira:SOFTWARE-1234", "github:example-org/client#46"]


def test_github_mail_without_authentication_is_quarantined_when_required():
    msg = message_from_bytes((FIXTURES / "github" / "closed.eml").read_bytes(), policy=policy.default)
    assert isinstance(classify(RawMail(msg.as_bytes(), "x"), TEAM), Accepted)
    del msg["Authentication-Results"]
    v = classify(RawMail(msg.as_bytes(), "x"), TEAM)
    assert isinstance(v, Quarantined) and "dkim=pass or spf=pass" in v.reason
