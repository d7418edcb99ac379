"""Jira notifications -> `Change` (SPEC 7.4; both generations in formats.md 3.3).

Why the rules are what they are:
- Recognised by `X-JIRA-FingerPrint`, which Jira Server and Cloud put on every notification (it
  is also what Zammad keys on). A `[JIRA] (KEY-1)` subject alone is not enough: people quote them.
- Key: the `(KEY-1)` in the subject, in both generations: `[<prefix>] (KEY-1) <title>` (Jira 7+,
  Cloud) and `[<prefix>] <Verb>: (KEY-1) <title>` (older Server). The prefix is the site's
  configured "email prefix", so it is not matched by name. Jira Service Management's customer
  notifications carry the key bare at the start instead (`SEC-1732 <title>`, SPEC 7.6; a
  standards prefix such as `UTF-8` is never a key, links.NOT_PROJECTS). Without either, the key
  of the body's `/browse/KEY-1` link, or of JSM's `/servicedesk/customer/portal/<n>/KEY-1`.
- Subject token (SPEC 8): the subject's `(KEY-1)`, or JSM's bare `KEY-1`, as written: Jira's
  mail handler files a reply whose subject carries the key into the issue. None when the key
  came from the body.
- What happened: the body's event line (`<Actor> created KEY-1:`, `<Actor> created an issue`,
  `... updated ...`, `... commented on ...`, Cloud's `<Actor> made 2 updates.`), else the old
  subject verb (`Created:`, `Commented:`, `Resolved:`, `Closed:`, `Reopened:`).
- Fields are read from the one block of `Field: value` lines below the event line, never from
  the comment or description under it, nor from quoted (`>`) text. The event line counts only
  among the first five lines (below, a user may imitate one), and without it no field is read.
  Users write the title, the comment and the description: a line that is the title is not a
  field, and a field named twice in the block is not read at all (`Reporter:` becomes the
  submitter, whom maildaemon writes to). A creation lists values as they
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
from typing import ClassVar

from maildaemon.model import COMMENTED, CREATED, Change
from maildaemon.parse.base import email_of, first_line, scanned, subject_token, when, MAX_VALUE, Unparseable
from maildaemon.parse.links import NOT_PROJECTS
from maildaemon.parse.mail import Mail, clean_subject

# Every pattern is linear in its input (SPEC 9): possessive runs, names and values that cannot end
# in a blank where a blank run follows, values taken whole and stripped in Python.
_KEY = r"[A-Z][A-Z0-9_]++-\d++"
_SUBJECT = re.compile(r"\((?P<key>" + _KEY + r")\)")
# JSM: `SEC-1732 <title>` (matched at the subject's start only; the separators after it end the key)
_BARE = re.compile(r"(?P<key>(?P<project>[A-Z][A-Z0-9_]++)-\d++)(?![\w-]|\.\d)[ \t:–—-]*+")
_VERB = re.compile(r"(?P<verb>[A-Za-z][A-Za-z ]{1,30}?)\s*+:\s*+$")
# a URL run stops at the next scheme, so `http://` repeated is one pass, not n²
# the page: `/browse/KEY-1`, or JSM's customer portal `/servicedesk/customer/portal/<n>/KEY-1`
_BROWSE = re.compile(r"https?://(?:(?!https?://)[^\s<>\"'()])+?/(?:browse|servicedesk/customer/portal/\d++)"
                     r"/(?P<key>" + _KEY + r")(?![\w-])")
_EVENT = re.compile(
    r"^[ \t]*+\*?(?P<who>[^*\n]{0,79}?[^*\s])\*?[ \t]++\*?(?:(?P<what>created|updated|commented on|resolved"
    r"|closed|reopened|assigned)[ \t]++(?:an issue|(?:[A-Za-z-]++[ \t]++)?" + _KEY + r")\b"
    r"|(?P<made>made \d++ updates?))", re.I | re.M)
_LINE = re.compile(r"[ \t]*+(?P<label>[A-Za-z][A-Za-z /()-]{0,40}+)[ \t]*+:[ \t]*+(?P<value>.*)")
_HEAD = re.compile(r"(?:\s*+\S[^\n]*+){0,5}")       # the first five non-blank lines
_WAS = re.compile(r"\(was:", re.I)
_ARROW = re.compile(r"→|->|-&gt;")
_RULE = re.compile(r"^\s*+[-=_]{3,}+\s*+$")
_FOOTER = re.compile(
    r"^\s*+(--\s*+$|This message was sent by Atlassian|View issue|Manage notifications|Add Comment)", re.I)
_LABELS = {"assignee": "assignee", "reporter": "reporter", "status": "status", "priority": "priority",
           "summary": "summary", "resolution": "resolution"}
_STATUS = {"resolved": "resolved", "done": "resolved", "closed": "closed", "waiting for customer": "waiting-on-user"}
_VERB_STATUS = {"resolved": "Resolved", "closed": "Closed", "reopened": "Reopened"}


class JiraParser:
    system: ClassVar[str] = "jira"

    def recognises(self, mail: Mail) -> bool:
        return mail.has("X-JIRA-FingerPrint")

    def parse(self, mail: Mail) -> Change:
        key, token, verb, title = _subject(mail.clean_subject)
        text = scanned(mail.text)
        event = find_event(text)
        key = key or _body_key(text, event, scanned(mail.html))
        what = (event.group("what") or "updated").lower() if event else verb
        created = what.startswith("created")
        body = _below(text, event.end()) if event else text
        block, rest = field_block(body, title) if event and not what.startswith("comment") else ([], body)
        f, seen = {}, set()
        for label, value in block:
            name = _LABELS.get(label.lower())
            if name in seen:
                f.pop(name, None)          # twice in one block: one is someone's text, neither is trusted
            elif name:
                seen.add(name)
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
            submitter=email_of(f.get("reporter")),
            actor=_actor(mail, event),
            summary=_summary(created or what.startswith("comment"), block, rest),
            subject_token=subject_token(token),
        )


def parse_subject(subject: str) -> tuple[str | None, str, str]:
    """('KEY-1', 'commented', 'Title') from '[JIRA] Commented: (KEY-1) Title'; verb '' when new style;
    ('SEC-1732', '', 'DWF/CVE - x') from JSM's 'SEC-1732 DWF/CVE - x'."""
    key, _, verb, title = _subject(subject)
    return key, verb, title


