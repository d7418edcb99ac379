"""Which mails are due at `now`: the digest, each ticket's reminder, and the rest gathered.

Rules (SPEC 8; the package's docstring has them all): the unassigned digest at every slot while a
ticket waits for triage; the owner, owner-away, user and close reminders, at most once per
`repeat_after_days`; and, from their own modules, the announcement, the silence alarm, the
meeting briefs and work-done.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from maildaemon import workdays
from maildaemon.model import DAYS, DONE_STATUSES, Due, Health, OutboxRecord, Snooze, Team, Ticket, parse_iso, valid_address
from maildaemon.people import away_until
from maildaemon.policy.counting import business_hours_between, idle, tenths, waited
from maildaemon.policy.rows import (flags, key_width, person, snoozed, team_addresses, ticket_row,
                                    waiting_for_triage)
from maildaemon.policy.silence import due_silence, stream_resumed
from maildaemon.policy.slots import Slot, announce_moment, current_slot, repeated
from maildaemon.policy.work_done import tickets_by_key, work_done
from maildaemon.rotation import Assignment, announcement, on_duty

REPEATING = ("owner", "owner-away", "user", "close")     # the kinds `repeat_after_days` holds back


def due_reminders(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team,
                  sent: Sequence[OutboxRecord], now: datetime, snoozes: dict[str, Snooze] | None = None,
                  stream: Health | None = None, briefs=None) -> list[Due]:
    """Every mail due at `now` but the handoff: the announcement, the silence alarm, meeting
    briefs, and at a reminder time the digest and each ticket's reminder or work-done mail.

    `sent`: the outbox; `snoozes`: the snoozes by ticket key; `stream`: what the state knows of
    the stream (`Health`: `last_applied*`, `stream_resumed`, kept by ingest.py); all from the
    state's `Snapshot`. Without them nothing is snoozed and the stream is not watched.
    `briefs`: `brief.due_briefs` (passed in by the caller: brief.py builds on this package)."""
    out: list[Due] = []
    duty = on_duty(ledger, team, workdays.local_date(now, team))
    if duty is None:
        return out                        # nobody to sign anything (SPEC 9): nothing goes out
    announce = due_announcement(ledger, team, now)
    if announce:
        out.append(announce)
    duty_email = duty.email
    silence = due_silence(stream, team, now, duty_email)
    if silence:
        out.append(silence)
    held = snoozed(tickets, snoozes, team, now)
    if briefs is not None:
        out += briefs(tickets, ledger, team, sent, now, duty_email, held)
    slot = current_slot(now, team)
    if slot is None:
        return out
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    awake = [t for t in open_tickets if t.key not in held]
    # the day's meetings go in the first digest actually sent that day, whichever slot it is
    earlier_today = any(r.kind == "unassigned" and r.period.startswith(slot.day.isoformat())
                        and r.period != slot.period for r in sent)
    digest = unassigned_digest(awake, team, now, slot, duty_email, list_meetings=not earlier_today,
                               resumed=stream_resumed(stream, sent, team))
    if digest:
        out.append(digest)
    previous = last_sent(sent)
    by_key = tickets_by_key(tickets)
    for t in awake:
        mail = ticket_reminder(t, team, now, slot.day, duty_email)
        if mail and not repeated(previous.get((mail.kind, t.key)), now, team):
            out.append(mail)
        done = work_done(t, by_key, team, now, slot.day, duty_email)
        if done:
            out.append(done)
    return out


def last_sent(sent: Sequence[OutboxRecord]) -> dict[tuple[str, str], str]:
    """(kind, ticket key) -> when the newest such mail was queued (ISO), from outbox records."""
    out: dict[tuple[str, str], str] = {}
    for rec in sent:
        for key in rec.tickets:
            k = (rec.kind, key)
            if rec.created_at > out.get(k, ""):
                out[k] = rec.created_at
    return out


def due_announcement(ledger: Sequence[Assignment], team: Team, now: datetime) -> Due | None:
    """The week's duty announcement, from `announce_time` until the week ends (catch-up)."""
    if now < announce_moment(now, team):
        return None
    week = workdays.week_start(now, team)
    data = announcement(team, ledger, week)
    duty = data["this_week"]["email"]
    return Due(kind="announcement", period=f"week-{week.isoformat()}", to=team_addresses(team), duty=duty, data=data)


