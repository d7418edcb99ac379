"""Old GGUS (the Remedy-era WLCG/EGI helpdesk at ggus.eu) notifications -> `Change` (SPEC 7.3).

The new GGUS (helpdesk.ggus.eu, since 2024) runs Zammad: its mail is zammad.py's and is keyed
`zammad:<number>`. Tickets of the old one keep arriving as replies and in archives, keyed
`ggus:<n>`, so they never collide with the new numbering.

Why the rules are what they are:
- Recognised by `GGUS-Ticket-ID: #<n>` anywhere in the subject: GGUS threads replies on that
  token alone ("a reply containing GGUS-Ticket-ID: #n in the subject is sufficient"), so it
  survives `Re:`, list prefixes and `NOTIFICATION of ...`. A subject that also carries a GOC token
  (`ISSUE=<id> PROJ=<p>`) is the GOC's notification of a ticket it mirrors from GGUS: the GOC's.
- The key keeps the number without leading zeros: GGUS writes `#00165432` in some templates and
  `#165432` in others, and both are the same ticket.
- The body's fields are upper-case `KEY: value` lines (`STATUS:`, `RESPONSIBLE UNIT:`,
  `NOTIFIED SITE:`, `CONCERNED VO:`...), read case-sensitively (prose is rarely upper case),
  skipping quoted (`>`) lines and stopping at the first free-text section (`PUBLIC DIARY:`,
  `DESCRIPTION:`, `SOLUTION:`...), whose first line is the summary.
- Assignees as GGUS lists them: the responsible unit, then the person it is assigned to. A unit is
  never a member, so only a person can become the owner.
- Statuses: SPEC 7.3 names only Zammad's words, so GGUS's own are mapped by meaning: `waiting for
  reply` -> waiting-on-user; `solved` -> resolved; `unsolved`, `verified`, `closed` -> closed;
  `new`, `assigned`, `in progress`, `on hold`, `reopened` and unknown words -> open.
- The URL is GGUS's documented ticket link, read from the body or built from the number.
- Subject token (SPEC 8): `GGUS-Ticket-ID: #<n>` exactly as the subject has it.
- Unparseable: a `GGUS-Ticket-ID` subject without a number.
"""
from __future__ import annotations

import re
from typing import ClassVar

from maildaemon.model import Change
from maildaemon.parse.base import email_of, first_line, scanned, subject_token, when, MAX_VALUE, Unparseable
from maildaemon.parse.mail import Mail

# Every pattern is linear in its input (SPEC 9): possessive runs, values taken whole and stripped
# in Python; `[^\s=]` lets each GOC-token try stop at the next `=` (`ISSUE=` repeated: one pass).
_LOOSE = re.compile(r"\bGGUS-Ticket-ID\s*+:", re.I)
_TOKEN = re.compile(r"\b(?:NOTIFICATION of\s++)?(?P<token>GGUS-Ticket-ID\s*+:\s*+#\s*+(?P<n>\d++))", re.I)
_GOC_TOKEN = re.compile(r"\bISSUE=[^\s=]++\s++PROJ=\S", re.I)
_FIELD = re.compile(r"[ \t]*+(?P<label>[A-Z][A-Z /()_.-]{1,40}+)[ \t]*+:[ \t]*+(?P<value>.*)")
_SECTIONS = {"PUBLIC DIARY", "INTERNAL DIARY", "DESCRIPTION", "DETAILED DESCRIPTION", "SOLUTION"}
_LABELS = {"SUBJECT": "title", "SHORT DESCRIPTION": "title", "STATUS": "status", "PRIORITY": "priority",
           "RESPONSIBLE UNIT": "unit", "ASSIGNED TO": "person", "SUBMITTER": "submitter",
           "SUBMITTER E-MAIL": "submitter_email", "LAST MODIFIER": "actor", "LINK": "url", "TICKET URL": "url"}
_STATUS = {"waiting for reply": "waiting-on-user", "solved": "resolved", "unsolved": "closed",
           "verified": "closed", "closed": "closed"}
_URL = "https://ggus.eu/index.php?mode=ticket_info&ticket_id={n}"
_URL_IN_TEXT = re.compile(r"https?://(?:www\.)?ggus\.eu/(?:(?!https?://)\S)*?ticket_id=(?P<n>\d++)")


class GgusParser:
    system: ClassVar[str] = "ggus"

    def recognises(self, mail: Mail) -> bool:
        return bool(_LOOSE.search(mail.subject)) and not _GOC_TOKEN.search(mail.subject)

    def parse(self, mail: Mail) -> Change:
        token = _TOKEN.search(mail.subject)
        if not token:
            raise Unparseable(f"GGUS subject without a ticket number ('GGUS-Ticket-ID: #<n>'): {mail.subject!r}")
        n = str(int(token.group("n")))
        text = scanned(mail.text)
        f, section = read_fields(text)
        status = f.get("status") or None
        assignees = tuple(v for v in (f.get("unit"), f.get("person")) if v)
        return Change(
            key=f"ggus:{n}", system=self.system, id=n,
            message_id=mail.message_id, at=when(mail),
            title=f.get("title") or subject_title(mail.clean_subject) or None,
            url=_url(f.get("url"), text, n),
            status_raw=status,
            status=_STATUS.get(status.lower(), "open") if status else None,
            priority=f.get("priority") or None,
            assignees=assignees if ("unit" in f or "person" in f) else None,
            submitter=email_of(f.get("submitter_email")) or email_of(f.get("submitter")),
            actor=f.get("actor") or None,
            summary=first_line(section),
            subject_token=subject_token(token.group("token")),
        )


def read_fields(text: str) -> tuple[dict[str, str], str]:
    """({field: value} from the upper-case lines, the text of the first free-text section)."""
    out: dict[str, str] = {}
    lines = (text or "").split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        m = _FIELD.match(line)
        if not m:
            continue
        label, value = " ".join(m.group("label").split()), m.group("value")[:MAX_VALUE].strip()
        if label in _SECTIONS:
            rest = [value] + lines[i + 1:]
            return out, "\n".join(x for x in rest if not _RULE.fullmatch(x))
        if label in _LABELS:
            out.setdefault(_LABELS[label], value)
    return out, ""


_RULE = re.compile(r"\s*+[-=_]{3,}+\s*+")


def subject_title(subject: str) -> str:
    """'GGUS-Ticket-ID: #1 TEAM ticket for site "X" "Jobs held"' -> 'Jobs held'."""
    token = _TOKEN.search(subject)
    rest = subject[token.end():] if token else subject
    quoted = re.findall(r'"([^"]+)"', rest)
    if quoted:
        return quoted[-1].strip()
    if " - " in rest:
        rest = rest.split(" - ", 1)[1]
    return rest.strip(" \t-:")


def _url(field: str | None, text: str, n: str) -> str:
    for candidate in (field or "", text or ""):
        m = _URL_IN_TEXT.search(candidate)
        if m and str(int(m.group("n"))) == n:
            return m.group(0)
    return _URL.format(n=n)
