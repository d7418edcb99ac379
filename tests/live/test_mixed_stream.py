"""A support stream that mixes every format, through a real Dovecot and `maildaemon sync`.

GOC and RT mails come from the bench corpus; Zammad (and the new GGUS on Zammad), old GGUS, Jira,
GitHub and a team-defined Freshdesk are the parser fixtures (tests/parse/fixtures), each a
ticket's life: created, commented, assigned, waiting, closed, reopened. They are appended in
`Date` order, interleaved, with two imitations from untrusted senders. What a user sees in
`tickets --json` is asserted: keys, owners (GitHub logins through `@login` aliases), statuses
and the links between support tickets and the work items they spawned.
"""
from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from builders import CST, goc_mail, rt_mail

pytestmark = pytest.mark.live

FIXTURES = Path(__file__).parents[1] / "parse" / "fixtures"
STORIES = {
    "zammad": ["create", "comment", "assignment", "waiting_on_user", "closed", "reopen", "ggus_helpdesk"],
    "ggus": ["create", "assignment", "comment", "waiting_on_user", "resolved", "reopen", "closed"],
    "jira": ["create", "comment", "assignment", "waiting_on_user", "resolved", "closed", "reopen", "html_only"],
    "github": ["create", "comment_2017", "comment", "assignment", "unassignment", "pull_request", "review",
               "merged", "closed", "reopen"],
    "custom": ["create", "assignment", "comment", "waiting_on_user", "closed", "reopen", "list_rewritten"],
}
TEAM = """
[team]
name = "Software Team"
timezone = "America/Chicago"
list_address = "software-support-stream@example.org"
triage_user = "Software Support (Triage)"
from_address = "software-triage@example.org"
trusted_senders = ["ticket@example.org", "*@rt.example.org", "notifications@github.com", "jira@example.org",
                   "noreply@helpdesk.example.org", "helpdesk@ggus.eu"]

[[members]]
name = "Ada Lovelace"
email = "ada@example.org"
aliases = ["@alovelace", "ada"]

[[members]]
name = "Grace Hopper"
email = "grace@example.org"
aliases = ["@ghopper", "grace"]

[[systems]]
name = "freshdesk"
trusted_senders = ["support@example.freshdesk.com"]
key = '\\[#(?P<id>\\d+)\\]'
status_map = { "Waiting on Customer" = "waiting-on-user", "Closed" = "closed", "Resolved" = "resolved" }

[systems.fields]
owner = '^Agent:[ \\t]*(?P<value>.*)$'
status = '^Status:\\s*(?P<value>.+?)\\s*$'
title = '^Subject:\\s*(?P<value>.+?)\\s*$'
submitter = '^Requester:\\s*(?P<value>.+?)\\s*$'
"""


def stream() -> list[bytes]:
    at = datetime(2026, 11, 23, 9, tzinfo=CST)
    mails = [
        goc_mail(41234, "Pilot jobs fail at Example site", at),
        goc_mail(41234, "Pilot jobs fail at Example site", at.replace(hour=11), n=1,
                 assignees=("Software Support (Triage)", "Ada Lovelace"), next_action="ENG Action",
                 entries=[(at.replace(hour=11), "Grace Hopper", "Ada, see SOFTWARE-1234 for the pilot rebuild.")]),
        rt_mail(1240, "Cannot install client", at.replace(hour=10), transaction="Ticket created by jane@example.edu",
                actor="Jane User", actor_email="jane@example.edu", n=1),
        rt_mail(1240, "Cannot install client", at.replace(hour=12), transaction="Given to grace by ada",
                actor="Ada Lovelace", actor_email="ada@example.org", owner="grace", status="open", n=2,
                content="Same root cause as https://github.com/example-org/client/issues/45"),
    ]
    mails += [(FIXTURES / system / f"{case}.eml").read_bytes() for system, cases in STORIES.items() for case in cases]
    forged = (FIXTURES / "zammad" / "assignment.eml").read_bytes().replace(
        b"noreply@helpdesk.example.org", b"noreply@helpdesk-example.org")
    goc_from_freshdesk = goc_mail(41234, "Pilot jobs fail at Example site", at.replace(hour=13), n=2,
                                  status="Closed").replace(b"ticket@example.org", b"support@example.freshdesk.com")
    # the forgery reuses the real mail's Message-ID and arrives just before it: quarantined, it must
    # not keep the real one out as a "duplicate"
    return sorted([forged] + mails + [goc_from_freshdesk], key=_date)


