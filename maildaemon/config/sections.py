"""The team file's sections, one reader each: `[team]`'s harder keys, `[policy]`, `[[members]]`,
`[[outages]]` and `[[meetings]]` (`[[systems]]` is systems.py's).

A reader raises the first problem of a value, or appends each problem of a table to `problems`
and returns None, so that `check` names every problem in one run.
"""
from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maildaemon.config.values import Problems, address, calendar_date, clock, day_time, sender_pattern_ok, \
    string, weekday
from maildaemon.errors import ConfigError
from maildaemon.model import DAYS, Meeting, Member, Outage, Policy

DUTY_WEEKDAYS = DAYS[:5]                    # duty days are business days: Monday to Friday (workdays.py)


# --- [team] --------------------------------------------------------------------------------

def timezone(t: dict) -> str:
    tz = string(t, "team.timezone", required=True)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("team.timezone", f"unknown time zone {tz!r}",
                          "use an IANA name such as America/Chicago") from None
    return tz


def trusted_senders(t: dict) -> list[str]:
    trusted = t.get("trusted_senders", [])
    if not isinstance(trusted, list) or not all(isinstance(s, str) and sender_pattern_ok(s) for s in trusted):
        raise ConfigError("team.trusted_senders", "must be a list of addresses or '*@domain' patterns",
                          'e.g. trusted_senders = ["ticket@example.org", "*@rt.example.org"]')
    return trusted


def holidays(t: dict, known=None) -> str | None:
    """A country (and subdivision) the holidays package knows: checked now, not at the first
    reminder (SPEC 3), unless `known(code)` says calendars were built for it already."""
    code = t.get("holidays")
    if code is None:
        return None
    if not (isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,3})?", code)):
        raise ConfigError("team.holidays", f"{code!r} is not a country code", 'use e.g. "US" or "DE", or leave it out')
    reason = None if known is not None and known(code) else _unsupported_holidays(code)
    if reason:
        raise ConfigError("team.holidays", f"{code!r} is not supported by the holidays package ({reason})",
                          'use a supported ISO 3166 code such as "US", "US-CA" or "DE", or leave it out')
    return code


@lru_cache(maxsize=64)
def _unsupported_holidays(code: str) -> str | None:
    """Why the holidays package refuses `code`, or None. A country is looked up in the package's
    registry (names only: `list_supported_countries` imports all 500 country modules, 90 ms of
    every command); a subdivision, or a code it lacks, is confirmed by building the calendar of
    that one country."""
    import holidays as holidays_lib
    from holidays import registry
    country, _, subdiv = code.strip().upper().partition("-")
    known = any(country in names[1:] for names in registry.COUNTRIES.values())
    if known and not subdiv:
        return None
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv or None, years=[])
    except NotImplementedError as e:
        return str(e)
    return None


def authentication(t: dict) -> tuple[bool, str | None]:
    require_auth = t.get("require_authentication", False)
    if not isinstance(require_auth, bool):
        raise ConfigError("team.require_authentication", "must be true or false", "write true or false")
    authserv_id = string(t, "team.authserv_id")
    if authserv_id is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", authserv_id):
        raise ConfigError("team.authserv_id", f"{authserv_id!r} is not a server name",
                          'write the receiving server\'s id as its Authentication-Results show it, e.g. "mx.example.org"')
    if require_auth and not authserv_id:
        raise ConfigError("team.authserv_id", "missing while require_authentication = true",
                          'set authserv_id to the id your mail server writes first in Authentication-Results, '
                          'e.g. "mx.example.org"')
    return require_auth, authserv_id


# --- [policy] ------------------------------------------------------------------------------

