"""`init` writing the proposal: a commented team file, each guess saying what it rests on.

Everything from mail goes through toml_text.py (escaped strings, one-line comments). Lines to
check are marked CONFIRM; what the sample did not show (holidays, outages, meetings) is written
commented out, as an example.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Protocol

from maildaemon.model import Policy
from maildaemon.propose.people import Person
from maildaemon.propose.sample import Seen
from maildaemon.propose.toml_text import comment, toml_array, toml_string



class Survey(Protocol):
    """What the text needs of survey.Survey (named here so that the survey may import this module)."""
    notes: list[str]
    seen: list[Seen]

    def team_name(self, list_address: str | None) -> str: ...

    def sender(self, s: Seen, list_address: str | None): ...

MAX_MEMBERS = 40            # people proposed (active or commented out)
MAX_SENDERS = 12            # trusted senders per system
MAX_OTHERS = 15             # people listed in the closing comment


@dataclass(frozen=True)
class Findings:
    """What the survey concluded from the whole sample, for the text."""
    list_address: str | None
    list_why: str
    accepted: list              # (Seen, trust.Sender): notifications whose senders are proposed
    others: list                # (Seen, trust.Sender): the other mails of a known ticket system
    zone: str
    zone_why: str
    people: list[Person]
    triage_user: str | None
    next_action: str | None


def render(survey: Survey, source: str, f: Findings) -> str:
    """The proposal: the team file's text, with a comment on every guess."""
    out: list[str] = []
    w = out.append
    w("# Team file proposed by `maildaemon init` (SPEC 11, \"Starting a team\").")
    w(f"# Read: {comment(source)}.")
    for note in survey.notes:
        w(f"# {comment(note)}")
    w("# Review every line marked CONFIRM, then store a rotation (`maildaemon rotation load FILE`)")
    w("# and run `maildaemon check`. Keys and their meaning: README.md, \"Team file\".")
    w("#")
    _overview(w, survey, f.list_address)
    w("")
    w("[team]")
    _team(w, survey, f)
    _trusted_senders(w, f.accepted, f.others, f.list_address)
    _calendar_and_authentication(w, f.accepted)
    w("")
    _policy(w)
    w("")
    _render_members(w, f.people)
    w("")
    w("# [[outages]]  # a member away: no duty, no reminders")
    w('# member = "someone@example.org"')
    w("# start = 2026-12-21")
    w("# end = 2027-01-01  # inclusive")
    w("")
    w("# [[meetings]]  # listed in the incoming person's handoff")
    w('# day = "wed"')
    w('# time = "16:00"')
    w('# name = "Operations meeting"')
    return "\n".join(out) + "\n"


def _overview(w, survey: Survey, list_address: str | None) -> None:
    """The comment that says what the sample held: systems, unknown mail, mail not read."""
    seen = survey.seen
    w("# Ticket systems seen (mails recognised, notifications read):")
    systems: dict[str, list[Seen]] = defaultdict(list)
    for s in seen:
        if s.system:
            systems[s.system].append(s)
    for name in sorted(systems, key=lambda n: (-len(systems[n]), n)):
        group = systems[name]
        parsed = sum(1 for s in group if s.change is not None)
        tickets = len({s.change.key for s in group if s.change is not None})
        w(f"#   {name}: {_n(len(group), 'mail')}, {parsed} read, {_n(tickets, 'ticket')}")
    if not systems:
        w("#   none: no mail of a ticket system maildaemon knows (SPEC 7)")
    unknown = [s for s in seen if s.system is None and s.problem is None]
    if unknown:
        senders = Counter(survey.sender(s, list_address).address or "(no usable From)" for s in unknown)
        top = ", ".join(f"{a} ×{c}" for a, c in senders.most_common(5))
        w(f"#   not recognised: {_n(len(unknown), 'mail')} ({comment(top)}); a ticket system that is not in")
        w("#   SPEC 7 can be described in [[systems]] (README, \"Your own system\")")
    problems = Counter(s.problem.partition(":")[0] for s in seen if s.problem)
    if problems:
        w("#   not read: " + comment(", ".join(f"{p} ×{c}" for p, c in sorted(problems.items()))))


