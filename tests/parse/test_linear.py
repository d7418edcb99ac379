"""No parser regex or loop is super-linear in its input (SPEC 9, "One mail never stops the stream").

Each case builds an adversarial input (long runs of what a pattern loops over, near-miss shapes)
at n and at 4n characters (256 KB and 1 MB) and runs it under a hard cap: SIGALRM after
`CAP` seconds raises inside the regex engine (sre checks signals). Linear work finishes in a
small fraction of the cap at both sizes; quadratic work on these inputs needs minutes to hours,
so the cap turns super-linearity into a failure without asserting anything about normal speed.
"""
from __future__ import annotations

import pytest

from test_hostile_classify import hang_cap
from maildaemon.parse import base, ggus, github, goc, jira, links, rt, trust, zammad
from maildaemon.parse.base import Unparseable
from maildaemon.parse.mail import Mail

CAP = 5.0          # seconds, per run; generous on purpose
N = 256 * 1024     # characters; each case also runs at 4 * N


def capped(seconds: float = CAP):
    """The cap of the hostile classify tests: SIGALRM raises a BaseException the code cannot swallow."""
    return hang_cap(seconds, [])


def mail(subject: str = "x", text: str = "", html: str = "", from_name: str = "", message_id: str = "<x@example.org>",
         **headers: str) -> Mail:
    """A decoded mail built directly (read_mail is not under test here)."""
    return Mail(message_id=message_id, subject=subject, clean_subject=subject, from_name=from_name,
                from_addr="ticket@example.org", date=None, text=text, html=html, content_type="text/plain",
                in_reply_to="", references=(), raw=b"",
                _headers=tuple((k.replace("_", "-"), v) for k, v in headers.items()))


