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
- SPEC 10. A snoozed ticket (snooze.py: the records are passed in as plain data) gets no owner,
  user, close or work-done mail and is left out of the unassigned digest while its snooze holds.
- `work-done` once per support ticket and set of work items, when every work item it links to
  that the stream carries (a link whose key is a ticket of the state) is resolved or closed and
  the support ticket is not: to its owner, Cc the person on duty (to the person on duty when it
  has no owner or the owner is away), at the reminder times. Its period names the set of items,
  so the Message-ID says "once"; only while the newest closing is under WORK_DONE_WINDOW old (a
  state imported from an archive does not mail about work finished months ago, and the outbox
  keeps its records longer than that, so "once" holds).
- `silence` once per silence, at any moment: no trusted notification applied (ingest's meta
  `last_applied_at`, passed in as `stream`) for `policy.silence_after_hours` business hours.
  Its period is the moment of the last notification applied, so a later silence is a new mail.
  The first digest after the stream resumed (ingest's meta `stream_resumed`) says so in one line,
  and goes at the next reminder time even with no ticket to list.
- `brief` (brief.py) from `brief_minutes` before a meeting marked `brief = true` until it starts.
"N business days" is always elapsed business time (SPEC 9, "Counting, exactly"): N whole
`work_hours` days of business time since the moment, counted in closed form by
business.business_time, so Monday 13:30 is 1 business day ago from Tuesday 13:30, not before.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from maildaemon import business, snooze
from maildaemon.model import DAYS
from maildaemon.model import DONE_STATUSES, Due, Team, Ticket, valid_address
from maildaemon.model import parse_iso as _dt
from maildaemon.rotation import Assignment, announcement, on_duty
from maildaemon.views import next_action

REPEATING = ("owner", "owner-away", "user", "close")
WORK_DONE_WINDOW = timedelta(weeks=8)   # work finished longer ago than this is not news (outbox.KEEP is 13)
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
                  sent: Sequence[dict], now: datetime, snoozes: dict[str, dict] | None = None,
                  stream: dict | None = None, briefs=None) -> list[Due]:
    """Every mail due at `now` but the handoff: the announcement, the silence alarm, meeting
    briefs, and at a reminder time the digest and each ticket's reminder or work-done mail.

    `snoozes`: the snooze records by ticket key (`view.records(snooze.TABLE)`); `stream`: the
    state's meta about the stream (`last_applied_at`, `last_applied`, `stream_resumed`: see
    ingest.py). Both plain data; without them nothing is snoozed and the stream is not watched.
    `briefs`: `brief.due_briefs` (passed in by the caller: brief.py builds on this module)."""
    out: list[Due] = []
    duty = on_duty(ledger, team, business.local_date(now, team))
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
    earlier_today = any(r["kind"] == "unassigned" and r.get("period", "").startswith(slot.day.isoformat())
                        and r.get("period") != slot.period for r in sent)
    digest = unassigned_digest(awake, team, now, slot, duty_email, list_meetings=not earlier_today,
                               resumed=stream_resumed(stream, sent, team))
    if digest:
        out.append(digest)
    previous = last_sent(sent)
    by_key = tickets_by_key(tickets)
    for t in awake:
        mail = ticket_reminder(t, team, now, slot.day, duty_email)
        if mail and not _repeated(previous.get((mail.kind, t.key)), now, team):
            out.append(mail)
        done = work_done(t, by_key, team, now, slot.day, duty_email)
        if done:
            out.append(done)
    return out


# --- snooze (SPEC 10) -------------------------------------------------------------------------

def snoozed(tickets: Sequence[Ticket], snoozes: dict[str, dict] | None, team: Team, now: datetime) -> dict[str, dict]:
    """The snooze records that hold at `now`, by ticket key."""
    if not snoozes:
        return {}
    return snooze.active(snoozes, {t.key: t for t in tickets}, team, now)