def _team(w, survey: Survey, f: Findings) -> None:
    list_address, list_why, zone, zone_why = f.list_address, f.list_why, f.zone, f.zone_why
    triage_user, next_action = f.triage_user, f.next_action
    w(f"name = {toml_string(survey.team_name(list_address))}  # CONFIRM: the team's name, from the List-Id")
    w(f"timezone = {toml_string(zone)}  # {comment(zone_why)}")
    if list_address:
        w(f"list_address = {toml_string(list_address)}  # {comment(list_why)}")
        local, _, domain = list_address.partition("@")
        from_address = f"{local}-triage@{domain}"
    else:
        w('list_address = "support-stream@example.org"  # CONFIRM: no list address seen; the stream\'s address')
        from_address = "support-triage@example.org"
    w(f"from_address = {toml_string(from_address)}  # CONFIRM: the From of every mail maildaemon sends "
      "(an address you may send from, not the list)")
    if triage_user:
        w(f"triage_user = {toml_string(triage_user)}  # the ticket systems' pseudo-user for the list (a guess)")
    else:
        w('# triage_user = "Software Support (Triage)"  # the ticket systems\' pseudo-user for the list; none seen')
    if next_action:
        w(f"triage_next_action = {toml_string(next_action)}  # the GOC next action that means \"triage it\"")
    else:
        w('# triage_next_action = "SOFTWARE TRIAGE"  # the GOC next action that means "triage it"; none seen')


def _trusted_senders(w, accepted, others, list_address: str | None) -> None:
    w("# Senders whose notifications are accepted (exact addresses seen; \"*@domain\" trusts a whole domain).")
    w("trusted_senders = [")
    good_by: dict[str, Counter] = defaultdict(Counter)
    for s, who in accepted:
        good_by[s.system][who.address] += 1
    listed: set[str] = set()
    for name in sorted(good_by, key=lambda n: (-sum(good_by[n].values()), n)):
        w(f"    # {name}: {_n(sum(good_by[name].values()), 'notification')}")
        top, top_n = good_by[name].most_common(1)[0]
        for addr, n in good_by[name].most_common(MAX_SENDERS):
            if addr in listed:
                w(f"    # {comment(addr)} (above): {n}")
            elif _base_domain(addr) == _base_domain(top) or n >= max(2, top_n / 5):
                listed.add(addr)
                w(f"    {toml_string(addr)},  # {n}")
            else:       # a rare sender of another domain: the operator decides (a forgery?)
                w(f"    # {toml_string(addr)},  # {n}; CONFIRM: rare, and not the domain of {comment(top)}")
    w("]")
    left = Counter()
    for s, who in others:
        if who.address and who.address not in good_by.get(s.system, ()):
            left[(s.system, who.address)] += 1
    for (name, addr), n in left.most_common(8):
        why = "the list itself: its rewritten From says nothing" if addr == list_address else \
            "not machine-made (no Auto-Submitted) or not readable: a person's mail?"
        w(f"# not proposed: {comment(addr)} ({name}, {n} mails): {why}")


def _calendar_and_authentication(w, accepted) -> None:
    w('# holidays = "US"              # public holidays that are not duty days (a country code)')
    w('duty_start = "mon"')
    w('work_hours = "09:00-17:00"     # business hours on duty days')
    auth = Counter(s.authserv for s, _ in accepted if s.authserv)
    w("require_authentication = false  # true: trust a sender only with dkim=pass or spf=pass (SPEC 9)")
    if auth:
        server, n = auth.most_common(1)[0]
        w(f"# authserv_id = {toml_string(server)}  # in the Authentication-Results of {n} notifications; "
          "required with require_authentication = true")
    else:
        w('# authserv_id = "mx.example.org"  # your mail server\'s id in Authentication-Results; required with '
          "require_authentication = true")


