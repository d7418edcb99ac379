"""The one interface every ticket-system parser implements, and helpers they share.

A parser answers two questions about a trusted `Mail`: is it yours (`recognises`: own headers
first, subject second), and what does it say (`parse` -> `Change`, or raise `Unparseable` with a
reason a person can act on). Parsers never see the store, the clock or the network.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Protocol

from maildaemon.model import Change
from maildaemon.parse.mail import Mail


class Unparseable(Exception):
    """The mail is this system's, but it cannot be turned into a change; the text says why."""


class Parser(Protocol):
    system: str            # the key prefix: "goc", "rt"; a class constant, or per instance (custom)

    def recognises(self, mail: Mail) -> bool: ...

    def parse(self, mail: Mail) -> Change: ...


_LABEL = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /()-]{0,40}?)[ \t]*:[ \t]?(.*)$")


def labelled_fields(text: str, labels: dict[str, str]) -> dict[str, str]:
    """Read `Label: value` lines (any order, any case; indented lines continue the value).

    `labels` maps lower-case label -> field name. Unknown labels end a value but are not kept.
    Example: labelled_fields("Status: Open\\nTitle: a\\n  b", {"status": "status", "title":
    "title"}) == {"status": "Open", "title": "a b"}.
    """
    out: dict[str, str] = {}
    current: str | None = None
    for line in text.split("\n"):
        if current and line[:1] in (" ", "\t") and line.strip() and not _is_label(line, labels):
            out[current] = (out[current] + " " + line.strip()).strip()
            continue
        m = _LABEL.match(line)
        if m and m.group(1).strip().lower() in labels:
            current = labels[m.group(1).strip().lower()]
            if current not in out:
                out[current] = m.group(2).strip()
            else:
                current = None   # first occurrence wins; a repeat is quoted text
            continue
        current = None
    return out


def _is_label(line: str, labels: dict[str, str]) -> bool:
    m = _LABEL.match(line)
    return bool(m and m.group(1).strip().lower() in labels)


def split_people(value: str) -> tuple[str, ...]:
    """'A (GOC); b@x.org, C' -> ('A (GOC)', 'b@x.org', 'C'); a 'Name <addr>' stays whole."""
    parts = re.split(r"[;,](?![^<]*>)", value or "")
    return tuple(p.strip() for p in parts if p.strip())


def when(mail: Mail) -> datetime:
    """The mail's Date, or the epoch when it has none (so it sorts first and never rolls back)."""
    return mail.date or datetime(1970, 1, 1, tzinfo=timezone.utc)


def first_line(text: str, limit: int = 160) -> str:
    for line in (text or "").split("\n"):
        line = line.strip()
        if line and not line.startswith(">"):
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