def snoozed_rows(tickets: Sequence[Ticket], held: dict[str, dict], team: Team, now: datetime) -> list[dict]:
    """What the handoff and the brief show of the snoozed tickets: until when and why."""
    return [_ticket_row(t, team, now, until=held[t.key].get("until", ""), snooze_reason=held[t.key].get("reason") or "")
            for t in tickets if t.key in held]


# --- work done elsewhere (SPEC 10) -----------------------------------------------------------

def tickets_by_key(tickets: Sequence[Ticket]) -> dict[str, Ticket]:
    return {t.key.lower(): t for t in tickets}


def work_items(t: Ticket, by_key: dict[str, Ticket]) -> tuple[list[Ticket], list[dict]]:
    """The work items `t` links to that the stream carries (their tickets), and the links it
    does not carry (no status known: not followed)."""
    followed, others = [], []
    for link in t.links:
        item = by_key.get(str(link.get("key") or "").lower())
        if item is not None and item.key != t.key:
            followed.append(item)
        else:
            others.append(link)
    return followed, others


def done_at(item: Ticket) -> str | None:
    """When a resolved or closed work item took that status (UTC ISO)."""
    return item.status_since or item.updated_at


def work_done_rows(t: Ticket, by_key: dict[str, Ticket], team: Team) -> tuple[list[dict], list[dict]] | None:
    """The items of a support ticket whose work is all done, each with when it was closed (local
    time), and the links the stream does not carry; None while an item is not done (or none is known)."""
    items, others = work_items(t, by_key)
    if not items or any(i.status not in DONE_STATUSES for i in items):
        return None
    tz = business.zone(team)
    rows = [{"key": i.key, "title": i.title, "url": i.url, "status": i.status, "status_raw": i.status_raw,
             "closed_at": done_at(i),
             "closed": _dt(done_at(i)).astimezone(tz).strftime("%Y-%m-%d %H:%M") if done_at(i) else "unknown"}
            for i in sorted(items, key=lambda i: (done_at(i) or "", i.key))]
    return rows, [{"key": x.get("key"), "url": x.get("url")} for x in others]


def work_done(t: Ticket, by_key: dict[str, Ticket], team: Team, now: datetime, day: date,
              duty: str | None) -> Due | None:
    """The one `work-done` mail of a still open support ticket whose work items are all closed."""
    if t.status in DONE_STATUSES:
        return None
    found = work_done_rows(t, by_key, team)
    if found is None:
        return None
    items, others = found
    newest = max((r["closed_at"] for r in items if r["closed_at"]), default=None)
    if newest is None or not timedelta(0) <= now - _dt(newest) <= WORK_DONE_WINDOW:
        return None                     # not done yet at `now` (a preview of an earlier moment), or old news
    away = _away(team, t.owner, day) if t.owner else None
    to = t.owner if t.owner and not away else duty
    if not to:
        return None
    keys = "\n".join(sorted(r["key"].lower() for r in items))
    period = "items-" + hashlib.sha1(keys.encode()).hexdigest()[:12]      # once per set of closed items
    width = min(KEY_WIDTH_MAX, max(len(r["key"]) for r in items))
    return Due(kind="work-done", period=period, to=(to,), cc=(duty,) if duty and duty != to else (), duty=duty,
               tickets=(t.key,), in_reply_to=t.latest_message_id,
               data={"ticket": _ticket_row(t, team, now), "items": items, "not_followed": others,
                     "owner": _person(team, t.owner) if t.owner else None,
                     "away_until": away.isoformat() if away else None,
                     "to_owner": to == t.owner, "key_width": width})


# --- silence is an outage (SPEC 10) ----------------------------------------------------------

STREAM_META = ("last_applied_at", "last_applied_date", "last_applied", "stream_resumed")


def stream_meta(meta: dict) -> dict:
    """What the policy reads of the state's meta about the stream (ingest.py keeps it): the
    silence alarm and the digest's line when the stream is back."""
    return {k: meta.get(k) for k in STREAM_META}


