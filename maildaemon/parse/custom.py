"""A ticket system the team describes in its team file, with no code (SPEC 7.6).

    [[systems]]
    name = "freshdesk"
    trusted_senders = ["support@example.freshdesk.com"]
    key = '\\[#(?P<id>\\d+)\\]'
    fields = { owner = '^Agent:\\s*(?P<value>.+)$', status = '^Status:\\s*(?P<value>.+)$' }
    status_map = { "Waiting on Customer" = "waiting-on-user", "Closed" = "closed" }

config.py has already compiled every regex and checked its named group (a bad one stops
start-up naming `systems.<name>.<field>`), so here they are only used.

Why the rules are what they are:
- Recognised only when the sender (list rewriting undone, as trust does) is one of the system's
  `trusted_senders` or the team's, AND the `key` regex matches the subject. A regex like `[#\\d+]`
  matches far too much mail to decide on the subject alone; these systems come last in the
  precedence, so they never take a GOC, RT, Jira, GitHub, Zammad or GGUS mail; and the system's
  senders are trusted for its own mail only (classify adds them for the recognising parser).
- Key `<name>:<id>`: the `id` group of `key` on the subject (list prefixes and Re: removed).
- Fields: each regex is searched in the body (multi-line, any case); the `value` group of the
  first match is the value. Known names: title, status, owner, assignee, assignees, submitter,
  next_action, priority, url, cc, actor, summary (config.CUSTOM_FIELDS; others stop start-up). `owner`/`assignee` is
  one person (`Unassigned`, `Nobody`, `None`, `-` or empty: nobody); `assignees` a `;`/`,` list.
- Status: through `status_map` (any case); a word it does not name is open (SPEC 7), and the
  word itself is always kept as status_raw.
- Without a `title` field the title is the subject without the key; without a `summary` field
  the summary is the body's first line; without an `actor` field nobody is named (the From of
  these systems is the system, not a person).
"""
from __future__ import annotations

import re
from email.utils import parseaddr

from maildaemon.model import Change, SystemSpec
from maildaemon.parse.base import Unparseable, first_line, split_people, when
from maildaemon.parse.mail import Mail
from maildaemon.parse.trust import matches, sender

_NOBODY = {"", "-", "unassigned", "nobody", "none", "not assigned"}
_SEPARATORS = " \t-–—:|,;"


class CustomParser:
    """The parser of one `[[systems]]` entry; `system` is the entry's name."""

    def __init__(self, spec: SystemSpec, team_senders: tuple[str, ...] = (), list_address: str = ""):
        self.spec = spec
        self.system = spec.name
        self.trusted_senders = spec.trusted_senders      # classify trusts these for this system's mail only
        self._senders = spec.trusted_senders + tuple(team_senders)
        self._list_address = list_address
        self._key = re.compile(spec.key, re.I)
        self._fields = tuple((name, re.compile(rx, re.M | re.I)) for name, rx in spec.fields)
        self._status = {" ".join(k.lower().split()): v for k, v in spec.status_map}

    def recognises(self, mail: Mail) -> bool:
        who = sender(mail, self._list_address)
        return bool(who) and matches(who, self._senders) and self._match(mail) is not None

    def parse(self, mail: Mail) -> Change:
        m = self._match(mail)
        ident = (m.group("id") or "").strip() if m else ""
        if not ident:
            raise Unparseable(f"the subject does not give a {self.system} ticket id (key regex {self.spec.key!r}): "
                              f"{mail.subject!r}")
        f = self.fields(mail.text)
        status = f.get("status") or None
        person = f.get("owner", f.get("assignee"))
        assignees = split_people(f["assignees"]) if "assignees" in f else _one(person) if person is not None else None
        return Change(
            key=f"{self.system}:{ident}", system=self.system, id=ident,
            message_id=mail.message_id, at=when(mail),
            title=f.get("title") or _title(m) or None,
            url=f.get("url") or None,
            status_raw=status,
            status=self._status.get(" ".join(status.lower().split()), "open") if status else None,
            next_action=f.get("next_action"),
            priority=f.get("priority") or None,
            assignees=assignees,
            cc=tuple(_address(x) or x for x in split_people(f["cc"])) if "cc" in f else None,
            submitter=_address(f.get("submitter")),
            actor=f.get("actor") or None,
            summary=first_line(f.get("summary") or mail.text),
        )

    def fields(self, text: str) -> dict[str, str]:
        """{field: the `value` group of its regex's first match in the body, stripped}."""
        out = {}
        for name, rx in self._fields:
            m = rx.search(text or "")
            if m and m.group("value") is not None:
                out[name] = m.group("value").strip()
        return out

    def _match(self, mail: Mail) -> re.Match | None:
        return self._key.search(mail.clean_subject) or self._key.search(mail.subject)


def _one(value: str) -> tuple[str, ...]:
    return () if value.strip().lower() in _NOBODY else (value.strip(),)


def _address(value: str | None) -> str | None:
    _, addr = parseaddr(value or "")
    return addr.lower() if "@" in addr else None


def _title(m: re.Match | None) -> str:
    """The subject without the key and the separators that joined it to the title."""
    if not m:
        return ""
    s = m.string
    left, right = s[:m.start()].rstrip(_SEPARATORS), s[m.end():].lstrip(_SEPARATORS)
    return " - ".join(p.strip() for p in (left, right) if p.strip())
