"""`maildaemon check`'s reading of the whole configuration: every problem, where commands stop at one.

It reads what a command would, in the same order (the env file, the MAILDAEMON_* settings,
`MAILDAEMON_NOW`, then the team file), and goes on after each problem.
"""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from maildaemon.config.settings import parse_now, read_environment, validate_settings
from maildaemon.config.team import check_team_file
from maildaemon.errors import ConfigError


def check_configuration(env_file: str | None, environ: dict[str, str]) -> list[str]:
    """Every configuration problem in one run, one line each (`setting: problem; fix`): the env
    file, the MAILDAEMON_* settings, `MAILDAEMON_NOW`, then the team file. Empty when all is well.
    For `maildaemon check`, which prints them all (SPEC 3) where other commands stop at the first."""
    try:
        env = read_environment(env_file, environ)
    except ConfigError as e:
        return [str(e)]
    settings, problems = validate_settings(env)
    now = (env.get("MAILDAEMON_NOW") or "").strip()
    if now:
        try:
            parse_now(now, ZoneInfo("UTC"), "MAILDAEMON_NOW")
        except ConfigError as e:
            problems.append(e)
    team_file = settings.team_file if settings else Path((env.get("MAILDAEMON_TEAM_FILE") or "").strip()
                                                         or "./team.toml")
    return [str(p) for p in problems] + check_team_file(team_file)
