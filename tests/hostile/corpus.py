"""A hostile corpus for SPEC section 9: mail built to break, hang, spoof or misdirect maildaemon.

Every generator returns `Case`s; a case unpacks as `(name, bytes, expectation)` and also says
what SPEC 9 fixes about it:

- `expect`: "applied" (a trusted notification that must still become a ticket change),
  "ignored" (recorded, not acted on: auto-replies and bounces), "quarantined", or alternatives
  joined by "|" where the specification leaves the choice to the implementation;
- `reason`: for a quarantine, the prefix SPEC 9 fixes (`too large`, `untrusted`,
  `regex timeout: systems.<name>.`), None where it fixes none;
- `key` and `fields`: for an applied mail, the ticket it must change and values the change must
  (not) carry (e.g. a submitter injected by a user comment must not be read);
- `team`: which team judges it: "plain" (the test team of tests/builders.py with every fixture's
  sender trusted and the `[[systems]]` below) or "auth" (the same with `require_authentication`
  and `authserv_id = "mx.example.org"`);
- `oversize`: delivered as a source delivers a mail over MAILDAEMON_MAX_MAIL_BYTES (`as_delivered`);
- `imap`: False when an IMAP server cannot hold it (Dovecot refuses a zero-byte APPEND);
- `spoof`: an untrusted sender imitating a trusted one: must never be Accepted.

Importable from the repository root as `tests.hostile.corpus` (the tests and
`python3 -m bench.hostile_bench` both run from there). Big cases are built once and cached.
"""
from __future__ import annotations

import base64
import copy
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders import TEAM_DATA
from tests.team_file import toml

FIXTURES = Path(__file__).resolve().parents[1] / "parse" / "fixtures"
LIST = "software-support-stream@example.org"
LIST_ID = "Software support stream <software-support-stream.example.org>"
TRUSTED_GOC = '"GOC Ticket System" <ticket@example.org>'
MALLORY = "mallory@attacker.test"
MAX_MAIL_BYTES = 10 * 1024 * 1024          # SPEC 9 default of MAILDAEMON_MAX_MAIL_BYTES
DATE = "Mon, 23 Nov 2026 10:00:00 -0600"
OLD_DATE = "Fri, 13 Nov 2026 09:00:00 -0600"   # 7 business days before Tue 2026-11-24 09:30
REMIND_AT = "2026-11-24T09:30"                 # a forged "Customer" ticket of OLD_DATE is due a user reminder
PHISH = "https://ticket.example.org.attacker.test/login"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes = field(repr=False)
    expect: str                          # "applied" | "ignored" | "quarantined" | alternatives "a|b"
    reason: str | None = None            # required prefix of the quarantine reason (SPEC-fixed only)
    key: str | None = None               # applied: the ticket key
    fields: tuple = ()                   # applied: (Change attribute, value) pairs the change must carry
    team: str = "plain"                  # "plain" | "auth"
    oversize: bool = False               # bigger than MAILDAEMON_MAX_MAIL_BYTES
    imap: bool = True                    # an IMAP server accepts it
    spoof: bool = False                  # untrusted sender imitating a trusted one: never Accepted
    message_id: str | None = None        # the Message-ID it carries, to find it in the quarantine
    note: str = ""

    def __iter__(self):                  # name, data, expectation = case
        return iter((self.name, self.data, self.expect))

    @property
    def outcomes(self) -> set[str]:
        return set(self.expect.split("|"))


@dataclass(frozen=True)
class Legit:
    """A real notification the hostile mail is interleaved with; `key` is the ticket it changes."""
    name: str
    data: bytes = field(repr=False)
    key: str
    message_id: str


# --- the team ------------------------------------------------------------------------------

SLOW = "alerts@slow.example.net"
SYSTEMS = [
    # A Bugzilla-like system: its fields are read only above the comment marker, so a user's
    # comment can never be read as the system's fields.
    {"name": "bugs", "trusted_senders": ["bugzilla-daemon@bugs.example.org"], "key": r"\[Bug (?P<id>\d+)\]",
     "body_until": r"^-{5,} Comment",
     "status_map": {"NEEDINFO": "waiting-on-user", "RESOLVED": "resolved", "CLOSED": "closed"},
     "fields": {field: rf"^[ \t]*{label}:[ \t]*(?P<value>[^\n]+)$" for field, label in
                (("title", "Summary"), ("status", "Status"), ("owner", "Assignee"), ("submitter", "Reporter"))}},
    # Team regexes that backtrack catastrophically (SPEC 9: they run under a time limit).
    # `(a|aa)+$` is exponential in every backtracking engine, the `regex` module included.
    {"name": "slowkey", "trusted_senders": [SLOW], "key": r"\[SK-(?P<id>\d+)\] (a|aa)+$"},
    {"name": "slowfield", "trusted_senders": [SLOW], "key": r"\[SF-(?P<id>\d+)\]",
     "fields": {"summary": r"^Note:[ \t]*(?P<value>(a|aa)+)$"}},
    # `(a+)+$`: exponential in Python's `re`; an engine that is immune to it simply finds no match.
    {"name": "nestedplus", "trusted_senders": [SLOW], "key": r"\[NP-(?P<id>\d+)\] (a+)+$"},
]


def team_toml(auth: bool = False) -> str:
    """The team file of these tests: the team of tests/builders.py with every fixture's sender
    trusted, the members' chat handles as aliases, one meeting, the fixtures' Freshdesk system and
    the SYSTEMS above; `auth`: require_authentication on."""
    data = copy.deepcopy(TEAM_DATA)
    data["team"]["trusted_senders"] = ["ticket@example.org", "*@rt.example.org", "notifications@github.com",
                                       "jira@example.org", "noreply@helpdesk.example.org", "helpdesk@ggus.eu"]
    if auth:
        data["team"].update(require_authentication=True, authserv_id="mx.example.org")
    ada, grace = data["members"][:2]
    ada["aliases"] = [*ada["aliases"], "@alovelace"]
    grace["aliases"] = ["@ghopper"]
    data["meetings"] = [m for m in data["meetings"] if m["name"] == "Operations meeting"]
    data["systems"] = SYSTEMS
    return toml(data) + "\n" + (FIXTURES / "custom" / "_system.toml").read_text()


def team(auth: bool = False):
    from maildaemon.config import team_from_dict
    return team_from_dict(tomllib.loads(team_toml(auth)))


TEAM_ADDRESSES = ("ada@example.org", "grace@example.org", "alan@example.org", "linus@example.org",
                  LIST, "software-triage@example.org")


