"""Policy stage: which mails are due at `now`. A pure function of tickets, rotation, team, sent log.

Nothing here reads a clock or a file: the caller passes `now` and the sent log (the outbox), so a
restart at any moment re-decides the same mails with the same identities (kind, tickets, period),
and the outbox refuses the ones already sent. Rules (SPEC section 8):
- Nothing at all goes out while the rotation has no one on duty for the current week: every
  mail is signed by the person on duty (SPEC 8), and a mail signed by nobody is worse than none
  (SPEC 9). `check`, `status` and the daemon's log say so instead (rotation.nobody_on_duty).
- Reminders fall due only on business days, at `policy.reminder_times` (the latest slot at or
  before `now` today; a daemon that was down catches up that slot, not earlier days).
- Unassigned digest to the person on duty at every slot while an open ticket has had no owner
  (or still carries the triage next action) for `unassigned_after_hours` business hours; not
  subject to `repeat_after_days`. The first digest sent on a day lists the day's meetings that
  are still to come.
- Owner reminder while the ticket is `open`, owned, and stale (no team update for
  `stale_after_days` business days) or past its next-action deadline; the person on duty is told
  instead while the owner is away.
- User reminder from `user_wait_days` business days of waiting on the user until
  `user_close_days`, then a close suggestion to the owner.
- No reminder for the same ticket and kind within `repeat_after_days` business days.
- The duty announcement once a week from `announce_time`; the handoff is `handoff.py`'s.
"N business days" is always elapsed business time (SPEC 9, "Counting, exactly"): N whole
`work_hours` days of business time since the moment, counted in closed form by
business.business_time, so Monday 13:30 is 1 business day ago from Tuesday 13:30, not before.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from maildaemon import business
from maildaemon.config import DAYS
from maildaemon.model import DONE_STATUSES, Due, Team, Ticket, valid_address
from maildaemon.model import parse_iso as _dt
from maildaemon.rotation import Assignment, announcement, on_duty
from maildaemon.views import next_action

REPEATING = ("owner", "owner-away", "user", "close")
KEY_WIDTH_MAX = 30      # text parts: the key column; a longer key puts its title on the next line


@dataclass(frozen=True)
class Slot:
    day: date
    at: time
    first_of_day: bool

    @property
    def period(self) -> str:
        return f"{self.day.isoformat()}T{self.at:%H%M}"


def current_slot(now: datetime, team: Team) -> Slot | None:
    """The reminder time slot `now` falls in, on a business day; None before the first or off days."""
    local = now.astimezone(business.zone(team))
    if not business.is_business_day(local.date(), team):
        return None
    passed = [t for t in team.policy.reminder_times if t <= local.time().replace(tzinfo=None)]
    if not passed:
        return None
    return Slot(local.date(), passed[-1], passed[-1] == team.policy.reminder_times[0])


def business_hours_between(start: datetime, end: datetime, team: Team) -> float:
    """Working hours (team.work_hours on business days, local time) between two instants, in
    closed form (business.business_time)."""
    return business.business_time(start, end, team) / timedelta(hours=1)


def last_sent(sent: Sequence[dict]) -> dict[tuple[str, str], str]:
    """(kind, ticket key) -> when the newest such mail was queued (ISO), from outbox records."""
    out: dict[tuple[str, str], str] = {}
    for rec in sent:
        for key in rec.get("tickets") or ():
            k = (rec["kind"], key)
            if rec["created_at"] > out.get(k, ""):
                out[k] = rec["created_at"]
    return out


def team_addresses(team: Team) -> tuple[str, ...]:
    return tuple(m.email for m in team.members)


def due_reminders(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team,
                  sent: Sequence[dict], now: datetime) -> list[Due]:
    """Every reminder due at `now` (announcement included; the handoff is separate)."""
    out: list[Due] = []
    duty = on_duty(ledger, team, business.local_date(now, team))
    if duty is None:
        return out                        # nobody to sign anything (SPEC 9): nothing goes out
    announce = due_announcement(ledger, team, now)
    if announce:
        out.append(announce)
    slot = current_slot(now, team)
    if slot is None:
        return out
    duty_email = duty.email
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    # the day's meetings go in the first digest actually sent that day, whichever slot it is
    earlier_today = any(r["kind"] == "unassigned" and r.get("period", "").startswith(slot.day.isoformat())
                        and r.get("period") != slot.period for r in sent)
    digest = unassigned_digest(open_tickets, team, now, slot, duty_email, list_meetings=not earlier_today)
    if digest:
        out.append(digest)
    previous = last_sent(sent)
    for t in open_tickets:
        mail = ticket_reminder(t, team, now, slot.day, duty_email)
        if mail and not _repeated(previous.get((mail.kind, t.key)), now, team):
            out.append(mail)
    return out


def team_clock(t: Ticket) -> str | None:
    """Since when an owned ticket has waited for its team: the latest team update, change of
    owner or opening (stored UTC ISO strings compare as times)."""
    return max((x for x in (t.last_team_update_at, t.owner_changed_at, t.opened_at) if x), default=None)


def waiting_since(t: Ticket) -> str | None:
    """Since when a ticket has waited on its user: the status change, or the user's own later
    reply (which restarts the wait even if the ticket system left the status as it was)."""
    return max((x for x in (t.status_since, t.last_user_update_at) if x), default=None) if t.status_since else None


def business_days_since(since: str | None, now: datetime, team: Team) -> int:
    """Whole business days elapsed from a stored time to `now` (0 when unknown)."""
    return business.business_days_elapsed(_dt(since), now, team) if since else 0


def business_hours_since(since: str | None, now: datetime, team: Team) -> float:
    """Business hours elapsed from a stored time to `now`, in whole tenths (0 when unknown)."""
    return tenths(business_hours_between(_dt(since), now, team)) if since else 0.0


def tenths(hours: float) -> float:
    """Hours shown to a tenth, rounded down: 7 h 59 min is 7.9 business hours, never the 8 that
    would read as a whole business day not yet elapsed."""
    return math.floor(round(hours * 10, 6)) / 10


def waiting_for_triage(t: Ticket, team: Team) -> str | None:
    """Why an open ticket waits for the person on duty, or None."""
    if t.owner is None:
        return "no owner"
    if team.triage_next_action and (t.next_action or "").strip().lower() == team.triage_next_action.lower():
        return f"next action is still {team.triage_next_action}"
    return None


def flags(t: Ticket) -> list[str]:
    out = []
    if t.triage_removed:
        out.append("triage pseudo-user removed: the stream no longer hears about it")
    if len(t.assignment_order) > 1:
        out.append("several team members assigned")
    return out


def unassigned_digest(open_tickets: Sequence[Ticket], team: Team, now: datetime, slot: Slot,
                      duty: str | None, list_meetings: bool | None = None) -> Due | None:
    waiting, flagged = [], []
    for t in open_tickets:
        reason = waiting_for_triage(t, team)
        since = t.owner_changed_at if (t.owner is None and t.owner_changed_at) else t.opened_at
        if reason and since:
            hours = business_hours_between(_dt(since), now, team)
            if hours >= team.policy.unassigned_after_hours:
                waiting.append(_ticket_row(t, team, now, reason=reason, hours=tenths(hours)))
        if flags(t):
            flagged.append(_ticket_row(t, team, now, flags=flags(t)))
    if not waiting:
        return None
    at = now.astimezone(business.zone(team)).time().replace(tzinfo=None, second=0, microsecond=0)
    meetings = [{"time": m.time.strftime("%H:%M"), "name": m.name} for m in sorted(team.meetings, key=lambda m: m.time)
                if m.day == DAYS[slot.day.weekday()] and m.time >= at] \
        if (slot.first_of_day if list_meetings is None else list_meetings) else []
    return Due(kind="unassigned", period=slot.period, to=(duty,) if duty else team_addresses(team), duty=duty,
               tickets=tuple(r["key"] for r in waiting),
               data={"tickets": waiting, "flagged": flagged, "meetings": meetings, "day": slot.day.isoformat(),
                     "slot": slot.at.strftime("%H:%M"),
                     "key_width": min(KEY_WIDTH_MAX, max(len(r["key"]) for r in waiting + flagged))})


def ticket_reminder(t: Ticket, team: Team, now: datetime, day: date, duty: str | None) -> Due | None:
    """The one reminder a ticket may need today (owner, owner-away, user or close), or None."""
    p = team.policy
    if t.status == "open" and t.owner:
        clock = team_clock(t)
        idle = business_days_since(clock, now, team)
        overdue = bool(t.next_action_deadline) and _dt(t.next_action_deadline) <= now
        if idle < p.stale_after_days and not overdue:
            return None
        row = _ticket_row(t, team, now, idle_days=idle, idle_hours=business_hours_since(clock, now, team),
                          overdue=overdue)
        away = _away(team, t.owner, day)
        if away:
            return Due(kind="owner-away", period=day.isoformat(), to=(duty,) if duty else team_addresses(team),
                       duty=duty, tickets=(t.key,), in_reply_to=t.latest_message_id,
                       data={"ticket": row, "away_until": away.isoformat(), "owner": _person(team, t.owner)})
        return Due(kind="owner", period=day.isoformat(), to=(t.owner,), cc=(duty,) if duty and duty != t.owner else (),
                   duty=duty, tickets=(t.key,), in_reply_to=t.latest_message_id,
                   data={"ticket": row, "owner": _person(team, t.owner)})
    if t.status == "waiting-on-user" and t.status_since:
        since = waiting_since(t)
        waited = business_days_since(since, now, team)
        row = _ticket_row(t, team, now, waiting_days=waited, waiting_hours=business_hours_since(since, now, team))
        if waited >= p.user_close_days:
            to = t.owner if t.owner and not _away(team, t.owner, day) else duty
            if to:
                return Due(kind="close", period=day.isoformat(), to=(to,), duty=duty, tickets=(t.key,),
                           in_reply_to=t.latest_message_id,
                           data={"ticket": row, "owner": _person(team, t.owner) if t.owner else None})
        elif waited >= p.user_wait_days and valid_address(t.submitter):
            return Due(kind="user", period=day.isoformat(), to=(t.submitter,), cc=(team.list_address,), duty=duty,
                       tickets=(t.key,), in_reply_to=t.latest_message_id, data={"ticket": row})
    return None


def due_announcement(ledger: Sequence[Assignment], team: Team, now: datetime) -> Due | None:
    """The week's duty announcement, from `announce_time` until the week ends (catch-up)."""
    week = business.week_start(now, team)
    day_name, at = team.policy.announce_time
    offset = (DAYS.index(day_name) - DAYS.index(team.duty_start)) % 7
    moment = datetime.combine(week + timedelta(days=offset), at, tzinfo=business.zone(team))
    if now < moment:
        return None
    data = announcement(team, ledger, week)
    duty = data["this_week"]["email"]
    return Due(kind="announcement", period=f"week-{week.isoformat()}", to=team_addresses(team), duty=duty, data=data)


