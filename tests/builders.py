"""Builders for the policy, handoff and render tests: a team in America/Chicago with US holidays,
a duty ledger, tickets built directly or by folding `Change`s through `apply`, local instants.

Calendar notes (America/Chicago, 2026): DST ends Sunday 2026-11-01 (CDT UTC-5 -> CST UTC-6);
Thanksgiving is Thursday 2026-11-26; Mondays in November: 2, 9, 16, 23, 30.
"""
from __future__ import annotations

import copy
import mailbox
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from maildaemon.apply import apply
from maildaemon.config import team_from_dict
from maildaemon.model import Change, Team, Ticket
from maildaemon.rotation import Assignment

CHICAGO = ZoneInfo("America/Chicago")
LIST = "software-support-stream@example.org"
FROM = "software-triage@example.org"
TRIAGE = "Software Support (Triage)"
ADA, GRACE, ALAN, LINUS = "ada@example.org", "grace@example.org", "alan@example.org", "linus@example.org"
NAMES = {ADA: "Ada Lovelace", GRACE: "Grace Hopper", ALAN: "Alan Turing", LINUS: "Linus Torvalds"}

TEAM_DATA = {
    "team": {
        "name": "Software Team",
        "timezone": "America/Chicago",
        "list_address": LIST,
        "triage_user": TRIAGE,
        "triage_next_action": "SOFTWARE TRIAGE",
        "from_address": FROM,
        "trusted_senders": ["ticket@example.org"],
        "holidays": "US",
        "duty_start": "mon",
        "work_hours": "09:00-17:00",
    },
    "policy": {
        "unassigned_after_hours": 4,
        "stale_after_days": 2,
        "user_wait_days": 5,
        "user_close_days": 10,
        "repeat_after_days": 2,
        "reminder_times": ["09:30", "14:00"],
        "announce_time": "mon 09:00",
        "handoff_time": "fri 15:00",
    },
    "members": [
        {"name": "Ada Lovelace", "email": ADA, "aliases": ["Ada L.", "alovelace"]},
        {"name": "Grace Hopper", "email": GRACE},
        {"name": "Alan Turing", "email": ALAN},
        {"name": "Linus Torvalds", "email": LINUS, "rotation": False},
    ],
    "outages": [
        {"member": ADA, "start": date(2026, 12, 21), "end": date(2027, 1, 1)},
    ],
    "meetings": [
        {"day": "wed", "time": "16:00", "name": "Operations meeting"},
        {"day": "mon", "time": "11:00", "name": "Team standup"},
    ],
}


def team(policy: dict | None = None, outages: list | None = None, members: list | None = None,
         **team_keys) -> Team:
    """The test team; `policy`/`team_keys` override single settings, `outages` replaces the list."""
    data = copy.deepcopy(TEAM_DATA)
    data["policy"].update(policy or {})
    data["team"].update(team_keys)
    if outages is not None:
        data["outages"] = outages
    if members is not None:
        data["members"] = members
    return team_from_dict(data)


def week(start: date, email: str | None) -> Assignment:
    return Assignment(start, email, NAMES.get(email, "") if email else "")


# Who is on duty: Alan the week of Thanksgiving's predecessor, Grace on Thanksgiving week, ...
LEDGER = [
    week(date(2026, 10, 26), ADA),
    week(date(2026, 11, 2), GRACE),
    week(date(2026, 11, 9), ADA),
    week(date(2026, 11, 16), ALAN),
    week(date(2026, 11, 23), GRACE),
    week(date(2026, 11, 30), ADA),
    week(date(2026, 12, 7), ALAN),
    week(date(2026, 12, 14), GRACE),
    week(date(2026, 12, 21), GRACE),
    week(date(2026, 12, 28), ALAN),
]


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An aware instant from the team's wall clock."""
    return datetime(y, mo, d, h, mi, tzinfo=CHICAGO)


def iso(when: datetime) -> str:
    """UTC ISO 8601, as `apply` stores times."""
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def liso(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> str:
    """UTC ISO string of a local wall-clock time."""
    return iso(local(y, mo, d, h, mi))


def ticket(key: str = "goc:1", **kw) -> Ticket:
    """A ticket built directly; times as UTC ISO strings (use `liso`)."""
    system, _, ident = key.partition(":")
    base = dict(key=key, system=system, id=ident, title=f"Ticket {ident}",
                url=f"https://ticket.example.org/{ident}", submitter="jane@example.edu",
                latest_message_id=f"<{system}-{ident}-latest@ticket.example.org>")
    base.update(kw)
    return Ticket(**base)


def change(key: str, at: datetime, n: int, **kw) -> Change:
    system, _, ident = key.partition(":")
    base = dict(key=key, system=system, id=ident, message_id=f"<{system}-{ident}-{n}@ticket.example.org>", at=at)
    base.update(kw)
    return Change(**base)


def fold(t: Team, key: str, *steps: tuple[datetime, dict]) -> Ticket:
    """Apply (at, fields) steps in order to a new ticket `key`; returns the final state."""
    state = None
    for n, (at, fields) in enumerate(steps, 1):
        state, _ = apply(state, change(key, at, n, **fields), t)
    return state


def sent(kind: str, keys: tuple[str, ...] | list[str], at: datetime, period: str | None = None) -> dict:
    """An outbox record as the policy reads it (kind, tickets, period, created_at). The period
    defaults to what the policy gives a mail queued at `at`: the slot for a digest, else the day."""
    day = at.astimezone(CHICAGO)
    if period is None:
        period = f"{day.date().isoformat()}T{day:%H%M}" if kind == "unassigned" else day.date().isoformat()
    return {"kind": kind, "tickets": list(keys), "period": period, "created_at": iso(at)}


def write_mbox(path, mails) -> str:
    """An mbox file holding `mails` (bytes), for `maildaemon import`."""
    box = mailbox.mbox(str(path))
    for m in mails:
        box.add(m)
    box.close()
    return str(path)
