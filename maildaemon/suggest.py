"""Suggested owners (SPEC 10, issue 12): who owned similar tickets, weighed by load, never someone away.

Pure: tickets, the team and `now` in, plain data out; no clock, no I/O.

The model learns from every ticket the stream knows that has an owner (`Ticket.owner`, a member
email) and answers, for an unowned open ticket, up to two members, best first:

    {"email": "ada@example.org", "reason": "owned 4 tickets with 'cvmfs' in the title, 2 open now",
     "score": 0.71}

Evidence of four kinds, each the member's share of the past tickets that have it, times a
confidence that grows with their number (n / (n + 1)), weighted by WEIGHTS and summed:

- title: TF-IDF over title words, standard library only (words of letters, lower case; stop
  words, numbers and ids dropped; a light suffix stemmer; binary term frequency, smooth idf,
  squared as in a cosine): for each word of the title, each owner's share of the owned tickets
  whose titles have it, averaged with the words' weights (rare words count, "fails" hardly);
- submitter: the tickets of the same submitter address, and (weaker) of the same mail domain
  (free-mail domains such as gmail.com say nothing and are skipped);
- queue: the same system and project (the key's prefix: `jira:soft`, `github:org/repo`; for
  systems whose ids are plain numbers, such as GOC and RT, the system itself).

The sum is divided by (1 + LOAD_WEIGHT * load / (1 + mean load of the members who may be
suggested)), load being the tickets the member owns now that are not resolved or closed ("2 open
now" in the reason is that figure). The reason names the two strongest kinds of evidence. `score`
is that quotient, rounded (0 .. about 2; only its order means something).
Never suggested: a member away today (when today is a business day) or on the next business day
(team outages), a member with `suggest = false` in the team file, anyone not in the team file,
a member with no evidence at all. Ties: the lower load, then the team file's order.

Cost (bench/suggest_bench.py): a model of 12,500 tickets builds in about 0.05 s (0.15 s when
every title is different), 300 suggestions take under 0.02 s, one `update` under 10 µs. A daemon
builds once and calls `update` with every ticket `apply` returns (or rebuilds per tick).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from itertools import chain
from datetime import datetime
from typing import Iterable, NamedTuple

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Team, Ticket
from maildaemon.people import outage_on

LIMIT = 2                  # suggestions per ticket
WEIGHTS = {"title": 1.0, "submitter": 0.6, "domain": 0.3, "queue": 0.15}
LOAD_WEIGHT = 0.5
TITLE_CHARS = 400          # a title is read up to here (hostile titles: megabytes, thousands of words)
TITLE_WORDS = 40           # distinct words kept per title

STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren as at be because been before being
below between both but by can cannot could did didn do does doesn doing don down during each few
for from further had has have having he her here hers him his how i if in into is isn it its itself
just me more most my no nor not now of off on once only or other our ours out over own same she
should so some such than that the their them then there these they this those through to too
under until up very was wasn we were what when where which while who whom why will with won would
you your yours re fw fwd aw wg sv tr ticket tickets issue issues please help problem question
hi hello thanks thank regarding request new urgent id
""".split())

FREE_MAIL = frozenset("""
gmail.com googlemail.com yahoo.com hotmail.com outlook.com live.com msn.com aol.com icloud.com
me.com mail.com gmx.de gmx.net web.de proton.me protonmail.com yandex.ru qq.com 163.com
""".split())

_WORD = re.compile(r"[^\W_]+")
CACHE = 50_000             # titles and words remembered (a daemon sees the same titles again and again)
_TITLES: dict[str, frozenset[str]] = {}
_WORDS: dict[str, str | None] = {}
_SURFACE: dict[str, str] = {}
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s")


def stem(word: str) -> str:
    """A light suffix stripper: fails, failed, failing -> fail; certificates -> certificat."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "ies":
                return word[:-3] + "y"
            return word[:-len(suffix)]
    return word


def words(title: str | None) -> frozenset[str]:
    """The title's distinct informative words, stemmed: no stop words, numbers or ids."""
    if not title:
        return frozenset()
    text = title[:TITLE_CHARS]
    known = _TITLES.get(text)
    if known is not None:
        return known
    title = text
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    out: set[str] = set()
    for w in _WORD.findall(text):
        v = _WORDS.get(w, "")
        if v == "":
            v = _WORDS[w] = _word(w)
            if len(_WORDS) > CACHE:
                _WORDS.clear()
                _SURFACE.clear()
        if v is not None:
            out.add(v)
            if len(out) >= TITLE_WORDS:
                break
    result = frozenset(out)
    if len(_TITLES) > CACHE:
        _TITLES.clear()
    _TITLES[title] = result
    return result