def rep(unit: str, n: int) -> str:
    """`unit` repeated to about n characters."""
    return unit * max(1, n // len(unit))


def spaces(n: int) -> str:
    return " " * n


ENTRY = "Entered on 11/22/2026 at 09:10 by "
RT_BLOCK = "Tue Nov 24 10:00:00 2026: Request 1234 was acted upon.\n Transaction: {}\n"
JIRA_EVENT = "Ada Lovelace updated SOFTWARE-1:\n----\n"
ZAMMAD_BY = 'Ticket (x) has been updated by "Ada".\nChanges:\n'

# name -> n -> a thunk doing the work
CASES = {
    # GOC
    "goc loose token: ISSUE= repeated": lambda n: lambda: goc.GocParser().recognises(mail(rep("ISSUE=", n))),
    "goc subject title: ISSUE= repeated": lambda n: lambda: goc.subject_title(rep("ISSUE=", n)),
    "goc token: ISSUE=1 + spaces": lambda n: lambda: goc.GocParser().recognises(mail("ISSUE=1" + spaces(n) + "x")),
    "goc entry: by + spaces": lambda n: lambda: goc.split_entries("Status: Open\n" + ENTRY + spaces(n) + "\n"),
    "goc entry: by + spaces, many entries": lambda n: lambda: goc.split_entries(
        rep(ENTRY + spaces(2000) + "x\n", n)),
    "goc entry: spaces after the time": lambda n: lambda: goc.split_entries(
        "Entered on 11/22/2026 at 09:10" + spaces(n) + "x\n"),
    "goc entry: spaces in the zone": lambda n: lambda: goc.split_entries(
        "Entered on 11/22/2026 at 09:10 (" + spaces(n) + "GMT" + spaces(n) + "x\n"),
    "goc entry: blank lines": lambda n: lambda: goc.split_entries(rep("\n", n) + "x"),
    "goc entry: by by by": lambda n: lambda: goc.split_entries(ENTRY + rep("by ", n) + "x\n"),
    "goc entry: colons": lambda n: lambda: goc.split_entries(ENTRY + rep("a: ", n) + "x\n"),
    "goc parse: entry text repeated": lambda n: lambda: goc.GocParser().parse(mail(
        "ISSUE=1 PROJ=71 t", "Status: Open\n" + rep(ENTRY + "Jane User:\n" + spaces(60) + "\n", n))),
    "goc deadline: spaces and T": lambda n: lambda: goc.deadline("2026-11-25" + rep(" T", n) + "x"),
    "goc deadline: spaces before zone": lambda n: lambda: goc.deadline("2026-11-25 10:00" + spaces(n) + "x"),
    "goc submitter: nested comments": lambda n: lambda: goc.GocParser().parse(mail(
        "ISSUE=1 PROJ=71 t", "Submitter: " + rep("(", n) + "\n")),
    "goc submitter: angle brackets": lambda n: lambda: goc.GocParser().parse(mail(
        "ISSUE=1 PROJ=71 t", "Submitter: " + rep("<", n) + "\n")),
    "goc cc: commas": lambda n: lambda: goc.GocParser().parse(mail("ISSUE=1 PROJ=71 t", "CC: " + rep(",", n) + "\n")),
    "goc cc: many people": lambda n: lambda: goc.GocParser().parse(mail(
        "ISSUE=1 PROJ=71 t", "CC: " + rep("a@b.c, ", n) + "\n")),
    # shared helpers
    "labelled fields: continuation lines": lambda n: lambda: base.labelled_fields(
        "Title: a\n" + rep(" x\n", n), {"title": "title"}),
    "labelled fields: label then spaces": lambda n: lambda: base.labelled_fields(
        "Title" + spaces(n) + "x\n", {"title": "title"}),
    "labelled fields: spaces lines": lambda n: lambda: base.labelled_fields(rep(spaces(60) + "\n", n), {"a": "a"}),
    "split people: separators": lambda n: lambda: base.split_people(rep(",", n)),
    "split people: separators then <": lambda n: lambda: base.split_people(rep(";", n) + "<"),
    "first line: long text": lambda n: lambda: base.first_line(rep("\n", n) + rep("x", n)),
    # RT
    "rt tag: [ + spaces": lambda n: lambda: rt.RtParser().recognises(mail("[" + spaces(n) + "x", X_Managed_by="RT 5")),
    "rt tag: [a repeated": lambda n: lambda: rt.parse_subject("[" + rep("a ", n), "1"),
    # quadratic with a small constant (a copy per prefix): 4 MB at 4n to reach the cap
    "rt subject prefixes: Re: repeated": lambda n: lambda: rt.parse_subject(rep("Re:", 4 * n) + "[rt #1] x", "1"),
    "rt header id": lambda n: lambda: rt.RtParser().parse(mail("x", X_RT_Ticket="rt #" + rep("1 ", n) + "x")),
    "rt display url: http:// repeated": lambda n: lambda: rt.RtParser().parse(mail("[rt #1] x", rep("http://", n))),
    "rt display url: long path": lambda n: lambda: rt.RtParser().parse(mail("[rt #1] x", "https://" + rep("a/", n))),
    "rt acted: Request + spaces": lambda n: lambda: rt.split_transaction("Request" + spaces(n) + "x"),
    "rt block: forcibly changed to to to": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", RT_BLOCK.format("Owner forcibly changed from " + rep("a to ", n) + "x by"))),
    "rt block: status changed to to to": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", RT_BLOCK.format("Status changed from " + rep("a to ", n) + "x by"))),
    "rt block: given to by by": lambda n: lambda: rt.describe("Given to " + rep("a by ", n) + "x y"),
    "rt owner: parentheses": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", RT_BLOCK.format("x") + "       Owner: a " + rep("(", n) + "\n")),
    "rt owner: spaces": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", RT_BLOCK.format("x") + "       Owner: a" + spaces(n) + "b\n")),
    "rt actor: from name spaces": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", "hi", from_name="a" + spaces(n) + "b")),
    "rt url line: spaces": lambda n: lambda: rt.split_transaction(RT_BLOCK.format("x") + " <URL:" + spaces(n) + "x"),
    "rt boilerplate: long lines": lambda n: lambda: rt.RtParser().parse(mail(
        "[rt #1] x", rep("<URL:" + rep(">", 100) + " x\n", n))),
    "rt rule: dashes": lambda n: lambda: rt.RtParser().parse(mail("AutoReply: [rt #1] x", rep("-", n) + "x")),
    # Jira
    "jira event: spaces": lambda n: lambda: jira.JiraParser().parse(mail("(A-1)", spaces(n))),
    "jira event: word then spaces": lambda n: lambda: jira.JiraParser().parse(mail("(A-1)", "a" + spaces(n) + "x")),
    "jira event: created + long word": lambda n: lambda: jira.JiraParser().parse(mail(
        "(A-1)", "a created " + rep("b", n) + "\n")),
    "jira field: value then spaces": lambda n: lambda: jira.JiraParser().parse(mail(
        "(A-1)", JIRA_EVENT + "    Status: a" + spaces(n) + "b\n")),
    "jira field: label then spaces": lambda n: lambda: jira.field_block("Status" + spaces(n) + "x\n"),
    "jira field: many continuation lines": lambda n: lambda: jira.field_block("Status: a\n" + rep(" x\n", n)),
    "jira browse: http:// repeated": lambda n: lambda: jira.JiraParser().parse(mail("[JIRA] x", rep("http://", n))),
    "jira browse url in html": lambda n: lambda: jira.JiraParser().parse(mail(
        "(A-1) x", "", html=rep("http://", n))),
    "jira subject: ( + letters": lambda n: lambda: jira.parse_subject("(" + rep("A", n)),
    "jira subject: bare key letters": lambda n: lambda: jira.parse_subject(rep("A", n) + "-1" + spaces(n) + "x"),
    "jira subject: bare key digits then dashes": lambda n: lambda: jira.parse_subject(
        "AB-" + rep("1", n) + rep(" -:", n)),
    "jira portal: digits": lambda n: lambda: jira.JiraParser().parse(mail(
        "x", "https://x/servicedesk/customer/portal/" + rep("1", n))),
    "jira portal: repeated": lambda n: lambda: jira.JiraParser().parse(mail(
        "x", rep("https://x/servicedesk/customer/portal/1/", n))),
    "jira portal: key letters": lambda n: lambda: jira.JiraParser().parse(mail(
        "x", "https://x/servicedesk/customer/portal/1/A" + rep("B", n))),
    "jira portal url in html": lambda n: lambda: jira.JiraParser().parse(mail(
        "x", "", html=rep("http://x/servicedesk/customer/portal/1/", n))),
    "jira summary: reply marker lines": lambda n: lambda: jira.JiraParser().parse(mail(
        "(AB-1) x", "Ada Lovelace commented on AB-1:\n" + rep("Reply above this \n", n))),
    "jira subject: verb then spaces": lambda n: lambda: jira.parse_subject("ab" + spaces(n) + ": " + ":" + "(A-1)"),
    "jira was: value": lambda n: lambda: jira.new_value("a" + rep(" (was:", n)),
    "jira arrow: value": lambda n: lambda: jira.new_value("a" + spaces(n) + "b"),
    # Zammad
    "zammad by: spaces": lambda n: lambda: zammad.ZammadParser().parse(mail(
        "[Ticket#1] x", 'has been created by "' + spaces(n) + "x")),
    "zammad by: repeated": lambda n: lambda: zammad.ZammadParser().parse(mail(
        "[Ticket#1] x", rep('has been created by " ', n))),
    "zammad by: many that do not match": lambda n: lambda: zammad.created_or_updated_by(
        rep('has been updated by "a', n)),
    "zammad information: blank lines": lambda n: lambda: zammad.split_article(rep("\n", n) + "x"),
    "zammad changes: blank lines": lambda n: lambda: zammad.changes(rep("\n", n) + "x"),
    "zammad change: spaces": lambda n: lambda: zammad.changes("Changes:\nState: a" + spaces(n) + "b\n"),
    "zammad change: field spaces": lambda n: lambda: zammad.changes("Changes:\nState" + spaces(n) + "b\n"),
    "zammad zoom: http:// repeated": lambda n: lambda: zammad.ZammadParser().parse(mail(
        "[Ticket#1] x", rep("http://", n))),
    "zammad subject: hooks": lambda n: lambda: zammad.parse_subject(rep("[a", n)),
    "zammad subject: template parentheses": lambda n: lambda: zammad.parse_subject(
        "New Ticket (" + rep(") ", n) + "x"),
    # GGUS
    "ggus recognise: ISSUE= repeated": lambda n: lambda: ggus.GgusParser().recognises(mail(
        "GGUS-Ticket-ID: #1 " + rep("ISSUE=", n))),
    "ggus token: spaces": lambda n: lambda: ggus.GgusParser().recognises(mail(
        rep("NOTIFICATION of" + spaces(1000), n) + "x")),
    "ggus field: value then spaces": lambda n: lambda: ggus.read_fields("STATUS: a" + spaces(n) + "b\n"),
    "ggus field: label then spaces": lambda n: lambda: ggus.read_fields("STATUS" + spaces(n) + "b\n"),
    "ggus url: repeated": lambda n: lambda: ggus.GgusParser().parse(mail(
        "GGUS-Ticket-ID: #1 x", rep("https://ggus.eu/", n))),
    "ggus submitter: nested comments": lambda n: lambda: ggus.GgusParser().parse(mail(
        "GGUS-Ticket-ID: #1 x", "SUBMITTER: " + rep("(", n) + "\n")),
    "ggus subject title: quotes": lambda n: lambda: ggus.subject_title("GGUS-Ticket-ID: #1 " + rep('"', n)),
    # GitHub
    "github subject: ( + spaces": lambda n: lambda: github.GithubParser().parse(mail(
        "[o/r] x (" + spaces(n) + "x", X_GitHub_Reason="x")),
    "github subject: (#1 repeated": lambda n: lambda: github.GithubParser().parse(mail(
        "[o/r] " + rep("(#1 ", n), X_GitHub_Reason="x")),
    "github subject: spaces before (": lambda n: lambda: github.GithubParser().parse(mail(
        "[o/r] a" + spaces(n) + "b", X_GitHub_Reason="x")),
    "github message id: long rest": lambda n: lambda: github.GithubParser().parse(mail(
        "x", message_id="<o/r/issues/1/" + rep("a", n) + ">", X_GitHub_Reason="x")),
    "github list id": lambda n: lambda: github.GithubParser().parse(mail(
        "x", List_Id="o/r <" + rep("a", n), X_GitHub_Reason="x")),
    "github comment head": lambda n: lambda: github.GithubParser().parse(mail(
        "x (#1)", "a left a comment (" + rep("#1 ", n) + "\n", message_id="<o/r/issues/1/2@github.com>")),
    "github event": lambda n: lambda: github.read_event("Unassigned " + rep("a from #1 ", n)),
    # links
    "links: http:// repeated": lambda n: lambda: links.find_links(rep("http://", n)),
    "links: https://github.com/o/ repeated": lambda n: lambda: links.find_links(rep("https://github.com/o/", n)),
    "links: owner/repo repeated": lambda n: lambda: links.find_links(rep("a/b-", n)),
    "links: keys": lambda n: lambda: links.find_links(rep("AB-1 ", n), github_repo="o/r"),
    "links: digits": lambda n: lambda: links.find_links("AB-1" + rep("1", n) + " o/r#1" + rep("1", n)),
    "links: many urls": lambda n: lambda: links.find_links(rep("https://j.example.org/browse/AB-1 ", n)),
    # the text patterns themselves, on the whole input (parsers read only its first SCAN_CHARS)
    "regex goc entry": lambda n: lambda: list(goc._ENTRY.finditer(rep(ENTRY + spaces(500) + "x\n", n))),
    "regex rt display url": lambda n: lambda: rt._DISPLAY_URL.search(rep("http://", n)),
    "regex jira browse": lambda n: lambda: jira._BROWSE.search(rep("http://", n)),
    "regex jira portal": lambda n: lambda: jira._BROWSE.search(rep("http://x/servicedesk/customer/portal/", n)),
    "regex jira bare key": lambda n: lambda: jira._BARE.match("A" + rep("B", n) + "-" + rep("1", n)),
    "regex trust no-reply": lambda n: lambda: trust._NO_REPLY.search(rep("no-no.do-not", n)),
    "trust reply address: long Reply-To": lambda n: lambda: trust.reply_address(mail(
        "x", Reply_To=rep("a", n) + "@x.org", From="t@x.org"), "l@x.org", ("*@x.org",)),
    "regex jira event": lambda n: lambda: jira._EVENT.search(rep(spaces(100) + "\n", n)),
    "regex zammad zoom": lambda n: lambda: zammad._ZOOM.search(rep("http://", n)),
    "regex zammad by": lambda n: lambda: zammad._BY.search('has been created by "' + spaces(n)),
    "regex zammad information": lambda n: lambda: zammad._INFORMATION.search(rep("\n", n) + "x"),
    "regex ggus url": lambda n: lambda: ggus._URL_IN_TEXT.search(rep("https://ggus.eu/", n)),
    "regex links jira url": lambda n: lambda: links._JIRA_URL.search(rep("http://", n)),
    "regex first line": lambda n: lambda: base.first_line(rep(spaces(100) + "\n", n) + "x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_linear(name):
    for size in (N, 4 * N):
        work = CASES[name](size)
        with capped():
            try:
                work()
            except Unparseable:
                pass

