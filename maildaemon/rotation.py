"""The duty rotation: who owns which week, how new weeks are chosen fairly, the text format.

Pure: no clock, no I/O. Dates and stored documents come in, assignments and documents go out;
rotation_cli.py does the reading, writing and printing.

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

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from maildaemon import business
from maildaemon.model import DAYS
from maildaemon.model import Member, Outage, Team
from maildaemon.people import member_for

UNASSIGNED = "UNASSIGNED"
WINDOW = timedelta(weeks=52)
WEEK = business.WEEK


@dataclass(frozen=True)
class Assignment:
    """One week of the rotation. `email` None means UNASSIGNED; `note` is printed as `# note`."""
    week: date
    email: str | None
    name: str = ""
    note: str = ""

    def line(self) -> str:
        """The text format `load` reads back: `2026-11-30  ada@example.org  Ada Lovelace`."""
        text = "  ".join(x for x in (self.week.isoformat(), self.email or UNASSIGNED, self.name) if x)
        return f"{text}  # {self.note}" if self.note else text


# --- availability ---------------------------------------------------------------------------

def blocking_days(start: date, team: Team) -> tuple[date, ...]:
    """The days an outage keeps a member off the week: its duty days, or, when every duty day is
    a holiday, its weekdays (the week still needs an owner who is around)."""
    return business.duty_days(start, team) or business.weekdays(start)


def outage_during(email: str, days: Iterable[date], outages: Sequence[Outage]) -> Outage | None:
    for o in outages:
        if o.member.lower() == email.lower() and any(o.start <= d <= o.end for d in days):
            return o
    return None


def free_members(start: date, team: Team) -> list[Member]:
    """Rotation members with no outage on any blocking day of the week, in team-file order."""
    days = blocking_days(start, team)
    return [m for m in team.members if m.rotation and not outage_during(m.email, days, team.outages)]


# --- the generator --------------------------------------------------------------------------

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
        note = _holiday_note(week, team)
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


def _holiday_note(week: date, team: Team) -> str:
    if business.duty_days(week, team):
        return ""
    return "no duty days: " + ", ".join(f"{d.isoformat()} {n}" for d, n in business.holidays_in(
        week, week + timedelta(days=6), team))


def week_notes(a: Assignment, team: Team) -> str:
    """Why a stored week needs a look: an outage of its owner, no duty days. Empty if none."""
    notes = [_holiday_note(a.week, team)]
    if a.email:
        o = outage_during(a.email, blocking_days(a.week, team), team.outages)
        if o:
            notes.append(f"conflict: {a.name or a.email} is away {o.start.isoformat()}..{o.end.isoformat()}")
        m = team.member(a.email)
        if m is None:
            notes.append("not in the team file")
        elif not m.rotation:
            notes.append("not on the rotation")
    return "; ".join(n for n in notes if n)


# --- outages that hit a stored week (SPEC 10) -----------------------------------------------

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
    today = business.local_date(today, team)
    current = business.week_start(today, team)
    stored = sorted((a for a in ledger if a.email), key=lambda a: a.week)
    hit = [(a, o) for a in stored if a.week >= current
           and (o := outage_during(a.email, blocking_days(a.week, team), team.outages))]
    if not hit:
        return []
    owners = {a.week: a.email for a in stored}
    horizon = hit[-1][0].week + (SWAP_WEEKS + 1) * WEEK
    start = max(business.first_week_start_on_or_after(stored[-1].week + WEEK, team), current)
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
        if outage_during(other, blocking_days(a.week, team), team.outages) \
                or outage_during(a.email, blocking_days(week, team), team.outages):
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


# --- reading the ledger ---------------------------------------------------------------------

def who_on(ledger: Sequence[Assignment], day: date) -> Assignment | None:
    """The stored week `day` falls in: on duty from its first day until the next week's first
    day (weekend arrivals are theirs). Looks by span, so a changed duty_start still finds it."""
    found = [a for a in ledger if a.week <= day < a.week + WEEK]
    return max(found, key=lambda a: a.week) if found else None


def on_duty(ledger: Sequence[Assignment], team: Team, day: date) -> Member | None:
    """The member on duty on `day`, or None: no week stored, or a stored email that is not a
    member of the team file (nobody whose full name could sign a mail)."""
    a = who_on(ledger, day)
    return team.member(a.email) if a and a.email else None


def nobody_on_duty(ledger: Sequence[Assignment], team: Team, day: date) -> str | None:
    """SPEC 9: while the rotation has no one for the week of `day`, no mail goes out (it would be
    signed by nobody). This says so, in the words `check`, `status` and the daemon's log use:
    `no one on duty in the week of 2026-11-23`; None when someone is on duty."""
    if on_duty(ledger, team, day) is not None:
        return None
    return f"no one on duty in the week of {business.week_start(day, team).isoformat()}"


@dataclass(frozen=True)
class Fairness:
    """One member's line of the ledger summary `rotation show` ends with."""
    email: str
    name: str
    weeks: int                # duty weeks in the 52 weeks up to and including the current one
    last: date | None         # latest week that has started
    next: date | None         # first stored week after the current one
    on_rotation: bool

    def line(self) -> str:
        n = f"{self.weeks} week" + ("" if self.weeks == 1 else "s")
        last = self.last.isoformat() if self.last else "never"
        nxt = self.next.isoformat() if self.next else "none stored"
        off = " (not on the rotation)" if not self.on_rotation else ""
        return f"# {self.name} <{self.email}>{off}: {n}, last {last}, next {nxt}"