def handoff_due(team: Team, now: datetime) -> bool:
    """From `handoff_time` in the duty week until the week ends (a daemon that was down catches up)."""
    week = business.week_start(now, team)
    day_name, at = team.policy.handoff_time
    offset = (DAYS.index(day_name) - DAYS.index(team.duty_start)) % 7
    return now >= datetime.combine(week + timedelta(days=offset), at, tzinfo=business.zone(team))


def _repeated(previous: str | None, now: datetime, team: Team) -> bool:
    """Sent less than `repeat_after_days` business days ago, counted from the reminder slot the
    previous one went out in (a daemon's tick a few seconds after 09:30 must not push the repeat
    two days later from 09:30 to 14:00)."""
    if not previous:
        return False
    return business.business_days_elapsed(_slot_start(_dt(previous), team), now, team) \
        < team.policy.repeat_after_days


def _slot_start(when: datetime, team: Team) -> datetime:
    """The start of the reminder slot an instant falls in (the instant itself outside any slot)."""
    slot = current_slot(when, team)
    return datetime.combine(slot.day, slot.at, tzinfo=business.zone(team)) if slot else when


def _away(team: Team, email: str, day: date):
    for o in team.outages:
        if o.member == email and o.start <= day <= o.end:
            return o.end
    return None


def _person(team: Team, email: str | None) -> dict | None:
    m = team.member(email)
    return {"name": m.name if m else (email or ""), "email": email}


def _ticket_row(t: Ticket, team: Team, now: datetime, **extra) -> dict:
    """What templates show of a ticket: plain data, local times."""
    tz = business.zone(team)
    opened = _dt(t.opened_at) if t.opened_at else now
    return {"key": t.key, "title": t.title, "url": t.url, "status": t.status, "status_raw": t.status_raw,
            "owner": t.owner, "owner_name": (team.member(t.owner).name if team.member(t.owner) else t.owner),
            "submitter": t.submitter, "next_action": next_action(t.next_action),
            "reply_to": t.reply_to, "subject_token": t.subject_token,     # where a user's answer goes
            "deadline": _dt(t.next_action_deadline).astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if t.next_action_deadline else None,
            "opened": opened.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "age_days": max(0, (now - opened).days), **extra}
