"""Zammad agent notifications -> `Change` (SPEC 7.3; templates in formats.md 3.5).

Zammad is also the engine of the new WLCG GGUS helpdesk (helpdesk.ggus.eu): its mail is this
format and its tickets are keyed `zammad:<number>` like any Zammad's. Old GGUS mail is ggus.py.

Why the rules are what they are:
- Recognised by the ticket hook `[Ticket#<number>]` in the subject (left or right, as the site
  configures it), or by an `X-Zammad-Ticket-Number` header (a site with another hook word). A
  hook inside the template's `(<title>)` is a user's: one outside it is the ticket's. Zammad
  notifications carry no header of their own that says "Zammad"; `X-Loop: yes` and
  `Precedence: bulk` are common to many systems. The hook number is the key, not the internal id
  in the `#ticket/zoom/<id>` link.
- Subjects name the template: `New Ticket (<title>)`, `Updated Ticket (<title>)`, and the
  reminder/escalation ones. The title is what the parentheses hold (titles may contain parentheses
  themselves). A subject of another shape (an article mailed to the customer, `[Ticket#n] Re: x`)
  is a comment whose title is the rest of the subject.
- Creation bodies list `Group:`, `Owner:`, `State:` after `... has been created by "<name>"`;
  update bodies list `Changes:` lines `<Attribute>: <old> -> <new>` (`-&gt;` when a text part
  was made from HTML without unescaping, `→` in some locales' templates). Only the part above
  `Information:` is read: below it is the article, written by people.
- Owner `-` (Zammad's placeholder user), empty, `Not assigned` or `nobody`: no owner. Zammad has
  one owner, so the change carries the full assignee list (one name or none).
- States: `new`/`open` -> open; `pending reminder`/`pending close` -> waiting-on-user;
  `closed` -> closed; `merged` -> closed (Zammad itself counts merged with the closed state types:
  the ticket lives on in the one it was merged into); others -> open. The word is kept raw.
- Actor: the name in `created by "<name>"`/`updated by "<name>"` (bold in HTML, `*bold*` in some
  text renderings); the last one above `Information:`, since the title before it is a user's text
  and may imitate one. Reminder and escalation mails name nobody: no actor, so no clock moves.
- Subject token (SPEC 8): the hook as the subject has it (Zammad files a reply carrying it as a
  follow-up of the ticket).
- Unparseable: a mail recognised by its X-Zammad-Ticket-Number header alone when that header
  holds no number and the subject has no `[<hook>#<number>]` either.
"""
from __future__ import annotations

import re
from typing import ClassVar

from maildaemon.model import COMMENTED, CREATED, Change
from maildaemon.parse.base import MAX_VALUE, Unparseable, first_line, labelled_fields, scanned, subject_token, when
from maildaemon.parse.mail import Mail, clean_subject, unescape

# Every pattern is linear in its input (SPEC 9): possessive runs, one quantifier per run of blanks,
# values taken whole and stripped in Python, and `[^\S\n]` (a blank, not a newline) where a
# multi-line search anchors at each line.
_HOOK = re.compile(r"\[Ticket#(?P<number>\d++)\]", re.I)
_ANY_HOOK = re.compile(r"\[[A-Za-z][\w.-]*+#(?P<number>\d++)\]")
_TEMPLATE = re.compile(
    r"^(?P<what>New Ticket|Updated Ticket|Ticket reminder reached|Ticket is escalated|Ticket will escalate soon)"
    r"\s*+\((?P<title>.*)\)\s*+$", re.I)
_TEMPLATE_WORDS = re.compile(
    r"\b(?:New Ticket|Updated Ticket|Ticket reminder reached|Ticket is escalated|Ticket will escalate soon)\s*+\(",
    re.I)
_BY = re.compile(
    r"\bhas been (?P<verb>created|updated) by\s++\"\s*+(?:<b>|\*)?\s*+(?P<who>[^\"<>*]++)(?:</b>|\*)?\s*+\"", re.I)
_BY_START = re.compile(r"\bhas been (?:created|updated) by\b", re.I)
_CHANGE = re.compile(r"\s*+(?P<field>[A-Za-z][\w .-]{0,40}+)\s*+:(?P<old>.*?)(?:->|-&gt;|→)(?P<new>.*)")
_INFORMATION = re.compile(r"^[^\S\n]*+Information[^\S\n]*+:[^\S\n]*+$", re.I | re.M)
_CHANGES = re.compile(r"^[^\S\n]*+Changes[^\S\n]*+:[^\S\n]*+$", re.I | re.M)
# a URL run stops at the next scheme, so `http://` repeated is one pass, not n²
_ZOOM = re.compile(r"https?://(?:(?!https?://)[^\s\"'<>])+/#ticket/zoom/\d++")
_FOOTER = re.compile(r"^\s*+(View this in Zammad|You are receiving this because|Manage your notification)", re.I)
_LABELS = {"group": "group", "owner": "owner", "state": "state", "priority": "priority"}
_STATUS = {"new": "open", "open": "open", "pending reminder": "waiting-on-user",
           "pending close": "waiting-on-user", "closed": "closed", "merged": "closed"}
_NO_OWNER = {"", "-", "not assigned", "nobody", "none"}


