"""Jira notifications -> `Change` (SPEC 7.4; both generations in formats.md 3.3).

Why the rules are what they are:
- Recognised by `X-JIRA-FingerPrint`, which Jira Server and Cloud put on every notification (it
  is also what Zammad keys on). A `[JIRA] (KEY-1)` subject alone is not enough: people quote them.
- Key: the `(KEY-1)` in the subject, in both generations: `[<prefix>] (KEY-1) <title>` (Jira 7+,
  Cloud) and `[<prefix>] <Verb>: (KEY-1) <title>` (older Server). The prefix is the site's
  configured "email prefix", so it is not matched by name. Without one, the key of the body's
  `/browse/KEY-1` link is used.
- What happened: the body's event line (`<Actor> created KEY-1:`, `<Actor> created an issue`,
  `... updated ...`, `... commented on ...`, Cloud's `<Actor> made 2 updates.`), else the old
  subject verb (`Created:`, `Commented:`, `Resolved:`, `Closed:`, `Reopened:`).
- Fields are read from the one block of `Field: value` lines below the event line, never from
  the comment or description under it, nor from quoted (`>`) text. A creation lists values as they
  are; an update lists changes, `Field: new (was: old)` (classic) or `Field: old → new` / `->`:
  only the new value is kept. When an update block has neither form, the value is the new one.
- Assignee: Jira has one; `Unassigned` means none. Reporter: the submitter only when it carries
  an address (a display name is not an email).
- Statuses: `Resolved`/`Done` -> resolved, `Closed` -> closed, `Waiting for customer` ->
  waiting-on-user, others -> open. An old `Resolved:`/`Closed:`/`Reopened:` subject verb stands in
  for a body that does not state the status.
- Actor: the From display name without ` (Jira)` (any case); else the event line's name.
- HTML-only mails (Jira 7+ default) are read as text by read_mail: table rows become lines.
- Unparseable: a Jira mail with no issue key in its subject or body.
"""
from __future__ import annotations

import re
from email.utils import parseaddr
from typing import ClassVar

from maildaemon.model import COMMENTED, CREATED, Change
from maildaemon.parse.base import Unparseable, first_line, when
from maildaemon.parse.mail import Mail, clean_subject

_KEY = r"[A-Z][A-Z0-9_]+-\d+"
_SUBJECT = re.compile(r"\((?P<key>" + _KEY + r")\)")
_VERB = re.compile(r"(?P<verb>[A-Za-z][A-Za-z ]{1,30}?)\s*:\s*$")
_BROWSE = re.compile(r"https?://[^\s<>\"'()]+?/browse/(?P<key>" + _KEY + r")(?![\w-])")
_EVENT = re.compile(
    r"^[ \t]*\*?(?P<who>[^*\n]{1,80}?)\*?[ \t]+\*?(?:(?P<what>created|updated|commented on|resolved|closed|reopened"
    r"|assigned)[ \t]+(?:an issue|(?:[A-Za-z-]+[ \t]+)?" + _KEY + r")\b|(?P<made>made \d+ updates?))", re.I | re.M)
_LINE = re.compile(r"^[ \t]*(?P<label>[A-Za-z][A-Za-z /()-]{0,40}?)[ \t]*:[ \t]*(?P<value>.*?)\s*$")
_WAS = re.compile(r"^(?P<new>.*?)\s*\(was:\s*(?P<old>.*)\)\s*$", re.I)
_ARROW = re.compile(r"^(?P<old>.*?)\s*(?:→|->|-&gt;)\s*(?P<new>.*)$")
_RULE = re.compile(r"^\s*[-=_]{3,}\s*$")
_FOOTER = re.compile(
    r"^\s*(--\s*$|This message was sent by Atlassian|View issue|Manage notifications|Add Comment)", re.I)
_LABELS = {"assignee": "assignee", "reporter": "reporter", "status": "status", "priority": "priority",
           "summary": "summary", "resolution": "resolution"}
_STATUS = {"resolved": "resolved", "done": "resolved", "closed": "closed", "waiting for customer": "waiting-on-user"}
_VERB_STATUS = {"resolved": "Resolved", "closed": "Closed", "reopened": "Reopened"}