def fairness(team: Team, ledger: Sequence[Assignment], current: date) -> list[Fairness]:
    """Each rotation member's weeks over the last 52 (ending with `current`, a week start), plus
    anyone else who served in that window, in team-file order then by email."""
    lo = current - WINDOW
    people = [(m.email, m.name, True) for m in team.members if m.rotation]
    known = {e.lower() for e, _, _ in people}
    for a in sorted(ledger, key=lambda a: (a.email or "", a.week)):
        if a.email and a.email.lower() not in known and lo < a.week <= current:
            m = team.member(a.email)
            people.append((a.email, m.name if m else a.name, False))
            known.add(a.email.lower())
    out = []
    for email, name, rot in people:
        mine = sorted(a.week for a in ledger if a.email and a.email.lower() == email.lower())
        past = [w for w in mine if w <= current]
        out.append(Fairness(email, name, sum(1 for w in past if w > lo), past[-1] if past else None,
                            next((w for w in mine if w > current), None), rot))
    return out


# --- the text format ------------------------------------------------------------------------

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
    if business.is_week_start(week, team):
        return None
    first = business.DAY_NAMES[DAYS.index(team.duty_start)]
    return (f"{week.isoformat()} is a {business.DAY_NAMES[week.weekday()]}, not a week start; weeks start "
            f"on {first} (that week starts {business.week_start(week, team).isoformat()})")


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


def assignment_warnings(a: Assignment, team: Team) -> list[str]:
    """What a human should know about an assignment they chose (stored anyway: their call)."""
    if not a.email:
        return []
    out = []
    m = team.member(a.email)
    if m is not None and not m.rotation:
        out.append(f"{m.name} is not on the rotation (rotation = false)")
    o = outage_during(a.email, blocking_days(a.week, team), team.outages)
    if o:
        out.append(f"{a.name} is away {o.start.isoformat()}..{o.end.isoformat()}, during the week of {a.week.isoformat()}")
    return out


# --- the stored ledger (TinyDB table "rotation", one document per week) ----------------------

def from_docs(docs: Iterable[dict]) -> list[Assignment]:
    """The ledger from stored documents: who served, by the name they had then."""
    return sorted((Assignment(date.fromisoformat(d["week"]), d["email"], d.get("name", ""))
                   for d in docs if d.get("email")), key=lambda a: a.week)


def apply(docs: Sequence[dict], changes: Sequence[Assignment], action: str, at: datetime
          ) -> tuple[list[dict], list[dict]]:
    """Store `changes` (email None removes the week) over `docs`; weeks not named stay as they
    are, and an unchanged week keeps its revision. Returns (documents, log entries)."""
    by_week = {d["week"]: dict(d) for d in docs}
    log = []
    for a in changes:
        key, old = a.week.isoformat(), by_week.get(a.week.isoformat())
        before = old.get("email") if old else None
        if (before or "").lower() == (a.email or "").lower():
            continue
        log.append({"at": at.isoformat(), "action": action, "week": key, "before": before, "after": a.email})
        if a.email is None:
            del by_week[key]
            continue
        by_week[key] = {"week": key, "email": a.email, "name": a.name, "action": action,
                        "changed_at": at.isoformat(), "revision": (old or {}).get("revision", 0) + 1}
    return [by_week[k] for k in sorted(by_week)], log


def swap(ledger: Sequence[Assignment], first: date, second: date) -> list[Assignment]:
    """The two changes that exchange two stored weeks' owners. KeyError names a missing week."""
    weeks = {a.week: a for a in ledger}
    for w in (first, second):
        if w not in weeks:
            raise KeyError(w)
    a, b = weeks[first], weeks[second]
    return [Assignment(first, b.email, b.name), Assignment(second, a.email, a.name)]


# --- the duty announcement (SPEC 8) ----------------------------------------------------------

def announcement(team: Team, ledger: Sequence[Assignment], day: date) -> dict:
    """This week's and next week's person on duty at `day`, for the announcement templates
    (`this_week.name` / `next_week.name`, UNASSIGNED when no week is stored), with each week's
    dates, holidays and who is away. Plain JSON-friendly values: the outbox may keep them."""
    this = business.week_start(day, team)
    return {"date": day.isoformat(),
            "this_week": _week_info(team, ledger, this), "next_week": _week_info(team, ledger, this + WEEK)}


def _week_info(team: Team, ledger: Sequence[Assignment], start: date) -> dict:
    a = who_on(ledger, start)
    end = start + timedelta(days=6)
    days = business.duty_days(start, team)
    return {"start": start.isoformat(), "end": end.isoformat(),
            "email": a.email if a else None, "name": a.name if a else UNASSIGNED,
            "duty_days": [d.isoformat() for d in days], "no_duty_days": not days,
            "holidays": [{"date": d.isoformat(), "day": business.DAY_NAMES[d.weekday()], "name": n}
                         for d, n in business.holidays_in(start, end, team)],
            "away": [{"name": _name(team, o.member), "start": o.start.isoformat(), "end": o.end.isoformat()}
                     for o in team.outages if o.start <= end and o.end >= start]}


def _name(team: Team, email: str) -> str:
    m = team.member(email)
    return m.name if m else email

