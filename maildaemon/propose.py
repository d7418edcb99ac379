"""`maildaemon init`: from a stream's recent mail to a commented team-file proposal (SPEC 11).

The pure part: `Survey.add(raw)` reads one `RawMail` the way `classify` does (the same decoder,
the same parsers in the same order, under the same CPU budget), keeps a few hundred bytes about it
and never raises; `Survey.proposal()` turns what was kept into the text of a team file. Reading
the stream (mbox, Maildir, IMAP) is `propose_cli.py`'s job.

What the proposal says, and from what:
- `trusted_senders`: per ticket system, the exact sender addresses of its notifications, read as
  `parse/trust.py` reads them (the one address of `From`; for mail whose `From` is the list, the
  topmost `X-Original-From`, else `Reply-To`). Only mails that look machine-made are counted
  (`Auto-Submitted: auto-…`, or the system's own headers: RT, Jira, GitHub), so a person answering
  a notification through the list is never proposed as a trusted sender; such senders, the list
  address itself, and unrecognised mail are named in comments.
- `list_address`: the address most mails name as the list: `List-Post` (and a `List-Id` that
  matches it) count most, `To`/`Cc`/`Delivered-To` less; GitHub's reply addresses never.
- `timezone`: the IANA zone, of a short list of common ones, whose UTC offset at each mail's Date
  matches the offset that Date header carries most often (DST taken into account); a guess, and
  the comment says so and gives the counts.
- `[[members]]`: people the parsed notifications (of proposed trusted senders only) name as
  assignees or as the actor of a change on a ticket they did not open. Names, addresses and logins
  of one person are joined when a mail links them (RT's `"Name via RT"` with `X-RT-Originator`,
  GitHub's display name with `X-GitHub-Sender`, `Name <address>` in a field, a bare user id equal
  to a login or to the local part of one known address). A person with no address seen, or only
  ever assigned and never acting (a support unit, the ticket system's own staff), is proposed
  commented out. Submitters, openers and CC are listed in a comment only.

Mail text is hostile (SPEC 9): every value from mail is cut to a bounded length, written into a
TOML basic string with every quote, backslash and control character escaped (`toml_string`), and
into comments only through `terminal.safe` (no line break, no control character), so no name can
add a key or a table. `proposal()` checks its own output with `config.team_from_dict` before
returning it.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_tz, mktime_tz
from zoneinfo import ZoneInfo

from maildaemon.config import team_from_dict
from maildaemon.limits import CLASSIFY_CPU_SECONDS, OutOfTime, cpu_limit
from maildaemon.model import CREATED, Change, Policy, RawMail, Team, valid_address
from maildaemon.parse import parsers_for, trust
from maildaemon.parse.base import RegexTimeout, Unparseable
from maildaemon.parse.mail import Mail, header_view, read_mail
from maildaemon.terminal import safe

MAX_TEXT = 200              # characters of a name, alias or value from mail kept
MAX_MEMBERS = 40            # people proposed (active or commented out)
MAX_ALIASES = 8
MAX_SENDERS = 12            # trusted senders per system
MAX_OTHERS = 15             # people listed in the closing comment

# Systems whose own headers mark their notifications (a person's reply carries none of them).
OWN_HEADERS = {"rt": ("X-RT-Ticket", "RT-Ticket"), "jira": ("X-JIRA-FingerPrint",),
               "github": ("X-GitHub-Reason", "X-GitHub-Sender")}
# Systems whose first mail for a ticket is its creation (SPEC 7.1); their opener is that mail's actor.
FIRST_MAIL_OPENS = ("goc", "ggus")
# Common zones, most likely first; a tie goes to the earlier one.
ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", "America/Phoenix",
         "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "America/St_Johns", "America/Mexico_City",
         "America/Bogota", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Santiago",
         "UTC", "Europe/London", "Europe/Berlin", "Europe/Helsinki", "Europe/Istanbul", "Europe/Moscow",
         "Africa/Lagos", "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Tehran", "Asia/Karachi",
         "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo",
         "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland")
_BOTS = {"root", "nobody", "rt_system", "system", "jira", "github", "automation for jira", "ghost"}

_BOUNCE_FROM = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_MAILTO = re.compile(r"<mailto:([^<>?\s]{1,320})[^<>]{0,2000}>", re.I)
_LIST_ID = re.compile(r"^\s*(?P<phrase>[^<>]{0,300}?)\s*<(?P<id>[^<>\s]{1,300})>\s*$")
_VIA = re.compile(r"\s+via\s+\S.*$", re.I)
_PAREN_TAIL = re.compile(r"\s*\([^()]{0,200}\)\s*$")
_JIRA_TAIL = re.compile(r"\s*\(jira\)\s*$", re.I)
_LOGIN = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_NAME_ADDR = re.compile(r"^\s*(?P<name>[^<>]{0,200}?)\s*<(?P<addr>[^<>\s]{1,320})>\s*$")


# --- TOML text ------------------------------------------------------------------------------

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# quote, backslash, C0, DEL, C1, line/paragraph separators, bidi controls, lone surrogates
_TOML_SPECIAL = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]')


def _toml_escape(m: re.Match) -> str:
    ch = m.group()
    if ch in _TOML_ESCAPES:
        return _TOML_ESCAPES[ch]
    if "\ud800" <= ch <= "\udfff":             # not a Unicode scalar: TOML cannot hold it
        return "\\uFFFD"
    return f"\\u{ord(ch):04X}"


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: every quote, backslash and control character escaped, so
    whatever a mail held, it stays one value (and prints without controlling a terminal)."""
    return '"' + _TOML_SPECIAL.sub(_toml_escape, str(value)) + '"'


