"""Apply stage: fold one `Change` into a ticket's state. Pure; no store, no clock.

Rules (SPEC sections 6 and 7):
- Fields the mail did not carry keep their stored value.
- A mail older than the ticket's newest applied change is *late*: it goes into the history and
  may fill fields still unknown (title, submitter, url, opened_at), but never rolls state back.
- Owner: only a team member (never the triage pseudo-user or an outsider). With several members
  assigned the owner is the one assigned most recently (the first listed when one mail adds
  several); removing the owner hands the ticket to the most recent remaining member, or none.
- Reply route (SPEC 8, user reminder): `subject_token` and `reply_to` are the latest applied
  notification's; a late mail only fills them while unknown (a state stored before they were kept).
- Update clocks: a member's update moves `last_team_update_at`, the submitter's (or a CC'd
  outsider's) moves `last_user_update_at`; the ticket system or operations staff move neither.
Idempotency by Message-ID is the caller's job (ingest checks it before calling `apply`).
"""
from __future__ import annotations


from maildaemon import people
from maildaemon.model import (ASSIGNED, CLOSED, CREATED, DONE_STATUSES, NEXT_ACTION, REOPENED,
                              STATUS, Change, HistoryEntry, Team, Ticket, evolve)
from maildaemon.model import iso as _iso

APPLIED, LATE = "applied", "late"


def apply(ticket: Ticket | None, change: Change, team: Team, origin: str = "") -> tuple[Ticket, str]:
    """Return the ticket after `change`, and whether it was applied or only recorded as late."""
    at = _iso(change.at)
    if ticket is None:
        ticket = Ticket(key=change.key, system=change.system, id=change.id, opened_at=at)
        created = True
    else:
        created = False
    late = not created and ticket.updated_at is not None and at < ticket.updated_at
    if late or change.auto_reply:
        # recorded, never acted on: a late mail must not roll state back, and an out-of-office
        # relayed by the ticket system is neither a user update nor a reason to change status
        new = _fill_unknown(ticket, change)
        kinds = ("auto-reply",) if change.auto_reply else tuple(sorted(change.kinds))
        if created:
            new = evolve(new, updated_at=at, latest_message_id=change.message_id)
    else:
        new, kinds = _apply_fields(ticket, change, team, created)
        new = _clocks(new, change, team)
    entry = HistoryEntry(message_id=change.message_id, at=at, kinds=kinds, actor=change.actor,
                         summary=change.summary, late=late, origin=origin, status=new.status)
    history = tuple(sorted(new.history + (entry,), key=lambda h: h.at))
    links = _merge_links(new.links, change.links)
    return evolve(new, history=history, links=links, messages=new.messages + 1), \
        (LATE if late else APPLIED)


def _apply_fields(t: Ticket, c: Change, team: Team, created: bool) -> tuple[Ticket, tuple[str, ...]]:
    kinds = set(c.kinds)
    if created:
        kinds.add(CREATED)
    changes: dict = {"updated_at": _iso(c.at), "latest_message_id": c.message_id}
    for name in ("title", "url", "submitter", "priority", "subject_token", "reply_to"):
        v = getattr(c, name)
        if v:
            changes[name] = v
    if c.next_action is not None and c.next_action != t.next_action:
        changes["next_action"] = c.next_action
        if not created:
            kinds.add(NEXT_ACTION)
    if c.next_action_deadline is not None:
        changes["next_action_deadline"] = _iso(c.next_action_deadline)
    if c.cc is not None:
        changes["cc"] = tuple(c.cc)
    if c.status is not None and (c.status != t.status or created):
        if not created and c.status != t.status:
            kinds.add(STATUS)
            if c.status in DONE_STATUSES and t.status not in DONE_STATUSES:
                kinds.add(CLOSED)
            if c.status not in DONE_STATUSES and t.status in DONE_STATUSES:
                kinds.add(REOPENED)
        changes["status"] = c.status
        changes["status_since"] = _iso(c.at)
    if c.status_raw is not None:
        changes["status_raw"] = c.status_raw
    assignees = _assignees(t, c)
    if assignees != t.assignees:
        if not created or assignees:
            kinds.add(ASSIGNED)
        order = _assignment_order(t, assignees, team)
        owner = order[0] if order else None
        changes.update(assignees=assignees, assignment_order=order, owner=owner)
        if owner != t.owner or created:
            changes["owner_changed_at"] = _iso(c.at)
        if owner and not t.first_assigned_at:
            changes["first_assigned_at"] = _iso(c.at)
        had = any(people.is_triage_user(team, a) for a in t.assignees)
        has = any(people.is_triage_user(team, a) for a in assignees)
        if had != has and not created:
            changes["triage_removed"] = had and not has
    return evolve(t, **changes), tuple(sorted(kinds))


