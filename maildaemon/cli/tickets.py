"""`tickets` and `ticket`: the tickets as the stored state has them, as a table, a page or JSON.

Text that may come from mail (titles, names) is printed through `terminal.safe`, JSON through
`terminal.dumps`: nothing a mail holds can drive the user's terminal.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from maildaemon.cli.presentation import local, select, ticket_json, tickets_table
from maildaemon.cli.context import UsageError
from maildaemon.terminal import dumps, safe


def run(ctx) -> int:
    return ticket(ctx) if ctx.args.command == "ticket" else tickets(ctx)


def tickets(ctx) -> int:
    team, now = ctx.team, ctx.now
    view = ctx.store.view()
    owner = _owner_email(team, ctx.args.owner)
    chosen = select(view.tickets(history=False) if ctx.args.all else view.open_tickets(), owner)
    if ctx.args.json:
        from maildaemon import suggest
        # learnt from the open and recent tickets (the last quarter of the stream): recent owners
        # know today's problems, and the years behind stay unread (issue 14)
        suggested = suggest.suggested_owners(view.current(), team, now)
        ctx.out(dumps([dict(ticket_json(t, team, now),
                            **({"suggested_owners": suggested.get(t.key, [])} if suggest.wants_suggestion(t) else {}))
                       for t in chosen], indent=2))
    else:
        ctx.stdout.write(tickets_table(chosen, team))
    return 0


def _owner_email(team, owner: str | None) -> str | None:
    """`--owner` as a member's address: an address as given; a name, an alias, or a first name
    that only one member has, as that member's address; anything else is a usage error."""
    if not owner or "@" in owner:
        return owner
    from maildaemon.people import member_for
    member = member_for(team, owner)
    if member is None:
        firsts = [m for m in team.members if m.name.split()[:1] == [owner.strip()] or
                  m.name.split()[0].lower() == owner.strip().lower()]
        member = firsts[0] if len(firsts) == 1 else None
    if member is None:
        raise UsageError(f"maildaemon tickets: --owner {safe(owner)} is no member of the team file; "
                         f"give a member's email, name or alias")
    return member.email


def ticket(ctx) -> int:
    team, now = ctx.team, ctx.now
    view = ctx.store.view()
    key = ctx.args.key
    t = view.find_ticket(key)
    if t is None:
        raise UsageError(f"maildaemon ticket: no ticket {safe(key)} (see `maildaemon tickets --all`)")
    data = ticket_json(t, team, now)
    tz = ZoneInfo(team.timezone)
    history = [dict(h.__dict__, at=local(h.at, tz)) for h in view.history(t.key)]
    if ctx.args.json:
        ctx.out(dumps(dict(data, history=history), indent=2))
    else:
        from maildaemon.policy.rows import next_action
        from maildaemon.render import environment, render_checked
        ctx.stdout.write(safe(render_checked(environment(ctx.settings.templates_dir), "ticket.txt.j2", t=data,
                                             history=history, next_action=next_action(t.next_action)),
                              multiline=True))
    return 0
