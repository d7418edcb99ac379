"""The rotation's text format: what `rotation load` reads and `rotation show` writes.

`2026-11-30  ada@example.org  Ada Lovelace` lines, and the existing calendar tool's
`YYYY-MM-DD: Name` lines so a team can bring its history over as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from maildaemon import workdays
from maildaemon.model import Team
from maildaemon.people import member_for
from maildaemon.rotation.assignment import UNASSIGNED, Assignment, assignment_warnings

_OLD = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*:\s*(.*?)\s*$")     # triage.py: `2026-12-01: Name`
_NEW = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(.*?))?\s*$")    # `2026-11-30  email  Name`


@dataclass
class Parsed:
    assignments: list[Assignment]
    errors: list[str]         # "line N: ..."; any error means nothing is stored
    warnings: list[str]


def parse(text: str, team: Team) -> Parsed:
    """Read the rotation text format, and the existing calendar tool's `YYYY-MM-DD: Name` lines.

    Blank lines and `#` comments are skipped; after the email, the rest of a line is a comment.
    Every bad line is reported (`line N: ...`), not just the first, so one edit fixes them all.
    """
    result, seen = Parsed([], [], []), {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _OLD.match(line) or _NEW.match(line)
        if not m:
            result.errors.append(f"line {n}: cannot read {line!r}; write 'YYYY-MM-DD  EMAIL  NAME' "
                                 "or 'YYYY-MM-DD: NAME'")
            continue
        y, mo, d, who = m.groups()
        try:
            week = date(int(y), int(mo), int(d))
        except ValueError:
            result.errors.append(f"line {n}: {y}-{mo}-{d} is not a date")
            continue
        problem = week_start_problem(week, team)
        if problem:
            result.errors.append(f"line {n}: {problem}")
            continue
        if week in seen:
            result.errors.append(f"line {n}: week {week.isoformat()} is already on line {seen[week]}")
            continue
        seen[week] = n
        a, err, warn = _read_who(week, who or "", team, old=m.re is _OLD)
        if err:
            result.errors.append(f"line {n}: {err}")
            continue
        result.warnings += [f"line {n}: warning: {w}" for w in warn]
        result.assignments.append(a)
    return result


def week_start_problem(week: date, team: Team) -> str | None:
    if workdays.is_week_start(week, team):
        return None
    first = workdays.DAY_NAMES[workdays.first_weekday(team)]
    return (f"{week.isoformat()} is a {workdays.DAY_NAMES[week.weekday()]}, not a week start; weeks start "
            f"on {first} (that week starts {workdays.week_start(week, team).isoformat()})")


def _read_who(week: date, who: str, team: Team, old: bool) -> tuple[Assignment | None, str | None, list[str]]:
    text = who if old else who.split("#", 1)[0].strip()
    if not text:
        return None, f"week {week.isoformat()} names nobody; add an email, or {UNASSIGNED}", []
    first, comment = (text.split(None, 1) + [""])[:2]
    if first.upper() == UNASSIGNED and not old:
        return Assignment(week, None), None, [f"{week.isoformat()} is {UNASSIGNED}: any stored owner is removed"]
    if "@" in first and not old:
        m = team.member(first)
        if m is None:
            return None, f"unknown member {first!r}; use the email of a [[members]] entry in the team file", []
        comment = comment.strip()
        warn = []
        if comment and member_for(team, comment) not in (m, None):
            warn.append(f"{first} is {m.name}, not {comment!r}; the email counts")
    else:
        m = member_for(team, text)
        if m is None:
            return None, f"unknown member {text!r}; use a member's email, name or alias from the team file", []
        warn = []
    a = Assignment(week, m.email, m.name)
    return a, None, warn + assignment_warnings(a, team)
