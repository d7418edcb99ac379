"""The weekly handoff: what the outgoing person hands the incoming one. Pure: data in, data out.

`handoff` gathers four parts: which tickets stand in which section (`sections`: plain lists of
tickets, the decisions), how each is shown (`rows`: the templates' rows, the presentation), the
figures of the past (weekly_figures.py: counts, the week-over-week comparison, medians) and the
weeks ahead (rotation, outages, holidays, meetings). Idle and waiting figures are elapsed business
time (policy.idle, policy.waited), as in the reminders.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from maildaemon import workdays
from maildaemon.model import DONE_STATUSES, Due, Snooze, Team, Ticket, parse_iso
from maildaemon.people import away_until, member_name, outages_between
from maildaemon.policy import (flags, idle, key_width, snoozed, snoozed_rows, team_addresses, ticket_row, waited,
                               waiting_for_triage)
from maildaemon.rotation import UNASSIGNED, Assignment, who_on
from maildaemon.weekly_figures import (WEEKS_SHOWN, a_week_earlier, closed_between, median_hours, opened_between,
                                       signed, week_over_week, weekly_counts, weekly_medians)

LISTED = ("unassigned", "opened", "closed", "past_deadline", "over_30_days", "waiting_on_users", "warnings")


def handoff(tickets: Sequence[Ticket], ledger: Sequence[Assignment], team: Team, now: datetime,
            snoozes: dict[str, Snooze] | None = None) -> Due:
    """The handoff of the duty week containing `now`, to the incoming person, Cc the team.
    `snoozes`: the snooze records by ticket key; those that hold at `now` are listed
    with their date and reason (SPEC 10)."""
    week = workdays.week_start(now, team)
    outgoing, incoming = who_on(ledger, week), who_on(ledger, week + workdays.WEEK)
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    data = {"week": week.isoformat(),
            "this_week": name_or_unassigned(team, outgoing.email if outgoing else None),
            "next_week": name_or_unassigned(team, incoming.email if incoming else None),
            **rows(sections(tickets, team, now), team, now),
            "snoozed": snoozed_rows(open_tickets, snoozed(tickets, snoozes, team, now), team, now),
            **figures(tickets, team, now),
            "rotation": _next_weeks(ledger, team, week + workdays.WEEK, 4),
            "meetings": _meetings(team, week + workdays.WEEK)}
    listed = [r for k in LISTED + ("snoozed",) for r in data[k]] + [r for rs in data["by_owner"].values() for r in rs]
    data["key_width"] = key_width(listed)
    to = (incoming.email,) if incoming else team_addresses(team)
    cc = tuple(a for a in team_addresses(team) if a not in to)
    return Due(kind="handoff", period=f"week-{week.isoformat()}", to=to, cc=cc,
               duty=outgoing.email if outgoing else None, data=data)


def sections(tickets: Sequence[Ticket], team: Team, now: datetime) -> dict[str, list]:
    """Which tickets the handoff lists where: (ticket, why) pairs for the unassigned ones and
    the warnings, tickets for the rest; open tickets with an owner under "by_owner"."""
    start, _ = workdays.duty_period(workdays.week_start(now, team), team)
    until = now + timedelta(microseconds=1)
    today = workdays.local_date(now, team)
    open_tickets = [t for t in tickets if t.status not in DONE_STATUSES]
    warnings = []
    for t in open_tickets:
        notes = flags(t)
        away = away_until(team, t.owner, today) if t.owner else None
        if away:
            notes.append(f"owner away until {away.isoformat()}")
        if notes:
            warnings.append((t, notes))
    return {
        "unassigned": [(t, r) for t in open_tickets if (r := waiting_for_triage(t, team))],
        "opened": [t for t in tickets if opened_between(t, start, until)],
        "closed": [t for t in tickets if closed_between(t, start, until) and t.status in DONE_STATUSES],
        "by_owner": [t for t in open_tickets if t.owner],
        "past_deadline": [t for t in open_tickets
                          if t.next_action_deadline and parse_iso(t.next_action_deadline) <= now],
        "over_30_days": [t for t in open_tickets if t.opened_at and now - parse_iso(t.opened_at) > timedelta(days=30)],
        "waiting_on_users": [t for t in open_tickets if t.status == "waiting-on-user"],
        "warnings": warnings,
    }


def rows(listed: dict[str, list], team: Team, now: datetime) -> dict:
    """The templates' rows of `sections`: each ticket as the mail shows it, with its figures."""
    row = lambda t, **kw: ticket_row(t, team, now, **kw)  # noqa: E731
    by_owner: dict[str, list[dict]] = {}
    for t in listed["by_owner"]:
        idle_figures = idle(t, now, team)
        stale = t.status == "open" and idle_figures["idle_days"] >= team.policy.stale_after_days
        by_owner.setdefault(name_or_unassigned(team, t.owner), []).append(row(t, **idle_figures, stale=stale))
    out = {k: [row(t) for t in listed[k]] for k in ("opened", "closed", "past_deadline", "over_30_days")}
    return dict(out,
                unassigned=[row(t, reason=r, suggested=[], suggested_text="")       # filled by dispatch.suggest_owners
                            for t, r in listed["unassigned"]],
                by_owner=dict(sorted(by_owner.items())),
                waiting_on_users=[row(t, **waited(t, now, team)) for t in listed["waiting_on_users"]],
                warnings=[row(t, flags=notes) for t, notes in listed["warnings"]])


