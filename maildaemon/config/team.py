"""The team file (TOML) into a `Team`, validated strictly and all at once.

Errors name the TOML key (`team.timezone`, `members[2].email`). Validation goes on after a problem,
so that `check` lists every one; other commands stop at the first, which says how many follow.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Callable

import maildaemon.config.sections as sections
from maildaemon.config.keys import unknown_keys
from maildaemon.config.systems import system
from maildaemon.config.values import Problems, address, array, hours, string, table, weekday
from maildaemon.errors import ConfigError
from maildaemon.model import Team


def load_team(path: Path, known_holidays: Callable[[str], bool] | None = None) -> Team:
    """Read and validate the team file. Errors name the TOML key, e.g. `team.timezone`; with several
    problems the first is raised and says how many more there are (`check_team_file` lists them).
    `known_holidays(code)`: True for a holidays code this installation has built calendars for
    (store.HolidayFile), which needs no check (the holidays package's import is 35 ms a command)."""
    team, problems = validate_team_file(path, known_holidays)
    if problems:
        raise _first(problems)
    return team


def check_team_file(path: Path | str) -> list[str]:
    """Every problem of a team file, one line each (`setting: problem; fix`); empty when it is fine.
    What `maildaemon check` prints, one `FAIL` line per problem."""
    return [str(p) for p in validate_team_file(Path(path))[1]]


def validate_team_file(path: Path, known_holidays: Callable[[str], bool] | None = None
                       ) -> tuple[Team | None, list[ConfigError]]:
    """The team, or None and every problem found (a missing or unreadable file is one problem)."""
    if path.is_dir():
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} is a folder, not a team file",
                                  "point MAILDAEMON_TEAM_FILE at the team's TOML file")]
    if not path.is_file():
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} not found",
                                  "create the team file (see README, 'Team file') or point MAILDAEMON_TEAM_FILE at it")]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} is not valid TOML ({e})", "fix the syntax")]
    except OSError as e:
        return None, [ConfigError("MAILDAEMON_TEAM_FILE", f"{path} cannot be read ({e.strerror or e})",
                                  "make it readable by the user maildaemon runs as")]
    return validate_team(data, known_holidays)


def team_from_dict(data: dict) -> Team:
    """The team of a parsed team file; the first problem is raised (see `validate_team`)."""
    team, problems = validate_team(data)
    if problems:
        raise _first(problems)
    return team


def _first(problems: list[ConfigError]) -> ConfigError:
    first = problems[0]
    if len(problems) == 1:
        return first
    more = len(problems) - 1
    return ConfigError(first.setting, first.problem,
                       f"{first.fix} ({more} more problem{'s' if more > 1 else ''} in the team file: "
                       "`maildaemon check` lists them all)")


def validate_team(data: dict, known_holidays: Callable[[str], bool] | None = None
                  ) -> tuple[Team | None, list[ConfigError]]:
    """The team and [], or None and every problem of the parsed team file, in file order as far as
    possible: unknown keys first (a typo is the cause of the `missing` it leads to, which is then not
    repeated), then each value, then values that contradict each other."""
    problems = Problems(unknown_keys(data))
    t = problems.run(table, data, "team", required=True) or {}
    name = problems.run(string, t, "team.name", required=True)
    tz = problems.run(sections.timezone, t)
    list_address = problems.run(address, t, "team.list_address", required=True)
    from_address = problems.run(address, t, "team.from_address", required=True)
    triage_user = problems.run(string, t, "team.triage_user")
    triage_next_action = problems.run(string, t, "team.triage_next_action")
    trusted = problems.run(sections.trusted_senders, t)
    duty_start = problems.run(weekday, t.get("duty_start", "mon"), "team.duty_start")
    work_hours = problems.run(hours, t.get("work_hours", "09:00-17:00"))
    holidays = problems.run(sections.holidays, t, known_holidays)
    auth = problems.run(sections.authentication, t)
    policy_table = problems.run(table, data, "policy")
    policy = sections.policy(policy_table or {}, problems)

    member_entries = problems.run(array, data, "members") or []
    members = [sections.member(m, i, problems) for i, m in enumerate(member_entries)]
    emails = [m.email for m in members if m is not None]
    dup = sorted({e for e in emails if emails.count(e) > 1})
    if dup:
        problems.append(ConfigError("members.email", f"{dup[0]} is listed twice", "list each member once"))
    # an outage's member is checked against the members only when every member could be read
    # (and [[members]] was not misspelt: its outages are then no news)
    typos = {e.suggestion for e in problems if e.suggestion}
    known = set(emails) if None not in members and "members" not in typos else None
    outages = [problems.run(sections.outage, o, i, known)
               for i, o in enumerate(problems.run(array, data, "outages") or [])]
    meetings = [problems.run(sections.meeting, m, i)
                for i, m in enumerate(problems.run(array, data, "meetings") or [])]
    systems = [system(s, i, problems) for i, s in enumerate(problems.run(array, data, "systems") or [])]

    problems[:] = [e for e in problems if not (e.problem == "missing" and e.setting in typos)]
    if problems:
        return None, list(problems)
    require_auth, authserv_id = auth
    return Team(
        name=name, timezone=tz, list_address=list_address, from_address=from_address,
        triage_user=triage_user or "", triage_next_action=triage_next_action or "",
        trusted_senders=tuple(s.lower() for s in trusted), holidays=holidays, duty_start=duty_start,
        work_hours=work_hours, require_authentication=require_auth,
        authserv_id=authserv_id.lower() if authserv_id else None, policy=policy,
        members=tuple(members), outages=tuple(outages), meetings=tuple(meetings), systems=tuple(systems),
    ), []
