"""Silence is an outage (SPEC 10): the alarm when the stream stops, and the line when it is back.

`silence` once per silence, at any moment: no trusted notification applied (the state's
`Health.last_applied_at`, kept by ingest, passed in as `stream`) for `policy.silence_after_hours`
business hours. Its period is the moment of the last notification applied, so a later silence is
a new mail. The first digest after the stream resumed (`Health.stream_resumed`) says so in one
line, and goes at the next reminder time even with no ticket to list.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from maildaemon.model import Due, Health, OutboxRecord, Team, parse_iso
from maildaemon.policy.counting import business_hours_between, business_hours_since, tenths
from maildaemon.policy.rows import local_minute


def silent_since(stream: Health | None, team: Team, now: datetime) -> str | None:
    """The moment (UTC ISO) the last trusted notification was applied, when that was at least
    `policy.silence_after_hours` business hours before `now`; None while the stream is alive, the
    alarm is off (0) or nothing was ever applied from the live stream."""
    threshold = team.policy.silence_after_hours
    at = stream.last_applied_at if stream else None
    if not threshold or not at:
        return None
    return at if business_hours_between(parse_iso(at), now, team) >= threshold else None


def silence_period(since: str) -> str:
    return "since-" + since


def due_silence(stream: Health | None, team: Team, now: datetime, duty: str | None) -> Due | None:
    """One `silence` mail to the person on duty per silence (its period: the last notification's moment)."""
    since = silent_since(stream, team, now)
    if since is None or not duty:
        return None
    last = dict(stream.last_applied or {})
    date_ = last.get("date") or stream.last_applied_date
    return Due(kind="silence", period=silence_period(since), to=(duty,), duty=duty,
               data={"since": local_minute(since, team),
                     "hours": business_hours_since(since, now, team),
                     "threshold": team.policy.silence_after_hours,
                     "last": {"key": last.get("key"), "title": last.get("title") or "",
                              "subject": last.get("subject") or "",
                              "date": local_minute(date_, team) if date_ else None},
                     "list_address": team.list_address})


def stream_resumed(stream: Health | None, sent: Sequence[OutboxRecord], team: Team) -> dict | None:
    """What the first digest after a silence says: when the stream came back and after how long,
    while a `silence` mail went out for that silence and no digest has been queued since."""
    r = stream.stream_resumed if stream else None
    if not isinstance(r, dict) or not r.get("at") or not r.get("silent_since"):
        return None
    period = silence_period(r["silent_since"])
    if not any(x.kind == "silence" and x.period == period for x in sent):
        return None
    if any(x.kind == "unassigned" and x.created_at >= r["at"] for x in sent):
        return None
    return {"since": local_minute(r["silent_since"], team), "at": local_minute(r["at"], team),
            "hours": tenths(business_hours_between(parse_iso(r["silent_since"]), parse_iso(r["at"]), team))}