def figures(tickets: Sequence[Ticket], team: Team, now: datetime) -> dict:
    """The numbers of the handoff: open now and its change in a week, the eight-week chart, the
    week-over-week table (both columns up to the same moment of their week), the medians in
    business hours over the tickets opened in the last eight weeks and per week (SPEC 10)."""
    compared = week_over_week(tickets, team, now)
    open_now, open_before = compared["open"]
    earlier = a_week_earlier(now, team)
    recent = [t for t in tickets if t.opened_at and parse_iso(t.opened_at) >= now - timedelta(weeks=WEEKS_SHOWN)]
    spans: dict = {}                  # business hours of each (opened, assigned/answered) span, once
    return {
        "open_now": open_now, "open_delta": signed(open_now - open_before),
        "weekly": weekly_counts(tickets, team, now),
        "week_over_week": compared,
        "compared_at": earlier.strftime("%Y-%m-%d %H:%M"),
        "compared_moment": f"{workdays.DAY_NAMES[earlier.weekday()]} {earlier:%H:%M}",
        "median_hours_to_assignment": median_hours([(t.opened_at, t.first_assigned_at) for t in recent], team, spans),
        "median_hours_to_first_response": median_hours([(t.opened_at, t.first_team_update_at) for t in recent], team,
                                                       spans),
        "medians": weekly_medians(tickets, team, now, spans),
    }


def name_or_unassigned(team: Team, email: str | None) -> str:
    """A week's person as the handoff and the brief show them: the member's name, else UNASSIGNED."""
    return member_name(team, email) or UNASSIGNED


def _next_weeks(ledger, team: Team, first, n: int) -> list[dict]:
    out = []
    for i in range(n):
        week = first + timedelta(weeks=i)
        a = who_on(ledger, week)
        end = week + timedelta(days=6)
        out.append({"week": week.isoformat(), "name": name_or_unassigned(team, a.email if a else None),
                    "away": [f"{name_or_unassigned(team, o.member)} {o.start.isoformat()}..{o.end.isoformat()}"
                             for o in outages_between(team, week, end)],
                    "holidays": [f"{d.isoformat()} {name}" for d, name in workdays.holidays_in(week, end, team)]})
    return out


def _meetings(team: Team, week) -> list[dict]:
    out = []
    for m in team.meetings:
        day = workdays.week_day(week, m.day, team)
        out.append({"date": day.isoformat(), "day": workdays.DAY_NAMES[day.weekday()],
                    "time": m.time.strftime("%H:%M"), "name": m.name})
    return sorted(out, key=lambda x: (x["date"], x["time"]))
