"""`work-done` (SPEC 10): the support ticket whose linked work items elsewhere are all finished.

Once per support ticket and set of work items, when every work item it links to that the stream
carries (a link whose key is a ticket of the state) is resolved or closed and the support ticket
is not: to its owner, Cc the person on duty (to the person on duty when it has no owner or the
owner is away), at the reminder times. Its period names the set of items, so the Message-ID says
"once"; only while the newest closing is under WORK_DONE_WINDOW old (a state imported from an
archive does not mail about work finished months ago, and the outbox keeps its records longer
than that, so "once" holds).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Sequence

from maildaemon.model import DONE_STATUSES, Due, Team, Ticket, parse_iso
from maildaemon.people import away_until
from maildaemon.policy.rows import key_width, local_minute, person, ticket_row

WORK_DONE_WINDOW = timedelta(weeks=8)   # work finished longer ago than this is not news (outbox.KEEP is 13)


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
    rows = [{"key": i.key, "title": i.title, "url": i.url, "status": i.status, "status_raw": i.status_raw,
             "closed_at": done_at(i),
             "closed": local_minute(done_at(i), team) if done_at(i) else "unknown"}
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
    if newest is None or not timedelta(0) <= now - parse_iso(newest) <= WORK_DONE_WINDOW:
        return None                     # not done yet at `now` (a preview of an earlier moment), or old news
    away = away_until(team, t.owner, day) if t.owner else None
    to = t.owner if t.owner and not away else duty
    if not to:
        return None
    keys = "\n".join(sorted(r["key"].lower() for r in items))
    period = "items-" + hashlib.sha1(keys.encode()).hexdigest()[:12]      # once per set of closed items
    return Due(kind="work-done", period=period, to=(to,), cc=(duty,) if duty and duty != to else (), duty=duty,
               tickets=(t.key,), in_reply_to=t.latest_message_id,
               data={"ticket": ticket_row(t, team, now), "items": items, "not_followed": others,
                     "owner": person(team, t.owner) if t.owner else None,
                     "away_until": away.isoformat() if away else None,
                     "to_owner": to == t.owner, "key_width": key_width(items)})