def toml_array(values) -> str:
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def comment(text, limit: int = 300) -> str:
    """Text for a `# ...` comment: one line, no control character (terminal.safe), bounded."""
    s = safe(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _cut(value: str | None) -> str:
    return (value or "").strip()[:MAX_TEXT].strip()


# --- one mail -------------------------------------------------------------------------------

class _Headers:
    """The raw sender headers of a mail, enough for `trust.read_sender` once the list is known."""

    def __init__(self, values: dict[str, list[str]]):
        self.values = values

    def raw_headers(self, name: str) -> list[str]:
        return self.values.get(name.lower(), [])


@dataclass
class Seen:
    """What the survey keeps of one mail (a few hundred bytes)."""
    system: str | None = None        # the recognising parser's system
    change: Change | None = None     # None: not recognised, or it did not parse
    problem: str | None = None       # "too large", "unreadable: …", "unparseable (rt): …", "bounce", "auto-reply"
    senders: _Headers = field(default_factory=lambda: _Headers({}))
    machine: bool = False            # Auto-Submitted: auto-… or the system's own headers
    list_votes: tuple[tuple[str, int], ...] = ()
    list_ids: tuple[tuple[str, str], ...] = ()   # (phrase, id) of List-Id
    offset: int | None = None        # the Date header's UTC offset in minutes
    instant: datetime | None = None
    links: tuple[tuple[str, ...], ...] = ()      # mentions of one person: (name, email, @login) parts
    authserv: str | None = None


def _read(raw: RawMail) -> tuple[Mail, Seen]:
    if raw.oversize:
        return header_view(raw.data), Seen(problem="too large")
    return read_mail(raw.data), Seen()


def examine(raw: RawMail, parsers, cpu_seconds: float = CLASSIFY_CPU_SECONDS) -> Seen:
    """One mail, as `classify` would see it, short of trust. Never raises, never runs long."""
    mail = None
    try:
        with cpu_limit(cpu_seconds):
            mail, seen = _read(raw)
            _headers(mail, seen)
            if seen.problem is None:
                _recognise(mail, seen, parsers)
            return seen
    except OutOfTime:
        problem = f"time limit: more than {cpu_seconds:g} s of CPU"
    except RegexTimeout as e:
        problem = str(e)
    except RecursionError:
        problem = "unreadable: nested too deeply"
    except Exception as e:  # noqa: BLE001 - one mail never stops the survey
        problem = f"unreadable: {type(e).__name__}"
    seen = Seen(problem=problem)
    try:                                    # what the header section alone says
        with cpu_limit(cpu_seconds):
            _headers(header_view(raw.data), seen)
    except (OutOfTime, Exception):  # noqa: BLE001
        pass
    return seen


def _headers(mail: Mail, seen: Seen) -> None:
    seen.senders = _Headers({n.lower(): mail.raw_headers(n)[:2] for n in ("From", "X-Original-From", "Reply-To")})
    auto = (mail.header("Auto-Submitted") or "").strip().lower()
    seen.machine = auto.startswith("auto-") and not auto.startswith("auto-replied")
    votes: list[tuple[str, int]] = []
    for value in mail.headers("List-Post")[:1]:
        m = _MAILTO.search(value[:4000])
        if m:
            votes.append((m.group(1).lower(), 3))
    ids = []
    for value in mail.headers("List-Id")[:1]:
        m = _LIST_ID.match(value[:1000])
        if m:
            ids.append((" ".join(m.group("phrase").strip().strip('"').split()), m.group("id").lower()))
    seen.list_ids = tuple(ids)
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for value in mail.headers(name)[:2]:
            for _, addr in getaddresses([value[:4000]])[:20]:
                votes.append((addr.strip().lower(), 1))
    seen.list_votes = tuple(votes)
    date = (mail.header("Date") or "")[:200]
    parsed = parsedate_tz(date) if date else None
    if parsed and parsed[9] is not None:
        try:
            seen.instant = datetime.fromtimestamp(mktime_tz(parsed), timezone.utc)
            seen.offset = parsed[9] // 60
        except (OverflowError, ValueError, OSError):
            pass
    results = mail.headers("Authentication-Results")[:1]
    if results:
        server, _ = trust.parse_results(results[0])
        if server and re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,200}", server):
            seen.authserv = server