def _assignees(t: Ticket, c: Change) -> tuple[str, ...]:
    if c.assignees is not None:
        current = list(c.assignees)
    else:
        current = list(t.assignees)
    removed = {x.lower() for x in c.assignees_removed}
    current = [a for a in current if a.lower() not in removed]
    for a in c.assignees_added:
        if a.lower() not in {x.lower() for x in current}:
            current.append(a)
    return tuple(current)


def _assignment_order(t: Ticket, assignees: tuple[str, ...], team: Team) -> tuple[str, ...]:
    """Members assigned, most recent first: newly added ones (in listed order) before the rest."""
    now_members = []
    for a in assignees:
        m = people.member_for(team, a)
        if m and m.email not in now_members:
            now_members.append(m.email)
    kept = [e for e in t.assignment_order if e in now_members]
    added = [e for e in now_members if e not in kept]
    return tuple(added + kept)


def _clocks(t: Ticket, c: Change, team: Team) -> Ticket:
    """Move the team/user update clocks by who acted and when (idempotent: max of times)."""
    acted = _iso(c.actor_at or c.at)
    changes = {}
    if c.actor_at is not None and (t.last_entry_at is None or acted > t.last_entry_at):
        changes["last_entry_at"] = acted
    member = people.member_for(team, c.actor) if c.actor else None
    if member:
        if t.last_team_update_at is None or acted > t.last_team_update_at:
            changes["last_team_update_at"] = acted
        if t.first_team_update_at is None or acted < t.first_team_update_at:
            changes["first_team_update_at"] = acted
    elif c.actor and _is_user(t, c, team):
        if t.last_user_update_at is None or acted > t.last_user_update_at:
            changes["last_user_update_at"] = acted
    return evolve(t, **changes) if changes else t


def _is_user(t: Ticket, c: Change, team: Team) -> bool:
    """The submitter, a CC'd outsider, or (when the system names no submitter, as GitHub, Zammad
    and Jira often do not) any outsider who is not the triage pseudo-user."""
    actor = (c.actor or "").lower()
    submitter = (c.submitter or t.submitter or "").lower()
    if submitter:
        if actor == submitter or f"<{submitter}>" in actor:
            return True
    elif actor and not people.is_triage_user(team, c.actor or ""):
        return True
    cc = {x.lower() for x in (c.cc if c.cc is not None else t.cc)}
    return actor in cc


def _fill_unknown(t: Ticket, c: Change) -> Ticket:
    changes = {}
    for name in ("title", "url", "submitter", "subject_token", "reply_to"):
        if not getattr(t, name) and getattr(c, name):
            changes[name] = getattr(c, name)
    at = _iso(c.at)
    if t.opened_at is None or at < t.opened_at:
        changes["opened_at"] = at
    return evolve(t, **changes) if changes else t


def _merge_links(old: tuple[dict, ...], new: tuple[dict, ...]) -> tuple[dict, ...]:
    """Links by key, first seen first; a URL learnt later fills one that was missing."""
    out = {x.get("key"): dict(x) for x in old}
    for link in new:
        known = out.get(link.get("key"))
        if known is None:
            out[link.get("key")] = dict(link)
        elif not known.get("url") and link.get("url"):
            known["url"] = link["url"]
    return tuple(out.values())