def policy(p: dict, problems: Problems) -> Policy | None:
    d = Policy()
    before = len(problems)

    def num(key, default, integer=True):
        v = p.get(key, default)
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if not ok or isinstance(v, bool) or v < 0:
            raise ConfigError(f"policy.{key}", f"{v!r} is not a non-negative {'whole ' if integer else ''}number",
                              f"set policy.{key} = {default}")
        return v

    def reminder_times():
        times = p.get("reminder_times", ["09:30", "14:00"])
        if not isinstance(times, list) or not times:
            raise ConfigError("policy.reminder_times", "must be a list of HH:MM times", 'e.g. ["09:30", "14:00"]')
        return tuple(sorted(clock(x, "policy.reminder_times") for x in times))

    values = dict(
        unassigned_after_hours=problems.run(num, "unassigned_after_hours", d.unassigned_after_hours, integer=False),
        stale_after_days=problems.run(num, "stale_after_days", d.stale_after_days),
        user_wait_days=problems.run(num, "user_wait_days", d.user_wait_days),
        user_close_days=problems.run(num, "user_close_days", d.user_close_days),
        repeat_after_days=problems.run(num, "repeat_after_days", d.repeat_after_days),
        reminder_times=problems.run(reminder_times),
        announce_time=problems.run(day_time, p.get("announce_time", "mon 09:00"), "policy.announce_time"),
        handoff_time=problems.run(day_time, p.get("handoff_time", "fri 15:00"), "policy.handoff_time"),
        silence_after_hours=problems.run(num, "silence_after_hours", d.silence_after_hours, integer=False),
    )
    wait, close = values["user_wait_days"], values["user_close_days"]
    if wait is not None and close is not None and close <= wait:
        problems.append(ConfigError(
            "policy.user_close_days", f"{close} is not above policy.user_wait_days ({wait}), so the owner would be "
            "told to close before the user is reminded",
            f"set user_close_days above user_wait_days (e.g. {wait + 5}) or lower user_wait_days"))
    handoff = values["handoff_time"]
    if handoff is not None and handoff[0] not in DUTY_WEEKDAYS:
        problems.append(ConfigError(
            "policy.handoff_time", f"{p.get('handoff_time')!r} is not on a duty day (duty days are Monday to "
            "Friday, whatever team.duty_start is)", 'hand over on a weekday, e.g. handoff_time = "fri 15:00"'))
    return None if len(problems) > before else Policy(**values)


# --- [[members]], [[outages]], [[meetings]] ----------------------------------------------------

def member(m, i: int, problems: Problems) -> Member | None:
    where = f"members[{i}]"
    if not isinstance(m, dict):
        problems.append(ConfigError(where, "must be a table", "write [[members]] with name and email"))
        return None
    before = len(problems)
    name = problems.run(string, m, f"{where}.name", required=True)
    email = problems.run(address, m, f"{where}.email", required=True)
    aliases = m.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        problems.append(ConfigError(f"{where}.aliases", "must be a list of strings",
                                    'e.g. aliases = ["Ada L.", "@alovelace"]'))
    rotation = m.get("rotation", True)
    if not isinstance(rotation, bool):
        problems.append(ConfigError(f"{where}.rotation", "must be true or false", "write true or false"))
    signature = problems.run(string, m, f"{where}.signature")
    suggest = m.get("suggest", True)
    if not isinstance(suggest, bool):
        problems.append(ConfigError(f"{where}.suggest", "must be true or false",
                                    "write suggest = false to never be suggested as an owner"))
    if len(problems) > before:
        return None
    return Member(name=name, email=email, aliases=tuple(a.strip() for a in aliases if a.strip()),
                  rotation=rotation, signature=signature, suggest=suggest)


def outage(o, i: int, emails: set[str] | None) -> Outage:
    """An absence; its member is checked against `emails` unless that is None (members unreadable)."""
    where = f"outages[{i}]"
    if not isinstance(o, dict):
        raise ConfigError(where, "must be a table", "write [[outages]] with member, start and end")
    who = address(o, f"{where}.member", required=True)
    if emails is not None and who not in emails:
        raise ConfigError(f"{where}.member", f"{who} is not a member", "use the email of a [[members]] entry")
    start, end = calendar_date(o.get("start"), f"{where}.start"), calendar_date(o.get("end"), f"{where}.end")
    if end < start:
        raise ConfigError(f"{where}.end", f"{end} is before start {start}", "end is inclusive and not before start")
    return Outage(member=who, start=start, end=end, reason=string(o, f"{where}.reason") or "")


def meeting(m, i: int) -> Meeting:
    where = f"meetings[{i}]"
    if not isinstance(m, dict):
        raise ConfigError(where, "must be a table", "write [[meetings]] with day, time and name")
    brief = m.get("brief", False)
    if not isinstance(brief, bool):
        raise ConfigError(f"{where}.brief", f"{brief!r} is not true or false",
                          "write brief = true to get a brief before the meeting")
    minutes = m.get("brief_minutes", Meeting.brief_minutes)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= 24 * 60:
        raise ConfigError(f"{where}.brief_minutes", f"{minutes!r} is not a number of minutes from 1 to 1440",
                          f"set brief_minutes = {Meeting.brief_minutes}")
    return Meeting(day=weekday(m.get("day"), f"{where}.day"), time=clock(m.get("time"), f"{where}.time"),
                   name=string(m, f"{where}.name", required=True), brief=brief, brief_minutes=minutes)