def _recognise(mail: Mail, seen: Seen, parsers) -> None:
    ctype = (mail.header("Content-Type") or "").lower()
    if (mail.content_type == "multipart/report" and "delivery-status" in ctype) or \
            (_BOUNCE_FROM.match(mail.from_addr) and not mail.has("X-RT-Ticket")):
        seen.problem = "bounce"
        return
    if (mail.header("Auto-Submitted") or "").lower().startswith("auto-replied"):
        seen.problem = "auto-reply"
        return
    parser = None
    for p in parsers:
        try:
            if p.recognises(mail):
                parser = p
                break
        except (RegexTimeout, OutOfTime, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - a recogniser that fails says no, as in classify
            continue
    if parser is None:
        return
    seen.system = parser.system
    if any(mail.has(h) for h in OWN_HEADERS.get(parser.system, ())):
        seen.machine = True
    try:
        seen.change = parser.parse(mail)
    except (RegexTimeout, OutOfTime, RecursionError):
        raise
    except Unparseable as e:
        seen.problem = f"unparseable ({parser.system}): {str(e)[:200]}"
        return
    except Exception as e:  # noqa: BLE001
        seen.problem = f"parser error ({parser.system}): {type(e).__name__}"
        return
    seen.links = tuple(_header_links(mail, parser.system))


def _header_links(mail: Mail, system: str):
    """(name, address, login) a mail's own headers tie together."""
    display = _cut(mail.from_name).strip('"').strip()
    if system == "rt":
        for name in ("X-RT-Originator", "RT-Originator"):
            found = [a.lower() for _, a in getaddresses([(mail.header(name) or "")[:1000]]) if valid_address(a)]
            person = _cut(_VIA.sub("", display))
            if found and person and " via " in display.lower():
                yield (person, found[0], "")
                break
    elif system == "github":
        login = _cut(mail.header("X-GitHub-Sender")).lstrip("@")
        if login and display and _LOGIN.fullmatch(login) and display.lower() != login.lower():
            yield (display, "", "@" + login)


# --- people ---------------------------------------------------------------------------------

def _name_key(name: str) -> str:
    bare = _PAREN_TAIL.sub("", name) or name
    return " ".join(bare.casefold().split())


def mention(who: str | None) -> tuple[str, str, str]:
    """How a ticket system names a person, as (name, address, login); '' where absent.

    'Ada Lovelace <ada@x.org>' -> ('Ada Lovelace', 'ada@x.org', ''); '@ada' -> ('', '', '@ada');
    'alovelace' (a user id) -> ('', '', 'alovelace'); 'Ada Lovelace (GOC)' -> ('Ada Lovelace (GOC)', '', '')."""
    who = _cut(who).strip('"').strip()
    if not who:
        return "", "", ""
    m = _NAME_ADDR.match(who)
    if m:
        addr = m.group("addr").lower()
        return _cut(m.group("name").strip('"')), addr if valid_address(addr) else "", ""
    if valid_address(who):
        return "", who.lower(), ""
    if _LOGIN.fullmatch(who) and "@" not in who[1:]:
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


# --- the survey -----------------------------------------------------------------------------

class Survey:
    """Feed it mails (`add`), then ask for the proposal text (`proposal`)."""

    def __init__(self, cpu_seconds: float = CLASSIFY_CPU_SECONDS):
        self.cpu_seconds = cpu_seconds
        self.parsers = parsers_for(Team(name="init", timezone="UTC", list_address="", from_address=""))
        self.seen: list[Seen] = []
        self.notes: list[str] = []          # e.g. "stopped after 120 s"

    def add(self, raw: RawMail) -> None:
        self.seen.append(examine(raw, self.parsers, self.cpu_seconds))

    # ---- the findings ----

    def list_address(self) -> tuple[str | None, str]:
        """The list's address and why (for the comment)."""
        ids = {i for s in self.seen for _, i in s.list_ids}
        score: Counter = Counter()
        posts: Counter = Counter()
        for s in self.seen:
            for addr, weight in set(s.list_votes):
                if not valid_address(addr) or _not_a_list(addr):
                    continue
                local, _, domain = addr.partition("@")
                score[addr] += weight + (2 if weight == 3 and f"{local}.{domain}" in ids else 0)
                posts[addr] += weight == 3
        if not score:
            return None, "no List-Post, List-Id or To address seen"
        best, _ = max(score.items(), key=lambda kv: (kv[1], kv[0]))
        n = sum(1 for s in self.seen if any(a == best for a, _ in s.list_votes))
        return best, f"named by {n} of {len(self.seen)} mails ({posts[best]} in List-Post)"

    def team_name(self, list_address: str | None) -> str:
        local, _, domain = (list_address or "").partition("@")
        ours = f"{local}.{domain}"          # the list's own List-Id, not GitHub's per-repository one
        phrases = Counter(p for s in self.seen for p, i in s.list_ids if p and i == ours) or \
            Counter(p for s in self.seen for p, i in s.list_ids if p and not i.endswith(".github.com"))
        if phrases:
            return _cut(phrases.most_common(1)[0][0])
        return (list_address or "support stream").partition("@")[0]

    def sender(self, s: Seen, list_address: str | None) -> trust.Sender:
        return trust.read_sender(s.senders, list_address or "")

    def zone(self) -> tuple[str, str]:
        dated = [(s.instant, s.offset) for s in self.seen if s.instant is not None and s.offset is not None]
        offsets = Counter(o for _, o in dated)
        if not dated:
            return "UTC", "a guess: no Date header could be read; set your team's zone"
        scores = []
        for i, name in enumerate(ZONES):
            tz = ZoneInfo(name)
            hits = sum(1 for at, off in dated if tz.utcoffset(at.astimezone(tz)) == timedelta(minutes=off))
            scores.append((hits, -i, name))
        scores.sort(reverse=True)
        hits, _, best = scores[0]
        top = ", ".join(f"{_offset(o)} ×{c}" for o, c in offsets.most_common(4))
        if hits == 0:
            off = offsets.most_common(1)[0][0]
            best = "UTC" if off == 0 else (f"Etc/GMT{-off // 60:+d}" if off % 60 == 0 else "UTC")
            also = ""
        else:
            ties = [n for h, _, n in scores[1:] if h == hits][:3]
            also = f"; as good a fit: {', '.join(ties)}" if ties else ""
        return best, (f"a guess: {hits} of {len(dated)} Date headers fit it ({top}){also}; "
                      "set the zone your team works in")

    def _accepted(self, list_address: str | None):
        """(seen, sender) of the machine-made, parsed notifications; and of the others recognised."""
        good, other = [], []
        for s in self.seen:
            if s.system is None:
                continue
            who = self.sender(s, list_address)
            ok = (s.change is not None and s.machine and not who.problem and who.address
                  and who.address != (list_address or "") and _sender_ok(who.address))
            (good if ok else other).append((s, who))
        return good, other

    def people(self, accepted) -> tuple[list[Person], str | None, str | None]:
        """The people the accepted notifications name, the triage pseudo-user and its next action."""
        reg = _People()
        rows = []       # (ticket key, role, representative, change)
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
        groups = reg.groups()
        persons: dict[str, Person] = {}
        for root, ids in groups.items():
            names, emails, logins = Counter(), Counter(), Counter()
            for x in ids:
                if x.startswith("n:"):
                    names.update(reg.names[x])
                elif x.startswith("e:"):
                    emails[x[2:]] += 1
                else:
                    logins.update(reg.names[x])
            persons[root] = Person(ids, names, emails, logins)

        def person(rep):
            return persons[reg.find(rep)] if rep else None

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
        unique = list(persons.values())
        triage = [p for p in unique if _is_triage(p, self._list_local)]
        triage_ids = {id(p) for p in triage}
        triage_user = None
        if triage:
            best = max(triage, key=lambda p: (len(p.assigned), p.name))
            names = [n for n in best.names if "triage" in n.casefold()] or list(best.names)
            triage_user = max(names, key=lambda n: best.names[n]) if names else None
        actions = Counter(s.change.next_action.strip() for s, _ in accepted
                          if s.change.next_action and "triage" in s.change.next_action.casefold())
        next_action = _cut(actions.most_common(1)[0][0]) if actions else None
        people = [p for p in unique if id(p) not in triage_ids and not _is_bot(p)]
        return people, triage_user, next_action

    # ---- the text ----

    def proposal(self, source: str) -> str:
        list_address, list_why = self.list_address()
        self._list_local = (list_address or "").partition("@")[0].lower()
        accepted, others = self._accepted(list_address)
        zone, zone_why = self.zone()
        people, triage_user, next_action = self.people(accepted)
        text = _render(self, source, list_address, list_why, accepted, others, zone, zone_why,
                       people, triage_user, next_action)
        team_from_dict(tomllib.loads(text))         # what we propose must load (a failure is our bug)
        return text

    _list_local = ""


def _actor_mention(actor: str) -> tuple[str, str, str]:
    """An actor as parsers write it; Jira's `(Jira)` and a `via <list>` tail taken off."""
    name, addr, login = mention(actor)
    if name:
        name = _cut(_JIRA_TAIL.sub("", name))
    return name, addr, login


def _not_a_list(addr: str) -> bool:
    local, _, domain = addr.partition("@")
    return domain == "github.com" or domain.endswith(".github.com") or local.startswith(("reply+", "unsub+"))


def _base_domain(addr: str) -> str:
    """The last two labels of an address's domain (`rt.example.org` -> `example.org`): crude, and
    enough to tell a system's own senders from a stranger's."""
    return ".".join(addr.rpartition("@")[2].split(".")[-2:])


def _sender_ok(addr: str) -> bool:
    """An address config.py accepts in trusted_senders."""
    return valid_address(addr) and bool(re.fullmatch(r"[^@\s*]+@[^@\s*]+", addr))


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


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _slug(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_.lower()))[:40] or "someone"


