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

The parts: features.py (what is read of a ticket), suggester.py (the counts and the scores).

Cost (bench/suggest_bench.py): a model of 12,500 tickets builds in about 0.05 s (0.15 s when
every title is different), 300 suggestions take under 0.02 s, one `update` under 10 µs. A daemon
builds once and calls `update` with every ticket `apply` returns (or rebuilds per tick).
"""
from maildaemon.suggest.features import domain, forget_words, queue, stem, words
from maildaemon.suggest.suggester import LIMIT, Suggester, suggested_owners, wants_suggestion

__all__ = ["Suggester", "suggested_owners", "wants_suggestion", "words", "stem", "queue", "domain", "forget_words",
           "LIMIT"]