# --- building mail -------------------------------------------------------------------------

def _mail(headers, body, eol: bytes = b"\r\n") -> bytes:
    """Raw bytes: `headers` (name, str|bytes) in order, a blank line, the body (str: '\\n' -> eol)."""
    out = bytearray()
    for name, value in headers:
        out += name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("utf-8")) + eol
    out += eol
    out += body if isinstance(body, bytes) else body.replace("\n", "\r\n" if eol == b"\r\n" else eol.decode()).encode("utf-8")
    return bytes(out)


def _mid(name: str, domain: str = "attacker.test") -> str:
    return f"<hostile.{name}@{domain}>"


def _plain_headers(name: str, subject: str, sender: str = MALLORY, date: str = DATE, extra=()) -> list:
    return [("Message-ID", _mid(name)), ("From", sender), ("To", LIST), ("Subject", subject), ("Date", date),
            ("MIME-Version", "1.0"), *extra]


def goc_body(tid: int, title: str | None, *, status: str = "Engineering", submitter: str = "Jane User <jane@example.edu>",
             assignees: str = "Software Support (Triage)", url: str | None = None,
             entry: tuple[str, str, str] | None = ("11/23/2026 at 10:00:00 CST (GMT-0600)", "Jane User",
                                                    "Pilots are held again since this morning."),
             extra_fields: str = "", after: str = "") -> str:
    lines = [f"Ticket ID: {tid}", *([f"Title: {title}"] if title is not None else []), f"Status: {status}",
             "Priority: 4 (Normal)", "Next Action: SOFTWARE TRIAGE", f"Assignees: {assignees}",
             f"Submitter: {submitter}", f"Ticket URL: {url or f'https://ticket.example.org/{tid}'}"]
    text = "This is an automated notification from the GOC ticket system.\n\n" + "\n".join(lines) + "\n"
    if extra_fields:
        text += extra_fields + "\n"
    text += "\n"
    if entry:
        text += f"Entered on {entry[0]} by {entry[1]}:\n{entry[2]}\n\n"
    return text + after


def goc_mail(name: str, tid: int, title: str, body: str | bytes, *, sender: str = TRUSTED_GOC, date: str = DATE,
             msgid: str | None = None, ctype: str = 'text/plain; charset="us-ascii"', extra=(), top=()) -> bytes:
    """A FootPrints notification as the list delivers it; `top` headers go first (Received, A-R)."""
    headers = [*top,
               ("Received", "from lists.example.org (lists.example.org [192.0.2.25]) by mx1.example.org "
                            "(Postfix) with ESMTPS id 4Hk2Lq0Wz9z2xRt; " + date),
               ("From", sender), ("To", LIST), ("Subject", f"{title} ISSUE={tid} PROJ=71"), ("Date", date),
               ("Message-ID", msgid or _mid(name, "tick.example.org")), ("MIME-Version", "1.0"),
               ("Content-Type", ctype), ("Auto-Submitted", "auto-generated"), ("Precedence", "bulk"),
               ("List-Id", LIST_ID), *extra]
    return _mail(headers, body)


def forged_goc(name: str, n: int, sender: str, tid: int | None = None, extra=(), top=(), msgid: str | None = None,
               date: str = OLD_DATE) -> bytes:
    """A forged FootPrints notification: waiting on a victim "user" since an old date, a phishing link."""
    tid = tid or 41950 + n
    body = goc_body(tid, "Account verification required", status="Customer",
                    submitter=f"Victim User <victim+{n}@outsider.test>", url=f"{PHISH}?t={tid}",
                    entry=("11/13/2026 at 09:00:00 CST (GMT-0600)", "Victim User",
                           f"Please confirm your account at {PHISH} within 24 hours."))
    return goc_mail(name, tid, "Account verification required", body, sender=sender, date=date,
                    msgid=msgid or _mid(name), extra=extra, top=top)


def header_only(data: bytes) -> bytes:
    """What a source keeps of a mail over the size limit: its header and the blank line."""
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    if not ends:
        return data[:64 * 1024]
    end = min(ends)
    return data[:end] + (b"\r\n\r\n" if data[end:end + 4] == b"\r\n\r\n" else b"\n\n")


def as_delivered(case: Case, origin: str = "hostile"):
    """The `RawMail` a source hands to `classify` for this case (a too-large mail: header only)."""
    from maildaemon.model import RawMail
    if case.oversize:
        return RawMail(header_only(case.data), origin, oversize=len(case.data))
    return RawMail(case.data, origin)