def _subject(subject: str) -> tuple[str | None, str | None, str, str]:
    """(key, the token as the subject writes it, verb, title)."""
    m = _SUBJECT.search(subject)
    if not m:
        bare = _BARE.match(subject)
        if bare and bare.group("project") not in NOT_PROJECTS:
            return bare.group("key"), bare.group("key"), "", subject[bare.end():].strip()
        return None, None, "", clean_subject(subject)
    v = _VERB.search(subject[max(0, m.start() - 80):m.start()])     # a verb is short and ends there
    return m.group("key"), m.group(), (" ".join(v.group("verb").split()).lower() if v else ""), \
        subject[m.end():].strip()


def find_event(text: str | None) -> re.Match | None:
    """The event line, when it is one of the mail's first lines: Jira writes it at the top, and
    one further down is someone's text imitating it."""
    text = text or ""
    return _EVENT.search(text, 0, _HEAD.match(text).end())


def field_block(text: str, title: str = "") -> tuple[list[tuple[str, str]], str]:
    """([(label, value)] of the first run of `Label: value` lines, the text after that run).

    Prose, rules and blank lines before the run are skipped (Jira 7 puts the project and title
    above its table); quoted text and the footer end the search. Blank lines inside the run are
    skipped too (HTML table rows read as text may be a blank line apart); the run ends at the
    first other line. An indented line that is not a field continues the previous value. A line
    that is the issue's `title` is never a field: the title is the user's (`Reporter: x@y`).
    """
    lines = (text or "").split("\n")
    out: list[tuple[str, str]] = []
    title = title.strip()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">") or _FOOTER.match(line):
            return out, "\n".join(lines[i:])
        if title and line.strip() == title:
            continue
        m = _LINE.match(line)
        if m and not m.group("value").startswith("//"):
            out.append((m.group("label").strip(), m.group("value")[:MAX_VALUE].rstrip()))
        elif out and line[:1] in (" ", "\t") and line.strip() and not _RULE.match(line):
            if len(out[-1][1]) < MAX_VALUE:          # bounded: no quadratic growth over many lines
                out[-1] = (out[-1][0], (out[-1][1] + " " + line.strip()).strip())
        elif out and line.strip():
            return out, "\n".join(lines[i:])
    return out, ""


def new_value(value: str) -> str:
    """'In Progress (was: Open)' and 'Open → In Progress' -> 'In Progress'.

    `(was: old)` counts only when the value ends with `)`; the first such `(was:` wins, the first
    arrow otherwise (plain searches, not lazy groups backed by a scan to the end at every step).
    """
    v = value.strip()
    m = _WAS.search(v) if v.endswith(")") else None
    if m:
        return v[:m.start()].strip()
    m = _ARROW.search(v)
    return v[m.end():].strip() if m else v


def _body_key(text: str, event: re.Match | None, html: str = "") -> str:
    """The key of the first issue link of the text, else of the HTML (an HTML-only mail's link is
    an `href`, which its text drops), else the one the event line names."""
    m = _BROWSE.search(text or "") or _BROWSE.search(html or "")
    if m:
        return m.group("key")
    m = re.search(r"\b(" + _KEY + r")\b", event.group(0) if event else "")
    if m:
        return m.group(1)
    raise Unparseable("Jira mail without an issue key: no (KEY-1) or leading KEY-1 in the subject and no "
                      "/browse/KEY-1 or /servicedesk/customer/portal/<n>/KEY-1 link")


def _below(text: str, pos: int) -> str:
    """The text from the line after position `pos` (the event line's rest is not a field)."""
    end = text.find("\n", pos)
    return text[end + 1:] if end >= 0 else ""


def _assignee(value: str) -> tuple[str, ...]:
    v = value.strip()
    return () if not v or v.lower() in ("unassigned", "none") else (v,)


_JIRA_SUFFIX = re.compile(r"\((?:jira|atlassian jira)\)$", re.I)


def _actor(mail: Mail, event: re.Match | None) -> str | None:
    name = _JIRA_SUFFIX.sub("", (mail.from_name or "").strip()).strip().strip('"')
    if name and name.lower() not in ("jira", "atlassian jira"):
        return name
    return event.group("who").strip() if event else None


def _url(mail: Mail, key: str) -> str | None:
    for text in (scanned(mail.text), scanned(mail.html)):
        for m in _BROWSE.finditer(text):
            if m.group("key") == key:
                return m.group(0)
    return None


_REPLY_MARK = re.compile(r"Reply above this line", re.I)      # JSM's first line: a marker, not news


def _summary(wrote: bool, block: list[tuple[str, str]], rest: str) -> str:
    """The first line of a comment or description; else the changes ('Status: Done (was: Open)')."""
    text = "\n".join(line for line in rest.split("\n")
                     if not _FOOTER.match(line) and not _RULE.match(line) and not _REPLY_MARK.search(line))
    if wrote or not block:
        return first_line(text)
    return first_line("; ".join(f"{label}: {value}" for label, value in block))
