"""Request Tracker notifications -> `Change` (SPEC 7.2; templates in formats.md 3.1).

Why the rules are what they are:
- Recognised by RT's own headers: `X-RT-Ticket` (RT >= 4.2) or `RT-Ticket` (older), or a
  `X-Managed-by`/`Managed-by: RT ...` header together with a `[<tag> #<id>]` subject tag (some
  relays drop X-RT-Ticket, and the tag alone is too common a shape to trust). The ticket number
  comes from the RT-Ticket header when it has one, else from the subject tag.
- Only the `Transaction` template (text, or its HTML table read as text) states the ticket:
  `Owner:`, `Status:`, `Requestors:`. Its fields are read only from that block (from the
  `... was acted upon` line to the ticket URL), never from the content below it, which people wrote,
  and only when the mail opens with it: a block further down is someone's text.
- The `Transaction:` line says what happened (`Ticket created`, `Correspondence added`, `Given to
  ada`...); when a site's template drops `Owner:` or `Status:`, the owner and status are taken
  from it. Subject prefixes (`[Comment]`, `Status Changed to: X`, `Resolved:`, `AutoReply:`) fill
  in for mails of the other templates, which state nothing else. A mail with no Transaction block
  and no such prefix is correspondence: a comment whose first line is the summary.
- Actor: `X-RT-Originator` (older `RT-Originator`), the address RT itself vouches for; else the
  `"<name> via RT"` display name of From (lists may append ` via <list>`); else the login after
  `by` in the Transaction line. `actor_at` is left to the mail's Date: RT prints the
  transaction time without a zone.
- No URL is invented: it is read from `<URL: ... >`, `Ticket URL:` or a bare
  `.../Ticket/Display.html?id=N` line, or left unknown.
- Subject token (SPEC 8): the `[<tag> #<id>]` of this ticket exactly as the subject has it (RT
  files a reply carrying it into the ticket), else the `[<rtname> #<id>]` its X-RT-Ticket names.
- Unparseable: an RT mail with neither a numbered RT-Ticket header nor a `[tag #id]` subject tag.
"""
from __future__ import annotations

import re
from typing import ClassVar

from maildaemon.model import COMMENTED, CREATED, Change
from maildaemon.parse.base import Unparseable, first_line, labelled_fields, scanned, subject_token, when
from maildaemon.parse.mail import Mail, addresses

# Every pattern is linear in its input (SPEC 9): possessive runs, one quantifier per run of blanks.
_TAG = re.compile(r"\[(?P<tag>[^\[\]#]*+)#(?P<id>\d++)\s*+\]")     # the tag keeps its trailing blanks
_HEADER_ID = re.compile(r"#\s*+(\d++)\s*+$")
_MANAGED = re.compile(r"^\s*+RT\b")
_ACTED = re.compile(r"\bRequest\s++#?\d++\s++was acted upon\b", re.I)   # text: "upon."; HTML: "upon by X."
_URL_LINE = re.compile(r"^\s*+(?:Ticket\s*+)?<URL:\s*+(?P<url>\S+)\s*>\s*+$", re.I)
# a URL run stops at the next scheme, so `http://` repeated is one pass, not n²
_DISPLAY_URL = re.compile(r"https?://(?:(?!https?://)[^\s<>\"])+/Ticket/Display\.html\?id=\d++")
_FIELD = re.compile(r"^\s*+[A-Za-z][A-Za-z .{}-]{0,40}+:")
_LABELS = {"transaction": "transaction", "queue": "queue", "subject": "subject", "owner": "owner",
           "requestors": "requestors", "requestor": "requestors", "status": "status",
           "ticket url": "url"}
_STATUS = {"new": "open", "open": "open", "stalled": "waiting-on-user", "resolved": "resolved",
           "rejected": "closed", "deleted": "closed"}
_PREFIX = re.compile(r"\s*+(?P<p>\[Comment\]|AutoReply:|Resolved:|(?:Re|Fwd?|AW|WG):)\s*+", re.I)
_RULE = re.compile(r"^-{20,}+[ \t]*+$", re.M)
_STATUS_CHANGED = re.compile(r"^\s*+Status Changed to:\s*+(?P<rest>.*)$", re.I)
_BOILERPLATE = re.compile(
    r"^\s*+(This is a comment(?: about ticket \d+)?\.\s++It is not sent to the Requestor\(s\):?"
    r"|Ticket URL:.*|<URL:.*>|https?://\S+/Ticket/Display\.html\?id=\d++)\s*+$", re.I)