def silent_since(stream: dict | None, team: Team, now: datetime) -> str | None:
    """The moment (UTC ISO) the last trusted notification was applied, when that was at least
    `policy.silence_after_hours` business hours before `now`; None while the stream is alive, the
    alarm is off (0) or nothing was ever applied from the live stream."""
    threshold = team.policy.silence_after_hours
    at = (stream or {}).get("last_applied_at")
    if not threshold or not at:
        return None
    return at if business_hours_between(_dt(at), now, team) >= threshold else None


def silence_period(since: str) -> str:
    return "since-" + since


def due_silence(stream: dict | None, team: Team, now: datetime, duty: str | None) -> Due | None:
    """One `silence` mail to the person on duty per silence (its period: the last notification's moment)."""
    since = silent_since(stream, team, now)
    if since is None or not duty:
        return None
    tz = business.zone(team)
    last = dict((stream or {}).get("last_applied") or {})
    date_ = last.get("date") or (stream or {}).get("last_applied_date")
    return Due(kind="silence", period=silence_period(since), to=(duty,), duty=duty,
               data={"since": _dt(since).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                     "hours": business_hours_since(since, now, team),
                     "threshold": team.policy.silence_after_hours,
                     "last": {"key": last.get("key"), "title": last.get("title") or "",
                              "subject": last.get("subject") or "",
                              "date": _dt(date_).astimezone(tz).strftime("%Y-%m-%d %H:%M") if date_ else None},
                     "list_address": team.list_address})


def stream_resumed(stream: dict | None, sent: Sequence[dict], team: Team) -> dict | None:
    """What the first digest after a silence says: when the stream came back and after how long,
    while a `silence` mail went out for that silence and no digest has been queued since."""
    r = (stream or {}).get("stream_resumed")
    if not isinstance(r, dict) or not r.get("at") or not r.get("silent_since"):
        return None
    period = silence_period(r["silent_since"])
    if not any(x["kind"] == "silence" and x.get("period") == period for x in sent):
        return None
    if any(x["kind"] == "unassigned" and x.get("created_at", "") >= r["at"] for x in sent):
        return None
    tz = business.zone(team)
    return {"since": _dt(r["silent_since"]).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "at": _dt(r["at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "hours": tenths(business_hours_between(_dt(r["silent_since"]), _dt(r["at"]), team))}


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
                      duty: str | None, list_meetings: bool | None = None, resumed: dict | None = None) -> Due | None:
    waiting, flagged = [], []
    for t in open_tickets:
        reason = waiting_for_triage(t, team)
        since = t.owner_changed_at if (t.owner is None and t.owner_changed_at) else t.opened_at
        if reason and since:
            hours = business_hours_between(_dt(since), now, team)
            if hours >= team.policy.unassigned_after_hours:
                waiting.append(_ticket_row(t, team, now, reason=reason, hours=tenths(hours),
                                           suggested=[], suggested_text=""))   # filled by duty.suggest_owners
        if flags(t):
            flagged.append(_ticket_row(t, team, now, flags=flags(t)))
    if not waiting and not resumed:
        return None
    at = now.astimezone(business.zone(team)).time().replace(tzinfo=None, second=0, microsecond=0)
    meetings = [{"time": m.time.strftime("%H:%M"), "name": m.name} for m in sorted(team.meetings, key=lambda m: m.time)
                if m.day == DAYS[slot.day.weekday()] and m.time >= at] \
        if (slot.first_of_day if list_meetings is None else list_meetings) else []
    return Due(kind="unassigned", period=slot.period, to=(duty,) if duty else team_addresses(team), duty=duty,
               tickets=tuple(r["key"] for r in waiting),
               data={"tickets": waiting, "flagged": flagged, "meetings": meetings, "day": slot.day.isoformat(),
                     "slot": slot.at.strftime("%H:%M"), "resumed": resumed,
                     "rotation_conflicts": [],                 # filled by duty.plan for a digest that goes out
                     "key_width": min(KEY_WIDTH_MAX, max([len(r["key"]) for r in waiting + flagged] or [0]))})


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