class JiraParser:
    system: ClassVar[str] = "jira"

    def recognises(self, mail: Mail) -> bool:
        return mail.has("X-JIRA-FingerPrint")

    def parse(self, mail: Mail) -> Change:
        key, verb, title = parse_subject(mail.clean_subject)
        event = _EVENT.search(mail.text or "")
        key = key or _body_key(mail.text, event)
        what = (event.group("what") or "updated").lower() if event else verb
        created = what.startswith("created")
        body = _below(mail.text, event.end()) if event else mail.text
        block, rest = field_block(body) if not what.startswith("comment") else ([], body)
        f = {}
        for label, value in block:
            name = _LABELS.get(label.lower())
            if name and name not in f:
                f[name] = value if created else new_value(value)
        status = f.get("status") or _VERB_STATUS.get(what) or _VERB_STATUS.get(verb) or None
        kinds = {CREATED} if created else {COMMENTED} if what.startswith("comment") else set()
        return Change(
            key=f"jira:{key}", system=self.system, id=key,
            message_id=mail.message_id, at=when(mail), kinds=frozenset(kinds),
            title=title or (f.get("summary") if created else None) or None,
            url=_url(mail, key),
            status_raw=status,
            status=_STATUS.get(status.lower(), "open") if status else None,
            priority=f.get("priority") or None,
            assignees=_assignee(f["assignee"]) if "assignee" in f else None,
            submitter=_address(f.get("reporter")),
            actor=_actor(mail, event),
            summary=_summary(created or what.startswith("comment"), block, rest),
        )


def parse_subject(subject: str) -> tuple[str | None, str, str]:
    """('KEY-1', 'commented', 'Title') from '[JIRA] Commented: (KEY-1) Title'; verb '' when new style."""
    m = _SUBJECT.search(subject)
    if not m:
        return None, "", clean_subject(subject)
    v = _VERB.search(subject[:m.start()])
    return m.group("key"), (" ".join(v.group("verb").split()).lower() if v else ""), subject[m.end():].strip()


def field_block(text: str) -> tuple[list[tuple[str, str]], str]:
    """([(label, value)] of the first run of `Label: value` lines, the text after that run).

    Prose, rules and blank lines before the run are skipped (Jira 7 puts the project and title
    above its table); quoted text and the footer end the search. Blank lines inside the run are
    skipped too (HTML table rows read as text may be a blank line apart); the run ends at the
    first other line. An indented line that is not a field continues the previous value.
    """
    lines = (text or "").split("\n")
    out: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">") or _FOOTER.match(line):
            return out, "\n".join(lines[i:])
        m = _LINE.match(line)
        if m and not m.group("value").startswith("//"):
            out.append((m.group("label").strip(), m.group("value")))
        elif out and line[:1] in (" ", "\t") and line.strip() and not _RULE.match(line):
            out[-1] = (out[-1][0], (out[-1][1] + " " + line.strip()).strip())
        elif out and line.strip():
            return out, "\n".join(lines[i:])
    return out, ""


def new_value(value: str) -> str:
    """'In Progress (was: Open)' and 'Open → In Progress' -> 'In Progress'."""
    m = _WAS.match(value) or _ARROW.match(value)
    return m.group("new").strip() if m else value.strip()


def _body_key(text: str, event: re.Match | None) -> str:
    m = _BROWSE.search(text or "")
    if m:
        return m.group("key")
    m = re.search(r"\b(" + _KEY + r")\b", event.group(0) if event else "")
    if m:
        return m.group(1)
    raise Unparseable("Jira mail without an issue key: no (KEY-1) in the subject and no /browse/KEY-1 link")


def _below(text: str, pos: int) -> str:
    """The text from the line after position `pos` (the event line's rest is not a field)."""
    end = text.find("\n", pos)
    return text[end + 1:] if end >= 0 else ""


def _assignee(value: str) -> tuple[str, ...]:
    v = value.strip()
    return () if not v or v.lower() in ("unassigned", "none") else (v,)


def _address(value: str | None) -> str | None:
    _, addr = parseaddr(value or "")
    return addr.lower() if "@" in addr else None


def _actor(mail: Mail, event: re.Match | None) -> str | None:
    name = re.sub(r"\s*\((?:jira|atlassian jira)\)\s*$", "", mail.from_name or "", flags=re.I).strip().strip('"')
    if name and name.lower() not in ("jira", "atlassian jira"):
        return name
    return event.group("who").strip() if event else None


def _url(mail: Mail, key: str) -> str | None:
    for text in (mail.text, mail.html):
        for m in _BROWSE.finditer(text or ""):
            if m.group("key") == key:
                return m.group(0)
    return None


def _summary(wrote: bool, block: list[tuple[str, str]], rest: str) -> str:
    """The first line of a comment or description; else the changes ('Status: Done (was: Open)')."""
    text = "\n".join(line for line in rest.split("\n") if not _FOOTER.match(line) and not _RULE.match(line))
    if wrote or not block:
        return first_line(text)
    return first_line("; ".join(f"{label}: {value}" for label, value in block))
