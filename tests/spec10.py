"""Builders for SPEC 10's mails (work done elsewhere, snooze, silence, meeting brief): a support
ticket of Ada's whose Jira issue and GitHub issue the stream carries too, the stream's meta as
ingest keeps it, snooze records, and the test team with its Wednesday meeting briefed.

Moments: Alan is on duty the week of Mon 2026-11-16 (builders.LEDGER); the Operations meeting is
Wednesday 16:00, so its brief is due from 15:30.
"""
from __future__ import annotations

import copy

from builders import ADA, ALAN, GRACE, LEDGER, TEAM_DATA, TRIAGE, liso, local, ticket
from maildaemon.config import team_from_dict
from maildaemon.brief import due_briefs
from maildaemon.policy import due_reminders
from maildaemon.model import Health, Snooze

JIRA = {"key": "jira:SOFT-12", "system": "jira", "id": "SOFT-12", "url": "https://jira.example.org/browse/SOFT-12"}
GITHUB = {"key": "github:org/repo#7", "system": "github", "id": "org/repo#7",
          "url": "https://github.com/org/repo/issues/7"}
UNCARRIED = {"key": "jira:OTHER-3", "system": "jira", "id": "OTHER-3", "url": None}

WEDNESDAY = local(2026, 11, 18, 9, 30)
BRIEF_AT = local(2026, 11, 18, 15, 30)


def team_with(policy: dict | None = None, brief: bool = True, brief_minutes: int | None = None):
    """The builders' team; the Wednesday Operations meeting briefed (`brief_minutes` if given)."""
    data = copy.deepcopy(TEAM_DATA)
    data["policy"].update(policy or {})
    ops = data["meetings"][0]
    ops["brief"] = brief
    if brief_minutes is not None:
        ops["brief_minutes"] = brief_minutes
    return team_from_dict(data)


TEAM = team_with()


def support(key="goc:41234", links=(JIRA, GITHUB), owner=ADA, **kw):
    """An open GOC ticket of Ada's that waits on work in Jira and GitHub."""
    kw.setdefault("title", "Pilot jobs fail at Example site")
    kw.setdefault("last_team_update_at", liso(2026, 11, 17, 10))
    kw.setdefault("opened_at", liso(2026, 11, 16, 10))
    kw.setdefault("owner_changed_at", liso(2026, 11, 16, 11))
    kw.setdefault("status_raw", "Engineering")
    return ticket(key, owner=owner, assignees=(TRIAGE, owner) if owner else (TRIAGE,),
                  assignment_order=(owner,) if owner else (), next_action="Investigate", links=tuple(links), **kw)


def item(key, status="resolved", closed=liso(2026, 11, 17, 15, 2), **kw):
    """A work item's own ticket, as its notifications made it (status and since when)."""
    kw.setdefault("title", {"jira:SOFT-12": "Pilot proxy renewal fails after 12 hours",
                            "github:org/repo#7": "Renew the proxy before it expires"}.get(key, key))
    kw.setdefault("url", {"jira:SOFT-12": JIRA["url"], "github:org/repo#7": GITHUB["url"]}.get(key))
    kw.setdefault("opened_at", liso(2026, 11, 16, 12))
    return ticket(key, status=status, status_raw=status.capitalize(), status_since=closed, **kw)


def stream(applied=liso(2026, 11, 17, 9, 15), dated=liso(2026, 11, 17, 9, 14), resumed=None):
    """The stream's health as ingest keeps it at a live pass that applied something."""
    return Health(last_applied_at=applied, last_applied_date=dated,
                  last_applied={"key": "goc:41234", "title": "Pilot jobs fail at Example site",
                                "subject": "ISSUE=41234 PROJ=71 Pilot jobs fail at Example site", "date": dated},
                  stream_resumed=resumed or None)


def snoozed(key, until="2026-11-30", reason="waiting for the vendor's release", at=liso(2026, 11, 16, 9)):
    return {key: Snooze(key, until, reason, at)}


def unowned(key="goc:41250", opened=liso(2026, 11, 16, 10), **kw):
    kw.setdefault("title", "Cannot submit to the CE")
    return ticket(key, opened_at=opened, assignees=(TRIAGE,), next_action="SOFTWARE TRIAGE", **kw)


def waiting(key="rt:1234", since=liso(2026, 11, 9, 10), owner=GRACE, **kw):
    kw.setdefault("title", "Cannot install client")
    return ticket(key, owner=owner, assignees=("Grace Hopper",), assignment_order=(owner,), status="waiting-on-user",
                  status_raw="stalled", status_since=since, opened_at=liso(2026, 11, 2, 10),
                  owner_changed_at=liso(2026, 11, 2, 11), last_team_update_at=since, **kw)


def stale(key="goc:41201", owner=ALAN, **kw):
    kw.setdefault("title", "Old and stale")
    return ticket(key, owner=owner, assignees=("Alan Turing",), assignment_order=(owner,),
                  opened_at=liso(2026, 11, 2, 10), owner_changed_at=liso(2026, 11, 2, 10),
                  last_team_update_at=liso(2026, 11, 12, 10), next_action="Investigate", **kw)


def dues(tickets, now, sent=(), team=TEAM, snoozes=None, stream_meta=None, ledger=LEDGER):
    return due_reminders(tickets, ledger, team, list(sent), now, snoozes=snoozes, stream=stream_meta,
                         briefs=due_briefs)


def of(mails, kind):
    return [m for m in mails if m.kind == kind]


def one(mails, kind):
    found = of(mails, kind)
    assert len(found) == 1, (kind, [m.kind for m in mails])
    return found[0]