def unassigned_digest(open_tickets: Sequence[Ticket], team: Team, now: datetime, slot: Slot,
                      duty: str | None, list_meetings: bool | None = None, resumed: dict | None = None) -> Due | None:
    """The digest of the tickets waiting for triage for `unassigned_after_hours` business hours,
    with the flagged ones and (first digest of the day) the meetings still to come."""
    waiting, flagged = [], []
    for t in open_tickets:
        reason = waiting_for_triage(t, team)
        since = t.owner_changed_at if (t.owner is None and t.owner_changed_at) else t.opened_at
        if reason and since:
            hours = business_hours_between(parse_iso(since), now, team)
            if hours >= team.policy.unassigned_after_hours:
                waiting.append(ticket_row(t, team, now, reason=reason, hours=tenths(hours),
                                          suggested=[], suggested_text=""))   # filled by dispatch.suggest_owners
        if flags(t):
            flagged.append(ticket_row(t, team, now, flags=flags(t)))
    if not waiting and not resumed:
        return None
    at = now.astimezone(workdays.zone(team)).time().replace(tzinfo=None, second=0, microsecond=0)
    meetings = [{"time": m.time.strftime("%H:%M"), "name": m.name} for m in sorted(team.meetings, key=lambda m: m.time)
                if m.day == DAYS[slot.day.weekday()] and m.time >= at] \
        if (slot.first_of_day if list_meetings is None else list_meetings) else []
    return Due(kind="unassigned", period=slot.period, to=(duty,) if duty else team_addresses(team), duty=duty,
               tickets=tuple(r["key"] for r in waiting),
               data={"tickets": waiting, "flagged": flagged, "meetings": meetings, "day": slot.day.isoformat(),
                     "slot": slot.at.strftime("%H:%M"), "resumed": resumed,
                     "rotation_conflicts": [],                 # filled by dispatch.plan for a digest that goes out
                     "key_width": key_width(waiting + flagged)})


def ticket_reminder(t: Ticket, team: Team, now: datetime, day: date, duty: str | None) -> Due | None:
    """The one reminder a ticket may need today (owner, owner-away, user or close), or None."""
    p = team.policy
    if t.status == "open" and t.owner:
        figures = idle(t, now, team)
        overdue = bool(t.next_action_deadline) and parse_iso(t.next_action_deadline) <= now
        if figures["idle_days"] < p.stale_after_days and not overdue:
            return None
        row = ticket_row(t, team, now, **figures, overdue=overdue)
        away = away_until(team, t.owner, day)
        if away:
            return Due(kind="owner-away", period=day.isoformat(), to=(duty,) if duty else team_addresses(team),
                       duty=duty, tickets=(t.key,), in_reply_to=t.latest_message_id,
                       data={"ticket": row, "away_until": away.isoformat(), "owner": person(team, t.owner)})
        return Due(kind="owner", period=day.isoformat(), to=(t.owner,), cc=(duty,) if duty and duty != t.owner else (),
                   duty=duty, tickets=(t.key,), in_reply_to=t.latest_message_id,
                   data={"ticket": row, "owner": person(team, t.owner)})
    if t.status == "waiting-on-user" and t.status_since:
        figures = waited(t, now, team)
        row = ticket_row(t, team, now, **figures)
        if figures["waiting_days"] >= p.user_close_days:
            to = t.owner if t.owner and not away_until(team, t.owner, day) else duty
            if to:
                return Due(kind="close", period=day.isoformat(), to=(to,), duty=duty, tickets=(t.key,),
                           in_reply_to=t.latest_message_id,
                           data={"ticket": row, "owner": person(team, t.owner) if t.owner else None})
        elif figures["waiting_days"] >= p.user_wait_days and valid_address(t.submitter):
            return Due(kind="user", period=day.isoformat(), to=(t.submitter,), cc=(team.list_address,), duty=duty,
                       tickets=(t.key,), in_reply_to=t.latest_message_id, data={"ticket": row})
    return None
