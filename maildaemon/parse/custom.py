"""A ticket system the team describes in its team file, with no code (SPEC 7.6).

    [[systems]]
    name = "bugzilla"
    trusted_senders = ["bugzilla-daemon@example.org"]
    key = '\\[Bug (?P<id>\\d+)\\]'
    headers = { actor = "X-Bugzilla-Who", owner = "X-Bugzilla-Assigned-To", status = "X-Bugzilla-Status" }
    fields = { title = '^\\s*Summary:\\s*(?P<value>.+)$' }
    body_until = '^-{5,} Comment'
    status_map = { "RESOLVED" = "resolved", "VERIFIED" = "closed" }

config/systems.py has already compiled every regex (with the `regex` module, multi-line, any case) and
checked its named group (a bad one stops start-up naming `systems.<name>.<field>`), so here they
are only used.

Why the rules are what they are:
- Recognised only when the sender (list rewriting undone, as trust does) is one of the system's
  `trusted_senders` or the team's, AND the `key` regex matches the subject. A regex like `[#\\d+]`
  matches far too much mail to decide on the subject alone; these systems come last in the
  precedence, so they never take a GOC, RT, Jira, GitHub, Zammad or GGUS mail; and the system's
  senders are trusted for its own mail only (classify adds them for the recognising parser).
- Key `<name>:<id>`: the `id` group of `key` on the subject (list prefixes and Re: removed).
- Fields: a field in `headers` is that header's whole decoded value when the mail has the header
  (a field in both takes the header; without the header, its regex is used). Every other field
  is its regex's FIRST match in the body, the `value` group stripped. The body is the whole text,
  or with `body_until` only the text before that regex's first match (the whole text when it
  does not match). Ticket systems quote what their users wrote, and a user can write
  `Requester: someone@else` or `Link: https://evil...` above or below the system's own lines:
  without `body_until` such a line can become the ticket's field, and `submitter` is whom
  maildaemon writes to. `body_until` set to where the system's own block ends is how a team
  protects itself; header fields are safest, since users never write headers.
- Known names: title, status, owner, assignee, assignees, submitter, next_action, priority, url,
  cc, actor, summary (config/systems.py, CUSTOM_FIELDS; others stop start-up). `owner`/`assignee` is one
  person (`Unassigned`, `Nobody`, `None`, `-` or empty: nobody); `assignees` a `;`/`,` list.
- A team regex may be as slow as its author made it (`(a|aa)+$`), so each runs under a time
  limit (`regex`'s `timeout`): `MAIL_SECONDS` shared out over the regexes a mail can run (the key
  on the clean and the raw subject, body_until, each field; parse reuses recognises' key match),
  never less than `MIN_SECONDS` each. The `regex` module overruns a limit up to about twofold
  (measured), so one mail's team regexes cost under a second, and the one that runs out does so
  before classify's one-second CPU budget: the reason names it. Running out raises
  `RegexTimeout` (`regex timeout: systems.<name>.<field>`, field = `key`, `body_until` or the
  field's name) from `recognises` and `parse`: the mail is quarantined with that reason.
- Status: through `status_map` (any case); a word it does not name is open (SPEC 7), and the
  word itself is always kept as status_raw.
- Subject token (SPEC 8): the `key` regex's whole match, as the subject has it; mail the user
  answers carries it, which is how such systems thread a reply into the ticket.
- Without a `title` field the title is the subject without the key; without a `summary` field
  the summary is the body's first line; without an `actor` field nobody is named (the From of
  these systems is the system, not a person).
"""
from __future__ import annotations

import regex

from maildaemon.model import Change, SystemSpec
from maildaemon.parse.base import (around, email_of, first_line, people_addresses, split_people, subject_token,
                                   when, MAX_VALUE, RegexTimeout, Unparseable)
from maildaemon.parse.mail import Mail
from maildaemon.parse.trust import matches, sender

MAIL_SECONDS = 0.4     # nominal: the sum of one mail's regex limits
MIN_SECONDS = 0.04     # the least any one regex gets
_FLAGS = regex.M | regex.I     # as config/systems.py compiles them
_NOBODY = {"", "-", "unassigned", "nobody", "none", "not assigned"}


class CustomParser:
    """The parser of one `[[systems]]` entry; `system` is the entry's name."""

    def __init__(self, spec: SystemSpec, team_senders: tuple[str, ...] = (), list_address: str = ""):
        self.spec = spec
        self.system = spec.name
        self.trusted_senders = spec.trusted_senders      # classify trusts these for this system's mail only
        self._senders = spec.trusted_senders + tuple(team_senders)
        self._list_address = list_address
        self._key = regex.compile(spec.key, _FLAGS)
        self._until = regex.compile(spec.body_until, _FLAGS) if spec.body_until else None
        self._headers = tuple(spec.headers)
        self._fields = tuple((name, regex.compile(rx, _FLAGS)) for name, rx in spec.fields)
        self._status = {" ".join(k.lower().split()): v for k, v in spec.status_map}
        runs = 2 + (1 if self._until else 0) + len(self._fields)
        self.timeout = max(MIN_SECONDS, MAIL_SECONDS / runs)
        self._last: tuple[Mail, object] | None = None   # recognises' key match, reused by parse

    def recognises(self, mail: Mail) -> bool:
        who = sender(mail, self._list_address)
        return bool(who) and matches(who, self._senders) and self._match(mail) is not None

    def parse(self, mail: Mail) -> Change:
        m = self._last[1] if self._last and self._last[0] is mail else self._match(mail)
        self._last = None
        ident = (m.group("id") or "").strip() if m else ""
        if not ident:
            raise Unparseable(f"the subject does not give a {self.system} ticket id (key regex {self.spec.key!r}): "
                              f"{mail.subject!r}")
        f = self.fields(mail)
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
            cc=people_addresses(f["cc"]) if "cc" in f else None,
            submitter=email_of(f.get("submitter")),
            actor=f.get("actor") or None,
            summary=first_line(f.get("summary") or mail.text),
            subject_token=subject_token(m.group()),
        )

    def fields(self, mail: Mail) -> dict[str, str]:
        """{field: its header's value, else the `value` group of its regex's first match in the body}."""
        out = {}
        for name, header in self._headers:
            value = mail.header(header)
            if value is not None:
                out[name] = value.strip()[:MAX_VALUE]
        body = self.body(mail.text or "")
        for name, rx in self._fields:
            if name in out:
                continue
            m = self._search(rx, body, name)
            if m and m.group("value") is not None:
                out[name] = m.group("value")[:MAX_VALUE].strip()
        return out

    def body(self, text: str) -> str:
        """The text the fields are read from: before `body_until`'s first match, or all of it."""
        m = self._search(self._until, text, "body_until") if self._until else None
        return text[:m.start()] if m else text

    def _match(self, mail: Mail):
        m = self._search(self._key, mail.clean_subject, "key") or self._search(self._key, mail.subject, "key")
        self._last = (mail, m)
        return m

    def _search(self, rx, text: str, field: str):
        try:
            return rx.search(text, timeout=self.timeout)
        except TimeoutError:
            raise RegexTimeout(self.system, field) from None


def _one(value: str) -> tuple[str, ...]:
    return () if value.strip().lower() in _NOBODY else (value.strip(),)


def _title(m) -> str:
    """The subject without the key and the separators that joined it to the title."""
    if not m:
        return ""
    left, right = around(m.string, m.start(), m.end())
    return " - ".join(p.strip() for p in (left, right) if p.strip())