def _zammad_mail(name: str, who: str, subject: str, body: str) -> bytes:
    """A Zammad notification of the Example Helpdesk (a trusted sender) as the list delivers it."""
    return _mail([("From", f'"{who} via Example Helpdesk" <noreply@helpdesk.example.org>'), ("To", LIST),
                  ("Subject", subject), ("Date", DATE), ("Message-ID", _mid(name, "helpdesk.example.org")),
                  ("MIME-Version", "1.0"), ("Content-Type", 'text/plain; charset="utf-8"'),
                  ("Auto-Submitted", "auto-generated")], body)


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _msgid_of(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
        if not line.strip():
            break
    raise LookupError("no Message-ID")


# --- 1. structure: MIME that recurses, headers that never end ---------------------------------

def structure() -> list[Case]:
    out = []

    depth = 1200
    body = bytearray(b"This is a multi-part message.\r\n")
    for i in range(depth):
        body += f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'.encode()
    body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n--b{depth}--\r\n".encode()
    for i in reversed(range(depth)):
        body += f"--b{i}--\r\n".encode()
    out.append(Case("multipart_nested_1200", _mail(_plain_headers(
        "multipart_nested_1200", "nested parts", extra=[("Content-Type", 'multipart/mixed; boundary="b0"')]),
        bytes(body)), "quarantined", message_id=_mid("multipart_nested_1200"),
        note="the email parser hits Python's recursion limit: unreadable, nested too deeply"))

    # the same nesting from a trusted sender with a GOC token: the reader must still not raise
    body2 = bytes(body).replace(b"deep inside", goc_body(41910, "Nested").encode())
    out.append(Case("multipart_nested_1200_trusted_goc", goc_mail(
        "multipart_nested_1200_trusted_goc", 41910, "Nested", body2,
        ctype='multipart/mixed; boundary="b0"'), "applied|quarantined", key="goc:41910",
        message_id=_mid("multipart_nested_1200_trusted_goc", "tick.example.org")))

    inner = _mail(_plain_headers("rfc822_core", "innermost"), "the innermost message\n")
    for i in range(200):
        inner = _mail([("From", MALLORY), ("Subject", f"layer {i}"), ("MIME-Version", "1.0"),
                       ("Content-Type", "message/rfc822")], inner)
    out.append(Case("rfc822_nested_200", _mail(_plain_headers(
        "rfc822_nested_200", "forwarded forwarded forwarded", extra=[("Content-Type", "message/rfc822")]), inner),
        "quarantined", message_id=_mid("rfc822_nested_200")))

    parts = bytearray()
    for i in range(20000):
        parts += f"--s\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n".encode()
    parts += b"--s--\r\n"
    out.append(Case("multipart_20000_siblings", _mail(_plain_headers(
        "multipart_20000_siblings", "many parts", extra=[("Content-Type", 'multipart/mixed; boundary="s"')]),
        bytes(parts)), "quarantined", message_id=_mid("multipart_20000_siblings")))

    out.append(Case("multipart_unterminated", _mail(_plain_headers(
        "multipart_unterminated", "no closing boundary",
        extra=[("Content-Type", 'multipart/alternative; boundary="never"')]),
        "--never\nContent-Type: text/html\n\n" + "<p>open " * 20000), "quarantined",
        message_id=_mid("multipart_unterminated")))

    out.append(Case("multipart_without_boundary", _mail(_plain_headers(
        "multipart_without_boundary", "multipart, no boundary", extra=[("Content-Type", "multipart/mixed")]),
        "--x\nContent-Type: text/plain\n\nhello\n--x--\n"), "quarantined",
        message_id=_mid("multipart_without_boundary")))
    return out


# --- 2. huge headers ------------------------------------------------------------------------

def huge_headers() -> list[Case]:
    mb = 1024 * 1024
    out = []

    def q(name, subject, sender=MALLORY, extra=(), body="hello\n", note=""):
        out.append(Case(name, _mail(_plain_headers(name, subject, sender=sender, extra=extra), body),
                        "quarantined", message_id=_mid(name), note=note))

    q("subject_1mb", "x" * mb)
    q("subject_1mb_reply_prefixes", "Re: " * (mb // 4) + "Lunch?", note="Re: stripped one at a time")
    q("subject_1mb_list_prefixes", "[software-support-stream] " * (mb // 26) + "Lunch?")
    q("subject_50000_encoded_words", "\r\n ".join(["=?utf-8?q?a=C3=A4?="] * 50000))
    q("subject_issue_run", "ISSUE=" * 30000, sender=TRUSTED_GOC, note="GOC token regex, from a trusted sender")
    q("subject_bracket_run", "[" * 200000 + " #1] x", note="RT/Zammad/list-prefix tag regexes")
    q("subject_ticket_hook_run", "[Ticket#" * 100000, sender="noreply@helpdesk.example.org")
    q("from_1mb_display_name", "hello", sender='"' + "x" * mb + f'" <{MALLORY}>')
    q("from_1mb_comment", "hello", sender=MALLORY + " (" + "(" * (mb // 2) + ")")
    received = [("Received", f"from h{i}.attacker.test (h{i}.attacker.test [192.0.2.{i % 250}]) by "
                             f"mx{i}.attacker.test with SMTP id {i:08d}; Mon, 23 Nov 2026 10:00:00 -0600")
                for i in range(10000)]
    name = "received_10000"
    # (a reader may keep only the topmost header fields: then even its Message-ID is lost)
    out.append(Case(name, _mail(received + _plain_headers(name, "many hops"), "hello\n"), "quarantined"))
    name = "headers_100000_small"
    out.append(Case(name, _mail(_plain_headers(name, "many headers") + [("X-A", "b")] * 100000, "hello\n"),
                    "quarantined", message_id=_mid(name)))
    name = "header_folded_100000_lines"
    out.append(Case(name, _mail(_plain_headers(name, "folded", extra=[("X-Folded", "\r\n ".join(["x"] * 100000))]),
                                "hello\n"), "quarantined", message_id=_mid(name)))
    name = "references_100000"
    out.append(Case(name, _mail(_plain_headers(name, "references", extra=[(
        "References", " ".join(f"<r{i}@attacker.test>" for i in range(100000)))]), "hello\n"), "quarantined",
        message_id=_mid(name)))
    return out


# --- 3. HTML bodies (trusted GOC notifications: the fields come first, then the junk) --------

def html_bodies() -> list[Case]:
    out = []

    def html_goc(name, tid, junk, note=""):
        fields = goc_body(tid, "HTML notification", entry=None).split("\n")
        markup = "<html><body>" + "".join(f"<p>{line.replace('<', '&lt;').replace('>', '&gt;')}</p>"
                                          for line in fields if line) + junk + "</body></html>"
        out.append(Case(name, goc_mail(name, tid, "HTML notification", markup, ctype='text/html; charset="utf-8"'),
                        "applied", key=f"goc:{tid}", fields=(("submitter", "jane@example.edu"),),
                        message_id=_mid(name, "tick.example.org"), note=note))

    html_goc("html_a_200k", 41901, "<a" * 200_000)
    html_goc("html_div_nested_100k", 41902, "<div>" * 100_000 + "deep" + "</div>" * 100_000)
    html_goc("html_div_unclosed_100k", 41903, "<div>" * 100_000 + "deep")
    html_goc("html_attribute_quotes_100k", 41904, "<a " + "x='" * 100_000)
    html_goc("html_comment_unclosed", 41905, "<!--" + "-" * 500_000)
    html_goc("html_entities_500k", 41906, "&amp" * 125_000 + "&#" * 100_000)
    html_goc("html_table_cells_100k", 41907, "<table><tr>" + "<td>x" * 100_000 + "</tr></table>")
    return out


# --- 4. regexes of the parsers: long runs where a field or token is expected ------------------

def parser_regex_bombs() -> list[Case]:
    out = []

    def goc(name, tid, body, note=""):
        out.append(Case(name, goc_mail(name, tid, "Long runs", body), "applied", key=f"goc:{tid}",
                        message_id=_mid(name, "tick.example.org"), note=note))

    goc("goc_entered_on_20000_spaces", 41911,
        goc_body(41911, "Long runs", after="Entered on 11/22/2026 at 09:10 by " + " " * 20000 + "\n"),
        note="the `Entered on ... by NAME:` regex")
    goc("goc_entered_on_spaces_then_colon", 41912,
        goc_body(41912, "Long runs", after="Entered on 11/22/2026 at 09:10 by " + " " * 20000 + "x" + " " * 20000 + ":\n"))
    goc("goc_entered_on_many_lines", 41913,
        goc_body(41913, "Long runs", after="Entered on 11/22/2026 at 09:10 by \n" * 50000))
    goc("goc_assignees_semicolons", 41914, goc_body(41914, "Long runs", assignees="<" + ";" * 50000),
        note="split_people's look-ahead")
    goc("goc_label_spaces", 41915, goc_body(41915, "Long runs", extra_fields="Resource:" + " " * 50000 + "x"))
    goc("goc_deadline_spaces", 41916, goc_body(41916, "Long runs",
                                               extra_fields="Next Action Deadline: 2026-11-25" + " " * 50000 + "x"))
    goc("goc_url_run", 41917, goc_body(41917, "Long runs", after="See " + "https://" * 50000 + "\n"),
        note="work-item link regexes")
    goc("goc_jira_key_run", 41918, goc_body(41918, "Long runs", after="SOFTWARE-" * 50000 + "\n" + "A" * 200000 + "\n"))
    goc("goc_github_ref_run", 41919, goc_body(41919, "Long runs", after="a/" * 100000 + "#\n" + "#1" * 100000 + "\n"))
    goc("goc_colon_run", 41920, goc_body(41920, "Long runs", after=":" * 300000 + "\n" + "a:" * 100000 + "\n"))

    # RT: a subject where a '[' opens a run of spaces before the real tag; content full of runs
    rt_body = ("Mon Nov 23 10:00:00 2026: Request {n} was acted upon.\n Transaction: Correspondence added by "
               "jane@example.edu\n       Queue: software\n     Subject: Printer offline\n       Owner: Nobody\n"
               "  Requestors: jane@example.edu\n      Status: open\n"
               " Ticket <URL: https://rt.example.org/Ticket/Display.html?id={n} >\n\n{content}\n")

    def rt(name, n, subject, content, headers=(), expect="applied"):
        hdr = [("Received", "from rt.example.org by lists.example.org with ESMTPS; " + DATE),
               ("Subject", subject), ("From", '"Jane User via RT" <software@rt.example.org>'), ("To", LIST),
               ("Date", DATE), ("Message-ID", _mid(name, "rt.example.org")), ("MIME-Version", "1.0"),
               ("Content-Type", 'text/plain; charset="utf-8"'),
               ("X-Managed-by", "RT 5.0.5 (http://www.bestpractical.com/rt/)"),
               ("X-RT-Originator", "jane@example.edu"), ("Auto-Submitted", "auto-generated"), *headers]
        out.append(Case(name, _mail(hdr, rt_body.format(n=n, content=content)), expect, key=f"rt:{n}",
                        message_id=_mid(name, "rt.example.org")))

    # (a '[' and 12 000 spaces before the tag: a long subject, but one no sane cap cuts the tag from)
    rt("rt_subject_bracket_spaces", 1301, "[" + " " * 12000 + "[rt.example.org #1301] Printer offline", "hello")
    # 50 000: a reader may cut so long a header before the tag (then it is no notification it knows)
    rt("rt_subject_bracket_spaces_50k", 1304, "[" + " " * 50000 + "[rt.example.org #1304] Printer offline", "hello",
       expect="applied|quarantined")
    rt("rt_content_runs", 1302, "[rt.example.org #1302] Printer offline",
       ":" * 100000 + "\n" + "[" * 100000 + "\n" + " " * 100000 + "x\n" + "Ticket <URL:" + " " * 50000 + "\n"
       + "Status:" + " " * 50000 + "x\n", headers=[("X-RT-Ticket", "rt.example.org #1302")])
    rt("rt_transaction_spaces", 1303, "[rt.example.org #1303] Printer offline",
       "Given to " + " " * 50000 + "x\n", headers=[("X-RT-Ticket", "rt.example.org #1303")])

    # Jira: a creation mail whose description carries field-like lines with long runs
    jira = _fixture("jira/create.eml").replace(b"SOFTWARE-1234", b"SOFTWARE-1299").replace(
        _msgid_of(_fixture("jira/create.eml")).encode(), _mid("jira_label_spaces", "Atlassian.JIRA").encode())
    runs = ("Note:" + " " * 40000 + "x\nEnvironment: a" + " " * 40000 + "(was: b\nComponents: a" + " " * 40000
            + "-> \n" + "-" * 100000 + "\n").encode()
    jira = jira.replace(b"osg-client 24.1 fails to build", runs + b"osg-client 24.1 fails to build")
    out.append(Case("jira_label_spaces", jira, "applied", key="jira:SOFTWARE-1299",
                    message_id=_mid("jira_label_spaces", "Atlassian.JIRA")))

    # Zammad: an update whose Changes: block has a line without an arrow and a long run
    zbody = ('Hi Software Support,\n\nTicket (Squid cache misses) has been updated by "Grace Hopper".\n\n'
             "Changes:\nPriority: 2 normal" + " " * 40000 + "x\nState: new -> open\n\n"
             "Information:\n\n" + "Owner:" + " " * 40000 + "-\n\n"
             "View this in Zammad: https://helpdesk.example.org/#ticket/zoom/1299\n")
    name = "zammad_change_spaces"
    out.append(Case(name, _zammad_mail(name, "Grace Hopper", "Updated Ticket (Squid cache misses) [Ticket#31099]",
                                       zbody), "applied", key="zammad:31099", message_id=_mid(name, "helpdesk.example.org")))

    # old GGUS: a field line with a long run
    ggus = _fixture("ggus/create.eml").replace(b"165432", b"165499").replace(
        _msgid_of(_fixture("ggus/create.eml")).encode().replace(b"165432", b"165499"),
        _mid("ggus_field_spaces", "ggus.eu").encode())
    ggus = ggus.replace(b"NOTIFIED SITE: EXAMPLE-CE", b"NOTIFIED SITE:" + b" " * 40000 + b"x")
    out.append(Case("ggus_field_spaces", ggus, "applied", key="ggus:165499", message_id=_mid("ggus_field_spaces", "ggus.eu")))

    # dates no calendar holds: an implementation may apply them (date unknown) or quarantine them
    for name, tid, body, date in (
            ("goc_date_year_9999", 41921, goc_body(41921, "Far future"), "Fri, 31 Dec 9999 23:59:59 -1200"),
            ("goc_entered_year_9999", 41922, goc_body(41922, "Far future", entry=(
                "12/31/9999 at 23:59:59 (GMT-14:00)", "Jane User", "from the future")), DATE),
            ("goc_deadline_year_9999", 41923, goc_body(41923, "Far future",
                                                       extra_fields="Next Action Deadline: 9999-12-31 23:59:59 -1400"), DATE),
            ("goc_date_garbage", 41924, goc_body(41924, "Bad date", entry=(
                "13/45/0 at 99:99:99 (GMT+99:99)", "Jane User", "bad")), "Mon, 99 Foo 0000 99:99:99 +9999")):
        out.append(Case(name, goc_mail(name, tid, "Far future", body, date=date), "applied|quarantined",
                        key=f"goc:{tid}", message_id=_mid(name, "tick.example.org")))
    return out


# --- 5. encodings: charsets, transfer encodings, bytes no mail should carry --------------------

def encodings() -> list[Case]:
    out = []

    def q(name, headers, body, **kw):
        out.append(Case(name, _mail(headers, body), "quarantined", message_id=_mid(name), **kw))

    q("charset_unknown", _plain_headers("charset_unknown", "=?x-no-such-charset?q?caf=E9?= and =?utf-8?b?!!!?=",
                                        extra=[("Content-Type", 'text/plain; charset="x-no-such-charset"')]),
      b"caf\xe9 \xff\xfe\x00 na\xefve\r\n")
    q("charset_utf16_odd", _plain_headers("charset_utf16_odd", "utf-16",
                                          extra=[("Content-Type", 'text/html; charset="utf-16"')]),
      b"\xff\xfe<\x00p\x00>\x00\x00\xd8")
    q("charset_utf7_runs", _plain_headers("charset_utf7_runs", "=?utf-7?q?+AGEAYgBj-?=",
                                          extra=[("Content-Type", 'text/plain; charset="utf-7"')]),
      b"+" + b"A" * 200000 + b"-\r\n")
    q("base64_broken", _plain_headers("base64_broken", "base64", extra=[
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "base64")]),
      b"SGVsbG8gV29ybGQ!!!*&^===\r\nYWJj=\r\n===\r\n" + b"A" * 100001 + b"\r\n")
    q("quoted_printable_broken", _plain_headers("quoted_printable_broken", "qp", extra=[
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")]),
      b"=ZZ=G1=\r\n" + b"=" * 100000 + b"\r\n" + b"=\r\n" * 50000 + b"=C3")
    q("transfer_encoding_unknown", _plain_headers("transfer_encoding_unknown", "x-uue", extra=[
        ("Content-Type", "text/plain"), ("Content-Transfer-Encoding", "x-uuencode")]),
      "begin 644 x\n" + "M" * 60 + "\nend\n")
    q("nul_bytes", [("From", MALLORY), ("To", LIST), ("Subject", b"nul\x00byte ISSUE=41234 PROJ=71"),
                    ("Message-ID", _mid("nul_bytes")), ("X-Nul", b"\x00" * 1000)],
      b"Ticket ID: 41234\x00\r\nStatus: Closed\x00\r\n" + b"\x00" * 100000)
    lone_cr = (f"From: {MALLORY}\rTo: {LIST}\rSubject: lone CR\rMessage-ID: {_mid('lone_cr')}\r\rline one\rline two\r"
               ).encode()
    out.append(Case("lone_cr", lone_cr, "quarantined", message_id=_mid("lone_cr")))
    q("eight_bit_headers", [("From", "Jürgen Müller <juergen@attacker.test>"), ("To", LIST),
                            ("Subject", "Grüße aus München \xff".encode("utf-8") + b" \xff\xfe latin-1 \xe9"),
                            ("Message-ID", _mid("eight_bit_headers")), ("X-Weird", b"\x80\x81\x82")],
      "Grüße\n".encode("latin-1"))
    out.append(Case("no_headers_text", b"Ticket ID: 41234\r\nStatus: Closed\r\nSubmitter: victim@outsider.test\r\n",
                    "quarantined"))
    out.append(Case("no_headers_blank_first", b"\r\nTicket ID: 41234\r\nStatus: Closed\r\n", "quarantined"))
    out.append(Case("empty", b"", "quarantined", imap=False, note="Dovecot refuses a zero-byte APPEND"))
    out.append(Case("only_crlf", b"\r\n", "quarantined"))
    out.append(Case("binary_garbage", bytes(range(256)) * 400, "quarantined"))
    out.append(Case("header_names_garbage", b"\xff\xfe\xfd: x\r\n: empty name\r\n" + b"X" * 100000 + b"\r\n\r\nbody\r\n",
                    "quarantined"))
    return out


# --- 6. spoofed senders -------------------------------------------------------------------------

def spoofs() -> list[Case]:
    """Forged FootPrints notifications ("Customer", a victim as submitter, a phishing link) whose
    sender only looks trusted. Some reuse the real ticket 41234, to hijack it."""
    out = []
    senders = [
        ("from_encoded_word_display", f"=?utf-8?q?ticket=40example=2Eorg?= <{MALLORY}>"),
        ("from_unquoted_display", "ticket@example.org <evil@attacker.test>"),
        ("from_two_addresses", "ticket@example.org, evil@attacker.test"),
        ("from_quoted_display", '"ticket@example.org" <evil@attacker.test>'),
        ("from_comment", "evil@attacker.test (ticket@example.org)"),
        ("from_double_at", "ticket@example.org@attacker.test"),
        ("from_group", "g: ticket@example.org;"),
        ("from_encoded_address_only", "=?utf-8?q?ticket=40example=2Eorg?="),
        ("from_encoded_angle_address", "GOC <=?utf-8?q?ticket=40example=2Eorg?=>"),
        ("from_lookalike_cyrillic", "GOC Ticket System <ticket@exаmple.org>"),
        ("from_nul_truncation", b"<ticket@example.org\x00@attacker.test>"),
        ("from_trailing_dot_domain", "ticket@example.org.attacker.test"),
        ("from_source_route", "<@example.org:evil@attacker.test>"),
        ("from_1mb_address_list", "x@attacker.test, " * 60000 + "ticket@example.org"),
    ]
    for n, (name, sender) in enumerate(senders):
        tid = 41234 if n % 3 == 0 else None
        out.append(Case(name, forged_goc(name, n, sender, tid=tid), "quarantined", reason="untrusted", spoof=True,
                        message_id=_mid(name)))
    n = len(senders)

    def extra_case(name, sender, extra=(), top=(), tid=None):
        nonlocal n
        out.append(Case(name, forged_goc(name, n, sender, tid=tid, extra=extra, top=top), "quarantined",
                        reason="untrusted", spoof=True, message_id=_mid(name)))
        n += 1

    # X-Original-From counts only when From is the list address itself
    extra_case("x_original_from_not_list", MALLORY, extra=[("X-Original-From", "ticket@example.org")])
    # the list puts its X-Original-From on top; the attacker's own one below it does not count
    extra_case("x_original_from_not_topmost", LIST, top=[("X-Original-From", MALLORY)],
               extra=[("X-Original-From", "ticket@example.org")], tid=41234)
    extra_case("list_reply_to_display_name", LIST, extra=[("Reply-To", f'"ticket@example.org" <{MALLORY}>')])
    extra_case("list_x_original_from_two_addresses", LIST,
               extra=[("X-Original-From", f"ticket@example.org, {MALLORY}")])
    extra_case("two_from_headers_trusted_first", TRUSTED_GOC, extra=[("From", "evil@attacker.test")], tid=41234)
    extra_case("two_from_headers_evil_first", "evil@attacker.test", extra=[("From", TRUSTED_GOC)])
    name = "lone_cr_from_injection"
    data = forged_goc(name, n, MALLORY).replace(b"Precedence: bulk", b"Precedence: bulk\rFrom: ticket@example.org")
    out.append(Case(name, data, "quarantined", reason="untrusted", spoof=True, message_id=_mid(name)))
    n += 1
    # RT's own headers name an originator; they are not the sender
    name = "rt_originator_header_spoof"
    rt = _fixture("rt/create.eml").replace(b'"Jane User via RT" <software@rt.example.org>',
                                           b'"Jane User via RT" <software@rt.attacker.test>')
    rt = rt.replace(_msgid_of(rt).encode(), _mid(name).encode()).replace(b"#1234", b"#1399").replace(
        b"Request 1234", b"Request 1399").replace(b"jane@example.edu", b"victim+rt@outsider.test")
    out.append(Case(name, rt, "quarantined", reason="untrusted", spoof=True, message_id=_mid(name)))
    return out


def auth_spoofs() -> list[Case]:
    """With require_authentication and authserv_id "mx.example.org" (team "auth")."""
    out = []

    def case(name, results: list[str], expect="quarantined", tid=None, sender=TRUSTED_GOC, n=0, below=()):
        top = [("Authentication-Results", r) for r in results]
        below = [("Authentication-Results", r) for r in below]
        if expect == "applied":
            tid = tid or 41960 + n
            body = goc_body(tid, "Authenticated notification")
            data = goc_mail(name, tid, "Authenticated notification", body, top=top)
            out.append(Case(name, data, "applied", key=f"goc:{tid}", team="auth",
                            message_id=_mid(name, "tick.example.org")))
        else:
            out.append(Case(name, forged_goc(name, 100 + n, sender, tid=tid, top=top, extra=below), "quarantined",
                            reason="untrusted", team="auth", spoof=True, message_id=_mid(name)))

    case("auth_ok_dkim", ["mx.example.org; dkim=pass header.d=example.org header.s=s1; spf=none"], "applied", n=0)
    case("auth_ok_case_and_version", ["MX.Example.Org 1; spf=pass smtp.mailfrom=bounces@EXAMPLE.ORG"], "applied", n=1)
    case("auth_no_results", [], n=2, tid=41234)
    case("auth_foreign_authserv_id", ["mx.attacker.test; dkim=pass header.d=example.org; "
                                      "spf=pass smtp.mailfrom=ticket@example.org"], n=3, tid=41234)
    case("auth_outlook_style", ["spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=attacker.test; mx.example.org; "
                                "dkim=fail header.d=example.org"], n=4)
    case("auth_authserv_id_suffix", ["mx.example.org.attacker.test; dkim=pass header.d=example.org"], n=5)
    case("auth_header_d_suffix", ["mx.example.org; dkim=pass header.d=example.org.attacker.test"], n=6)
    case("auth_pass_in_comment", ["mx.example.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org"], n=7)
    case("auth_pass_in_quoted_reason", ['mx.example.org; dkim=fail reason="bad; dkim=pass header.d=example.org" '
                                        'header.d=example.org'], n=8)
    # the envelope sender is the attacker's to choose: a quoted local part may carry ';' and '='
    case("auth_pass_in_quoted_mailfrom", ['mx.example.org; dkim=none; spf=pass '
                                          'smtp.mailfrom="x;dkim=pass header.d=example.org"@attacker.test'], n=13)
    case("auth_spf_pass_other_domain", ["mx.example.org; spf=pass smtp.mailfrom=ticket@attacker.test"], n=9)
    case("auth_pass_other_domain", ["mx.example.org; dkim=pass header.d=attacker.test"], n=10)
    # ours, on top, says fail; one with our id below the Received trace was added by the sender (RFC 8601 5)
    case("auth_sender_added_below", ["mx.example.org; dkim=fail header.d=example.org; spf=fail "
                                     "smtp.mailfrom=ticket@example.org"], n=11,
         below=["mx.example.org; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=ticket@example.org"])
    case("auth_pass_for_display_name", ["mx.example.org; dkim=pass header.d=example.org"], n=12,
         sender="ticket@example.org <evil@attacker.test>")
    return out


# --- 7. Message-IDs that are not theirs ---------------------------------------------------------

PRECLAIMED = {   # hostile case -> the legitimate notification whose Message-ID it takes first
    "preclaim_github_autoreply": "github/create.eml",
    "preclaim_goc_untrusted": "goc/create.eml",
    "preclaim_rt_bounce": "rt/create.eml",
}


def preclaims() -> list[Case]:
    out = []
    gh = _msgid_of(_fixture(PRECLAIMED["preclaim_github_autoreply"]))
    out.append(Case("preclaim_github_autoreply", _mail([
        ("From", f"Mallory <{MALLORY}>"), ("To", LIST), ("Subject", "Automatic reply: Client crashes"),
        ("Date", "Mon, 23 Nov 2026 08:00:00 -0800"), ("Message-ID", gh), ("Auto-Submitted", "auto-replied")],
        "I am out of the office.\n"), "ignored", message_id=gh,
        note="the real GitHub notification with this Message-ID must still be applied"))
    goc = _msgid_of(_fixture(PRECLAIMED["preclaim_goc_untrusted"]))
    out.append(Case("preclaim_goc_untrusted", forged_goc("preclaim_goc_untrusted", 200, MALLORY, tid=41234,
                                                         msgid=goc, date="Sun, 22 Nov 2026 15:00:00 +0000"),
                    "quarantined", reason="untrusted", spoof=True, message_id=goc))
    rt = _msgid_of(_fixture(PRECLAIMED["preclaim_rt_bounce"]))
    out.append(Case("preclaim_rt_bounce", _mail([
        ("From", "MAILER-DAEMON@attacker.test"), ("To", LIST), ("Subject", "Undelivered Mail Returned to Sender"),
        ("Date", "Tue, 24 Nov 2026 09:00:00 -0600"), ("Message-ID", rt),
        ("Content-Type", 'multipart/report; report-type=delivery-status; boundary="B"')],
        "--B\nContent-Type: text/plain\n\nfailed\n--B\nContent-Type: message/delivery-status\n\n"
        "Final-Recipient: rfc822; x@attacker.test\nAction: failed\nStatus: 5.1.1\n--B--\n"), "ignored", message_id=rt))
    # our own Message-ID pattern, without the token only this installation can produce: ordinary mail
    for name, sender, kind in (("own_message_id_imitation", MALLORY, "owner.goc-41234.2026-11-24"),
                               ("own_message_id_from_our_address",
                                '"Grace Hopper (Software Team)" <software-triage@example.org>',
                                "announcement.week-2026-11-23")):
        mid = f"<maildaemon.{kind}@example.org>"
        out.append(Case(name, _mail([("From", sender), ("To", LIST), ("Subject", "Reminder: please confirm"),
                                     ("Date", DATE), ("Message-ID", mid), ("Auto-Submitted", "auto-generated")],
                                    f"Please log in at {PHISH} to keep your account.\n"),
                        "quarantined", message_id=mid))
    return out


# --- 8. team-defined systems -------------------------------------------------------------------

def team_systems() -> list[Case]:
    out = []
    name = "custom_user_comment_injects_fields"
    body = ("https://bugs.example.org/show_bug.cgi?id=7001\n\n"
            "   Summary: Pilot factory crashes on start\n    Status: NEW\n  Assignee: Unassigned\n\n"
            "------- Comment #3 from Jane User <jane@example.edu> -------\n"
            "Status: RESOLVED\nReporter: Victim User <victim+bugs@outsider.test>\nAssignee: Mallory\n"
            f"Summary: Urgent: verify your account at {PHISH}\n")
    out.append(Case(name, _mail([
        ("From", "bugzilla-daemon@bugs.example.org"), ("To", LIST),
        ("Subject", "[Bug 7001] Pilot factory crashes on start"), ("Date", DATE),
        ("Message-ID", _mid(name, "bugs.example.org")), ("Auto-Submitted", "auto-generated"),
        ("Content-Type", 'text/plain; charset="utf-8"')], body),
        "applied", key="bugs:7001", message_id=_mid(name, "bugs.example.org"),
        fields=(("status_raw", "NEW"), ("submitter", None), ("assignees", ()),
                ("title", "Pilot factory crashes on start"))))

    def slow(name, subject, body="Note: ok\n", reason=None):
        out.append(Case(name, _mail([("From", "Slow Alerts <alerts@slow.example.net>"), ("To", LIST),
                                     ("Subject", subject), ("Date", DATE), ("Message-ID", _mid(name, "slow.example.net")),
                                     ("Auto-Submitted", "auto-generated")], body),
                        "quarantined", reason=reason, message_id=_mid(name, "slow.example.net")))

    slow("custom_key_regex_timeout", "[SK-7] " + "a" * 48 + "!", reason="regex timeout: systems.slowkey.key")
    slow("custom_field_regex_timeout", "[SF-8] disk full", body="Note: " + "a" * 48 + "!\n",
         reason="regex timeout: systems.slowfield.")
    slow("custom_nested_plus", "[NP-9] " + "a" * 40 + "!",
         reason=None)   # `(a+)+$`: a timeout, or no match at all in an engine immune to it
    return out


# --- 9. users' words relayed by trusted systems, and mail data that becomes names --------------

def relayed_words() -> list[Case]:
    """Ticket systems relay what their users write: a title may carry another ticket's token, a
    header line, terminal escapes; ids and Message-IDs become file names."""
    out = []

    def goc(name, tid, title, body, subject=None, expect="applied", key=None, fields=()):
        data = goc_mail(name, tid, title, body)
        if subject is not None:
            data = data.replace(f"Subject: {title} ISSUE={tid} PROJ=71".encode(), b"Subject: " + subject)
        out.append(Case(name, data, expect, key=key or f"goc:{tid}", fields=fields,
                        message_id=_mid(name, "tick.example.org")))

    # FootPrints appends its token to the user's title: the last token is the ticket's
    goc("goc_title_with_token", 41926, "Please close ISSUE=41234 PROJ=71",
        goc_body(41926, "Please close ISSUE=41234 PROJ=71", status="Closed",
                 submitter="Eve User <eve@users.example.net>"))
    waiting = dict(status="Customer", entry=("11/13/2026 at 09:00:00 CST (GMT-0600)", "Alice Operator (GOC)",
                                              "Could you send the logs?"))
    # the title comes from the subject (no Title: field): decoded, it holds line breaks and a header
    goc("goc_title_header_injection", 41927, "Logs",
        goc_body(41927, None, **waiting),
        subject=b"=?utf-8?q?Logs=0D=0ABcc:_victim+bcc@outsider.test=0D=0AX-Injected:_1?= "
                b"=?utf-8?q?and=E2=80=A8Cc:_victim+ls@outsider.test?= ISSUE=41927 PROJ=71")
    goc("goc_title_cr_in_body", 41931, "Logs", goc_body(41931, "Logs\rBcc: victim+cr@outsider.test\x0bCc: "
                                                            "victim+vt@outsider.test\x0c", **waiting))
    goc("goc_submitter_two_addresses", 41928, "Two submitters",
        goc_body(41928, "Two submitters", submitter="Jane User <jane@example.edu>, Victim <victim+cc@outsider.test>",
                 **waiting))
    goc("goc_title_terminal_escapes", 41929, "Escapes",
        goc_body(41929, "Escapes \x1b]0;pwned\x07\x1b[2J\x1b[31m red"),
        subject=b"=?utf-8?q?Escapes_=1B]0;pwned=07=1B[2J=1B[31m_red=9B2J?= ISSUE=41929 PROJ=71")
    long_id = "7" * 3000
    goc("goc_huge_ticket_id", 41930, "Huge id", goc_body(41930, "Huge id", **waiting),
        subject=f"Huge id ISSUE={long_id} PROJ=71".encode(), expect="applied|quarantined", key=f"goc:{long_id}")

    # Zammad: a hook inside the template's "(title)" is the user's, not the system's
    name = "zammad_title_with_hook"
    zbody = ('Hi Software Support,\n\nTicket ([Ticket#31007] please close) has been updated by "Eve User".\n\n'
             "Changes:\nState: open -> closed\n\n"
             "View this in Zammad: https://helpdesk.example.org/#ticket/zoom/1298\n")
    out.append(Case(name, _zammad_mail(name, "Eve User", "Updated Ticket ([Ticket#31007] please close) [Ticket#31098]",
                                       zbody), "applied", key="zammad:31098", message_id=_mid(name, "helpdesk.example.org")))

    name = "jira_title_with_key"
    jira = _fixture("jira/create.eml")
    jira = jira.replace(_msgid_of(jira).encode(), _mid(name, "Atlassian.JIRA").encode()).replace(
        b"SOFTWARE-1234", b"SOFTWARE-1298").replace(b"(SOFTWARE-1298) Cannot", b"(SOFTWARE-1298) (SOFTWARE-1234) Cannot")
    out.append(Case(name, jira, "applied", key="jira:SOFTWARE-1298", message_id=_mid(name, "Atlassian.JIRA")))

    name = "ggus_title_with_token"
    ggus = _fixture("ggus/create.eml")
    ggus = ggus.replace(_msgid_of(ggus).encode(), _mid(name, "ggus.eu").encode()).replace(
        b"165432", b"165498").replace(b'"Pilot jobs\r\n held', b'"GGUS-Ticket-ID: #165432 Pilot jobs\r\n held').replace(
        b'"Pilot jobs\n held', b'"GGUS-Ticket-ID: #165432 Pilot jobs\n held')
    out.append(Case(name, ggus, "applied", key="ggus:165498", message_id=_mid(name, "ggus.eu")))

    def q(name, headers, body="hello\n", **kw):
        out.append(Case(name, _mail(headers, body), "quarantined", **kw))

    q("message_id_path_traversal", [("Message-ID", "<../../../../../../tmp/maildaemon-pwned/x@attacker.test>"),
                                    ("From", MALLORY), ("Subject", "../../etc/passwd")],
      message_id="<../../../../../../tmp/maildaemon-pwned/x@attacker.test>")
    q("message_id_100k", [("Message-ID", "<" + "a" * 100000 + "@attacker.test>"), ("From", MALLORY),
                          ("Subject", "long id")])
    q("terminal_escapes", [("Message-ID", _mid("terminal_escapes")), ("From", b"\x1b[2J\x1b]0;owned\x07 <x@attacker.test>"),
                           ("Subject", b"\x1b[31mred\x1b[0m \x9b2J =?utf-8?q?=1B]52;c;cHduZWQ=07?=")],
      message_id=_mid("terminal_escapes"))
    return out


# --- 10. too large --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _eleven_mb() -> bytes:
    chunk = bytes(range(256)) * 3
    blob = base64.encodebytes(chunk * (8_400_000 // len(chunk))).replace(b"\n", b"\r\n")
    body = ("--big\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + goc_body(41970, "Core dump attached")
            .replace("\n", "\r\n") + "\r\n--big\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=core.bin\r\n\r\n").encode()
    data = goc_mail("too_large_11mb", 41970, "Core dump attached", body + blob + b"\r\n--big--\r\n",
                    ctype='multipart/mixed; boundary="big"')
    assert len(data) > 11_000_000 > MAX_MAIL_BYTES, len(data)
    return data


def too_large() -> list[Case]:
    return [Case("too_large_11mb", _eleven_mb(), "quarantined", reason="too large", oversize=True,
                 message_id=_mid("too_large_11mb", "tick.example.org"),
                 note="a trusted notification, but 11 MB: its header is kept, the body not")]


# --- the whole corpus ---------------------------------------------------------------------------

GENERATORS = (structure, huge_headers, html_bodies, parser_regex_bombs, encodings, spoofs, auth_spoofs,
              preclaims, team_systems, relayed_words, too_large)


@functools.lru_cache(maxsize=1)
def _all() -> tuple[Case, ...]:
    cases = tuple(c for g in GENERATORS for c in g())
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def corpus(team_name: str | None = None) -> list[Case]:
    """Every case (or those judged by one team: "plain" or "auth")."""
    return [c for c in _all() if team_name is None or c.team == team_name]


def by_name(name: str) -> Case:
    return next(c for c in _all() if c.name == name)


# --- the legitimate notifications it is interleaved with -----------------------------------------

LEGIT_FIXTURES = ("goc/create.eml", "goc/assignment.eml", "rt/create.eml", "rt/correspondence.eml",
                  "github/create.eml", "github/comment.eml", "jira/create.eml", "zammad/create.eml",
                  "ggus/create.eml", "custom/create.eml")


def legitimate() -> list[Legit]:
    """Real notifications of every system, and one GOC ticket waiting on its user since OLD_DATE
    (so `remind` at REMIND_AT has a real user reminder to send)."""
    import json
    out = []
    for path in LEGIT_FIXTURES:
        raw = _fixture(path)
        key = json.loads((FIXTURES / path).with_suffix(".json").read_text())["key"]
        out.append(Legit(path, raw, key, _msgid_of(raw)))
    mid = "<FP.71.41980.20261113150000.1@tick.example.org>"
    body = goc_body(41980, "Transfers fail from the SE", status="Customer",
                    entry=("11/13/2026 at 09:00:00 CST (GMT-0600)", "Alice Operator (GOC)",
                           "Could you send the transfer logs?"))
    out.append(Legit("goc/customer_41980", goc_mail("legit_customer", 41980, "Transfers fail from the SE", body,
                                                    date=OLD_DATE, msgid=mid), "goc:41980", mid))
    return out


def stream(team_name: str = "plain") -> list[tuple[str, bytes, Case | Legit]]:
    """Hostile and legitimate mail interleaved as a mailbox would hold them: each Message-ID
    pre-claim first, then hostile and legitimate mail alternating; only what IMAP can hold."""
    hostile = [c for c in corpus(team_name) if c.imap]
    first = [c for c in hostile if c.name in PRECLAIMED]
    rest = [c for c in hostile if c.name not in PRECLAIMED]
    legit = legitimate() if team_name == "plain" else []
    out: list[tuple[str, bytes, Case | Legit]] = [(c.name, c.data, c) for c in first]
    step = max(1, len(rest) // max(1, len(legit)))
    li = iter(legit)
    for i, c in enumerate(rest):
        if i % step == 0:
            lg = next(li, None)
            if lg:
                out.append((lg.name, lg.data, lg))
        out.append((c.name, c.data, c))
    out += [(lg.name, lg.data, lg) for lg in li]
    return out
