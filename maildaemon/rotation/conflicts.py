"""Outages that hit a stored week (SPEC 10), and the fairest swap that mends each.

Apart from the generator because it asks a different question: not "who is next" but "which
exchange leaves the rotation as fair as it would have been", answered by re-planning with
`generate` after each possible exchange.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from maildaemon import workdays
from maildaemon.model import Outage, Team
from maildaemon.rotation.assignment import WEEK, WINDOW, Assignment, away_in_week
from maildaemon.rotation.fair import generate

SWAP_WEEKS = 8            # a swap is looked for among the eight weeks after the conflict


@dataclass(frozen=True)
class Swap:
    """The week to exchange with, and its owner; `generated`: not stored yet, `generate` plans it."""
    week: date
    email: str
    generated: bool = False


@dataclass(frozen=True)
class Conflict:
    """A stored week whose person is away on one of its duty days, with the fairest swap or None."""
    week: date
    email: str
    outage: Outage
    swap: Swap | None

    def line(self) -> str:
        """`conflict 2027-01-18 ada@example.org away 2027-01-18..2027-01-20: swap with 2027-02-01
        bo@example.org` (`(generated)` after a week not stored yet)."""
        head = (f"conflict {self.week.isoformat()} {self.email} away "
                f"{self.outage.start.isoformat()}..{self.outage.end.isoformat()}")
        if self.swap is None:
            return f"{head}: no swap within the next {SWAP_WEEKS} weeks; give the week to someone free by hand"
        return (f"{head}: swap with {self.swap.week.isoformat()} {self.swap.email}"
                + (" (generated)" if self.swap.generated else ""))


def conflicts(ledger: Sequence[Assignment], team: Team, today: date) -> list[Conflict]:
    """Every stored week that has not ended by `today` whose person is away on one of its duty
    days (`blocking_days`), oldest first, each with the fairest swap:

    among the stored weeks, and the weeks `generate` would plan after the last stored one, of the
    SWAP_WEEKS weeks that follow the conflict, a week whose owner is another member of the team
    file, free the conflict's week, while the away person is free on that one (the exchange
    breaks no outage). Of those, the one whose rotation after the exchange (the weeks after the
    stored ones planned again by `generate`, as they then would be)
      1. makes the fewest weeks served back to back by the same person,
      2. keeps the duty weeks per rotation member most even: the least spread (sum of squared
         differences from the mean) of each member's weeks in the 52 weeks up to each week from
         the conflict to the end of the search (the window `generate` and `rotation show` count),
      3. is nearest, then the team file's order.
    """
    today = workdays.local_date(today, team)
    current = workdays.week_start(today, team)
    stored = sorted((a for a in ledger if a.email), key=lambda a: a.week)
    hit = [(a, o) for a in stored if a.week >= current and (o := away_in_week(a.email, a.week, team))]
    if not hit:
        return []
    owners = {a.week: a.email for a in stored}
    horizon = hit[-1][0].week + (SWAP_WEEKS + 1) * WEEK
    start = max(workdays.first_week_start_on_or_after(stored[-1].week + WEEK, team), current)
    planned = _continue(owners, team, start, horizon)
    return [Conflict(a.week, a.email, o, _fairest_swap(a, owners, planned, start, horizon, team)) for a, o in hit]


def conflict_lines(ledger: Sequence[Assignment], team: Team, today: date) -> list[str]:
    """The lines `rotation check` prints, for the digest of the person on duty (none: no conflict)."""
    return [c.line() for c in conflicts(ledger, team, today)]


def _continue(owners: dict[date, str], team: Team, start: date, until: date) -> dict[date, str]:
    """The weeks `generate` plans from `start` to `until` after the weeks `owners` gives."""
    if start > until:
        return {}
    led = [Assignment(w, e) for w, e in owners.items()]
    return {g.week: g.email for g in generate(team, led, start, (until - start) // WEEK + 1) if g.email}


def _fairest_swap(a: Assignment, stored: dict[date, str], planned: dict[date, str], start: date, horizon: date,
                  team: Team) -> Swap | None:
    """The rotation after each possible exchange (the weeks after the stored ones planned again
    by `generate`, as they would be), compared as `conflicts` says."""
    away = a.email.lower()
    order = {m.email.lower(): i for i, m in enumerate(team.members)}
    best = None
    for k in range(1, SWAP_WEEKS + 1):
        week = a.week + k * WEEK
        other = stored.get(week) or planned.get(week)
        generated = week not in stored
        if other is None or other.lower() == away or team.member(other) is None:
            continue
        if away_in_week(other, a.week, team) or away_in_week(a.email, week, team):
            continue
        fixed = dict(stored)
        if generated:
            fixed.update({w: e for w, e in planned.items() if w <= week})
        fixed[a.week], fixed[week] = other, a.email
        after = {**fixed, **_continue(fixed, team, max(start, week + WEEK) if generated else start, horizon)}
        key = (_back_to_back(after, (a.week, week)), _spread(after, team, a.week), k, order.get(other.lower(), 0))
        if best is None or key < best[0]:
            best = (key, Swap(week, team.member(other).email, generated))
    return best[1] if best else None


def _back_to_back(owners: dict[date, str], weeks: Iterable[date]) -> int:
    """How many pairs of consecutive weeks around `weeks` have the same person."""
    pairs = {(w + d * WEEK, w + (d + 1) * WEEK) for w in weeks for d in (-1, 0)}
    return sum(1 for x, y in pairs if x in owners and y in owners and owners[x].lower() == owners[y].lower())


def _spread(owners: dict[date, str], team: Team, first: date) -> int:
    """Sum over the weeks `first`..`first + SWAP_WEEKS` of n * the sum of squared deviations of the
    rotation members' duty weeks in the 52 weeks up to that week (an integer: exact ties)."""
    members = [m.email.lower() for m in team.members if m.rotation]
    if not members:
        return 0
    n, total = len(members), 0
    weeks = sorted(owners)
    for i in range(SWAP_WEEKS + 1):
        week = first + i * WEEK
        counts = dict.fromkeys(members, 0)
        for w in weeks:
            if week - WINDOW < w <= week:
                who = owners[w].lower()
                if who in counts:
                    counts[who] += 1
        values = counts.values()
        total += n * sum(c * c for c in values) - sum(values) ** 2
    return total
