"""The owner model: counts of who owned which kind of ticket, kept up to date ticket by ticket,
and the scores and reasons of its suggestions (the package's docstring says how it weighs).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime
from itertools import chain
from typing import Iterable, NamedTuple

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Team, Ticket
from maildaemon.people import outage_on
from maildaemon.suggest.features import domain, queue, surface, surfaces, words

LIMIT = 2                  # suggestions per ticket
WEIGHTS = {"title": 1.0, "submitter": 0.6, "domain": 0.3, "queue": 0.15}
LOAD_WEIGHT = 0.5


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
