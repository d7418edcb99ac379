"""What `tickets`, `ticket`, `quarantine` and `demo` show: plain data and text from the stored state. Pure.

Times are stored in UTC and shown in the team's time zone, ISO 8601 with offset. Warnings that
depend on the moment (an owner away today) are computed here from `now`, not stored. Text meant for
a terminal goes through `terminal.safe` (a title may carry escape sequences); JSON is left to
`terminal.dumps`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from maildaemon.model import Team, Ticket
from maildaemon.people import away_until
from maildaemon.terminal import safe

TIME_FIELDS = ("opened_at", "updated_at", "last_team_update_at", "last_user_update_at",
               "next_action_deadline", "status_since")


def local(iso: str | None, tz: ZoneInfo) -> str | None:
    """A stored time in the team's zone, to the second; None for none."""
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(tz).isoformat(timespec="seconds")


def local_or_stored(iso: str | None, tz: ZoneInfo | None) -> str | None:
    """`local`, or the time as stored when there is no zone (a broken team file) or it is no time."""
    if not iso or tz is None:
        return iso
    try:
        return local(iso, tz)
    except (TypeError, ValueError):
        return iso


def warnings(ticket: Ticket, team: Team, now: datetime) -> list[str]:
    out = []
    if len(ticket.assignment_order) > 1:
        out.append("several team members assigned")
    if ticket.owner:
        today = now.astimezone(ZoneInfo(team.timezone)).date()
        away = away_until(team, ticket.owner, today)
        if away:
            out.append(f"owner away until {away.isoformat()}")
    return out


def ticket_json(ticket: Ticket, team: Team, now: datetime) -> dict:
    """One element of `tickets --json` (SPEC section 6)."""
    tz = ZoneInfo(team.timezone)
    doc = {
        "key": ticket.key,
        "system": ticket.system,
        "id": ticket.id,
        "title": ticket.title,
        "url": ticket.url,
        "status": ticket.status,
        "status_raw": ticket.status_raw,
        "next_action": ticket.next_action,
        "owner": ticket.owner,
        "assignees": list(ticket.assignees),
        "cc": list(ticket.cc),
        "submitter": ticket.submitter,
        "links": [dict(x) for x in ticket.links],
        "warnings": warnings(ticket, team, now),
        "priority": ticket.priority,
        "messages": ticket.messages,
    }
    for name in TIME_FIELDS:
        doc[name] = local(getattr(ticket, name), tz)
    return doc


def select(tickets: list[Ticket], owner: str | None) -> list[Ticket]:
    """The tickets `tickets` lists (of `owner`, if given), in the order a person on duty works
    through them: unowned first, then the oldest first (by opening time; the key breaks ties)."""
    out = list(tickets)
    if owner:
        out = [t for t in out if (t.owner or "").lower() == owner.lower()]
    return sorted(out, key=_order)


def _order(t: Ticket) -> tuple:
    return (t.owner is not None, _opened(t), t.key)


def _opened(t: Ticket) -> datetime:
    """When a ticket was opened, as an instant (stored UTC strings may differ in form); unknown last."""
    try:
        return datetime.fromisoformat(t.opened_at).astimezone(timezone.utc) if t.opened_at else _NEVER
    except ValueError:
        return _NEVER


_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def tickets_table(tickets: list[Ticket], team: Team) -> str:
    """The human table of `tickets` and `demo`, rows in the order given (`select`'s: unowned
    first, then the oldest first; sorting again was a tenth of `tickets --all` at 50,000)."""
    if not tickets:
        return "no tickets\n"
    tz = ZoneInfo(team.timezone)
    rows = [("KEY", "STATUS", "OWNER", "OPENED", "UPDATED", "TITLE")]
    for t in tickets:
        rows.append((safe(t.key), safe(t.status), safe(t.owner or "-"), _minute(t.opened_at, tz),
                     _minute(t.updated_at, tz), _clip(t.title, 60)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _minute(iso: str | None, tz: ZoneInfo) -> str:
    shown = local(iso, tz)
    return shown[:16].replace("T", " ") if shown else "-"


def _clip(s: str, n: int) -> str:
    s = safe(" ".join((s or "").split()))
    return s if len(s) <= n else s[: n - 1] + "…"
