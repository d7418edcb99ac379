"""What the mails show of a ticket and a person: plain data in local time, for the templates.

Shared by every mail (reminders, digest, handoff, brief) so a ticket reads the same in each.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from maildaemon import snooze, workdays
from maildaemon.model import Snooze, Team, Ticket, parse_iso
from maildaemon.people import member_name

KEY_WIDTH_MAX = 30      # text parts: the key column; a longer key puts its title on the next line
NO_ACTION = frozenset({"", "none", "-", "n/a", "na"})


def next_action(value: str | None) -> str | None:
    """A next action worth showing, or None: GOC writes `Next Action: None` for none at all."""
    return None if value is None or value.strip().lower() in NO_ACTION else value


def local_minute(when: str | datetime, team: Team) -> str:
    """A time as the mails show it: team time, to the minute (`2026-11-24 09:30`); a stored UTC
    ISO string or an instant."""
    if isinstance(when, str):
        return _stored_minute(when, team.timezone)
    return when.astimezone(workdays.zone(team)).strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=8192)
def _stored_minute(when: str, zone_name: str) -> str:
    """A stored time as the mails show it: each ticket's times are shown again at every moment
    the agenda and the daemon decide at."""
    return parse_iso(when).astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M")


def ticket_row(t: Ticket, team: Team, now: datetime, **extra) -> dict:
    """What templates show of a ticket: plain data, local times."""
    opened = parse_iso(t.opened_at) if t.opened_at else now
    return {"key": t.key, "title": t.title, "url": t.url, "status": t.status, "status_raw": t.status_raw,
            "owner": t.owner, "owner_name": member_name(team, t.owner),
            "submitter": t.submitter, "next_action": next_action(t.next_action),
            "reply_to": t.reply_to, "subject_token": t.subject_token,     # where a user's answer goes
            "deadline": local_minute(t.next_action_deadline, team) if t.next_action_deadline else None,
            "opened": local_minute(opened, team),
            "age_days": max(0, (now - opened).days), **extra}


def key_width(rows: Iterable[dict]) -> int:
    """The width of a text part's key column for these rows (KEY_WIDTH_MAX at most)."""
    return min(KEY_WIDTH_MAX, max((len(r["key"]) for r in rows), default=0))


def person(team: Team, email: str | None) -> dict:
    """A person as templates show them: `name` (their address when not a member) and `email`."""
    return {"name": member_name(team, email) or "", "email": email}


def team_addresses(team: Team) -> tuple[str, ...]:
    return tuple(m.email for m in team.members)


def waiting_for_triage(t: Ticket, team: Team) -> str | None:
    """Why an open ticket waits for the person on duty, or None."""
    if t.owner is None:
        return "no owner"
    if team.triage_next_action and (t.next_action or "").strip().lower() == team.triage_next_action.lower():
        return f"next action is still {team.triage_next_action}"
    return None


def flags(t: Ticket) -> list[str]:
    """What the person on duty should look at by hand: the stream lost the ticket, or it has
    several owners."""
    out = []
    if t.triage_removed:
        out.append("triage pseudo-user removed: the stream no longer hears about it")
    if len(t.assignment_order) > 1:
        out.append("several team members assigned")
    return out


# --- snooze (SPEC 10) -------------------------------------------------------------------------

def snoozed(tickets: Sequence[Ticket], snoozes: dict[str, Snooze] | None, team: Team, now: datetime) -> dict[str, Snooze]:
    """The snooze records that hold at `now`, by ticket key."""
    if not snoozes:
        return {}
    return snooze.active(snoozes, {t.key: t for t in tickets}, team, now)


def snoozed_rows(tickets: Sequence[Ticket], held: dict[str, Snooze], team: Team, now: datetime) -> list[dict]:
    """What the handoff and the brief show of the snoozed tickets: until when and why."""
    return [ticket_row(t, team, now, until=held[t.key].until, snooze_reason=held[t.key].reason)
            for t in tickets if t.key in held]
