"""The one interface every ticket-system parser implements, and helpers they share.

A parser answers two questions about a trusted `Mail`: is it yours (`recognises`: own headers
first, subject second), and what does it say (`parse` -> `Change`, or raise `Unparseable` with a
reason a person can act on). Parsers never see the store, the clock or the network.

Mail is hostile input (SPEC 9): every pattern here and in the parsers is linear in its input
(possessive quantifiers, no two adjacent quantifiers over the same characters, no `search` that
can fail late from every start), and field values are cut to `MAX_VALUE` characters, since no
real field is longer and address parsing is slow on long text. The built-in parsers read only the
first `SCAN_CHARS` of a mail's text (`scanned`): every ticket system writes its fields and its
update at the top, and walking the millions of lines a 10 MB mail can hold costs seconds in Python.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Protocol

from maildaemon.model import Change
from maildaemon.parse.mail import Mail
from maildaemon.errors import Unparseable  # noqa: F401 (re-exported)

MAX_VALUE = 4096       # characters of a field value kept
MAX_ADDRESS = 998      # a longer value is no address (RFC 5322's line limit)
SCAN_CHARS = 256 * 1024


class RegexTimeout(Unparseable):
    """A team-defined regex (SPEC 7.6) ran out of time on this mail: the mail is quarantined.

    str() is the quarantine reason, exactly `regex timeout: systems.<name>.<field>`.
    """

    def __init__(self, system: str, field: str):
        self.system, self.field = system, field
        super().__init__(f"regex timeout: systems.{system}.{field}")


class Parser(Protocol):
    system: str            # the key prefix: "goc", "rt"; a class constant, or per instance (custom)
    # optional: `replies_by_mail = False` for a system whose mail takes no replies (GitHub):
    # classify then gives its changes no `reply_to`, and the user is pointed to the ticket's URL


    def recognises(self, mail: Mail) -> bool: ...

    def parse(self, mail: Mail) -> Change: ...


# `Label:` — possessive and bounded, so a line of spaces or a long word costs one pass
_LABEL = re.compile(r"[ \t]*+([A-Za-z][A-Za-z /()-]{0,40}+)[ \t]*+:[ \t]?+")


def label_line(line: str, labels: dict[str, str]) -> tuple[str, str] | None:
    """(field, value) when `line` is `Label: value` with a label in `labels`, else None."""
    m = _LABEL.match(line)
    if not m:
        return None
    name = labels.get(m.group(1).strip().lower())
    return (name, line[m.end():m.end() + MAX_VALUE]) if name else None


def labelled_fields(text: str, labels: dict[str, str]) -> dict[str, str]:
    """Read `Label: value` lines (any order, any case; indented lines continue the value).

    `labels` maps lower-case label -> field name. Unknown labels end a value but are not kept.
    Example: labelled_fields("Status: Open\\nTitle: a\\n  b", {"status": "status", "title":
    "title"}) == {"status": "Open", "title": "a b"}.
    """
    parts: dict[str, list[str]] = {}       # pieces joined once at the end: no quadratic +=
    sizes: dict[str, int] = {}
    current: str | None = None
    for line in text.split("\n"):
        found = label_line(line, labels)
        if current and line[:1] in (" ", "\t") and line.strip() and not found:
            if sizes[current] < MAX_VALUE:
                piece = line.strip()
                parts[current].append(piece)
                sizes[current] += len(piece) + 1
            continue
        if found:
            current = found[0]
            if current not in parts:
                parts[current] = [found[1].strip()]
                sizes[current] = len(parts[current][0])
            else:
                current = None   # first occurrence wins; a repeat is quoted text
            continue
        current = None
    return {k: " ".join(p for p in v if p)[:MAX_VALUE] for k, v in parts.items()}


_PEOPLE_TOKEN = re.compile(r"[;,<>]")


def split_people(value: str) -> tuple[str, ...]:
    """'A (GOC); b@x.org, C' -> ('A (GOC)', 'b@x.org', 'C'); a 'Name <addr>' stays whole.

    A `;` or `,` separates unless it stands inside `<...>` (the next bracket after it is `>`);
    decided right to left in one pass.
    """
    value = (value or "")[:MAX_VALUE]
    cuts, closing = [], False
    for m in reversed(list(_PEOPLE_TOKEN.finditer(value))):
        c = m.group()
        if c in "<>":
            closing = c == ">"
        elif not closing:
            cuts.append(m.start())
    bounds = [-1] + cuts[::-1] + [len(value)]
    parts = (value[a + 1:b].strip() for a, b in zip(bounds, bounds[1:]))
    return tuple(p for p in parts if p)


def address(value: str | None) -> tuple[str, str]:
    """parseaddr for text from mail: ('', '') for a value too long to be an address or one
    that makes the standard library recurse (nested comments)."""
    if not value or len(value) > MAX_ADDRESS:
        return "", ""
    try:
        return parseaddr(value)
    except (RecursionError, ValueError, IndexError):
        return "", ""


MAX_TOKEN = 200        # characters: a longer "token" is someone's text, not a system's hook
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def email_of(value: str | None) -> str | None:
    """The lower-cased address in a field ("Ada <ada@x>", "ada@x"), or None when it holds none."""
    _, addr = address(value)
    return addr.lower() if "@" in addr else None


def people_addresses(value: str) -> tuple[str, ...]:
    """Each person of a list field (`split_people`): its lower-cased address where it has one, else
    as written ('Ada <ADA@x>; Bob' -> ('ada@x', 'Bob'))."""
    return tuple(email_of(person) or person for person in split_people(value))


SEPARATORS = " \t-\u2013\u2014:|,;"     # what joins a ticket token to the title in a subject


def around(subject: str, start: int, end: int) -> tuple[str, str]:
    """The subject's text before and after [start, end), without the separators that joined them."""
    return subject[:start].rstrip(SEPARATORS), subject[end:].lstrip(SEPARATORS)


def subject_token(text: str | None) -> str | None:
    """A system's subject token (`[rt.example.org #1234]`, `ISSUE=41234 PROJ=71`) kept exactly as
    written, for the subject of mail the user answers (SPEC 8); None when it is empty, holds a
    control character (a line break could never be part of a hook) or is longer than MAX_TOKEN."""
    text = (text or "").strip()
    if not text or len(text) > MAX_TOKEN or _CONTROL.search(text):
        return None
    return text


def scanned(text: str | None) -> str:
    """The part of a mail's text (or HTML) a parser reads."""
    return (text or "")[:SCAN_CHARS]


def when(mail: Mail) -> datetime:
    """The mail's Date, or the epoch when it has none (so it sorts first and never rolls back)."""
    return mail.date or datetime(1970, 1, 1, tzinfo=timezone.utc)


_NON_BLANK_LINE = re.compile(r"\S[^\n]*+")      # from a line's first non-blank character to its end


def first_line(text: str, limit: int = 160) -> str:
    """The first line that is not blank or quoted (`>`), stripped and cut to `limit` characters."""
    for m in _NON_BLANK_LINE.finditer(text or ""):   # blank runs skipped in C, no split of the whole text
        line = m.group().strip()
        if not line.startswith(">"):
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