def _date(raw: bytes) -> datetime:
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    line = next(x for x in head.split("\n") if x.startswith("Date:"))
    return parsedate_to_datetime(line[5:].strip())


@pytest.fixture
def imap_cli(cli, dovecot):
    cli.env.update(MAILDAEMON_IMAP_HOST=dovecot.host, MAILDAEMON_IMAP_PORT=str(dovecot.port),
                   MAILDAEMON_IMAP_USER=dovecot.user, MAILDAEMON_IMAP_PASSWORD=dovecot.password,
                   MAILDAEMON_IMAP_SECURITY="plain")
    cli.team_file.write_text(TEAM)
    return cli


def test_a_mixed_stream_through_dovecot(imap_cli, dovecot):
    mails = stream()
    for raw in mails:
        dovecot.append(raw)
    code, out, err = imap_cli("sync")
    assert code == 0, err
    assert out.strip() == f"fetched={len(mails)} applied={len(mails) - 2} duplicate=0 quarantined=2 ignored=0"

    code, out, err = imap_cli("tickets", "--json", "--all")
    assert code == 0, err
    t = {x["key"]: x for x in json.loads(out)}
    assert set(t) == {"goc:41234", "rt:1240", "zammad:31007", "zammad:2026112410000042", "ggus:165432",
                      "jira:SOFTWARE-1234", "jira:SOFTWARE-1240", "github:example-org/client#45",
                      "github:example-org/client#46", "freshdesk:5012", "freshdesk:5013"}

    def state(key):
        return t[key]["status"], t[key]["owner"]

    # the imitations changed nothing: the GOC ticket is still open, the Zammad one was assigned for real
    assert state("goc:41234") == ("open", "ada@example.org")
    assert state("rt:1240") == ("open", "grace@example.org")
    assert state("zammad:31007") == ("open", "ada@example.org")                # reopened by the user
    assert state("zammad:2026112410000042") == ("open", "ada@example.org")     # new GGUS, on Zammad
    assert state("ggus:165432") == ("closed", "ada@example.org")               # verified
    assert state("jira:SOFTWARE-1234") == ("open", "ada@example.org")          # reopened after closed
    assert t["jira:SOFTWARE-1234"]["status_raw"] == "Reopened"
    assert state("jira:SOFTWARE-1240") == ("open", None)
    gh = t["github:example-org/client#45"]
    assert state(gh["key"]) == ("open", "ada@example.org") and gh["assignees"] == ["@alovelace"]
    assert gh["url"] == "https://github.com/example-org/client/issues/45" and gh["submitter"] is None
    assert state("github:example-org/client#46") == ("closed", None)
    assert t["github:example-org/client#46"]["status_raw"] == "merged"
    assert state("freshdesk:5012") == ("open", None) and t["freshdesk:5012"]["status_raw"] == "Pending"
    assert t["freshdesk:5012"]["submitter"] == "jane@example.edu"
    assert state("freshdesk:5013") == ("resolved", None)

    def links(key):
        return [x["key"] for x in t[key]["links"]]

    assert links("goc:41234") == ["jira:SOFTWARE-1234"]
    assert links("rt:1240") == ["github:example-org/client#45"]
    assert links("zammad:31007") == ["jira:SOFTWARE-1234"]
    assert links("ggus:165432") == ["jira:SOFTWARE-1234"]
    assert links("jira:SOFTWARE-1234") == ["github:example-org/client#46"]
    assert links("github:example-org/client#45") == ["jira:SOFTWARE-1234", "github:example-org/client#46"]
    assert links("github:example-org/client#46") == ["github:example-org/client#45"]
    assert t["rt:1240"]["links"][0]["url"] == "https://github.com/example-org/client/issues/45"

    code, out, _ = imap_cli("quarantine", "list")
    assert code == 0 and out.count("untrusted: sender") == 2
    assert "noreply@helpdesk-example.org" in out and "support@example.freshdesk.com" in out