# --- rendering ------------------------------------------------------------------------------

def _render(survey: Survey, source, list_address, list_why, accepted, others, zone, zone_why,
            people, triage_user, next_action) -> str:
    seen = survey.seen
    out: list[str] = []
    w = out.append
    w("# Team file proposed by `maildaemon init` (SPEC 11, \"Starting a team\").")
    w(f"# Read: {comment(source)}.")
    for note in survey.notes:
        w(f"# {comment(note)}")
    w("# Review every line marked CONFIRM, then store a rotation (`maildaemon rotation load FILE`)")
    w("# and run `maildaemon check`. Keys and their meaning: README.md, \"Team file\".")
    w("#")
    w("# Ticket systems seen (mails recognised, notifications read):")
    systems: dict[str, list[Seen]] = defaultdict(list)
    for s in seen:
        if s.system:
            systems[s.system].append(s)
    for name in sorted(systems, key=lambda n: (-len(systems[n]), n)):
        group = systems[name]
        parsed = sum(1 for s in group if s.change is not None)
        tickets = len({s.change.key for s in group if s.change is not None})
        w(f"#   {name}: {_n(len(group), 'mail')}, {parsed} read, {_n(tickets, 'ticket')}")
    if not systems:
        w("#   none: no mail of a ticket system maildaemon knows (SPEC 7)")
    unknown = [s for s in seen if s.system is None and s.problem is None]
    if unknown:
        senders = Counter(survey.sender(s, list_address).address or "(no usable From)" for s in unknown)
        top = ", ".join(f"{a} ×{c}" for a, c in senders.most_common(5))
        w(f"#   not recognised: {_n(len(unknown), 'mail')} ({comment(top)}); a ticket system that is not in")
        w("#   SPEC 7 can be described in [[systems]] (README, \"Your own system\")")
    problems = Counter(s.problem.partition(":")[0] for s in seen if s.problem)
    if problems:
        w("#   not read: " + comment(", ".join(f"{p} ×{c}" for p, c in sorted(problems.items()))))
    w("")
    w("[team]")
    w(f"name = {toml_string(survey.team_name(list_address))}  # CONFIRM: the team's name, from the List-Id")
    w(f"timezone = {toml_string(zone)}  # {comment(zone_why)}")
    if list_address:
        w(f"list_address = {toml_string(list_address)}  # {comment(list_why)}")
        local, _, domain = list_address.partition("@")
        from_address = f"{local}-triage@{domain}"
    else:
        w('list_address = "support-stream@example.org"  # CONFIRM: no list address seen; the stream\'s address')
        from_address = "support-triage@example.org"
    w(f"from_address = {toml_string(from_address)}  # CONFIRM: the From of every mail maildaemon sends "
      "(an address you may send from, not the list)")
    if triage_user:
        w(f"triage_user = {toml_string(triage_user)}  # the ticket systems' pseudo-user for the list (a guess)")
    else:
        w('# triage_user = "Software Support (Triage)"  # the ticket systems\' pseudo-user for the list; none seen')
    if next_action:
        w(f"triage_next_action = {toml_string(next_action)}  # the GOC next action that means \"triage it\"")
    else:
        w('# triage_next_action = "SOFTWARE TRIAGE"  # the GOC next action that means "triage it"; none seen')
    w("# Senders whose notifications are accepted (exact addresses seen; \"*@domain\" trusts a whole domain).")
    w("trusted_senders = [")
    good_by: dict[str, Counter] = defaultdict(Counter)
    for s, who in accepted:
        good_by[s.system][who.address] += 1
    listed: set[str] = set()
    for name in sorted(good_by, key=lambda n: (-sum(good_by[n].values()), n)):
        w(f"    # {name}: {_n(sum(good_by[name].values()), 'notification')}")
        top, top_n = good_by[name].most_common(1)[0]
        for addr, n in good_by[name].most_common(MAX_SENDERS):
            if addr in listed:
                w(f"    # {comment(addr)} (above): {n}")
            elif _base_domain(addr) == _base_domain(top) or n >= max(2, top_n / 5):
                listed.add(addr)
                w(f"    {toml_string(addr)},  # {n}")
            else:       # a rare sender of another domain: the operator decides (a forgery?)
                w(f"    # {toml_string(addr)},  # {n}; CONFIRM: rare, and not the domain of {comment(top)}")
    w("]")
    left = Counter()
    for s, who in others:
        if who.address and who.address not in good_by.get(s.system, ()):
            left[(s.system, who.address)] += 1
    for (name, addr), n in left.most_common(8):
        why = "the list itself: its rewritten From says nothing" if addr == list_address else \
            "not machine-made (no Auto-Submitted) or not readable: a person's mail?"
        w(f"# not proposed: {comment(addr)} ({name}, {n} mails): {why}")
    w('# holidays = "US"              # public holidays that are not duty days (a country code)')
    w('duty_start = "mon"')
    w('work_hours = "09:00-17:00"     # business hours on duty days')
    auth = Counter(s.authserv for s, _ in accepted if s.authserv)
    w("require_authentication = false  # true: trust a sender only with dkim=pass or spf=pass (SPEC 9)")
    if auth:
        server, n = auth.most_common(1)[0]
        w(f"# authserv_id = {toml_string(server)}  # in the Authentication-Results of {n} notifications; "
          "required with require_authentication = true")
    else:
        w('# authserv_id = "mx.example.org"  # your mail server\'s id in Authentication-Results; required with '
          "require_authentication = true")
    w("")
    p = Policy()
    w("[policy]  # the defaults")
    w(f"unassigned_after_hours = {p.unassigned_after_hours:g}  # business hours before an unassigned ticket is reported")
    w(f"stale_after_days = {p.stale_after_days}  # business days without a team update before the owner is reminded")
    w(f"user_wait_days = {p.user_wait_days}  # business days waiting on the user before the user is reminded")
    w(f"user_close_days = {p.user_close_days}  # ... before the owner is told to close (above user_wait_days)")
    w(f"repeat_after_days = {p.repeat_after_days}  # business days before the same reminder is sent again")
    w("reminder_times = " + toml_array(t.strftime("%H:%M") for t in p.reminder_times) + "  # local times on duty days")
    w(f'announce_time = "{p.announce_time[0]} {p.announce_time[1]:%H:%M}"  # the week\'s duty announcement')
    w(f'handoff_time = "{p.handoff_time[0]} {p.handoff_time[1]:%H:%M}"  # when the week is handed over')
    w("")
    _render_members(w, people)
    w("")
    w("# [[outages]]  # a member away: no duty, no reminders")
    w('# member = "someone@example.org"')
    w("# start = 2026-12-21")
    w("# end = 2027-01-01  # inclusive")
    w("")
    w("# [[meetings]]  # listed in the incoming person's handoff")
    w('# day = "wed"')
    w('# time = "16:00"')
    w('# name = "Operations meeting"')
    return "\n".join(out) + "\n"


