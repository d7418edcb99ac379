"""The fair choice of who takes each new week.

Why it is not round-robin (the tool it replaces, OSG `triage.py`, walks the name list from the top
on every cycle and forgets who served last): `generate` continues from the *ledger*, the stored
weeks as they were served. For each new week, among the rotation members free that week (no
outage on any duty day), and not the previous week's owner while anyone else is free, it takes
the member with
  1. the fewest duty weeks in the 52 weeks before it (the window `rotation show` reports, so
     someone back from an outage catches up, and a year-old imbalance is forgotten),
  2. then the longest since their last week (never served counts as longest),
  3. then the team file's order.
A week nobody can take is UNASSIGNED. See docs/rotation.md.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence

from maildaemon.model import Member, Team
from maildaemon.rotation.assignment import WEEK, WINDOW, Assignment, free_members, holiday_note


def generate(team: Team, ledger: Sequence[Assignment], start: date, weeks: int) -> list[Assignment]:
    """Plan `weeks` weeks from the week start `start`, continuing fairly from `ledger`.

    Only ledger weeks before `start` count: weeks stored from `start` on are being planned again.
    Deterministic: the same team, ledger and start give the same plan.
    """
    served: dict[str, list[date]] = {}
    owner: dict[date, str | None] = {}
    for a in sorted(ledger, key=lambda a: a.week):
        if a.week < start:
            owner[a.week] = a.email
            if a.email:
                served.setdefault(a.email.lower(), []).append(a.week)
    order = {m.email.lower(): i for i, m in enumerate(team.members)}
    plan: list[Assignment] = []
    for i in range(weeks):
        week = start + i * WEEK
        free = free_members(week, team)
        note = holiday_note(week, team)
        if not free:
            plan.append(Assignment(week, None, note=_nobody_note(team)))
            owner[week] = None
            continue
        previous = owner.get(week - WEEK)
        pool = [m for m in free if m.email.lower() != (previous or "").lower()] or free
        chosen = min(pool, key=lambda m: (_count(served, m, week - WINDOW, week), _last(served, m),
                                          order[m.email.lower()]))
        plan.append(Assignment(week, chosen.email, chosen.name, note))
        owner[week] = chosen.email
        served.setdefault(chosen.email.lower(), []).append(week)
    return plan


def _last(served: dict[str, list[date]], m: Member) -> date:
    weeks = served.get(m.email.lower())
    return weeks[-1] if weeks else date.min


def _count(served: dict[str, list[date]], m: Member, since: date, week: date) -> int:
    return sum(1 for w in served.get(m.email.lower(), ()) if since <= w < week)


def _nobody_note(team: Team) -> str:
    return "everyone on the rotation is away" if any(m.rotation for m in team.members) \
        else "no member has rotation = true"