class ZammadParser:
    system: ClassVar[str] = "zammad"

    def recognises(self, mail: Mail) -> bool:
        return bool(_HOOK.search(mail.subject)) or mail.has("X-Zammad-Ticket-Number")

    def parse(self, mail: Mail) -> Change:
        number = ticket_number(mail)
        template, title = parse_subject(mail.clean_subject)
        head, article = split_article(scanned(mail.text))
        by = created_or_updated_by(head)
        fields = changes(head)
        if not fields and by and by.group("verb").lower() == "created":
            fields = labelled_fields(head[by.end():], _LABELS)
        kinds = set()
        if template == "new ticket" or (by and by.group("verb").lower() == "created"):
            kinds.add(CREATED)
        elif article.strip() or not template:
            kinds.add(COMMENTED)
        state = fields.get("state") or None
        owner = fields.get("owner")
        return Change(
            key=f"zammad:{number}", system=self.system, id=number,
            message_id=mail.message_id, at=when(mail), kinds=frozenset(kinds),
            title=fields.get("title") or title or None,
            url=_url(mail),
            status_raw=state,
            status=_STATUS.get(state.lower(), "open") if state else None,
            priority=fields.get("priority") or None,
            assignees=owner_list(owner) if owner is not None else None,
            actor=by.group("who").strip() if by else None,
            summary=first_line(_without_footer(article)) or _describe(fields),
            subject_token=hook_token(mail.subject, number),
        )


def created_or_updated_by(head: str) -> re.Match | None:
    """The last `has been created/updated by "<name>"` of the head: the title before it is a user's
    text and may imitate one (`x" has been updated by "Ada`)."""
    for start in reversed([m.start() for m in _BY_START.finditer(head)]):
        m = _BY.match(head, start)
        if m:
            return m
    return None


def ticket_number(mail: Mail) -> str:
    """The hook's number; else the X-Zammad-Ticket-Number header's; else any `[Word#n]` hook.

    A hook inside a template's `(<title>)` is a user's text (a title `[Ticket#31007] please
    close`): one outside it is the ticket's.
    """
    hooks = list(_HOOK.finditer(mail.subject))
    if hooks:
        inside = _title_span(mail.subject)
        outside = [m for m in hooks if not inside[0] <= m.start() < inside[1]]
        return str(int((outside or hooks)[0].group("number")))
    header = (_number_header(mail) or "").strip()
    if header.isdigit():
        return str(int(header))
    m = _ANY_HOOK.search(mail.subject)
    if m:
        return str(int(m.group("number")))
    raise Unparseable(f"Zammad mail without a ticket number: no [Ticket#<number>] in {mail.subject!r}")


def hook_token(subject: str, number: str) -> str | None:
    """The hook of ticket `number` exactly as the subject has it (`[Ticket#31007]`, or a site's own
    word `[Case#31007]`), preferring one outside the template's `(<title>)`; None without one."""
    inside = _title_span(subject)
    hooks = [m for m in _ANY_HOOK.finditer(subject) if str(int(m.group("number"))) == number]
    outside = [m for m in hooks if not inside[0] <= m.start() < inside[1]]
    found = (outside or hooks or [None])[0]
    return subject_token(found.group()) if found else None


def _title_span(subject: str) -> tuple[int, int]:
    """Where a template subject's `(<title>)` lies (the first `(` after the template's words to the
    last `)`), or an empty span."""
    m = _TEMPLATE_WORDS.search(subject)
    end = subject.rfind(")")
    return (m.end(), end) if m and end >= m.end() else (0, 0)


def parse_subject(subject: str) -> tuple[str, str]:
    """('updated ticket', 'Printer') from 'Updated Ticket (Printer) [Ticket#1234567]'; ('', rest) otherwise."""
    rest = _ANY_HOOK.sub(" ", subject)
    rest = clean_subject(rest.strip(" \t-:"))
    m = _TEMPLATE.match(rest)
    if m:
        return m.group("what").lower(), m.group("title").strip()
    return "", rest


def split_article(text: str) -> tuple[str, str]:
    """(the notification's own part, the article below `Information:`)."""
    m = _INFORMATION.search(text or "")
    if not m:
        return text or "", ""
    return text[:m.start()], text[m.end():]


def changes(head: str) -> dict[str, str]:
    """`Changes:` lines as {attribute (lower case): new value}; the first line per attribute wins."""
    m = _CHANGES.search(head)
    if not m:
        return {}
    out: dict[str, str] = {}
    for line in head[m.end():].split("\n"):
        c = _CHANGE.match(unescape(line)) if line.strip() else None
        if c:
            out.setdefault(c.group("field").strip().lower(), c.group("new")[:MAX_VALUE].strip())
        elif line.strip() and out:
            break
    return out


def owner_list(value: str) -> tuple[str, ...]:
    v = (value or "").strip()
    return () if v.lower() in _NO_OWNER else (v,)


def _number_header(mail: Mail) -> str | None:
    return mail.header("X-Zammad-Ticket-Number")


def _url(mail: Mail) -> str | None:
    m = _ZOOM.search(scanned(mail.text)) or _ZOOM.search(scanned(mail.html))
    return m.group(0) if m else None


def _without_footer(article: str) -> str:
    return "\n".join(line for line in (article or "").split("\n") if not _FOOTER.match(line))


def _describe(fields: dict[str, str]) -> str:
    return first_line("; ".join(f"{k.capitalize()}: {v}" for k, v in fields.items()))