def _render_members(w, people: list[Person]) -> None:
    def strength(p: Person):        # the likely members first, then those to fill in or decide
        return (bool(p.email and p.acted), p.acted + len(p.assigned), p.acted, p.name.casefold())

    team = sorted((p for p in people if p.acted or p.assigned), key=strength, reverse=True)[:MAX_MEMBERS]
    chosen = {id(p) for p in team}
    rest = [p for p in people if id(p) not in chosen]
    w("# Members: people the notifications name as assignees, or as acting on tickets they did not")
    w("# open. CONFIRM each (remove who is not on the team; rotation = false: a member never on duty).")
    w("# Commented out: no address seen (fill it in), or only ever assigned, never acting (a support")
    w("# unit or the ticket system's staff?).")
    used: set[str] = set()
    for p in team:
        email = p.email
        active = bool(email) and p.acted > 0 and email not in used
        if active:
            used.add(email)
        lead = "" if active else "# "
        evidence = [f"acted {p.acted}" if p.acted else "never acting",
                    f"assigned to {_n(len(p.assigned), 'ticket')}" if p.assigned else "",
                    "in " + ", ".join(sorted(p.systems))]
        w("")
        w(f"{lead}[[members]]  # {comment('; '.join(x for x in evidence if x))}")
        w(f"{lead}name = {toml_string(p.name)}")
        if email:
            w(f"{lead}email = {toml_string(email)}")
        else:
            w(f"{lead}email = {toml_string(_slug(p.name) + '@example.invalid')}  # CONFIRM: no address seen")
        aliases = p.aliases()
        if aliases:
            w(f"{lead}aliases = {toml_array(aliases)}")
        w(f"{lead}rotation = true")
    if rest:
        w("")
        w("# Also named (submitters, openers, CC; not proposed):")
        rest.sort(key=lambda p: (-(len(p.submitted) + p.own + p.cc), p.name.casefold()))
        for p in rest[:MAX_OTHERS]:
            who = p.name + (f" <{p.email}>" if p.email and p.email != p.name else "")
            roles = [f"opened {len(p.submitted)}" if p.submitted else "", f"updates {p.own}" if p.own else "",
                     f"cc {p.cc}" if p.cc else ""]
            w(f"#   {comment(who, 120)}: {', '.join(r for r in roles if r) or 'named'}")
        if len(rest) > MAX_OTHERS:
            w(f"#   and {len(rest) - MAX_OTHERS} more")