def _word(w: str) -> str | None:
    """One lower-case word as the model keeps it, or None: stop words, numbers and ids go."""
    if len(w) < 2 or len(w) > 30 or w in STOP_WORDS:
        return None
    if not w.isalpha():
        digits = sum(c.isdigit() for c in w)
        if digits == len(w) or (digits >= 2 and len(w) >= 6):
            return None                                 # 41234, 2026, 3fa8e21c (x509, el9, python3 stay)
    stemmed = stem(w)
    if stemmed in STOP_WORDS:
        return None
    _SURFACE.setdefault(stemmed, w)
    return stemmed


def surface(word: str) -> str:
    """A word as titles write it (the first form seen of a stemmed word in this process)."""
    return _SURFACE.get(word, word)


def surfaces(title: str | None) -> dict[str, str]:
    """stem -> the word as this title writes it (the reason quotes the new ticket's own word, so
    it never depends on which titles the process happened to read first)."""
    text = (title or "")[:TITLE_CHARS]
    text = (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()
    out: dict[str, str] = {}
    for w in _WORD.findall(text):
        v = _word(w)
        if v is not None:
            out.setdefault(v, w)
    return out


def domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    d = address.rpartition("@")[2].strip().lower().rstrip(">")
    return None if not d or d in FREE_MAIL else d


def queue(t: Ticket) -> str:
    """The system and project: `jira:SOFT`, `github:org/repo`; `goc`, `rt` when ids are numbers."""
    ident = t.id or ""
    for sep in ("#", "-"):
        head, found, _ = ident.rpartition(sep)
        if found and head:
            return f"{t.system}:{head.lower()}"
    return t.system


def wants_suggestion(t: Ticket) -> bool:
    """An unowned ticket that is not resolved or closed."""
    return t.owner is None and t.status not in DONE_STATUSES


class _Doc(NamedTuple):
    """What the model keeps of one ticket (a tuple: a frozen dataclass costs a build twice)."""
    owner: str | None          # lower-case member email, or None
    open: bool
    words: frozenset[str]
    submitter: str | None
    domain: str | None
    queue: str


def _doc(t: Ticket) -> _Doc:
    submitter = t.submitter.strip().lower() if t.submitter else None
    return _Doc(t.owner.lower() if t.owner else None, t.status not in DONE_STATUSES, words(t.title),
                submitter or None, domain(submitter), queue(t))


class Suggester:
    """The model: counts kept up to date ticket by ticket. Build with `Suggester(team, tickets)`,
    keep current with `update(ticket)` (adds, or replaces that key's earlier version), ask with
    `suggest(ticket, now)` or `suggest_all(tickets, now)`."""

    def __init__(self, team: Team, tickets: Iterable[Ticket] = ()):
        self.team = team
        self._docs: dict[str, _Doc] = {}
        self._df: dict[str, int] = {}                              # word -> tickets with it (all tickets)
        self._words: dict[str, dict[str, int]] = {}                # title word -> owner -> tickets
        self._submitter: dict[str, dict[str, int]] = {}             # address -> owner -> tickets
        self._domain: dict[str, dict[str, int]] = {}
        self._queue: dict[str, dict[str, int]] = {}
        self._load: dict[str, int] = {}                             # owner -> open tickets owned now
        self._build(tickets)

    def __len__(self) -> int:
        return len(self._docs)

    # --- keeping the counts ---------------------------------------------------------------

    def _build(self, tickets: Iterable[Ticket]) -> None:
        """All counts at once: the same as `update` for each ticket, counted owner by owner with
        Counter (in C) rather than one dict update at a time, and few objects made."""
        docs = self._docs
        for t in tickets:
            docs[t.key] = _doc(t)
        self._df = dict(Counter(chain.from_iterable(d.words for d in docs.values())))
        by_owner: dict[str, list[_Doc]] = defaultdict(list)
        for d in docs.values():
            if d.owner:
                by_owner[d.owner].append(d)
        for owner, mine in by_owner.items():
            self._load[owner] = sum(d.open for d in mine)
            for table, counts in (
                    (self._words, Counter(chain.from_iterable(d.words for d in mine))),
                    (self._submitter, Counter(d.submitter for d in mine if d.submitter)),
                    (self._domain, Counter(d.domain for d in mine if d.domain)),
                    (self._queue, Counter(d.queue for d in mine))):
                for value, n in counts.items():
                    per = table.get(value)
                    if per is None:
                        table[value] = {owner: n}
                    else:
                        per[owner] = n
            if not self._load[owner]:
                del self._load[owner]

    def update(self, t: Ticket) -> None:
        """Take in a ticket's current state (new, or a later version of a known key)."""
        doc = _doc(t)
        old = self._docs.get(t.key)
        if old == doc:
            return
        if old is not None:
            self._count(old, -1)
        self._docs[t.key] = doc
        self._count(doc, +1)

    def discard(self, key: str) -> None:
        old = self._docs.pop(key, None)
        if old is not None:
            self._count(old, -1)

    def _count(self, d: _Doc, n: int) -> None:
        """Add (n = 1) or take back (n = -1) one ticket's counts. Plain dicts: a Counter's
        constructor alone would be most of a build."""
        df = self._df
        for w in d.words:
            v = df.get(w, 0) + n
            if v > 0:
                df[w] = v
            else:
                df.pop(w, None)
        owner = d.owner
        if owner is None:
            return
        if d.open:
            _add(self._load, owner, n)
        pairs = [(self._words, w) for w in d.words]
        pairs += [(table, value) for table, value in
                  ((self._submitter, d.submitter), (self._domain, d.domain), (self._queue, d.queue)) if value]
        for table, value in pairs:
            counts = table.get(value)
            if counts is None:
                if n > 0:
                    table[value] = {owner: n}
            else:
                _add(counts, owner, n)
                if not counts:
                    del table[value]

    # --- asking ---------------------------------------------------------------------------

    def load(self, email: str) -> int:
        """Tickets `email` owns now that are not resolved or closed."""
        return self._load.get(email.lower(), 0)

    def eligible(self, now: datetime) -> list[str]:
        """Members who may be suggested at `now`, in team file order (lower-case emails)."""
        today = workdays.local_date(now, self.team)
        days = [workdays.add_business_days(today, 1, self.team)]
        if workdays.is_business_day(today, self.team):
            days.append(today)
        out = []
        for m in self.team.members:
            if not getattr(m, "suggest", True):
                continue
            if outage_on(self.team, m.email, days):
                continue
            if m.email.lower() not in out:
                out.append(m.email.lower())
        return out

    def suggest(self, t: Ticket, now: datetime, limit: int = LIMIT) -> list[dict]:
        """Up to `limit` members for ticket `t`, best first: {"email", "reason", "score"}.
        Empty when nothing is known (no past ticket shares anything with it) or nobody is free."""
        return self._suggest(t, self.eligible(now), limit, {})

    def suggest_all(self, tickets: Iterable[Ticket], now: datetime, limit: int = LIMIT) -> dict[str, list[dict]]:
        """{key: suggestions} for every unowned open ticket among `tickets` (`wants_suggestion`)."""
        members = self.eligible(now)
        cache: dict = {}
        return {t.key: self._suggest(t, members, limit, cache) for t in tickets if wants_suggestion(t)}

    def _suggest(self, t: Ticket, members: list[str], limit: int, cache: dict) -> list[dict]:
        if not members or limit <= 0:
            return []
        evidence = self._evidence(t, cache)
        loads = {m: self._load.get(m, 0) for m in members}
        mean = sum(loads.values()) / len(loads)
        scored = []
        for rank, m in enumerate(members):
            parts = []
            for kind, (shares, counts, conf, label) in evidence.items():
                count = counts.get(m) or 0
                if kind == "title":                      # (rank, tickets, word) of the telling word
                    count, label = (count[1], count[2]) if count else (0, "")
                parts.append((WEIGHTS[kind] * conf * shares.get(m, 0.0), kind, count, label))
            raw = sum(p[0] for p in parts)
            if raw <= 0:
                continue
            score = raw / (1 + LOAD_WEIGHT * loads[m] / (1 + mean))
            scored.append((-round(score, 9), loads[m], rank, m, score, parts))
        scored.sort()
        out = []
        shown = surfaces(t.title)
        for _, load, _, m, score, parts in scored[:limit]:
            member = self.team.member(m)
            out.append({"email": member.email if member else m, "reason": _reason(parts, load, shown),
                        "score": round(score, 3)})
        return out

    def _evidence(self, t: Ticket, cache: dict) -> dict:
        """kind -> (share per owner, ticket count per owner for the reason, confidence, label)."""
        out = {}
        order = {w: -i for i, w in enumerate(surfaces(t.title))}       # earlier in the title: more telling
        title = self._title(words(t.title), cache, order)
        if title:
            out["title"] = title
        submitter = (t.submitter or "").strip().lower()
        for kind, table, value, label in (
                ("submitter", self._submitter, submitter, "this submitter"),
                ("domain", self._domain, domain(t.submitter), domain(t.submitter)),
                ("queue", self._queue, queue(t), queue(t))):
            counts = table.get(value) if value else None
            if counts:
                total = sum(counts.values())
                out[kind] = ({m: c / total for m, c in counts.items()}, counts, total / (total + 1), label)
        return out

    def _title(self, q: frozenset[str], cache: dict, order: dict[str, int] | None = None):
        """Who owned the tickets whose titles have this title's words: for each word, each owner's
        share of the owned tickets with it, averaged with TF-IDF weights (binary term frequency,
        smooth idf, squared as in a cosine). The reason names the member's strongest word."""
        if not q:
            return None
        n = len(self._docs)
        idf = cache.setdefault(("idf", n), {})
        q_mass = known = 0.0
        mass: defaultdict[str, float] = defaultdict(float)
        best: dict[str, tuple[float, int, str]] = {}
        tickets = 0
        for w in sorted(q):
            v = idf.get(w)
            if v is None:
                v = idf[w] = (math.log((1 + n) / (1 + self._df.get(w, 0))) + 1) ** 2
            q_mass += v
            counts = self._words.get(w)
            if not counts:
                continue
            total = sum(counts.values())
            known += v
            tickets = max(tickets, total)
            for owner, c in counts.items():
                mass[owner] += v * c / total
                telling = (c * c / total, v, (order or {}).get(w, -999), w)    # many tickets, theirs, first
                if telling > best.get(owner, ((0.0,),))[0]:
                    best[owner] = (telling, c, w)
        if not known:
            return None
        shares = {m: x / known for m, x in mass.items()}
        return shares, best, (known / q_mass) * tickets / (tickets + 1), "title"


def suggested_owners(tickets: Iterable[Ticket], team: Team, now: datetime,
                     limit: int = LIMIT) -> dict[str, list[dict]]:
    """One call for a command: {key: suggestions} for every unowned open ticket of `tickets`,
    learning from all of them."""
    tickets = list(tickets)
    return Suggester(team, tickets).suggest_all(tickets, now, limit)


def _reason(parts: list, load: int, shown: dict[str, str] | None = None) -> str:
    """One line: the two strongest kinds of evidence, then the member's open tickets now."""
    said: list[str] = []
    kinds: set[str] = set()
    for value, kind, count, label in sorted(parts, key=lambda p: (p[1] == "queue", -p[0])):
        if value <= 0 or count <= 0 or len(said) >= 2:
            continue
        kinds.add(kind)
        n = f"{count} ticket{'s' if count != 1 else ''}"
        if kind == "title":
            said.append(f"owned {count} ticket{'s' if count != 1 else ''} with '{(shown or {}).get(label) or surface(label)}' in the title")
        elif kind == "submitter":
            said.append(f"handled {n} from this submitter")
        elif kind == "domain":
            if "submitter" not in kinds:           # the submitter's own count says it better
                said.append(f"handled {n} from {label}")
        elif not said:                             # the weakest evidence: said only alone
            said.append(f"owned {count} {label} ticket{'s' if count != 1 else ''}")
    if not said:
        said.append("owned tickets with words of this title")
    return f"{', '.join(said)}, {load if load else 'none'} open now"


def _add(counts: dict, key: str, n: int) -> None:
    v = counts.get(key, 0) + n
    if v > 0:
        counts[key] = v
    else:
        counts.pop(key, None)


__all__ = ["Suggester", "suggested_owners", "wants_suggestion", "words", "queue", "domain", "LIMIT"]
