"""GOC ticket notifications (OSG's front end over BMC FootPrints) -> `Change` (SPEC 7.1).

Why the rules are what they are:
- Recognised by the subject token `ISSUE=<id> PROJ=<project>` and nothing else: FootPrints puts
  it in every notification subject so replies thread back, it survives list prefixes and `Re:`,
  while `From` is rewritten by lists. A mail that carries another ticket system's own headers
  (RT, Jira, GitHub) is that system's, even if its subject quotes a GOC token.
- The token is the key. The body's `Ticket ID:` is not compared with it: a mismatch (a body
  pasted from another ticket) must not lose the mail, and the subject is what FootPrints threads on.
  A subject may hold several tokens, as FootPrints appends its own to a title a user wrote
  (`Please close ISSUE=41234 PROJ=71`): the one whose id is the body's `Ticket ID:` is the
  ticket's, else the last.
- Fields are read only above the first `Entered on ... by NAME:` line (any line starting `Entered
  on`, even one whose date we cannot read). Below it is free text written by people, where
  `Status: still broken` is prose, not state, and `Submitter: someone@else` must never name whom
  maildaemon writes to: a field the block above lacks stays unknown.
- Entries are not reliably newest-first, so the newest *by time* names the actor; its time
  (with the GMT offset FootPrints prints) is `actor_at`. When the entry's author is the
  submitter, the actor is written `Name <address>` so the user's clock can be moved.
- Date-only deadlines mean the end of that day (UTC): a deadline day is not overdue at 00:01.
- The token, exactly as the subject has it, is kept for mail the user answers (SPEC 8):
  FootPrints files a reply whose subject carries it into the ticket.
- Unparseable: never for a well-formed token. The token gives the key and the Date gives the
  time, so even a mail with an empty body is a (thin) change: something happened to ticket N.
  Only a token whose ISSUE is not a number (`ISSUE=abc PROJ=71`, a hand-edited subject) is
  refused: no key can be built from it, and guessing one could merge two tickets.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from maildaemon.model import Change
from maildaemon.parse.base import (address, around, first_line, labelled_fields, people_addresses, scanned,
                                   split_people, subject_token, when, Unparseable)
from maildaemon.parse.mail import Mail, clean_subject

# `[^\s=]` (not `\S`): each try stops at the next `=`, so `ISSUE=ISSUE=...` is one pass, not n²
_LOOSE_TOKEN = re.compile(r"\bISSUE=[^\s=]*+\s++PROJ=\S*+", re.I)
_TOKEN = re.compile(r"\bISSUE=(?P<id>\d++)\s++PROJ=(?P<proj>[\w.-]++)", re.I)
_OTHER_SYSTEMS = ("X-RT-Ticket", "RT-Ticket", "X-JIRA-FingerPrint", "X-GitHub-Reason")

# One line; blanks are [ \t] and possessive, the name ends at the last `:` (a user's long run of
# spaces after `by` once cost minutes, and FootPrints repeats old entries in every later mail).
_ENTRY = re.compile(
    r"^[ \t]*+Entered on (?P<date>\d{1,2}/\d{1,2}/\d{2,4})[ \t]++at[ \t]++(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
    r"(?:[ \t]*+(?P<ampm>[AP]M))?(?:[ \t]++(?P<tz>[A-Z]{2,5}))?"
    r"(?:[ \t]*+\([ \t]*+(?:GMT|UTC)[ \t]*+(?P<off>[+-]\d{1,2}:?\d{2})?[ \t]*+\))?"
    r"[ \t]++by[ \t]++(?P<who>[^\n]*\S)[ \t]*+:[ \t]*+$", re.M | re.I)
# where the field block ends, even when the entry line itself is not readable
_ENTRY_START = re.compile(r"^[ \t]*+Entered on\b", re.M | re.I)
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
          "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}

_LABELS = {
    "ticket id": "ticket_id", "title": "title", "status": "status", "priority": "priority",
    "next action": "next_action", "next action deadline": "deadline",
    "assignees": "assignees", "assigned to": "assignees", "cc": "cc", "submitter": "submitter",
    "ticket url": "url",
}
_STATUS = {"customer": "waiting-on-user", "resolved": "resolved", "closed": "closed"}


class GocParser:
    system: ClassVar[str] = "goc"

    def recognises(self, mail: Mail) -> bool:
        if any(mail.has(h) for h in _OTHER_SYSTEMS):
            return False
        return bool(_LOOSE_TOKEN.search(mail.subject))

    def parse(self, mail: Mail) -> Change:
        tokens = list(_TOKEN.finditer(mail.subject))
        if not tokens:
            raise Unparseable("the subject's ISSUE=<id> PROJ=<project> token has no numeric ticket id: "
                              f"{mail.subject!r}")
        head, entries = split_entries(scanned(mail.text))
        f = labelled_fields(head, _LABELS)
        body_id = (f.get("ticket_id") or "").strip()
        token = next((t for t in tokens if t.group("id") == body_id), tokens[-1])
        ticket_id = token.group("id")
        submitter_name, submitter = _submitter(f.get("submitter"))
        newest = newest_entry(entries)
        actor = newest[0] if newest else None
        if actor and submitter and submitter_name and actor.lower() == submitter_name.lower():
            actor = f"{actor} <{submitter}>"
        raw_status = f.get("status") or None
        return Change(
            key=f"goc:{ticket_id}", system=self.system, id=ticket_id,
            message_id=mail.message_id, at=when(mail),
            title=f.get("title") or subject_title(mail.clean_subject, ticket_id) or None,
            url=_url(f.get("url")),
            status_raw=raw_status,
            status=_STATUS.get(raw_status.lower(), "open") if raw_status else None,
            next_action=f["next_action"] if "next_action" in f else None,
            next_action_deadline=deadline(f.get("deadline")),
            priority=f.get("priority") or None,
            assignees=split_people(f["assignees"]) if "assignees" in f else None,
            cc=people_addresses(f["cc"]) if "cc" in f else None,
            submitter=submitter,
            actor=actor,
            actor_at=newest[1] if newest else None,
            summary=first_line(newest[2]) if newest else "",
            subject_token=subject_token(token.group()),
        )


def subject_title(subject: str, ticket_id: str | None = None) -> str:
    """The subject without the token (of `ticket_id`, else the last) and the separators that
    joined it to the title."""
    tokens = list(_LOOSE_TOKEN.finditer(subject))
    m = next((t for t in tokens if (n := _TOKEN.match(t.group())) and n["id"] == ticket_id),
             tokens[-1] if tokens else None)
    if not m:
        return clean_subject(subject)
    left, right = around(subject, m.start(), m.end())
    right = clean_subject(right)
    return " - ".join(p for p in (left, right) if p)


def split_entries(text: str) -> tuple[str, list[tuple[str, datetime | None, str]]]:
    """(field block above the first entry, [(author, entered at, entry text), ...] in mail order).

    The block ends at the first line that starts `Entered on`, readable or not: below it people
    wrote, and `Submitter: someone@else` there must never become the ticket's submitter.
    """
    text = text or ""
    start = _ENTRY_START.search(text)
    head = text[:start.start()] if start else text
    heads = list(_ENTRY.finditer(text, start.start())) if start else []
    if not heads:
        return head, []
    entries = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        entries.append((m.group("who").strip(), _entered_at(m), text[m.end():end].strip()))
    return head, entries


def newest_entry(entries):
    """The entry with the latest time; entries without a readable time lose; ties: the first listed."""
    if not entries:
        return None
    floor = datetime.min.replace(tzinfo=timezone.utc)
    order = sorted(range(len(entries)), key=lambda i: (entries[i][1] or floor, -i))
    return entries[order[-1]]


def _entered_at(m: re.Match) -> datetime | None:
    try:
        month, day, year = (int(x) for x in m.group("date").split("/"))
        parts = [int(x) for x in m.group("time").split(":")] + [0]
        hour, minute, second = parts[0], parts[1], parts[2]
        ampm = (m.group("ampm") or "").upper()
        if ampm:
            hour = hour % 12 + (12 if ampm == "PM" else 0)
        local = datetime(year + 2000 if year < 100 else year, month, day, hour, minute, second)
    except ValueError:
        return None
    return local.replace(tzinfo=_zone(m.group("off"), m.group("tz")))


def _zone(offset: str | None, name: str | None) -> timezone:
    """The printed GMT offset wins; else a known US zone abbreviation; else UTC (FootPrints' own)."""
    if offset:
        sign = -1 if offset.startswith("-") else 1
        digits = offset[1:].replace(":", "").rjust(4, "0")
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return timezone(timedelta(hours=_ZONES.get((name or "UTC").upper(), 0)))


_DEADLINE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]++(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*+"
    r"(UTC|GMT|Z|[A-Z]{3}|[+-]\d{2}:?\d{2})?$", re.I)


def deadline(value: str | None) -> datetime | None:
    """'2026-11-25 17:00:00 UTC' -> aware datetime; a date alone is the end of that day (UTC)."""
    m = _DEADLINE.match((value or "").strip())
    if not m:
        return None
    y, mo, d, h, mi, s, zone = m.groups()
    try:
        if h is None:
            return datetime(int(y), int(mo), int(d), 23, 59, 59, tzinfo=timezone.utc)
        tz = _zone(zone, None) if zone and zone[0] in "+-" else _zone(None, zone)
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=tz)
    except ValueError:
        return None


def _submitter(value: str | None) -> tuple[str, str | None]:
    """('Jane User', 'jane@example.edu') from 'Jane User <jane@example.edu>'; a bare name: no address."""
    name, addr = address(value)
    if "@" not in addr:
        return (value or "").strip(), None
    return name.strip(), addr.strip().lower()


def _url(value: str | None) -> str | None:
    v = (value or "").strip().strip("<>").strip()
    return v if re.match(r"https?://\S++$", v) else None
