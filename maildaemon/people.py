"""Who is who: map how a ticket system names a person to a team member.

A ticket system may name Ada as `ada@example.org`, `Ada Lovelace <ada@example.org>`, `Ada
Lovelace`, `Ada Lovelace (Software)`, her alias `alovelace`, `@alovelace` (GitHub) or, in RT, her
user name `ada` (the local part of her address, when no other member shares it). The triage
pseudo-user and anyone who is not a member resolve to None, so they can never be an owner.

Also the one home of "what the team file says about a person": their name (`member_name`) and
their outages (`outage_on`, `away_until`, `outages_between`). Addresses compare
case-insensitively everywhere (`Ada@Example.org` in an outage is ada@example.org's outage).
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Iterable

from maildaemon.model import Member, Outage, Team


def _norm(s: str) -> str:
    return " ".join(s.strip().strip('"').lower().split())


@lru_cache(maxsize=64)
def _index(team: Team) -> dict[str, Member]:
    index: dict[str, Member] = {}
    locals_: dict[str, list[Member]] = {}
    for m in team.members:
        for token in (m.email, m.name, *m.aliases):
            index.setdefault(_norm(token), m)
            if token.startswith("@"):
                index.setdefault(_norm(token[1:]), m)
        locals_.setdefault(m.email.partition("@")[0].lower(), []).append(m)
    for local, ms in locals_.items():
        if len(ms) == 1:
            index.setdefault(local, ms[0])
    return index


def member_for(team: Team, who: str | None) -> Member | None:
    """The member a name, address, alias or login stands for, or None."""
    if not who or is_triage_user(team, who):
        return None
    index = _index(team)
    candidates = [who]
    m = re.match(r"^\s*(.*?)\s*<([^<>]+)>\s*$", who)
    if m:
        candidates = [m.group(2), m.group(1)]
    for c in list(candidates):
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", c)          # "Ada Lovelace (Software)"
        if bare != c:
            candidates.append(bare)
    for c in candidates:
        found = index.get(_norm(c))
        if found:
            return found
    return None


def is_triage_user(team: Team, who: str) -> bool:
    """The pseudo-user: its configured name, the list address, or the list's user id."""
    w = _norm(re.sub(r"^.*<([^<>]+)>.*$", r"\1", who))
    list_local = team.list_address.partition("@")[0].lower()
    names = {_norm(team.triage_user)} if team.triage_user else set()
    names |= {team.list_address.lower(), list_local}
    if w in names or _norm(who) in names:
        return True
    # a ticket system's user id for the list, e.g. "osg-software-support-stream"
    return bool(list_local) and (w.endswith("-" + list_local) or w.startswith(list_local + "@"))


def member_name(team: Team, email: str | None) -> str | None:
    """The member's name from the team file, or the address itself when it is no member's."""
    m = team.member(email)
    return m.name if m else email


def outage_on(team: Team, email: str, days: Iterable[date]) -> Outage | None:
    """The first outage of `email` that covers any of `days`, or None."""
    who = email.lower()
    days = tuple(days)
    for o in team.outages:
        if o.member.lower() == who and any(o.start <= d <= o.end for d in days):
            return o
    return None


def away_until(team: Team, email: str, day: date) -> date | None:
    """The last day of the outage `email` is on at `day`, or None when they are around."""
    o = outage_on(team, email, (day,))
    return o.end if o else None


def outages_between(team: Team, start: date, end: date) -> list[Outage]:
    """The outages that overlap the days `start`..`end` (inclusive), in team-file order."""
    return [o for o in team.outages if o.start <= end and o.end >= start]