def _policy(w) -> None:
    p = Policy()
    w("[policy]  # the defaults")
    w(f"unassigned_after_hours = {p.unassigned_after_hours:g}  # business hours before an unassigned ticket is reported")
    w(f"stale_after_days = {p.stale_after_days}  # business days without a team update before the owner is reminded")
    w(f"user_wait_days = {p.user_wait_days}  # business days waiting on the user before the user is reminded")
    w(f"user_close_days = {p.user_close_days}  # ... before the owner is told to close (above user_wait_days)")
    w(f"repeat_after_days = {p.repeat_after_days}  # business days before the same reminder is sent again")
    w("reminder_times = " + toml_array(t.strftime("%H:%M") for t in p.reminder_times) + "  # local times on duty days")
    w(f'announce_time = "{p.announce_time[0]} {p.announce_time[1]:%H:%M}"  # the week\'s duty announcement')
    w(f'handoff_time = "{p.handoff_time[0]} {p.handoff_time[1]:%H:%M}"  # when the week is handed over')


def _render_members(w, people: list[Person]) -> None:
    def strength(p: Person):        # the likely members first, then those to fill in or decide
        return (bool(p.email and p.acted), p.acted + len(p.assigned), p.acted, p.name.casefold())

    team = sorted((p for p in people if p.acted or p.assigned), key=strength, reverse=True)[:MAX_MEMBERS]
    chosen = {id(p) for p in team}
    rest = [p for p in people if id(p) not in chosen]
    w("# Members: people the notifications name as assignees, or as acting on tickets they did not")
    w("# open. CONFIRM each (remove who is not on the team; rotation = false: a member never on duty).")
    w("# Commented out: no address seen (fill it in), or only ever assigned, never acting (a support")
    w("# unit or the ticket system's staff?).")
    used: set[str] = set()
    for p in team:
        email = p.email
        active = bool(email) and p.acted > 0 and email not in used
        if active:
            used.add(email)
        lead = "" if active else "# "
        evidence = [f"acted {p.acted}" if p.acted else "never acting",
                    f"assigned to {_n(len(p.assigned), 'ticket')}" if p.assigned else "",
                    "in " + ", ".join(sorted(p.systems))]
        w("")
        w(f"{lead}[[members]]  # {comment('; '.join(x for x in evidence if x))}")
        w(f"{lead}name = {toml_string(p.name)}")
        if email:
            w(f"{lead}email = {toml_string(email)}")
        else:
            w(f"{lead}email = {toml_string(_slug(p.name) + '@example.invalid')}  # CONFIRM: no address seen")
        aliases = p.aliases()
        if aliases:
            w(f"{lead}aliases = {toml_array(aliases)}")
        w(f"{lead}rotation = true")
    if rest:
        w("")
        w("# Also named (submitters, openers, CC; not proposed):")
        rest.sort(key=lambda p: (-(len(p.submitted) + p.own + p.cc), p.name.casefold()))
        for p in rest[:MAX_OTHERS]:
            who = p.name + (f" <{p.email}>" if p.email and p.email != p.name else "")
            roles = [f"opened {len(p.submitted)}" if p.submitted else "", f"updates {p.own}" if p.own else "",
                     f"cc {p.cc}" if p.cc else ""]
            w(f"#   {comment(who, 120)}: {', '.join(r for r in roles if r) or 'named'}")
        if len(rest) > MAX_OTHERS:
            w(f"#   and {len(rest) - MAX_OTHERS} more")


def _base_domain(addr: str) -> str:
    """The last two labels of an address's domain (`rt.example.org` -> `example.org`): crude, and
    enough to tell a system's own senders from a stranger's."""
    return ".".join(addr.rpartition("@")[2].split(".")[-2:])


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _slug(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_.lower()))[:40] or "someone"
