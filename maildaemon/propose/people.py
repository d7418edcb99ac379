"""`init`'s guess at the team: the people the sample's notifications name, joined across systems.

A person is named by a ticket system as a name, an address or a login (`Ada Lovelace <ada@x>`,
`@ada`, `alovelace`); `_People` joins the three when a mail links them (RT's `"Name via RT"` with
`X-RT-Originator`, GitHub's display name with `X-GitHub-Sender`, `Name <address>` in a field, a bare
user id equal to a login or to the local part of one known address). Each `Person` then counts how
it was named: assigned, acting on a ticket it did not open, opening, in CC.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from maildaemon.model import CREATED, valid_address
from maildaemon.propose.toml_text import cut

MAX_ALIASES = 8
# Systems whose first mail for a ticket is its creation (SPEC 7.1); their opener is that mail's actor.
FIRST_MAIL_OPENS = ("goc", "ggus")
LOGIN = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_BOTS = {"root", "nobody", "rt_system", "system", "jira", "github", "automation for jira", "ghost"}
_PAREN_TAIL = re.compile(r"\s*\([^()]{0,200}\)\s*$")
_JIRA_TAIL = re.compile(r"\s*\(jira\)\s*$", re.I)
_NAME_ADDR = re.compile(r"^\s*(?P<name>[^<>]{0,200}?)\s*<(?P<addr>[^<>\s]{1,320})>\s*$")

def _name_key(name: str) -> str:
    bare = _PAREN_TAIL.sub("", name) or name
    return " ".join(bare.casefold().split())


def mention(who: str | None) -> tuple[str, str, str]:
    """How a ticket system names a person, as (name, address, login); '' where absent.

    'Ada Lovelace <ada@x.org>' -> ('Ada Lovelace', 'ada@x.org', ''); '@ada' -> ('', '', '@ada');
    'alovelace' (a user id) -> ('', '', 'alovelace'); 'Ada Lovelace (GOC)' -> ('Ada Lovelace (GOC)', '', '')."""
    who = cut(who).strip('"').strip()
    if not who:
        return "", "", ""
    m = _NAME_ADDR.match(who)
    if m:
        addr = m.group("addr").lower()
        return cut(m.group("name").strip('"')), addr if valid_address(addr) else "", ""
    if valid_address(who):
        return "", who.lower(), ""
    if LOGIN.fullmatch(who) and "@" not in who[1:]:
        return "", "", who
    return who, "", ""


class _People:
    """Union-find over identifiers: `n:<name key>`, `e:<address>`, `l:<login>`."""

    def __init__(self):
        self.parent: dict[str, str] = {}
        self.names: dict[str, Counter] = defaultdict(Counter)     # identifier -> display forms

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def add(self, name: str, addr: str, login: str) -> str | None:
        """The identifiers of one mention, joined; its representative (None for nobody)."""
        ids = []
        if name and _name_key(name):
            ids.append("n:" + _name_key(name))
            self.names[ids[-1]][name] += 1
        if addr:
            ids.append("e:" + addr)
        if login:
            ids.append("l:" + login.lstrip("@").lower())
            self.names[ids[-1]][login] += 1
        for other in ids[1:]:
            self.union(ids[0], other)
        return self.find(ids[0]) if ids else None

    def join_local_parts(self) -> None:
        """A bare user id equal to the local part of exactly one address is that address's owner
        (RT's owner `ada`, people.py's rule)."""
        by_local: dict[str, list[str]] = defaultdict(list)
        for x in list(self.parent):
            if x.startswith("e:"):
                by_local[x[2:].partition("@")[0]].append(x)
        for x in list(self.parent):
            if x.startswith("l:") and len(by_local.get(x[2:], ())) == 1:
                self.union(x, by_local[x[2:]][0])

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for x in list(self.parent):
            out[self.find(x)].append(x)
        return out


@dataclass
class Person:
    identifiers: list[str]
    names: Counter
    emails: Counter
    logins: Counter
    assigned: set = field(default_factory=set)     # ticket keys
    acted: int = 0                                 # changes on tickets they did not open
    own: int = 0                                   # changes on tickets they opened
    cc: int = 0
    submitted: set = field(default_factory=set)
    systems: Counter = field(default_factory=Counter)

    @property
    def name(self) -> str:
        full = [(n, c) for n, c in self.names.items() if " " in n.strip()]
        pool = full or list(self.names.items())
        if pool:
            return max(pool, key=lambda nc: (nc[1], -len(nc[0]), nc[0]))[0]
        if self.emails:
            return self.emails.most_common(1)[0][0]
        return next(iter(self.logins), "")

    @property
    def email(self) -> str | None:
        return max(self.emails.items(), key=lambda ec: (ec[1], ec[0]))[0] if self.emails else None

    def aliases(self) -> list[str]:
        """Other names, `@logins` and user ids the systems use for this person: what people.py
        needs to map them (a user id equal to an `@login` or to the address's local part is
        matched already and left out)."""
        name, email = self.name, self.email
        local = email.partition("@")[0].lower() if email else ""
        at_logins = {x[1:].lower() for x in self.logins if x.startswith("@")}
        out, keys = [], {_name_key(name)}
        for login, _ in self.logins.most_common():
            bare = login.lstrip("@").lower()
            if not login.startswith("@") and (bare in at_logins or bare == local):
                continue
            if login.lower() not in keys:
                keys.add(login.lower())
                out.append(login)
        for other, _ in self.names.most_common():
            key = _name_key(other)
            if key and key not in keys:
                keys.add(key)
                out.append(other)
        return out[:MAX_ALIASES]


def find_people(accepted, list_local: str) -> tuple[list[Person], str | None, str | None]:
    """The people the accepted notifications ((Seen, sender) pairs) name, the triage pseudo-user
    (named like the list, `list_local` being its address's local part) and its next action."""
    reg, rows = _mentions(accepted)
    persons = _persons(reg)

    def person(rep):
        return persons[reg.find(rep)] if rep else None

    _count(rows, person)
    unique = list(persons.values())
    triage = [p for p in unique if _is_triage(p, list_local)]
    triage_ids = {id(p) for p in triage}
    triage_user = None
    if triage:
        best = max(triage, key=lambda p: (len(p.assigned), p.name))
        names = [n for n in best.names if "triage" in n.casefold()] or list(best.names)
        triage_user = max(names, key=lambda n: best.names[n]) if names else None
    actions = Counter(s.change.next_action.strip() for s, _ in accepted
                      if s.change.next_action and "triage" in s.change.next_action.casefold())
    next_action = cut(actions.most_common(1)[0][0]) if actions else None
    people = [p for p in unique if id(p) not in triage_ids and not _is_bot(p)]
    return people, triage_user, next_action


def _mentions(accepted) -> tuple[_People, list[tuple]]:
    """Every mention of a person, joined where a mail links them; and (ticket key, role,
    representative, change) for each."""
    reg = _People()
    rows = []
    for s, _ in accepted:
        c = s.change
        for name, addr, login in s.links:
            reg.add(name, addr, login)
        for who in (c.assignees or ()) + tuple(c.assignees_added):
            rows.append((c.key, "assigned", reg.add(*mention(who)), c))
        if c.actor:
            rows.append((c.key, "actor", reg.add(*_actor_mention(c.actor)), c))
        if c.submitter:
            rows.append((c.key, "submitter", reg.add(*mention(c.submitter)), c))
        for who in c.cc or ():
            rows.append((c.key, "cc", reg.add(*mention(who)), c))
    reg.join_local_parts()
    return reg, rows


def _persons(reg: _People) -> dict[str, Person]:
    """One `Person` per group of joined identifiers, by the group's representative."""
    persons: dict[str, Person] = {}
    for root, ids in reg.groups().items():
        names, emails, logins = Counter(), Counter(), Counter()
        for x in ids:
            if x.startswith("n:"):
                names.update(reg.names[x])
            elif x.startswith("e:"):
                emails[x[2:]] += 1
            else:
                logins.update(reg.names[x])
        persons[root] = Person(ids, names, emails, logins)
    return persons


def _count(rows, person) -> None:
    """Each person's counts: a change by whoever opened its ticket is their own, not acting."""
    openers: dict[str, set] = defaultdict(set)
    first: dict[str, tuple] = {}
    for key, role, rep, c in rows:
        p = person(rep)
        if p is None:
            continue
        if role == "submitter" or (role == "actor" and CREATED in c.kinds):
            openers[key].add(id(p))
        if role == "actor" and c.system in FIRST_MAIL_OPENS and (key not in first or c.at < first[key][0]):
            first[key] = (c.at, p)
    for key, (_, p) in first.items():
        openers[key].add(id(p))
    for key, role, rep, c in rows:
        p = person(rep)
        if p is None:
            continue
        p.systems[c.system] += 1
        if role == "assigned":
            p.assigned.add(key)
        elif role == "actor":
            if id(p) in openers[key]:
                p.own += 1
            else:
                p.acted += 1
        elif role == "submitter":
            p.submitted.add(key)
        else:
            p.cc += 1


def _actor_mention(actor: str) -> tuple[str, str, str]:
    """An actor as parsers write it; Jira's `(Jira)` and a `via <list>` tail taken off."""
    name, addr, login = mention(actor)
    if name:
        name = cut(_JIRA_TAIL.sub("", name))
    return name, addr, login


def _is_triage(p: Person, list_local: str) -> bool:
    for n in p.names:
        if "triage" in n.casefold():
            return True
    for x in list(p.logins) + list(p.emails):
        bare = x.lstrip("@").lower()
        local = bare.partition("@")[0]
        if list_local and (local == list_local or bare.endswith("-" + list_local)):
            return True
    return False


def _is_bot(p: Person) -> bool:
    forms = [n.casefold() for n in p.names] + [x.lstrip("@").casefold() for x in p.logins]
    return any(f in _BOTS or f.endswith("[bot]") for f in forms)