class RtParser:
    system: ClassVar[str] = "rt"

    def recognises(self, mail: Mail) -> bool:
        if mail.has("X-RT-Ticket") or mail.has("RT-Ticket"):
            return True
        managed = mail.header("X-Managed-by") or mail.header("Managed-by") or ""
        return bool(_MANAGED.match(managed)) and bool(_TAG.search(mail.subject))

    def parse(self, mail: Mail) -> Change:
        ticket_id = _ticket_id(mail)
        subject = parse_subject(mail.clean_subject, ticket_id)
        text = scanned(mail.text)
        block, content = split_transaction(text)
        f = labelled_fields("\n".join(line.strip() for line in block), _LABELS) if block else {}
        desc = f.get("transaction", "")
        what = describe(desc)
        raw_status = f.get("status") or what.get("status") or subject["status"] or None
        kinds = set(what.get("kinds", ()))
        if subject["comment"] or (not block and not subject["status"] and not subject["autoreply"]):
            kinds.add(COMMENTED)
        if subject["autoreply"]:
            kinds.add(CREATED)
        if not block and subject["autoreply"]:
            content = _RULE.split(content, 1)[-1]     # the user's text follows RT's rule
        note = first_line(_without_boilerplate(content))
        title = f.get("subject", "")
        title = subject["title"] if not title or title == "(No subject given)" else title
        return Change(
            key=f"rt:{ticket_id}", system=self.system, id=ticket_id,
            message_id=mail.message_id, at=when(mail), kinds=frozenset(kinds),
            title=title or None,
            url=_url(f.get("url"), text),
            status_raw=raw_status,
            status=_STATUS.get(raw_status.lower(), "open") if raw_status else None,
            assignees=_owner(f["owner"]) if f.get("owner") else what.get("assignees"),
            submitter=next((a for _, a in addresses(f.get("requestors", "")) if "@" in a), None),
            actor=_actor(mail, desc),
            summary=first_line(f"{_brief(desc)}: {note}" if desc and note else (_brief(desc) or note)),
            subject_token=_token(mail, ticket_id),
        )


def _ticket_id(mail: Mail) -> str:
    for name in ("X-RT-Ticket", "RT-Ticket"):
        m = _HEADER_ID.search(mail.header(name) or "")
        if m:
            return m.group(1)
    tag = _TAG.search(mail.subject)
    if tag:
        return tag.group("id")
    raise Unparseable("RT mail without a ticket number: no '#<id>' in X-RT-Ticket/RT-Ticket "
                      "and no [<tag> #<id>] in the subject")


def _token(mail: Mail, ticket_id: str) -> str | None:
    """The subject tag of this ticket exactly as RT wrote it (`[rt.example.org #1234]`); else the
    tag RT writes, from its own `X-RT-Ticket: <rtname> #<id>` header; else None."""
    tag = next((m for m in _TAG.finditer(mail.subject) if m.group("id") == ticket_id), None)
    if tag:
        return subject_token(tag.group())
    for name in ("X-RT-Ticket", "RT-Ticket"):
        value = " ".join((mail.header(name) or "").split())
        m = _HEADER_ID.search(value)
        if m and m.group(1) == ticket_id and "[" not in value and "]" not in value:
            return subject_token(f"[{value}]")
    return None


def parse_subject(subject: str, ticket_id: str) -> dict:
    """Title and template prefixes of '[Comment] [rt.example.org #1234] Re: Title' and friends."""
    tags = list(_TAG.finditer(subject))
    tag = next((m for m in tags if m.group("id") == ticket_id), tags[0] if tags else None)
    pieces = [subject[:tag.start()], subject[tag.end():]] if tag else [subject]
    out = {"title": "", "status": "", "comment": False, "autoreply": False}
    titles = []
    for piece in pieces:
        pos = 0
        while p := _PREFIX.match(piece, pos):      # a position, not a new string per prefix: linear
            word = p.group("p").lower()
            out["comment"] |= word == "[comment]"
            out["autoreply"] |= word == "autoreply:"
            if word == "resolved:":
                out["status"] = out["status"] or "resolved"
            pos = p.end()
        piece = piece[pos:]
        changed = _STATUS_CHANGED.match(piece)
        if changed:
            status, _, piece = changed.group("rest").partition(" - ")
            out["status"] = status.strip(" -:")
        titles.append(piece.strip(" \t-:"))
    out["title"] = " ".join(t for t in titles if t)
    return out


def split_transaction(text: str) -> tuple[list[str], str]:
    """(the Transaction template's field lines, the content below) or ([], whole text).

    Only a block the mail opens with counts: RT's template starts with the `was acted upon`
    line, and one further down was written by someone (a requestor pasting `Requestors:
    someone@else` into a reply must not make that address the ticket's submitter).
    """
    lines = (text or "").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or not _ACTED.search(lines[start]):
        return [], text or ""
    block, i = [], start + 1
    while i < len(lines):
        line = lines[i]
        url = _URL_LINE.match(line)
        if url or line.strip().lower().startswith("ticket url:"):
            block.append("Ticket URL: " + url["url"] if url else line)
            i += 1
            break
        if line.strip() and not _FIELD.match(line):
            break
        block.append(line)
        i += 1
    return block, "\n".join(lines[i:])


_DESC = [
    (re.compile(r"^Ticket created\b", re.I), {"kinds": (CREATED,)}),
    (re.compile(r"^(Correspondence|Comments) added\b", re.I), {"kinds": (COMMENTED,)}),
    (re.compile(r"^Untaken\b", re.I), {"assignees": ()}),
    (re.compile(r"^Ticket deleted\b", re.I), {"status": "deleted"}),
]
# The old value runs to the first " to " (a tempered, possessive run): one lazy scan per line,
# never a lazy scan per candidate split.
_OLD = r"(?:'[^']*+'|(?:(?! to ).)++)"
_OWNER_DESC = [
    re.compile(r"^Given to (?P<who>.+?) by \S++$", re.I),
    re.compile(r"^Owner forcibly changed from " + _OLD + r" to (?P<who>.+?) by \S++$", re.I),
    re.compile(r"^(?:Taken|Stolen from .+?) by (?P<who>\S++)$", re.I),
]
_STATUS_DESC = re.compile(r"^Status changed from " + _OLD + r" to '?(?P<new>[^']+?)'? by \S++$", re.I)


def describe(desc: str) -> dict:
    """What a Transaction line says: kinds, the new owner or status (used when the block lacks them)."""
    desc = " ".join((desc or "").split())
    for pattern, result in _DESC:
        if pattern.match(desc):
            return dict(result)
    for pattern in _OWNER_DESC:
        m = pattern.match(desc)
        if m:
            return {"assignees": _owner(m.group("who"))}
    m = _STATUS_DESC.match(desc)
    return {"status": m.group("new")} if m else {}


def _owner(value: str) -> tuple[str, ...]:
    """RT's owner name ('ada', or 'ada (Ada Lovelace)' in RT 5 descriptions); Nobody: no owner."""
    v = value.strip()
    name = v
    if v.endswith(")"):                   # a final '(...)' without ')' inside; found without a regex scan per '('
        i = v.find("(", v.rfind(")", 0, len(v) - 1) + 1)
        if i >= 0:
            name = v[:i].rstrip() or v
    return () if name.lower() == "nobody" else (name,)


def _brief(desc: str) -> str:
    return " ".join((desc or "").split())


_VIA_RT = re.compile(r"\svia RT\b")


def _actor(mail: Mail, desc: str) -> str | None:
    for name in ("X-RT-Originator", "RT-Originator"):
        found = [a for _, a in addresses(mail.header(name) or "") if "@" in a]
        if found:
            return found[0]
    m = _VIA_RT.search(mail.from_name or "")
    name = mail.from_name[:m.start()].strip().strip('"').strip() if m else ""
    if name:
        return name
    m = re.search(r"\bby (?P<who>\S++)$", _brief(desc))
    return m.group("who") if m else None


def _url(field: str | None, text: str) -> str | None:
    m = _DISPLAY_URL.search(field or "") or _DISPLAY_URL.search(text or "")
    if m:
        return m.group(0)
    v = (field or "").strip().strip("<>").strip()
    return v if v.startswith(("http://", "https://")) else None


def _without_boilerplate(content: str) -> str:
    return "\n".join(line for line in (content or "").split("\n") if not _BOILERPLATE.match(line))
